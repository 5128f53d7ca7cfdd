// The contract between teardownEnvironment and its activities (types only). Inputs carry names
// only; the removal takes the binding the plan read, so it can run again after the catalog
// entry is gone (a retried or replayed teardown).

export interface TeardownPlan {
  /** The environment is not in the catalog (already torn down). */
  gone: boolean;
  cluster?: string;
  namespace?: string;
  tier?: string;
  /** What the rules ask of a change to the environment's tier (0: none). */
  approval: { required: number; fourEyes: boolean };
  /** A running change the environment takes part in: the teardown is refused. */
  involvedIn?: { operationId: string; message: string };
}

export interface TeardownTarget {
  environment: string;
  cluster: string;
  namespace: string;
  deleteData: boolean;
}

export interface TeardownRemoval {
  deleted: string[];
  keptClaims: string[];
  namespace: 'deleted' | 'kept' | 'foreign' | 'absent';
  keptBecause?: string;
}

export interface TeardownActivities {
  planTeardown(input: { environment: string }): Promise<TeardownPlan>;
  /** Deletes what Flotilla created for the environment in its cluster and waits until it is gone; heartbeats. */
  removeEnvironmentObjects(input: TeardownTarget): Promise<TeardownRemoval>;
  /** Removes the catalog entry (revisions and audit stay) and audits what the cluster confirmed. Idempotent. */
  forgetEnvironment(input: { environment: string; operationId: string; requestedBy: string; removal: TeardownRemoval; deleteData: boolean }): Promise<void>;
}
