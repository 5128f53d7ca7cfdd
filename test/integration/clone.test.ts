// Clones end to end: the API and an in-process worker on the real dev server, the source on one
// real cluster and the clones on the other, and real PostgreSQL servers playing each
// environment's databases — the container one reached through the clusters' API servers (a
// port-forward to its simulated pod), the external one by its connection secret. kubectl and
// psql (the binaries, not Flotilla's code) are the checks: a `snapshot` clone's objects match the
// source's revision plus its overrides, object by object, and its databases hold the source's
// rows (equal counts and checksums per table); a `scrubbed` clone holds no source e-mail, name or
// phone in any text column, while every foreign key resolves and unique constraints hold; a
// policy that names a missing column refuses the clone with nothing made or copied; a TTL clone
// disappears on time.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AppSpecInput } from '../../domain/environment.js';
import { forwardPod, unforwardPod } from '../../local/fleet.js';
import { FAULT_IMAGES } from '../../local/kwok-faults.js';
import { findPgBin } from '../../providers/postgres/binaries.js';
import { changeSpec, createEnvironment } from '../../store/changes.js';
import { environmentScope } from '../../store/secrets.js';
import { activityDeps } from '../../worker/deps.js';
import { runFlotillaWorker, type RunningWorker } from '../../worker/worker.js';
import { deployEnvironment } from '../../workflows/deploy-environment.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { containerDatabase, type ContainerDatabase } from '../support/container-database.js';
import { kubectl, kubectlJson } from '../support/kubectl.js';
import { startLiveApi, type LiveApi, until } from '../support/live-api.js';
import { createTestDatabase, startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';
import { tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';

const exec = promisify(execFile);
const toolchain = inject('toolchain');
type Cluster = ReturnType<typeof inject<'clusters'>>[number];
// Both also take the tiers clones run in (dr, preview), as an admin would allow.
const [a, b] = (inject('clusters') as Cluster[]).map((c) => ({ ...c, allowedTiers: [...c.allowedTiers, 'dr' as const, 'preview' as const] })) as [Cluster, Cluster];
const run = Math.random().toString(36).slice(2, 7);
const taskQueue = `clone-${run}`;
const src = `shop-src-${run}`;

/** Customers with e-mail, name and phone; orders that refer to them by e-mail (a foreign key), as both databases hold them. */
const SEED = `
  CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL UNIQUE, full_name text NOT NULL, phone text, city text);
  CREATE TABLE orders (id int PRIMARY KEY, customer_email text NOT NULL REFERENCES customers(email), amount numeric(10,2) NOT NULL, note text);
  INSERT INTO customers SELECT i, 'customer' || i || '@shop-example.com', 'Customer Number ' || i, '+1-202-555-' || lpad(i::text, 4, '0'), 'City ' || (i % 40)
    FROM generate_series(1, 3000) i;
  INSERT INTO orders SELECT i, 'customer' || (1 + i % 3000) || '@shop-example.com', (i % 500) + 0.99, 'order ' || i FROM generate_series(1, 9000) i;
`;
const POLICY = { tables: { customers: { email: 'email', full_name: 'name', phone: 'phone', city: 'keep' }, orders: { customer_email: 'email', note: 'redact' } } } as const;

function spec(policy: unknown = POLICY): AppSpecInput {
  return {
    services: ['web', 'api'].map((name) => ({
      name, image: `ghcr.io/acme/${name}:3.1.0`, ports: [{ port: 8080 }], replicas: 1,
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1', memory: '256Mi' } },
      env: { LOG_LEVEL: { config: 'log-level' } },
    })),
    databases: [
      { name: 'orders-db', mode: 'container', engine: 'postgres', version: '16.4', storage: '1Gi', dataPolicy: policy },
      { name: 'ledger', mode: 'external', engine: 'postgres', connectionSecret: 'LEDGER_URL', dataPolicy: policy },
    ],
    config: { 'log-level': 'info' },
    secrets: ['LEDGER_URL'],
  } as AppSpecInput;
}

async function sql<T = Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

/** psql, the binary: one value per line. The password goes by PGPASSWORD, so no failure shows it. */
async function psql(url: string, query: string): Promise<string[]> {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  const { stdout } = await exec(join(findPgBin(), 'psql'), [parsed.toString(), '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', query], {
    env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) },
  });
  return stdout.split('\n').filter((l) => l !== '');
}

/** Per table: its row count and an order-independent checksum of its rows, by psql. */
async function tableDigests(url: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of await psql(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1")) {
    const [digest] = await psql(url, `SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM "${table}" t`);
    out[table] = digest!;
  }
  return out;
}

/** A database on `server` for a clone's container database: role postgres, database orders_db, and the forward to it. */
async function cloneContainerDb(server: TestPostgres, cluster: Cluster, environment: string): Promise<{ password: string; directUrl: string; close(): Promise<void> }> {
  const password = `clone-pg-${randomBytes(9).toString('base64url')}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    await admin.query(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'postgres') THEN CREATE ROLE postgres LOGIN SUPERUSER; END IF; END $$`);
    await admin.query(`ALTER ROLE postgres PASSWORD ${admin.escapeLiteral(password)}`);
    await admin.query('CREATE DATABASE orders_db OWNER postgres');
  } finally {
    await admin.end();
  }
  const url = new URL(server.url);
  await forwardPod(toolchain.kubectl, cluster.kubeconfigPath, { namespace: environment, pod: 'orders-db-0', ports: [5432], target: { address: url.hostname, port: Number(url.port) } });
  url.username = 'postgres';
  url.password = password;
  url.pathname = '/orders_db';
  return { password, directUrl: url.toString(), close: () => unforwardPod(toolchain.kubectl, cluster.kubeconfigPath, { namespace: environment, pod: 'orders-db-0' }) };
}

interface Op { state: string; outcome?: string; message?: string }

describe('clones with their data', () => {
  let tc: TestCatalog;
  let client: Client;
  let worker: RunningWorker;
  let api: LiveApi;
  let token: string;
  let servers: TestPostgres[];
  let orders: ContainerDatabase;
  let ledger: { url: string; drop(): Promise<void> };
  const cleanups: (() => Promise<unknown>)[] = [];
  // The tests that SIGKILL a worker share one worker process (started early: it takes a while),
  // on a task queue of its own, with an API that starts work there; each kill starts the next.
  const killQueue = `clone-kill-${run}`;
  let killEnv: Record<string, string>;
  let killWorker: WorkerProcess | undefined;
  let killApi: LiveApi;
  /** SIGKILLs the worker process, as a crash would, and starts the next one. */
  async function killAndRestartWorker(): Promise<void> {
    await killWorker!.kill('SIGKILL');
    killWorker = startWorkerProcess(killEnv);
    await killWorker.ready;
  }

  beforeAll(async () => {
    servers = await Promise.all([startTestPostgres(), startTestPostgres(), startTestPostgres()]);
    tc = await testCatalog([a, b]);
    killEnv = {
      TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      FLOTILLA_TASK_QUEUE: killQueue, FLOTILLA_CATALOG_URL: tc.url, FLOTILLA_MASTER_KEY: tc.masterKey,
    };
    killWorker = startWorkerProcess(killEnv);
    // Awaited by the tests that use it; a start that fails shows there.
    killWorker.ready.catch(() => undefined);
    client = await tierClient();
    worker = await runFlotillaWorker({ address: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue, deps: activityDeps({ catalog: tc.catalog, adapters: {} }), workflowBundle: tierWorkflowBundle() });
    api = await startLiveApi(tc.catalog, client, taskQueue);
    killApi = await startLiveApi(tc.catalog, client, killQueue);
    token = (await tc.catalog.tokens.create({ name: 'sre', role: 'release-manager' })).token;

    await createEnvironment(tc.catalog, { binding: { name: src, application: 'shop', tier: 'staging', cluster: a.name, namespace: src }, spec: spec(), author: 'setup' });
    orders = await containerDatabase({ catalog: tc.catalog, environment: src, database: 'orders-db', serverUrl: servers[0]!.url, kubectl: toolchain.kubectl, kubeconfigPath: a.kubeconfigPath });
    ledger = await createTestDatabase(servers[0]!.url);
    await tc.catalog.secrets.put(environmentScope(src), 'LEDGER_URL', ledger.url);
    await sql(orders.directUrl, SEED);
    await sql(ledger.url, SEED);
    await client.workflow.execute(deployEnvironment, { taskQueue, workflowId: `deploy-${src}`, args: [{ environment: src, requestedBy: 'setup', rolloutTimeoutSeconds: 120 }] });
  });
  afterAll(async () => {
    for (const clean of cleanups.reverse()) await clean().catch(() => undefined);
    await api?.close();
    await killApi?.close();
    await killWorker?.kill();
    await worker?.stop();
    await client?.connection.close();
    await orders?.drop().catch(() => undefined);
    await ledger?.drop().catch(() => undefined);
    await tc?.close();
    for (const server of servers ?? []) await server.stop().catch(() => undefined);
  });

  async function cloneTo(body: Record<string, unknown>): Promise<{ id: string; op: Op }> {
    const res = await api.request<{ operationId: string }>('POST', '/v1/clones', { token, body: { source: src, cluster: b.name, tier: 'dr', purpose: 'drill', ...body } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const id = res.body.operationId;
    let op: Op | undefined;
    await until(`${id} to end`, async () => {
      op = (await api.request<Op>('GET', `/v1/operations/${id}`, { token })).body;
      return op.state === 'completed' || op.state === 'failed';
    }, 300_000);
    return { id, op: op! };
  }

  it('snapshot: the clone\'s objects are the source revision plus its overrides, and both databases hold the source\'s rows', async () => {
    const name = `shop-snap-${run}`;
    const db = await cloneContainerDb(servers[1]!, b, name);
    cleanups.push(db.close);
    const target = await createTestDatabase(servers[1]!.url);
    cleanups.push(target.drop);
    const { id, op } = await cloneTo({ name, overrides: { replicas: { web: 2 } }, data: { 'orders-db': 'snapshot', ledger: 'snapshot' }, secrets: { ORDERS_DB_PASSWORD: db.password, LEDGER_URL: target.url } });
    expect(op, op.message).toMatchObject({ state: 'completed', outcome: 'completed' });
    const clone = (await api.request<{ state: string; dataResult: { database: string; rows: number }[] }>('GET', `/v1/clones/${id}`, { token })).body;
    expect(clone.state).toBe('ready');
    expect(clone.dataResult.map((d) => [d.database, d.rows]).sort()).toEqual([['ledger', 12000], ['orders-db', 12000]]);

    // Object by object (kubectl on each cluster): the same kinds and names, images, config; web's replicas the override.
    type Obj = { kind: string; metadata: { name: string }; spec?: { replicas?: number; template?: { spec?: { containers?: { image: string; env?: unknown[] }[] } } }; data?: Record<string, string> };
    const objects = async (cluster: Cluster, ns: string) =>
      (await kubectlJson<{ items: Obj[] }>(toolchain.kubectl, cluster.kubeconfigPath, ['get', 'deployments,statefulsets,services,configmaps', '-n', ns, '-l', 'app.kubernetes.io/managed-by=flotilla'])).items;
    const shape = (o: Obj) => ({ kind: o.kind, name: o.metadata.name, replicas: o.spec?.replicas, images: o.spec?.template?.spec?.containers?.map((c) => c.image), data: o.data });
    const source = (await objects(a, src)).map(shape).sort((x, y) => `${x.kind}/${x.name}`.localeCompare(`${y.kind}/${y.name}`));
    const cloned = (await objects(b, name)).map(shape).sort((x, y) => `${x.kind}/${x.name}`.localeCompare(`${y.kind}/${y.name}`));
    expect(source.length).toBeGreaterThanOrEqual(6);
    const expected = source.map((o) => (o.kind === 'Deployment' && o.name === 'web' ? { ...o, replicas: 2 } : o));
    expect(cloned).toEqual(expected);

    // The rows (psql, per table): equal counts and checksums, and the foreign key in place.
    expect(await tableDigests(db.directUrl)).toEqual(await tableDigests(orders.directUrl));
    expect(await tableDigests(target.url)).toEqual(await tableDigests(ledger.url));
    expect(await psql(target.url, "SELECT conname FROM pg_constraint WHERE contype = 'f' AND convalidated")).toEqual(['orders_customer_email_fkey']);
  });

  it('scrubbed: no source e-mail, name or phone survives anywhere, every foreign key resolves and unique constraints hold', async () => {
    const name = `shop-scrub-${run}`;
    const db = await cloneContainerDb(servers[2]!, b, name);
    cleanups.push(db.close);
    const target = await createTestDatabase(servers[2]!.url);
    cleanups.push(target.drop);
    const { op } = await cloneTo({ name, data: { 'orders-db': 'scrubbed', ledger: 'scrubbed' }, secrets: { ORDERS_DB_PASSWORD: db.password, LEDGER_URL: target.url } });
    expect(op, op.message).toMatchObject({ state: 'completed', outcome: 'completed' });

    const personal = new Set((await psql(orders.directUrl, 'SELECT email FROM customers UNION ALL SELECT full_name FROM customers UNION ALL SELECT phone FROM customers')));
    expect(personal.size).toBe(9000);
    for (const url of [db.directUrl, target.url]) {
      // Every text column of every table, whatever the policy named.
      const columns = await psql(url, "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'character')");
      expect(columns.length).toBeGreaterThanOrEqual(6);
      for (const column of columns) {
        const [table, col] = column.split('.');
        const values = await psql(url, `SELECT "${col}" FROM "${table}" WHERE "${col}" IS NOT NULL`);
        expect(values.filter((v) => personal.has(v)), `${column} keeps source values`).toEqual([]);
      }
      expect(await psql(url, 'SELECT count(*) FROM orders o LEFT JOIN customers c ON c.email = o.customer_email WHERE c.email IS NULL')).toEqual(['0']);
      expect(await psql(url, 'SELECT count(*) = count(DISTINCT email) FROM customers')).toEqual(['t']);
      expect(await psql(url, "SELECT contype::text || ':' || conname FROM pg_constraint WHERE conrelid IN ('customers'::regclass, 'orders'::regclass) ORDER BY 1"))
        .toEqual(['f:orders_customer_email_fkey', 'p:customers_pkey', 'p:orders_pkey', 'u:customers_email_key']);
      expect(await psql(url, 'SELECT count(*) FROM orders')).toEqual(['9000']);
      // Not everything is masked: kept columns are the source's.
      expect(await psql(url, "SELECT count(*) FROM customers WHERE city LIKE 'City %'")).toEqual(['3000']);
    }
  });

  it('a policy naming a column the source lacks refuses the clone: nothing is created in the cluster and nothing is copied', async () => {
    const bad = await changeSpec(tc.catalog, src, spec({ tables: { customers: { mail: 'email' } } }), { author: 'alice' });
    const name = `shop-bad-${run}`;
    const target = await createTestDatabase(servers[1]!.url);
    cleanups.push(target.drop);
    const { id, op } = await cloneTo({ name, revision: bad.revision.id, data: { ledger: 'scrubbed' }, secrets: { LEDGER_URL: target.url } });
    expect(op).toMatchObject({ state: 'completed', outcome: 'rejected' });
    expect(op.message).toContain('mail');
    expect((await api.request<{ state: string }>('GET', `/v1/clones/${id}`, { token })).body.state).toBe('torn-down');
    await expect(kubectl(toolchain.kubectl, b.kubeconfigPath, ['get', 'namespace', name])).rejects.toThrow(/NotFound|not found/);
    expect(await psql(target.url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")).toEqual(['0']);
    expect(await tc.catalog.environments.get(name)).toBeUndefined();
  });

  it('a clone with a TTL disappears on time: its namespace, its environment, and its record says so', async () => {
    const name = `shop-ttl-${run}`;
    const { id, op } = await cloneTo({ name, purpose: 'preview', tier: 'preview', ttl: 20, secrets: { LEDGER_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    expect(op, op.message).toMatchObject({ outcome: 'completed' });
    const clone = (await api.request<{ expiresAt: string }>('GET', `/v1/clones/${id}`, { token })).body;
    await kubectl(toolchain.kubectl, b.kubeconfigPath, ['get', 'namespace', name]);
    await until(`${name} to be torn down`, async () => (await tc.catalog.clones.require(id)).state === 'torn-down', 180_000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(clone.expiresAt));
    await until(`namespace ${name} to go`, () => kubectl(toolchain.kubectl, b.kubeconfigPath, ['get', 'namespace', name]).then(() => false, () => true), 120_000);
    expect(await tc.catalog.environments.get(name)).toBeUndefined();
    const teardown = await client.workflow.getHandle(`teardown-${id}`).describe();
    expect(teardown.startTime.getTime()).toBeGreaterThanOrEqual(Date.parse(clone.expiresAt));
  });

  it('a DR drill: every phase timed, RTO and RPO against its objectives, the report kept, and the clone torn down', async () => {
    const server = await startTestPostgres();
    cleanups.push(() => server.stop());
    const name = `shop-drill-${run}`;
    const db = await cloneContainerDb(server, b, name);
    cleanups.push(db.close);
    const target = await createTestDatabase(server.url);
    cleanups.push(target.drop);
    const res = await api.request<{ operationId: string }>('POST', '/v1/drills', {
      token, body: { source: src, name, cluster: b.name, tier: 'dr', data: { 'orders-db': 'snapshot', ledger: 'scrubbed' }, objectives: { rtoSeconds: 1800, rpoSeconds: 900 }, secrets: { ORDERS_DB_PASSWORD: db.password, LEDGER_URL: target.url } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const id = res.body.operationId;
    await until(`${id} to end`, async () => (await api.request<Op>('GET', `/v1/operations/${id}`, { token })).body.state === 'completed', 300_000);
    type Report = { outcome: string; reason?: string; rtoSeconds: number; rpoSeconds: number; objectivesMet: { rto: boolean; rpo: boolean }; phases: { name: string; startedAt: string; finishedAt?: string }[]; checks: { name: string; ok: boolean }[]; tornDown: boolean; markdown: string };
    const report = (await api.request<Report>('GET', `/v1/drills/${id}`, { token })).body;
    expect(report, report.reason).toMatchObject({ outcome: 'passed', tornDown: true, objectivesMet: { rto: true, rpo: true } });
    expect(report.phases.map((p) => p.name)).toEqual([
      'clone: planning', 'clone: checking-data-policy', 'clone: creating-databases', 'clone: copying-data', 'clone: deploying', 'clone: ready', 'validating', 'tearing-down',
    ]);
    expect(report.phases.every((p) => p.finishedAt !== undefined && Date.parse(p.finishedAt) >= Date.parse(p.startedAt))).toBe(true);
    expect(report.rtoSeconds).toBeGreaterThan(0);
    expect(report.rpoSeconds).toBeGreaterThanOrEqual(0);
    expect(report.rpoSeconds).toBeLessThan(report.rtoSeconds);
    expect(report.checks.map((c) => [c.name.replace(/[0-9a-f]{12}$/, 'REV'), c.ok]).sort()).toEqual([
      ['live objects match revision REV', true], ['rows of ledger', true], ['rows of orders-db', true], ['workloads ready', true],
    ]);
    expect(report.markdown).toContain('| validating |');
    await until(`namespace ${name} to go`, () => kubectl(toolchain.kubectl, b.kubeconfigPath, ['get', 'namespace', name]).then(() => false, () => true), 120_000);
    expect(await psql(target.url, "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")).toEqual(['0']);
    const trend = (await api.request<{ trend: Record<string, { rtoSeconds?: number }[]> }>('GET', `/v1/drills?source=${src}`, { token })).body.trend[src]!;
    expect(trend.at(-1)!.rtoSeconds).toBe(report.rtoSeconds);
  });

  it('a DR drill whose validation fails (an HTTP check KWOK\'s pods cannot answer) still tears the clone down and says why', async () => {
    const name = `shop-drill-bad-${run}`;
    const res = await api.request<{ operationId: string }>('POST', '/v1/drills', {
      token, body: { source: src, name, cluster: b.name, tier: 'dr', http: [{ service: 'web', path: '/healthz', port: 8080 }], secrets: { LEDGER_URL: 'postgres://nobody@127.0.0.1:1/none' } },
    });
    expect(res.status).toBe(202);
    const id = res.body.operationId;
    await until(`${id} to end`, async () => (await api.request<Op>('GET', `/v1/operations/${id}`, { token })).body.state === 'completed', 300_000);
    const report = (await api.request<{ outcome: string; reason: string; tornDown: boolean }>('GET', `/v1/drills/${id}`, { token })).body;
    expect(report).toMatchObject({ outcome: 'failed', tornDown: true });
    expect(report.reason).toMatch(/^validation failed: GET web:8080\/healthz \(/);
    await until(`namespace ${name} to go`, () => kubectl(toolchain.kubectl, b.kubeconfigPath, ['get', 'namespace', name]).then(() => false, () => true), 120_000);
    expect(await tc.catalog.environments.get(name)).toBeUndefined();
  });

  it('a DR drill cancelled mid-way (stuck deploying, its data already copied) still tears the clone down and ends cancelled', async () => {
    // A revision whose web image can never be pulled (local/kwok/stages.yaml): the clone's rollout
    // waits in its deploying phase, after its ledger copy, until the drill is cancelled.
    const stuck = spec();
    stuck.services![0] = { ...stuck.services![0]!, image: FAULT_IMAGES.imagePull };
    const faulty = await changeSpec(tc.catalog, src, stuck, { author: 'alice' });
    const name = `shop-drill-cancel-${run}`;
    const target = await createTestDatabase(servers[1]!.url);
    cleanups.push(target.drop);
    const res = await api.request<{ operationId: string }>('POST', '/v1/drills', {
      token, body: { source: src, name, cluster: b.name, tier: 'dr', revision: faulty.revision.id, data: { ledger: 'snapshot' }, secrets: { LEDGER_URL: target.url } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const id = res.body.operationId;
    let cloneId: string | undefined;
    await until(`${id} to name its clone`, async () => {
      cloneId = (await api.request<{ cloneId?: string }>('GET', `/v1/drills/${id}`, { token })).body.cloneId;
      return cloneId !== undefined;
    }, 60_000);
    await until(`${cloneId} to be deploying`, async () => (await api.request<{ phase?: string }>('GET', `/v1/clones/${cloneId}`, { token })).body.phase === 'deploying', 120_000);
    // Mid-way, as kubectl and psql see it: the namespace is there, and so are the copied rows.
    await kubectl(toolchain.kubectl, b.kubeconfigPath, ['get', 'namespace', name]);
    expect(await psql(target.url, 'SELECT count(*) FROM orders')).toEqual(['9000']);
    expect((await api.request<{ state: string }>('GET', `/v1/drills/${id}`, { token })).body.state).toBe('running');

    const cancel = await api.request<{ operationId: string }>('POST', `/v1/operations/${id}/cancel`, { token, body: { reason: 'drill window closed' } });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(202);
    let op: Op | undefined;
    await until(`${id} to end`, async () => {
      op = (await api.request<Op>('GET', `/v1/operations/${id}`, { token })).body;
      return op.state !== 'running';
    }, 180_000);
    expect(op).toMatchObject({ state: 'completed', outcome: 'cancelled' });
    const report = (await api.request<{ outcome: string; reason?: string; tornDown: boolean; phases: { name: string }[] }>('GET', `/v1/drills/${id}`, { token })).body;
    expect(report, report.reason).toMatchObject({ outcome: 'cancelled', tornDown: true });
    expect(report.phases.map((p) => p.name)).toContain('clone: deploying');
    expect(report.phases.map((p) => p.name)).not.toContain('validating');
    expect((await api.request<{ state: string }>('GET', `/v1/clones/${cloneId}`, { token })).body.state).toBe('torn-down');
    await until(`namespace ${name} to go`, () => kubectl(toolchain.kubectl, b.kubeconfigPath, ['get', 'namespace', name]).then(() => false, () => true), 120_000);
    expect(await tc.catalog.environments.get(name)).toBeUndefined();
    expect(await psql(target.url, "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")).toEqual(['0']);
  });

  it('a DR drill whose worker is SIGKILLed mid-activity: a new worker finishes it and the clone is still torn down', async () => {
    const name = `shop-drill-kill-${run}`;
    const worker = killWorker!;
    await worker.ready;

    const res = await killApi.request<{ operationId: string }>('POST', '/v1/drills', {
      token, body: { source: src, name, cluster: b.name, tier: 'dr', secrets: { LEDGER_URL: 'postgres://nobody@127.0.0.1:1/none' } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const id = res.body.operationId;
    let cloneId: string | undefined;
    await until(`${id} to name its clone`, async () => {
      cloneId = (await killApi.request<{ cloneId?: string }>('GET', `/v1/drills/${id}`, { token })).body.cloneId;
      return cloneId !== undefined;
    }, 60_000);

    // Caught in the act: the worker frozen (SIGSTOP, so nothing it runs can finish), Temporal says
    // one of the clone's Kubernetes activities (15 s heartbeats) is running on it — then SIGKILL.
    const started = 2; // PENDING_ACTIVITY_STATE_STARTED
    const heartbeating = new Set(['applyRevision', 'waitForRevision']);
    const oldPid = worker.child.pid!;
    let caught: string | undefined;
    let killedAt = 0;
    await until('the worker to be caught running one of the clone\'s activities', async () => {
      worker.child.kill('SIGSTOP');
      try {
        await sleep(300);
        const pending = (await client.workflow.getHandle(cloneId!).describe().catch(() => undefined))?.raw.pendingActivities ?? [];
        const running = pending.find((p) => p.state === started && heartbeating.has(p.activityType?.name ?? ''));
        if (!running) return false;
        expect((await client.workflow.getHandle(id).describe()).status.name).toBe('RUNNING');
        caught = running.activityType!.name!;
        killedAt = Date.now();
        return true;
      } finally {
        if (!caught) worker.child.kill('SIGCONT');
      }
    }, 120_000);
    await killAndRestartWorker();
    const newPid = killWorker!.child.pid!;

    let op: Op | undefined;
    await until(`${id} to end`, async () => {
      op = (await killApi.request<Op>('GET', `/v1/operations/${id}`, { token })).body;
      return op.state !== 'running';
    }, 300_000);
    expect(op, op?.message).toMatchObject({ state: 'completed', outcome: 'completed' });
    const report = (await killApi.request<{ outcome: string; reason?: string; tornDown: boolean }>('GET', `/v1/drills/${id}`, { token })).body;
    expect(report, report.reason).toMatchObject({ outcome: 'passed', tornDown: true });
    expect((await killApi.request<{ state: string }>('GET', `/v1/clones/${cloneId}`, { token })).body.state).toBe('torn-down');
    await until(`namespace ${name} to go`, () => kubectl(toolchain.kubectl, b.kubeconfigPath, ['get', 'namespace', name]).then(() => false, () => true), 120_000);
    expect(await tc.catalog.environments.get(name)).toBeUndefined();

    // Temporal's record: the drill ended after the kill; the activity caught ran again (attempt 2
    // or later) on the new worker process, the one before it on the killed one.
    expect((await client.workflow.getHandle(id).describe()).closeTime!.getTime()).toBeGreaterThan(killedAt);
    const events = (await client.workflow.getHandle(cloneId!).fetchHistory()).events ?? [];
    const typeOf = new Map(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityType?.name]));
    const starts = events.filter((e) => e.activityTaskStartedEventAttributes).map((e) => ({
      type: typeOf.get(String(e.activityTaskStartedEventAttributes!.scheduledEventId)), attempt: e.activityTaskStartedEventAttributes!.attempt ?? 1,
      pid: Number(e.activityTaskStartedEventAttributes!.identity?.split('@')[0]),
    }));
    const retried = starts.filter((s) => s.attempt > 1);
    expect(retried.map((s) => [s.type, s.pid]), `the ${caught} caught at the kill ran again on the new worker`).toContainEqual([caught, newPid]);
    expect(starts.some((s) => s.pid === oldPid), 'the killed worker had run the clone\'s activities').toBe(true);
  });

  it('the worker SIGKILLed in the middle of a data copy: the clone still ends complete and correct, never half-copied', async () => {
    // A table big enough that its copy is caught mid-way, in the container database: the copy
    // goes through the API server's port-forward, whose far end outlives the killed worker.
    await sql(orders.directUrl, "CREATE TABLE events (id bigint PRIMARY KEY, kind text NOT NULL, payload text NOT NULL); INSERT INTO events SELECT i, 'kind-' || (i % 17), md5(i::text) || md5((i * 7)::text) FROM generate_series(1, 1500000) i");
    const server = await startTestPostgres();
    cleanups.push(() => server.stop());
    const name = `shop-kill-${run}`;
    const db = await cloneContainerDb(server, b, name);
    cleanups.push(db.close);
    const target = await createTestDatabase(server.url);
    cleanups.push(target.drop);

    // The worker process on its own task queue, with the API that starts work there.
    await killWorker!.ready;

    const res = await killApi.request<{ operationId: string }>('POST', '/v1/clones', {
      token, body: { source: src, name, cluster: b.name, tier: 'dr', purpose: 'drill', data: { 'orders-db': 'snapshot', ledger: 'snapshot' }, secrets: { ORDERS_DB_PASSWORD: db.password, LEDGER_URL: target.url } },
    });
    expect(res.status).toBe(202);
    const id = res.body.operationId;
    // Rows are streaming into the clone's database (PostgreSQL's own progress view): kill the worker now.
    await until('the copy of events to stream', async () => {
      const [copied] = await psql(server.url, "SELECT coalesce(max(tuples_processed), 0) FROM pg_stat_progress_copy WHERE datname = 'orders_db'");
      return Number(copied) > 10_000;
    }, 240_000);
    await killAndRestartWorker();

    let op: Op | undefined;
    await until(`${id} to end`, async () => {
      op = (await killApi.request<Op>('GET', `/v1/operations/${id}`, { token })).body;
      return op.state === 'completed' || op.state === 'failed';
    }, 600_000);
    expect(op, op?.message).toMatchObject({ state: 'completed', outcome: 'completed' });
    // Complete and correct: every table as the source has it, no row twice (the primary keys hold).
    expect(await tableDigests(db.directUrl)).toEqual(await tableDigests(orders.directUrl));
    expect(await tableDigests(target.url)).toEqual(await tableDigests(ledger.url));
    const history = await client.workflow.getHandle(id).fetchHistory();
    const copyAttempts = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes && (e.activityTaskStartedEventAttributes.attempt ?? 1) > 1);
    expect(copyAttempts.length, 'the copy ran again after the kill').toBeGreaterThanOrEqual(1);
  });
});
