// What an admin of a cluster decides about what runs on it (domain/placement.ts): tiers it
// accepts beyond its `tier` label's, and existing namespaces Flotilla may adopt. JSON arrays,
// empty for clusters registered before: nothing is grandfathered, so an environment whose tier
// its cluster's label does not name is refused until an admin allows that tier.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clusters').addColumn('allowed_tiers', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  await db.schema.alterTable('clusters').addColumn('adoptable_namespaces', 'text', (c) => c.notNull().defaultTo('[]')).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clusters').dropColumn('adoptable_namespaces').execute();
  await db.schema.alterTable('clusters').dropColumn('allowed_tiers').execute();
}
