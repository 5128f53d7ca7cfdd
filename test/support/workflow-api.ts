// The test API (startTestApi: real routes over an in-memory SQLite catalog) with its operations
// run by the REAL workflows (promote, its deployEnvironment children, onboardCluster) on
// Temporal's time-skipping test server, through the real temporalStarter. For API and CLI unit
// tests whose answers come from a workflow: approval refusals (four eyes, N approvers, a stage
// already decided, nothing waiting) are the workflow validator's own.
//
// Activities: those that only read or write the catalog are the real ones over the test API's
// catalog (planPromotion, planDeploy, recordDeployment, recordUndeploy, the environment locks,
// the operations index, setClusterStatus); those that would reach a cluster are stubs that
// succeed. `hold` parks one activity call until the test lets it go, to look at the workflow
// mid-way (e.g. while a stage deploys, nothing awaits approval).
//
// Time: the test server's clock is locked (it runs in real time) unless a test calls `skip`, so
// an approval timeout (24 h by default) never fires while a test looks; `skip` moves workflow
// time on (a soak of 30 s passes in milliseconds).
//
//   const api = await startWorkflowApi();   // one environment and one bundle per test file
//   const { body } = await api.request('POST', '/v1/promotions', { body: … });
//   await api.waitForPromotion(body.operationId, (s) => s.phase === 'awaiting-approval');
//   await api.close();
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { OperationDescription, OperationStarter, StartedOperation } from '../../api/starter.js';
import { temporalStarter } from '../../api/temporal.js';
import { createDeployActivities } from '../../activities/deploy.js';
import { createCloneActivities } from '../../activities/clone.js';
import { createDrillActivities } from '../../activities/drill.js';
import { createDiscoveryActivities } from '../../activities/discovery.js';
import { createChartActivities } from '../../activities/charts.js';
import type { DataCopyActivities } from '../../activities/data-copy-types.js';
import type { Activities } from '../../activities/index.js';
import { createOnboardingActivities } from '../../activities/onboarding.js';
import { createOperationActivities } from '../../activities/operations.js';
import { createPromotionActivities } from '../../activities/promotion.js';
import { createScheduleActivities } from '../../activities/schedule.js';
import { createOffboardingActivities } from '../../activities/offboarding.js';
import { createStopStartActivities } from '../../activities/stop-start.js';
import { createTeardownActivities } from '../../activities/teardown.js';
import type { ClusterDirectory } from '../../providers/cluster-directory.js';
import type { Catalog } from '../../store/catalog.js';
import { GLOBAL_SCOPE } from '../../store/secrets.js';
import { cancelSignal, promotionStateQuery, type PromotionState } from '../../workflows/messages.js';
import { startTestApi, type TestApi } from './api-server.js';
import { MemorySchedules } from './memory-schedules.js';
import { sharedWorkflowBundle, timeSkippingEnv, withWorker } from './workflow-env.js';

/** Built once per test file (vitest gives each file its own modules), and only if asked for. */
const bundle = sharedWorkflowBundle();

type AllActivities = Activities & DataCopyActivities;
type ActivityName = keyof AllActivities;

export interface Hold {
  /** Resolves when the held call has started (and waits). */
  reached: Promise<void>;
  /** Lets it (or, if not reached yet, the next matching call) run. */
  release(): void;
}

export interface WorkflowApi extends TestApi {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  /** Every start the API asked of Temporal, in order (recorded on the way through to the real starter). */
  starts: { workflowType: string; args: unknown[]; workflowId: string }[];
  /** The schedules the API made (in memory: the time-skipping server has no schedules). */
  schedules: MemorySchedules;
  /** Every signal the API sent, in order. */
  signals: { workflowId: string; name: string; args: unknown[] }[];
  /** Every activity call the workflows made, in order. */
  activityCalls: { activity: ActivityName; input: unknown }[];
  /** The promotion's state, from the workflow's query (open or closed). */
  promotion(id: string): Promise<PromotionState>;
  /** Polls the workflow's query until `until(state)` holds; fails naming `what` (and the last state) after `timeoutMs`. */
  waitForPromotion(id: string, until: (state: PromotionState) => boolean, what?: string, timeoutMs?: number): Promise<PromotionState>;
  /** Polls Temporal until the run is closed; its description. */
  waitForEnd(id: string, timeoutMs?: number): Promise<OperationDescription>;
  /** Parks the next call of `activity` whose input matches, until released. */
  hold<N extends ActivityName>(activity: N, match?: (input: Parameters<AllActivities[N]>[0]) => boolean): Hold;
  /** Moves the test server's clock on by `ms` (timers due meanwhile fire), then locks it again. */
  skip(ms: number): Promise<void>;
  /**
   * Lets every held call go, cancels every promotion still running (but those in `keep`) and
   * waits until they have ended, so a test that failed half-way leaves no target held for the next.
   */
  settle(keep?: string[]): Promise<void>;
}

/** A cluster directory that refuses: unit tests reach no cluster (a stub missing here would say so). */
const noClusters: ClusterDirectory = {
  async kubeConfig(cluster) {
    throw new Error(`unit tests reach no cluster (asked for "${cluster}")`);
  },
};

/** Real catalog-only activities over `catalog`; stubs that succeed for everything that would touch a cluster. */
export function workflowActivities(catalog: Catalog): Activities & DataCopyActivities {
  const deps = { catalog, clusters: noClusters };
  const deploy = createDeployActivities(deps);
  const promotion = createPromotionActivities(deps);
  const operations = createOperationActivities(deps);
  const onboarding = createOnboardingActivities(deps);
  const clones = createCloneActivities(deps);
  const schedules = createScheduleActivities(deps);
  const teardown = createTeardownActivities(deps);
  const offboarding = createOffboardingActivities(deps);
  const stopStart = createStopStartActivities(deps);
  const drills = createDrillActivities({ ...deps, databases: { open: () => Promise.reject(new Error('unit tests reach no database')) } });
  return {
    // The catalog: real.
    planPromotion: promotion.planPromotion,
    planDeploy: deploy.planDeploy,
    recordDeployment: deploy.recordDeployment,
    recordUndeploy: deploy.recordUndeploy,
    acquireEnvironments: operations.acquireEnvironments,
    releaseEnvironments: operations.releaseEnvironments,
    reportOperation: operations.reportOperation,
    setClusterStatus: onboarding.setClusterStatus,
    planClone: clones.planClone,
    markClone: clones.markClone,
    forgetCloneEnvironment: clones.forgetCloneEnvironment,
    saveDrillReport: drills.saveDrillReport,
    previousClones: schedules.previousClones,
    writeScheduledClone: schedules.writeScheduledClone,
    // Discovery: real for kubeconfig secrets in the catalog; no cloud adapters.
    discoverClusters: createDiscoveryActivities({ cloud: { readKubeconfig: (secret) => catalog.secrets.require(GLOBAL_SCOPE, secret) } }).discoverClusters,
    planTeardown: teardown.planTeardown,
    forgetEnvironment: teardown.forgetEnvironment,
    planOffboarding: offboarding.planOffboarding,
    // No helm in the unit tier: a chart to pin or render fails (HelmNotConfigured).
    prepareCharts: createChartActivities({ catalog }).prepareCharts,
    planStopStart: stopStart.planStopStart,
    markStarted: stopStart.markStarted,
    lifecycleTargets: stopStart.lifecycleTargets,
    finishOffboarding: offboarding.finishOffboarding,
    // Clusters: stubs that succeed.
    async applyRevision() {
      return { created: 1, configured: 0, unchanged: 0 };
    },
    async waitForRevision() {
      return [];
    },
    async pruneRevision() {
      return { deleted: [] };
    },
    async findPrunable() {
      return { objects: [] };
    },
    async removeDeployment() {
      return { deleted: [], namespaceDeleted: false };
    },
    async runLifecycleJob({ hook }: { hook: 'beforeDeploy' | 'afterDeploy' | 'beforeStop' | 'beforeTeardown' }) {
      return { hook, jobs: [] };
    },
    async stopWorkloads({ environment, operationId, requestedBy }) {
      // The catalog's side as the real activity writes it; nothing in a cluster to scale.
      await catalog.environments.setStopped(environment, { at: new Date().toISOString(), by: requestedBy, operationId, replicas: {} });
      return { replicas: {} };
    },
    async startWorkloads() {
      return { replicas: {} };
    },
    async removeEnvironmentObjects() {
      return { deleted: [], keptClaims: [], namespace: 'deleted' as const };
    },
    async checkHealth() {
      return { healthy: true };
    },
    async probeCluster() {
      return { gitVersion: 'v1.34.4', server: 'https://127.0.0.1:6443' };
    },
    async installBaseline() {
      return { applied: 0 };
    },
    async removeBaseline() {
      return { removed: 0 };
    },
    async readCapacity() {
      return { nodes: 1, cpu: '4', memory: '16Gi', pods: 110 };
    },
    async deleteNamespace() {
      return { deleted: false };
    },
    // Databases: stubs that find nothing to refuse and copy nothing.
    async checkDataPolicy() {
      return { tables: 0, unruledPersonal: [] };
    },
    async copyDatabase({ copyId, mode }) {
      return { copyId, mode, tables: [], rows: 0, bytes: 0, phases: { schemaMs: 0, dataMs: 0, postDataMs: 0 }, durationMs: 0, unruledPersonal: [], attempt: 1 };
    },
    async dropClonedData() {
      return { outcome: 'already-empty' as const };
    },
    async validateClone() {
      return [{ name: 'workloads ready', ok: true }];
    },
  };
}

export async function startWorkflowApi(): Promise<WorkflowApi> {
  const [env, workflowBundle] = await Promise.all([timeSkippingEnv(), bundle()]);
  const taskQueue = `api-${process.pid}-${randomUUID()}`;
  const starts: WorkflowApi['starts'] = [];
  const signals: WorkflowApi['signals'] = [];
  const real = temporalStarter(env.client, taskQueue);
  // The real starter; starts and signals are also noted, so tests can say what the API sent.
  const operations: OperationStarter = {
    ...real,
    async start(workflowType, args, workflowId): Promise<StartedOperation> {
      const started = await real.start(workflowType, args, workflowId);
      starts.push({ workflowType, args, workflowId });
      return started;
    },
    async signal(workflowId, signal, ...args) {
      await real.signal!(workflowId, signal, ...args);
      signals.push({ workflowId, name: signal.name, args });
    },
  };
  const schedules = new MemorySchedules();
  const api = await startTestApi({ operations, schedules });

  const activityCalls: WorkflowApi['activityCalls'] = [];
  const holds: { activity: ActivityName; match: (input: never) => boolean; taken: boolean; arrive: () => void; gate: Promise<void>; open: () => void }[] = [];
  const realActivities = workflowActivities(api.catalog);
  const activities = Object.fromEntries(Object.entries(realActivities).map(([name, fn]) => [name, async (input: never) => {
    activityCalls.push({ activity: name as ActivityName, input });
    const hold = holds.find((h) => !h.taken && h.activity === name && h.match(input));
    if (hold) {
      hold.taken = true;
      hold.arrive();
      await hold.gate;
    }
    return (fn as (input: never) => Promise<unknown>)(input);
  }]));

  let stopWorker!: () => void;
  const stopped = new Promise<void>((resolve) => (stopWorker = resolve));
  let workerError: unknown;
  const worker = withWorker(env, { activities, workflowBundle, taskQueue }, () => stopped).catch((error: unknown) => {
    workerError = error;
  });
  const alive = () => {
    if (workerError) throw new Error(`the test worker stopped: ${String(workerError)}`, { cause: workerError });
  };

  async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: T | undefined;
    let lastError: unknown;
    for (;;) {
      alive();
      try {
        last = await read();
        lastError = undefined;
        if (done(last)) return last;
      } catch (error) {
        lastError = error;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${lastError ? String(lastError) : JSON.stringify(last)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  const promotion = (id: string) => env.client.workflow.getHandle(id).query(promotionStateQuery);

  return {
    ...api,
    env, taskQueue, starts, signals, activityCalls, schedules,
    promotion,
    waitForPromotion(id, until, what = 'the promotion', timeoutMs = 20_000) {
      return poll(() => promotion(id), until, `${what} (${id})`, timeoutMs);
    },
    async waitForEnd(id, timeoutMs = 20_000) {
      return poll(async () => (await real.describe!(id))!, (d) => d !== undefined && d.status !== 'RUNNING', `${id} to end`, timeoutMs);
    },
    hold(activity, match = () => true) {
      let arrive!: () => void;
      let open!: () => void;
      const reached = new Promise<void>((resolve) => (arrive = resolve));
      const gate = new Promise<void>((resolve) => (open = resolve));
      holds.push({ activity, match: match as (input: never) => boolean, taken: false, arrive, gate, open });
      return { reached, release: open };
    },
    async settle(keep = []) {
      for (const h of holds) h.open();
      const promotions = [...new Set(starts.filter((s) => s.workflowType === 'promote' && !keep.includes(s.workflowId)).map((s) => s.workflowId))];
      await Promise.all(promotions.map(async (id) => {
        if ((await real.describe!(id))?.status !== 'RUNNING') return;
        await env.client.workflow.getHandle(id).signal(cancelSignal, { by: 'test', reason: 'left running by a test' }).catch(() => undefined);
        await poll(async () => (await real.describe!(id))!, (d) => d.status !== 'RUNNING', `${id} to end`, 20_000);
      }));
    },
    async skip(ms) {
      alive();
      await env.sleep(ms);
    },
    async close() {
      for (const h of holds) h.open();
      stopWorker();
      await worker;
      await api.close();
      await env.teardown();
    },
  };
}
