// Every token stands for an owner (a person or a service), which may hold several tokens;
// four eyes and the audit log compare owners. Tokens expire. Tokens made before this belong to
// an owner of their own name and do not expire until revoked.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('tokens').addColumn('owner', 'text').execute();
  await db.schema.alterTable('tokens').addColumn('expires_at', 'text').execute();
  await sql`UPDATE tokens SET owner = name WHERE owner IS NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('tokens').dropColumn('expires_at').execute();
  await db.schema.alterTable('tokens').dropColumn('owner').execute();
}
