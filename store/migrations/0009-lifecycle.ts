// Environment lifecycle (issue 13): Applications written once (environments track them or
// change by promotion), and what a stopped environment ran (restored exactly on start).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('applications')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('current_revision', 'text', (c) => c.notNull().references('revisions.id'))
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('generation', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // inline (its own app, as before), track or promotion (domain/environment.ts).
  await db.schema.alterTable('environments').addColumn('updates', 'text', (c) => c.notNull().defaultTo('inline')).execute();
  // JSON: when and by whom it was stopped, and the replicas each workload had.
  await db.schema.alterTable('environments').addColumn('stopped', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('environments').dropColumn('stopped').execute();
  await db.schema.alterTable('environments').dropColumn('updates').execute();
  await db.schema.dropTable('applications').execute();
}
