// Activities that change and read live clusters. Built by a factory over injected
// dependencies so the worker wires real clients and tests can wire real local clusters.
//
// Only deleteNamespace is left here, and it stays: the frozen legacy workflow
// workflows/legacy/promote-v1.ts calls it by name, so workflows started before an upgrade
// still find it when they resume. Do not remove or rename it while such histories may run.
// (The apply/prune/wait activities of the removed rolloutToCluster(s) workflows went with
// them; deployEnvironment's activities live in activities/deploy.ts.)
//
// Every activity talks to its cluster through one KubeClient that shares the cluster's rate
// limiter with every other activity of this worker, heartbeats through the layer's progress
// callbacks, and turns failures into ApplicationFailures whose `type` is the classified reason:
// non-retryable ones (unknown clusters, forbidden, a namespace still there at the timeout) stop
// Temporal's retries at once.
import { deleteNamespace as deleteNamespaceAndWait } from '../providers/kubernetes/namespace.js';
import { clusterClients, type KubernetesActivityDeps } from './cluster-client.js';

export type { KubernetesActivityDeps } from './cluster-client.js';

export interface DeleteNamespaceInput {
  cluster: string;
  namespace: string;
  timeoutSeconds: number;
}

export function createKubernetesActivities(deps: KubernetesActivityDeps) {
  const { withClient } = clusterClients(deps);

  return {
    /**
     * Deletes a namespace and waits until it is gone; false when it did not exist. Kept for
     * workflows/legacy/promote-v1.ts, which calls it by name.
     */
    async deleteNamespace({ cluster, namespace, timeoutSeconds }: DeleteNamespaceInput): Promise<{ deleted: boolean }> {
      return withClient(cluster, async (client, context) => ({
        deleted: await deleteNamespaceAndWait(client, namespace, {
          timeoutMs: timeoutSeconds * 1000,
          pollMs: 500,
          signal: context.cancellationSignal,
          onProgress: (state) => context.heartbeat(state),
        }),
      }));
    },
  };
}

export type KubernetesActivities = ReturnType<typeof createKubernetesActivities>;
