// Migrations are listed in code (no folder scan), so bundlers and tsx see the same set.
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { Migrator } from 'kysely';
import { StoreError } from '../errors.js';
import * as initial from './0001-initial.js';
import * as idempotency from './0002-idempotency.js';
import * as changeControl from './0003-change-control.js';
import * as tokenOwners from './0004-token-owners.js';
import * as clusterPlacement from './0005-cluster-placement.js';
import * as clones from './0006-clones.js';
import * as drillReports from './0007-drill-reports.js';
import * as observer from './0008-observer.js';
import * as lifecycle from './0009-lifecycle.js';
import * as chartRenders from './0010-chart-renders.js';

const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-idempotency': idempotency,
  '0003-change-control': changeControl,
  '0004-token-owners': tokenOwners,
  '0005-cluster-placement': clusterPlacement,
  '0006-clones': clones,
  '0007-drill-reports': drillReports,
  '0008-observer': observer,
  '0009-lifecycle': lifecycle,
  '0010-chart-renders': chartRenders,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};

/** Applies every pending migration; a no-op when the schema is current. */
// Migrations see the schema as it was when written, not today's CatalogTables: hence `any`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  // Kysely's own bookkeeping tables get a flotilla prefix: the database may be shared.
  const migrator = new Migrator({
    db,
    provider: migrationProvider,
    migrationTableName: 'flotilla_migration',
    migrationLockTableName: 'flotilla_migration_lock',
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    // Migration errors carry DDL only, never stored values, so their message is kept.
    throw new StoreError(`catalog migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, 'migration');
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
