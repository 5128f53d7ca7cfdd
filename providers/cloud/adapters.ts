// The set of adapters a worker has, and the two questions asked of any provider: how do I
// reach this cluster (resolveAccess), and which clusters could I register (discover).
import { z } from 'zod';
import { ClusterConnection, Provider } from '../../domain/cluster.js';
import { DnsLabel } from '../../domain/names.js';
import type { ClusterAccess } from './access.js';
import { AksAccount, type AksAdapter } from './aks.js';
import { toDnsLabel, type ClusterCandidate } from './candidate.js';
import { EksAccount, type EksAdapter } from './eks.js';
import { invalidInput } from './errors.js';
import { GkeAccount, type GkeAdapter } from './gke.js';
import { kubeconfigAccess, kubeconfigContexts } from './kubeconfig.js';
import { parseInput } from './validate.js';

export interface CloudAdapters {
  eks?: EksAdapter;
  gke?: GkeAdapter;
  aks?: AksAdapter;
  /** Reads a kubeconfig document from the catalog's secret of that name. */
  readKubeconfig?: (secretName: string) => Promise<string>;
}

export const KubeconfigAccount = z.strictObject({
  provider: z.literal('kubeconfig'),
  kubeconfigSecret: DnsLabel,
});
export type KubeconfigAccount = z.infer<typeof KubeconfigAccount>;

export const DiscoverAccount = z.discriminatedUnion('provider', [EksAccount, GkeAccount, AksAccount, KubeconfigAccount]);
export type DiscoverAccount = z.infer<typeof DiscoverAccount>;

function adapter<K extends 'eks' | 'gke' | 'aks'>(adapters: CloudAdapters, provider: K, operation: string): NonNullable<CloudAdapters[K]> {
  const found = adapters[provider];
  if (!found) throw invalidInput(provider, operation, `this worker has no ${provider} adapter configured`);
  return found as NonNullable<CloudAdapters[K]>;
}

async function readKubeconfig(adapters: CloudAdapters, secret: string, operation: string): Promise<string> {
  if (!adapters.readKubeconfig) throw invalidInput('kubeconfig', operation, 'this worker cannot read kubeconfig secrets');
  return adapters.readKubeconfig(secret);
}

/** Server, CA and credentials for any cluster connection. */
export async function resolveAccess(connection: ClusterConnection, adapters: CloudAdapters): Promise<ClusterAccess> {
  const provider = (connection as { provider?: unknown })?.provider;
  const conn = parseInput(ClusterConnection, connection, { provider: Provider.safeParse(provider).data ?? 'unknown', operation: 'access', what: 'connection' });
  switch (conn.provider) {
    case 'eks': return adapter(adapters, 'eks', 'access').access(conn);
    case 'gke': return adapter(adapters, 'gke', 'access').access(conn);
    case 'aks': return adapter(adapters, 'aks', 'access').access(conn);
    case 'kubeconfig': return kubeconfigAccess(await readKubeconfig(adapters, conn.kubeconfigSecret, 'access'), conn.context);
  }
}

/**
 * The clusters of a cloud account that could be registered. `account` may omit `provider`
 * (it comes from the URL, `POST /v1/providers/{provider}/discover`).
 */
export async function discover(provider: string, account: unknown, adapters: CloudAdapters): Promise<ClusterCandidate[]> {
  const known = Provider.safeParse(provider);
  if (!known.success) throw invalidInput('unknown', 'discover', `unknown provider "${provider}" (one of: ${Provider.options.join(', ')})`);
  const body = typeof account === 'object' && account !== null ? account : {};
  const given = (body as { provider?: unknown }).provider;
  if (given !== undefined && given !== known.data) {
    throw invalidInput(known.data, 'discover', `account is for provider "${String(given)}", not "${known.data}"`);
  }
  const parsed = parseInput(DiscoverAccount, { ...body, provider: known.data }, { provider: known.data, operation: 'discover', what: 'account' });
  switch (parsed.provider) {
    case 'eks': return adapter(adapters, 'eks', 'discover').discover(parsed);
    case 'gke': return adapter(adapters, 'gke', 'discover').discover(parsed);
    case 'aks': return adapter(adapters, 'aks', 'discover').discover(parsed);
    case 'kubeconfig': return discoverKubeconfig(parsed, adapters);
  }
}

/** One candidate per usable context; kubeconfigs say nothing about version or status. */
async function discoverKubeconfig(account: KubeconfigAccount, adapters: CloudAdapters): Promise<ClusterCandidate[]> {
  const text = await readKubeconfig(adapters, account.kubeconfigSecret, 'discover');
  return kubeconfigContexts(text)
    .filter((c) => c.auth.kind !== 'external')
    .map((c) => ({
      name: c.context,
      suggestedName: toDnsLabel(c.context),
      connection: { provider: 'kubeconfig', kubeconfigSecret: account.kubeconfigSecret, context: c.context },
      status: 'unknown',
      ready: false,
    }));
}
