// GET /v1/environments/{name}/logs: the environment's pods' logs, merged and streamed
// (api/services/logs.ts reads them; log-format.ts says how each Accept header is answered).
import { z } from 'zod';
import { defineRoute } from '../route.js';
import { NameParam, sseEvent } from '../schemas.js';
import { LOG_MEDIA_TYPES, negotiateLogFormat } from '../services/log-format.js';
import { LogsQuery } from '../services/log-query.js';
import { planLogs, streamLogs } from '../services/logs.js';

export const logRoutes = [
  defineRoute({
    method: 'get', path: '/environments/{name}/logs', operationId: 'environmentLogs', tag: 'environments',
    summary: "Logs of the environment's pods (with scope=application, of every environment of its application and tier), merged, each line naming its cluster and pod; streamed, following with follow=true. Bounded by tail, limitBytes and timeout; the last event says why the answer ended. Reading logs is bound by a token's tiers.",
    // Checked again per environment with its tier: a dev-scoped viewer reads no prod logs.
    action: 'logs.read', params: NameParam, query: LogsQuery,
    headers: [{ name: 'Accept', description: 'text/event-stream (server-sent events), application/x-ndjson (one JSON event per line), or anything else for text/plain' }],
    responses: {
      200: {
        description: 'a stream of events: `line`, `error` (a cluster or container that could not be read; the others go on), and one `end`',
        content: {
          [LOG_MEDIA_TYPES.sse]: sseEvent(['line', 'error', 'end'], 'the event as JSON'),
          [LOG_MEDIA_TYPES.ndjson]: z.string().describe('one JSON event per line: {type: line, environment, cluster, pod, container, time, line} | {type: error, environment, cluster, pod?, container?, reason, message} | {type: end, reason: complete|timeout|byte-limit, message, lines, bytes, dropped?}'),
          'text/plain': z.string().describe('`[cluster/pod] line`; `! [cluster/pod] Reason: message` for an error; `-- end: why (N lines, B bytes)` last'),
        },
      },
    },
    async handler({ params, query }, ctx) {
      const plan = await planLogs(ctx.deps, params.name, query, (tiers) => ctx.authorize('logs.read', tiers));
      const format = negotiateLogFormat(ctx.header('accept'));
      return {
        status: 200,
        headers: { 'Content-Type': LOG_MEDIA_TYPES[format], 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' },
        stream: (out) => streamLogs(ctx.deps, plan, format, out),
      };
    },
  }),
];
