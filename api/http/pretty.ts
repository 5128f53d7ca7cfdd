// Logs for people: each pino JSON line becomes `HH:MM:SS LEVEL [component] message key=value…`
// (local time), coloured only when the output is a terminal. JSON stays the format for
// machines (logger.ts picks); this is what a terminal shows instead. Redaction has already
// happened in pino: this only reformats what pino wrote.
import type { DestinationStream } from 'pino';

const LEVELS: Record<number, { label: string; color: string }> = {
  10: { label: 'TRACE', color: '90' },
  20: { label: 'DEBUG', color: '36' },
  30: { label: 'INFO', color: '32' },
  40: { label: 'WARN', color: '33' },
  50: { label: 'ERROR', color: '31' },
  60: { label: 'FATAL', color: '35' },
};

/** pino's own fields, shown in the line's head or not at all. */
const HEAD = new Set(['level', 'time', 'msg', 'name', 'component', 'pid', 'hostname']);
/** Context a person at a terminal does not need (the JSON keeps it): Temporal's per-entry constants. */
const QUIET = new Set(['sdkComponent', 'namespace', 'taskQueue', 'runId', 'isLocal', 'taskToken', 'workflowRunId']);

export interface PrettyOptions {
  /** ANSI colours (only for a terminal). */
  colors: boolean;
}

/** One log line for people; a line that is not a pino JSON object is returned as it came. */
export function prettyLine(line: string, { colors }: PrettyOptions): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return line;
  const paint = (code: string, text: string) => (colors ? `\x1b[${code}m${text}\x1b[0m` : text);

  const level = LEVELS[entry.level as number] ?? { label: String(entry.level ?? 'LOG').toUpperCase(), color: '0' };
  const parts = [paint('2', clock(entry.time)), paint(level.color, level.label.padEnd(5))];
  const component = typeof entry.component === 'string' ? entry.component : typeof entry.name === 'string' ? entry.name.replace(/^flotilla-/, '') : undefined;
  if (component) parts.push(paint('34', `[${escapeControls(component)}]`));
  if (entry.msg !== undefined) parts.push(escapeControls(String(entry.msg)));

  let stack = '';
  for (const [key, value] of Object.entries(entry)) {
    if (HEAD.has(key) || QUIET.has(key) || value === undefined) continue;
    if (isSerializedError(value)) {
      parts.push(`${paint('2', `${key}=`)}${quote(value.type && value.type !== 'Error' && !value.message.startsWith(value.type) ? `${value.type}: ${value.message}` : value.message)}`);
      // The stack for errors only: a warning's retry is not worth a screenful.
      if ((entry.level as number) >= 50 && value.stack) stack += stackFrames(value.stack, colors);
      continue;
    }
    parts.push(`${paint('2', `${key}=`)}${quote(value)}`);
  }
  return parts.join(' ') + stack;
}

/** A pino destination that writes each line, made human, to `out`. */
export function prettyStream(out: { write(text: string): unknown }, options: PrettyOptions): DestinationStream {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line) out.write(`${prettyLine(line, options)}\n`);
    },
  };
}

function clock(time: unknown): string {
  const date = typeof time === 'number' || typeof time === 'string' ? new Date(time) : new Date();
  if (Number.isNaN(date.getTime())) return '--:--:--';
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** Bare when it reads unambiguously, JSON otherwise (which escapes control characters too). */
function quote(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"'=\\]+$/.test(value) && escapeControls(value) === value ? value : escapeControls(JSON.stringify(value));
  if (typeof value === 'object' && value !== null) return escapeControls(JSON.stringify(value));
  return String(value);
}

/** No terminal escape sequences from what was logged: control characters (but newlines) as \uXXXX. */
function escapeControls(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.charCodeAt(0);
    out += (code < 0x20 && char !== '\n') || (code >= 0x7f && code < 0xa0) ? `\\u${code.toString(16).padStart(4, '0')}` : char;
  }
  return out;
}

function isSerializedError(value: unknown): value is { type?: string; message: string; stack?: string } {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string'
    && typeof (value as { stack?: unknown }).stack === 'string';
}

function stackFrames(stack: string, colors: boolean): string {
  const frames = stack.split('\n').filter((l) => /^\s+at /.test(l)).map((l) => `    ${escapeControls(l.trim())}`);
  if (frames.length === 0) return '';
  const text = `\n${frames.join('\n')}`;
  return colors ? `\x1b[2m${text}\x1b[0m` : text;
}
