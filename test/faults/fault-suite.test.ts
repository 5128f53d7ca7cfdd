// The fault suite: rounds of real operations, each round hit by one fault drawn from a seeded
// menu while its operations run — a worker SIGKILLed, the Temporal server restarted, one
// cluster's API server unreachable, slow, resetting connections or answering nothing at all
// (Toxiproxy in front of it), or an API process SIGKILLed mid-request.
// It runs in the at-scale mode, as production does: the Temporal server itself (not the dev
// server) on PostgreSQL, two worker processes sharing the task queue, two API processes, and the
// catalog on PostgreSQL; a clean promotion through the APIs comes first and shows the two workers
// sharing the work and the two APIs serving one catalog.
// Every round runs four operations at once: a deploy on each cluster (one of them through the
// API, as a process, with an Idempotency-Key), a promotion to a target on each cluster, and a
// re-onboarding of one cluster. Every sixth round (CLONE_EVERY; seeded, apart from the faults:
// which of each four rounds, and which way each clone goes) adds a fifth: a clone
// (cloneEnvironment, no data: its source has no databases) of an environment kept for it on one
// cluster to the other cluster, under a fresh name, written as the API writes it (planClone,
// checkClone, writeClone) and started through Temporal. The API fault SIGKILLs that API process
// mid-request and starts another; the client retries with the same key, and exactly one deploy
// must result. After each round every cluster is checked object by object (kubectl, straight to
// the API servers, past the proxies): each operation completed (or, for a promotion, rolled
// back) exactly, nothing missing, nothing extra, nothing stuck, and the catalog agrees with the
// clusters. A clone is never half-made: completed, its objects the source revision's (its
// Deployments' images and replicas the source's) and its record ready; or failed/cancelled with
// nothing left of it (no namespace, no catalog environment, its record torn down or failed with
// a message). A completed clone is torn down (teardownClone) in the same round, as soon as it is
// checked (the fault may still be on), its namespace gone after, so rounds do not pile up
// namespaces; the teardown is not counted as a faulted operation. FLOTILLA_FAULT_SEED replays a
// run; FLOTILLA_FAULT_ROUNDS sets its length (13 rounds = 52 faulted operations plus 2 or 3
// clones by default; the test's name gives the count), FLOTILLA_FAULT_ONLY the kinds of fault.
// Only every sixth round clones because a clone round costs about 10 s more (its teardown waits
// for the namespace to go), and the tier may grow by about 40 s at 13 rounds.
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalFleet } from '../../local/fleet.js';
import { freePort } from '../../local/ports.js';
import type { TemporalServerHandle } from '../../local/temporal-dev-server.js';
import { startTemporalServer } from '../../local/temporal-server.js';
import { postgresCatalog, type TempCatalog } from '../../local/temp-catalog.js';
import { ensureToolchain, requireTemporalServer } from '../../local/toolchain.js';
import { flotillaDataConverter } from '../../temporal/data-converter.js';
import { PAYLOAD_KEYS_ENV, PayloadKeyRing, writeKeyRingFile } from '../../temporal/key-ring.js';
import { checkClone, cloneId, planClone, writeClone } from '../../api/services/clones.js';
import { CloneRequest } from '../../domain/clone.js';
import { cloneEnvironment, type CloneResult } from '../../workflows/clone-environment.js';
import { deployEnvironment } from '../../workflows/deploy-environment.js';
import { teardownClone } from '../../workflows/teardown-clone.js';
import { onboardCluster } from '../../workflows/onboard-cluster.js';
import { promote } from '../../workflows/promote.js';
import { createTestDatabase, startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { kubectl } from '../support/kubectl.js';
import { createEnvironments, expectedRevisions, liveObjects, liveRevisions, setSpec, shopSpec } from '../support/promotion-env.js';
import { seededRandom } from '../support/seeded-random.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';
import { shortRevision } from '../../domain/revision.js';
import { OutputTail } from '../../local/process.js';
import { projectRoot } from '../../local/toolchain.js';
import { spawn, type ChildProcess } from 'node:child_process';

const ROUNDS = Number(process.env.FLOTILLA_FAULT_ROUNDS ?? 13);
const OPERATIONS_PER_ROUND = 4;
const seed = Number(process.env.FLOTILLA_FAULT_SEED ?? Date.now() % 1_000_000);
/** Every CLONE_EVERY-th round also clones (a fifth operation): each costs about 10 s (its teardown). */
const CLONE_EVERY = 6;
// Which rounds clone and which way: a generator of its own, so a seed's faults stay as they were.
const cloneRandom = seededRandom(seed ^ 0x5eedc10e);
/** The first round that clones (0-based): one of the first CLONE_EVERY, so even a short run clones. */
const firstClone = Math.floor(cloneRandom() * Math.min(CLONE_EVERY, ROUNDS));
/** Per round: whether it clones, and which way (0: from the first cluster to the second, 1: back). */
const CLONES = Array.from({ length: ROUNDS }, (_, i) => ({ clone: i >= firstClone && (i - firstClone) % CLONE_EVERY === 0, way: cloneRandom() < 0.5 ? 0 : 1 }));
const FAULTED_OPERATIONS = ROUNDS * OPERATIONS_PER_ROUND + CLONES.filter((c) => c.clone).length;
const run = Math.random().toString(36).slice(2, 7);
const FAULTS = ['worker-kill', 'temporal-restart', 'cluster-down', 'cluster-slow', 'cluster-reset', 'cluster-timeout', 'api-restart'] as const;
type Fault = (typeof FAULTS)[number];
/** FLOTILLA_FAULT_ONLY=api-restart,worker-kill narrows the menu (to chase one kind of fault). */
const MENU: readonly Fault[] = process.env.FLOTILLA_FAULT_ONLY ? FAULTS.filter((f) => process.env.FLOTILLA_FAULT_ONLY!.split(',').includes(f)) : FAULTS;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A round's clone: its record's id, its environment, where it goes, and what it must run. */
interface RoundClone { id: string; name: string; source: string; revision: string; cluster: string; namespace: string }

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
/** An operation's end, without throwing: the round checks every one. */
const settle = <T>(p: Promise<T>): Promise<Settled<T>> => p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));
/** '' for an operation that ended well, else why it did not. */
function failure(o: Settled<unknown>): string {
  if (o.ok) return '';
  return o.error instanceof WorkflowFailedError ? `${o.error.message}: ${String(o.error.cause?.message ?? '')}` : String(o.error);
}

describe(`operations end exactly under faults (seed ${seed})`, () => {
  const toolchain = ensureToolchain();
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-faults-'));
  // Payloads encrypted as in production: the worker, the API and this client share one key ring.
  const keyRing = PayloadKeyRing.generate();
  const payloadKeys = join(dir, 'payload-keys.json');
  writeKeyRingFile(payloadKeys, keyRing);
  const taskQueue = `faults-${run}`;
  const clusterNames = [`fa-${run}`, `fb-${run}`] as const;
  const env = (n: string) => `fs-${n}-${run}`;
  /** The clones' sources, one on each cluster (CLONES[r].way picks one), each cloned to the other cluster. */
  const cloneWays = [
    { source: env('ca'), to: clusterNames[1] },
    { source: env('cb'), to: clusterNames[0] },
  ] as const;
  let postgres: TestPostgres;
  let temporal: TemporalServerHandle;
  let fleet: LocalFleet;
  let tc: TempCatalog;
  let client: Client;
  /** Two workers on one task queue; a worker fault kills one of them. */
  const workers: (WorkerProcess | undefined)[] = [undefined, undefined];
  /** Every worker that ran, by its Temporal identity (pid@host): index and whether it is one of the first two. */
  const workerIdentities = new Map<string, string>();
  /** Two API processes behind one catalog; an API fault kills the one a request is in flight on. */
  const apis: (ChildProcess | undefined)[] = [undefined, undefined];
  const apiPorts: number[] = [];
  let apiToken: string;
  /** Each API process's output since it started. */
  const apiOutputs = [new OutputTail(200), new OutputTail(200)];
  /** Each environment's cluster, and the kubeconfig that reaches its API server directly. */
  const placement: Record<string, { cluster: string; direct: string }> = {};

  /** The Temporal server on PostgreSQL; a restart reuses its folder (config, ports) and databases. */
  const startTemporal = async () => {
    const { server, sqlTool } = requireTemporalServer(toolchain);
    temporal = await startTemporalServer({ server, sqlTool, postgresUrl: postgres.url, dir: join(dir, 'temporal'), database: `temporal_${run}` });
  };
  const startWorker = async (i: number) => {
    const worker = (workers[i] = startWorkerProcess({
      TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: temporal.namespace,
      FLOTILLA_TASK_QUEUE: taskQueue, FLOTILLA_CATALOG_URL: tc.url, FLOTILLA_MASTER_KEY: tc.masterKey, [PAYLOAD_KEYS_ENV]: payloadKeys,
    }));
    workerIdentities.set(`${worker.child.pid}@${hostname()}`, `worker ${i + 1}${workerIdentities.size < 2 ? '' : ' (restarted)'}`);
    await worker.ready;
  };

  /** API process `i` (api/main.ts), as deployed; resolves once it answers. */
  const startApi = async (i: number) => {
    const output = (apiOutputs[i] = new OutputTail(200));
    const api = (apis[i] = spawn(process.execPath, ['--import', 'tsx', 'api/main.ts'], {
      cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: temporal.namespace, FLOTILLA_TASK_QUEUE: taskQueue,
        FLOTILLA_CATALOG_URL: tc.url, FLOTILLA_MASTER_KEY: tc.masterKey, [PAYLOAD_KEYS_ENV]: payloadKeys, PORT: String(apiPorts[i]), HOST: '127.0.0.1',
        FLOTILLA_RATE_LIMIT: '0', FLOTILLA_IDEMPOTENCY_LEASE_SECONDS: '2', FLOTILLA_BOOTSTRAP_TOKEN_FILE: join(dir, `bootstrap-token-${i}`),
      },
    }));
    api.stdout!.on('data', (d: Buffer) => output.push(d));
    api.stderr!.on('data', (d: Buffer) => output.push(d));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (api.exitCode !== null) throw new Error(`API ${i + 1} exited during start-up:\n${output}`);
      if (await fetch(`http://127.0.0.1:${apiPorts[i]}/v1/healthz`).then((r) => r.ok, () => false)) return;
      if (Date.now() > deadline) throw new Error(`API ${i + 1} did not answer within 60 s:\n${output}`);
      await sleep(200);
    }
  };
  const killApi = (i: number) => new Promise<void>((resolve) => {
    const api = apis[i];
    if (!api || api.exitCode !== null || api.signalCode !== null) return resolve();
    api.once('exit', () => resolve());
    api.kill('SIGKILL');
  });
  /** A request to API `i` with the admin token. */
  const callApi = (i: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${apiPorts[i]}${path}`, {
      method, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json', ...headers },
    });

  /**
   * POST …/deploy with an Idempotency-Key, retried (the same key) while the API is away or the
   * first attempt's claim is still pending, as a careful client does; the operation's id, and
   * what the client went through (attempts; whether the API had died holding the claim).
   */
  async function deployThroughApi(first: number, environment: string, key: string): Promise<{ operationId: string; attempts: number; interrupted: boolean }> {
    const deadline = Date.now() + 120_000;
    let interrupted = false;
    for (let attempts = 1; ; attempts++) {
      // As behind a load balancer: the first attempt to API `first`, retries to each in turn.
      const answer = await callApi((first + attempts - 1) % 2, 'POST', `/v1/environments/${environment}/deploy`, {}, { 'idempotency-key': key })
        .then(async (r) => ({ status: r.status, text: await r.text() }), (error: unknown) => ({ status: 0, text: String(error) }));
      if (answer.status === 202) return { operationId: (JSON.parse(answer.text) as { operationId: string }).operationId, attempts, interrupted };
      if (answer.text.includes('idempotency_key_in_progress')) interrupted = true;
      const retryable = answer.status === 0 || answer.status >= 500 || (answer.status === 409 && answer.text.includes('idempotency_key_in_progress'));
      if (!retryable || Date.now() > deadline) throw new Error(`deploy of ${environment} answered ${answer.status}: ${answer.text}`);
      await sleep(300);
    }
  }

  beforeAll(async () => {
    apiPorts.push(await freePort(), await freePort());
    postgres = await startTestPostgres();
    await startTemporal();
    // Both clusters behind Toxiproxy: Flotilla reaches them only through the proxies.
    fleet = await LocalFleet.create({
      toolchain, proxy: {}, deleteOnSignal: false,
      clusters: clusterNames.map((name) => ({ name, labels: { tier: 'prod' }, nodes: 1 })),
    });
    tc = await postgresCatalog((await createTestDatabase(postgres.url)).url, fleet.clusters);
    client = new Client({ connection: await Connection.connect({ address: temporal.address }), namespace: temporal.namespace, dataConverter: flotillaDataConverter(keyRing) });
    const [a, b] = clusterNames;
    const envs = [
      { name: env('src'), cluster: a }, { name: env('da'), cluster: a }, { name: env('db'), cluster: b },
      { name: env('pa'), cluster: a }, { name: env('pb'), cluster: b },
      { name: cloneWays[0].source, cluster: a }, { name: cloneWays[1].source, cluster: b },
    ];
    await createEnvironments(tc.catalog, envs.map((e) => ({ ...e, tier: 'prod' as const })), shopSpec('0'));
    for (const e of envs) placement[e.name] = { cluster: e.cluster, direct: fleet.cluster(e.cluster).direct!.kubeconfigPath };
    apiToken = (await tc.catalog.tokens.create({ name: 'faults-admin', role: 'admin' })).token;
    await Promise.all([startWorker(0), startWorker(1), startApi(0), startApi(1)]);
    await Promise.all(envs.map((e) => client.workflow.execute(deployEnvironment, {
      taskQueue, workflowId: `faults-setup-${e.name}`, args: [{ environment: e.name, requestedBy: 'setup' }],
    })));
  }, 300_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => w?.kill('SIGTERM')));
    await Promise.all([killApi(0), killApi(1)]);
    await client?.connection.close();
    await tc?.close();
    await fleet?.delete();
    await temporal?.stop();
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Injects the fault `after` ms into the round; resolves once everything is healthy again. */
  async function inject(fault: Fault, cluster: string, after: number, next: () => number, api: number): Promise<string> {
    await sleep(after);
    const proxy = () => fleet.faults(cluster);
    switch (fault) {
      case 'worker-kill': {
        const i = Math.floor(next() * workers.length);
        await workers[i]!.kill('SIGKILL');
        await startWorker(i);
        return `worker ${i + 1} SIGKILLed`;
      }
      case 'temporal-restart': {
        const down = Math.floor(next() * 2000);
        await temporal.stop();
        await sleep(down);
        await startTemporal();
        return `Temporal restarted (down ${down} ms)`;
      }
      case 'cluster-down': {
        const down = 2000 + Math.floor(next() * 4000);
        await proxy().down();
        await sleep(down);
        await proxy().up();
        return `${cluster} unreachable for ${down} ms`;
      }
      case 'cluster-slow': {
        const latency = 100 + Math.floor(next() * 200);
        await proxy().latency(latency, 50);
        await sleep(5000);
        await proxy().latency(0);
        return `${cluster} ${latency}±50 ms one-way for 5 s`;
      }
      case 'api-restart':
        await killApi(api);
        await startApi(api);
        return `API ${api + 1} SIGKILLed and started again`;
      case 'cluster-timeout': {
        // A black hole: connections open, nothing comes back, until the toxic goes.
        const period = 2000 + Math.floor(next() * 2000);
        await proxy().timeout(0);
        await sleep(period);
        await proxy().clear('timeout');
        return `${cluster} answering nothing for ${period} ms`;
      }
      case 'cluster-reset': {
        const period = 1000 + Math.floor(next() * 2000);
        await proxy().resetPeer(0);
        await sleep(period);
        await proxy().clear('reset_peer', 'downstream');
        return `${cluster} resetting connections for ${period} ms`;
      }
    }
  }

  /** kubectl, straight to the API server: every object of `environment` at `revision`'s render. */
  async function expectRunning(what: string, environment: string, revision: string | undefined) {
    const { direct } = placement[environment]!;
    if (revision === undefined) {
      expect(await liveRevisions(toolchain.kubectl, direct, environment), what).toEqual([]);
      return;
    }
    const spec = (await tc.catalog.revisions.require(revision)).spec;
    expect(await liveRevisions(toolchain.kubectl, direct, environment), what).toEqual(expectedRevisions(spec.services.map((s) => s.name), revision));
    const record = await tc.catalog.environments.require(environment);
    expect(record.deployed?.revision, `${what}: deployed in the catalog`).toBe(revision);
    expect(record.currentRevision, `${what}: desired in the catalog`).toBe(revision);
  }

  /** kubectl, straight to the API server: whether the namespace is gone (a NotFound; any other error is one). */
  async function namespaceGone(cluster: string, namespace: string): Promise<boolean> {
    return kubectl(toolchain.kubectl, fleet.cluster(cluster).direct!.kubeconfigPath, ['get', 'namespace', namespace, '-o', 'name']).then(() => false, (error: unknown) => {
      if (/NotFound|not found/.test(String(error))) return true;
      throw error;
    });
  }

  /** Each Deployment's name, images and replicas, as kubectl sees them. */
  async function deploymentShapes(environment: string): Promise<string[]> {
    return (await liveObjects(toolchain.kubectl, placement[environment]!.direct, environment))
      .filter((o) => o.kind === 'Deployment')
      .map((o) => `${o.metadata.name}=${(o.spec?.template?.spec?.containers ?? []).map((c) => c.image).join(',')}x${o.spec?.replicas}`)
      .sort();
  }

  /**
   * A clone that did not complete: nothing of it may be left — no namespace, no objects, no
   * catalog environment, and its record torn down (or failed, saying why).
   */
  async function expectNothingLeft(what: string, clone: RoundClone) {
    const { id, name, cluster, namespace } = clone;
    expect(await namespaceGone(cluster, namespace), `${what}: its namespace is gone`).toBe(true);
    expect(await tc.catalog.environments.get(name), `${what}: its catalog environment is gone`).toBeUndefined();
    const record = await tc.catalog.clones.require(id);
    expect(['torn-down', 'failed'], `${what}: its record (${record.state}: ${record.message ?? ''})`).toContain(record.state);
    if (record.state === 'failed') expect(record.message ?? '', `${what}: a failed record says why`).not.toBe('');
  }

  /**
   * The round's clone, once its workflow ends: complete and exact (and then torn down, leaving
   * nothing), or nothing left of it; its outcome. Throws what does not hold.
   */
  async function endClone(what: string, clone: RoundClone, ending: Promise<CloneResult>): Promise<string> {
    const result = await ending;
    const cw = `${what} (${result.outcome}${result.message ? `: ${result.message}` : ''})`;
    expect(['completed', 'failed', 'cancelled'], `${cw}: outcome`).toContain(result.outcome);
    expect(await tc.catalog.operations.require(clone.id), `${cw}: in the operations index`).toMatchObject({ state: 'completed', outcome: result.outcome });
    if (result.outcome !== 'completed') {
      await expectRunning(cw, clone.name, undefined);
      await expectNothingLeft(cw, clone);
      return result.outcome;
    }
    expect(result.revision, `${cw}: revision`).toBe(clone.revision);
    await expectRunning(cw, clone.name, clone.revision);
    expect(await deploymentShapes(clone.name), `${cw}: Deployments (images, replicas) as its source's`).toEqual(await deploymentShapes(clone.source));
    expect((await tc.catalog.clones.require(clone.id)).state, `${cw}: record`).toBe('ready');
    const down = await client.workflow.execute(teardownClone, { taskQueue, workflowId: `teardown-${clone.id}`, args: [{ cloneId: clone.id, requestedBy: 'faults' }] });
    expect(down, `${cw}: teardown`).toMatchObject({ outcome: 'completed', alreadyTornDown: false });
    await expectNothingLeft(`${cw}, torn down`, clone);
    expect((await tc.catalog.clones.require(clone.id)).state, `${cw}: record after teardown`).toBe('torn-down');
    expect((await tc.catalog.operations.require(`teardown-${clone.id}`)).state, `${cw}: teardown in the operations index`).toBe('completed');
    return result.outcome;
  }

  /** Per identity (pid@host), the activities it started in the histories of this task queue's workflows. */
  async function activitiesByIdentity(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for await (const execution of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) {
      const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      for (const event of history.events ?? []) {
        const identity = event.activityTaskStartedEventAttributes?.identity;
        if (identity) counts.set(identity, (counts.get(identity) ?? 0) + 1);
      }
    }
    return counts;
  }

  it('at-scale mode: a promotion asked of one API is seen through the other, and both workers run its work', async () => {
    const revision = await setSpec(tc.catalog, env('src'), shopSpec('clean'));
    const asked = await callApi(1, 'POST', '/v1/promotions', {
      source: env('src'), revision, rolloutTimeoutSeconds: 120, stages: [{ name: 'prod', targets: [env('pa'), env('pb')] }],
    });
    expect(asked.status, await asked.clone().text()).toBe(202);
    const { operationId } = (await asked.json()) as { operationId: string };
    // API 1 never saw the request: it answers from the catalog and Temporal they share.
    const deadline = Date.now() + 180_000;
    let view: { state: string; outcome?: string } | undefined;
    while (Date.now() < deadline) {
      const answer = await callApi(0, 'GET', `/v1/operations/${encodeURIComponent(operationId)}`);
      if (answer.status === 200) view = (await answer.json()) as { state: string; outcome?: string };
      if (view?.state === 'completed') break;
      await sleep(500);
    }
    expect(view).toMatchObject({ state: 'completed', outcome: 'completed' });
    await expectRunning('clean promotion: pa', env('pa'), revision);
    await expectRunning('clean promotion: pb', env('pb'), revision);
    // The set-up deploys and this promotion: both workers took activities from the one task queue.
    const counts = await activitiesByIdentity();
    const byWorker = [...workerIdentities.keys()].map((identity) => counts.get(identity) ?? 0);
    expect(byWorker.length).toBe(2);
    expect(byWorker.every((n) => n > 0), `activities per worker: ${byWorker.join(', ')}`).toBe(true);
    console.log(`at-scale mode: activities per worker ${byWorker.join(' / ')}; promotion ${operationId} asked of API 2, seen completed through API 1`);
  }, 300_000);

  it(`ends ${FAULTED_OPERATIONS} faulted operations exactly (${ROUNDS} rounds, ${FAULTED_OPERATIONS - ROUNDS * OPERATIONS_PER_ROUND} with a clone)`, async () => {
    const cloneDeps = { catalog: tc.catalog, now: () => new Date() };
    const next = seededRandom(seed);
    const lines: string[] = [];
    let faulted = 0;
    for (let r = 1; r <= ROUNDS; r++) {
      const fault = MENU[Math.floor(next() * MENU.length)]!;
      const cluster = clusterNames[Math.floor(next() * clusterNames.length)]!;
      // The API is killed while the deploy request is in flight (it takes tens of ms).
      const after = Math.floor(next() * (fault === 'api-restart' ? 60 : 2500));
      const services = r % 2 === 0 ? ['web', 'api', 'search'] : ['web', 'api'];
      const spec = shopSpec(`${r}`, services);
      const before = { pa: (await tc.catalog.environments.require(env('pa'))).deployed?.revision, pb: (await tc.catalog.environments.require(env('pb'))).deployed?.revision };
      const [promoted, da, db] = [await setSpec(tc.catalog, env('src'), spec), await setSpec(tc.catalog, env('da'), spec), await setSpec(tc.catalog, env('db'), spec)];
      const id = (op: string) => `faults-${run}-${r}-${op}`;
      const started = Date.now();
      // The clone, written as the API writes it (its plan and rules checked first), then started.
      const way = CLONES[r - 1]!.clone ? cloneWays[CLONES[r - 1]!.way] : undefined;
      const cloneName = env(`c${r}`);
      let clone: RoundClone | undefined;
      if (way) {
        const planned = await planClone(cloneDeps, CloneRequest.parse({ source: way.source, name: cloneName, cluster: way.to }));
        await checkClone(cloneDeps, planned);
        const cid = await cloneId(cloneDeps, cloneName);
        await writeClone(cloneDeps, planned, cid, 'faults');
        clone = { id: cid, name: cloneName, source: way.source, revision: planned.revision, cluster: way.to, namespace: planned.binding.namespace };
        placement[cloneName] = { cluster: way.to, direct: fleet.cluster(way.to).direct!.kubeconfigPath };
      }

      let viaApi = '';
      const deployA = settle(deployThroughApi(r % 2, env('da'), id('da')).then(({ operationId, attempts, interrupted }) => {
        // The restarted API says when it finished a request its predecessor died in.
        const resumed = interrupted || apiOutputs.some((o) => String(o).includes('resuming a request whose earlier attempt was interrupted'));
        viaApi = `${attempts} request(s)${resumed ? ', resumed one cut short holding its key' : ''}`;
        return client.workflow.getHandle<typeof deployEnvironment>(operationId).result();
      }));
      const deployB = settle(client.workflow.execute(deployEnvironment, { taskQueue, workflowId: id('db'), args: [{ environment: env('db'), requestedBy: 'faults', rolloutTimeoutSeconds: 120 }] }));
      const promotion = settle(client.workflow.execute(promote, {
        taskQueue, workflowId: id('promote'),
        args: [{ source: env('src'), revision: promoted, requestedBy: 'faults', rolloutTimeoutSeconds: 120, stages: [{ name: 'prod', targets: [env('pa'), env('pb')] }] }],
      }));
      const onboarding = settle(client.workflow.execute(onboardCluster, { taskQueue, workflowId: id('onboard'), args: [{ cluster, maxRetryIntervalMs: 2000 }] }));
      // Checked as soon as it ends, and torn down then (the fault may still be on): the other
      // operations' ends and checks overlap its teardown.
      const cloning = clone && settle(endClone(`round ${r} (${fault} after ${after} ms): clone ${clone.id}`, clone, client.workflow.execute(cloneEnvironment, {
        taskQueue, workflowId: clone.id, args: [{ cloneId: clone.id, requestedBy: 'faults', rolloutTimeoutSeconds: 120 }],
      })));
      const injected = await inject(fault, cluster, after, next, r % 2);
      const what = `round ${r} (${injected} after ${after} ms)`;
      expect(failure(await deployA), `${what}: deploy da`).toBe('');
      expect(failure(await deployB), `${what}: deploy db`).toBe('');
      expect(failure(await onboarding), `${what}: onboarding`).toBe('');
      const promotionEnd = await promotion;
      expect(failure(promotionEnd), `${what}: promotion`).toBe('');
      faulted += OPERATIONS_PER_ROUND;
      const outcome = promotionEnd.ok ? promotionEnd.value.outcome : undefined;
      expect(['completed', 'rolled-back'], `${what}: promotion outcome`).toContain(outcome);

      // Object by object: each deploy at its revision; the promotion's targets all at the new
      // revision, or all back where they were.
      await expectRunning(`${what}: da`, env('da'), da);
      // Exactly one deploy of this revision to da, however often the request was sent.
      const deploysOfDa = (await tc.catalog.operations.list({ kind: 'deploy', environment: env('da'), limit: 500 })).items
        .filter((o) => o.id.startsWith(`deploy-${env('da')}-${shortRevision(da)}-`));
      expect(deploysOfDa.map((o) => o.state), `${what}: deploys of da`).toEqual(['completed']);
      await expectRunning(`${what}: db`, env('db'), db);
      await expectRunning(`${what}: pa`, env('pa'), outcome === 'completed' ? promoted : before.pa);
      await expectRunning(`${what}: pb`, env('pb'), outcome === 'completed' ? promoted : before.pb);
      // The re-onboarded cluster is ready, with its baseline.
      expect((await tc.catalog.clusters.require(cluster)).status, `${what}: ${cluster} status`).toBe('ready');
      expect(await kubectl(toolchain.kubectl, fleet.cluster(cluster).direct!.kubeconfigPath, ['get', 'serviceaccount', 'flotilla-agent', '-n', 'flotilla-system', '-o', 'name']).then((s) => s.trim()), `${what}: baseline`).toBe('serviceaccount/flotilla-agent');
      // Nothing stuck: every environment released, every operation recorded as ended.
      for (const op of ['db', 'promote', 'onboard']) {
        expect((await tc.catalog.operations.require(id(op))).state, `${what}: ${op} in the operations index`).toBe('completed');
      }
      const cloneEnd = cloning && await cloning;
      if (cloneEnd) {
        expect(failure(cloneEnd), `${what}: clone`).toBe('');
        faulted += 1;
      }
      const cloneOutcome = clone && cloneEnd?.ok ? `clone→${clone.cluster.slice(0, 2)}:${cloneEnd.value}` : '';
      // Also the clones' sources and this round's clone.
      expect(await tc.catalog.locks.heldBy([...['src', 'da', 'db', 'pa', 'pb'].map(env), ...cloneWays.map((w) => w.source), cloneName]), `${what}: locks`).toEqual([]);
      lines.push(`${r}:${fault}@${after}ms:${outcome}${cloneOutcome ? `:${cloneOutcome}` : ''}:${Math.round((Date.now() - started) / 1000)}s${fault === 'api-restart' ? `(${viaApi})` : ''}`);
    }
    const counts = await activitiesByIdentity();
    const shares = [...workerIdentities].map(([identity, name]) => `${name}: ${counts.get(identity) ?? 0}`).join(', ');
    console.log(`fault suite seed ${seed}: ${faulted} faulted operations; ${lines.join(' ')}; activities ${shares}`);
    expect(faulted).toBe(FAULTED_OPERATIONS);
    // The suite proper: at least 50 faulted operations (a shorter run only when asked for).
    if (process.env.FLOTILLA_FAULT_ROUNDS === undefined) expect(faulted).toBeGreaterThanOrEqual(50);
  }, 1_800_000);
});
