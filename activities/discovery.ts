// Discovery on the worker, which holds the cloud credentials (the API holds none): the
// provider's adapter lists an account's clusters; only what is safe to keep in a workflow
// history leaves this activity.
import { ApplicationFailure } from '@temporalio/common';
import { discover, type CloudAdapters } from '../providers/cloud/adapters.js';
import type { ClusterCandidate } from '../providers/cloud/candidate.js';
import { CloudProviderError } from '../providers/cloud/errors.js';
import type { DiscoveredCluster, DiscoveryActivities } from './discovery-types.js';

export interface DiscoveryActivityDeps {
  /** The worker's cloud adapters, with readKubeconfig over the catalog's secrets. */
  cloud?: CloudAdapters;
}

/** Names the fields that leave the worker, so nothing an adapter adds later leaks by default. */
export function toDiscovered(c: ClusterCandidate): DiscoveredCluster {
  return {
    name: c.name,
    suggestedName: c.suggestedName,
    connection: c.connection,
    ...(c.region !== undefined ? { region: c.region } : {}),
    ...(c.version !== undefined ? { version: c.version } : {}),
    status: c.status,
    ready: c.ready,
    ...(c.nodeCount !== undefined ? { nodeCount: c.nodeCount } : {}),
    ...(c.tags !== undefined ? { tags: { ...c.tags } } : {}),
  };
}

export function createDiscoveryActivities(deps: DiscoveryActivityDeps): DiscoveryActivities {
  return {
    async discoverClusters({ provider, account }) {
      if (!deps.cloud) throw ApplicationFailure.nonRetryable('this worker has no cloud adapters configured', 'ProviderNotConfigured');
      try {
        return (await discover(provider, account, deps.cloud)).map(toDiscovered);
      } catch (error) {
        if (!(error instanceof CloudProviderError)) throw error;
        // As every activity reports cloud errors (cluster-client.ts), but a missing adapter is named as such.
        const unconfigured = error.kind === 'invalid-input' && /no \w+ adapter configured|cannot read kubeconfig secrets/.test(error.message);
        throw ApplicationFailure.create({ message: error.message, type: unconfigured ? 'ProviderNotConfigured' : `Cloud${error.kind}`, nonRetryable: !error.retryable });
      }
    },
  };
}
