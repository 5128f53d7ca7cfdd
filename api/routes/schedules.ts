// /v1/schedules: clones and drills on Temporal Schedules (complianceClone runs): create, list,
// show (next runs, last result), pause, unpause, trigger now, delete.
import { z } from 'zod';
import { DnsLabel } from '../../domain/names.js';
import { defineRoute } from '../route.js';
import { list, ScheduleBody, ScheduleNoteBody, ScheduleView } from '../schemas.js';
import { createSchedule, planSchedule, requireSchedule, scheduleClient, scheduleView, steerSchedule } from '../services/schedules.js';

const ScheduleParam = z.strictObject({ id: DnsLabel });
const target = ({ params }: { params: Record<string, string> }) => `schedule/${params.id ?? '?'}`;

/** pause, unpause, trigger: the same shape, each its own route (and audit action). */
function steering(action: 'pause' | 'unpause' | 'trigger', summary: string) {
  return defineRoute({
    method: 'post', path: `/schedules/{id}/${action}`, operationId: `${action}Schedule`, tag: 'schedules', summary,
    action: 'schedule.write', params: ScheduleParam, body: ScheduleNoteBody,
    audit: { action: `schedule.${action}`, target },
    responses: { 200: { description: 'the schedule after it', schema: ScheduleView } },
    async handler({ params, body }, ctx) {
      const schedule = await requireSchedule(ctx.deps, params.id);
      ctx.authorize('schedule.write', schedule.tiers);
      await steerSchedule(ctx.deps, params.id, action, body.note ?? `${action} by ${ctx.principal.name}`);
      return { status: 200, body: scheduleView(await requireSchedule(ctx.deps, params.id)) };
    },
  });
}

export const scheduleRoutes = [
  defineRoute({
    method: 'post', path: '/schedules', operationId: 'createSchedule', tag: 'schedules',
    summary: 'Schedule clones (compliance) or drills: every so long or by cron; each run replaces the previous run\'s clone; overlapping runs are skipped.',
    action: 'schedule.write', body: ScheduleBody,
    audit: { action: 'schedule.create', target: ({ body }) => `schedule/${typeof (body as { id?: unknown } | undefined)?.id === 'string' ? (body as { id: string }).id : '?'}` },
    responses: { 201: { description: 'created', schema: ScheduleView, headers: { Location: 'the schedule' } } },
    async handler({ body }, ctx) {
      const planned = await planSchedule(ctx.deps, body, ctx.principal.name);
      ctx.audit({ details: { kind: body.kind, source: body.clone?.source, cluster: body.clone?.cluster, environment: body.environment, tier: body.tier, every: body.every, cron: body.cron, data: body.clone?.data, secrets: Object.keys(planned.secrets) } });
      for (const { action, tiers } of planned.permissions) ctx.authorize(action, tiers);
      const schedule = await createSchedule(ctx.deps, body, planned);
      return { status: 201, body: scheduleView(schedule), headers: { Location: `/v1/schedules/${schedule.id}` } };
    },
  }),
  defineRoute({
    method: 'get', path: '/schedules', operationId: 'listSchedules', tag: 'schedules',
    summary: 'Schedules of clones and drills, with their next runs.',
    action: 'read',
    responses: { 200: { description: 'schedules', schema: list(ScheduleView) } },
    async handler(_input, ctx) {
      return { status: 200, body: { items: (await scheduleClient(ctx.deps).list()).map(scheduleView) } };
    },
  }),
  defineRoute({
    method: 'get', path: '/schedules/{id}', operationId: 'getSchedule', tag: 'schedules',
    summary: 'A schedule: what each run makes, next runs, recent runs and how the last one ended.',
    action: 'read', params: ScheduleParam,
    responses: { 200: { description: 'the schedule', schema: ScheduleView } },
    async handler({ params }, ctx) {
      return { status: 200, body: scheduleView(await requireSchedule(ctx.deps, params.id)) };
    },
  }),
  steering('pause', 'Pause a schedule: no run starts until it is unpaused (a trigger still runs it).'),
  steering('unpause', 'Unpause a schedule.'),
  steering('trigger', 'Run a schedule now (skipped if a run is going on).'),
  defineRoute({
    method: 'delete', path: '/schedules/{id}', operationId: 'deleteSchedule', tag: 'schedules',
    summary: 'Delete a schedule and its secrets. A run going on finishes; the clone it left stays (DELETE /v1/clones/{id}).',
    action: 'schedule.write', params: ScheduleParam,
    audit: { action: 'schedule.delete', target },
    responses: { 204: { description: 'deleted' } },
    async handler({ params }, ctx) {
      const schedule = await requireSchedule(ctx.deps, params.id);
      ctx.authorize('schedule.write', schedule.tiers);
      await steerSchedule(ctx.deps, params.id, 'delete', '');
      return { status: 204 };
    },
  }),
];
