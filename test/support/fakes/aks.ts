// A fake of Azure Resource Manager's Microsoft.ContainerService API over HTTPS, serving only
// what the adapter uses: managedClusters get, list, listByResourceGroup and
// listClusterUserCredential. It refuses requests without the expected ARM bearer token or
// without an api-version, as ARM does.
import { startRecordingServer, type FakeResponse, type RecordedRequest, type RecordingServer } from './recording-server.js';
import type { TestCertificates } from './tls.js';
import { registerSecret } from '../leak-registry.js';

const PROVIDER = 'providers/Microsoft.ContainerService/managedClusters';

export interface AksFakeCluster {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  kubernetesVersion?: string;
  provisioningState?: string;
  powerState?: 'Running' | 'Stopped';
  fqdn?: string;
  /** Entra (AAD) integration: present means Kubernetes authentication goes through Entra. */
  aad?: boolean;
  agentPools?: { name: string; count: number }[];
  /** Azure resource tags. */
  tags?: Record<string, string>;
  /** The cluster-user kubeconfig document listClusterUserCredential returns. */
  userKubeconfig: string;
}

export interface AksFake extends RecordingServer {
  endpoint: string;
  addCluster(cluster: AksFakeCluster): void;
}

function armError(status: number, code: string, message: string): FakeResponse {
  return { status, body: { error: { code, message } } };
}

function wire(c: AksFakeCluster) {
  return {
    id: `/subscriptions/${c.subscriptionId}/resourcegroups/${c.resourceGroup}/${PROVIDER}/${c.name}`,
    name: c.name,
    type: 'Microsoft.ContainerService/ManagedClusters',
    location: c.location,
    ...(c.tags ? { tags: c.tags } : {}),
    properties: {
      provisioningState: c.provisioningState ?? 'Succeeded',
      powerState: { code: c.powerState ?? 'Running' },
      kubernetesVersion: c.kubernetesVersion,
      currentKubernetesVersion: c.kubernetesVersion,
      fqdn: c.fqdn,
      ...(c.aad ? { aadProfile: { managed: true, enableAzureRBAC: true } } : {}),
      agentPoolProfiles: (c.agentPools ?? []).map((p) => ({ name: p.name, count: p.count, mode: 'System' })),
    },
  };
}

export async function startAksFake(options: { armToken: string; tls: TestCertificates }): Promise<AksFake> {
  registerSecret('ARM token of the AKS fake', options.armToken);
  const clusters: AksFakeCluster[] = [];
  const same = (a: string | undefined, b: string | undefined) => a?.toLowerCase() === b?.toLowerCase();
  const find = (s: string | undefined, rg: string | undefined, name: string | undefined) =>
    clusters.find((c) => same(c.subscriptionId, s) && same(c.resourceGroup, rg) && same(c.name, name));
  const missing = (rg: string | undefined, name: string | undefined) =>
    armError(404, 'ResourceNotFound', `The Resource 'Microsoft.ContainerService/managedClusters/${name}' under resource group '${rg}' was not found.`);

  const server = await startRecordingServer({
    tls: { key: options.tls.keyPem, cert: options.tls.certPem },
    guard: (request: RecordedRequest) => {
      if (request.headers.authorization !== `Bearer ${options.armToken}`) {
        return armError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
      }
      if (!request.query['api-version']) return armError(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
      return undefined;
    },
    routes: [
      {
        method: 'GET',
        path: new RegExp(`^/subscriptions/([^/]+)/resourceGroups/([^/]+)/${PROVIDER}/([^/]+)$`, 'i'),
        handle: (_r, [s, rg, name]) => {
          const c = find(s, rg, name);
          return c ? { status: 200, body: wire(c) } : missing(rg, name);
        },
      },
      {
        method: 'POST',
        path: new RegExp(`^/subscriptions/([^/]+)/resourceGroups/([^/]+)/${PROVIDER}/([^/]+)/listClusterUserCredential$`, 'i'),
        handle: (_r, [s, rg, name]) => {
          const c = find(s, rg, name);
          if (!c) return missing(rg, name);
          return { status: 200, body: { kubeconfigs: [{ name: 'clusterUser', value: Buffer.from(c.userKubeconfig).toString('base64') }] } };
        },
      },
      {
        method: 'GET',
        path: new RegExp(`^/subscriptions/([^/]+)/resourceGroups/([^/]+)/${PROVIDER}$`, 'i'),
        handle: (_r, [s, rg]) => ({ status: 200, body: { value: clusters.filter((c) => same(c.subscriptionId, s) && same(c.resourceGroup, rg)).map(wire) } }),
      },
      {
        method: 'GET',
        path: new RegExp(`^/subscriptions/([^/]+)/${PROVIDER}$`, 'i'),
        handle: (_r, [s]) => ({ status: 200, body: { value: clusters.filter((c) => same(c.subscriptionId, s)).map(wire) } }),
      },
    ],
    notFound: (request) => armError(404, 'NotFound', `fake ARM has no ${request.method} ${request.path}`),
  });
  return {
    ...server,
    endpoint: `https://127.0.0.1:${server.port}`,
    addCluster(cluster) {
      clusters.push(cluster);
    },
  };
}
