// The contract between the deploy workflow and its activities (types only). Activities take
// names, revision ids and overrides versions, never manifests or secrets: they render again
// from the catalog (render is deterministic), so workflow histories stay small and secret-free.
import type { LifecycleHook } from '../domain/environment.js';
import type { Violation, RulesVerdict } from '../domain/rules.js';
import type { LifecycleJobActivities } from './lifecycle-jobs-types.js';

export interface DeployPlan {
  environment: string;
  cluster: string;
  namespace: string;
  tier: string;
  revision: string;
  /** The overrides version this deploy uses (pinned: later edits do not change what it applies). */
  overridesVersion?: number;
  /** The revision the environment should run, as the plan found it. */
  currentRevision?: string;
  /** The revision running before this deploy, if any: where a rollback returns to. */
  previousRevision?: string;
  /** The overrides version running before this deploy. */
  previousOverridesVersion?: number;
  verdict: RulesVerdict;
  /** The revision has container databases, which are ready before migrations run. */
  hasDatabases?: boolean;
  /** The revision has pre-deploy migration Jobs, which run before the Deployments change. */
  hasMigrations: boolean;
  /**
   * The hooks the revision has lifecycle jobs for (beforeDeploy, afterDeploy, …); absent when
   * none, as in every plan made before jobs existed.
   */
  hooks?: LifecycleHook[];
  objects: number;
}

/**
 * databases: everything but Jobs, Deployments and Ingresses (waits for StatefulSets);
 * migrations: everything but Deployments and Ingresses (waits for Jobs); all: everything.
 */
export type DeployPhase = 'databases' | 'migrations' | 'all';

export interface RevisionTarget {
  environment: string;
  revision: string;
  /** Absent: the environment's overrides as they are now (deploys recorded before versions). */
  overridesVersion?: number;
}

export interface ApplySummary {
  created: number;
  configured: number;
  unchanged: number;
}

export interface PodProblemSummary {
  pod: string;
  reason: string;
  message?: string;
}

/** An object of the environment's that its revision no longer renders. */
export interface PrunableObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

export interface WorkloadState {
  kind: string;
  name: string;
  ready: number;
  desired: number;
  done: boolean;
  problems?: PodProblemSummary[];
}

export interface DeployActivities extends LifecycleJobActivities {
  /** Reads the environment, its revision and the rules; evaluates the rules on the change. */
  planDeploy(input: { environment: string; revision?: string; overridesVersion?: number; at: string }): Promise<DeployPlan>;
  /** Renders the revision, fills secrets from the catalog, server-side applies it. */
  applyRevision(input: RevisionTarget & { phase: DeployPhase; force?: boolean }): Promise<ApplySummary>;
  /**
   * Deletes the environment's objects that the revision no longer renders; with `objects`,
   * exactly those that findPrunable found (each by its uid).
   */
  pruneRevision(input: RevisionTarget & { objects?: PrunableObject[] }): Promise<{ deleted: string[] }>;
  /** What pruneRevision would delete now: reads only, so it runs while the rollout is waited for. */
  findPrunable(input: RevisionTarget): Promise<{ objects: PrunableObject[] }>;
  /** Waits until the revision's workloads are rolled out (or fail, with the pods' reasons); heartbeats. */
  waitForRevision(input: RevisionTarget & { phase: DeployPhase; timeoutSeconds: number; stuckAfterSeconds?: number }): Promise<WorkloadState[]>;
  /**
   * Records what now runs where; a repeat for the same revision and overrides records nothing
   * new. `desired` also moves the revision the environment should run.
   */
  recordDeployment(input: RevisionTarget & { requestedBy: string; operationId: string; kind: 'deploy' | 'promotion' | 'rollback' | 'clone'; desired?: string }): Promise<{ changed: boolean }>;
  /** Removes everything Flotilla created for the environment (its namespace only if Flotilla created it). */
  removeDeployment(input: { environment: string }): Promise<{ deleted: string[]; namespaceDeleted: boolean }>;
  /** Records that a rollback left nothing deployed; `desired` as it was before. */
  recordUndeploy(input: { environment: string; revision: string; requestedBy: string; operationId: string; desired?: string }): Promise<void>;
}

export type { Violation };
