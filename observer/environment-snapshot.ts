// One environment's snapshot from what the cluster's informers hold: its services' status and
// its drift from the render of the revision (and overrides) last deployed to it.
import { detectDrift, type LiveManifest, type ObjectDrift } from '../domain/drift.js';
import { LABEL } from '../domain/labels.js';
import type { Manifest } from '../domain/manifest.js';
import type { LiveObject } from '../providers/kubernetes/read.js';
import { type Health, type ServiceStatusInput, worstHealth } from '../store/status.js';
import { serviceStatus } from './service-status.js';

export interface SnapshotInput {
  environment: string;
  namespace: string;
  expected: readonly Manifest[];
  /** Every cached object of the namespace, by kind. */
  live: ReadonlyMap<string, readonly LiveObject[]>;
  /** An operation is changing the environment: differences are its work, not drift. */
  changing: boolean;
}

export interface Snapshot {
  health: Health;
  revision?: string;
  drift: ObjectDrift[];
  services: ServiceStatusInput[];
}

const WORKLOADS = ['Deployment', 'StatefulSet'];

export function environmentSnapshot({ environment, expected, live, changing }: SnapshotInput): Snapshot {
  const expectedKeys = new Set(expected.map((m) => `${m.kind}/${m.metadata.name}`));
  // Objects of the namespace that are the environment's: labelled for it, or rendered by name.
  const mine = (o: LiveObject) => o.metadata.labels?.[LABEL.environment] === environment || expectedKeys.has(`${o.kind}/${o.metadata.name}`);
  const of = (kind: string) => (live.get(kind) ?? []).filter(mine);
  const pods = (live.get('Pod') ?? []).filter((p) => p.metadata.labels?.[LABEL.environment] === environment);
  const autoscaled = new Set((live.get('HorizontalPodAutoscaler') ?? []).map((h) => {
    const target = (h as { spec?: { scaleTargetRef?: { kind?: string; name?: string } } }).spec?.scaleTargetRef;
    return `${target?.kind}/${target?.name}`;
  }));
  const liveObjects = [...live.keys()].filter((k) => k !== 'Pod' && k !== 'HorizontalPodAutoscaler').flatMap(of) as unknown as LiveManifest[];
  const drift = changing ? [] : detectDrift({ expected, live: liveObjects, autoscaled });
  const drifted = new Set(drift.map((d) => d.name));

  const services = WORKLOADS.flatMap(of).map((w) => ({ ...serviceStatus(w, pods), drift: drifted.has(w.metadata.name) }))
    .sort((a, b) => a.service.localeCompare(b.service));
  // A rendered workload that is gone is unavailable, not merely absent from the list.
  for (const m of expected) {
    if (!WORKLOADS.includes(m.kind) || services.some((s) => s.service === m.metadata.name)) continue;
    const desired = (m.spec as { replicas?: number } | undefined)?.replicas ?? 1;
    services.push({ service: m.metadata.name, desiredReplicas: desired, readyReplicas: 0, updatedReplicas: 0, restarts: 0, health: 'unavailable', drift: true, details: { kind: m.kind, problems: ['missing from the cluster'] } });
  }
  const revisions = [...new Set(services.map((s) => s.revision).filter((r): r is string => r !== undefined))];
  return {
    health: worstHealth(services.map((s) => s.health)),
    ...(revisions.length === 1 ? { revision: revisions[0] } : {}),
    drift,
    services,
  };
}
