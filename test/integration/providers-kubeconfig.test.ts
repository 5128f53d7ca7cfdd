// Kubeconfig access and toKubeConfig against the real local fleet: a client certificate from
// the fleet's kubeconfig, and a ServiceAccount bearer token that kube-apiserver verifies.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cachedTokenSource, type ClusterAccess } from '../../providers/cloud/access.js';
import { ConnectionClusterDirectory } from '../../providers/cloud/directory.js';
import { toKubeConfig } from '../../providers/cloud/kube-config.js';
import { kubeconfigAccess, parseKubeconfig } from '../../providers/cloud/kubeconfig.js';
import { kubectl } from '../support/kubectl.js';

const [cluster] = inject('clusters');
const toolchain = inject('toolchain');
const ns = `cloud-access-${Date.now().toString(36)}`;

async function namespaces(access: ClusterAccess): Promise<string[]> {
  const api = toKubeConfig(access).makeApiClient(CoreV1Api);
  const list = await api.listNamespace();
  return list.items.map((n) => n.metadata?.name ?? '');
}

describe('kubeconfig access on a real cluster', () => {
  let saToken: string;

  beforeAll(async () => {
    const k = (args: string[]) => kubectl(toolchain.kubectl, cluster!.kubeconfigPath, args);
    await k(['create', 'namespace', ns]);
    await k(['-n', ns, 'create', 'serviceaccount', 'reader']);
    await k(['create', 'clusterrolebinding', `${ns}-reader`, '--clusterrole=view', `--serviceaccount=${ns}:reader`]);
    saToken = (await k(['-n', ns, 'create', 'token', 'reader', '--duration=10m'])).trim();
  });

  afterAll(async () => {
    const k = (args: string[]) => kubectl(toolchain.kubectl, cluster!.kubeconfigPath, args);
    await k(['delete', 'clusterrolebinding', `${ns}-reader`, '--ignore-not-found']);
    await k(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
  });

  it("reaches the API server with the fleet kubeconfig's own credentials", async () => {
    const access = kubeconfigAccess(cluster!.kubeconfig);
    expect(access.server).toMatch(/^https:\/\//);
    expect(access.caData).toBeTruthy();
    expect(['client-certificate', 'token']).toContain(access.credentials.kind);
    expect(await namespaces(access)).toContain(ns);
  });

  it('authenticates with a bearer token from a token source, asked per request', async () => {
    const parsed = parseKubeconfig(cluster!.kubeconfig);
    let calls = 0;
    const token = cachedTokenSource(async () => {
      calls += 1;
      return { token: saToken, expiresAt: new Date(Date.now() + 10 * 60_000) };
    });
    const access: ClusterAccess = { provider: 'eks', name: 'fleet', server: parsed.server, caData: parsed.caData, credentials: { kind: 'token', token } };
    expect(await namespaces(access)).toContain('kube-system');
    expect(await namespaces(access)).toContain(ns);
    expect(calls).toBe(1); // cached between requests
  });

  it('is refused by the API server with a wrong token', async () => {
    const parsed = parseKubeconfig(cluster!.kubeconfig);
    const access: ClusterAccess = { provider: 'gke', name: 'fleet', server: parsed.server, caData: parsed.caData, credentials: { kind: 'token', token: async () => ({ token: 'not-a-valid-token' }) } };
    await expect(namespaces(access)).rejects.toThrow(/401|Unauthorized/);
  });

  it('serves a stored kubeconfig through the connection directory', async () => {
    const stored = `apiVersion: v1
kind: Config
clusters: [{ name: fleet, cluster: { server: '${parseKubeconfig(cluster!.kubeconfig).server}', certificate-authority-data: ${parseKubeconfig(cluster!.kubeconfig).caData} } }]
users: [{ name: reader, user: { token: '${saToken}' } }]
contexts: [{ name: reader@fleet, context: { cluster: fleet, user: reader } }]
current-context: reader@fleet
`;
    const directory = new ConnectionClusterDirectory({
      connectionOf: async (name) => (name === 'edge' ? { provider: 'kubeconfig', kubeconfigSecret: 'edge-kubeconfig' } : undefined),
      adapters: { readKubeconfig: async () => stored },
    });
    const api = (await directory.kubeConfig('edge')).makeApiClient(CoreV1Api);
    const pods = await api.listNamespacedPod({ namespace: 'kube-system' });
    expect(Array.isArray(pods.items)).toBe(true);
  });
});
