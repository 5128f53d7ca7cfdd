// How the API manages schedules: a small interface over Temporal Schedules (api/temporal-schedules.ts),
// so routes and services never hold a client and unit tests can stand in for it.
import type { Tier } from '../domain/environment.js';
import { isLifecycleRun, type ScheduledRunInput } from '../domain/schedule.js';

export interface ScheduleTiming {
  everySeconds?: number;
  cron?: string;
  timezone?: string;
}

export interface NewSchedule {
  id: string;
  timing: ScheduleTiming;
  /** Every run's one argument (no secret in it). */
  input: ScheduledRunInput;
  /** The tiers its runs touch (its clone's and its source's): who may manage it. */
  tiers: Tier[];
  paused: boolean;
  note?: string;
}

export interface ScheduledRun {
  workflowId: string;
  scheduledAt: string;
  startedAt: string;
}

/** A run's end as Temporal has it: its status and, once completed, its result. */
export interface ScheduledRunEnd extends ScheduledRun {
  status: string;
  result?: unknown;
}

/** What a schedule's runs make, in brief: kept with the schedule, so a list shows it without its input. */
export interface ScheduleSummary {
  kind: ScheduledRunInput['kind'];
  /** clone, drill: what each run makes. */
  source?: string;
  clone?: string;
  cluster?: string;
  /** stop, start: what each run acts on. */
  environment?: string;
  tier?: string;
}

export function summaryOf(input: ScheduledRunInput): ScheduleSummary {
  if (isLifecycleRun(input)) {
    return { kind: input.kind, ...(input.environment ? { environment: input.environment } : {}), ...(input.tier ? { tier: input.tier } : {}) };
  }
  return { kind: input.kind, source: input.clone.source, clone: input.clone.name, cluster: input.clone.cluster };
}

export interface ScheduleState {
  id: string;
  timing: ScheduleTiming;
  summary?: ScheduleSummary;
  /** Every run's argument (describe only). */
  input?: ScheduledRunInput;
  tiers: Tier[];
  paused: boolean;
  note?: string;
  /** The next times it runs (none while paused). */
  nextRuns: string[];
  /** The latest runs started (triggers too), oldest first. */
  recentRuns: ScheduledRun[];
  /** Workflow ids of its runs going on now (at most one: overlap policy skip). */
  running: string[];
  /** Runs started so far, and runs skipped because one was still going on. */
  runs: number;
  skipped: number;
  createdAt?: string;
  /** The latest run, and how it ended (describe only). */
  lastRun?: ScheduledRunEnd;
}

export class ScheduleExistsError extends Error {
  constructor(readonly id: string) {
    super(`schedule "${id}" already exists`);
    this.name = 'ScheduleExistsError';
  }
}

/** Temporal refused the schedule's timing (a cron expression or time zone it cannot read). */
export class ScheduleInvalidError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleInvalidError';
  }
}

export class ScheduleNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`schedule "${id}" not found`);
    this.name = 'ScheduleNotFoundError';
  }
}

export interface ScheduleClient {
  /** ScheduleExistsError when the id is taken; ScheduleInvalidError for timing Temporal cannot read. */
  create(schedule: NewSchedule): Promise<void>;
  /** Flotilla's schedules (those whose runs are complianceClone). */
  list(): Promise<ScheduleState[]>;
  describe(id: string): Promise<ScheduleState | undefined>;
  /** These throw ScheduleNotFoundError for an unknown id. */
  pause(id: string, note: string): Promise<void>;
  unpause(id: string, note: string): Promise<void>;
  /** Runs it now (skipped while a run is going on: overlap policy skip). */
  trigger(id: string): Promise<void>;
  delete(id: string): Promise<void>;
}
