// GET /v1/events: server-sent events of the fleet (status, drift, operations) for the
// dashboard and `flotilla watch`; each names state to read again (api/services/events.ts).
import { z } from 'zod';
import { defineRoute } from '../route.js';
import { sseEvent } from '../schemas.js';
import { streamEvents } from '../services/events.js';

const EventsQuery = z.strictObject({
  /** Seconds until the server ends the stream (a client reconnects); an hour by default. */
  timeout: z.string().regex(/^[1-9][0-9]{0,3}$/, 'must be whole seconds, 1 to 3600').transform(Number)
    .refine((n) => n <= 3600, 'must be at most 3600 seconds').optional(),
});

export const eventRoutes = [
  defineRoute({
    method: 'get', path: '/events', operationId: 'streamEvents', tag: 'fleet',
    summary: 'Server-sent events: `hello`, then `fleet` {etag, summary} when GET /v1/fleet would answer differently, `drift` {environment, drifted, objects}, `operation` {id, kind, state, outcome, updatedAt}; `: keep-alive` comments every 15 s; ends after `timeout` seconds (an hour by default).',
    action: 'read', query: EventsQuery,
    responses: {
      200: { description: 'an event stream', content: { 'text/event-stream': sseEvent(['hello', 'fleet', 'drift', 'operation'], 'the event\'s JSON') } },
    },
    async handler({ query }, ctx) {
      return {
        status: 200,
        headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' },
        stream: (out) => streamEvents(ctx.deps.events, out, { timeoutMs: (query.timeout ?? 3600) * 1000, now: ctx.deps.now }),
      };
    },
  }),
];
