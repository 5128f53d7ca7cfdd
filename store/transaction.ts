import type { Kysely } from 'kysely';
import type { CatalogTables } from './schema.js';

export type CatalogDb = Kysely<CatalogTables>;

/**
 * Runs `fn` in a transaction, or inside the caller's when `db` already is one: repositories
 * use this for their own multi-row writes and still compose into a larger unit of work.
 */
export function inTransaction<T>(db: CatalogDb, fn: (trx: CatalogDb) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}
