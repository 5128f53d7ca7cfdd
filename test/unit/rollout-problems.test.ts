// waitForRollouts against a fake API server: pods' reasons in the progress and in the errors,
// failing early on ProgressDeadlineExceeded and on pods stuck past stuckAfterMs, and the
// number of requests per poll. Objects are shaped as the API server (and KWOK's fault stages,
// local/kwok/pod-stages.yaml) return them.
import { KubeConfig } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { toFailure } from '../../activities/cluster-client.js';
import { KubeClient, type RequestOptions } from '../../providers/kubernetes/client.js';
import { classifyError, KubeApiError } from '../../providers/kubernetes/errors.js';
import {
  JobFailedError,
  RolloutFailedError,
  RolloutTimeoutError,
  waitForRollouts,
  type WaitOptions,
  type WorkloadRef,
  type WorkloadRollout,
} from '../../providers/kubernetes/rollout.js';
import { FakeClock } from '../support/fake-clock.js';

type Json = Record<string, unknown>;

/** A fake API server: GETs of Deployments, StatefulSets, Jobs and Pods, every request recorded. */
class FakeCluster extends KubeClient {
  readonly objects = new Map<string, Json[]>(); // "plural/namespace" → items
  readonly requests: { path: string; labelSelector?: string }[] = [];
  failPodLists = false;

  constructor() {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: 'https://fake.invalid' }],
      users: [{ name: 'fake' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    });
    super(kc, { cluster: 'fake' });
  }

  put(plural: string, namespace: string, ...items: Json[]): void {
    const list = (this.objects.get(`${plural}/${namespace}`) ?? []).filter((o) => !items.some((i) => name(i) === name(o)));
    this.objects.set(`${plural}/${namespace}`, [...list, ...items]);
  }

  override async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const labelSelector = options.query?.labelSelector as string | undefined;
    this.requests.push({ path, ...(labelSelector ? { labelSelector } : {}) });
    const m = /^\/apis?\/(?:[a-z.]+\/)?v1\/namespaces\/([^/]+)\/([a-z]+)(?:\/([^/]+))?$/.exec(path);
    if (method !== 'GET' || !m) throw new Error(`unexpected ${method} ${path}`);
    const [, namespace, plural, object] = m;
    if (plural === 'pods' && this.failPodLists) throw new KubeApiError(403, { kind: 'Status', reason: 'Forbidden', code: 403 }, undefined, {}, method, path);
    const items = this.objects.get(`${plural}/${namespace}`) ?? [];
    if (object === undefined) return structuredClone({ items, metadata: { resourceVersion: '1' } }) as T;
    const found = items.find((i) => name(i) === object);
    if (!found) throw new KubeApiError(404, { kind: 'Status', reason: 'NotFound', code: 404 }, undefined, {}, method, path);
    return structuredClone(found) as T;
  }

  /** Every request so far, as "plural/namespace". */
  paths(): string[] {
    return this.requests.map((r) => r.path.replace(/^\/apis?\/(?:[a-z.]+\/)?v1\/namespaces\/([^/]+)\/([a-z]+).*$/, '$2/$1'));
  }
}

const name = (o: Json) => (o.metadata as { name: string }).name;
const selectorOf = (app: string) => ({ 'app.kubernetes.io/name': app, 'flotilla.dev/environment': 'shop' });

interface DeploymentState {
  replicas?: number;
  generation?: number;
  observedGeneration?: number;
  updated?: number;
  available?: number;
  /** The newest ReplicaSet's pod-template-hash, named in the Progressing condition. */
  hash?: string;
  progressing?: { status: 'True' | 'False'; reason: string; message?: string };
}

function deployment(namespace: string, app: string, s: DeploymentState = {}): Json {
  const replicas = s.replicas ?? 1;
  const hash = s.hash ?? '7d9';
  const progressing = s.progressing ?? { status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${app}-${hash}" is progressing.` };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app, namespace, generation: s.generation ?? 2 },
    spec: { replicas, progressDeadlineSeconds: 120, selector: { matchLabels: selectorOf(app) }, template: {} },
    status: {
      observedGeneration: s.observedGeneration ?? s.generation ?? 2,
      replicas: s.updated ?? 0,
      updatedReplicas: s.updated ?? 0,
      readyReplicas: s.available ?? 0,
      availableReplicas: s.available ?? 0,
      conditions: [
        { type: 'Available', status: (s.available ?? 0) >= replicas ? 'True' : 'False', reason: 'MinimumReplicasUnavailable' },
        { type: 'Progressing', status: progressing.status, reason: progressing.reason, message: progressing.message ?? '' },
      ],
    },
  };
}

function doneDeployment(namespace: string, app: string): Json {
  return deployment(namespace, app, { replicas: 1, updated: 1, available: 1, progressing: { status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${app}-7d9" has successfully progressed.` } });
}

interface ContainerState {
  name: string;
  ready?: boolean;
  restartCount?: number;
  waiting?: { reason: string; message?: string };
  running?: boolean;
  lastExit?: { reason: string; exitCode: number };
}

function pod(namespace: string, podName: string, labels: Record<string, string>, s: { unschedulable?: string; containers?: ContainerState[]; init?: ContainerState[] } = {}): Json {
  const status = (c: ContainerState) => ({
    name: c.name,
    image: `ghcr.io/acme/${c.name}:2`,
    ready: c.ready ?? false,
    restartCount: c.restartCount ?? 0,
    state: c.waiting ? { waiting: c.waiting } : c.running || c.ready ? { running: { startedAt: '2025-01-01T00:00:00Z' } } : { waiting: { reason: 'ContainerCreating' } },
    ...(c.lastExit ? { lastState: { terminated: c.lastExit } } : {}),
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: podName, namespace, labels },
    spec: {},
    status: s.unschedulable
      ? { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: s.unschedulable }] }
      : {
          phase: (s.containers ?? []).every((c) => c.ready) ? 'Running' : 'Pending',
          conditions: [{ type: 'PodScheduled', status: 'True' }],
          ...(s.init ? { initContainerStatuses: s.init.map(status) } : {}),
          containerStatuses: (s.containers ?? []).map(status),
        },
  };
}

const podLabels = (app: string, hash = '7d9') => ({ ...selectorOf(app), 'pod-template-hash': hash });
const INSUFFICIENT_CPU = '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.';
const BACKOFF = 'Back-off pulling image "ghcr.io/acme/frontend:2": ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image';
const PULL_ERROR = 'rpc error: code = NotFound desc = failed to pull and unpack image "ghcr.io/acme/frontend:2"';

/** Starts a wait; `state()` says whether it has finished and how. */
function start(cluster: FakeCluster, workloads: WorkloadRef[], options: Partial<WaitOptions> & { clock: FakeClock }) {
  const polls: WorkloadRollout[][] = [];
  let outcome: { value?: WorkloadRollout[]; error?: unknown } | undefined;
  const promise = waitForRollouts(cluster, workloads, { timeoutMs: 600_000, pollMs: 5_000, diagnoseAfterMs: 0, ...options, onProgress: (r) => polls.push(structuredClone(r)) }).then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  return { polls, state: () => outcome, promise };
}

/** Moves the fake clock and lets the poll it wakes run to its next sleep. */
async function tick(clock: FakeClock, ms: number): Promise<void> {
  await clock.advance(ms);
  await new Promise((resolve) => setImmediate(resolve));
}

async function flush(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

const frontend: WorkloadRef = { kind: 'Deployment', namespace: 'shop', name: 'frontend' };

describe('waitForRollouts: why pods are not ready', () => {
  it('reports no problems and lists no pods for a workload that is done', async () => {
    const cluster = new FakeCluster();
    const clock = new FakeClock();
    cluster.put('deployments', 'shop', doneDeployment('shop', 'frontend'));
    cluster.put('pods', 'shop', pod('shop', 'frontend-7d9-a', podLabels('frontend'), { containers: [{ name: 'frontend', ready: true }] }));
    const wait = start(cluster, [frontend], { clock });
    await flush();
    expect(wait.state()?.value).toEqual([{ kind: 'Deployment', namespace: 'shop', name: 'frontend', desired: 1, updated: 1, ready: 1, done: true }]);
    expect(cluster.paths()).toEqual(['deployments/shop']);
  });

  it('reports an empty problem list while healthy pods are still starting', async () => {
    const cluster = new FakeCluster();
    const clock = new FakeClock();
    cluster.put('deployments', 'shop', deployment('shop', 'frontend', { replicas: 2, updated: 2, available: 1 }));
    cluster.put('pods', 'shop',
      pod('shop', 'frontend-7d9-a', podLabels('frontend'), { containers: [{ name: 'frontend', ready: true }] }),
      pod('shop', 'frontend-7d9-b', podLabels('frontend'), { containers: [{ name: 'frontend' }] }), // ContainerCreating
    );
    const wait = start(cluster, [frontend], { clock });
    await flush();
    expect(wait.polls).toHaveLength(1);
    expect(wait.polls[0]![0]).toMatchObject({ done: false, problems: [] });
    cluster.put('deployments', 'shop', deployment('shop', 'frontend', { replicas: 2, updated: 2, available: 2 }));
    await tick(clock, 5_000);
    expect(wait.state()?.value?.[0]).toMatchObject({ done: true });
    expect(wait.state()?.value?.[0]?.problems).toBeUndefined();
  });

  it('fails at once on ProgressDeadlineExceeded, with the pods\' reasons, blaming only the new ReplicaSet\'s pods', async () => {
    const cluster = new FakeCluster();
    const clock = new FakeClock();
    cluster.put('deployments', 'shop', deployment('shop', 'frontend', {
      updated: 1, available: 0,
      progressing: { status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "frontend-7d9" has timed out progressing.' },
    }));
    cluster.put('pods', 'shop',
      pod('shop', 'frontend-7d9-x2', podLabels('frontend'), { unschedulable: '0/1 nodes are available: 1 Insufficient cpu.' }),
      // The old ReplicaSet's pod, crash looping for its own reasons: not this rollout's problem.
      pod('shop', 'frontend-5c4-old', podLabels('frontend', '5c4'), { containers: [{ name: 'frontend', restartCount: 9, waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s' } }] }),
      // Another Deployment's pod in the same namespace.
      pod('shop', 'api-7d9-z', podLabels('api'), { unschedulable: INSUFFICIENT_CPU }),
    );
    const wait = start(cluster, [frontend], { clock });
    await flush();
    const error = wait.state()?.error;
    expect(error).toBeInstanceOf(RolloutFailedError);
    expect((error as Error).message).toBe(
      'rollout failed: Deployment shop/frontend: ProgressDeadlineExceeded (ReplicaSet "frontend-7d9" has timed out progressing.); ' +
        'pod frontend-7d9-x2: Unschedulable: 0/1 nodes are available: 1 Insufficient cpu.',
    );
    expect(clock.sleeps).toEqual([]); // the first poll decided it
    expect((error as RolloutFailedError).workloads).toEqual([expect.objectContaining({
      kind: 'Deployment', name: 'frontend',
      stalled: { reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "frontend-7d9" has timed out progressing.' },
      problems: [{ pod: 'frontend-7d9-x2', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' }],
    })]);
    expect(classifyError(error)).toMatchObject({ retryable: false, reason: 'RolloutFailed' });
    expect(wait.polls[0]![0]!.problems).toHaveLength(1);
  });

  it('ignores a ProgressDeadlineExceeded of a generation the controller has not observed yet', async () => {
    const cluster = new FakeCluster();
    const clock = new FakeClock();
    cluster.put('deployments', 'shop', deployment('shop', 'frontend', {
      generation: 3, observedGeneration: 2, updated: 1,
      progressing: { status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "frontend-5c4" has timed out progressing.' },
    }));
    const wait = start(cluster, [frontend], { clock });
    await flush();
    expect(wait.state()).toBeUndefined();
    expect(wait.polls[0]![0]).toMatchObject({ done: false, problems: [] });
    expect(wait.polls[0]![0]!.stalled).toBeUndefined();
  });

  it('fails an image pull after stuckAfterMs, not before, though ErrImagePull and ImagePullBackOff alternate', async () => {
    const cluster = new FakeCluster();
    const clock = new FakeClock();
    cluster.put('deployments', 'shop', deployment('shop', 'frontend', { updated: 1 }));
    const pulling = (reason: string, message: string) =>
      pod('shop', 'frontend-7d9-x2', podLabels('frontend'), { containers: [{ name: 'frontend', waiting: { reason, message } }] });
    cluster.put('pods', 'shop', pulling('ErrImagePull', PULL_ERROR));
    const wait = start(cluster, [frontend], { clock, stuckAfterMs: 60_000 });
    await flush();
    expect(wait.polls[0]![0]!.problems).toEqual([{ pod: 'frontend-7d9-x2', container: 'frontend', reason: 'ErrImagePull', message: PULL_ERROR }]);
    for (let t = 5_000; t < 60_000; t += 5_000) {
      cluster.put('pods', 'shop', t % 10_000 === 0 ? pulling('ErrImagePull', PULL_ERROR) : pulling('ImagePullBackOff', BACKOFF));
      await tick(clock, 5_000);
      expect(wait.state(), `at ${t} ms`).toBeUndefined();
    }
    expect(wait.polls.at(-1)![0]!.problems).toEqual([{ pod: 'frontend-7d9-x2', container: 'frontend', reason: 'ImagePullBackOff', message: BACKOFF }]);
    cluster.put('pods', 'shop', pulling('ImagePullBackOff', BACKOFF));
    await tick(clock, 5_000); // 60 s since the first sighting
    const error = wait.state()?.error;
    expect(error).toBeInstanceOf(RolloutFailedError);
    expect((error as Error).message).toBe(
      `rollout failed: Deployment shop/frontend: ImagePullBackOff for 60s; pod frontend-7d9-x2: ImagePullBackOff (container frontend): ${BACKOFF}`,
    );
    expect((error as RolloutFailedError).workloads[0]!.stuck).toEqual([expect.objectContaining({ pod: 'frontend-7d9-x2', reason: 'ImagePullBackOff', forMs: 60_000 })]);
  });

  it('starts counting again when the pod is replaced or its container becomes ready', async () => {
    const cluster = new FakeCluster();
    const clock = new FakeClock();
    cluster.put('deployments', 'shop', deployment('shop', 'frontend', { updated: 1 }));
    const stuckPod = (podName: string) => pod('shop', podName, podLabels('frontend'), { containers: [{ name: 'frontend', waiting: { reason: 'ImagePullBackOff', message: BACKOFF } }] });
    cluster.objects.set('pods/shop', [stuckPod('frontend-7d9-a')]);
    const wait = start(cluster, [frontend], { clock, stuckAfterMs: 20_000 });
    await flush();
    await tick(clock, 15_000);
    cluster.objects.set('pods/shop', [stuckPod('frontend-7d9-b')]); // a new pod: a new count
    await tick(clock, 15_000);
    expect(wait.state()).toBeUndefined();
    await tick(clock, 15_000);
    expect(wait.state()).toBeUndefined();
    await tick(clock, 5_000); // 20 s since frontend-7d9-b was first seen
    expect(wait.state()?.error).toBeInstanceOf(RolloutFailedError);
    expect((wait.state()?.error as Error).message).toContain('pod frontend-7d9-b: ImagePullBackOff');
  });

  it('fails a crash loop after stuckAfterMs, also when a poll catches the container between two back-offs', async () => {
    const cluster = new FakeCluster();
    const clock = new FakeClock();
    cluster.put('deployments', 'shop', deployment('shop', 'frontend', { updated: 1 }));
    const crashing = (restartCount: number, running: boolean) => pod('shop', 'frontend-7d9-x2', podLabels('frontend'), {
      containers: [{
        name: 'frontend', restartCount, lastExit: { reason: 'Error', exitCode: 1 },
        ...(running ? { running: true } : { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=frontend pod=frontend-7d9-x2_shop(0b1c)' } }),
      }],
    });
    cluster.put('pods', 'shop', crashing(3, false));
    const wait = start(cluster, [frontend], { clock, stuckAfterMs: 30_000 });
    await flush();
    expect(wait.polls[0]![0]!.problems).toEqual([{
      pod: 'frontend-7d9-x2', container: 'frontend', reason: 'CrashLoopBackOff', restartCount: 3,
      message: 'back-off 40s restarting failed container=frontend pod=frontend-7d9-x2_shop(0b1c) (last exit: Error, code 1)',
    }]);
    cluster.put('pods', 'shop', crashing(4, true)); // started again, not ready
    await tick(clock, 15_000);
    expect(wait.polls.at(-1)![0]!.problems).toEqual([]);
    cluster.put('pods', 'shop', crashing(4, false));
    await tick(clock, 10_000);
    expect(wait.state()).toBeUndefined();
    await tick(clock, 5_000);
    const error = wait.state()?.error as RolloutFailedError;
    expect(error).toBeInstanceOf(RolloutFailedError);
    expect(error.message).toBe(
      'rollout failed: Deployment shop/frontend: CrashLoopBackOff for 30s; pod frontend-7d9-x2: CrashLoopBackOff (container frontend, 4 restarts): ' +
        'back-off 40s restarting failed container=frontend pod=frontend-7d9-x2_shop(0b1c) (last exit: Error, code 1)',
    );
  });

  it('reports Unschedulable in the progress and in the timeout error, and does not fail fast on it', async () => {
    const cluster = new FakeCluster();
    const clock = new FakeClock();
    cluster.put('deployments', 'shop', deployment('shop', 'frontend', { replicas: 1, updated: 1 }));
    cluster.put('pods', 'shop', pod('shop', 'frontend-7d9-x2', podLabels('frontend'), { unschedulable: INSUFFICIENT_CPU }));
    const wait = start(cluster, [frontend], { clock, timeoutMs: 90_000, stuckAfterMs: 10_000 });
    await flush();
    for (let t = 0; t < 90_000; t += 5_000) {
      expect(wait.state(), `at ${t} ms`).toBeUndefined();
      await tick(clock, 5_000);
    }
    expect(wait.state()).toBeUndefined(); // at 90 s exactly: not past the deadline yet
    for (const poll of wait.polls) {
      expect(poll[0]!.problems).toEqual([{ pod: 'frontend-7d9-x2', reason: 'Unschedulable', message: INSUFFICIENT_CPU }]);
    }
    await tick(clock, 5_000);
    const error = wait.state()?.error;
    expect(error).toBeInstanceOf(RolloutTimeoutError);
    expect((error as Error).message).toBe(`rollout not complete after 90s: Deployment shop/frontend 1/1 of the new revision, 0 available in all; pod frontend-7d9-x2: Unschedulable: ${INSUFFICIENT_CPU}`);
  });

  it('reports init containers and says identical problems of many pods once', async () => {
    const cluster = new FakeCluster();
    const clock = new FakeClock();
    cluster.put('deployments', 'shop', deployment('shop', 'frontend', { replicas: 5, updated: 5 }));
    cluster.put('pods', 'shop',
      pod('shop', 'frontend-7d9-a', podLabels('frontend'), {
        init: [{ name: 'setup', waiting: { reason: 'CreateContainerConfigError', message: 'secret "shop-secrets" not found' } }],
        containers: [{ name: 'frontend', waiting: { reason: 'PodInitializing' } }],
      }),
      ...['b', 'c', 'd', 'e'].map((x) => pod('shop', `frontend-7d9-${x}`, podLabels('frontend'), { unschedulable: INSUFFICIENT_CPU })),
    );
    const wait = start(cluster, [frontend], { clock, timeoutMs: 1_000 });
    await flush();
    expect(wait.polls[0]![0]!.problems).toEqual([
      { pod: 'frontend-7d9-a', container: 'setup', init: true, reason: 'CreateContainerConfigError', message: 'secret "shop-secrets" not found' },
      ...['b', 'c', 'd', 'e'].map((x) => ({ pod: `frontend-7d9-${x}`, reason: 'Unschedulable', message: INSUFFICIENT_CPU })),
    ]);
    await tick(clock, 5_000);
    expect((wait.state()?.error as Error).message).toBe(
      'rollout not complete after 1s: Deployment shop/frontend 5/5 of the new revision, 0 available in all; ' +
        'pod frontend-7d9-a: CreateContainerConfigError (init container setup): secret "shop-secrets" not found; ' +
        `pods frontend-7d9-b, frontend-7d9-c and 2 more: Unschedulable: ${INSUFFICIENT_CPU}`,
    );
  });

  it('fails a Job whose pod cannot pull its image, and still reports a failed Job as JobFailedError', async () => {
    const cluster = new FakeCluster();
    const clock = new FakeClock();
    const job = (conditions: Json[]) => ({
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate', namespace: 'shop' },
      spec: { completions: 1, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } } },
      status: { active: 1, conditions },
    });
    cluster.put('jobs', 'shop', job([]));
    cluster.put('pods', 'shop', pod('shop', 'migrate-q', { 'batch.kubernetes.io/controller-uid': 'u1' }, { containers: [{ name: 'migrate', waiting: { reason: 'ImagePullBackOff', message: BACKOFF } }] }));
    const wait = start(cluster, [{ kind: 'Job', namespace: 'shop', name: 'migrate' }], { clock, stuckAfterMs: 10_000 });
    await flush();
    await tick(clock, 5_000);
    await tick(clock, 5_000);
    expect((wait.state()?.error as Error).message).toMatch(/^rollout failed: Job shop\/migrate: ImagePullBackOff for 10s; pod migrate-q: ImagePullBackOff/);

    const failed = start(cluster, [{ kind: 'Job', namespace: 'shop', name: 'migrate' }], { clock });
    cluster.put('jobs', 'shop', job([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }]));
    await tick(clock, 0);
    await flush();
    expect(failed.state()?.error).toBeInstanceOf(JobFailedError);
  });

  it('keeps waiting, without problems, when the pods cannot be listed', async () => {
    const cluster = new FakeCluster();
    const clock = new FakeClock();
    cluster.failPodLists = true;
    cluster.put('deployments', 'shop', deployment('shop', 'frontend', { updated: 1 }));
    const wait = start(cluster, [frontend], { clock });
    await flush();
    expect(wait.state()).toBeUndefined();
    expect(wait.polls[0]![0]!.problems).toBeUndefined();
  });
});

describe('waitForRollouts: requests per poll', () => {
  it('lists pods once per namespace per poll, narrowed by the labels the selectors share, and not once all is done', async () => {
    const cluster = new FakeCluster();
    const clock = new FakeClock();
    const apps = { a: ['web', 'api', 'cart'], b: ['search', 'email'] };
    for (const [ns, names] of Object.entries(apps)) {
      for (const app of names) {
        cluster.put('deployments', ns, deployment(ns, app, { updated: 1 }));
        cluster.put('pods', ns, pod(ns, `${app}-7d9-p`, podLabels(app), { unschedulable: INSUFFICIENT_CPU }));
      }
    }
    cluster.put('statefulsets', 'a', {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'a', generation: 1 },
      spec: { replicas: 1, selector: { matchLabels: selectorOf('db') } },
      status: { observedGeneration: 1, replicas: 1, readyReplicas: 0, updatedReplicas: 1, currentRevision: 'db-1', updateRevision: 'db-1' },
    });
    cluster.put('pods', 'a', pod('a', 'db-0', { ...selectorOf('db'), 'controller-revision-hash': 'db-1' }, { containers: [{ name: 'postgres', restartCount: 2, waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s' } }] }));
    const workloads: WorkloadRef[] = [
      ...Object.entries(apps).flatMap(([namespace, names]) => names.map((n) => ({ kind: 'Deployment' as const, namespace, name: n }))),
      { kind: 'StatefulSet', namespace: 'a', name: 'db' },
    ];
    const wait = start(cluster, workloads, { clock, stuckAfterMs: 3_600_000 });
    await flush();
    await tick(clock, 5_000);
    await tick(clock, 5_000);
    expect(wait.polls).toHaveLength(3);
    const perPoll = [...cluster.paths()].sort();
    expect(perPoll).toEqual(['deployments/a', 'deployments/b', 'pods/a', 'pods/b', 'statefulsets/a'].flatMap((p) => [p, p, p]).sort());
    expect(cluster.requests.filter((r) => r.path.endsWith('/pods')).map((r) => r.labelSelector)).toEqual(expect.arrayContaining([
      'app.kubernetes.io/name in (api,cart,db,web),flotilla.dev/environment=shop',
      'app.kubernetes.io/name in (email,search),flotilla.dev/environment=shop',
    ]));
    // Every workload got its own pod's reason, and only its own.
    for (const r of wait.polls.at(-1)!) expect(r.problems!.map((p) => p.pod)).toEqual([r.kind === 'StatefulSet' ? 'db-0' : `${r.name}-7d9-p`]);
    expect(wait.polls.at(-1)!.find((r) => r.name === 'db')!.problems![0]).toMatchObject({ reason: 'CrashLoopBackOff', restartCount: 2 });

    // Everything done: the workload lists only.
    for (const [ns, names] of Object.entries(apps)) for (const app of names) cluster.put('deployments', ns, doneDeployment(ns, app));
    cluster.put('statefulsets', 'a', {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'a', generation: 1 },
      spec: { replicas: 1, selector: { matchLabels: selectorOf('db') } },
      status: { observedGeneration: 1, replicas: 1, readyReplicas: 1, updatedReplicas: 1, currentRevision: 'db-1', updateRevision: 'db-1' },
    });
    cluster.requests.length = 0;
    await tick(clock, 5_000);
    expect(wait.state()?.value?.every((r) => r.done)).toBe(true);
    expect([...cluster.paths()].sort()).toEqual(['deployments/a', 'deployments/b', 'statefulsets/a']);
  });
});

describe('waitForRollouts: no pod lists for a rollout that finishes quickly', () => {
  it('looks at pods only after diagnoseAfterMs (default 5 s), or at once when the time is up', async () => {
    const cluster = new FakeCluster();
    const clock = new FakeClock();
    cluster.put('deployments', 'shop', deployment('shop', 'frontend', { updated: 1 }));
    cluster.put('pods', 'shop', pod('shop', 'frontend-7d9-x2', podLabels('frontend'), { unschedulable: INSUFFICIENT_CPU }));
    const quick = start(cluster, [frontend], { clock, pollMs: 250, diagnoseAfterMs: undefined });
    await flush();
    for (let i = 0; i < 3; i++) await tick(clock, 250);
    cluster.put('deployments', 'shop', doneDeployment('shop', 'frontend'));
    await tick(clock, 250);
    expect(quick.state()?.value?.[0]?.done).toBe(true);
    expect(cluster.paths()).toEqual(Array(5).fill('deployments/shop'));
    expect(quick.polls.every((p) => p[0]!.problems === undefined)).toBe(true);

    cluster.requests.length = 0;
    cluster.put('deployments', 'shop', deployment('shop', 'frontend', { updated: 1 }));
    const slow = start(cluster, [frontend], { clock, pollMs: 1_000, diagnoseAfterMs: undefined });
    await flush();
    for (let i = 0; i < 5; i++) await tick(clock, 1_000);
    expect(cluster.paths()).toEqual([...Array(6).fill('deployments/shop'), 'pods/shop']);
    expect(slow.polls.map((p) => p[0]!.problems?.length)).toEqual([undefined, undefined, undefined, undefined, undefined, 1]);

    // A health check (timeout 0) gets the reasons into its message: the poll past the deadline looks.
    const check = start(cluster, [frontend], { clock, timeoutMs: 0, pollMs: 1, diagnoseAfterMs: undefined });
    await flush();
    await tick(clock, 1);
    expect(check.state()?.error).toBeInstanceOf(RolloutTimeoutError);
    expect((check.state()?.error as Error).message).toContain(`pod frontend-7d9-x2: Unschedulable: ${INSUFFICIENT_CPU}`);
  });
});

describe('toFailure', () => {
  it('turns RolloutFailedError into a non-retryable ApplicationFailure carrying the workloads', () => {
    const workload = {
      kind: 'Deployment' as const, namespace: 'shop', name: 'frontend', desired: 1, updated: 1, ready: 0, done: false,
      stalled: { reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "frontend-7d9" has timed out progressing.' },
      problems: [{ pod: 'frontend-7d9-x2', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' }],
    };
    let failure: unknown;
    try {
      toFailure(new RolloutFailedError([workload]));
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'RolloutFailed', nonRetryable: true, details: [[workload]] });
    expect((failure as Error).message).toContain('pod frontend-7d9-x2: Unschedulable: 0/1 nodes are available: 1 Insufficient cpu.');
  });
});
