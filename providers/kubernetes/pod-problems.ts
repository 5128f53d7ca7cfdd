// Why a workload's pods are not ready, read from the pods the way `kubectl describe` shows
// it: a PodScheduled=False condition (Unschedulable: "0/3 nodes are available: …") and
// containers (init containers too) waiting for a reason that will not go away by itself
// (image pulls, crash loops, bad config). Pure functions over pods already listed.
import type { V1ContainerStatus, V1LabelSelector, V1Pod } from '@kubernetes/client-node';

/** One reason one pod is not ready. */
export interface PodProblem {
  pod: string;
  /** The container, for container-level reasons; absent for pod-level ones (Unschedulable). */
  container?: string;
  /** The container is an init container. */
  init?: boolean;
  /** Unschedulable, ErrImagePull, ImagePullBackOff, CrashLoopBackOff, CreateContainerConfigError, … */
  reason: string;
  /** What the scheduler or the kubelet said, shortened to a readable length. */
  message: string;
  /** Restarts of the container so far (crash loops). */
  restartCount?: number;
}

/** Container waiting reasons that mean "this will not start without a change". */
export const CONTAINER_WAITING_REASONS: ReadonlySet<string> = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/**
 * Which problems fail a rollout once they last long enough (WaitOptions.stuckAfterMs), by
 * kind: the pull errors alternate (ErrImagePull ↔ ImagePullBackOff) and count as one. An
 * unschedulable pod may yet fit when a node is added: the progress deadline covers it.
 */
export function stuckKind(reason: string): 'image-pull' | 'crash-loop' | 'config' | undefined {
  switch (reason) {
    case 'ErrImagePull': case 'ImagePullBackOff': case 'InvalidImageName': return 'image-pull';
    case 'CrashLoopBackOff': return 'crash-loop';
    case 'CreateContainerConfigError': return 'config';
    default: return undefined;
  }
}

const MAX_MESSAGE = 300;

function shorten(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE - 1)}…` : line;
}

/** The problems of one pod; none for a pod that is running, finished or being deleted. */
export function podProblems(pod: V1Pod): PodProblem[] {
  const name = pod.metadata?.name ?? '';
  const phase = pod.status?.phase;
  if (pod.metadata?.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed') return [];
  const problems: PodProblem[] = [];
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') {
    problems.push({ pod: name, reason: scheduled.reason || 'Unschedulable', message: shorten(scheduled.message ?? '') });
  }
  const containers = (statuses: V1ContainerStatus[] | undefined, init: boolean) => {
    for (const status of statuses ?? []) {
      const waiting = status.state?.waiting;
      if (!waiting?.reason || !CONTAINER_WAITING_REASONS.has(waiting.reason)) continue;
      const problem: PodProblem = { pod: name, container: status.name, reason: waiting.reason, message: shorten(waiting.message ?? '') };
      if (init) problem.init = true;
      if (waiting.reason === 'CrashLoopBackOff' || status.restartCount > 0) problem.restartCount = status.restartCount;
      const last = status.lastState?.terminated;
      if (waiting.reason === 'CrashLoopBackOff' && last) {
        problem.message = shorten(`${problem.message}${problem.message ? ' ' : ''}(last exit: ${last.reason ?? 'terminated'}, code ${last.exitCode})`);
      }
      problems.push(problem);
    }
  };
  containers(pod.status?.initContainerStatuses, true);
  containers(pod.status?.containerStatuses, false);
  return problems;
}

/** Whether a container of the pod is ready now (a problem of it is over). */
export function containerReady(pod: V1Pod, container: string | undefined): boolean {
  if (container === undefined) return pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'True') ?? false;
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const status = statuses.find((s) => s.name === container);
  // An init container that finished is as good as ready.
  return status?.ready === true || status?.state?.terminated?.exitCode === 0;
}

/** Sorted by pod, then init containers first, container and reason: stable across polls. */
export function compareProblems(a: PodProblem, b: PodProblem): number {
  return cmp(a.pod, b.pod) || Number(!a.init) - Number(!b.init) || cmp(a.container ?? '', b.container ?? '') || cmp(a.reason, b.reason);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether labels satisfy a LabelSelector: matchLabels and matchExpressions. An empty selector matches nothing. */
export function selectorMatches(selector: V1LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  const matchLabels = selector?.matchLabels ?? {};
  const expressions = selector?.matchExpressions ?? [];
  if (Object.keys(matchLabels).length === 0 && expressions.length === 0) return false;
  const l = labels ?? {};
  if (!Object.entries(matchLabels).every(([k, v]) => l[k] === v)) return false;
  return expressions.every((e) => {
    const has = Object.hasOwn(l, e.key);
    switch (e.operator) {
      case 'In': return has && (e.values ?? []).includes(l[e.key]!);
      case 'NotIn': return !has || !(e.values ?? []).includes(l[e.key]!);
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      default: return false;
    }
  });
}

/**
 * One server-side label selector that finds the pods of all the given selectors (a superset,
 * to be narrowed client-side): the matchLabels keys they all share, as `k=v` or `k in (a,b)`.
 * Undefined when they share no key, and all pods of the namespace must be listed.
 */
export function commonSelector(selectors: readonly (V1LabelSelector | undefined)[]): string | undefined {
  if (selectors.length === 0) return undefined;
  const all = selectors.map((s) => s?.matchLabels ?? {});
  const keys = Object.keys(all[0]!).filter((k) => all.every((m) => Object.hasOwn(m, k))).sort();
  if (keys.length === 0) return undefined;
  return keys
    .map((k) => {
      const values = [...new Set(all.map((m) => m[k]!))].sort();
      return values.length === 1 ? `${k}=${values[0]}` : `${k} in (${values.join(',')})`;
    })
    .join(',');
}

/** "pod web-1: Unschedulable: …", with identical problems of several pods said once. */
export function describeProblems(problems: readonly PodProblem[], omitted = 0): string[] {
  const groups = new Map<string, { pods: string[]; problem: PodProblem }>();
  for (const p of problems) {
    const key = JSON.stringify([p.reason, p.message, p.container ?? '', p.init ?? false, p.restartCount ?? -1]);
    const group = groups.get(key);
    if (group) group.pods.push(p.pod);
    else groups.set(key, { pods: [p.pod], problem: p });
  }
  const lines = [...groups.values()].map(({ pods, problem }) => {
    const who = pods.length === 1 ? `pod ${pods[0]}` : pods.length <= 3 ? `pods ${pods.join(', ')}` : `pods ${pods.slice(0, 2).join(', ')} and ${pods.length - 2} more`;
    const details = [
      problem.container !== undefined ? `${problem.init ? 'init container' : 'container'} ${problem.container}` : undefined,
      problem.restartCount !== undefined ? `${problem.restartCount} restart${problem.restartCount === 1 ? '' : 's'}` : undefined,
    ].filter(Boolean);
    return `${who}: ${problem.reason}${details.length > 0 ? ` (${details.join(', ')})` : ''}${problem.message ? `: ${problem.message}` : ''}`;
  });
  if (omitted > 0) lines.push(`${omitted} more pod problem${omitted === 1 ? '' : 's'}`);
  return lines;
}
