import { z } from 'zod';
import type { WorkerTuning } from './worker.js';

export const DEFAULT_TASK_QUEUE = 'flotilla';

/** Settings every process that talks to Temporal reads from its environment. */
export const TemporalSettings = z.object({
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  FLOTILLA_TASK_QUEUE: z.string().default(DEFAULT_TASK_QUEUE),
});

export function readSettings<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv = process.env): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid settings: ${problems}`);
  }
  return parsed.data;
}

const positiveInt = z.coerce.number().int().positive().optional();

/**
 * The worker's slots and workflow cache. Measured by bench/scale.ts (one promotion to 500
 * targets at once, 2 cores): with the SDK's 100 activity slots, rollout waits (each holds a slot
 * for its whole rollout) starved every other activity — median 8.6 s from scheduled to started,
 * 285 s end to end; with 500 slots no activity waited for one (median 0) and the promotion took
 * 122 s, on less worker CPU (65 s against 107 s). So 500 by default: a slot is a counter, not a
 * thread. Capping the workflow cache (100) did not lower peak memory (1,481 MB against 1,393 MB)
 * and doubled the worker's CPU (replays), so the cache keeps the SDK's default (sized from the
 * heap limit). Workflow task slots: the SDK's 40.
 */
export const DEFAULT_MAX_ACTIVITIES = 500;

export const WorkerTuningSettings = z.object({
  FLOTILLA_WORKER_MAX_ACTIVITIES: positiveInt.default(DEFAULT_MAX_ACTIVITIES),
  FLOTILLA_WORKER_MAX_WORKFLOW_TASKS: positiveInt,
  FLOTILLA_WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(1).optional(), // 0 would make every local catalog step wait out a workflow task timeout
});

/** WorkerTuningSettings as worker options: the activity slots always, the rest only when set. */
export function workerTuningFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerTuning {
  const s = readSettings(WorkerTuningSettings, env);
  return {
    maxConcurrentActivityTaskExecutions: s.FLOTILLA_WORKER_MAX_ACTIVITIES,
    ...(s.FLOTILLA_WORKER_MAX_WORKFLOW_TASKS !== undefined ? { maxConcurrentWorkflowTaskExecutions: s.FLOTILLA_WORKER_MAX_WORKFLOW_TASKS } : {}),
    ...(s.FLOTILLA_WORKER_MAX_CACHED_WORKFLOWS !== undefined ? { maxCachedWorkflows: s.FLOTILLA_WORKER_MAX_CACHED_WORKFLOWS } : {}),
  };
}
