// What the activities run against: the catalog and a cluster directory that reaches any
// registered cluster through its provider. One place builds it for the worker process, the
// dev command and the tests.
import { DefaultAzureCredential } from '@azure/identity';
import { AksAdapter } from '../providers/cloud/aks.js';
import type { CloudAdapters } from '../providers/cloud/adapters.js';
import { ConnectionClusterDirectory } from '../providers/cloud/directory.js';
import { EksAdapter } from '../providers/cloud/eks.js';
import { stsAssumeRole } from '../providers/cloud/eks-roles.js';
import { GkeAdapter } from '../providers/cloud/gke.js';
import { openCatalog, type Catalog } from '../store/catalog.js';
import { GLOBAL_SCOPE } from '../store/secrets.js';
import type { ActivityDeps } from '../activities/index.js';
import type { HelmDeps } from '../activities/charts.js';

export interface WorkerDepsOptions {
  catalog: Catalog;
  /** Cloud adapters; the defaults use each cloud's ambient credentials, lazily. */
  adapters?: Omit<CloudAdapters, 'readKubeconfig'>;
  /** The helm binary charts are pinned and rendered with; by default FLOTILLA_HELM (and FLOTILLA_HELM_PLAIN_HTTP). */
  helm?: HelmDeps;
}

/** FLOTILLA_HELM: the helm binary; FLOTILLA_HELM_PLAIN_HTTP: registries (host:port, comma-separated) spoken to over plain HTTP. */
export function helmFromEnv(env: NodeJS.ProcessEnv = process.env): HelmDeps | undefined {
  if (!env.FLOTILLA_HELM) return undefined;
  const plainHttpHosts = (env.FLOTILLA_HELM_PLAIN_HTTP ?? '').split(',').map((h) => h.trim()).filter((h) => h.length > 0);
  return { binary: env.FLOTILLA_HELM, plainHttpHosts };
}

export function defaultCloudAdapters(env: NodeJS.ProcessEnv = process.env): Omit<CloudAdapters, 'readKubeconfig'> {
  return {
    eks: new EksAdapter({
      region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
      endpoint: env.FLOTILLA_EKS_ENDPOINT,
      // Clusters (and discovery accounts) with a roleArn: STS AssumeRole from the worker's own credentials.
      assumeRole: stsAssumeRole({ endpoint: env.FLOTILLA_STS_ENDPOINT }),
    }),
    gke: new GkeAdapter(),
    aks: new AksAdapter({ credential: new DefaultAzureCredential() }),
  };
}

/** Activity dependencies over a catalog: clusters resolve through their stored connection. */
export function activityDeps({ catalog, adapters, helm }: WorkerDepsOptions): ActivityDeps {
  const cloud: CloudAdapters = {
    ...(adapters ?? defaultCloudAdapters()),
    readKubeconfig: (secret) => catalog.secrets.require(GLOBAL_SCOPE, secret),
  };
  const clusters = new ConnectionClusterDirectory({
    connectionOf: async (name) => (await catalog.clusters.get(name))?.connection,
    adapters: cloud,
  });
  const helmDeps = helm ?? helmFromEnv();
  return { catalog, clusters, cloud, ...(helmDeps ? { helm: helmDeps } : {}) };
}

export async function openWorkerCatalog(env: NodeJS.ProcessEnv = process.env): Promise<Catalog> {
  const url = env.FLOTILLA_CATALOG_URL;
  if (!url) throw new Error('FLOTILLA_CATALOG_URL is not set (e.g. sqlite:///var/lib/flotilla/catalog.db or postgres://…)');
  return openCatalog({ url, masterKey: env.FLOTILLA_MASTER_KEY });
}
