// Rolls a set of manifests out to several clusters: one child workflow per cluster applies
// them and waits until their Deployments are available. The seed of deployEnvironment.
import { executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { deploymentsOf, type Manifest } from '../domain/manifest.js';
import type { Activities } from '../activities/index.js';

export interface RolloutInput {
  clusters: string[];
  manifests: Manifest[];
  /** How long a cluster may take to become available. */
  rolloutTimeoutSeconds?: number;
}

export interface ClusterRolloutResult {
  cluster: string;
  appliedObjects: number;
  deployments: { namespace: string; name: string; available: number; replicas: number }[];
}

const { applyManifests } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** Applies the manifests to one cluster and waits for their Deployments. */
export async function rolloutToCluster(cluster: string, input: RolloutInput): Promise<ClusterRolloutResult> {
  const timeoutSeconds = input.rolloutTimeoutSeconds ?? 300;
  const { waitForRollout } = proxyActivities<Activities>({
    startToCloseTimeout: `${timeoutSeconds + 30} seconds`,
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  });
  const applied = await applyManifests({ cluster, manifests: input.manifests });
  const rollouts = await waitForRollout({ cluster, deployments: deploymentsOf(input.manifests), timeoutSeconds });
  return {
    cluster,
    appliedObjects: applied.length,
    deployments: rollouts.map(({ namespace, name, available, replicas }) => ({ namespace, name, available, replicas })),
  };
}

/** Fans out to one child workflow per cluster and waits for all of them. */
export async function rolloutToClusters(input: RolloutInput): Promise<ClusterRolloutResult[]> {
  const parent = workflowInfo().workflowId;
  return Promise.all(
    input.clusters.map((cluster) =>
      executeChild(rolloutToCluster, { workflowId: `${parent}/${cluster}`, args: [cluster, input] }),
    ),
  );
}
