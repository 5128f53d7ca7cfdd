// The contract between the discoverClusters workflow and its activity (types only).
import type { ClusterConnection, Provider } from '../domain/cluster.js';

export interface DiscoverClustersInput {
  provider: Provider;
  /** The account as `POST /v1/providers/{provider}/discover` takes it (without `provider`). */
  account: Record<string, unknown>;
}

/**
 * A cluster found in a cloud account, as it leaves the worker: names, where it is, how to
 * connect (a connection never holds a credential) and the cloud's tags. No token or key (workflow
 * results are kept in Temporal's history); the endpoint and CA are described again at access.
 */
export interface DiscoveredCluster {
  name: string;
  suggestedName: string;
  connection: ClusterConnection;
  region?: string;
  version?: string;
  status: string;
  ready: boolean;
  nodeCount?: number;
  tags?: Record<string, string>;
}

export interface DiscoveryActivities {
  /** Lists the account's clusters with the worker's cloud credentials. */
  discoverClusters(input: DiscoverClustersInput): Promise<DiscoveredCluster[]>;
}
