// Clones (domain/clone.ts): one row per clone operation, kept after teardown so the history of
// previews, drills and compliance clones stays readable. The clone's environment itself is an
// ordinary row of `environments` while it exists.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('clones')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('source_revision', 'text', (c) => c.notNull())
    .addColumn('cluster', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('data_plan', 'text', (c) => c.notNull())
    .addColumn('data_result', 'text')
    .addColumn('message', 'text')
    .addColumn('ttl_seconds', 'integer')
    .addColumn('expires_at', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('clones_by_name').on('clones').columns(['name', 'created_at']).execute();
  await db.schema.createIndex('clones_by_source').on('clones').columns(['source', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('clones').execute();
}
