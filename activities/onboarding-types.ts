// The contract between the onboarding workflow and its activities (types only).
import type { ClusterStatus } from '../domain/cluster.js';

export interface ClusterCapacity {
  nodes: number;
  cpu: string;
  memory: string;
  pods: number;
}

export interface SetClusterStatusInput {
  cluster: string;
  status: ClusterStatus;
  message?: string;
  version?: string;
  capacity?: ClusterCapacity;
}

export interface OnboardingActivities {
  /** Resolves access through the provider and reads the API server's version. */
  probeCluster(input: { cluster: string }): Promise<{ gitVersion: string; server: string }>;
  /** Server-side applies the baseline; idempotent. */
  installBaseline(input: { cluster: string }): Promise<{ applied: number }>;
  /** Removes whatever of the baseline exists; idempotent. */
  /** Removes the baseline objects Flotilla created; `kept`: those it found there and leaves. */
  removeBaseline(input: { cluster: string }): Promise<{ removed: number; kept?: string[] }>;
  readCapacity(input: { cluster: string }): Promise<ClusterCapacity>;
  setClusterStatus(input: SetClusterStatusInput): Promise<void>;
}
