// Waiting for workloads to roll out: Deployments and StatefulSets until their pods are updated
// and ready, Jobs until they succeed (or fail, which is an error). Status is read the way
// `kubectl rollout status` and `kubectl wait --for=condition=complete` read it. While a
// workload is not done, its pods say why (unschedulable, image pull, crash loop); a rollout
// that cannot finish fails early with that reason instead of waiting out the timeout.
import type { KubeConfig, V1DaemonSet, V1Deployment, V1Job, V1LabelSelector, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { toClient, type KubeClient } from './client.js';
import { systemClock, type Clock } from './clock.js';
import { KubeLayerError } from './errors.js';
import {
  commonSelector,
  compareProblems,
  containerReady,
  describeProblems,
  podProblems,
  selectorMatches,
  stuckKind,
  type PodProblem,
} from './pod-problems.js';
import { listObjects, readObject, type LiveObject } from './read.js';
import { RolloutFeed } from './rollout-feed.js';

export type { PodProblem } from './pod-problems.js';

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

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job';

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
  /**
   * A Deployment whose controller gave up: Progressing=False, reason ProgressDeadlineExceeded
   * (for the generation it last observed), with the condition's message.
   */
  stalled?: { reason: string; message: string };
  /**
   * Why pods of a workload that is not done are not ready, sorted by pod (at most
   * MAX_REPORTED_PROBLEMS; `moreProblems` counts the rest). Absent when the pods were not looked
   * at (the workload is done, missing or failed); empty when they have no known problem.
   */
  problems?: PodProblem[];
  moreProblems?: number;
}

/** Problems listed per workload in progress reports and errors; the rest are only counted. */
export const MAX_REPORTED_PROBLEMS = 10;

export function deploymentWorkload(deployment: V1Deployment): WorkloadRollout {
  const r = deploymentRollout(deployment);
  const rollout: WorkloadRollout = { kind: 'Deployment', namespace: r.namespace, name: r.name, desired: r.replicas, updated: r.updated, ready: r.available, done: r.done };
  const progressing = deployment.status?.conditions?.find((c) => c.type === 'Progressing');
  // A condition of a generation the controller has not seen yet is stale (a new template resets it).
  const observed = (deployment.status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  if (!r.done && observed && progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    rollout.stalled = { reason: progressing.reason, message: progressing.message ?? '' };
  }
  return rollout;
}

/**
 * The pods that a Deployment's rollout waits for: those of its newest ReplicaSet, which the
 * Progressing condition names ("ReplicaSet \"web-7d9\" is progressing."), so the old
 * ReplicaSet's pods being replaced are not blamed. `undefined`: every pod of the selector;
 * `null`: none yet (the controller has not observed the latest generation).
 */
function newPodTemplateHash(deployment: V1Deployment): string | undefined | null {
  const observed = (deployment.status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  if (!observed) return null;
  const message = deployment.status?.conditions?.find((c) => c.type === 'Progressing')?.message ?? '';
  const replicaSet = /replica ?set "([^"]+)"/i.exec(message)?.[1];
  const prefix = `${deployment.metadata?.name ?? ''}-`;
  return replicaSet?.startsWith(prefix) ? replicaSet.slice(prefix.length) : undefined;
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

/** kubectl's DaemonSet status viewer: observed, every scheduled pod updated and available. */
export function daemonSetRollout(set: V1DaemonSet): WorkloadRollout {
  const status = set.status;
  const desired = status?.desiredNumberScheduled ?? 0;
  const updated = status?.updatedNumberScheduled ?? 0;
  const ready = status?.numberAvailable ?? 0;
  const observed = (status?.observedGeneration ?? 0) > 0 && (status?.observedGeneration ?? 0) >= (set.metadata?.generation ?? 0);
  // OnDelete replaces a pod only when someone deletes it: nothing to wait for but availability.
  const onDelete = set.spec?.updateStrategy?.type === 'OnDelete';
  return { kind: 'DaemonSet', namespace: set.metadata?.namespace ?? '', name: set.metadata?.name ?? '', desired, updated, ready, done: observed && ready >= desired && (onDelete || updated >= desired) };
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
  /**
   * How long a pod may stay in an image-pull error, a crash loop or
   * CreateContainerConfigError before the rollout fails (RolloutFailedError). Default 60 s.
   */
  stuckAfterMs?: number;
  /**
   * Pods are looked at only once the wait has lasted this long (default 5 s), so a rollout
   * that finishes quickly costs no pod lists; at once when a Deployment reports
   * ProgressDeadlineExceeded or the time is up (the error then says why).
   */
  diagnoseAfterMs?: number;
  /**
   * Watch the workloads between polls and judge them again on every change, so the end of a
   * rollout is noticed one network hop after it happens. The poll stays as a safety net, every
   * max(pollMs, WATCH_POLL_MS) while the watches are open, every pollMs while they are not.
   */
  watch?: boolean;
}

export const DEFAULT_STUCK_AFTER_MS = 60_000;
export const DEFAULT_DIAGNOSE_AFTER_MS = 5_000;
/** With `watch`, the least time between two polls while the watches are open. */
export const WATCH_POLL_MS = 2_000;

function describeWorkload(r: DeploymentRollout | WorkloadRollout): string {
  if (!('desired' in r)) return `${r.namespace}/${r.name} ${r.available}/${r.replicas} available`;
  // A Deployment's ready count includes the old revision's pods: say how many run the new one.
  const counts = r.kind === 'Deployment' ? `${r.updated}/${r.desired} of the new revision, ${r.ready} available in all` : `${r.ready}/${r.desired} ready`;
  const head = `${r.kind} ${r.namespace}/${r.name} ${r.missing ? 'missing' : counts}`;
  return [head, ...describeProblems(r.problems ?? [], r.moreProblems)].join('; ');
}

export class RolloutTimeoutError extends KubeLayerError {
  // A rollout that did not finish in its time is a verdict, not a transient failure.
  readonly retryable = false;
  readonly reason = 'RolloutTimeout';

  constructor(readonly pending: (DeploymentRollout | WorkloadRollout)[], timeoutMs: number) {
    const described = pending.map(describeWorkload);
    // Workloads joined by ", " as before; by "; " once pods' reasons (which hold commas) are in.
    const separator = described.some((d) => d.includes('; ')) ? '; ' : ', ';
    super(`rollout not complete after ${Math.round(timeoutMs / 1000)}s: ${described.join(separator)}`);
    this.name = 'RolloutTimeoutError';
  }
}

/** A workload that cannot finish: what failed it, for RolloutFailedError. */
export interface FailedWorkload extends WorkloadRollout {
  /** Problems that lasted past stuckAfterMs (image pull, crash loop, config error). */
  stuck?: (PodProblem & { forMs: number })[];
}

/**
 * A rollout that will not finish: a Deployment past its progress deadline, or pods stuck in
 * an image-pull error, a crash loop or a config error for longer than stuckAfterMs. Like a
 * timeout, a verdict: retrying the wait cannot help, a new revision (or a node) can.
 */
export class RolloutFailedError extends KubeLayerError {
  readonly retryable = false;
  readonly reason = 'RolloutFailed';

  constructor(readonly workloads: FailedWorkload[]) {
    super(`rollout failed: ${workloads.map(describeFailure).join('; ')}`);
    this.name = 'RolloutFailedError';
  }
}

function describeFailure(w: FailedWorkload): string {
  const why: string[] = [];
  if (w.stalled) why.push(`${w.stalled.reason}${w.stalled.message ? ` (${w.stalled.message})` : ''}`);
  const stuck = new Map<string, number>();
  for (const s of w.stuck ?? []) stuck.set(s.reason, Math.max(stuck.get(s.reason) ?? 0, s.forMs));
  for (const [reason, forMs] of stuck) why.push(`${reason} for ${Math.floor(forMs / 1000)}s`);
  // The stuck problems first (a crash loop may be between restarts at this poll), then the rest.
  const seen = new Set((w.stuck ?? []).map((p) => `${p.pod}/${p.container ?? ''}`));
  const problems = [...(w.stuck ?? []).map(({ forMs: _, ...p }) => p), ...(w.problems ?? []).filter((p) => !seen.has(`${p.pod}/${p.container ?? ''}`))];
  return [`${w.kind} ${w.namespace}/${w.name}: ${why.join(', ')}`, ...describeProblems(problems, w.moreProblems)].join('; ');
}

export class JobFailedError extends KubeLayerError {
  readonly retryable = false;
  readonly reason = 'JobFailed';

  constructor(readonly job: WorkloadRollout) {
    super(`Job ${job.namespace}/${job.name} failed: ${job.failure?.reason}${job.failure?.message ? `: ${job.failure.message}` : ''}`);
    this.name = 'JobFailedError';
  }
}

const API_VERSION: Record<WorkloadKind, string> = { Deployment: 'apps/v1', StatefulSet: 'apps/v1', DaemonSet: 'apps/v1', Job: 'batch/v1' };

function rolloutOf(ref: WorkloadRef, object: LiveObject | undefined): WorkloadRollout {
  if (!object) return { ...ref, desired: 0, updated: 0, ready: 0, done: false, missing: true };
  switch (ref.kind) {
    case 'Deployment': return deploymentWorkload(object as V1Deployment);
    case 'StatefulSet': return statefulSetRollout(object as V1StatefulSet);
    case 'DaemonSet': return daemonSetRollout(object as V1DaemonSet);
    case 'Job': return jobRollout(object as V1Job);
  }
}

interface Observed {
  rollout: WorkloadRollout;
  object: LiveObject | undefined;
}

/**
 * The rollout state of every workload. One read for a lone workload; otherwise one list per
 * kind and namespace, as `kubectl rollout status` would need 20 reads for 20 Deployments.
 * With a feed, its lists (one per kind and namespace, which its watches start from).
 */
async function readRollouts(client: KubeClient, workloads: readonly WorkloadRef[], signal?: AbortSignal, feed?: RolloutFeed): Promise<Observed[]> {
  if (feed) {
    await feed.list();
    return observedFrom(feed, workloads);
  }
  if (workloads.length === 1) {
    const ref = workloads[0]!;
    const object = await readObject(client, { apiVersion: API_VERSION[ref.kind], ...ref }, signal);
    return [{ rollout: rolloutOf(ref, object), object }];
  }
  const groups = new Map<string, WorkloadRef>();
  for (const w of workloads) groups.set(`${w.kind}/${w.namespace}`, w);
  const live = new Map<string, LiveObject>();
  await Promise.all([...groups.values()].map(async ({ kind, namespace }) => {
    const { items } = await listObjects(client, { apiVersion: API_VERSION[kind], kind, namespace, signal });
    for (const item of items) live.set(`${kind}/${namespace}/${item.metadata.name}`, item);
  }));
  return workloads.map((w) => {
    const object = live.get(`${w.kind}/${w.namespace}/${w.name}`);
    return { rollout: rolloutOf(w, object), object };
  });
}

/** The pods of a workload that its rollout waits for, from the pods of its namespace. */
function podsOf({ rollout, object }: Observed, pods: readonly V1Pod[]): V1Pod[] {
  const spec = (object as { spec?: { selector?: V1LabelSelector } } | undefined)?.spec;
  let selected = pods.filter((p) => selectorMatches(spec?.selector, p.metadata?.labels));
  if (rollout.kind === 'Deployment') {
    const hash = newPodTemplateHash(object as V1Deployment);
    if (hash === null) return [];
    if (hash !== undefined) selected = selected.filter((p) => p.metadata?.labels?.['pod-template-hash'] === hash);
  }
  // StatefulSets, DaemonSets and Jobs: every pod of the selector (an old StatefulSet pod that never gets
  // ready blocks the update as much as a new one).
  return selected;
}

/**
 * Lists the pods of every namespace that has a workload not done (one list per namespace,
 * narrowed by the selectors' shared labels) and sets each such workload's `problems`.
 * Diagnostics only: a failed pod list leaves `problems` unset rather than failing the wait.
 */
async function readProblems(client: KubeClient, observed: readonly Observed[], signal?: AbortSignal): Promise<Map<WorkloadRollout, PodsSeen>> {
  const pending = observed.filter((o) => !o.rollout.done && !o.rollout.missing && !o.rollout.failure && o.object);
  const byNamespace = new Map<string, Observed[]>();
  for (const o of pending) byNamespace.set(o.rollout.namespace, [...(byNamespace.get(o.rollout.namespace) ?? []), o]);
  const seen = new Map<WorkloadRollout, PodsSeen>();
  await Promise.all([...byNamespace].map(async ([namespace, group]) => {
    const labelSelector = commonSelector(group.map((o) => (o.object as { spec?: { selector?: V1LabelSelector } }).spec?.selector));
    let pods: V1Pod[];
    try {
      pods = (await listObjects(client, { apiVersion: 'v1', kind: 'Pod', namespace, labelSelector, signal })).items as V1Pod[];
    } catch (error) {
      if (signal?.aborted) throw error;
      return;
    }
    for (const o of group) {
      const own = podsOf(o, pods);
      const problems = own.flatMap(podProblems).sort(compareProblems);
      o.rollout.problems = problems.slice(0, MAX_REPORTED_PROBLEMS);
      if (problems.length > MAX_REPORTED_PROBLEMS) o.rollout.moreProblems = problems.length - MAX_REPORTED_PROBLEMS;
      // Every problem counts towards "stuck", also those left out of the report.
      seen.set(o.rollout, { pods: own, problems });
    }
  }));
  return seen;
}

/** A workload's pods at one poll and all their problems (the report keeps only the first few). */
interface PodsSeen {
  pods: V1Pod[];
  problems: PodProblem[];
}

interface Sighting {
  firstSeen: number;
  problem: PodProblem;
}

/**
 * Since when each pod's container has been stuck, by kind of problem, across polls. An entry
 * lives while its pod exists and the container is not ready, so a crash loop caught running
 * between two back-offs (or a pull error alternating with its back-off) keeps its first sighting.
 */
class StuckTracker {
  private sightings = new Map<string, Sighting>();

  constructor(private readonly clock: Clock, private readonly stuckAfterMs: number) {}

  /**
   * Records this poll; returns, per workload, the problems stuck for stuckAfterMs or longer.
   * A workload not done whose pods could not be listed this time keeps its sightings.
   */
  update(rollouts: readonly WorkloadRollout[], seen: Map<WorkloadRollout, PodsSeen>): Map<WorkloadRollout, (PodProblem & { forMs: number })[]> {
    const now = this.clock.now();
    const next = new Map<string, Sighting>();
    const stuck = new Map<WorkloadRollout, (PodProblem & { forMs: number })[]>();
    for (const rollout of rollouts.filter((r) => !r.done)) {
      const prefix = `${rollout.kind}/${rollout.namespace}/${rollout.name}/`;
      const key = (p: PodProblem) => `${prefix}${p.pod}/${p.container ?? ''}/${stuckKind(p.reason)}`;
      const pods = seen.get(rollout)?.pods;
      for (const problem of seen.get(rollout)?.problems ?? []) {
        if (!stuckKind(problem.reason)) continue;
        const k = key(problem);
        next.set(k, { firstSeen: this.sightings.get(k)?.firstSeen ?? now, problem });
      }
      // Carry sightings whose container is between two states of the same trouble.
      const podByName = new Map((pods ?? []).map((p) => [p.metadata?.name ?? '', p]));
      for (const [k, sighting] of this.sightings) {
        if (!k.startsWith(prefix) || next.has(k)) continue;
        const pod = podByName.get(sighting.problem.pod);
        if (!pods || (pod && !pod.metadata?.deletionTimestamp && !containerReady(pod, sighting.problem.container))) next.set(k, sighting);
      }
      const long = [...next]
        .filter(([k, s]) => k.startsWith(prefix) && now - s.firstSeen >= this.stuckAfterMs)
        .map(([, s]) => ({ ...s.problem, forMs: now - s.firstSeen }))
        .sort(compareProblems);
      if (long.length > 0) stuck.set(rollout, long);
    }
    this.sightings = next;
    return stuck;
  }
}

/** The rollout state of every workload from the feed's live objects. */
function observedFrom(feed: RolloutFeed, workloads: readonly WorkloadRef[]): Observed[] {
  return workloads.map((w) => {
    const object = feed.object(w);
    return { rollout: rolloutOf(w, object), object };
  });
}

/** A state the wait must act on at once: every workload done, a Job failed, a Deployment stalled. */
function decisive(observed: readonly Observed[]): boolean {
  return observed.every((o) => o.rollout.done) || observed.some((o) => o.rollout.failure || (!o.rollout.done && o.rollout.stalled));
}

/**
 * Until the next poll, follows the watches: returns the workloads as soon as a change makes
 * their state decisive, undefined when it is time to list again. The list is only a safety net
 * while every watch is open (every max(pollMs, WATCH_POLL_MS)); with one down, it is due after pollMs.
 */
async function watchUntilPoll(feed: RolloutFeed, workloads: readonly WorkloadRef[], clock: Clock, pollMs: number): Promise<Observed[] | undefined> {
  const since = clock.now();
  feed.watch();
  for (;;) {
    const left = since + (feed.watching ? Math.max(pollMs, WATCH_POLL_MS) : pollMs) - clock.now();
    if (left <= 0 || !(await feed.changed(left, clock))) return undefined;
    const observed = observedFrom(feed, workloads);
    if (decisive(observed)) return observed;
  }
}

/**
 * Polls until every workload is done. Throws JobFailedError as soon as a Job fails,
 * RolloutFailedError as soon as a Deployment reports ProgressDeadlineExceeded or a pod has
 * been stuck (image pull, crash loop, config error) for stuckAfterMs, and RolloutTimeoutError
 * (listing what is pending and why) when the time is up. Requests per poll: the workload reads
 * (one, or one list per kind and namespace) plus, while something is not done and the wait
 * has lasted diagnoseAfterMs, one pod list per namespace of the workloads not done. With
 * `watch`, the workloads are listed per kind and namespace, and between two polls a watch of
 * each (from where its list ended, closed when the wait ends) re-judges them on every change:
 * one that finishes (or fails) the rollout ends the wait without waiting for the next poll.
 */
export async function waitForRollouts(
  target: KubeClient | KubeConfig,
  workloads: readonly WorkloadRef[],
  options: WaitOptions,
): Promise<WorkloadRollout[]> {
  const client = toClient(target);
  const feed = options.watch ? new RolloutFeed(client, workloads.map((w) => ({ apiVersion: API_VERSION[w.kind], ...w })), options.signal) : undefined;
  try {
    return await pollRollouts(client, workloads, options, feed);
  } finally {
    feed?.close();
  }
}

async function pollRollouts(client: KubeClient, workloads: readonly WorkloadRef[], options: WaitOptions, feed: RolloutFeed | undefined): Promise<WorkloadRollout[]> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const deadline = started + options.timeoutMs;
  const pollMs = options.pollMs ?? 500;
  const diagnoseAfterMs = options.diagnoseAfterMs ?? DEFAULT_DIAGNOSE_AFTER_MS;
  const tracker = new StuckTracker(clock, options.stuckAfterMs ?? DEFAULT_STUCK_AFTER_MS);
  let watched: Observed[] | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    const observed = watched ?? (await readRollouts(client, workloads, options.signal, feed));
    const rollouts = observed.map((o) => o.rollout);
    const failedJob = rollouts.find((r) => r.failure);
    const pending = rollouts.filter((r) => !r.done);
    const now = clock.now();
    const diagnose = !failedJob && pending.length > 0 && (pending.some((r) => r.stalled) || now - started >= diagnoseAfterMs || now > deadline);
    const seen = diagnose ? await readProblems(client, observed, options.signal) : new Map<WorkloadRollout, PodsSeen>();
    const stuck = tracker.update(rollouts, seen);
    options.onProgress?.(rollouts);
    if (failedJob) throw new JobFailedError(failedJob);
    if (rollouts.every((r) => r.done)) return rollouts;
    const failed = rollouts
      .filter((r) => !r.done && (r.stalled || stuck.has(r)))
      .map((r): FailedWorkload => (stuck.has(r) ? { ...r, stuck: stuck.get(r)! } : r));
    if (failed.length > 0) throw new RolloutFailedError(failed);
    if (clock.now() > deadline) throw new RolloutTimeoutError(rollouts.filter((r) => !r.done), options.timeoutMs);
    if (feed) watched = await watchUntilPoll(feed, workloads, clock, pollMs);
    else await clock.sleep(pollMs, options.signal);
  }
}
