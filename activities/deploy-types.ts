// The contract between the deploy workflow and its activities (types only). Activities take
// names and revision ids, never manifests or secrets: they render again from the catalog
// (render is deterministic), so workflow histories stay small and secret-free.
import type { Violation, RulesVerdict } from '../domain/rules.js';

export interface DeployPlan {
  environment: string;
  cluster: string;
  namespace: string;
  tier: string;
  revision: string;
  /** The revision running before this deploy, if any: where a rollback returns to. */
  previousRevision?: string;
  verdict: RulesVerdict;
  /** The revision has pre-deploy migration Jobs, which run before the Deployments change. */
  hasMigrations: boolean;
  objects: number;
}

export type DeployPhase = 'migrations' | 'all';

export interface RevisionTarget {
  environment: string;
  revision: string;
}

export interface ApplySummary {
  created: number;
  configured: number;
  unchanged: number;
}

export interface WorkloadState {
  kind: string;
  name: string;
  ready: number;
  desired: number;
  done: boolean;
}

export interface DeployActivities {
  /** Reads the environment, its revision and the rules; evaluates the rules on the change. */
  planDeploy(input: { environment: string; revision?: string; at: string }): Promise<DeployPlan>;
  /** Renders the revision, fills secrets from the catalog, server-side applies it. */
  applyRevision(input: RevisionTarget & { phase: DeployPhase }): Promise<ApplySummary>;
  /** Deletes the environment's objects that the revision no longer renders. */
  pruneRevision(input: RevisionTarget): Promise<{ deleted: string[] }>;
  /** Waits until the revision's workloads (Jobs for migrations) are rolled out; heartbeats. */
  waitForRevision(input: RevisionTarget & { phase: DeployPhase; timeoutSeconds: number }): Promise<WorkloadState[]>;
  /** Records what now runs where; a repeat for the same revision records nothing new. */
  recordDeployment(input: RevisionTarget & { requestedBy: string; operationId: string; kind: 'deploy' | 'promotion' | 'rollback' }): Promise<{ changed: boolean }>;
}

export type { Violation };
