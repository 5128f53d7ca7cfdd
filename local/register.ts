// Registers local-fleet clusters in a catalog the way a user registers any kubeconfig
// cluster: the kubeconfig goes into an encrypted secret, the cluster refers to it by name.
import type { Tier } from '../domain/environment.js';
import type { Catalog } from '../store/catalog.js';
import { GLOBAL_SCOPE } from '../store/secrets.js';

export interface KubeconfigCluster {
  name: string;
  kubeconfig: string;
  labels: Record<string, string>;
  /** Tiers it accepts beyond its `tier` label's (domain/placement.ts); none when left out. */
  allowedTiers?: readonly Tier[];
  /** Existing namespaces Flotilla may deploy into although it did not create them. */
  adoptableNamespaces?: readonly string[];
}

export function kubeconfigSecretName(cluster: string): string {
  return `${cluster}-kubeconfig`;
}

/**
 * Creates each cluster (status onboarding) unless it exists; always refreshes its kubeconfig,
 * and the placement it declares (allowed tiers, adoptable namespaces) when it declares one.
 */
export async function registerKubeconfigClusters(catalog: Catalog, clusters: readonly KubeconfigCluster[]): Promise<void> {
  for (const cluster of clusters) {
    await catalog.secrets.put(GLOBAL_SCOPE, kubeconfigSecretName(cluster.name), cluster.kubeconfig);
    const allowedTiers = [...cluster.allowedTiers ?? []];
    const adoptableNamespaces = [...cluster.adoptableNamespaces ?? []];
    const existing = await catalog.clusters.get(cluster.name);
    if (existing) {
      if (cluster.allowedTiers !== undefined || cluster.adoptableNamespaces !== undefined) {
        await catalog.clusters.setPlacement(cluster.name, { allowedTiers, adoptableNamespaces });
      }
      continue;
    }
    await catalog.clusters.create({
      name: cluster.name,
      labels: cluster.labels,
      allowedTiers,
      adoptableNamespaces,
      connection: { provider: 'kubeconfig', kubeconfigSecret: kubeconfigSecretName(cluster.name) },
      status: 'onboarding',
    });
  }
}
