// providers/kubernetes/port-forward.ts against a real API server and a real PostgreSQL: a KWOK
// pod whose port 5432 KWOK forwards (ClusterPortForward, local/fleet.ts forwardPod) to the test
// server. Through it, as Flotilla's agent (the worker's own client, its TokenRequest token):
// real queries, many connections at once, bytes intact, and close releasing the listener, the
// streams and the server's backends (counted by the server itself). A pod that does not exist,
// one that does not run, a namespace the agent is not bound in, and a forward whose target
// refuses each fail with a named, classified error.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clusterClients } from '../../activities/cluster-client.js';
import { AGENT_NAMESPACED_ROLE, AGENT_ROLE_BINDING, AGENT_SERVICE_ACCOUNT, serviceAccountUser } from '../../domain/baseline.js';
import { forwardPod } from '../../local/fleet.js';
import { FAULT_IMAGES } from '../../local/kwok-faults.js';
import { whoAmI } from '../../providers/kubernetes/agent-access.js';
import { KubeClient } from '../../providers/kubernetes/client.js';
import { classifyError } from '../../providers/kubernetes/errors.js';
import { kubeConfigFromYaml } from '../../providers/kubernetes/kubeconfig.js';
import {
  openPortForward, PodNotFoundError, PodNotRunningError, PortForwardForbiddenError, type PortForwardHandle,
} from '../../providers/kubernetes/port-forward.js';
import { activityDeps } from '../../worker/deps.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { kubectl, kubectlJson } from '../support/kubectl.js';
import { createTestDatabase, startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { until } from '../support/wait.js';

const toolchain = inject('toolchain');
const cluster = inject('clusters')[0]!;
const run = Math.random().toString(36).slice(2, 7);
const bound = `pf-${run}`; // the agent is bound here, as in an environment's namespace
const unbound = `pf-${run}-other`; // and not here
const APP = `pf-test-${run}`; // application_name of this file's connections, to count them on the server

const k = (args: string[]) => kubectl(toolchain.kubectl, cluster.kubeconfigPath, args);
const pod = (name: string, namespace: string, image = 'postgres:16.4') => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels: { 'app.kubernetes.io/name': `db-${run}` } },
  spec: { containers: [{ name: 'postgres', image, ports: [{ containerPort: 5432 }] }] },
});

describe('port-forward through the API server', () => {
  let server: TestPostgres;
  let database: { url: string; drop(): Promise<void> };
  let tc: TestCatalog;
  let agent: KubeClient;
  const opened: PortForwardHandle[] = [];

  /** A URL of the test database through a forward (the server's own user: the forward carries any protocol). */
  const through = (forward: PortForwardHandle) => {
    const url = new URL(database.url);
    url.hostname = forward.host;
    url.port = String(forward.port);
    url.searchParams.set('application_name', APP);
    return url.toString();
  };
  /** The server's own count of this file's backends. */
  const backends = async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return Number((await client.query('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [APP])).rows[0].n);
    } finally {
      await client.end();
    }
  };
  const open = async (...args: Parameters<typeof openPortForward>) => {
    const forward = await openPortForward(...args);
    opened.push(forward);
    return forward;
  };

  beforeAll(async () => {
    server = await startTestPostgres();
    database = await createTestDatabase(server.url);
    const direct = new pg.Client({ connectionString: database.url });
    await direct.connect();
    await direct.query('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)');
    await direct.query("INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, 1000) i");
    await direct.end();

    const pg5432 = new URL(server.url);
    const target = { address: pg5432.hostname, port: Number(pg5432.port) };
    for (const ns of [bound, unbound]) {
      await k(['create', 'namespace', ns]);
      await forwardPod(toolchain.kubectl, cluster.kubeconfigPath, { namespace: ns, pod: 'db-0', ports: [5432], target });
    }
    // What the bootstrap account does for an environment's namespace.
    await k(['create', 'rolebinding', AGENT_ROLE_BINDING, '-n', bound, `--clusterrole=${AGENT_NAMESPACED_ROLE}`, `--serviceaccount=flotilla-system:${AGENT_SERVICE_ACCOUNT}`]);
    // A forward whose target refuses: nothing listens on port 1.
    await forwardPod(toolchain.kubectl, cluster.kubeconfigPath, { namespace: bound, pod: 'refused-0', ports: [5432], target: { address: '127.0.0.1', port: 1 } });
    const manifests = [pod('db-0', bound), pod('db-0', unbound), pod('refused-0', bound), pod('pending-0', bound, FAULT_IMAGES.imagePull)];
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-pf-'));
    try {
      writeFileSync(join(dir, 'pods.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests }));
      await k(['apply', '-f', join(dir, 'pods.json')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await until('the pods to run', async () => {
      const pods = await kubectlJson<{ items: { status: { phase?: string } }[] }>(toolchain.kubectl, cluster.kubeconfigPath, ['get', 'pods', '-A', '-l', `app.kubernetes.io/name=db-${run}`]);
      return pods.items.filter((p) => p.status.phase === 'Running').length === 3; // all but pending-0
    }, 60_000);

    tc = await testCatalog([cluster]);
    // The worker's path: the agent's client, with a token from the TokenRequest API.
    agent = await clusterClients(activityDeps({ catalog: tc.catalog, adapters: {} })).agentClient(cluster.name);
  });
  afterAll(async () => {
    for (const forward of opened) await forward.close();
    agent?.close();
    await tc?.close();
    for (const ns of [bound, unbound]) await k(['delete', 'namespace', ns, '--wait=false']).catch(() => {});
    await k(['delete', 'clusterportforward', `db-0.${bound}`, `db-0.${unbound}`, `refused-0.${bound}`, '--ignore-not-found']).catch(() => {});
    await database?.drop();
    await server?.stop();
  });

  it('reaches the real PostgreSQL behind the pod, as Flotilla\'s agent', async () => {
    expect((await whoAmI(agent)).username).toBe(serviceAccountUser(AGENT_SERVICE_ACCOUNT));
    const forward = await open(agent, { namespace: bound, pod: 'db-0', port: 5432 });
    expect(forward).toMatchObject({ host: '127.0.0.1', namespace: bound, pod: 'db-0' });
    expect(forward.port).toBeGreaterThan(0);
    const client = new pg.Client({ connectionString: through(forward) });
    await client.connect();
    const { rows } = await client.query('SELECT count(*)::int AS n, sum(id)::int AS s, current_database() AS db, inet_server_port() AS port FROM items');
    await client.end();
    expect(rows[0]).toEqual({ n: 1000, s: 500500, db: new URL(database.url).pathname.slice(1), port: Number(new URL(server.url).port) });

    // By the database's labels, as the connector finds a StatefulSet's pod: the running one.
    const bySelector = await open(agent, { namespace: bound, selector: { 'app.kubernetes.io/name': `db-${run}` }, port: 5432 });
    expect(bySelector.pod).toBe('db-0');
  });

  it('carries many connections at once, bytes intact, and close releases the listener, the streams and the backends', async () => {
    const forward = await open(agent, { namespace: bound, pod: 'db-0', port: 5432 });
    const pool = new pg.Pool({ connectionString: through(forward), max: 12 });
    pool.on('error', () => {});
    const answers = await Promise.all(Array.from({ length: 48 }, (_, i) =>
      pool.query('SELECT pg_backend_pid() AS pid, count(*)::int AS n FROM items WHERE id <= $1', [i + 1])));
    answers.forEach((a, i) => expect(a.rows[0].n).toBe(i + 1));
    expect(new Set(answers.map((a) => a.rows[0].pid)).size).toBeGreaterThan(1);
    expect(forward.accepted).toBeGreaterThanOrEqual(new Set(answers.map((a) => a.rows[0].pid)).size);

    // ~8 MB each way through one stream; the server's checksum against the bytes that arrived.
    const client = await pool.connect();
    const big = await client.query("SELECT string_agg(repeat(md5(i::text), 32), '' ORDER BY i) AS blob FROM generate_series(1, 8000) i");
    const blob = big.rows[0].blob as string;
    expect(blob.length).toBe(8000 * 1024);
    const echoed = await client.query('SELECT md5($1::text) AS sum, length($1::text) AS len', [blob]);
    expect(echoed.rows[0]).toEqual({ sum: createHash('md5').update(blob).digest('hex'), len: blob.length });
    client.release();
    expect(await backends()).toBeGreaterThan(0);
    expect(forward.connections).toBeGreaterThan(0);
    // Clients that say goodbye end their server sessions through the forward.
    await pool.end();
    await until('the server\'s backends of the forward to end', async () => (await backends()) === 0, 15_000);
    await until('the forward\'s connections to close', async () => forward.connections === 0, 5_000);

    // A connection still open when the forward closes: close ends it, and stops listening.
    const idle = new pg.Client({ connectionString: through(forward) });
    idle.on('error', () => {});
    await idle.connect();
    const ended = new Promise<void>((resolve) => idle.once('end', () => resolve()));
    expect(forward.connections).toBe(1);
    await forward.close();
    await forward.close(); // idempotent
    await ended;
    expect(forward.connections).toBe(0);
    const refused = await new Promise<string>((resolve) => {
      const s = connect(forward.port, forward.host);
      s.on('connect', () => { s.destroy(); resolve('connected'); });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    // Its server session outlives it here: KWOK's forward keeps the server's side open until its
    // idle timeout (the connector ends such sessions itself: database-connector.test.ts).
  });

  it('names a pod that does not exist, and one that does not run', async () => {
    const missing = await open(agent, { namespace: bound, pod: 'nope-0', port: 5432 }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(PodNotFoundError);
    expect((missing as Error).message).toBe(`cluster "${cluster.name}": no pod "nope-0" in namespace "${bound}" to port-forward to`);
    expect(classifyError(missing)).toMatchObject({ retryable: false, reason: 'PodNotFound', status: 404 });
    const none = await open(agent, { namespace: bound, selector: { 'app.kubernetes.io/name': 'nothing' }, port: 5432 }).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(PodNotFoundError);

    const pending = await open(agent, { namespace: bound, pod: 'pending-0', port: 5432 }).catch((e: unknown) => e);
    expect(pending).toBeInstanceOf(PodNotRunningError);
    expect((pending as Error).message).toMatch(/pod .*\/pending-0 is Pending, not Running/);
    expect(classifyError(pending)).toMatchObject({ retryable: true, reason: 'PodNotRunning' });
  });

  it('goes as the agent: refused where it has no binding, while the admin credential may', async () => {
    const forbidden = await open(agent, { namespace: unbound, pod: 'db-0', port: 5432 }).catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(PortForwardForbiddenError);
    expect((forbidden as Error).message).toContain(`port-forward refused in namespace "${unbound}"`);
    expect((forbidden as Error).message).toContain(serviceAccountUser(AGENT_SERVICE_ACCOUNT));
    expect(classifyError(forbidden)).toMatchObject({ retryable: false, reason: 'PortForwardForbidden', status: 403 });

    // The same pod and forward work with the registered (admin) credential: only the identity differs.
    const admin = new KubeClient(kubeConfigFromYaml(cluster.kubeconfig), { cluster: cluster.name });
    try {
      const forward = await open(admin, { namespace: unbound, pod: 'db-0', port: 5432 });
      const client = new pg.Client({ connectionString: through(forward) });
      await client.connect();
      expect((await client.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBe(1000);
      await client.end();
      await forward.close();
    } finally {
      admin.close();
    }
  });

  it('a stream the node cannot connect closes its connection and keeps why', async () => {
    const errors: string[] = [];
    const forward = await open(agent, { namespace: bound, pod: 'refused-0', port: 5432 }, { onStreamError: (e) => errors.push(e.message) });
    const client = new pg.Client({ connectionString: through(forward), connectionTimeoutMillis: 10_000 });
    client.on('error', () => {});
    const failed = await client.connect().then(() => 'connected', (e: Error) => e.message);
    expect(failed).not.toBe('connected');
    await until('the stream error', async () => forward.lastError !== undefined, 10_000);
    expect(forward.lastError!.message).toMatch(new RegExp(`port-forward to ${bound}/refused-0:5432 failed: .*127\\.0\\.0\\.1:1`));
    expect(classifyError(forward.lastError)).toMatchObject({ retryable: true, reason: 'PortForwardFailed' });
    expect(errors).toEqual([forward.lastError!.message]);
    await forward.close();
  });
});
