import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_ACTIVITIES, readSettings, TemporalSettings, workerTuningFromEnv } from '../../worker/config.js';

describe('readSettings', () => {
  it('applies defaults', () => {
    expect(readSettings(TemporalSettings, {})).toEqual({ TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_NAMESPACE: 'default', FLOTILLA_TASK_QUEUE: 'flotilla' });
  });

  it('names the variable that is wrong', () => {
    const schema = TemporalSettings.extend({ PORT: z.coerce.number().int().max(65535) });
    expect(() => readSettings(schema, { PORT: '99999' })).toThrow(/invalid settings: PORT: /);
  });
});

describe('workerTuningFromEnv', () => {
  it('gives the measured activity slots and leaves the rest to the SDK', () => {
    expect(workerTuningFromEnv({})).toEqual({ maxConcurrentActivityTaskExecutions: DEFAULT_MAX_ACTIVITIES });
  });

  it('reads every setting', () => {
    expect(workerTuningFromEnv({ FLOTILLA_WORKER_MAX_ACTIVITIES: '200', FLOTILLA_WORKER_MAX_WORKFLOW_TASKS: '60', FLOTILLA_WORKER_MAX_CACHED_WORKFLOWS: '50' }))
      .toEqual({ maxConcurrentActivityTaskExecutions: 200, maxConcurrentWorkflowTaskExecutions: 60, maxCachedWorkflows: 50 });
  });

  it('refuses what is not a positive whole number', () => {
    expect(() => workerTuningFromEnv({ FLOTILLA_WORKER_MAX_ACTIVITIES: '0' })).toThrow(/FLOTILLA_WORKER_MAX_ACTIVITIES/);
    expect(() => workerTuningFromEnv({ FLOTILLA_WORKER_MAX_WORKFLOW_TASKS: 'many' })).toThrow(/FLOTILLA_WORKER_MAX_WORKFLOW_TASKS/);
    // No cache would make every local catalog step wait out a workflow task timeout.
    expect(() => workerTuningFromEnv({ FLOTILLA_WORKER_MAX_CACHED_WORKFLOWS: '0' })).toThrow(/FLOTILLA_WORKER_MAX_CACHED_WORKFLOWS/);
  });
});
