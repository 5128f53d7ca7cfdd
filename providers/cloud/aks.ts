// Azure Kubernetes Service through @azure/arm-containerservice: get and list managed
// clusters, resolve a cluster's access and discover a subscription's clusters. Server and CA
// come from the cluster-user kubeconfig; the bearer token is an Entra token for the AKS
// server application, from the injected TokenCredential (local-account clusters without
// Entra integration use the kubeconfig's own credentials instead).
import { ContainerServiceClient, type ContainerServiceClientOptionalParams, type ManagedCluster } from '@azure/arm-containerservice';
import type { TokenCredential } from '@azure/identity';
import { z } from 'zod';
import { AksConnection } from '../../domain/cluster.js';
import { cachedTokenSource, staticTokenSource, type BearerToken, type ClusterAccess, type ClusterCredentials } from './access.js';
import { toDnsLabel, type ClusterCandidate } from './candidate.js';
import { fromAzureError } from './classify.js';
import { badResponse } from './errors.js';
import { KubeconfigError, parseKubeconfig, type ParsedKubeconfig } from './kubeconfig.js';
import { parseInput } from './validate.js';

/** The Entra application of every AKS API server ("Azure Kubernetes Service AAD Server"). */
export const AKS_SERVER_SCOPE = '6dae42f8-4368-4678-94ff-3960e28e3630/.default';
export const ARM_SCOPE = 'https://management.azure.com/.default';

export interface AksAdapterOptions {
  credential: TokenCredential;
  /** ARM endpoint override (tests, sovereign clouds); https://management.azure.com when omitted. */
  endpoint?: string;
  /** Scope of ARM tokens; must match the endpoint's cloud. */
  armScope?: string;
  /** More client options, e.g. `tlsOptions: { ca }` for a private ARM endpoint. */
  clientOptions?: ContainerServiceClientOptionalParams;
  refreshBeforeMs?: number;
}

export interface AksClusterInfo {
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  fqdn?: string;
  privateFqdn?: string;
  version?: string;
  /** Succeeded, Creating, Updating, Deleting, Failed, … */
  provisioningState: string;
  /** Running or Stopped. */
  powerState: string;
  /** True when the cluster uses Entra ID (AAD) for Kubernetes authentication. */
  entraIntegrated: boolean;
  nodeCount?: number;
  tags?: Record<string, string>;
}

const SubscriptionId = z.string().regex(/^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/, 'is not a subscription id (a GUID)');
const ResourceGroup = z.string().regex(/^[-\w.()]{0,89}[-\w()]$/, 'is not a resource group name (letters, digits, "-", "_", ".", "(", ")"; at most 90; not ending in ".")');
const ClusterName = z.string().regex(/^[A-Za-z0-9](?:[-_A-Za-z0-9]{0,61}[A-Za-z0-9])?$/, 'is not an AKS cluster name (letters, digits, "-" and "_", at most 63)');

export const AksAccount = z.strictObject({
  provider: z.literal('aks'),
  subscriptionId: SubscriptionId,
  /** Only this resource group; the whole subscription when omitted. */
  resourceGroup: ResourceGroup.optional(),
});
export type AksAccount = z.infer<typeof AksAccount>;

const AksClusterRef = z.strictObject({ subscriptionId: SubscriptionId, resourceGroup: ResourceGroup, clusterName: ClusterName });
type AksClusterRef = z.infer<typeof AksClusterRef>;

export class AksAdapter {
  private readonly clients = new Map<string, ContainerServiceClient>();

  constructor(private readonly options: AksAdapterOptions) {}

  async getCluster(ref: AksClusterRef): Promise<AksClusterInfo> {
    const { subscriptionId, resourceGroup, clusterName } = parseInput(AksClusterRef, ref, { provider: 'aks', operation: 'get', what: 'cluster reference' });
    try {
      const cluster = await this.client(subscriptionId).managedClusters.get(resourceGroup, clusterName);
      return clusterInfo(cluster, subscriptionId, resourceGroup);
    } catch (error) {
      throw fromAzureError(error, { provider: 'aks', operation: 'get', target: `cluster "${clusterName}" in resource group ${resourceGroup}` });
    }
  }

  /** Managed clusters of a subscription, or of one resource group. */
  async listClusters(subscriptionId: string, resourceGroup?: string): Promise<AksClusterInfo[]> {
    const account = parseInput(AksAccount, { provider: 'aks', subscriptionId, resourceGroup }, { provider: 'aks', operation: 'list', what: 'account' });
    const managed = this.client(account.subscriptionId).managedClusters;
    const found: AksClusterInfo[] = [];
    try {
      const pages = account.resourceGroup ? managed.listByResourceGroup(account.resourceGroup) : managed.list();
      for await (const cluster of pages) found.push(clusterInfo(cluster, account.subscriptionId, account.resourceGroup ?? resourceGroupOf(cluster.id)));
    } catch (error) {
      const operation = account.resourceGroup ? 'listByResourceGroup' : 'list';
      throw fromAzureError(error, { provider: 'aks', operation, target: account.resourceGroup ? `resource group ${account.resourceGroup}` : `subscription ${account.subscriptionId}` });
    }
    return found;
  }

  /** The cluster-user kubeconfig AKS issues (server, CA; an exec plugin for Entra clusters). */
  async userKubeconfig(ref: AksClusterRef): Promise<ParsedKubeconfig> {
    const { subscriptionId, resourceGroup, clusterName } = ref;
    const target = `cluster "${clusterName}" in resource group ${resourceGroup}`;
    let results;
    try {
      results = await this.client(subscriptionId).managedClusters.listClusterUserCredentials(resourceGroup, clusterName);
    } catch (error) {
      throw fromAzureError(error, { provider: 'aks', operation: 'listClusterUserCredentials', target });
    }
    const kubeconfigs = results.kubeconfigs ?? [];
    const chosen = kubeconfigs.find((k) => k.name === 'clusterUser') ?? kubeconfigs[0];
    if (!chosen?.value?.length) throw badResponse('aks', 'listClusterUserCredentials', `${target}: no kubeconfig in the answer`);
    try {
      // The SDK already decoded the base64 wire value into bytes.
      return parseKubeconfig(Buffer.from(chosen.value).toString('utf8'));
    } catch (error) {
      if (error instanceof KubeconfigError) throw badResponse('aks', 'listClusterUserCredentials', `${target}: ${error.message}`);
      throw error;
    }
  }

  async access(connection: AksConnection): Promise<ClusterAccess> {
    const conn = parseInput(AksConnection, connection, { provider: 'aks', operation: 'access', what: 'connection' });
    const ref = parseInput(AksClusterRef, { subscriptionId: conn.subscriptionId, resourceGroup: conn.resourceGroup, clusterName: conn.clusterName }, { provider: 'aks', operation: 'access', what: 'connection' });
    const info = await this.getCluster(ref);
    const target = `cluster "${conn.clusterName}" in resource group ${conn.resourceGroup}`;
    if (info.powerState === 'Stopped') throw badResponse('aks', 'access', `${target} is stopped: start it before use`);
    if (!['Succeeded', 'Updating', 'Upgrading', 'Scaling'].includes(info.provisioningState)) {
      throw badResponse('aks', 'access', `${target} is ${info.provisioningState}: its API server cannot be used yet`);
    }
    const kubeconfig = await this.userKubeconfig(ref);
    if (!kubeconfig.caData) throw badResponse('aks', 'access', `${target}: the user kubeconfig has no certificate-authority-data`);
    return {
      provider: 'aks',
      name: conn.clusterName,
      server: kubeconfig.server,
      caData: kubeconfig.caData,
      tlsServerName: kubeconfig.tlsServerName,
      credentials: this.credentialsFor(info, kubeconfig, target),
    };
  }

  async discover(account: AksAccount): Promise<ClusterCandidate[]> {
    const { subscriptionId, resourceGroup } = parseInput(AksAccount, account, { provider: 'aks', operation: 'discover', what: 'account' });
    const clusters = await this.listClusters(subscriptionId, resourceGroup);
    return clusters.map((c) => ({
      name: c.name,
      suggestedName: toDnsLabel(c.name),
      connection: { provider: 'aks', subscriptionId, resourceGroup: c.resourceGroup, clusterName: c.name },
      region: c.location,
      version: c.version,
      status: `${c.provisioningState}/${c.powerState}`,
      ready: c.provisioningState === 'Succeeded' && c.powerState === 'Running',
      nodeCount: c.nodeCount,
      ...(c.tags && Object.keys(c.tags).length > 0 ? { tags: c.tags } : {}),
    }));
  }

  private credentialsFor(info: AksClusterInfo, kubeconfig: ParsedKubeconfig, target: string): ClusterCredentials {
    const { auth } = kubeconfig;
    if (!info.entraIntegrated && auth.kind === 'token') return { kind: 'token', token: staticTokenSource(auth.token) };
    if (!info.entraIntegrated && auth.kind === 'client-certificate') return auth;
    const token = cachedTokenSource(() => this.entraToken(target), { refreshBeforeMs: this.options.refreshBeforeMs });
    return { kind: 'token', token };
  }

  private async entraToken(target: string): Promise<BearerToken> {
    try {
      const accessToken = await this.options.credential.getToken(AKS_SERVER_SCOPE);
      if (!accessToken) throw badResponse('aks', 'token', `the credential returned no token for ${target}`);
      return { token: accessToken.token, expiresAt: new Date(accessToken.expiresOnTimestamp) };
    } catch (error) {
      throw fromAzureError(error, { provider: 'aks', operation: 'token', target });
    }
  }

  private client(subscriptionId: string): ContainerServiceClient {
    let client = this.clients.get(subscriptionId);
    if (!client) {
      client = new ContainerServiceClient(this.options.credential, subscriptionId, {
        ...this.options.clientOptions,
        endpoint: this.options.endpoint ?? this.options.clientOptions?.endpoint,
        // Without this the scope would follow a custom endpoint (`https://host/.default`).
        credentialScopes: this.options.armScope ?? ARM_SCOPE,
      });
      this.clients.set(subscriptionId, client);
    }
    return client;
  }
}

/** `/subscriptions/S/resourceGroups/RG/providers/...` → RG */
function resourceGroupOf(id: string | undefined): string {
  const match = /\/resourcegroups\/([^/]+)/i.exec(id ?? '');
  return match?.[1] ?? '';
}

function clusterInfo(cluster: ManagedCluster, subscriptionId: string, resourceGroup: string): AksClusterInfo {
  const pools = cluster.agentPoolProfiles ?? [];
  return {
    name: cluster.name ?? '',
    subscriptionId,
    resourceGroup,
    location: cluster.location,
    fqdn: cluster.fqdn,
    privateFqdn: cluster.privateFqdn,
    version: cluster.currentKubernetesVersion ?? cluster.kubernetesVersion,
    provisioningState: cluster.provisioningState ?? 'Unknown',
    powerState: cluster.powerState?.code ?? 'Unknown',
    entraIntegrated: cluster.aadProfile !== undefined && cluster.aadProfile !== null,
    nodeCount: pools.length ? pools.reduce((sum, p) => sum + (p.count ?? 0), 0) : undefined,
    ...(cluster.tags ? { tags: { ...cluster.tags } } : {}),
  };
}
