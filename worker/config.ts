import { z } from 'zod';

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
