// Schedules of clones and drills as the API creates, shows and steers them (Temporal Schedules
// through deps.schedules). A schedule is checked as its first run would be — the clone planned,
// who may make it, the rules now — before it exists; every run is judged again when it runs
// (workflows/compliance-clone.ts). Secrets its clones need are stored encrypted under the
// schedule's scope, never in the schedule.
//
// Ids: the schedule's own (its name); its runs are scheduled-<id>-<time>, their clones
// clone-<name>-<time>, their drills drill-<source>-<time>.
import type { Tier } from '../../domain/environment.js';
import { isLifecycleRun, scheduledClone, type ScheduledRunInput, type ScheduleRequest } from '../../domain/schedule.js';
import { stopRefusal } from '../../domain/rules.js';
import { scheduleScope } from '../../store/secrets.js';
import type { Action } from '../authz.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, badRequest } from '../errors.js';
import { type ScheduleClient, ScheduleExistsError, ScheduleInvalidError, ScheduleNotFoundError, type ScheduleState } from '../schedule-client.js';
import { checkClone, clonePermissions, planClone } from './clones.js';

export type ScheduleBody = ScheduleRequest & { secrets?: Record<string, string> };

export function scheduleClient(deps: ApiDeps): ScheduleClient {
  if (!deps.schedules) throw new ApiError(503, 'unavailable', 'this API cannot reach Temporal Schedules');
  return deps.schedules;
}

export interface PlannedSchedule {
  input: ScheduledRunInput;
  tiers: Tier[];
  /** What the caller must be allowed, as for the clone or drill itself. */
  permissions: { action: Action; tiers: Tier[] }[];
  secrets: Record<string, string>;
}

/** Plans the schedule's first run (400/404/409 as a clone request, or a stop or start, would get). */
export async function planSchedule(deps: ApiDeps, body: ScheduleBody, by: string): Promise<PlannedSchedule> {
  if (body.kind === 'stop' || body.kind === 'start') return planLifecycleSchedule(deps, body, by);
  const { secrets = {}, ...request } = body;
  const clone = scheduledClone(request);
  const planned = await planClone(deps, { ...clone, secrets }).catch((error: unknown) => {
    // A field of the clone is a field of the schedule's `clone`.
    if (error instanceof ApiError && Array.isArray(error.details)) {
      throw new ApiError(error.status, error.code, error.message, (error.details as { path?: string }[]).map((d) => (
        d.path !== undefined && !d.path.startsWith('secrets') ? { ...d, path: `clone.${d.path}` } : d)));
    }
    throw error;
  });
  await checkClone(deps, planned);
  const tiers = [...new Set([planned.binding.tier, planned.source.binding.tier])];
  const permissions = [
    { action: 'schedule.write' as const, tiers },
    ...clonePermissions(planned, request.kind === 'drill' ? 'drill.create' : 'clone.create'),
  ];
  const input: ScheduledRunInput = { schedule: request.id, kind: request.kind as 'clone' | 'drill', clone, ...(request.drill ? { drill: request.drill } : {}), createdBy: by };
  return { input, tiers, permissions, secrets };
}

/**
 * A schedule that stops or starts one environment (404 when there is none) or every one of a
 * tier; stopping a tier the rules keep running is refused now (422), as each run would be.
 */
async function planLifecycleSchedule(deps: ApiDeps, body: ScheduleBody, by: string): Promise<PlannedSchedule> {
  const action = body.kind as 'stop' | 'start';
  if (body.secrets !== undefined && Object.keys(body.secrets).length > 0) throw badRequest([{ path: 'secrets', message: `not for kind ${action}` }]);
  let tier: Tier;
  if (body.environment !== undefined) {
    const env = await deps.catalog.environments.get(body.environment);
    if (!env) throw new ApiError(404, 'not_found', `environment "${body.environment}" not found`, [{ path: 'environment', message: 'no such environment' }]);
    tier = env.binding.tier;
  } else {
    tier = body.tier!;
  }
  const refusal = action === 'stop' ? stopRefusal((await deps.catalog.rules.current()).rules, tier) : undefined;
  if (refusal) throw new ApiError(422, 'stop_forbidden', refusal, [{ path: body.environment !== undefined ? 'environment' : 'tier', message: refusal }]);
  const input: ScheduledRunInput = {
    schedule: body.id, kind: action, action, ...(body.environment !== undefined ? { environment: body.environment } : { tier }), createdBy: by,
  };
  // Who may stop or start the environments may schedule it.
  return { input, tiers: [tier], permissions: [{ action: 'schedule.write', tiers: [tier] }, { action: 'environment.deploy', tiers: [tier] }], secrets: {} };
}

/** Stores the schedule's secrets, then creates it (409 when its id is taken; the secrets go again). */
export async function createSchedule(deps: ApiDeps, body: ScheduleBody, planned: PlannedSchedule): Promise<ScheduleState> {
  const schedules = scheduleClient(deps);
  if (await schedules.describe(body.id)) throw new ApiError(409, 'conflict', `schedule "${body.id}" already exists`, [{ path: 'id', message: 'is an existing schedule' }]);
  const scope = scheduleScope(body.id);
  await deps.catalog.transaction(async (tx) => {
    for (const [name, value] of Object.entries(planned.secrets)) await tx.secrets.put(scope, name, value);
  });
  try {
    await schedules.create({
      id: body.id, input: planned.input, tiers: planned.tiers, paused: body.paused,
      timing: body.every !== undefined ? { everySeconds: body.every } : { cron: body.cron!, ...(body.timezone ? { timezone: body.timezone } : {}) },
      ...(body.note !== undefined ? { note: body.note } : {}),
    });
  } catch (error) {
    await removeSecrets(deps, body.id);
    if (error instanceof ScheduleExistsError) throw new ApiError(409, 'conflict', error.message, [{ path: 'id', message: 'is an existing schedule' }]);
    if (error instanceof ScheduleInvalidError) {
      const path = /time ?zone/i.test(error.message) ? 'timezone' : body.cron !== undefined ? 'cron' : 'every';
      throw badRequest([{ path, message: `Temporal cannot read it: ${error.message}` }]);
    }
    throw error;
  }
  return requireSchedule(deps, body.id);
}

export async function requireSchedule(deps: ApiDeps, id: string): Promise<ScheduleState> {
  const schedule = await scheduleClient(deps).describe(id);
  if (!schedule) throw new ApiError(404, 'not_found', `schedule "${id}" not found`);
  return schedule;
}

/** Pause, unpause, trigger or delete; a schedule gone meanwhile is 404. */
export async function steerSchedule(deps: ApiDeps, id: string, action: 'pause' | 'unpause' | 'trigger' | 'delete', note: string): Promise<void> {
  const schedules = scheduleClient(deps);
  try {
    if (action === 'pause' || action === 'unpause') await schedules[action](id, note);
    else await schedules[action](id);
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) throw new ApiError(404, 'not_found', error.message);
    throw error;
  }
  if (action === 'delete') await removeSecrets(deps, id);
}

async function removeSecrets(deps: ApiDeps, id: string): Promise<void> {
  const scope = scheduleScope(id);
  for (const { name } of await deps.catalog.secrets.list(scope)) await deps.catalog.secrets.remove(scope, name);
}

/** The schedule as the API shows it: its timing and what each run makes flattened out. */
export function scheduleView(s: ScheduleState) {
  return {
    id: s.id,
    ...(s.summary ? { kind: s.summary.kind } : {}),
    ...(s.summary?.clone !== undefined ? { clone: { source: s.summary.source, name: s.summary.clone, cluster: s.summary.cluster } } : {}),
    ...(s.summary?.environment ? { environment: s.summary.environment } : {}),
    ...(s.summary?.tier ? { tier: s.summary.tier } : {}),
    ...(s.input && !isLifecycleRun(s.input) ? { kind: s.input.kind, clone: { ...s.input.clone }, ...(s.input.drill ? { drill: { ...s.input.drill } } : {}), createdBy: s.input.createdBy } : {}),
    ...(s.input && isLifecycleRun(s.input) ? {
      kind: s.input.kind, ...(s.input.environment ? { environment: s.input.environment } : {}), ...(s.input.tier ? { tier: s.input.tier } : {}), createdBy: s.input.createdBy,
    } : {}),
    ...(s.timing.everySeconds !== undefined ? { every: s.timing.everySeconds } : {}),
    ...(s.timing.cron !== undefined ? { cron: s.timing.cron } : {}),
    ...(s.timing.timezone !== undefined ? { timezone: s.timing.timezone } : {}),
    tiers: s.tiers, paused: s.paused, ...(s.note !== undefined ? { note: s.note } : {}),
    nextRuns: s.nextRuns, recentRuns: s.recentRuns, running: s.running, runs: s.runs, skipped: s.skipped,
    ...(s.createdAt ? { createdAt: s.createdAt } : {}),
    ...(s.lastRun ? { lastRun: s.lastRun } : {}),
  };
}
