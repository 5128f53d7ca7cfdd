import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { readSettings, TemporalSettings } from '../../worker/config.js';

describe('readSettings', () => {
  it('applies defaults', () => {
    expect(readSettings(TemporalSettings, {})).toEqual({ TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_NAMESPACE: 'default', FLOTILLA_TASK_QUEUE: 'flotilla' });
  });

  it('names the variable that is wrong', () => {
    const schema = TemporalSettings.extend({ PORT: z.coerce.number().int().max(65535) });
    expect(() => readSettings(schema, { PORT: '99999' })).toThrow(/invalid settings: PORT: /);
  });
});
