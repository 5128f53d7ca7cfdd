// A service's live status from its workload (Deployment or StatefulSet) and its pods, the
// way a person reads `kubectl get deploy` and `kubectl describe pod`: replicas desired, ready
// and updated, restarts, conditions, the pods' problems, and one word for its health.
import type { V1Pod } from '@kubernetes/client-node';
import { LABEL } from '../domain/labels.js';
import { podProblems, selectorMatches } from '../providers/kubernetes/pod-problems.js';
import type { LiveObject } from '../providers/kubernetes/read.js';
import type { Health, ServiceStatusInput } from '../store/status.js';

interface WorkloadShape {
  metadata: { generation?: number; labels?: Record<string, string> };
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** The status of one workload; `pods` may hold every pod of the environment. */
export function serviceStatus(workload: LiveObject, pods: readonly LiveObject[]): Omit<ServiceStatusInput, 'drift' | 'changedAt'> {
  const w = workload as unknown as WorkloadShape;
  const desired = w.spec?.replicas ?? 1;
  const ready = w.status?.readyReplicas ?? 0;
  // A StatefulSet's rollout counts updated replicas as well; absent means none yet.
  const updated = w.status?.updatedReplicas ?? 0;
  const own = pods.filter((p) => selectorMatches(w.spec?.selector, p.metadata.labels));
  const restarts = own.reduce((sum, p) => sum + restartsOf(p as unknown as V1Pod), 0);
  const problems = own.flatMap((p) => podProblems(p as unknown as V1Pod)).map((p) => `${p.pod}${p.container ? `/${p.container}` : ''}: ${p.reason}${p.message ? ` ${p.message}` : ''}`);
  const conditions = (w.status?.conditions ?? []).map(({ type, status, reason, message }) => ({ type, status, ...(reason ? { reason } : {}), ...(message ? { message } : {}) }));
  return {
    service: workload.metadata.name,
    desiredReplicas: desired,
    readyReplicas: ready,
    updatedReplicas: updated,
    restarts,
    health: healthOf(w, { desired, ready, updated, problems: problems.length }),
    revision: w.metadata.labels?.[LABEL.revision],
    details: { kind: workload.kind, conditions, ...(problems.length > 0 ? { problems: problems.slice(0, 10) } : {}) },
  };
}

function healthOf(w: WorkloadShape, n: { desired: number; ready: number; updated: number; problems: number }): Health {
  const deadlineExceeded = w.status?.conditions?.some((c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded');
  if (n.desired === 0) return 'healthy';
  if (n.ready === 0) return n.problems > 0 || deadlineExceeded ? 'unavailable' : 'progressing';
  if (deadlineExceeded || n.problems > 0) return 'degraded';
  const observed = (w.status?.observedGeneration ?? 0) >= (w.metadata.generation ?? 0);
  if (!observed || n.updated < n.desired || n.ready < n.desired) return 'progressing';
  return 'healthy';
}

function restartsOf(pod: V1Pod): number {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return statuses.reduce((sum, s) => sum + (s.restartCount ?? 0), 0);
}
