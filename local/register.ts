// Registers local-fleet clusters in a catalog the way a user registers any kubeconfig
// cluster: the kubeconfig goes into an encrypted secret, the cluster refers to it by name.
import type { Catalog } from '../store/catalog.js';
import { GLOBAL_SCOPE } from '../store/secrets.js';

export interface KubeconfigCluster {
  name: string;
  kubeconfig: string;
  labels: Record<string, string>;
}

export function kubeconfigSecretName(cluster: string): string {
  return `${cluster}-kubeconfig`;
}

/** Creates each cluster (status onboarding) unless it exists; always refreshes its kubeconfig. */
export async function registerKubeconfigClusters(catalog: Catalog, clusters: readonly KubeconfigCluster[]): Promise<void> {
  for (const cluster of clusters) {
    await catalog.secrets.put(GLOBAL_SCOPE, kubeconfigSecretName(cluster.name), cluster.kubeconfig);
    if (await catalog.clusters.get(cluster.name)) continue;
    await catalog.clusters.create({
      name: cluster.name,
      labels: cluster.labels,
      connection: { provider: 'kubeconfig', kubeconfigSecret: kubeconfigSecretName(cluster.name) },
      status: 'onboarding',
    });
  }
}
