// Helm charts (issue 14): what `helm template` printed for a chart digest, release, namespace and
// values, kept so deploys, the observer and the rules verdict read the same objects without
// rendering again; and chart archives and manifest bundles uploaded to Flotilla. Both
// content-addressed (keyed by a hash of what they hold): never updated.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('chart_renders')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('chart', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    // JSON: the objects, in the order Helm printed them.
    .addColumn('objects', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createTable('uploads')
    .addColumn('digest', 'text', (c) => c.primaryKey())
    // chart (a .tgz, base64) or bundle (JSON: the documents).
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('uploads').execute();
  await db.schema.dropTable('chart_renders').execute();
}
