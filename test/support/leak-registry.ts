// The leak scan's registry (test/leak-scan/): what the integration tier must never show in
// plaintext, and what it showed. FLOTILLA_LEAK_DIR (set by global-setup, or by scripts/test.sh)
// is a folder that every process of the tier writes to:
//
//   control/canaries.jsonl    every secret and credential the tests set ({ label, value }): never scanned
//   control/payload-keys.json the tier's payload key ring (to decrypt histories): never scanned
//   histories/                every workflow history, the temporal CLI's JSON (global-setup's teardown)
//   catalogs/<id>/            the SQLite catalogs the tests used, kept after close
//   temporal/                 the Temporal dev server's SQLite files
//   logs/                     stdout/stderr of processes (workers, CLI, servers), the API's log lines, vitest's output
//   responses/                every response the test APIs sent (the one that issues a token with the token redacted)
//
// Without FLOTILLA_LEAK_DIR (the unit tier) nothing is written, but a value that could not be
// searched for is still refused: tests use real-looking secrets.
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { parse } from 'yaml';

export const LEAK_DIR_ENV = 'FLOTILLA_LEAK_DIR';
export const CANARIES_FILE = join('control', 'canaries.jsonl');
export const KEY_RING_FILE = join('control', 'payload-keys.json');
/** Shorter values would match by chance: refused. */
export const MIN_CANARY_LENGTH = 8;

export const leakDir = (): string | undefined => process.env[LEAK_DIR_ENV] || undefined;

/** Why a value cannot be a canary (too short or too uniform to search for), or undefined when it can. */
export function unsearchable(value: string): string | undefined {
  if (value.trim().length < MIN_CANARY_LENGTH) return `shorter than ${MIN_CANARY_LENGTH} characters`;
  if (new Set(value).size < 5) return 'fewer than 5 distinct characters';
  if (/^\d+$/.test(value)) return 'only digits';
  return undefined;
}

/** A short, non-reversible name for a value in reports. */
export const fingerprint = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 10);

export class UnsearchableSecretError extends Error {
  override readonly name = 'UnsearchableSecretError';
}

function append(relative: string, text: string | Buffer): void {
  const dir = leakDir();
  if (!dir) return;
  const file = join(dir, relative);
  mkdirSync(join(file, '..'), { recursive: true });
  appendFileSync(file, text);
}

/**
 * Registers the plaintext of a secret or credential a test set: the scan fails when it shows up
 * anywhere. Throws for a value too short or too uniform to search for (the label, never the value).
 */
export function registerSecret(label: string, value: string, options: { bySetup?: boolean } = {}): void {
  const why = unsearchable(value);
  if (why) throw new UnsearchableSecretError(`the secret "${label}" cannot be searched for by the leak scan (${why}): use a real-looking value`);
  append(CANARIES_FILE, `${JSON.stringify({ label, value, ...(options.bySetup ? { bySetup: true } : {}) })}\n`);
}

/** Registers what the store saw being set (any test, any route, any fuzzer): values that cannot be searched for are counted, not refused. */
export function observeSecret(label: string, value: string): void {
  if (unsearchable(value)) append(CANARIES_FILE, `${JSON.stringify({ label, unsearchable: fingerprint(value) })}\n`);
  else registerSecret(label, value);
  if (looksLikeKubeconfig(value)) registerKubeconfig(label, value, { whole: false });
}

const looksLikeKubeconfig = (v: string) => /^kind:\s*Config\s*$/m.test(v) && /^users:/m.test(v);

/**
 * Registers a kubeconfig's credentials: the whole document, and each user's token, password and
 * client key (the base64 as written, and a line of the PEM it encodes).
 */
export function registerKubeconfig(label: string, kubeconfig: string, options: { whole?: boolean; bySetup?: boolean } = {}): void {
  if (options.whole !== false) registerSecret(label, kubeconfig, options);
  let doc: { users?: { name?: string; user?: Record<string, unknown> }[] } | undefined;
  try {
    doc = parse(kubeconfig) as typeof doc;
  } catch {
    return;
  }
  for (const { name, user } of doc?.users ?? []) {
    for (const field of ['token', 'password', 'client-key-data'] as const) {
      const value = user?.[field];
      if (typeof value !== 'string' || unsearchable(value)) continue;
      registerSecret(`${label}: user ${name ?? '?'} ${field}`, value, options);
      if (field === 'client-key-data') {
        const body = Buffer.from(value, 'base64').toString('utf8').split('\n').filter((l) => l && !l.startsWith('-----'));
        const line = body[1] ?? body[0];
        if (line && !unsearchable(line)) registerSecret(`${label}: user ${name ?? '?'} client key (PEM line)`, line, options);
      }
    }
  }
}

/** A folder for a catalog the scan reads after the test closed it; undefined without FLOTILLA_LEAK_DIR. */
export function keptCatalogFolder(name: string): string | undefined {
  const dir = leakDir();
  if (!dir) return undefined;
  const folder = join(dir, 'catalogs', `${name}-${randomUUID().slice(0, 8)}`);
  mkdirSync(folder, { recursive: true });
  return folder;
}

/** Appends text a process printed (or a log line) to logs/<name>.log. */
export function recordOutput(name: string, text: string | Buffer): void {
  if (text.length) append(join('logs', `${name.replace(/[^\w.-]+/g, '_')}.log`), text);
}

/** Appends everything a child process prints to logs/<name>-<pid>.log. */
export function captureOutput(name: string, child: { pid?: number; stdout?: Readable | null; stderr?: Readable | null }): void {
  if (!leakDir()) return;
  const log = `${name}-${child.pid ?? randomUUID().slice(0, 8)}`;
  child.stdout?.on('data', (d: Buffer) => recordOutput(log, d));
  child.stderr?.on('data', (d: Buffer) => recordOutput(log, d));
}

const ISSUED = '[issued: shown in this one response by design]';

/**
 * An HTTP handler that also records every response it sends (status, headers, body) to
 * responses/<name>-<pid>.jsonl. The one response meant to show a secret, a created token's,
 * is recorded with that token redacted (and the token registered).
 */
export function recordingResponses(name: string, handler: RequestListener): RequestListener {
  if (!leakDir()) return handler;
  const file = join('responses', `${name}-${process.pid}.jsonl`);
  return (req: IncomingMessage, res: ServerResponse) => {
    // As the request came: the router rewrites req.url while it routes (/v1/tokens → /tokens).
    const { method, url } = req;
    const chunks: Buffer[] = [];
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.from(chunk as Uint8Array));
    };
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.write = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return write(...args);
    }) as typeof res.write;
    res.end = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return end(...args);
    }) as typeof res.end;
    let recorded = false;
    const record = () => {
      if (recorded) return;
      recorded = true;
      let body = Buffer.concat(chunks).toString('utf8');
      const path = (url ?? '').split('?')[0];
      if (method === 'POST' && path === '/v1/tokens' && res.statusCode === 201) {
        try {
          const created = JSON.parse(body) as { token?: unknown };
          if (typeof created.token === 'string') {
            observeSecret('an API token issued by POST /v1/tokens', created.token);
            body = JSON.stringify({ ...created, token: ISSUED });
          }
        } catch {
          // Not JSON: recorded as it is.
        }
      }
      append(file, `${JSON.stringify({ method, url, status: res.statusCode, headers: res.getHeaders(), body })}\n`);
    };
    res.once('finish', record);
    res.once('close', record);
    handler(req, res);
  };
}
