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
 * The worker's slots and workflow cache (bench/scale.ts measures them); unset, the SDK's
 * defaults: 100 activities, 40 workflow tasks, a cache sized from the heap limit.
 */
export const WorkerTuningSettings = z.object({
  FLOTILLA_WORKER_MAX_ACTIVITIES: positiveInt,
  FLOTILLA_WORKER_MAX_WORKFLOW_TASKS: positiveInt,
  FLOTILLA_WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).optional(),
});

/** WorkerTuningSettings as worker options; only what is set. */
export function workerTuningFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerTuning {
  const s = readSettings(WorkerTuningSettings, env);
  return {
    ...(s.FLOTILLA_WORKER_MAX_ACTIVITIES !== undefined ? { maxConcurrentActivityTaskExecutions: s.FLOTILLA_WORKER_MAX_ACTIVITIES } : {}),
    ...(s.FLOTILLA_WORKER_MAX_WORKFLOW_TASKS !== undefined ? { maxConcurrentWorkflowTaskExecutions: s.FLOTILLA_WORKER_MAX_WORKFLOW_TASKS } : {}),
    ...(s.FLOTILLA_WORKER_MAX_CACHED_WORKFLOWS !== undefined ? { maxCachedWorkflows: s.FLOTILLA_WORKER_MAX_CACHED_WORKFLOWS } : {}),
  };
}
