// Opens the catalog database named by a URL: SQLite (embedded default) or PostgreSQL.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { StoreError } from './errors.js';
import { migrateToLatest } from './migrations/index.js';
import type { CatalogTables } from './schema.js';

export type CatalogDialect = 'sqlite' | 'postgres';

export type CatalogLocation =
  | { dialect: 'sqlite'; filename: string }
  | { dialect: 'postgres'; connectionString: string };

export interface CatalogDatabase {
  db: Kysely<CatalogTables>;
  dialect: CatalogDialect;
  close(): Promise<void>;
}

/**
 * `sqlite:///abs/path.db`, `sqlite:relative/path.db`, `sqlite::memory:`,
 * `postgres://user:pass@host:port/db` (or `postgresql://`). Errors never echo the URL: it can
 * hold a password.
 */
export function parseCatalogUrl(url: string): CatalogLocation {
  if (url === 'sqlite::memory:') return { dialect: 'sqlite', filename: ':memory:' };
  if (url.startsWith('sqlite://')) {
    const parsed = new URL(url);
    if (parsed.host !== '') throw new StoreError('catalog URL: write sqlite:///absolute/path.db (three slashes)', 'invalid');
    return { dialect: 'sqlite', filename: decodeURIComponent(parsed.pathname) };
  }
  if (url.startsWith('sqlite:')) {
    const filename = url.slice('sqlite:'.length);
    if (filename === '') throw new StoreError('catalog URL: sqlite: needs a file path', 'invalid');
    return { dialect: 'sqlite', filename };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return { dialect: 'postgres', connectionString: url };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  throw new StoreError(`catalog URL: unsupported scheme ${scheme ? `"${scheme}"` : '(none)'}; use sqlite: or postgres:`, 'invalid');
}

export interface OpenOptions {
  /** Apply pending migrations (idempotent). Default true. */
  migrate?: boolean;
}

export async function openCatalogDatabase(url: string, options: OpenOptions = {}): Promise<CatalogDatabase> {
  const location = parseCatalogUrl(url);
  const db = location.dialect === 'sqlite' ? openSqlite(location.filename) : openPostgres(location.connectionString);
  const handle: CatalogDatabase = { db, dialect: location.dialect, close: () => db.destroy() };
  if (options.migrate !== false) {
    try {
      await migrateToLatest(db);
    } catch (error) {
      await db.destroy();
      throw error;
    }
  }
  return handle;
}

function openSqlite(filename: string): Kysely<CatalogTables> {
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  const database = new Database(filename);
  // WAL lets the API read while the worker writes; busy_timeout waits out the other writer
  // instead of failing at once. Foreign keys are off by default in SQLite.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  return new Kysely<CatalogTables>({ dialect: new SqliteDialect({ database }) });
}

function openPostgres(connectionString: string): Kysely<CatalogTables> {
  const pool = new pg.Pool({ connectionString, max: 10 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return new Kysely<CatalogTables>({ dialect: new PostgresDialect({ pool }) });
}
