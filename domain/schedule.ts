// A schedule (Temporal Schedules run them) of clones or drills — compliance clones into other
// regions every night, a DR drill every week: what each run makes is a clone request, planned
// and judged by the rules again at every run; each run replaces the previous run's clone — or
// of stops and starts: an environment, or every environment of a tier, stopped at night and
// started in the morning (cron with a time zone). Pure.
import { z } from 'zod';
import { CLONE_PURPOSES, CloneRequest, parseDuration } from './clone.js';
import { DrillObjectives, HttpCheck } from './drill.js';
import { Tier } from './environment.js';
import { DnsLabel } from './names.js';

export const SCHEDULE_KINDS = ['clone', 'drill', 'stop', 'start'] as const;
/** Kinds that stop or start environments rather than make clones. */
export const LIFECYCLE_KINDS = ['stop', 'start'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

/** Shortest interval: runs closer than this would only skip each other (overlap policy skip). */
export const MIN_INTERVAL_SECONDS = 10;
export const MAX_INTERVAL_SECONDS = 366 * 86_400;

/** An interval as the API takes it: a duration text ("24h") or seconds. */
export const Interval = z.union([z.number().int(), z.string()]).transform((value, ctx) => {
  const seconds = typeof value === 'number' ? value : parseDuration(value);
  if (seconds === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as "30m", "24h", "7d", or seconds' });
    return z.NEVER;
  }
  if (seconds < MIN_INTERVAL_SECONDS || seconds > MAX_INTERVAL_SECONDS) {
    ctx.addIssue({ code: 'custom', message: `must be between ${MIN_INTERVAL_SECONDS} seconds and ${MAX_INTERVAL_SECONDS / 86_400} days` });
    return z.NEVER;
  }
  return seconds;
});

const CRON_FIELD = /^[0-9*,/\-A-Za-z?LW#]+$/;
/** Five fields (minute hour day-of-month month day-of-week), or a @daily-style shorthand; Temporal reads it. */
export const Cron = z.string().max(200).refine(
  (text) => /^@(yearly|annually|monthly|weekly|daily|hourly)$/.test(text) || (text.trim().split(/\s+/).length === 5 && text.trim().split(/\s+/).every((f) => CRON_FIELD.test(f))),
  { message: 'must be a cron expression of five fields ("0 2 * * *") or @daily, @weekly, …' },
);

export const DrillOptions = z.strictObject({
  objectives: DrillObjectives.optional(),
  http: z.array(HttpCheck).max(20).optional(),
  /** Keep each run's clone after its drill (the next run replaces it). */
  keep: z.boolean().optional(),
});
export type DrillOptions = z.infer<typeof DrillOptions>;

export const ScheduleRequest = z.strictObject({
  /** The schedule's name (its Temporal Schedule id). */
  id: DnsLabel,
  kind: z.enum(SCHEDULE_KINDS).default('clone'),
  /** Run every so long ("24h"), or … */
  every: Interval.optional(),
  /** … at the times of a cron expression (UTC unless `timezone`). */
  cron: Cron.optional(),
  timezone: z.string().min(1).max(100).optional(),
  /** clone, drill: what each run makes; its purpose defaults to compliance (a clone) or drill. The revision defaults to the source's deployed one at each run. */
  clone: CloneRequest.omit({ purpose: true }).extend({ purpose: z.enum(CLONE_PURPOSES).optional() }).optional(),
  drill: DrillOptions.optional(),
  /** stop, start: the environment each run stops or starts, or … */
  environment: DnsLabel.optional(),
  /** … every environment of this tier. */
  tier: Tier.optional(),
  /** Created paused (nothing runs until resumed or triggered). */
  paused: z.boolean().default(false),
  note: z.string().max(500).optional(),
}).superRefine((s, ctx) => {
  if ((s.every === undefined) === (s.cron === undefined)) ctx.addIssue({ code: 'custom', path: ['every'], message: 'give exactly one of every or cron' });
  if (s.timezone !== undefined && s.cron === undefined) ctx.addIssue({ code: 'custom', path: ['timezone'], message: 'only with cron' });
  if (s.drill !== undefined && s.kind !== 'drill') ctx.addIssue({ code: 'custom', path: ['drill'], message: 'only for kind drill' });
  const lifecycle = s.kind === 'stop' || s.kind === 'start';
  if (lifecycle) {
    if (s.clone !== undefined) ctx.addIssue({ code: 'custom', path: ['clone'], message: `not for kind ${s.kind}: give environment or tier` });
    if ((s.environment === undefined) === (s.tier === undefined)) ctx.addIssue({ code: 'custom', path: ['environment'], message: `kind ${s.kind} needs exactly one of environment or tier` });
    return;
  }
  if (s.environment !== undefined) ctx.addIssue({ code: 'custom', path: ['environment'], message: 'only for kinds stop and start' });
  if (s.tier !== undefined) ctx.addIssue({ code: 'custom', path: ['tier'], message: 'only for kinds stop and start' });
  if (s.clone === undefined) {
    ctx.addIssue({ code: 'custom', path: ['clone'], message: `kind ${s.kind} needs clone` });
    return;
  }
  if (s.kind === 'drill' && s.clone.ttl !== undefined) ctx.addIssue({ code: 'custom', path: ['clone', 'ttl'], message: 'a drill\'s clone has no TTL: it is torn down when the drill ends unless kept' });
});
export type ScheduleRequest = z.infer<typeof ScheduleRequest>;
export type ScheduleRequestInput = z.input<typeof ScheduleRequest>;

/** What every run of a clone or drill schedule does (its Temporal action's one argument): no secret in it. */
export interface ScheduledCloneInput {
  schedule: string;
  kind: 'clone' | 'drill';
  clone: CloneRequest;
  drill?: DrillOptions;
  /** Who created the schedule; runs are requested by `schedule/<id>`. */
  createdBy: string;
}

/** What every run of a stop or start schedule does (workflows/stop-start.ts scheduledLifecycle). */
export interface ScheduledLifecycleInput {
  schedule: string;
  action: 'stop' | 'start';
  environment?: string;
  tier?: string;
  createdBy: string;
}

/** A stop or start schedule's run input, with its kind (the action) as every schedule's input has. */
export interface ScheduledLifecycleRun extends ScheduledLifecycleInput {
  kind: 'stop' | 'start';
}

export type ScheduledRunInput = ScheduledCloneInput | ScheduledLifecycleRun;

export function isLifecycleRun(input: ScheduledRunInput): input is ScheduledLifecycleRun {
  return input.kind === 'stop' || input.kind === 'start';
}

/** The clone request of a schedule's runs, its purpose filled in. */
export function scheduledClone(request: ScheduleRequest): CloneRequest {
  const clone = request.clone!;
  return { ...clone, purpose: clone.purpose ?? (request.kind === 'drill' ? 'drill' : 'compliance') };
}

/**
 * A run's id part from its workflow id: Temporal names a scheduled run `<workflow id>-<time>`
 * (RFC 3339, e.g. 2026-12-03T19:00:00Z); the time's digits make the ids of what the run makes
 * (clone-<name>-20261203T190000Z), so a retried step finds what it made before.
 */
export function runStamp(workflowId: string): string {
  const time = /(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$/.exec(workflowId);
  if (time) return `${time[1]}${time[2]}${time[3]}T${time[4]}${time[5]}${time[6]}Z`;
  // Not a scheduled run (started by hand): its id's tail, made safe for an id.
  return workflowId.replace(/[^A-Za-z0-9-]/g, '').slice(-24);
}

/** The workflow id prefix of a schedule's runs (Temporal appends the time). */
export function scheduleWorkflowId(schedule: string): string {
  return `scheduled-${schedule}`;
}
