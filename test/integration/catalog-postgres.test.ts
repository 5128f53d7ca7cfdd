// The catalog suite on a real PostgreSQL server (FLOTILLA_TEST_POSTGRES_URL, or one started by
// scripts/postgres.sh), one fresh database per run.
import { sql } from 'kysely';
import { createTestDatabase, startTestPostgres } from '../support/postgres.js';
import { catalogSuite } from '../store/catalog.suite.js';

catalogSuite('postgres', async () => {
  const server = await startTestPostgres();
  const databases: { drop(): Promise<void> }[] = [];
  return {
    async newUrl() {
      const database = await createTestDatabase(server.url);
      databases.push(database);
      return database.url;
    },
    // Every column of every row, as the server renders it as text.
    async rawSecrets(_url, catalog) {
      const { rows } = await sql<{ row: string }>`select s::text as row from secrets s`.execute(catalog.db);
      return rows.map((r) => r.row).join('\n');
    },
    async teardown() {
      for (const database of databases) await database.drop();
      await server.stop();
    },
  };
});
