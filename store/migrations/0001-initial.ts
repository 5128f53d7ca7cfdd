// The first schema. Portable types only (text, integer), so one migration serves SQLite and
// PostgreSQL alike; see ../schema.ts for what each column holds.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('clusters')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('region', 'text')
    .addColumn('labels', 'text', (c) => c.notNull())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_message', 'text')
    .addColumn('version', 'text')
    .addColumn('capacity', 'text')
    .addColumn('generation', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema.createTable('revisions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('spec', 'text', (c) => c.notNull())
    .addColumn('author', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema.createTable('environments')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('application', 'text', (c) => c.notNull())
    .addColumn('tier', 'text', (c) => c.notNull())
    .addColumn('residency', 'text')
    // An environment pins its cluster: offboarding waits until its environments are gone.
    .addColumn('cluster', 'text', (c) => c.notNull().references('clusters.name'))
    .addColumn('namespace', 'text', (c) => c.notNull())
    .addColumn('current_revision', 'text', (c) => c.references('revisions.id'))
    .addColumn('deployed_revision', 'text', (c) => c.references('revisions.id'))
    .addColumn('deployed_at', 'text')
    .addColumn('deployed_by', 'text')
    .addColumn('overrides', 'text', (c) => c.notNull())
    .addColumn('generation', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // Two environments in one namespace of one cluster would prune each other's objects.
  await db.schema.createIndex('environments_cluster_namespace').unique().on('environments').columns(['cluster', 'namespace']).execute();
  await db.schema.createIndex('environments_application').on('environments').column('application').execute();

  await db.schema.createTable('revision_history')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('environment', 'text', (c) => c.notNull().references('environments.name').onDelete('cascade'))
    .addColumn('revision', 'text', (c) => c.notNull().references('revisions.id'))
    .addColumn('author', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('operation_id', 'text')
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('revision_history_environment_at').on('revision_history').columns(['environment', 'at']).execute();

  await db.schema.createTable('rules_versions')
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('document', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema.createTable('tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('tiers', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  // Names are unique among live tokens; a revoked token's name can be reused.
  await db.schema.createIndex('tokens_live_name').unique().on('tokens').column('name').where(sql.ref('revoked_at'), 'is', null).execute();

  await db.schema.createTable('audit_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('operation_id', 'text')
    .addColumn('details', 'text')
    .execute();
  await db.schema.createIndex('audit_log_at').on('audit_log').columns(['at', 'id']).execute();
  await db.schema.createIndex('audit_log_actor_at').on('audit_log').columns(['actor', 'at']).execute();
  await db.schema.createIndex('audit_log_target_at').on('audit_log').columns(['target', 'at']).execute();

  await db.schema.createTable('operations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text')
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('operations_started_at').on('operations').columns(['started_at', 'id']).execute();

  await db.schema.createTable('operation_subjects')
    .addColumn('operation_id', 'text', (c) => c.notNull().references('operations.id').onDelete('cascade'))
    .addColumn('subject_kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('operation_subjects_pk', ['operation_id', 'subject_kind', 'name'])
    .execute();
  await db.schema.createIndex('operation_subjects_name').on('operation_subjects').columns(['subject_kind', 'name']).execute();

  await db.schema.createTable('secrets')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    .addColumn('iv', 'text', (c) => c.notNull())
    .addColumn('tag', 'text', (c) => c.notNull())
    .addColumn('wrapped_key', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('secrets_pk', ['scope', 'name'])
    .execute();

  await db.schema.createTable('service_status')
    .addColumn('environment', 'text', (c) => c.notNull().references('environments.name').onDelete('cascade'))
    .addColumn('service', 'text', (c) => c.notNull())
    .addColumn('ready_replicas', 'integer', (c) => c.notNull())
    .addColumn('desired_replicas', 'integer', (c) => c.notNull())
    .addColumn('health', 'text', (c) => c.notNull())
    .addColumn('revision', 'text')
    .addColumn('drift', 'integer', (c) => c.notNull())
    .addColumn('observed_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('service_status_pk', ['environment', 'service'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['service_status', 'secrets', 'operation_subjects', 'operations', 'audit_log', 'tokens', 'rules_versions', 'revision_history', 'environments', 'revisions', 'clusters']) {
    await db.schema.dropTable(table).execute();
  }
}
