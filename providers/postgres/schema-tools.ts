// The schema of a copy, through PostgreSQL's own tools: pg_dump (custom format, pre-data and
// post-data sections only, at the copy's exported snapshot) into a private temporary file, then
// pg_restore of the pre-data section before the rows and of the post-data section (indexes,
// constraints, foreign keys, triggers) after them, in parallel. Credentials travel in the
// tools' environment; their stderr is kept short and stripped of DETAIL lines (which can
// quote row values) before it reaches an error.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyCancelledError, PgToolError } from './errors.js';
import { MARKER_SCHEMA } from './introspect.js';
import { libpqEnv } from './libpq-env.js';

export interface ToolRun {
  pgBin: string;
  applicationName: string;
  signal?: AbortSignal;
}

const STDERR_LIMIT = 4000;

function run(tool: string, args: string[], url: string, options: ToolRun, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new CopyCancelledError(`${what}: cancelled`));
    const child = spawn(join(options.pgBin, tool), args, {
      env: libpqEnv(url, options.applicationName),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-STDERR_LIMIT);
    });
    const abort = () => child.kill('SIGTERM');
    options.signal?.addEventListener('abort', abort, { once: true });
    child.on('error', (error) => {
      options.signal?.removeEventListener('abort', abort);
      reject(new PgToolError(`${what}: cannot run ${tool} (${error.message})`));
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', abort);
      if (options.signal?.aborted) return reject(new CopyCancelledError(`${what}: cancelled`));
      if (code === 0) return resolve();
      const detail = stderr.split('\n').filter((l) => l.trim() !== '' && !/^\s*DETAIL:/.test(l)).slice(-8).join('\n');
      reject(new PgToolError(`${what}: ${tool} failed (${signal ?? `exit ${code}`}): ${detail}`));
    });
  });
}

export interface SchemaDump {
  file: string;
  dispose(): Promise<void>;
}

/** pg_dump of the schema as of `snapshot` (an exported snapshot the caller keeps open). */
export async function dumpSchema(sourceUrl: string, snapshot: string, options: ToolRun): Promise<SchemaDump> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-schema-'));
  const file = join(dir, 'schema.dump');
  try {
    await run('pg_dump', [
      '--format=custom', '--section=pre-data', '--section=post-data', `--snapshot=${snapshot}`, `--exclude-schema=${MARKER_SCHEMA}`,
      '--no-blobs', '--no-publications', '--no-subscriptions', '--no-security-labels', '--no-tablespaces', '--file', file,
    ], sourceUrl, options, 'dumping the source schema');
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { file, dispose: () => rm(dir, { recursive: true, force: true }) };
}

const RESTORE = ['--no-owner', '--no-privileges', '--no-publications', '--no-subscriptions', '--no-security-labels', '--no-tablespaces', '--exit-on-error'];

/** Tables, types, functions, sequences: one transaction, so a failure leaves none of it. */
export function restorePreData(targetUrl: string, dump: SchemaDump, options: ToolRun): Promise<void> {
  return run('pg_restore', [...RESTORE, '--section=pre-data', '--single-transaction', '--dbname', databaseOf(targetUrl), dump.file],
    targetUrl, options, 'restoring the schema (pre-data)');
}

/** Indexes, constraints, foreign keys, triggers, materialized view data: after the rows, `jobs` at once. */
export function restorePostData(targetUrl: string, dump: SchemaDump, jobs: number, options: ToolRun): Promise<void> {
  return run('pg_restore', [...RESTORE, '--section=post-data', `--jobs=${jobs}`, '--dbname', databaseOf(targetUrl), dump.file],
    targetUrl, options, 'restoring indexes and constraints (post-data)');
}

/** The database name alone (no credentials) for --dbname; the rest comes from the environment. */
function databaseOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  // A name with "=" would be read as a connection string.
  if (name === '' || name.includes('=')) throw new PgToolError('the target URL names no usable database');
  return name;
}
