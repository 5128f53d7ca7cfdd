import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeConfigFromYaml } from './kubernetes/kubeconfig.js';

/** Turns a cluster's name into credentials for its API server. */
export interface ClusterDirectory {
  kubeConfig(cluster: string): Promise<KubeConfig>;
}

export class UnknownClusterError extends Error {
  constructor(readonly cluster: string) {
    super(`unknown cluster "${cluster}"`);
    this.name = 'UnknownClusterError';
  }
}

/** A fixed set of clusters, each reached through a kubeconfig document. */
export class StaticClusterDirectory implements ClusterDirectory {
  private readonly kubeconfigs = new Map<string, string>();

  constructor(entries: Iterable<[name: string, kubeconfigYaml: string]> = []) {
    for (const [name, yaml] of entries) this.kubeconfigs.set(name, yaml);
  }

  /** Every NAME.yaml (or .yml) kubeconfig in a folder, as cluster NAME. */
  static fromFolder(folder: string): StaticClusterDirectory {
    const directory = new StaticClusterDirectory();
    for (const file of readdirSync(folder).filter((f) => /\.ya?ml$/.test(f))) {
      directory.set(file.replace(/\.ya?ml$/, ''), readFileSync(join(folder, file), 'utf8'));
    }
    return directory;
  }

  set(name: string, kubeconfigYaml: string): void {
    this.kubeconfigs.set(name, kubeconfigYaml);
  }

  names(): string[] {
    return [...this.kubeconfigs.keys()];
  }

  async kubeConfig(cluster: string): Promise<KubeConfig> {
    const yaml = this.kubeconfigs.get(cluster);
    if (yaml === undefined) throw new UnknownClusterError(cluster);
    return kubeConfigFromYaml(yaml);
  }
}
