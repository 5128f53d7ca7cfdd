// Token caching, KubeConfig building, the connection directory and kubeconfig discovery.
import { describe, expect, it } from 'vitest';
import { cachedTokenSource, normalizeServer, type BearerToken, type ClusterAccess } from '../../providers/cloud/access.js';
import { discover, resolveAccess } from '../../providers/cloud/adapters.js';
import { toDnsLabel } from '../../providers/cloud/candidate.js';
import { ConnectionClusterDirectory } from '../../providers/cloud/directory.js';
import { toKubeConfig } from '../../providers/cloud/kube-config.js';
import { UnknownClusterError } from '../../providers/cluster-directory.js';

const CA = Buffer.from('ca').toString('base64');

function counter(lifetimeMs: number, now: () => number) {
  let calls = 0;
  const source = async (): Promise<BearerToken> => {
    calls += 1;
    return { token: `t${calls}`, expiresAt: new Date(now() + lifetimeMs) };
  };
  return { source, calls: () => calls };
}

describe('cachedTokenSource', () => {
  it('reuses a token until refreshBeforeMs before it expires', async () => {
    let clock = 0;
    const now = () => clock;
    const c = counter(15 * 60_000, now);
    const token = cachedTokenSource(c.source, { refreshBeforeMs: 60_000, now });
    expect((await token()).token).toBe('t1');
    clock = 13 * 60_000;
    expect((await token()).token).toBe('t1');
    clock = 14 * 60_000 + 1;
    expect((await token()).token).toBe('t2');
    expect(c.calls()).toBe(2);
  });

  it('shares one fetch between concurrent callers, and does not cache failures', async () => {
    let calls = 0;
    let fail = true;
    const token = cachedTokenSource(async () => {
      calls += 1;
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw new Error('sts down');
      return { token: 'ok', expiresAt: new Date(Date.now() + 600_000) };
    });
    await expect(Promise.all([token(), token(), token()])).rejects.toThrow('sts down');
    expect(calls).toBe(1);
    fail = false;
    expect((await token()).token).toBe('ok');
    expect(calls).toBe(2);
  });
});

describe('toKubeConfig', () => {
  const base = { provider: 'eks', name: 'prod', server: 'https://api.example.com', caData: CA } as const;

  it('asks the token source on each request, so a long-lived config stays valid', async () => {
    let n = 0;
    const access: ClusterAccess = { ...base, credentials: { kind: 'token', token: async () => ({ token: `tok-${++n}` }) } };
    const kc = toKubeConfig(access);
    expect(kc.getCurrentCluster()).toMatchObject({ name: 'eks-prod', server: 'https://api.example.com', caData: CA, skipTLSVerify: false });
    expect(kc.getCurrentUser()?.token).toBeUndefined();
    const first: { headers?: Record<string, string>; ca?: unknown } = {};
    await kc.applyToHTTPSOptions(first);
    expect(first.headers?.Authorization).toBe('Bearer tok-1');
    expect(String(first.ca)).toBe('ca');
    const second: { headers?: Record<string, string> } = {};
    await kc.applyToHTTPSOptions(second);
    expect(second.headers?.Authorization).toBe('Bearer tok-2');
  });

  it('carries client certificates and TLS server names', async () => {
    const cert = Buffer.from('cert').toString('base64');
    const key = Buffer.from('key').toString('base64');
    const kc = toKubeConfig({ ...base, provider: 'kubeconfig', tlsServerName: 'api.internal', credentials: { kind: 'client-certificate', certData: cert, keyData: key } });
    const opts: { headers?: Record<string, string>; cert?: unknown; key?: unknown; servername?: string } = {};
    await kc.applyToHTTPSOptions(opts);
    expect([String(opts.cert), String(opts.key), opts.servername]).toEqual(['cert', 'key', 'api.internal']);
    expect(opts.headers?.Authorization).toBeUndefined();
  });
});

describe('ConnectionClusterDirectory', () => {
  const kubeconfig = `clusters: [{name: c, cluster: {server: 'https://k.example.com:6443', certificate-authority-data: ${CA}}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: ctx, context: {cluster: c, user: u}}]
current-context: ctx
`;

  it('resolves kubeconfig connections through the catalog reader and caches the access', async () => {
    let reads = 0;
    const directory = new ConnectionClusterDirectory({
      connectionOf: async (name) => (name === 'edge' ? { provider: 'kubeconfig', kubeconfigSecret: 'edge-kubeconfig' } : undefined),
      adapters: { readKubeconfig: async (secret) => { reads += 1; expect(secret).toBe('edge-kubeconfig'); return kubeconfig; } },
    });
    const kc = await directory.kubeConfig('edge');
    expect(kc.getCurrentCluster()?.server).toBe('https://k.example.com:6443');
    await directory.kubeConfig('edge');
    expect(reads).toBe(1);
    await expect(directory.kubeConfig('nowhere')).rejects.toBeInstanceOf(UnknownClusterError);
  });

  it('does not cache failures', async () => {
    let text = 'nonsense: [';
    const directory = new ConnectionClusterDirectory({
      connectionOf: async () => ({ provider: 'kubeconfig', kubeconfigSecret: 's' }),
      adapters: { readKubeconfig: async () => text },
    });
    await expect(directory.access('x')).rejects.toThrow(/not valid YAML/);
    text = kubeconfig;
    expect((await directory.access('x')).server).toBe('https://k.example.com:6443');
  });
});

describe('dispatchers', () => {
  it('discovers the contexts of a stored kubeconfig', async () => {
    const text = `clusters: [{name: a, cluster: {server: 'https://a', certificate-authority-data: ${CA}}}, {name: b, cluster: {server: 'https://b'}}]
users: [{name: plugin, user: {exec: {command: gke-gcloud-auth-plugin}}}]
contexts: [{name: Prod_A, context: {cluster: a}}, {name: b, context: {cluster: b, user: plugin}}]
`;
    const found = await discover('kubeconfig', { kubeconfigSecret: 'fleet' }, { readKubeconfig: async () => text });
    expect(found).toEqual([{ name: 'Prod_A', suggestedName: 'prod-a', connection: { provider: 'kubeconfig', kubeconfigSecret: 'fleet', context: 'Prod_A' }, status: 'unknown', ready: false }]);
  });

  it('names a bad connection', async () => {
    await expect(resolveAccess({ provider: 'eks', region: 'eu-west-1' } as never, {})).rejects.toThrow(/eks access: invalid connection: clusterName: /);
    await expect(resolveAccess({ provider: 'nimbus' } as never, {})).rejects.toThrow(/unknown access: invalid connection: provider: /);
    await expect(resolveAccess({ provider: 'kubeconfig', kubeconfigSecret: 's' }, {})).rejects.toThrow(/cannot read kubeconfig secrets/);
    await expect(resolveAccess({ provider: 'aks', subscriptionId: 's', resourceGroup: 'r', clusterName: 'c' }, {})).rejects.toThrow(/no aks adapter configured/);
  });
});

describe('helpers', () => {
  it('normalizes servers and derives DNS labels', () => {
    expect(normalizeServer('https://x.example.com:443//')).toBe('https://x.example.com:443');
    expect(() => normalizeServer('ftp://x')).toThrow(/must be an https URL/);
    expect(toDnsLabel('My_Cluster.Prod')).toBe('my-cluster-prod');
    expect(toDnsLabel('---')).toBe('cluster');
    expect(toDnsLabel('a'.repeat(80))).toHaveLength(63);
  });
});
