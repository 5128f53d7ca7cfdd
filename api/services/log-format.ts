// How an environment's logs answer is encoded, chosen by the Accept header:
//   text/event-stream     server-sent events: `event: line|error|end` and `data: <JSON event>`;
//                         what a browser's EventSource asks for
//   application/x-ndjson  one JSON event per line (what the CLI reads)
//   anything else         text/plain, one line per log line: `[cluster/pod] line`; an error line
//                         starts `! `, the last line `-- end: …` says why the answer ended
//                         (domain/log-events.ts's plainText, which the CLI prints too)
import { type LogEvent, plainText, type PlainTextOptions } from '../../domain/log-events.js';

export const LOG_FORMATS = ['sse', 'ndjson', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const LOG_MEDIA_TYPES: Record<LogFormat, string> = {
  sse: 'text/event-stream',
  ndjson: 'application/x-ndjson',
  text: 'text/plain; charset=utf-8',
};

/** The format the Accept header prefers among the streamed ones (by q, then order); text/plain otherwise. */
export function negotiateLogFormat(accept: string | undefined): LogFormat {
  let best: { format: LogFormat; q: number } | undefined;
  for (const part of (accept ?? '').split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';').map((s) => s.trim());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0) continue;
    const format = type === 'text/event-stream' ? 'sse' : type === 'application/x-ndjson' ? 'ndjson' : type === 'text/plain' ? 'text' : undefined;
    if (format && (!best || q > best.q)) best = { format, q };
  }
  return best?.format ?? 'text';
}

/** Turns events into the chunks of one answer. */
export function logEncoder(format: LogFormat, options: PlainTextOptions = {}): (event: LogEvent) => string {
  if (format === 'ndjson') return (event) => `${JSON.stringify(event)}\n`;
  if (format === 'sse') return (event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
  return (event) => `${plainText(event, options)}\n`;
}

/** An SSE comment that keeps idle proxies from closing a quiet stream. */
export const SSE_KEEPALIVE = ': keep-alive\n\n';
