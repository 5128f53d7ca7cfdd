// The contract of the lifecycle-job activity (types only): names, a revision id, a hook; never
// manifests or secret values.
import type { LifecycleHook } from '../domain/environment.js';

export interface LifecycleJobInput {
  environment: string;
  /** Absent: the revision the environment runs now (its deployed one), with its overrides version. */
  revision?: string;
  overridesVersion?: number;
  hook: LifecycleHook;
  /**
   * The operation running a run-once hook (beforeStop, beforeTeardown; its workflow id): each
   * operation runs the jobs afresh, and a retry of the same operation finds its own run.
   */
  runId?: string;
  /** Take back fields someone else changed by hand in what it applies (a deploy that heals drift). */
  force?: boolean;
}

export interface LifecycleJobResult {
  hook: LifecycleHook;
  /** The revision whose jobs ran; absent when nothing is deployed. */
  revision?: string;
  /** The Kubernetes Jobs run and completed (empty: the revision has no job for this hook). */
  jobs: string[];
}

export interface LifecycleJobActivities {
  /**
   * Applies the revision's jobs of one hook (for a deploy hook, with the ConfigMap and Secrets they
   * read) and waits until every one has completed, heartbeating. A job that fails (or outlives its
   * timeoutSeconds) fails it, non-retryable, as LifecycleJobFailed, with the tail of its pod's log.
   */
  runLifecycleJob(input: LifecycleJobInput): Promise<LifecycleJobResult>;
}
