// The worker process is SIGKILLed at a random moment during each of 20 promotions, then a new
// one starts. Every promotion must end exactly: completed with every target at the new
// revision, or (when a target cannot run it) rolled back with every target at its previous
// one — checked object by object with kubectl. FLOTILLA_CHAOS_SEED replays a run.
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalFleet } from '../../local/fleet.js';
import { deployEnvironment } from '../../workflows/deploy-environment.js';
import { promote } from '../../workflows/promote.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { createEnvironments, expectedRevisions, liveRevisions, setSpec, shopSpec } from '../support/promotion-env.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

const toolchain = inject('toolchain');
const [us] = inject('clusters');
const run = Math.random().toString(36).slice(2, 7);
const RUNS = 20;
const seed = Number(process.env.FLOTILLA_CHAOS_SEED ?? Date.now() % 1_000_000);

/** A small seeded generator (mulberry32), so a failing run can be replayed. */
function random(s: number) {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe(`promotions survive a killed worker (seed ${seed})`, () => {
  let tc: TestCatalog;
  let client: Client;
  let fleet: LocalFleet;
  let worker: WorkerProcess | undefined;
  const small = `chaos-${run}`;
  const taskQueue = `chaos-${run}`;
  const env = (n: string) => `ch-${n}-${run}`;
  const kubeconfigOf: Record<string, string> = {};

  const startWorker = async () => {
    worker = startWorkerProcess({
      TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      FLOTILLA_TASK_QUEUE: taskQueue, FLOTILLA_CATALOG_URL: tc.url, FLOTILLA_MASTER_KEY: tc.masterKey,
    });
    await worker.ready;
  };

  beforeAll(async () => {
    fleet = await LocalFleet.create({ toolchain, clusters: [{ name: small, nodes: 1 }], deleteOnSignal: false });
    tc = await testCatalog([us!, ...fleet.clusters]);
    client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }), namespace: inject('temporalNamespace') });
    await createEnvironments(tc.catalog, [
      { name: env('src'), tier: 'staging', cluster: us!.name },
      { name: env('a'), tier: 'prod', cluster: us!.name, overrides: { replicas: { web: 2 } } },
      { name: env('b'), tier: 'prod', cluster: small },
    ], shopSpec('0'));
    kubeconfigOf[env('a')] = us!.kubeconfigPath;
    kubeconfigOf[env('b')] = fleet.cluster(small).kubeconfigPath;
    await startWorker();
    for (const e of [env('src'), env('a'), env('b')]) {
      await client.workflow.execute(deployEnvironment, { taskQueue, workflowId: `chaos-setup-${e}`, args: [{ environment: e, requestedBy: 'setup' }] });
    }
  });
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await client?.connection.close();
    await tc?.close();
    await fleet?.delete();
  });

  it(`ends ${RUNS} promotions exactly, each with its worker killed at a random moment`, async () => {
    const next = random(seed);
    const outcomes: string[] = [];
    for (let i = 1; i <= RUNS; i++) {
      // Every fourth revision asks more CPU than the one-node cluster has: that target fails and
      // the promotion must roll back. The others differ in their set of services.
      const failing = i % 4 === 0;
      const services = i % 2 === 0 ? ['web', 'api', 'search'] : ['web', 'api'];
      const before = (await tc.catalog.environments.require(env('a'))).deployed!.revision;
      const spec = shopSpec(`${i}`, services, failing ? '20' : '100m');
      // Failing: two web pods of 20 CPUs; the one-node (32-CPU) cluster holds only one.
      if (failing) spec.services = spec.services!.map((s) => (s.name === 'web' ? { ...s, replicas: 2 } : s));
      const revision = await setSpec(tc.catalog, env('src'), spec);
      const handle = await client.workflow.start(promote, {
        taskQueue, workflowId: `chaos-${run}-${i}`,
        args: [{ source: env('src'), revision, requestedBy: 'chaos', rolloutTimeoutSeconds: failing ? 6 : 60, stages: [{ name: 'prod', targets: [env('a'), env('b')] }] }],
      });
      const killAfter = Math.floor(next() * (failing ? 8000 : 2500));
      await new Promise((r) => setTimeout(r, killAfter));
      await worker!.kill('SIGKILL');
      await startWorker();
      const outcome = await handle.result().then((s) => s.phase, (error: unknown) => {
        let e = error;
        while (e instanceof Error && e.cause) e = e.cause;
        return (e as { type?: string }).type ?? String(e);
      });
      outcomes.push(`${i}:${killAfter}ms:${outcome}`);

      const expected = failing ? before : revision;
      expect(outcome, `run ${i} (killed after ${killAfter} ms)`).toBe(failing ? 'PromotionRolledBack' : 'completed');
      for (const target of [env('a'), env('b')]) {
        const spec = (await tc.catalog.revisions.require(expected)).spec;
        expect(await liveRevisions(toolchain.kubectl, kubeconfigOf[target]!, target), `run ${i}: ${target}`).toEqual(
          expectedRevisions(spec.services.map((s) => s.name), expected),
        );
        expect((await tc.catalog.environments.require(target)).deployed?.revision, `run ${i}: ${target} in the catalog`).toBe(expected);
      }
    }
    console.log(`chaos seed ${seed}: ${outcomes.join(' ')}`);
    expect(outcomes).toHaveLength(RUNS);
  }, 900_000);
});
