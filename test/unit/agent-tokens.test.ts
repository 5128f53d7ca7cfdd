// The worker's service-account tokens and how its cluster client routes and reports (issue 10,
// finding 5): a cached token is reused until shortly before it expires, a re-pointed cluster
// never gets the old server's token, failures are not cached; namespace objects go as the
// bootstrap account, everything else as the agent; an RBAC refusal is read into verb, resource
// and namespace.
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isNamespaceLifecycleRequest, refusalOf } from '../../activities/cluster-client.js';
import { clusterIdentity, ServiceAccountTokens } from '../../providers/kubernetes/service-account-tokens.js';

const agent = { namespace: 'flotilla-system', name: 'flotilla-agent' };
const bootstrap = { namespace: 'flotilla-system', name: 'flotilla-bootstrap' };

function minter(now: () => number, lifetimeMs = 3600_000) {
  const calls: number[] = [];
  const mint = async (expirationSeconds: number) => {
    calls.push(expirationSeconds);
    return { token: `t${calls.length}`, expiresAt: now() + lifetimeMs };
  };
  return { calls, mint };
}

describe('ServiceAccountTokens', () => {
  it('reuses a token until 15 minutes before it expires, then mints a new one', async () => {
    let t = 0;
    const now = () => t;
    const tokens = new ServiceAccountTokens({ now });
    const { calls, mint } = minter(now);
    expect(await tokens.token('c', agent, 'id', mint)).toBe('t1');
    t = 44 * 60_000;
    expect(await tokens.token('c', agent, 'id', mint)).toBe('t1');
    t = 46 * 60_000;
    expect(await tokens.token('c', agent, 'id', mint)).toBe('t2');
    expect(calls).toEqual([3600, 3600]);
  });

  it('keeps one token per cluster and account, and mints anew for a re-pointed cluster (never sends the old one)', async () => {
    const now = () => 0;
    const tokens = new ServiceAccountTokens({ now });
    const { mint } = minter(now);
    expect(await tokens.token('c', agent, 'server-a', mint)).toBe('t1');
    expect(await tokens.token('c', bootstrap, 'server-a', mint)).toBe('t2');
    expect(await tokens.token('d', agent, 'server-a', mint)).toBe('t3');
    expect(await tokens.token('c', agent, 'server-b', mint)).toBe('t4');
    expect(await tokens.token('c', agent, 'server-b', mint)).toBe('t4');
    tokens.forget('c');
    expect(await tokens.token('c', agent, 'server-b', mint)).toBe('t5');
    expect(await tokens.token('d', agent, 'server-a', mint)).toBe('t3');
  });

  it('mints once for concurrent callers and does not cache a failure', async () => {
    const now = () => 0;
    const tokens = new ServiceAccountTokens({ now });
    let n = 0;
    const failing = async () => {
      n += 1;
      throw new Error('refused');
    };
    await expect(tokens.token('c', agent, 'id', failing)).rejects.toThrow('refused');
    const { calls, mint } = minter(now);
    const all = await Promise.all([1, 2, 3].map(() => tokens.token('c', agent, 'id', mint)));
    expect(all).toEqual(['t1', 't1', 't1']);
    expect(calls).toHaveLength(1);
    expect(n).toBe(1);
  });

  it('identifies a cluster by server, CA and TLS settings, not by its user', () => {
    const kc = (server: string, user: string) => {
      const k = new KubeConfig();
      k.loadFromOptions({
        clusters: [{ name: 'c', server, caData: 'Q0E=', skipTLSVerify: false }],
        users: [{ name: user, token: `secret-of-${user}` }],
        contexts: [{ name: 'x', cluster: 'c', user }],
        currentContext: 'x',
      });
      return k;
    };
    expect(clusterIdentity(kc('https://a:6443', 'u1'))).toBe(clusterIdentity(kc('https://a:6443', 'u2')));
    expect(clusterIdentity(kc('https://a:6443', 'u1'))).not.toBe(clusterIdentity(kc('https://evil:6443', 'u1')));
    expect(clusterIdentity(kc('https://a:6443', 'u1'))).not.toContain('secret');
  });
});

describe('the worker\'s cluster client', () => {
  it('sends only namespace objects themselves (read, create, delete) as the bootstrap account', () => {
    const url = (path: string) => new URL(`https://api.example:6443${path}`);
    expect(isNamespaceLifecycleRequest('GET', url('/api/v1/namespaces/shop'))).toBe(true);
    expect(isNamespaceLifecycleRequest('DELETE', url('/api/v1/namespaces/shop'))).toBe(true);
    expect(isNamespaceLifecycleRequest('POST', url('/api/v1/namespaces'))).toBe(true);
    expect(isNamespaceLifecycleRequest('PATCH', url('/api/v1/namespaces/shop'))).toBe(false); // apply: the agent, in its own namespace
    expect(isNamespaceLifecycleRequest('GET', url('/api/v1/namespaces/shop/secrets'))).toBe(false);
    expect(isNamespaceLifecycleRequest('DELETE', url('/api/v1/namespaces/shop/configmaps/x'))).toBe(false);
    expect(isNamespaceLifecycleRequest('GET', url('/apis/apps/v1/namespaces/shop/deployments'))).toBe(false);
    expect(isNamespaceLifecycleRequest('GET', undefined)).toBe(false);
  });

  it('reads an RBAC refusal into who, verb, resource and namespace', () => {
    expect(refusalOf('deployments.apps "web" is forbidden: User "system:serviceaccount:flotilla-system:flotilla-agent" cannot patch resource "deployments" in API group "apps" in the namespace "kube-system"')).toEqual({
      user: 'system:serviceaccount:flotilla-system:flotilla-agent', verb: 'patch', resource: 'deployments', group: 'apps', namespace: 'kube-system',
    });
    expect(refusalOf('secrets is forbidden: User "u" cannot list resource "secrets" in API group "" at the cluster scope')).toEqual({
      user: 'u', verb: 'list', resource: 'secrets', group: undefined, namespace: undefined,
    });
    expect(refusalOf('admission webhook denied the request')).toBeUndefined();
  });
});
