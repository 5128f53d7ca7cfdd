// A real PostgreSQL for tests: FLOTILLA_TEST_POSTGRES_URL when set, else a throwaway server
// started by scripts/postgres.sh. Never skips: no PostgreSQL is a test failure.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../../scripts/postgres.sh');

export interface TestPostgres {
  /** A URL whose user may create databases. */
  url: string;
  stop(): Promise<void>;
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const given = process.env.FLOTILLA_TEST_POSTGRES_URL;
  if (given) return { url: given, stop: () => Promise.resolve() };
  // Under /tmp, not $TMPDIR: the server runs as another user, who must reach the folder.
  const dir = mkdtempSync('/tmp/flotilla-pg-');
  let url: string;
  try {
    // Generous timeout: the first run may apt-get install the server.
    const { stdout } = await run('bash', [SCRIPT, 'start', dir], { timeout: 600_000 });
    url = stdout.trim().split('\n').pop() ?? '';
  } catch (error) {
    const detail = error && typeof error === 'object' && 'stderr' in error ? String(error.stderr) : String(error);
    throw new Error(`PostgreSQL is required for these tests and could not be started (${SCRIPT}):\n${detail}`);
  }
  if (!url.startsWith('postgres://')) throw new Error(`${SCRIPT} printed no postgres:// URL`);
  return { url, stop: async () => { await run('bash', [SCRIPT, 'stop', dir], { timeout: 60_000 }); } };
}

/** A fresh, empty database on the server, so runs never see each other's rows. */
export async function createTestDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `flotilla_test_${randomBytes(6).toString('hex')}`;
  await admin(serverUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

async function admin(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

