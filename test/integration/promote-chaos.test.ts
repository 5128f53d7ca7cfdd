// The worker process is SIGKILLed at a random moment during each of 6 promotions, then a new
// one starts. Every promotion must end exactly: completed with every target at the new
// revision, or (when a target cannot run it) rolled back with every target at its previous
// one — checked object by object with kubectl. Some runs (seeded) are also cancelled through
// Temporal itself (a native cancel, as `temporal workflow cancel` or the API's cancel) at a
// random moment; they must end `cancelled` with every target exactly as it was before: its
// previous revision, or nothing at all for a target that ran nothing before. Outcomes are the
// workflow's result (it completes); the catalog (deployed and desired, locks, operations
// index) must agree. FLOTILLA_CHAOS_SEED replays a run.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalFleet } from '../../local/fleet.js';
import type { PromotionState } from '../../workflows/messages.js';
import { deployEnvironment } from '../../workflows/deploy-environment.js';
import { promote } from '../../workflows/promote.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { kubectl } from '../support/kubectl.js';
import { cancelCameAfterOutcome, historyOutline } from '../support/promotion-history.js';
import { createEnvironments, expectedRevisions, liveRevisions, setSpec, shopSpec } from '../support/promotion-env.js';
import { seededRandom } from '../support/seeded-random.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';
import { tierClient } from '../support/tier-temporal.js';

const toolchain = inject('toolchain');
const [us] = inject('clusters');
const run = Math.random().toString(36).slice(2, 7);
// 6 runs (1 rolled back, 1 cancelled; a fresh seed each CI run) fit the test command's budget;
// FLOTILLA_CHAOS_RUNS runs more (cancels stay a quarter of them).
const RUNS = Number(process.env.FLOTILLA_CHAOS_RUNS ?? 6);
/** Runs that also get a native cancel (never a failing one: its rollback may already be under way). */
const CANCELS = Math.max(1, Math.floor(RUNS / 4));
const seed = Number(process.env.FLOTILLA_CHAOS_SEED ?? Date.now() % 1_000_000);

/** Which runs get a native cancel: CANCELS of the non-failing ones, drawn from the seed. */
function cancelledRuns(s: number): Set<number> {
  const pick = seededRandom(s ^ 0x5eed);
  const eligible = Array.from({ length: RUNS }, (_, k) => k + 1).filter((i) => i % 4 !== 0);
  for (let k = eligible.length - 1; k > 0; k--) {
    const j = Math.floor(pick() * (k + 1));
    [eligible[k], eligible[j]] = [eligible[j]!, eligible[k]!];
  }
  return new Set(eligible.slice(0, CANCELS));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    // A prod cluster: a prod environment runs only where the cluster accepts prod (domain/placement.ts).
    fleet = await LocalFleet.create({ toolchain, clusters: [{ name: small, labels: { tier: 'prod' }, nodes: 1 }], deleteOnSignal: false });
    tc = await testCatalog([us!, ...fleet.clusters]);
    client = await tierClient();
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

  it(`ends ${RUNS} promotions exactly, each with its worker killed at a random moment, ${CANCELS} also cancelled natively`, async () => {
    const next = seededRandom(seed);
    const cancels = cancelledRuns(seed);
    const outcomes: string[] = [];
    for (let i = 1; i <= RUNS; i++) {
      // Every fourth revision asks more CPU than the one-node cluster has: that target fails and
      // the promotion must roll back. The others differ in their set of services.
      const failing = i % 4 === 0;
      const cancel = cancels.has(i);
      const services = i % 2 === 0 ? ['web', 'api', 'search'] : ['web', 'api'];
      // A cancelled run also promotes to an environment that never ran anything: cancelled, it
      // must leave nothing of it behind (not even its namespace, which Flotilla created).
      const fresh = cancel ? env(`f${i}`) : undefined;
      if (fresh) {
        await createEnvironments(tc.catalog, [{ name: fresh, tier: 'prod', cluster: us!.name }], shopSpec('0'));
        kubeconfigOf[fresh] = us!.kubeconfigPath;
      }
      const targets = [env('a'), env('b'), ...(fresh ? [fresh] : [])];
      const before = new Map<string, { deployed?: string; desired?: string }>();
      for (const t of targets) {
        const record = await tc.catalog.environments.require(t);
        before.set(t, { deployed: record.deployed?.revision, desired: record.currentRevision });
      }
      const spec = shopSpec(`${i}`, services, failing ? '20' : '100m');
      // Failing: two web pods of 20 CPUs; the one-node (32-CPU) cluster holds only one.
      if (failing) spec.services = spec.services!.map((s) => (s.name === 'web' ? { ...s, replicas: 2 } : s));
      const revision = await setSpec(tc.catalog, env('src'), spec);
      const id = `chaos-${run}-${i}`;
      const started = Date.now();
      const handle = await client.workflow.start(promote, {
        taskQueue, workflowId: id,
        args: [{ source: env('src'), revision, requestedBy: 'chaos', rolloutTimeoutSeconds: failing ? 6 : 60, stages: [{ name: 'prod', targets }] }],
      });
      const killAfter = Math.floor(next() * (failing ? 8000 : 2500));
      // Early enough that the promotion is still at work (a deploy of three targets takes longer).
      const cancelAfter = cancel ? Math.floor(next() * 2000) : undefined;
      const cancelling = cancelAfter === undefined ? Promise.resolve() : sleep(cancelAfter).then(() => handle.cancel());
      await sleep(killAfter);
      await worker!.kill('SIGKILL');
      await startWorker();
      await cancelling;
      let final: PromotionState | undefined;
      const outcome = await handle.result().then((s) => {
        final = s;
        return s.outcome ?? `no outcome (${s.phase})`;
      }, (error: unknown) => {
        let e = error;
        while (e instanceof Error && e.cause) e = e.cause;
        return `workflow failed: ${(e as { type?: string }).type ?? ''} ${String(e)}`;
      });
      const what = `run ${i} (killed after ${killAfter} ms${cancelAfter === undefined ? '' : `, cancelled after ${cancelAfter} ms`})`;
      // For a cancel: where each target was when it came (pending: never started; rolled-back: changed, then undone).
      const phases = cancel && final ? `[${final.stages.flatMap((st) => st.targets.map((t) => `${t.environment.split('-')[1]}=${t.phase}`)).join(',')}]` : '';
      outcomes.push(`${i}:${killAfter}ms${cancelAfter === undefined ? '' : `+cancel@${cancelAfter}ms`}:${outcome}${phases}:${Math.round((Date.now() - started) / 1000)}s`);

      // A cancel that reaches the workflow only once it has decided that it completed (in the
      // workflow task that frees the targets, or later) has nothing left to undo. Any earlier cancel
      // must end `cancelled`, even one that arrives together with the last health check's result.
      const cameTooLate = cancel && !failing && outcome === 'completed' && cancelCameAfterOutcome((await handle.fetchHistory()).events ?? []);
      const expectedOutcome = cancel && !cameTooLate ? 'cancelled' : failing ? 'rolled-back' : 'completed';
      // A wrong outcome says what the history shows, for a run that cannot be replayed at will.
      expect(outcome, outcome === expectedOutcome ? what : `${what}; history: ${historyOutline((await handle.fetchHistory()).events ?? [])}`).toBe(expectedOutcome);
      expect(final!.phase, what).toBe(expectedOutcome);
      if (expectedOutcome !== 'completed') {
        // Every target it got to is rolled back; the others it never touched.
        for (const t of final!.stages.flatMap((s) => s.targets)) expect(['rolled-back', 'pending', 'skipped'], `${what}: ${t.environment}`).toContain(t.phase);
      }
      for (const target of targets) {
        const was = before.get(target)!;
        const expected = expectedOutcome === 'completed' ? revision : was.deployed;
        const record = await tc.catalog.environments.require(target);
        if (expected === undefined) {
          // Ran nothing before: nothing of it remains, neither objects nor the namespace, and the catalog says so.
          expect(await liveRevisions(toolchain.kubectl, kubeconfigOf[target]!, target), `${what}: ${target}`).toEqual([]);
          expect(await kubectl(toolchain.kubectl, kubeconfigOf[target]!, ['get', 'namespace', target, '--ignore-not-found', '-o', 'name']), `${what}: namespace ${target}`).toBe('');
          expect(record.deployed, `${what}: ${target} in the catalog`).toBeUndefined();
          expect(record.currentRevision, `${what}: ${target} desired`).toBe(was.desired);
          const kinds = (await tc.catalog.history.list(target)).items.map((h) => h.kind);
          if (kinds.includes('promotion')) expect(kinds[0], `${what}: ${target} history`).toBe('undeploy');
          continue;
        }
        const expectedSpec = (await tc.catalog.revisions.require(expected)).spec;
        expect(await liveRevisions(toolchain.kubectl, kubeconfigOf[target]!, target), `${what}: ${target}`).toEqual(
          expectedRevisions(expectedSpec.services.map((s) => s.name), expected),
        );
        expect(record.deployed?.revision, `${what}: ${target} in the catalog`).toBe(expected);
        // Desired and deployed agree after a promotion and after a rollback.
        expect(record.currentRevision, `${what}: ${target} desired`).toBe(expected);
      }
      // Everything released; the operations index says how it ended.
      expect(await tc.catalog.locks.heldBy(targets), `${what}: locks`).toEqual([]);
      expect(await tc.catalog.operations.require(id), `${what}: operations index`).toMatchObject({ state: 'completed', outcome: expectedOutcome });
    }
    console.log(`chaos seed ${seed}: ${outcomes.join(' ')}`);
    expect(outcomes).toHaveLength(RUNS);
  }, 900_000);
});
