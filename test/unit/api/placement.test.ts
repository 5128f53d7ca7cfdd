// Tier scope binds where things run (issue 10, finding 1), through the API: an environment's
// tier must be one its cluster accepts (its `tier` label, or the cluster's allowedTiers, which
// only an admin of every tier involved sets), two environments never share a namespace of one
// cluster, and Ingress hosts stay in their tier's domains and belong to one environment. Every
// path that writes an environment refuses alike: POST, PUT overrides, POST /v1/apply, deploy and
// promotion; nothing is written on a refusal.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_FLEET } from '../../../local/dev-fleet.js';
import { kubeconfigCluster, startTestApi, type TestApi } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';

type Problem = { path?: string; field?: string; rule?: string; message: string; document?: number };
type ErrorBody = { error: { code: string; message: string; details?: Problem[] } };

const json = { 'content-type': 'application/json' };
const env = (name: string, tier: 'dev' | 'staging' | 'prod', cluster: string, patch: { namespace?: string; hostnames?: Record<string, string> } = {}) => {
  const doc = shopEnvironment({ name, tier, cluster }) as { spec: { namespace?: string; overrides: { hostnames: Record<string, string> } } };
  if (patch.namespace) doc.spec.namespace = patch.namespace;
  if (patch.hostnames) doc.spec.overrides.hostnames = patch.hostnames;
  return doc;
};
const clusterDoc = (name: string, labels: Record<string, string>, allowedTiers: string[] = []) => ({
  apiVersion: 'flotilla.dev/v1', kind: 'Cluster', metadata: { name },
  spec: { labels, allowedTiers, connection: { provider: 'kubeconfig', kubeconfigSecret: `${name}-kubeconfig` } },
});

describe('an environment runs only where its tier may run', () => {
  let api: TestApi;
  let devOperator: string;
  let devAdmin: string;
  const create = (doc: unknown, token?: string) => api.request<ErrorBody>('POST', '/v1/environments', { body: doc, token });
  const apply = (docs: unknown[], token?: string) => api.request<ErrorBody & { results: unknown[] }>('POST', '/v1/apply', { raw: JSON.stringify(docs), headers: json, token });

  beforeAll(async () => {
    api = await startTestApi();
    devOperator = await api.token('operator', ['dev'], 'dora');
    devAdmin = await api.token('admin', ['dev'], 'dan');
    for (const [name, labels] of [['prod-1', { tier: 'prod' }], ['dev-1', { tier: 'dev' }], ['bare-1', {}], ['flip-1', { tier: 'dev' }]] as const) {
      expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster(name, labels) })).status).toBe(202);
    }
  });
  afterAll(() => api.close());

  it('a dev-scoped operator cannot put tier dev on a tier=prod cluster: 422 naming spec.tier, by POST or apply, and nothing is written', async () => {
    const res = await create(env('sneaky', 'dev', 'prod-1'), devOperator);
    expect(res.status, res.text).toBe(422);
    expect(res.body.error.details).toEqual([expect.objectContaining({ rule: 'clusterTier', field: 'spec.tier', message: expect.stringContaining('labelled tier=prod') })]);
    const applied = await apply([env('sneaky', 'dev', 'prod-1'), env('fine', 'dev', 'dev-1')], devOperator);
    expect(applied.status, applied.text).toBe(422);
    expect(applied.body.error.details).toEqual([expect.objectContaining({ rule: 'clusterTier', field: 'spec.tier', document: 0 })]);
    expect(await api.catalog.environments.get('sneaky')).toBeUndefined();
    expect(await api.catalog.environments.get('fine')).toBeUndefined();
    // Where the tier matches, the same operator may.
    expect((await create(env('shop-dev', 'dev', 'dev-1'), devOperator)).status).toBe(201);
  });

  it('a cluster without a tier label accepts no environment until an admin allows tiers on it', async () => {
    const res = await create(env('stray', 'dev', 'bare-1'));
    expect(res.status, res.text).toBe(422);
    expect(res.body.error.details?.[0]?.message).toContain('has no tier label and accepts no tier');
  });

  it('allowedTiers is set by an admin whose scope covers every tier the cluster then accepts', async () => {
    // A dev-scoped admin may not open its dev cluster to prod, register one so, nor touch a prod cluster.
    expect((await apply([clusterDoc('dev-1', { tier: 'dev' }, ['prod'])], devAdmin)).status).toBe(403);
    expect((await api.request('POST', '/v1/clusters', { token: devAdmin, body: { ...kubeconfigCluster('dev-9', { tier: 'dev' }), allowedTiers: ['prod'] } })).status).toBe(403);
    expect((await apply([clusterDoc('prod-1', { tier: 'prod' }, ['dev'])], devAdmin)).status).toBe(403);
    expect((await api.catalog.clusters.require('prod-1')).allowedTiers).toEqual([]);
    // An operator may not at all; an unscoped admin may.
    expect((await apply([clusterDoc('dev-1', { tier: 'dev' }, ['staging'])], devOperator)).status).toBe(403);
    const ok = await apply([clusterDoc('dev-1', { tier: 'dev' }, ['staging'])]);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.results).toEqual([{ kind: 'Cluster', name: 'dev-1', action: 'configured' }]);
    expect((await api.request<{ allowedTiers: string[] }>('GET', '/v1/clusters/dev-1')).body.allowedTiers).toEqual(['staging']);
    expect((await create(env('shop-staging', 'staging', 'dev-1'))).status).toBe(201);
    // From now on, dev-1's writes touch staging too: the dev-scoped admin may not change it any more.
    expect((await apply([clusterDoc('dev-1', { tier: 'dev' })], devAdmin)).status).toBe(403);
  });

  it('a cluster relabelled after the environment was made cannot be used: deploy, promotion and spec edits are refused', async () => {
    expect((await create(env('flip-src', 'dev', 'dev-1'))).status).toBe(201);
    expect((await create(env('flipped', 'dev', 'flip-1'))).status).toBe(201);
    await api.catalog.clusters.setLabels('flip-1', { tier: 'prod' });
    const deploy = await api.request<ErrorBody>('POST', '/v1/environments/flipped/deploy', { body: {} });
    expect(deploy.status, deploy.text).toBe(422);
    expect(deploy.body.error.details).toEqual([expect.objectContaining({ rule: 'clusterTier', field: 'spec.tier' })]);
    const promotion = await api.request<ErrorBody>('POST', '/v1/promotions', { body: { source: 'flip-src', stages: [{ name: 'all', targets: ['flipped'] }] } });
    expect(promotion.status, promotion.text).toBe(422);
    expect(promotion.body.error.details).toEqual([expect.objectContaining({ rule: 'clusterTier', object: 'environment/flipped' })]);
    const overrides = await api.request<ErrorBody>('PUT', '/v1/environments/flipped/overrides', { body: { replicas: { web: 1 } } });
    expect(overrides.status).toBe(422);
    expect((await api.catalog.environments.require('flipped')).overridesVersion).toBe(1);
  });

  it('two environments never share a namespace of one cluster: 409 naming the field, before anything is written', async () => {
    expect((await create(env('ns-a', 'prod', 'prod-1', { namespace: 'team-a' }))).status).toBe(201);
    const explicit = await create(env('ns-b', 'prod', 'prod-1', { namespace: 'team-a' }));
    expect(explicit.status, explicit.text).toBe(409);
    expect(explicit.body.error).toMatchObject({ code: 'namespace_taken', details: [{ path: 'spec.namespace', message: expect.stringContaining('environment "ns-a"') }] });
    // The namespace defaults to the name: then the name is the field at fault.
    const defaulted = await create(env('team-a', 'prod', 'prod-1'));
    expect(defaulted.status, defaulted.text).toBe(409);
    expect(defaulted.body.error.details).toEqual([{ path: 'metadata.name', message: expect.stringContaining('environment "ns-a"') }]);
    // Two documents of one apply that would share one.
    const both = await apply([env('ns-c', 'prod', 'prod-1', { namespace: 'team-c' }), env('ns-d', 'prod', 'prod-1', { namespace: 'team-c' })]);
    expect(both.status, both.text).toBe(409);
    expect(both.body.error.details?.[0]?.path).toMatch(/^documents\[[01]\]\.spec\.namespace$/);
    expect(await api.catalog.environments.get('ns-c')).toBeUndefined();
    // The same namespace name on another cluster is another namespace.
    expect((await create(env('ns-e', 'dev', 'dev-1', { namespace: 'team-a' }))).status).toBe(201);
  });

  describe('Ingress hosts', () => {
    it('one host, one environment: POST, PUT overrides and apply are refused naming the override', async () => {
      expect((await create(env('host-a', 'prod', 'prod-1', { hostnames: { web: 'shop.example.com' } }))).status).toBe(201);
      const taken = await create(env('host-b', 'prod', 'prod-1', { hostnames: { web: 'shop.example.com' } }));
      expect(taken.status, taken.text).toBe(422);
      expect(taken.body.error.details).toEqual([{
        rule: 'uniqueIngressHost', severity: 'error', object: 'service/host-b/web', field: 'spec.overrides.hostnames.web',
        message: 'host "shop.example.com" is already used by environment "host-a"',
      }]);
      expect((await create(env('host-b', 'prod', 'prod-1', { hostnames: { web: 'b.example.com' } }))).status).toBe(201);
      const put = await api.request<ErrorBody>('PUT', '/v1/environments/host-b/overrides', { body: { hostnames: { api: 'shop.example.com' } } });
      expect(put.status, put.text).toBe(422);
      expect(put.body.error.details?.[0]).toMatchObject({ rule: 'uniqueIngressHost', field: 'spec.overrides.hostnames.api' });
      // Re-applying an environment's own host is no collision; two documents claiming one host are.
      expect((await apply([env('host-a', 'prod', 'prod-1', { hostnames: { web: 'shop.example.com' } })])).status).toBe(200);
      const pair = await apply([env('host-c', 'prod', 'prod-1', { hostnames: { web: 'c.example.com' } }), env('host-d', 'prod', 'prod-1', { hostnames: { web: 'c.example.com' } })]);
      expect(pair.status, pair.text).toBe(422);
      expect(pair.body.error.details?.map((d) => d.rule)).toContain('uniqueIngressHost');
      expect(await api.catalog.environments.get('host-c')).toBeUndefined();
    });

    it('stay in the domains the rules allow their tier (ingressDomains, set by an unscoped admin only)', async () => {
      const rules = { ingressDomains: { perTier: { dev: ['*.dev.example.com'], staging: ['*.staging.example.com'], prod: ['*.example.com', 'shop.example.com'] } } };
      expect((await api.request('PUT', '/v1/rules', { token: devAdmin, body: rules })).status).toBe(403);
      const put = await api.request('PUT', '/v1/rules', { body: rules });
      expect(put.status, put.text).toBe(200);
      const outside = await create(env('dom-dev', 'dev', 'dev-1', { hostnames: { web: 'www.example.com' } }), devOperator);
      expect(outside.status, outside.text).toBe(422);
      expect(outside.body.error.details).toEqual([expect.objectContaining({ rule: 'ingressDomains', field: 'spec.overrides.hostnames.web', message: expect.stringContaining('*.dev.example.com') })]);
      const deeper = await create(env('dom-dev', 'dev', 'dev-1', { hostnames: { web: 'a.b.dev.example.com' } }), devOperator);
      expect(deeper.status).toBe(422);
      expect((await create(env('dom-dev', 'dev', 'dev-1', { hostnames: { web: 'shop.dev.example.com' } }), devOperator)).status).toBe(201);
      expect((await api.request('PUT', '/v1/rules', { body: {} })).status).toBe(200);
    });
  });
});

describe('examples/shop.yaml on the dev fleet', () => {
  it('applies as it is: every environment on a cluster that accepts its tier, with hosts in its tier\'s domains', async () => {
    const api = await startTestApi();
    try {
      for (const cluster of DEV_FLEET) {
        const res = await api.request('POST', '/v1/clusters', { body: { ...kubeconfigCluster(cluster.name, cluster.labels), allowedTiers: cluster.allowedTiers ?? [] } });
        expect(res.status, res.text).toBe(202);
      }
      const res = await api.request<ErrorBody & { results: { kind: string; name: string; action: string }[] }>('POST', '/v1/apply', {
        raw: readFileSync(new URL('../../../examples/shop.yaml', import.meta.url), 'utf8'), headers: { 'content-type': 'application/yaml' },
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.results.map((r) => `${r.kind}/${r.name}: ${r.action}`)).toEqual([
        'Rules/organisation: created', 'Application/shop: created', 'Environment/shop-staging: created', 'Environment/shop-prod-us: created', 'Environment/shop-prod-eu: created',
      ]);
    } finally {
      await api.close();
    }
  });
});
