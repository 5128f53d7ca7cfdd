// The query of GET /v1/environments/{name}/logs and its bounds. Every value arrives as a string;
// a bad one is a 400 naming `query.<field>` (the route validates with this schema).
import { z } from 'zod';
import { parseDuration } from '../../domain/clone.js';
import { DnsLabel } from '../../domain/names.js';
import { QueryFlag } from '../schemas.js';

export const LOG_LIMITS = {
  /** Lines from the end of each container's log to start with. */
  tail: { default: 100, max: 5000 },
  /** Log bytes (the lines' text) one answer carries at most. */
  bytes: { default: 4 * 1024 * 1024, max: 4 * 1024 * 1024 },
  /** How long one answer may last (a followed stream is then closed). */
  timeoutSeconds: { default: 5 * 60, min: 1, max: 30 * 60 },
  /** `since` reaches back at most this far. */
  sinceSeconds: { max: 30 * 24 * 3600 },
  /** Containers one answer reads at once; narrow with `service` beyond. */
  containers: 32,
} as const;

const integer = (min: number, max: number) => z.string()
  .regex(/^[0-9]{1,9}$/, 'must be a whole number')
  .transform(Number)
  .refine((n) => n >= min && n <= max, `must be between ${min} and ${max}`);

const duration = (min: number, max: number) => z.string()
  .transform((text, ctx) => {
    const seconds = /^[0-9]{1,9}$/.test(text) ? Number(text) : parseDuration(text);
    if (seconds === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration such as "30s", "10m", "2h" or "1h30m", or seconds' });
      return z.NEVER;
    }
    if (seconds < min || seconds > max) {
      ctx.addIssue({ code: 'custom', message: `must be between ${min}s and ${max}s` });
      return z.NEVER;
    }
    return seconds;
  });


export const LogsQuery = z.strictObject({
  service: DnsLabel.optional().describe('Only the pods of this service (the default: every service of the environment).'),
  since: duration(1, LOG_LIMITS.sinceSeconds.max).optional().describe('Only lines newer than this ("10m", "2h", or seconds).'),
  tail: integer(0, LOG_LIMITS.tail.max).default(LOG_LIMITS.tail.default)
    .describe(`Lines from the end of each container's log to start with (0 to ${LOG_LIMITS.tail.max}; default ${LOG_LIMITS.tail.default}; 0 with follow: new lines only).`),
  follow: QueryFlag.default(false).describe('Keep the answer open and send lines as they are written, until `timeout`.'),
  scope: z.enum(['environment', 'application']).default('environment')
    .describe('`application`: also the other environments of the same application and tier (on their own clusters), merged.'),
  timeout: duration(LOG_LIMITS.timeoutSeconds.min, LOG_LIMITS.timeoutSeconds.max).default(LOG_LIMITS.timeoutSeconds.default)
    .describe(`End the answer after this long ("30s", "5m"; default 5m, at most 30m).`),
  limitBytes: integer(1, LOG_LIMITS.bytes.max).default(LOG_LIMITS.bytes.default)
    .describe(`End the answer after this many bytes of log text (at most ${LOG_LIMITS.bytes.max}, the default).`),
  timestamps: QueryFlag.default(false).describe('Start each plain-text line with the time the container wrote it (JSON events always carry it).'),
});
export type LogsQuery = z.infer<typeof LogsQuery>;
