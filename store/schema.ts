// Row types of the catalog's tables, as Kysely sees them. Portable column types only: text for
// ids, JSON and ISO-8601 timestamps (which sort as text), integer for counters and flags.

export interface ClustersTable {
  name: string;
  provider: string;
  region: string | null;
  labels: string;
  connection: string;
  status: string;
  status_message: string | null;
  version: string | null;
  capacity: string | null;
  /** JSON array of tiers the cluster accepts beyond its `tier` label's. */
  allowed_tiers: string;
  /** JSON array of existing namespaces Flotilla may deploy into although it did not create them. */
  adoptable_namespaces: string;
  /** Bumped on every update: the optimistic-concurrency token. */
  generation: number;
  created_at: string;
  updated_at: string;
}

export interface EnvironmentsTable {
  name: string;
  application: string;
  tier: string;
  residency: string | null;
  cluster: string;
  namespace: string;
  current_revision: string | null;
  deployed_revision: string | null;
  deployed_at: string | null;
  deployed_by: string | null;
  /** The overrides version that was deployed with deployed_revision. */
  deployed_overrides_version: number | null;
  overrides: string;
  /** Bumped on every overrides change; overrides_versions keeps each version. */
  overrides_version: number;
  /** report | heal (domain/environment.ts DriftPolicy). */
  drift_policy: string;
  /** inline | track | promotion (domain/environment.ts EnvironmentUpdates). */
  updates: string;
  /** JSON StoppedState while the environment is stopped, else null. */
  stopped: string | null;
  generation: number;
  created_at: string;
  updated_at: string;
}

export interface ApplicationsTable {
  name: string;
  current_revision: string;
  updated_by: string;
  generation: number;
  created_at: string;
  updated_at: string;
}

export interface ChartRendersTable {
  key: string;
  chart: string;
  source: string;
  objects: string;
  created_at: string;
}

export interface UploadsTable {
  digest: string;
  kind: 'chart' | 'bundle';
  content: string;
  size: number;
  created_by: string;
  created_at: string;
}

export interface RevisionsTable {
  id: string;
  spec: string;
  author: string;
  created_at: string;
}

export interface RevisionHistoryTable {
  id: string;
  environment: string;
  revision: string;
  author: string;
  kind: string;
  operation_id: string | null;
  /** For deploys, promotions and rollbacks: the overrides version deployed with the revision. */
  overrides_version: number | null;
  at: string;
}

export interface OverridesVersionsTable {
  environment: string;
  version: number;
  overrides: string;
  author: string;
  created_at: string;
}

/** The operation changing an environment now: one at a time per environment. */
export interface EnvironmentLocksTable {
  environment: string;
  operation_id: string;
  acquired_at: string;
}

export interface RulesVersionsTable {
  version: number;
  document: string;
  updated_by: string;
  updated_at: string;
}

export interface TokensTable {
  id: string;
  name: string;
  token_hash: string;
  role: string;
  tiers: string | null;
  created_by: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  /** Who the token stands for (a person or a service); several tokens may share one. */
  owner: string | null;
  expires_at: string | null;
}

export interface AuditLogTable {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  result: string;
  operation_id: string | null;
  details: string | null;
}

export interface OperationsTable {
  id: string;
  kind: string;
  state: string;
  requested_by: string | null;
  /** How it ended for the user: completed, rejected, cancelled, rolled-back, completed-with-failures, failed. */
  outcome: string | null;
  message: string | null;
  started_at: string;
  finished_at: string | null;
  updated_at: string;
}

/** Which environments and clusters an operation touches: a promotion touches many. */
export interface OperationSubjectsTable {
  operation_id: string;
  subject_kind: string;
  name: string;
}

export interface SecretsTable {
  scope: string;
  name: string;
  ciphertext: string;
  iv: string;
  tag: string;
  wrapped_key: string;
  key_id: string;
  created_at: string;
  updated_at: string;
}

export interface ServiceStatusTable {
  environment: string;
  service: string;
  ready_replicas: number;
  desired_replicas: number;
  health: string;
  revision: string | null;
  drift: number;
  observed_at: string;
  updated_replicas: number;
  restarts: number;
  /** JSON: the workload's kind, conditions and pod problems. */
  details: string | null;
  /** When the observer last saw this row's values change. */
  changed_at: string | null;
}

/** What the observer last saw of an environment (store/observations.ts). */
export interface EnvironmentObservationsTable {
  environment: string;
  cluster: string;
  health: string;
  revision: string | null;
  /** JSON: ObjectDrift[] (domain/drift.ts). */
  drift: string;
  drift_since: string | null;
  observed_at: string;
  changed_at: string;
}

/** Whether the observer reaches a cluster, since when, and when it last answered. */
export interface ClusterObservationsTable {
  cluster: string;
  reachable: number;
  since: string;
  last_seen_at: string | null;
  message: string | null;
  observer: string;
}

/** Which observer may write a cluster's observations, until when. */
export interface ObserverLeasesTable {
  cluster: string;
  holder: string;
  expires_at: string;
}

/** One Idempotency-Key of the API: claimed (pending) while its request runs, then its answer. */
export interface IdempotencyKeysTable {
  principal: string;
  key: string;
  /** Hash of method, path and body: the same key with another request is refused. */
  fingerprint: string;
  state: string;
  status: number | null;
  body: string | null;
  location: string | null;
  created_at: string;
}

/** A clone operation and what it made (store/clones.ts). */
export interface ClonesTable {
  /** The clone operation's id (its workflow id). */
  id: string;
  /** The clone's environment. */
  name: string;
  source: string;
  source_revision: string;
  cluster: string;
  purpose: string;
  state: string;
  /** JSON: every database with its mode. */
  data_plan: string;
  /** JSON: what the data copy did, per database. */
  data_result: string | null;
  message: string | null;
  ttl_seconds: number | null;
  expires_at: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/** A DR drill's report (store/drills.ts). */
export interface DrillReportsTable {
  id: string;
  source: string;
  clone: string;
  cluster: string;
  outcome: string;
  rto_seconds: number | null;
  rpo_seconds: number | null;
  started_at: string;
  finished_at: string;
  /** JSON: the whole report. */
  report: string;
  markdown: string;
}

export interface CatalogTables {
  clusters: ClustersTable;
  environments: EnvironmentsTable;
  applications: ApplicationsTable;
  chart_renders: ChartRendersTable;
  uploads: UploadsTable;
  revisions: RevisionsTable;
  revision_history: RevisionHistoryTable;
  overrides_versions: OverridesVersionsTable;
  environment_locks: EnvironmentLocksTable;
  rules_versions: RulesVersionsTable;
  tokens: TokensTable;
  audit_log: AuditLogTable;
  operations: OperationsTable;
  operation_subjects: OperationSubjectsTable;
  secrets: SecretsTable;
  service_status: ServiceStatusTable;
  idempotency_keys: IdempotencyKeysTable;
  clones: ClonesTable;
  drill_reports: DrillReportsTable;
  environment_observations: EnvironmentObservationsTable;
  cluster_observations: ClusterObservationsTable;
  observer_leases: ObserverLeasesTable;
}
