// What an environment's logs answer (GET /v1/environments/{name}/logs) carries, whatever its
// encoding: lines (each naming its cluster, pod and container), errors of one cluster or
// container (the rest goes on), and one `end` saying why the answer stopped. Pure: how lines are
// merged by time, kept within the byte budget and shown to a person (the API's text/plain form
// and the CLI's) is here; reading them is api/services/logs.ts, encoding them api/services/log-format.ts.
import { z } from 'zod';

export const LogLineEvent = z.object({
  type: z.literal('line'),
  environment: z.string(),
  cluster: z.string(),
  pod: z.string(),
  container: z.string(),
  /** When the container wrote it (RFC 3339), as the kubelet recorded it. */
  time: z.string().optional(),
  line: z.string(),
});
export type LogLineEvent = z.infer<typeof LogLineEvent>;

export const LogErrorEvent = z.object({
  type: z.literal('error'),
  environment: z.string(),
  cluster: z.string(),
  pod: z.string().optional(),
  container: z.string().optional(),
  /** A short word: the Kubernetes Status reason, a network error code, NoPods, … */
  reason: z.string(),
  message: z.string(),
});
export type LogErrorEvent = z.infer<typeof LogErrorEvent>;

export const END_REASONS = ['complete', 'timeout', 'byte-limit'] as const;
export type EndReason = (typeof END_REASONS)[number];

export const LogEndEvent = z.object({
  type: z.literal('end'),
  /** complete: every log was read to its end (following: every stream was closed); timeout, byte-limit: a bound was reached. */
  reason: z.enum(END_REASONS),
  message: z.string(),
  lines: z.number().int(),
  bytes: z.number().int(),
  /** Lines left out to stay within the byte limit (the oldest, when not following). */
  dropped: z.number().int().optional(),
});
export type LogEndEvent = z.infer<typeof LogEndEvent>;

export const LogEvent = z.discriminatedUnion('type', [LogLineEvent, LogErrorEvent, LogEndEvent]);
export type LogEvent = z.infer<typeof LogEvent>;

/** What a line counts against the byte budget: its text and a newline, in UTF-8. */
export function lineBytes(event: LogLineEvent): number {
  return Buffer.byteLength(event.line, 'utf8') + 1;
}

/** `[cluster/pod]`, or `[cluster/pod/container]` for a pod of several containers. */
export function sourcePrefix(source: { cluster: string; pod?: string; container?: string }, showContainer = false): string {
  const parts = [source.cluster, source.pod, showContainer ? source.container : undefined].filter((p): p is string => !!p);
  return `[${parts.join('/')}]`;
}

/**
 * One time-ordered list from per-container lists that are each in time order. Equal times keep
 * their input order (a container's own order first); a line without a time sorts as the one before it.
 */
export function mergeByTime(lists: readonly (readonly LogLineEvent[])[]): LogLineEvent[] {
  const keyed = lists.flatMap((list, source) => {
    let last = '';
    return list.map((event, index) => {
      last = event.time ? normalizeTime(event.time) : last;
      return { event, key: last, source, index };
    });
  });
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.source - b.source || a.index - b.index));
  return keyed.map((k) => k.event);
}

/** RFC 3339 in UTC with nine fraction digits, so that times compare as strings. */
export function normalizeTime(time: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(time);
  if (!m) return time;
  const fraction = (m[2] ?? '').slice(0, 9).padEnd(9, '0');
  if (m[3] === 'Z') return `${m[1]}.${fraction}Z`;
  const utc = new Date(`${m[1]}${m[3]}`).toISOString().slice(0, 19);
  return `${utc}.${fraction}Z`;
}

/** The newest lines whose bytes fit in `budget`, in order, and how many older ones were left out. */
export function newestWithin(lines: readonly LogLineEvent[], budget: number): { kept: LogLineEvent[]; dropped: number; bytes: number } {
  let bytes = 0;
  let start = lines.length;
  while (start > 0) {
    const size = lineBytes(lines[start - 1]!);
    if (bytes + size > budget) break;
    bytes += size;
    start--;
  }
  return { kept: lines.slice(start), dropped: start, bytes };
}

/** Plain-text options: the API's text/plain answer and the CLI print lines alike. */
export interface PlainTextOptions {
  /** Start each line with its time. */
  timestamps?: boolean;
  /** Pods (`cluster/pod`) of several containers, whose lines name the container too. */
  multiContainerPods?: ReadonlySet<string>;
}

/**
 * One event for a person (without a newline): `[cluster/pod] line`; an error `! [cluster/pod]
 * Reason: message`; the end `-- end: why (N lines, B bytes)`.
 */
export function plainText(event: LogEvent, options: PlainTextOptions = {}): string {
  switch (event.type) {
    case 'line': {
      const multi = options.multiContainerPods?.has(`${event.cluster}/${event.pod}`) ?? false;
      const text = `${sourcePrefix(event, multi)} ${event.line}`;
      return options.timestamps && event.time ? `${event.time} ${text}` : text;
    }
    case 'error':
      return `! ${sourcePrefix(event, true)} ${event.reason}: ${oneLine(event.message)}`;
    case 'end':
      return `-- end: ${event.message} (${event.lines} lines, ${event.bytes} bytes${event.dropped ? `, ${event.dropped} older lines left out` : ''})`;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').slice(0, 1000);
}
