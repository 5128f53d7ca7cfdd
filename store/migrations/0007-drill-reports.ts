// DR drill reports (domain/drill.ts): one row per drill, kept for the RTO trend per environment.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('drill_reports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('clone', 'text', (c) => c.notNull())
    .addColumn('cluster', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('rto_seconds', 'real')
    .addColumn('rpo_seconds', 'real')
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text', (c) => c.notNull())
    .addColumn('report', 'text', (c) => c.notNull())
    .addColumn('markdown', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('drill_reports_by_source').on('drill_reports').columns(['source', 'started_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('drill_reports').execute();
}
