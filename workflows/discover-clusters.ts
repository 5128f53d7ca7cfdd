// A short workflow the API runs and waits for: discovery happens on the worker, which holds the
// cloud credentials. A few quick attempts for throttling or an outage, then the error goes back
// to the caller (a person waiting on an HTTP request), not a durable wait.
import { proxyActivities } from '@temporalio/workflow';
import type { DiscoverClustersInput, DiscoveredCluster, DiscoveryActivities } from '../activities/discovery-types.js';

const { discoverClusters: discoverOnWorker } = proxyActivities<DiscoveryActivities>({
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 seconds', maximumAttempts: 3 },
});

export async function discoverClusters(input: DiscoverClustersInput): Promise<DiscoveredCluster[]> {
  return discoverOnWorker(input);
}
