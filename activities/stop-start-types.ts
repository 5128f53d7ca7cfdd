// The contract between stopEnvironment / startEnvironment and their activities (types only).

export interface StopStartPlan {
  /** Not in the catalog. */
  gone: boolean;
  cluster?: string;
  tier?: string;
  /** It has run something (there is a revision to stop or start). */
  deployed: boolean;
  /** Stopped now. */
  stopped: boolean;
  /** Why the rules refuse to stop it (forbidStop). */
  refusal?: string;
}

export interface StopStartActivities {
  planStopStart(input: { environment: string }): Promise<StopStartPlan>;
  /**
   * Records the replicas each workload runs (once: a retry keeps the first record), then applies
   * the deployed revision's workloads scaled to zero, CronJobs suspended.
   */
  stopWorkloads(input: { environment: string; operationId: string; requestedBy: string }): Promise<{ replicas: Record<string, number> }>;
  /** Applies the workloads back to the recorded replicas and waits until they are ready; heartbeats. */
  startWorkloads(input: { environment: string; timeoutSeconds: number }): Promise<{ replicas: Record<string, number> }>;
  /** Clears the stopped record. Idempotent. */
  markStarted(input: { environment: string }): Promise<void>;
  /** The environments a scheduled stop or start acts on: one, or every one of a tier. */
  lifecycleTargets(input: { environment?: string; tier?: string }): Promise<string[]>;
}
