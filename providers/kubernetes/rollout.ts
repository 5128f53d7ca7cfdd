// Waiting for workloads to roll out: Deployments and StatefulSets until their pods are updated
// and ready, Jobs until they succeed (or fail, which is an error). Status is read the way
// `kubectl rollout status` and `kubectl wait --for=condition=complete` read it.
import type { KubeConfig, V1Deployment, V1Job, V1StatefulSet } from '@kubernetes/client-node';
import { toClient, type KubeClient } from './client.js';
import { systemClock, type Clock } from './clock.js';
import { KubeLayerError } from './errors.js';
import { listObjects, readObject, type LiveObject } from './read.js';

export interface DeploymentRollout {
  namespace: string;
  name: string;
  replicas: number;
  updated: number;
  ready: number;
  available: number;
  done: boolean;
}

/** The rollout state of one Deployment, read the way `kubectl rollout status` reads it. */
export function deploymentRollout(deployment: V1Deployment): DeploymentRollout {
  const spec = deployment.spec;
  const status = deployment.status ?? {};
  const replicas = spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const observed = (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  const done =
    observed &&
    updated >= replicas &&
    (status.replicas ?? 0) <= updated && // no old replicas left
    available >= replicas;
  return {
    namespace: deployment.metadata?.namespace ?? '',
    name: deployment.metadata?.name ?? '',
    replicas,
    updated,
    ready: status.readyReplicas ?? 0,
    available,
    done,
  };
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'Job';

export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

export interface WorkloadRollout extends WorkloadRef {
  /** Pods wanted: replicas, or a Job's completions. */
  desired: number;
  /** Pods on the current revision (for Jobs: pods started). */
  updated: number;
  /** Pods ready (for Jobs: pods succeeded). */
  ready: number;
  done: boolean;
  /** The object does not exist (yet). */
  missing?: boolean;
  /** A Job that failed: its condition's reason and message. */
  failure?: { reason: string; message: string };
}

export function deploymentWorkload(deployment: V1Deployment): WorkloadRollout {
  const r = deploymentRollout(deployment);
  return { kind: 'Deployment', namespace: r.namespace, name: r.name, desired: r.replicas, updated: r.updated, ready: r.available, done: r.done };
}

/** kubectl's StatefulSet status viewer: observed, ready, updated (above the partition), one revision. */
export function statefulSetRollout(set: V1StatefulSet): WorkloadRollout {
  const status = set.status ?? { replicas: 0 };
  const desired = set.spec?.replicas ?? 1;
  const ready = status.readyReplicas ?? 0;
  const updated = status.updatedReplicas ?? 0;
  const observed = (status.observedGeneration ?? 0) > 0 && (status.observedGeneration ?? 0) >= (set.metadata?.generation ?? 0);
  let done = observed && ready >= desired;
  const strategy = set.spec?.updateStrategy;
  if (done && (strategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
    const partition = strategy?.rollingUpdate?.partition ?? 0;
    done = partition > 0 ? updated >= desired - partition : status.updateRevision === status.currentRevision && updated >= desired;
  }
  return { kind: 'StatefulSet', namespace: set.metadata?.namespace ?? '', name: set.metadata?.name ?? '', desired, updated, ready, done };
}

/** A Job is done when Complete; FailureTarget/Failed make it failed (it will not recover). */
export function jobRollout(job: V1Job): WorkloadRollout {
  const conditions = job.status?.conditions ?? [];
  const isTrue = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
  const failed = isTrue('Failed') ?? isTrue('FailureTarget');
  const rollout: WorkloadRollout = {
    kind: 'Job',
    namespace: job.metadata?.namespace ?? '',
    name: job.metadata?.name ?? '',
    desired: job.spec?.completions ?? 1,
    updated: (job.status?.active ?? 0) + (job.status?.succeeded ?? 0) + (job.status?.failed ?? 0),
    ready: job.status?.succeeded ?? 0,
    done: !failed && isTrue('Complete') !== undefined,
  };
  if (failed) rollout.failure = { reason: failed.reason ?? 'Failed', message: failed.message ?? '' };
  return rollout;
}

export interface WaitOptions {
  timeoutMs: number;
  pollMs?: number;
  /** Called after every poll; activities heartbeat here. */
  onProgress?: (rollouts: WorkloadRollout[]) => void;
  signal?: AbortSignal;
  clock?: Clock;
}

export class RolloutTimeoutError extends KubeLayerError {
  // A rollout that did not finish in its time is a verdict, not a transient failure.
  readonly retryable = false;
  readonly reason = 'RolloutTimeout';

  constructor(readonly pending: (DeploymentRollout | WorkloadRollout)[], timeoutMs: number) {
    super(
      `rollout not complete after ${Math.round(timeoutMs / 1000)}s: ` +
        pending
          .map((r) => ('desired' in r ? `${r.kind} ${r.namespace}/${r.name} ${r.missing ? 'missing' : `${r.ready}/${r.desired} ready`}` : `${r.namespace}/${r.name} ${r.available}/${r.replicas} available`))
          .join(', '),
    );
    this.name = 'RolloutTimeoutError';
  }
}

export class JobFailedError extends KubeLayerError {
  readonly retryable = false;
  readonly reason = 'JobFailed';

  constructor(readonly job: WorkloadRollout) {
    super(`Job ${job.namespace}/${job.name} failed: ${job.failure?.reason}${job.failure?.message ? `: ${job.failure.message}` : ''}`);
    this.name = 'JobFailedError';
  }
}

const API_VERSION: Record<WorkloadKind, string> = { Deployment: 'apps/v1', StatefulSet: 'apps/v1', Job: 'batch/v1' };

function rolloutOf(ref: WorkloadRef, object: LiveObject | undefined): WorkloadRollout {
  if (!object) return { ...ref, desired: 0, updated: 0, ready: 0, done: false, missing: true };
  switch (ref.kind) {
    case 'Deployment': return deploymentWorkload(object as V1Deployment);
    case 'StatefulSet': return statefulSetRollout(object as V1StatefulSet);
    case 'Job': return jobRollout(object as V1Job);
  }
}

/**
 * The rollout state of every workload. One read for a lone workload; otherwise one list per
 * kind and namespace, as `kubectl rollout status` would need 20 reads for 20 Deployments.
 */
async function readRollouts(client: KubeClient, workloads: readonly WorkloadRef[], signal?: AbortSignal): Promise<WorkloadRollout[]> {
  if (workloads.length === 1) {
    const ref = workloads[0]!;
    return [rolloutOf(ref, await readObject(client, { apiVersion: API_VERSION[ref.kind], ...ref }, signal))];
  }
  const groups = new Map<string, WorkloadRef>();
  for (const w of workloads) groups.set(`${w.kind}/${w.namespace}`, w);
  const live = new Map<string, LiveObject>();
  await Promise.all([...groups.values()].map(async ({ kind, namespace }) => {
    const { items } = await listObjects(client, { apiVersion: API_VERSION[kind], kind, namespace, signal });
    for (const item of items) live.set(`${kind}/${namespace}/${item.metadata.name}`, item);
  }));
  return workloads.map((w) => rolloutOf(w, live.get(`${w.kind}/${w.namespace}/${w.name}`)));
}

/**
 * Polls until every workload is done; throws JobFailedError as soon as a Job fails and
 * RolloutTimeoutError (listing what is pending) when the time is up.
 */
export async function waitForRollouts(
  target: KubeClient | KubeConfig,
  workloads: readonly WorkloadRef[],
  options: WaitOptions,
): Promise<WorkloadRollout[]> {
  const client = toClient(target);
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    const rollouts = await readRollouts(client, workloads, options.signal);
    options.onProgress?.(rollouts);
    const failed = rollouts.find((r) => r.failure);
    if (failed) throw new JobFailedError(failed);
    if (rollouts.every((r) => r.done)) return rollouts;
    if (clock.now() > deadline) throw new RolloutTimeoutError(rollouts.filter((r) => !r.done), options.timeoutMs);
    await clock.sleep(options.pollMs ?? 500, options.signal);
  }
}

export interface DeploymentWaitOptions extends Omit<WaitOptions, 'onProgress'> {
  onProgress?: (rollouts: DeploymentRollout[]) => void;
}

/** Polls until every named Deployment has rolled out, or the timeout passes. */
export async function waitForDeployments(
  target: KubeClient | KubeConfig,
  deployments: readonly { namespace: string; name: string }[],
  options: DeploymentWaitOptions,
): Promise<DeploymentRollout[]> {
  const client = toClient(target);
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    const rollouts = await Promise.all(
      deployments.map(async (d) => {
        const object = await readObject(client, { apiVersion: 'apps/v1', kind: 'Deployment', ...d }, options.signal);
        // A Deployment not created yet counts as nothing available.
        return object ? deploymentRollout(object as V1Deployment) : { ...d, replicas: 1, updated: 0, ready: 0, available: 0, done: false };
      }),
    );
    options.onProgress?.(rollouts);
    if (rollouts.every((r) => r.done)) return rollouts;
    if (clock.now() > deadline) throw new RolloutTimeoutError(rollouts.filter((r) => !r.done), options.timeoutMs);
    await clock.sleep(options.pollMs ?? 500, options.signal);
  }
}
