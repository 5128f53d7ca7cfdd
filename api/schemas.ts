// Request and response schemas of the API. Requests are built from the domain schemas (never
// restated); responses describe what the routes return, for the OpenAPI document.
import { z } from 'zod';
import {
  AksConnection, ClusterConnection, ClusterPlacementSpec, ClusterStatus, EksConnection, GkeConnection, KubeconfigConnection, Provider,
} from '../domain/cluster.js';
import { CLONE_PURPOSES, CLONE_STATES, CloneRequest, DATA_MODES, Ttl } from '../domain/clone.js';
import { DrillObjectives, HttpCheck } from '../domain/drill.js';
import { AppSpec, DriftPolicy, EnvironmentBinding, Overrides, Tier, UPDATE_MODES } from '../domain/environment.js';
import { DnsLabel, Labels } from '../domain/names.js';
import { RULE_NAMES, Rules } from '../domain/rules.js';
import { SCHEDULE_KINDS, ScheduleRequest } from '../domain/schedule.js';
import { AksAccount } from '../providers/cloud/aks.js';
import { EksAccount } from '../providers/cloud/eks.js';
import { GkeAccount } from '../providers/cloud/gke.js';
import { KubeconfigAccount } from '../providers/cloud/adapters.js';
import { AUDIT_RESULTS } from '../store/audit.js';
import { OPERATION_KINDS, OPERATION_OUTCOMES, OPERATION_STATES } from '../store/operations.js';
import { HEALTH_STATES } from '../store/status.js';
import { ROLES } from './authz.js';
import { isReservedName, TOKEN_TTL } from '../store/tokens.js';

// ── requests ────────────────────────────────────────────────────────────────────────────

/** A kubeconfig connection may leave the secret out: the API names it when given `kubeconfig`. */
const RegisterConnection = z.discriminatedUnion('provider', [
  EksConnection, GkeConnection, AksConnection,
  KubeconfigConnection.extend({ kubeconfigSecret: KubeconfigConnection.shape.kubeconfigSecret.optional() }),
]);

export const RegisterCluster = z.strictObject({
  name: DnsLabel,
  region: z.string().min(1).optional(),
  labels: Labels.optional(),
  /** Tiers the cluster accepts beyond its `tier` label's (domain/placement.ts). */
  allowedTiers: ClusterPlacementSpec.shape.allowedTiers.optional(),
  /** Existing namespaces Flotilla may deploy into although it did not create them. */
  adoptableNamespaces: ClusterPlacementSpec.shape.adoptableNamespaces.optional(),
  connection: RegisterConnection,
  /** A kubeconfig document, inline: stored encrypted as a catalog secret, never echoed. */
  kubeconfig: z.string().min(1).max(256 * 1024).optional(),
  /** A server on a link-local or cloud metadata address is refused unless this says the cluster really lives there. */
  allowLinkLocalServer: z.boolean().optional(),
});
export type RegisterCluster = z.infer<typeof RegisterCluster>;

/** The discovery account without `provider` (it is in the path). */
export const DISCOVER_ACCOUNTS = {
  eks: EksAccount.omit({ provider: true }),
  gke: GkeAccount.omit({ provider: true }),
  aks: AksAccount.omit({ provider: true }),
  kubeconfig: KubeconfigAccount.omit({ provider: true }),
} as const;
export const DiscoverBody = z.union([DISCOVER_ACCOUNTS.eks, DISCOVER_ACCOUNTS.gke, DISCOVER_ACCOUNTS.aks, DISCOVER_ACCOUNTS.kubeconfig]);

export const DeployBody = z.strictObject({
  /** A revision of this environment (`sha256:…` or its 12-digit short form); the current one when omitted. */
  revision: z.string().regex(/^(sha256:)?[0-9a-f]{12,64}$/, 'must be a revision id (sha256:<hex>) or its short form').optional(),
  /** Deploy into a stopped environment and leave it stopped (refused with 409 otherwise: start it first). */
  keepStopped: z.boolean().optional(),
});
export const StopStartBody = z.strictObject({
  /** start: how long the workloads may take to be ready again (default 600 s). */
  rolloutTimeoutSeconds: z.number().int().min(10).max(3600).optional(),
});

const Identity = z.string().min(1).max(100).regex(/^[A-Za-z0-9][-A-Za-z0-9_.@:]*$/, 'must be letters, digits and -_.@: only')
  .refine((n) => !isReservedName(n), 'is reserved for Flotilla itself');
export const CreateToken = z.strictObject({
  name: Identity,
  /** Who the token stands for (a person or a service): four eyes and the audit log compare owners. Defaults to the name. */
  owner: Identity.optional(),
  role: z.enum(ROLES),
  tiers: z.array(Tier).min(1).optional(),
  /** Days until it expires. */
  ttlDays: z.number().int().min(1).max(TOKEN_TTL.maxDays).optional(),
});

// ── promotions: PromoteInput (workflows/promote-types.ts) without requestedBy, which the API fills in.

const Revision = z.string().regex(/^(sha256:)?[0-9a-f]{12,64}$/, 'must be a revision id (sha256:<hex>) or its short form');
export const FAILURE_POLICIES = ['rollback', 'pause', 'continue'] as const;

export const PromotionStage = z.strictObject({
  name: DnsLabel,
  /** Target environments; each keeps its own overrides. */
  targets: z.array(DnsLabel).min(1).max(100),
  /** At most this many clusters change at once within the stage (default: all). */
  maxParallel: z.number().int().min(1).max(100).optional(),
  /** Wait for an approval before this stage (rules may require one regardless). */
  approval: z.boolean().optional(),
  /** After the stage: keep checking the targets' health this long before going on. */
  soakSeconds: z.number().int().min(0).max(86_400).optional(),
});

export const PromoteBody = z.strictObject({
  /** The environment whose deployed revision (else current) is promoted. */
  source: DnsLabel,
  /** A revision of the source (`sha256:…` or its short form); its deployed one when omitted. */
  revision: Revision.optional(),
  stages: z.array(PromotionStage).min(1).max(20),
  /** Promote into stopped targets and leave them stopped (refused with 409 otherwise: start them first). */
  keepStopped: z.boolean().optional(),
  /** On a failed target: roll back every target touched (default), pause for a human, or go on. */
  failurePolicy: z.enum(FAILURE_POLICIES).optional(),
  /** An approval that does not arrive in time cancels the promotion (default 24 h). */
  approvalTimeoutSeconds: z.number().int().min(1).max(30 * 86_400).optional(),
  /** Per target: how long its rollout may take (default 600). */
  rolloutTimeoutSeconds: z.number().int().min(1).max(86_400).optional(),
  /** Per target: give up on a deploy after this long (default 900). */
  targetTimeoutSeconds: z.number().int().min(1).max(86_400).optional(),
});
export type PromoteBody = z.infer<typeof PromoteBody>;

export const ApprovalBody = z.strictObject({ comment: z.string().max(1000).optional() });
export const ControlBody = z.strictObject({});
export const CancelBody = z.strictObject({ reason: z.string().max(1000).optional() });

const SecretName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid environment variable name').max(253);
/** A clone: CloneRequest, plus secret values of its own (stored encrypted, never in the workflow). */
export const CloneBody = CloneRequest.extend({ secrets: z.record(SecretName, z.string().max(64 * 1024)).optional() });
export const CloneQuery = z.object({
  source: DnsLabel.optional(),
  name: DnsLabel.optional(),
  /** `false`: torn-down clones too (their history). */
  active: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
});
/** A DR drill: a clone (purpose drill, no TTL: it is torn down when the drill ends unless kept), its objectives and checks. */
export const DrillBody = CloneRequest.omit({ purpose: true, ttl: true, name: true }).extend({
  /** The clone's environment name (default SOURCE-drill). */
  name: DnsLabel.optional(),
  secrets: z.record(SecretName, z.string().max(64 * 1024)).optional(),
  objectives: DrillObjectives.optional(),
  http: z.array(HttpCheck).max(20).optional(),
  keep: z.boolean().optional(),
});
export const DrillQuery = z.object({ source: DnsLabel.optional() });

/** Exactly one: extend by a duration from now, until a time, or cancel the TTL. */
export const TtlBody = z.strictObject({
  extend: Ttl.optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  cancel: z.literal(true).optional(),
}).refine((b) => [b.extend, b.until, b.cancel].filter((x) => x !== undefined).length === 1, { message: 'give exactly one of extend, until or cancel' });

export const NameParam = z.strictObject({ name: DnsLabel });
/** A yes/no query parameter: true, false, 1 or 0. */
export const QueryFlag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
export const OffboardQuery = z.strictObject({
  drain: QueryFlag.default(false).describe('Tear down the environments bound to the cluster first (else the offboarding is refused while there are any).'),
  deleteData: QueryFlag.default(false).describe("With drain: delete the environments' PersistentVolumeClaims too."),
});
export const TeardownQuery = z.strictObject({
  deleteData: QueryFlag.default(false).describe("Also delete the environment's PersistentVolumeClaims (its container databases' data)."),
});

/** One server-sent event as a client parses it (what schemathesis checks a text/event-stream against). */
export function sseEvent(types: readonly [string, ...string[]], data: string) {
  return z.looseObject({ event: z.enum(types), data: z.string().describe(data) });
}
export const IdParam = z.strictObject({ id: z.string().min(1).max(255).regex(/^[A-Za-z0-9._:/-]+$/, 'is not an id') });

const Limit = z.string().regex(/^[1-9][0-9]{0,3}$/, 'must be a positive integer').transform(Number).optional();
const Cursor = z.string().min(1).max(512).optional();
const Timestamp = z.iso.datetime({ offset: true }).optional();

export const ClusterQuery = z.object({
  /** Label selector: `tier=prod,geo=eu`. */
  labels: z.string().max(2048).optional(),
  status: ClusterStatus.optional(),
  provider: Provider.optional(),
});
export const EnvironmentQuery = z.object({
  application: DnsLabel.optional(),
  tier: Tier.optional(),
  cluster: DnsLabel.optional(),
});
export const PageQuery = z.object({ limit: Limit, cursor: Cursor });
export const OperationQuery = z.object({
  kind: z.enum(OPERATION_KINDS).optional(),
  state: z.enum(OPERATION_STATES).optional(),
  outcome: z.enum(OPERATION_OUTCOMES).optional(),
  environment: DnsLabel.optional(),
  cluster: DnsLabel.optional(),
  limit: Limit,
  cursor: Cursor,
});
export const AuditQuery = z.object({
  actor: z.string().min(1).max(200).optional(),
  action: z.string().min(1).max(200).optional(),
  target: z.string().min(1).max(300).optional(),
  result: z.enum(AUDIT_RESULTS).optional(),
  operation: z.string().min(1).max(255).optional(),
  since: Timestamp,
  until: Timestamp,
  limit: Limit,
  cursor: Cursor,
});

export { AppSpec, Overrides, Rules };

// ── responses ───────────────────────────────────────────────────────────────────────────

export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
export const OperationAccepted = z.object({ operationId: z.string() });

export const ClusterView = z.object({
  name: z.string(),
  provider: Provider,
  region: z.string().optional(),
  labels: z.record(z.string(), z.string()),
  allowedTiers: z.array(Tier),
  adoptableNamespaces: z.array(z.string()),
  connection: ClusterConnection,
  status: ClusterStatus,
  statusMessage: z.string().optional(),
  version: z.string().optional(),
  capacity: z.object({ nodes: z.number(), cpu: z.string().optional(), memory: z.string().optional(), pods: z.number().optional() }).optional(),
  generation: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const CandidateView = z.object({
  name: z.string(),
  suggestedName: z.string(),
  connection: ClusterConnection,
  region: z.string().optional(),
  version: z.string().optional(),
  status: z.string(),
  ready: z.boolean(),
  nodeCount: z.number().optional(),
});

const Deployment = z.object({ revision: z.string(), overridesVersion: z.number().int().optional(), at: z.string(), by: z.string() });
export const EnvironmentView = EnvironmentBinding.extend({
  overrides: Overrides,
  overridesVersion: z.number().int(),
  currentRevision: z.string().optional(),
  deployed: Deployment.optional(),
  driftPolicy: DriftPolicy,
  /** track: takes its Application's changes on apply; promotion: changes only by promotion; inline: its own app. */
  updates: z.enum(['inline', ...UPDATE_MODES]),
  /** While stopped: when, by whom, and what each workload ran. */
  stopped: z.object({ at: z.string(), by: z.string(), operationId: z.string(), replicas: z.record(z.string(), z.number().int()) }).optional(),
  generation: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const ApplicationView = z.object({
  name: z.string(),
  currentRevision: z.string(),
  updatedBy: z.string(),
  generation: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Its environments: how each takes its changes and the revision each should run and runs. */
  environments: z.array(z.object({
    name: z.string(), tier: Tier, cluster: z.string(), updates: z.enum(['inline', ...UPDATE_MODES]), currentRevision: z.string().optional(), deployedRevision: z.string().optional(),
  })),
});
export const ApplicationDetail = ApplicationView.extend({ spec: AppSpec });
/** POST /v1/environments/{name}/copies: a new environment of the same application, at the source's deployed revision. */
export const CopyEnvironmentBody = z.strictObject({
  name: DnsLabel,
  cluster: DnsLabel,
  /** Defaults to the new environment's name. */
  namespace: DnsLabel.optional(),
  /** Defaults to the source's tier. */
  tier: Tier.optional(),
  residency: z.string().min(1).optional(),
  /** Defaults by tier (prod, dr and compliance change by promotion); an inline source makes an inline copy. */
  updates: z.enum(UPDATE_MODES).optional(),
});
export const ServiceStatusView = z.object({
  service: z.string(),
  readyReplicas: z.number().int(),
  desiredReplicas: z.number().int(),
  health: z.enum(HEALTH_STATES),
  revision: z.string().optional(),
  drift: z.boolean(),
  observedAt: z.string(),
});
export const EnvironmentDetail = EnvironmentView.extend({
  spec: AppSpec.optional(),
  status: z.object({ health: z.enum(HEALTH_STATES), services: z.array(ServiceStatusView) }),
});
export const SpecChanged = z.object({ environment: EnvironmentView, revision: z.string(), changed: z.boolean() });

export const HistoryView = z.object({
  id: z.string(),
  environment: z.string(),
  revision: z.string(),
  author: z.string(),
  kind: z.string(),
  operationId: z.string().optional(),
  overridesVersion: z.number().int().optional(),
  at: z.string(),
});

const Difference = z.object({ path: z.string(), a: z.unknown(), b: z.unknown() });
export const DiffView = z.object({
  a: z.object({ name: z.string(), revision: z.string() }),
  b: z.object({ name: z.string(), revision: z.string() }),
  overrides: z.array(Difference),
  other: z.array(Difference),
  /** True when the two differ in declared overrides only. */
  zeroDrift: z.boolean(),
});

export const RulesView = z.object({
  rules: Rules,
  version: z.number().int(),
  updatedBy: z.string().optional(),
  updatedAt: z.string().optional(),
});
export const ViolationView = z.object({
  rule: z.enum(RULE_NAMES),
  severity: z.enum(['error', 'warning']),
  object: z.string(),
  field: z.string(),
  message: z.string(),
});

export const TokenView = z.object({
  id: z.string(),
  name: z.string(),
  owner: z.string(),
  role: z.enum(ROLES),
  tiers: z.array(Tier).optional(),
  createdBy: z.string().optional(),
  createdAt: z.string(),
  expiresAt: z.string().optional(),
  lastUsedAt: z.string().optional(),
  revokedAt: z.string().optional(),
});
export const CreatedToken = TokenView.extend({ token: z.string() });

export const AuditView = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  target: z.string(),
  result: z.enum(AUDIT_RESULTS),
  operationId: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

export const OperationView = z.object({
  id: z.string(),
  kind: z.enum(OPERATION_KINDS),
  state: z.enum(OPERATION_STATES),
  environments: z.array(z.string()),
  clusters: z.array(z.string()),
  requestedBy: z.string().optional(),
  /** How it ended for the user: only `failed` means Flotilla could not do its job. */
  outcome: z.enum(OPERATION_OUTCOMES).optional(),
  message: z.string().optional(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  updatedAt: z.string(),
});
export const OperationDetail = OperationView.extend({
  temporal: z.object({
    workflowId: z.string(),
    runId: z.string(),
    type: z.string(),
    status: z.string(),
    startTime: z.string().optional(),
    closeTime: z.string().optional(),
    historyLength: z.number().optional(),
    /** Why it failed: the innermost failure's message and type (never secret: activities say what, not values). */
    failure: z.object({ message: z.string(), type: z.string().optional() }).optional(),
    /** What runs now: each pending activity with its last progress (e.g. which pods are not ready, and why). */
    pending: z.array(z.object({
      activity: z.string(),
      attempt: z.number().int(),
      progress: z.unknown().optional(),
      lastFailure: z.string().optional(),
    })).optional(),
  }).optional(),
});

const PromotionTarget = z.object({
  environment: z.string(),
  cluster: z.string(),
  tier: z.string(),
  previousRevision: z.string().optional(),
  phase: z.enum(['pending', 'deploying', 'succeeded', 'failed', 'rolling-back', 'rolled-back', 'rollback-failed', 'skipped']),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  error: z.string().optional(),
  /** While it deploys or rolls back: why its workloads are not ready yet (from its deploy's rollout wait). */
  waitingOn: z.array(z.string()).optional(),
});
const PromotionStageView = z.object({
  name: z.string(),
  phase: z.enum(['pending', 'awaiting-approval', 'running', 'soaking', 'succeeded', 'failed', 'skipped']),
  approval: z.object({
    required: z.boolean(), fourEyes: z.boolean(), needed: z.number().int().optional(),
    approvals: z.array(z.object({ by: z.string(), at: z.string(), comment: z.string().optional() })).optional(),
    approvedBy: z.string().optional(), rejectedBy: z.string().optional(),
    comment: z.string().optional(), at: z.string().optional(),
  }).optional(),
  targets: z.array(PromotionTarget),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
});
export const PROMOTION_PHASES = [
  'planning', 'running', 'awaiting-approval', 'soaking', 'paused', 'rolling-back',
  'completed', 'completed-with-failures', 'rolled-back', 'cancelled', 'rejected', 'failed',
] as const;
/** The promote workflow's `promotionState` query, and Temporal's status of the run. */
export const PromotionView = z.object({
  id: z.string(),
  source: z.string(),
  revision: z.string().optional(),
  requestedBy: z.string(),
  failurePolicy: z.enum(FAILURE_POLICIES),
  phase: z.enum(PROMOTION_PHASES),
  paused: z.boolean(),
  stages: z.array(PromotionStageView),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  message: z.string().optional(),
  outcome: z.enum(['completed', 'completed-with-failures', 'rolled-back', 'cancelled', 'rejected', 'failed']).optional(),
  /** Temporal's status of the run (RUNNING, COMPLETED, FAILED, TERMINATED, …), when known. */
  workflowStatus: z.string().optional(),
});

/** The teardownEnvironment workflow's `teardownState` query. */
export const TeardownView = z.object({
  environment: z.string(),
  phase: z.enum(['planning', 'awaiting-approval', 'removing', 'forgetting', 'completed', 'rejected', 'cancelled']),
  requestedBy: z.string(),
  deleteData: z.boolean(),
  approval: z.object({
    fourEyes: z.boolean(),
    needed: z.number().int(),
    approvals: z.array(z.object({ by: z.string(), at: z.string(), comment: z.string().optional() })),
    approvedBy: z.string().optional(),
    rejectedBy: z.string().optional(),
    comment: z.string().optional(),
    at: z.string().optional(),
  }).optional(),
  deleted: z.array(z.string()).optional(),
  keptClaims: z.array(z.string()).optional(),
  namespace: z.enum(['deleted', 'kept', 'foreign', 'absent']).optional(),
  message: z.string().optional(),
});

const DataPlanView = z.object({ database: z.string(), engine: z.string(), location: z.enum(['container', 'external']), mode: z.enum(DATA_MODES) });
const CopySummaryView = z.object({
  database: z.string(), mode: z.enum(DATA_MODES), tables: z.number().int(), rows: z.number().int(), bytes: z.number().int(),
  snapshotAt: z.string().optional(), durationMs: z.number(), unruledPersonal: z.array(z.string()).optional(),
});
export const CloneView = z.object({
  id: z.string(),
  name: z.string(),
  source: z.string(),
  sourceRevision: z.string(),
  cluster: z.string(),
  tier: Tier.optional(),
  namespace: z.string().optional(),
  purpose: z.enum(CLONE_PURPOSES),
  state: z.enum(CLONE_STATES),
  data: z.array(DataPlanView),
  dataResult: z.array(CopySummaryView).optional(),
  message: z.string().optional(),
  ttlSeconds: z.number().int().optional(),
  expiresAt: z.string().optional(),
  /** While it waits for its TTL: seconds until it tears itself down. */
  remainingSeconds: z.number().int().optional(),
  /** While it is being made: the workflow's phase, its timed phases, and the database being copied. */
  phase: z.string().optional(),
  phases: z.array(z.object({ name: z.string(), startedAt: z.string(), finishedAt: z.string().optional() })).optional(),
  copying: z.string().optional(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const DrillSummaryView = z.object({
  id: z.string(), source: z.string(), clone: z.string(), cluster: z.string(), outcome: z.enum(['passed', 'failed', 'cancelled']),
  rtoSeconds: z.number().optional(), rpoSeconds: z.number().optional(), startedAt: z.string(), finishedAt: z.string(),
});
export const DrillListView = z.object({
  items: z.array(DrillSummaryView),
  /** Per source, oldest first: each drill's RTO and outcome. */
  trend: z.record(z.string(), z.array(z.object({ at: z.string(), rtoSeconds: z.number().optional(), outcome: z.string() }))),
});
/** A finished drill's report (state finished, with its Markdown), or a running one's phase. */
export const DrillView = z.object({ id: z.string(), state: z.string(), phase: z.string().optional(), markdown: z.string().optional() }).loose();

export const TtlView = z.object({
  cloneId: z.string(), clone: z.string(), expiresAt: z.string().optional(), remainingSeconds: z.number().int().optional(),
  phase: z.enum(['waiting', 'tearing-down', 'torn-down', 'cancelled']),
});

export const ApplyResult = z.object({
  results: z.array(z.object({
    kind: z.enum(['Application', 'Cluster', 'Environment', 'Rules']),
    name: z.string(),
    /** deploying: a tracking environment this apply did not name, deployed because its application changed. */
    action: z.enum(['created', 'configured', 'unchanged', 'deploying']),
    /** A cluster's onboarding, or the deploy that carries an application change to a tracking environment. */
    operationId: z.string().optional(),
    revision: z.string().optional(),
    /** Why a tracking environment was not deployed (busy, a freeze window, stopped). */
    message: z.string().optional(),
  })),
});

export function list<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item) });
}
export function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().optional() });
}

/** A schedule of clones or drills, with secret values its runs' clones get (stored encrypted, never in the schedule). */
export const ScheduleBody = ScheduleRequest.safeExtend({ secrets: z.record(SecretName, z.string().max(64 * 1024)).optional() });
export const ScheduleNoteBody = z.strictObject({ note: z.string().max(500).optional() });
const ScheduledRunView = z.object({ workflowId: z.string(), scheduledAt: z.string(), startedAt: z.string() });
export const ScheduleView = z.object({
  id: z.string(),
  kind: z.enum(SCHEDULE_KINDS).optional(),
  every: z.number().int().optional(),
  cron: z.string().optional(),
  timezone: z.string().optional(),
  clone: z.record(z.string(), z.unknown()).optional(),
  drill: z.record(z.string(), z.unknown()).optional(),
  /** stop, start: the environment, or every environment of the tier. */
  environment: z.string().optional(),
  tier: Tier.optional(),
  createdBy: z.string().optional(),
  tiers: z.array(Tier),
  paused: z.boolean(),
  note: z.string().optional(),
  nextRuns: z.array(z.string()),
  recentRuns: z.array(ScheduledRunView),
  running: z.array(z.string()),
  runs: z.number().int(),
  skipped: z.number().int(),
  createdAt: z.string().optional(),
  lastRun: ScheduledRunView.extend({ status: z.string(), result: z.unknown().optional() }).optional(),
});

// ── cloud import (POST /v1/providers/{provider}/import) ─────────────────────────────────

/** What to import beside the account: every cluster found, or these (the provider's names), with extra labels. */
const ImportSelection = {
  /** Every cluster the account has; or give `names`. */
  all: z.boolean().optional(),
  /** The clusters to import, by their name in the provider. */
  names: z.array(z.string().min(1).max(253)).min(1).max(500).optional(),
  /** Labels every imported cluster gets, over those from the cloud's tags. */
  labels: Labels.optional(),
  /** Tiers the imported clusters accept beyond their `tier` label's. */
  allowedTiers: ClusterPlacementSpec.shape.allowedTiers.optional(),
};
export const IMPORT_BODIES = {
  eks: DISCOVER_ACCOUNTS.eks.extend(ImportSelection),
  gke: DISCOVER_ACCOUNTS.gke.extend(ImportSelection),
  aks: DISCOVER_ACCOUNTS.aks.extend(ImportSelection),
  kubeconfig: DISCOVER_ACCOUNTS.kubeconfig.extend(ImportSelection),
} as const;
export type ImportBody = z.infer<(typeof IMPORT_BODIES)[keyof typeof IMPORT_BODIES]>;
export const ImportClustersBody = z.union([IMPORT_BODIES.eks, IMPORT_BODIES.gke, IMPORT_BODIES.aks, IMPORT_BODIES.kubeconfig]);

/** A discovered cluster as the API shows it: the candidate and the cloud's tags. */
export const DiscoveredView = CandidateView.extend({
  tags: z.record(z.string(), z.string()).optional(),
});

export const ImportResult = z.object({
  results: z.array(z.object({
    /** The Flotilla cluster name. */
    name: z.string(),
    /** Its name in the provider. */
    cloudName: z.string(),
    region: z.string().optional(),
    /** created: registered now, onboarding started; unchanged: already registered with this connection. */
    action: z.enum(['created', 'unchanged']),
    operationId: z.string().optional(),
    labels: z.record(z.string(), z.string()),
    /** Tags that gave no label, and why. */
    skippedTags: z.array(z.object({ tag: z.string(), reason: z.string() })).optional(),
  })),
});
export type ImportResult = z.infer<typeof ImportResult>;
