// The AKS adapter through the real @azure/arm-containerservice client, over real TLS, against
// a local HTTPS fake of ARM that records requests. The fake's CA is made here with openssl
// and handed to the SDK through its `tlsOptions`.
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { discover, resolveAccess } from '../../providers/cloud/adapters.js';
import { AKS_SERVER_SCOPE, AksAdapter } from '../../providers/cloud/aks.js';
import { CloudProviderError } from '../../providers/cloud/errors.js';
import { toKubeConfig } from '../../providers/cloud/kube-config.js';
import { startAksFake, type AksFake } from '../support/fakes/aks.js';
import { makeTestCertificates, type TestCertificates } from '../support/fakes/tls.js';

const SUB = '0b1f6471-1bf0-4dda-aec3-cb9272f09590';
const OTHER_SUB = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const ARM_TOKEN = 'arm-token-for-tests';
const ENTRA_TOKEN = 'entra-aks-token-for-tests';
const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n').toString('base64');

/** A TokenCredential that hands out fixed tokens per scope and remembers what was asked. */
class RecordingCredential implements TokenCredential {
  readonly scopes: string[] = [];
  constructor(private readonly expiresOnTimestamp: number) {}
  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    const scope = Array.isArray(scopes) ? scopes.join(' ') : scopes;
    this.scopes.push(scope);
    const token = scope === AKS_SERVER_SCOPE ? ENTRA_TOKEN : scope === 'https://management.azure.com/.default' ? ARM_TOKEN : 'wrong-scope';
    return { token, expiresOnTimestamp: this.expiresOnTimestamp };
  }
}

function kubeloginKubeconfig(name: string, server: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster:
    server: ${server}
    certificate-authority-data: ${CA}
contexts:
- name: ${name}
  context:
    cluster: ${name}
    user: clusterUser_rg_${name}
current-context: ${name}
users:
- name: clusterUser_rg_${name}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --login, azurecli, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]
`;
}

function localAccountKubeconfig(name: string, server: string): string {
  const cert = Buffer.from('client-cert-pem').toString('base64');
  const key = Buffer.from('client-key-pem').toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster: { server: '${server}', certificate-authority-data: ${CA} }
contexts:
- name: ${name}
  context: { cluster: ${name}, user: clusterUser_legacy_${name} }
current-context: ${name}
users:
- name: clusterUser_legacy_${name}
  user: { client-certificate-data: ${cert}, client-key-data: ${key} }
`;
}

let tls: TestCertificates;
let fake: AksFake;
let credential: RecordingCredential;
let adapter: AksAdapter;
const expiresOn = Date.now() + 3_600_000;

beforeAll(async () => {
  tls = makeTestCertificates();
  fake = await startAksFake({ armToken: ARM_TOKEN, tls });
  credential = new RecordingCredential(expiresOn);
  adapter = new AksAdapter({ credential, endpoint: fake.endpoint, clientOptions: { tlsOptions: { ca: tls.caPem }, retryOptions: { maxRetries: 0 } } });
  fake.addCluster({
    subscriptionId: SUB, resourceGroup: 'rg-prod', name: 'prod-weu', location: 'westeurope', kubernetesVersion: '1.31.2', aad: true,
    fqdn: 'prod-weu-dns-1a2b3c.hcp.westeurope.azmk8s.io', agentPools: [{ name: 'system', count: 3 }, { name: 'user', count: 5 }],
    userKubeconfig: kubeloginKubeconfig('prod-weu', 'https://prod-weu-dns-1a2b3c.hcp.westeurope.azmk8s.io:443'),
  });
  fake.addCluster({
    subscriptionId: SUB, resourceGroup: 'rg-legacy', name: 'legacy', location: 'northeurope', kubernetesVersion: '1.30.6',
    fqdn: 'legacy-dns.hcp.northeurope.azmk8s.io', agentPools: [{ name: 'pool', count: 2 }],
    userKubeconfig: localAccountKubeconfig('legacy', 'https://legacy-dns.hcp.northeurope.azmk8s.io:443'),
  });
  fake.addCluster({
    subscriptionId: SUB, resourceGroup: 'rg-prod', name: 'paused', location: 'westeurope', kubernetesVersion: '1.31.2', powerState: 'Stopped',
    userKubeconfig: kubeloginKubeconfig('paused', 'https://paused.hcp.westeurope.azmk8s.io:443'),
  });
  fake.addCluster({
    subscriptionId: OTHER_SUB, resourceGroup: 'rg-x', name: 'elsewhere', location: 'eastus',
    userKubeconfig: kubeloginKubeconfig('elsewhere', 'https://elsewhere.hcp.eastus.azmk8s.io:443'),
  });
});

afterEach(() => {
  fake.requests.length = 0;
  credential.scopes.length = 0;
});

afterAll(async () => {
  await fake?.stop();
});

const MC = 'providers/Microsoft.ContainerService/managedClusters';

describe('AksAdapter against an ARM fake over TLS', () => {
  it('gets a managed cluster with an ARM token and an api-version', async () => {
    const info = await adapter.getCluster({ subscriptionId: SUB, resourceGroup: 'rg-prod', clusterName: 'prod-weu' });
    expect(info).toEqual({
      name: 'prod-weu', subscriptionId: SUB, resourceGroup: 'rg-prod', location: 'westeurope',
      fqdn: 'prod-weu-dns-1a2b3c.hcp.westeurope.azmk8s.io', privateFqdn: undefined, version: '1.31.2',
      provisioningState: 'Succeeded', powerState: 'Running', entraIntegrated: true, nodeCount: 8,
    });
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'GET', path: `/subscriptions/${SUB}/resourceGroups/rg-prod/${MC}/prod-weu` });
    expect(request!.query['api-version']).toMatch(/^\d{4}-\d{2}-\d{2}/);
    expect(request!.headers.authorization).toBe(`Bearer ${ARM_TOKEN}`);
    // ARM tokens are asked for ARM's scope, whatever the endpoint.
    expect(credential.scopes).toEqual(['https://management.azure.com/.default']);
  });

  it('lists a subscription and a resource group', async () => {
    expect((await adapter.listClusters(SUB)).map((c) => `${c.resourceGroup}/${c.name}`)).toEqual(['rg-prod/prod-weu', 'rg-legacy/legacy', 'rg-prod/paused']);
    expect((await adapter.listClusters(SUB, 'rg-prod')).map((c) => c.name)).toEqual(['prod-weu', 'paused']);
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /subscriptions/${SUB}/${MC}`,
      `GET /subscriptions/${SUB}/resourceGroups/rg-prod/${MC}`,
    ]);
  });

  it('resolves an Entra cluster: server and CA from the user kubeconfig, token for the AKS server app', async () => {
    const access = await adapter.access({ provider: 'aks', subscriptionId: SUB, resourceGroup: 'rg-prod', clusterName: 'prod-weu' });
    expect(access).toMatchObject({ provider: 'aks', name: 'prod-weu', server: 'https://prod-weu-dns-1a2b3c.hcp.westeurope.azmk8s.io:443', caData: CA });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /subscriptions/${SUB}/resourceGroups/rg-prod/${MC}/prod-weu`,
      `POST /subscriptions/${SUB}/resourceGroups/rg-prod/${MC}/prod-weu/listClusterUserCredential`,
    ]);
    expect(fake.requests.every((r) => r.headers.authorization === `Bearer ${ARM_TOKEN}`)).toBe(true);
    if (access.credentials.kind !== 'token') throw new Error('expected a token');
    expect(await access.credentials.token()).toEqual({ token: ENTRA_TOKEN, expiresAt: new Date(expiresOn) });
    await access.credentials.token();
    expect(credential.scopes.filter((s) => s === AKS_SERVER_SCOPE)).toHaveLength(1); // cached
    const opts: { headers?: Record<string, string> } = {};
    await toKubeConfig(access).applyToHTTPSOptions(opts);
    expect(opts.headers?.Authorization).toBe(`Bearer ${ENTRA_TOKEN}`);
  });

  it("uses a local-account cluster's own client certificate", async () => {
    const access = await resolveAccess({ provider: 'aks', subscriptionId: SUB, resourceGroup: 'rg-legacy', clusterName: 'legacy' }, { aks: adapter });
    expect(access.credentials).toEqual({
      kind: 'client-certificate',
      certData: Buffer.from('client-cert-pem').toString('base64'),
      keyData: Buffer.from('client-key-pem').toString('base64'),
    });
    expect(credential.scopes).not.toContain(AKS_SERVER_SCOPE);
  });

  it('refuses a stopped cluster', async () => {
    await expect(adapter.access({ provider: 'aks', subscriptionId: SUB, resourceGroup: 'rg-prod', clusterName: 'paused' }))
      .rejects.toThrow(/cluster "paused" in resource group rg-prod is stopped/);
  });

  it('discovers a subscription', async () => {
    const candidates = await discover('aks', { subscriptionId: SUB }, { aks: adapter });
    expect(candidates[0]).toEqual({
      name: 'prod-weu', suggestedName: 'prod-weu', region: 'westeurope', version: '1.31.2', status: 'Succeeded/Running', ready: true, nodeCount: 8,
      connection: { provider: 'aks', subscriptionId: SUB, resourceGroup: 'rg-prod', clusterName: 'prod-weu' },
    });
    expect(candidates.map((c) => [c.name, c.ready])).toEqual([['prod-weu', true], ['legacy', true], ['paused', false]]);
    expect((await adapter.discover({ provider: 'aks', subscriptionId: OTHER_SUB })).map((c) => c.connection)).toEqual([
      { provider: 'aks', subscriptionId: OTHER_SUB, resourceGroup: 'rg-x', clusterName: 'elsewhere' },
    ]);
  });

  it('classifies a missing cluster as not found', async () => {
    const error = await adapter.getCluster({ subscriptionId: SUB, resourceGroup: 'rg-prod', clusterName: 'ghost' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudProviderError);
    expect(error).toMatchObject({ provider: 'aks', operation: 'get', kind: 'not-found', status: 404, code: 'ResourceNotFound', retryable: false });
    expect((error as Error).message).toMatch(/^aks get: not found cluster "ghost" in resource group rg-prod: The Resource .*ghost.* was not found/);
  });

  it('classifies a denied call as forbidden, and keeps tokens out of it', async () => {
    fake.failNext({ status: 403, body: { error: { code: 'AuthorizationFailed', message: `The client with header 'Authorization: Bearer ${ARM_TOKEN}' does not have authorization to perform action 'Microsoft.ContainerService/managedClusters/read'` } } });
    const error = await adapter.listClusters(SUB).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'forbidden', status: 403, code: 'AuthorizationFailed', retryable: false });
    expect(`${String(error)} ${JSON.stringify(error)}`).not.toContain(ARM_TOKEN);
  });

  it('will not send a token to a server whose certificate it cannot verify', async () => {
    const untrusting = new AksAdapter({ credential, endpoint: fake.endpoint, clientOptions: { retryOptions: { maxRetries: 0 } } });
    const error = await untrusting.getCluster({ subscriptionId: SUB, resourceGroup: 'rg-prod', clusterName: 'prod-weu' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ provider: 'aks', kind: 'network' });
    expect((error as Error).message).toMatch(/certificate/);
    expect(fake.requests).toEqual([]);
  });

  it('names the bad input', async () => {
    await expect(adapter.access({ provider: 'aks', subscriptionId: 'my-sub', resourceGroup: 'rg', clusterName: 'x' }))
      .rejects.toThrow(/aks access: invalid connection: subscriptionId: is not a subscription id \(a GUID\)/);
    await expect(adapter.getCluster({ subscriptionId: SUB, resourceGroup: 'rg.', clusterName: 'x' })).rejects.toThrow(/resourceGroup: is not a resource group name/);
    await expect(discover('aks', { subscriptionId: SUB, resourceGroup: '' }, { aks: adapter })).rejects.toThrow(/invalid account: resourceGroup: /);
    expect(fake.requests).toEqual([]);
  });
});
