// CatalogDatabaseConnector (providers/databases/catalog-connector.ts) with a real catalog, a
// real PostgreSQL and, for a container database, a real deploy to a local cluster:
//   - external: the connection string from the environment's catalog secret; a query through it;
//   - container: the environment deployed by the real deploy workflow, its StatefulSet's pod
//     simulated by KWOK and forwarded (test/support/container-database.ts) to the test server:
//     the connector's route goes through the API server as Flotilla's agent, logs in as
//     `postgres` with the password the catalog holds, and reads and writes the rows the test
//     checks with its own direct connection;
//   - what it refuses, each with a typed error that names no secret: unknown environment or
//     database, a non-PostgreSQL engine, a missing or malformed connection secret.
import { type Client } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clusterClients } from '../../activities/cluster-client.js';
import type { AppSpecInput } from '../../domain/environment.js';
import { CatalogDatabaseConnector, DatabaseConnectError, UnsupportedDatabaseEngineError } from '../../providers/databases/catalog-connector.js';
import { classifyError } from '../../providers/kubernetes/errors.js';
import { createEnvironment } from '../../store/changes.js';
import { environmentScope } from '../../store/secrets.js';
import { activityDeps } from '../../worker/deps.js';
import { runFlotillaWorker, type RunningWorker } from '../../worker/worker.js';
import { deployEnvironment } from '../../workflows/deploy-environment.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { containerDatabase, type ContainerDatabase } from '../support/container-database.js';
import { kubectlJson } from '../support/kubectl.js';
import { createTestDatabase, startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';

const toolchain = inject('toolchain');
const cluster = inject('clusters')[1]!;
const run = Math.random().toString(36).slice(2, 7);
const taskQueue = `db-connector-${run}`;
const external = `legacy-${run}`;
const container = `orders-${run}`;
const DB = `orders-db-${run}`; // its database: StatefulSet DB, pod DB-0, PostgreSQL database orders_db_RUN

const spec = (databases: AppSpecInput['databases'], secrets: string[] = []): AppSpecInput => ({
  services: [{ name: 'web', image: 'ghcr.io/acme/web:1.0.0', ports: [{ port: 8080 }], replicas: 1, dependsOn: (databases ?? []).map((d) => d.name) }],
  databases,
  secrets,
});

async function query<T = Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('CatalogDatabaseConnector', () => {
  let server: TestPostgres;
  let legacy: { url: string; drop(): Promise<void> };
  let orders: ContainerDatabase;
  let tc: TestCatalog;
  let connector: CatalogDatabaseConnector;
  let client: Client;
  let worker: RunningWorker;

  beforeAll(async () => {
    server = await startTestPostgres();
    tc = await testCatalog([cluster]);
    const deps = activityDeps({ catalog: tc.catalog, adapters: {} });
    connector = new CatalogDatabaseConnector({ catalog: tc.catalog, agentClient: clusterClients(deps).agentClient });

    // An external database: its URL in the environment's secret LEGACY_DB_URL.
    legacy = await createTestDatabase(server.url);
    await query(legacy.url, "CREATE TABLE customers AS SELECT i AS id, 'customer ' || i AS name FROM generate_series(1, 250) i");
    await createEnvironment(tc.catalog, {
      binding: { name: external, application: 'legacy', tier: 'staging', cluster: cluster.name, namespace: external },
      spec: spec([
        { name: 'legacy-db', mode: 'external', engine: 'postgres', connectionSecret: 'LEGACY_DB_URL' },
        { name: 'cache', mode: 'external', engine: 'redis', connectionSecret: 'CACHE_URL' },
        { name: 'broken-db', mode: 'external', engine: 'postgres', connectionSecret: 'BROKEN_DB_URL' },
        { name: 'unset-db', mode: 'external', engine: 'postgres', connectionSecret: 'UNSET_DB_URL' },
      ], ['LEGACY_DB_URL', 'CACHE_URL', 'BROKEN_DB_URL', 'UNSET_DB_URL']),
      author: 'alice',
    });
    await tc.catalog.secrets.put(environmentScope(external), 'LEGACY_DB_URL', legacy.url);
    await tc.catalog.secrets.put(environmentScope(external), 'CACHE_URL', 'redis://:cache-secret-value@127.0.0.1:6379');
    await tc.catalog.secrets.put(environmentScope(external), 'BROKEN_DB_URL', 'mysql://root:broken-secret-value@db.example.com/app');

    // A container database, deployed: the password secret and the forward are set before the deploy.
    await createEnvironment(tc.catalog, {
      binding: { name: container, application: 'orders', tier: 'staging', cluster: cluster.name, namespace: container },
      spec: spec([{ name: DB, mode: 'container', engine: 'postgres', version: '16.4', storage: '1Gi' }]),
      author: 'alice',
    });
    orders = await containerDatabase({
      catalog: tc.catalog, environment: container, database: DB, serverUrl: server.url, kubectl: toolchain.kubectl, kubeconfigPath: cluster.kubeconfigPath,
    });
    await query(orders.directUrl, "CREATE TABLE orders (id int PRIMARY KEY, email text NOT NULL); INSERT INTO orders SELECT i, 'buyer' || i || '@example.com' FROM generate_series(1, 400) i");
    client = await tierClient();
    worker = await runFlotillaWorker({ address: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue, deps, workflowBundle: tierWorkflowBundle() });
    await client.workflow.execute(deployEnvironment, { taskQueue, workflowId: `deploy-${container}`, args: [{ environment: container, requestedBy: 'alice', rolloutTimeoutSeconds: 120 }] });
  });
  afterAll(async () => {
    await worker?.stop();
    await client?.connection.close();
    await tc?.close();
    await orders?.drop();
    await legacy?.drop();
    await server?.stop();
  });

  it('external: opens the connection string of the environment\'s secret', async () => {
    const endpoint = await connector.open(external, 'legacy-db');
    try {
      expect(endpoint.url).toBe(legacy.url);
      const database = new URL(legacy.url).pathname;
      expect(endpoint.describe).toBe(`external legacy-db of environment ${external} (127.0.0.1:${new URL(legacy.url).port}${database})`);
      expect(await query(endpoint.url, 'SELECT count(*)::int AS n FROM customers')).toEqual([{ n: 250 }]);
    } finally {
      await endpoint.close();
    }
  });

  it('container: through the API server to the deployed StatefulSet\'s pod, logged in as postgres with the catalog\'s password', async () => {
    // What the deploy made, by kubectl: the StatefulSet's pod runs, and its password is the one set before.
    const pod = await kubectlJson<{ status: { phase: string } }>(toolchain.kubectl, cluster.kubeconfigPath, ['get', 'pod', orders.pod, '-n', container]);
    expect(pod.status.phase).toBe('Running');
    const secret = await kubectlJson<{ data: { password: string } }>(toolchain.kubectl, cluster.kubeconfigPath, ['get', 'secret', `${DB}-credentials`, '-n', container]);
    expect(Buffer.from(secret.data.password, 'base64').toString()).toBe(orders.password);

    const endpoint = await connector.open(container, DB);
    const local = new URL(endpoint.url);
    try {
      expect(endpoint.describe).toBe(`container ${DB} of environment ${container} in cluster ${cluster.name}, namespace ${container} (pod ${orders.pod}, via port-forward)`);
      expect(endpoint.describe).not.toContain(orders.password);
      expect(local.hostname).toBe('127.0.0.1');
      expect(local.port).not.toBe(new URL(server.url).port); // a local listener, not the server
      expect(local.username).toBe('postgres');
      expect(decodeURIComponent(local.password)).toBe(orders.password);
      expect(local.pathname).toBe(`/${orders.name}`);
      // Read through the route what the test wrote directly, and the other way round.
      const [row] = await query(endpoint.url, 'SELECT current_user AS who, current_database() AS db, count(*)::int AS n FROM orders');
      expect(row).toEqual({ who: 'postgres', db: orders.name, n: 400 });
      await query(endpoint.url, "INSERT INTO orders VALUES (401, 'late@example.com')");
      expect(await query(orders.directUrl, 'SELECT email FROM orders WHERE id = 401')).toEqual([{ email: 'late@example.com' }]);
    } finally {
      await endpoint.close();
    }
    // Closed: the local port no longer answers.
    const after = await query(endpoint.url, 'SELECT 1').then(() => 'connected', (e: NodeJS.ErrnoException) => e.code);
    expect(after).toBe('ECONNREFUSED');
  });

  it('container: closing the route ends the server sessions its clients left open', async () => {
    const endpoint = await connector.open(container, DB);
    const session = new URL(endpoint.url).searchParams.get('application_name')!;
    expect(session).toMatch(/^flotilla-[0-9a-f]{12}$/);
    const abandoned = new pg.Client({ connectionString: endpoint.url });
    abandoned.on('error', () => {});
    await abandoned.connect();
    await abandoned.query('BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE'); // what a retry would wait on
    const sessions = async () => (await query<{ n: number }>(orders.directUrl, 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [session]))[0]!.n;
    expect(await sessions()).toBe(1);
    await endpoint.close();
    expect(await sessions()).toBe(0);
    // The lock went with it: the table answers at once.
    const check = new pg.Client({ connectionString: orders.directUrl });
    await check.connect();
    try {
      await check.query("SET lock_timeout = '2s'");
      expect((await check.query('SELECT count(*)::int AS n FROM orders')).rows).toEqual([{ n: 401 }]);
    } finally {
      await check.end();
    }
  });

  it('refuses with typed errors that name no secret', async () => {
    const failure = (environment: string, database: string) => connector.open(environment, database).then(() => undefined, (e: unknown) => e as Error);

    const redis = await failure(external, 'cache');
    expect(redis).toBeInstanceOf(UnsupportedDatabaseEngineError);
    expect(redis!.message).toBe(`database "cache" of environment "${external}" is redis: data copy supports PostgreSQL only`);
    expect(classifyError(redis)).toMatchObject({ retryable: false, reason: 'UnsupportedDatabaseEngine' });

    const cases: [string, string, string, RegExp][] = [
      [`nowhere-${run}`, 'legacy-db', 'EnvironmentNotFound', /environment "nowhere-.*" is not in the catalog/],
      [external, 'orders-db', 'DatabaseNotFound', /has no database "orders-db" \(revision [0-9a-f]+ has: broken-db, cache, legacy-db, unset-db\)/],
      [external, 'broken-db', 'InvalidConnectionSecret', /secret BROKEN_DB_URL of environment ".*" is a mysql URL, not postgres:\/\//],
      [external, 'unset-db', 'SecretMissing', /the environment has no secret UNSET_DB_URL/],
    ];
    for (const [environment, database, reason, message] of cases) {
      const error = await failure(environment, database);
      expect(error, `${environment}/${database}`).toBeInstanceOf(DatabaseConnectError);
      expect(error!.message).toMatch(message);
      expect(classifyError(error)).toMatchObject({ retryable: false, reason });
      expect(error!.message).not.toMatch(/secret-value|flotilla:flotilla/);
    }
  });

  it('a wrong database name behind the route fails the login check, named and without the password', async () => {
    const wrong = new URL(server.url);
    wrong.pathname = '/no_such_database';
    await tc.catalog.secrets.put(environmentScope(external), 'UNSET_DB_URL', wrong.toString());
    const error = await connector.open(external, 'unset-db').then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(DatabaseConnectError);
    expect(classifyError(error)).toMatchObject({ retryable: false, reason: 'DatabaseLoginFailed' });
    expect(error!.message).toMatch(/external database "unset-db" of environment ".*": login refused \(3D000\): database "no_such_database" does not exist/);
    expect(error!.message).not.toContain('flotilla:flotilla');
  });
});
