// A ClusterDirectory over cluster connections: any provider's cluster becomes a KubeConfig.
// Access (describe calls) is cached per cluster; tokens refresh on their own inside it.
import type { KubeConfig } from '@kubernetes/client-node';
import type { ClusterConnection } from '../../domain/cluster.js';
import { UnknownClusterError, type ClusterDirectory } from '../cluster-directory.js';
import type { ClusterAccess } from './access.js';
import { resolveAccess, type CloudAdapters } from './adapters.js';
import { toKubeConfig } from './kube-config.js';

export interface ConnectionDirectoryOptions {
  /** The connection registered for a cluster name (the catalog's), or undefined. */
  connectionOf: (cluster: string) => Promise<ClusterConnection | undefined>;
  adapters: CloudAdapters;
  /** Describe a cluster again after this long: endpoints and CAs rotate rarely. */
  accessTtlMs?: number;
  now?: () => number;
}

export class ConnectionClusterDirectory implements ClusterDirectory {
  private readonly cache = new Map<string, { access: Promise<ClusterAccess>; at: number; key: string }>();

  constructor(private readonly options: ConnectionDirectoryOptions) {}

  async access(cluster: string): Promise<ClusterAccess> {
    const connection = await this.options.connectionOf(cluster);
    if (!connection) throw new UnknownClusterError(cluster);
    const now = (this.options.now ?? Date.now)();
    const key = JSON.stringify(connection);
    const hit = this.cache.get(cluster);
    if (hit && hit.key === key && now - hit.at < (this.options.accessTtlMs ?? 10 * 60_000)) return hit.access;
    const access = resolveAccess(connection, this.options.adapters);
    this.cache.set(cluster, { access, at: now, key });
    // A failure is not cached: the next call describes the cluster again.
    access.catch(() => {
      if (this.cache.get(cluster)?.access === access) this.cache.delete(cluster);
    });
    return access;
  }

  async kubeConfig(cluster: string): Promise<KubeConfig> {
    return toKubeConfig(await this.access(cluster));
  }

  /** Forget a cluster's access, e.g. after its credentials were rejected. */
  forget(cluster: string): void {
    this.cache.delete(cluster);
  }
}
