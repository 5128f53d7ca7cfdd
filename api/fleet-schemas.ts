// Schemas of the fleet view, drift and live status (issue 12): what the observer keeps in the
// catalog, as the API shows it.
import { z } from 'zod';
import { Tier } from '../domain/environment.js';
import { DnsLabel } from '../domain/names.js';
import { HEALTH_STATES } from '../store/status.js';

export const Health = z.enum(HEALTH_STATES);

/** `key=value` pairs separated by commas, as kubectl's equality selectors. */
export const ClusterSelector = z.string().max(1000)
  .regex(/^[A-Za-z0-9._/-]+=[A-Za-z0-9._-]*(,[A-Za-z0-9._/-]+=[A-Za-z0-9._-]*)*$/, 'must be key=value pairs separated by commas')
  .transform((text) => Object.fromEntries(text.split(',').map((pair) => pair.split('=', 2) as [string, string])));

export const FLEET_HEALTH_FILTERS = [...HEALTH_STATES, 'drifted', 'stale'] as const;

export const FleetQuery = z.strictObject({
  selector: ClusterSelector.optional(),
  cluster: DnsLabel.optional(),
  tier: Tier.optional(),
  application: DnsLabel.optional(),
  health: z.enum(FLEET_HEALTH_FILTERS).optional(),
});
export type FleetQuery = z.infer<typeof FleetQuery>;

export const FieldDriftView = z.object({
  path: z.string(),
  expected: z.unknown().optional(),
  actual: z.unknown().optional(),
  changedBy: z.string().optional(),
  changedAt: z.string().optional(),
});

export const ObjectDriftView = z.object({
  kind: z.string(),
  namespace: z.string().optional(),
  name: z.string(),
  reason: z.enum(['modified', 'deleted', 'extra']),
  fields: z.array(FieldDriftView),
  changedBy: z.string().optional(),
  changedAt: z.string().optional(),
});

export const LiveServiceView = z.object({
  service: z.string(),
  health: Health,
  desiredReplicas: z.number().int(),
  readyReplicas: z.number().int(),
  updatedReplicas: z.number().int(),
  restarts: z.number().int(),
  revision: z.string().optional(),
  drift: z.boolean(),
  kind: z.string().optional(),
  conditions: z.array(z.object({ type: z.string(), status: z.string(), reason: z.string().optional(), message: z.string().optional() })).optional(),
  problems: z.array(z.string()).optional(),
  changedAt: z.string().optional(),
});

export const Reachability = z.object({
  state: z.enum(['reachable', 'unreachable', 'unknown']),
  since: z.string().optional(),
  lastSeenAt: z.string().optional(),
  message: z.string().optional(),
});

const Staleness = {
  /** The state shown may be old: the cluster does not answer, or nobody observed it lately. */
  stale: z.boolean(),
  /** Seconds since the cluster last answered, when stale. */
  ageSeconds: z.number().int().optional(),
};

export const FleetEnvironmentView = z.object({
  name: z.string(),
  application: z.string(),
  tier: Tier,
  namespace: z.string(),
  /** What was last deployed (full id). */
  deployedRevision: z.string().optional(),
  /** What the live workloads carry (short id). */
  liveRevision: z.string().optional(),
  /** Stopped (scaled to zero) since then: `flotilla start` brings it back. */
  stoppedSince: z.string().optional(),
  health: Health,
  drifted: z.boolean(),
  driftedObjects: z.number().int(),
  driftSince: z.string().optional(),
  observedAt: z.string().optional(),
  ...Staleness,
  services: z.array(LiveServiceView),
});

export const FleetClusterView = z.object({
  name: z.string(),
  provider: z.string(),
  region: z.string().optional(),
  labels: z.record(z.string(), z.string()),
  /** The catalog's status (onboarding, ready, …), `unreachable` when a ready cluster stops answering. */
  status: z.string(),
  reachability: Reachability,
  ...Staleness,
  environments: z.array(FleetEnvironmentView),
});

export const FleetView = z.object({
  clusters: z.array(FleetClusterView),
  summary: z.object({
    clusters: z.number().int(),
    unreachable: z.number().int(),
    environments: z.number().int(),
    healthy: z.number().int(),
    drifted: z.number().int(),
    stale: z.number().int(),
  }),
});

export const DriftItemView = z.object({
  environment: z.string(),
  cluster: z.string(),
  application: z.string(),
  tier: Tier,
  since: z.string().optional(),
  ...Staleness,
  objects: z.array(ObjectDriftView),
});

export const DriftQuery = z.strictObject({
  cluster: DnsLabel.optional(),
  tier: Tier.optional(),
  application: DnsLabel.optional(),
});

export const EnvironmentStatusView = FleetEnvironmentView.extend({
  cluster: z.string(),
  reachability: Reachability,
  drift: z.array(ObjectDriftView),
  changedAt: z.string().optional(),
});
