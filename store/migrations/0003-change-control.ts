// What one change at a time per environment, reproducible deploys and operation outcomes
// need: versioned overrides (a deploy pins the version it used), a lock per environment held
// by the operation changing it, and the outcome of an operation beside its state.
// Portable types only, like 0001.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('overrides_versions')
    .addColumn('environment', 'text', (c) => c.notNull().references('environments.name').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('overrides', 'text', (c) => c.notNull())
    .addColumn('author', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('overrides_versions_pk', ['environment', 'version'])
    .execute();
  await db.schema.alterTable('environments').addColumn('overrides_version', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('environments').addColumn('deployed_overrides_version', 'integer').execute();
  await db.schema.alterTable('revision_history').addColumn('overrides_version', 'integer').execute();
  // Every environment's overrides as they are today become its version 1; what is deployed
  // was deployed with them (the best that can be said of deploys from before versions).
  await sql`INSERT INTO overrides_versions (environment, version, overrides, author, created_at)
            SELECT name, 1, overrides, 'migration', updated_at FROM environments`.execute(db);
  await sql`UPDATE environments SET deployed_overrides_version = 1 WHERE deployed_revision IS NOT NULL`.execute(db);

  await db.schema.createTable('environment_locks')
    .addColumn('environment', 'text', (c) => c.primaryKey().references('environments.name').onDelete('cascade'))
    .addColumn('operation_id', 'text', (c) => c.notNull())
    .addColumn('acquired_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('environment_locks_operation').on('environment_locks').column('operation_id').execute();

  await db.schema.alterTable('operations').addColumn('outcome', 'text').execute();
  await db.schema.alterTable('operations').addColumn('message', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('operations').dropColumn('message').execute();
  await db.schema.alterTable('operations').dropColumn('outcome').execute();
  await db.schema.dropTable('environment_locks').execute();
  await db.schema.alterTable('revision_history').dropColumn('overrides_version').execute();
  await db.schema.alterTable('environments').dropColumn('deployed_overrides_version').execute();
  await db.schema.alterTable('environments').dropColumn('overrides_version').execute();
  await db.schema.dropTable('overrides_versions').execute();
}
