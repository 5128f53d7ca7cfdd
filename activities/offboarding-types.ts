// The contract between offboardCluster and its activities (types only).

export interface OffboardingPlan {
  /** The cluster is in the catalog. */
  exists: boolean;
  /** Already offboarded: nothing left to do. */
  offboarded: boolean;
  /** Environments bound to it, by name. */
  environments: string[];
}

export interface OffboardingActivities {
  planOffboarding(input: { cluster: string }): Promise<OffboardingPlan>;
  /**
   * Marks the cluster offboarded, drops the credential Flotilla kept for it (an inline
   * kubeconfig's catalog secret), and audits it. Idempotent.
   */
  finishOffboarding(input: { cluster: string; operationId: string; requestedBy: string; removed: number; kept: string[] }): Promise<void>;
}
