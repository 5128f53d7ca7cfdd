// The observer's state (issue 12): what it last saw of each cluster and environment, and which
// observer may write each cluster (a lease, so two observers never write the same cluster).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('service_status').addColumn('updated_replicas', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('service_status').addColumn('restarts', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('service_status').addColumn('details', 'text').execute();
  await db.schema.alterTable('service_status').addColumn('changed_at', 'text').execute();
  await db.schema.alterTable('environments').addColumn('drift_policy', 'text', (c) => c.notNull().defaultTo('report')).execute();
  await db.schema.createTable('environment_observations')
    .addColumn('environment', 'text', (c) => c.primaryKey().references('environments.name').onDelete('cascade'))
    .addColumn('cluster', 'text', (c) => c.notNull())
    .addColumn('health', 'text', (c) => c.notNull())
    .addColumn('revision', 'text')
    .addColumn('drift', 'text', (c) => c.notNull().defaultTo(sql`'[]'`))
    .addColumn('drift_since', 'text')
    .addColumn('observed_at', 'text', (c) => c.notNull())
    .addColumn('changed_at', 'text', (c) => c.notNull())
    .execute();
  // GET /v1/events asks for operations changed since its last look.
  await db.schema.createIndex('operations_updated_at').on('operations').columns(['updated_at', 'id']).execute();
  await db.schema.createTable('cluster_observations')
    .addColumn('cluster', 'text', (c) => c.primaryKey())
    .addColumn('reachable', 'integer', (c) => c.notNull())
    .addColumn('since', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text')
    .addColumn('message', 'text')
    .addColumn('observer', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createTable('observer_leases')
    .addColumn('cluster', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('observer_leases').execute();
  await db.schema.dropTable('cluster_observations').execute();
  await db.schema.dropIndex('operations_updated_at').execute();
  await db.schema.dropTable('environment_observations').execute();
  await db.schema.alterTable('environments').dropColumn('drift_policy').execute();
  for (const column of ['changed_at', 'details', 'restarts', 'updated_replicas']) {
    await db.schema.alterTable('service_status').dropColumn(column).execute();
  }
}
