// What discovery returns: a cluster found in a cloud account, ready to be registered.
import type { ClusterConnection } from '../../domain/cluster.js';

export interface ClusterCandidate {
  /** The cluster's name in its provider. */
  name: string;
  /** A Flotilla cluster name (DNS label) derived from `name`; the user may pick another. */
  suggestedName: string;
  /** The connection to register it with. */
  connection: ClusterConnection;
  /** Region or location (GKE zones and regions, Azure locations); unknown for kubeconfigs. */
  region?: string;
  /** Kubernetes version as the provider reports it, e.g. `1.31` or `1.30.4-gke.1348000`. */
  version?: string;
  /** The provider's own status word: ACTIVE, RUNNING, Succeeded/Running, … */
  status: string;
  /** True when the provider says the control plane is up and usable. */
  ready: boolean;
  /** Worker nodes the provider reports (desired size), when it says. */
  nodeCount?: number;
  /** The cloud's tags (EKS, AKS) or resource labels (GKE), as the provider has them. */
  tags?: Record<string, string>;
}

/** Lower-case, `-` for anything else, at most 63 characters: a valid DNS label. */
export function toDnsLabel(name: string): string {
  const label = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
  return label || 'cluster';
}
