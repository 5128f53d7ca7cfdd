// flotilla logs ENV [-s SERVICE] [-f] [--since 10m] [--tail N] [--all-clusters]: the environment's
// pods' logs, merged, each line `[cluster/pod] line`, printed as they arrive (GET
// /v1/environments/{name}/logs, read as NDJSON). Log lines go to stdout; errors of a cluster or
// container, and why the stream ended when a bound ended it, to stderr. Exit 1 when some cluster
// or container could not be read (the rest is still printed).
import { parseDuration } from '../../domain/clone.js';
import { type LogEvent, plainText } from '../../domain/log-events.js';
import type { CommandContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';

export const LOG_OUTPUTS = ['text', 'json'] as const;

export interface LogsOptions {
  service?: string;
  follow?: boolean;
  since?: string;
  tail?: string;
  /** Every environment of the application and tier (each on its own cluster). */
  allClusters?: boolean;
  timestamps?: boolean;
  timeout?: string;
  limitBytes?: string;
  /** text: lines as a person reads them; json: the API's events, one per line. */
  output?: (typeof LOG_OUTPUTS)[number];
}

/** The request path for these options; a malformed flag is a usage error naming it. */
export function logsPath(env: string, o: LogsOptions): string {
  const q = new URLSearchParams();
  if (o.service) q.set('service', o.service);
  if (o.since !== undefined) q.set('since', String(durationFlag('--since', o.since)));
  if (o.tail !== undefined) q.set('tail', String(countFlag('--tail', o.tail)));
  if (o.follow) q.set('follow', 'true');
  if (o.allClusters) q.set('scope', 'application');
  if (o.timeout !== undefined) q.set('timeout', String(durationFlag('--timeout', o.timeout)));
  if (o.limitBytes !== undefined) q.set('limitBytes', String(countFlag('--limit-bytes', o.limitBytes)));
  const query = q.toString();
  return `/v1/environments/${encodeURIComponent(env)}/logs${query ? `?${query}` : ''}`;
}

export async function logs(ctx: CommandContext, env: string, o: LogsOptions): Promise<void> {
  const path = logsPath(env, o);
  const res = await ctx.client().stream(path, 'application/x-ndjson');
  let failures = 0;
  let ended = false;
  for await (const line of ndjsonLines(res)) {
    let event: LogEvent;
    try {
      event = JSON.parse(line) as LogEvent;
    } catch {
      throw new CliError(`the server sent something other than a log event: ${line.slice(0, 200)}`, EXIT.failed);
    }
    if (o.output === 'json') {
      ctx.io.out(line);
    } else if (event.type === 'line') {
      ctx.io.out(plainText(event, { timestamps: o.timestamps }));
    } else if (event.type === 'error') {
      ctx.io.err(plainText(event));
    } else if (event.reason !== 'complete') {
      ctx.io.err(plainText(event));
    }
    if (event.type === 'error') failures++;
    if (event.type === 'end') ended = true;
  }
  if (!ended) throw new CliError('the log stream was cut off before its end', EXIT.failed);
  if (failures > 0) throw new CliError(`${failures} part(s) of the logs could not be read (see above)`, EXIT.failed);
}

/** The body's lines as they arrive. */
async function* ndjsonLines(res: Response): AsyncGenerator<string> {
  if (!res.body) return;
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim()) yield line;
      }
    }
  } catch (error) {
    throw new CliError(`the log stream broke off: ${error instanceof Error ? error.message : String(error)}`, EXIT.failed);
  }
  buffered += decoder.decode();
  if (buffered.trim()) yield buffered;
}

function durationFlag(flag: string, value: string): number {
  const seconds = /^[0-9]+$/.test(value) ? Number(value) : parseDuration(value);
  if (seconds === undefined || seconds <= 0) throw new CliError(`${flag} must be a duration such as 30s, 10m, 2h (got "${value}")`, EXIT.usage);
  return seconds;
}

function countFlag(flag: string, value: string): number {
  if (!/^[0-9]{1,9}$/.test(value)) throw new CliError(`${flag} must be a whole number (got "${value}")`, EXIT.usage);
  return Number(value);
}
