// What the dashboard reads from the API (api/fleet-schemas.ts, api/schemas.ts), as plain types.
export type Health = 'healthy' | 'progressing' | 'degraded' | 'unavailable' | 'unknown';
export const HEALTHS: Health[] = ['healthy', 'progressing', 'degraded', 'unavailable', 'unknown'];
export const TIERS = ['dev', 'staging', 'prod', 'dr', 'preview', 'compliance'] as const;
export type Tier = (typeof TIERS)[number];

export interface Me {
  name: string;
  role: string;
  tiers?: Tier[];
  permissions: Record<string, { tiers: Tier[] }>;
}

export interface LiveService {
  service: string;
  health: Health;
  desiredReplicas: number;
  readyReplicas: number;
  updatedReplicas: number;
  restarts: number;
  revision?: string;
  drift: boolean;
  kind?: string;
  problems?: string[];
  changedAt?: string;
}

export interface FleetEnvironment {
  name: string;
  application: string;
  tier: Tier;
  namespace: string;
  deployedRevision?: string;
  liveRevision?: string;
  /** Stopped (scaled to zero) since then. */
  stoppedSince?: string;
  health: Health;
  drifted: boolean;
  driftedObjects: number;
  driftSince?: string;
  observedAt?: string;
  stale: boolean;
  ageSeconds?: number;
  services: LiveService[];
}

export interface Reachability { state: 'reachable' | 'unreachable' | 'unknown'; since?: string; lastSeenAt?: string; message?: string }

export interface FleetCluster {
  name: string;
  provider: string;
  region?: string;
  labels: Record<string, string>;
  status: string;
  reachability: Reachability;
  stale: boolean;
  ageSeconds?: number;
  environments: FleetEnvironment[];
}

export interface FleetView {
  clusters: FleetCluster[];
  summary: { clusters: number; unreachable: number; environments: number; healthy: number; drifted: number; stale: number };
}

export interface FieldDrift { path: string; expected?: unknown; actual?: unknown; changedBy?: string; changedAt?: string }
export interface ObjectDrift { kind: string; namespace?: string; name: string; reason: 'modified' | 'deleted' | 'extra'; fields: FieldDrift[]; changedBy?: string; changedAt?: string }

export interface EnvironmentStatus extends FleetEnvironment {
  cluster: string;
  reachability: Reachability;
  drift: ObjectDrift[];
  changedAt?: string;
}

export interface ServiceSpec { name: string; image: string; replicas?: number; ports?: { port: number }[]; resources?: unknown; env?: Record<string, unknown> }
export interface EnvironmentDetail {
  name: string;
  application: string;
  tier: Tier;
  cluster: string;
  namespace: string;
  residency?: string;
  overrides: Record<string, unknown>;
  overridesVersion: number;
  currentRevision?: string;
  deployed?: { revision: string; at?: string; operationId?: string; by?: string; [k: string]: unknown };
  driftPolicy: string;
  /** track | promotion | inline: how it takes its application's changes. */
  updates?: string;
  stopped?: { at: string; by: string; operationId: string; replicas: Record<string, number> };
  spec?: { services: ServiceSpec[]; databases?: unknown[]; config?: Record<string, string>; secrets?: string[]; [k: string]: unknown };
  createdAt: string;
  updatedAt: string;
}

export interface HistoryEntry { id: string; environment: string; revision: string; author: string; kind: string; operationId?: string; overridesVersion?: number; at: string }
export interface Difference { path: string; a: unknown; b: unknown }
export interface DiffView { a: { name: string; revision: string }; b: { name: string; revision: string }; overrides: Difference[]; other: Difference[]; zeroDrift: boolean }

export interface Operation {
  id: string;
  kind: string;
  state: string;
  environments: string[];
  clusters: string[];
  requestedBy?: string;
  outcome?: string;
  message?: string;
  startedAt: string;
  finishedAt?: string;
  updatedAt: string;
}

export interface PromotionTarget {
  environment: string; cluster: string; tier: Tier; previousRevision?: string; phase: string;
  startedAt?: string; finishedAt?: string; error?: string; waitingOn?: string[];
}
export interface PromotionStage {
  name: string;
  phase: string;
  approval?: {
    required: boolean; fourEyes: boolean; needed?: number;
    approvals?: { by: string; at: string; comment?: string }[];
    approvedBy?: string; rejectedBy?: string; comment?: string; at?: string;
  };
  targets: PromotionTarget[];
  startedAt?: string;
  finishedAt?: string;
}
export interface Promotion {
  id: string; source: string; revision?: string; requestedBy: string; failurePolicy: string; phase: string; paused: boolean;
  stages: PromotionStage[]; startedAt: string; finishedAt?: string; message?: string; outcome?: string; workflowStatus?: string;
}

export interface Clone {
  id: string; name: string; source: string; sourceRevision: string; cluster: string; tier?: Tier; purpose: string; state: string;
  expiresAt?: string; remainingSeconds?: number; phase?: string; createdBy: string; createdAt: string; updatedAt: string; message?: string;
}
export interface DrillSummary { id: string; source: string; clone: string; cluster: string; outcome: string; rtoSeconds?: number; rpoSeconds?: number; startedAt: string; finishedAt: string }

export interface DashboardConfig { temporalUi?: string; namespace: string }

export interface LogLine { type: 'line'; environment: string; cluster: string; pod: string; container: string; time?: string; line: string }
export interface LogError { type: 'error'; environment: string; cluster: string; pod?: string; container?: string; reason: string; message: string }
export interface LogEnd { type: 'end'; reason: string; message: string; lines: number; bytes: number; dropped?: number }
export type LogEvent = LogLine | LogError | LogEnd;
