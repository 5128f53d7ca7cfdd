// /v1/clones through the in-process API, with the clone workflows running for real on
// Temporal's time-skipping test server (catalog activities real, cluster and database ones
// stubbed): what a clone is made of (revision, overrides, secrets, record), what is refused
// before anything is written (rules, bad input, permissions), its TTL, and its teardown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentScope } from '../../../store/secrets.js';
import { kubeconfigCluster } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';
import { startWorkflowApi, type WorkflowApi } from '../../support/workflow-api.js';

let api: WorkflowApi;
let tokens: { operator: string; release: string; devOperator: string };
const STRIPE = 'sk_live_prod_7c1d9e2f4a';

beforeAll(async () => {
  api = await startWorkflowApi();
  tokens = {
    operator: await api.token('operator'),
    release: await api.token('release-manager'),
    devOperator: await api.token('operator', ['dev'], 'dev-operator'),
  };
  for (const [name, labels] of [
    ['prod-eu', { tier: 'prod', geo: 'eu' }], ['dr-eu', { tier: 'dr', geo: 'eu' }], ['dr-us', { tier: 'dr', geo: 'us' }], ['dev-eu', { tier: 'dev', geo: 'eu' }],
    ['preview-eu', { tier: 'preview', geo: 'eu' }],
  ] as const) {
    expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster(name, labels) })).status).toBe(202);
  }
  expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name: 'shop-prod', tier: 'prod', cluster: 'prod-eu', residency: 'eu' }) })).status).toBe(201);
  await api.catalog.secrets.put(environmentScope('shop-prod'), 'STRIPE_KEY', STRIPE);
  await api.catalog.secrets.put(environmentScope('shop-prod'), 'CACHE_URL', 'redis://prod-cache.internal:6379/0');
  await api.catalog.secrets.put(environmentScope('shop-prod'), 'ORDERS_DB_PASSWORD', 'prod-orders-db-password-1f2e');
}, 120_000);
afterAll(() => api?.close());

const drill = (extra: Record<string, unknown> = {}) => ({
  source: 'shop-prod', name: 'shop-dr', cluster: 'dr-eu', purpose: 'drill',
  overrides: { replicas: { web: 1 } }, data: { 'orders-db': 'snapshot' }, secrets: { CACHE_URL: 'redis://dr-cache.internal:6379/0' },
  ...extra,
});

interface CloneView {
  id: string;
  state: string;
  data: { database: string; mode: string }[];
  dataResult?: { database: string; mode: string }[];
  expiresAt?: string;
  remainingSeconds?: number;
  tier?: string;
}

async function made(id: string): Promise<CloneView> {
  await api.waitForEnd(id);
  return (await api.request<CloneView>('GET', `/v1/clones/${id}`)).body;
}

describe('POST /v1/clones', { timeout: 60_000 }, () => {
  it('makes the clone an environment of the source\'s revision with its own overrides, secrets and record, and ends ready', async () => {
    const res = await api.request<{ operationId: string }>('POST', '/v1/clones', { token: tokens.release, body: drill() });
    expect(res.status).toBe(202);
    expect(res.body.operationId).toBe('clone-shop-dr-1');
    const clone = await made('clone-shop-dr-1');
    expect(clone).toMatchObject({ state: 'ready', tier: 'dr' });
    expect(clone.data).toEqual(expect.arrayContaining([
      { database: 'orders-db', engine: 'postgres', location: 'container', mode: 'snapshot' },
      { database: 'cache', engine: 'redis', location: 'external', mode: 'none' },
    ]));
    expect(clone.data).toHaveLength(2);
    expect(clone.dataResult).toEqual([expect.objectContaining({ database: 'orders-db', mode: 'snapshot' })]);

    const source = await api.catalog.environments.require('shop-prod');
    const env = await api.catalog.environments.require('shop-dr');
    expect(env.binding).toEqual({ name: 'shop-dr', application: 'shop', tier: 'dr', residency: 'eu', cluster: 'dr-eu', namespace: 'shop-dr' });
    expect(env.currentRevision).toBe(source.currentRevision);
    expect(env.deployed?.revision).toBe(source.currentRevision);
    // The source's overrides but its Ingress hosts, with the request's laid over them.
    expect(env.overrides).toEqual({ ...source.overrides, replicas: { ...source.overrides.replicas, web: 1 }, hostnames: {} });
    const history = await api.catalog.history.list('shop-dr');
    expect(history.items.map((h) => h.kind)).toContain('clone');

    // Its secrets: the source's STRIPE_KEY, its own cache connection; never the source's database password.
    const scope = environmentScope('shop-dr');
    expect((await api.catalog.secrets.list(scope)).map((s) => s.name).sort()).toEqual(['CACHE_URL', 'STRIPE_KEY']);
    expect(await api.catalog.secrets.get(scope, 'STRIPE_KEY')).toBe(STRIPE);
    expect(await api.catalog.secrets.get(scope, 'CACHE_URL')).toBe('redis://dr-cache.internal:6379/0');

    // `flotilla diff SOURCE CLONE`: overrides only.
    const diff = await api.request<{ overrides: { path: string }[]; other: unknown[]; zeroDrift: boolean }>('GET', '/v1/environments/shop-prod/diff/shop-dr');
    expect(diff.body.other).toEqual([]);
    expect(diff.body.zeroDrift).toBe(true);
    expect(diff.body.overrides.length).toBeGreaterThan(0);

    // The workflow input names the clone's record, nothing else (no secret, no spec).
    const start = api.starts.find((s) => s.workflowId === 'clone-shop-dr-1')!;
    expect(start).toMatchObject({ workflowType: 'cloneEnvironment', args: [{ cloneId: 'clone-shop-dr-1', requestedBy: expect.any(String) }] });
    expect(JSON.stringify(start.args)).not.toContain('dr-cache');
  });

  it('is refused by residency (422 listing the rule), with nothing written and nothing started', async () => {
    expect((await api.request('PUT', '/v1/rules', { body: { residency: { labelKey: 'geo' } } })).status).toBe(200);
    try {
      const starts = api.starts.length;
      const res = await api.request<{ error: { code: string; details: { rule: string; field: string; message: string }[] } }>('POST', '/v1/clones', {
        token: tokens.release, body: drill({ name: 'shop-dr-us', cluster: 'dr-us' }),
      });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('rule_violations');
      expect(res.body.error.details).toEqual([expect.objectContaining({ rule: 'residency', field: 'spec.cluster', message: expect.stringContaining('geo=us') })]);
      expect(await api.catalog.environments.get('shop-dr-us')).toBeUndefined();
      expect(await api.catalog.clones.list({ name: 'shop-dr-us', active: false })).toEqual([]);
      expect(await api.catalog.secrets.list(environmentScope('shop-dr-us'))).toEqual([]);
      expect(api.starts.length).toBe(starts);
    } finally {
      expect((await api.request('PUT', '/v1/rules', { body: {} })).status).toBe(200);
    }
  });

  it('refuses bad input with 400 naming each field, and writes nothing', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ data: { nope: 'snapshot' } }, 'data.nope'],
      [{ data: { cache: 'snapshot' } }, 'data.cache'],
      [{ secrets: {} }, 'secrets.CACHE_URL'],
      [{ secrets: { CACHE_URL: 'redis://x:6379/0', UNKNOWN: 'abc' } }, 'secrets.UNKNOWN'],
      [{ ttl: 'soon' }, 'ttl'],
      [{ ttl: '90d' }, 'ttl'],
      [{ data: { 'orders-db': 'everything' } }, 'data.orders-db'],
      [{ name: 'Shop_DR' }, 'name'],
      [{ overrides: { replicas: { nosuch: 2 } } }, 'overrides.replicas.nosuch'],
    ];
    for (const [extra, path] of cases) {
      const res = await api.request<{ error: { details: { path: string }[] } }>('POST', '/v1/clones', { token: tokens.release, body: drill({ name: 'shop-bad', ...extra }) });
      expect([res.status, res.body.error.details.map((d) => d.path)], JSON.stringify(extra)).toEqual([400, expect.arrayContaining([path])]);
    }
    expect(await api.catalog.environments.get('shop-bad')).toBeUndefined();
    expect(await api.catalog.clones.list({ name: 'shop-bad', active: false })).toEqual([]);
  });

  it('answers 404 for an unknown source and 409 for a name already in use', async () => {
    expect((await api.request('POST', '/v1/clones', { body: drill({ source: 'nowhere', name: 'x-1' }) })).status).toBe(404);
    const taken = await api.request<{ error: { details: { path: string }[] } }>('POST', '/v1/clones', { body: drill({ name: 'shop-prod' }) });
    expect(taken.status).toBe(409);
    expect(taken.body.error.details[0]!.path).toBe('name');
  });

  it('lets only release managers and admins copy prod data as it is; operators may clone prod scrubbed or without data', async () => {
    expect((await api.request('POST', '/v1/clones', { token: tokens.operator, body: drill({ name: 'shop-op-raw' }) })).status).toBe(403);
    expect(await api.catalog.environments.get('shop-op-raw')).toBeUndefined();
    const scrubbed = await api.request<{ operationId: string }>('POST', '/v1/clones', {
      token: tokens.operator, body: drill({ name: 'shop-op-scrubbed', data: { 'orders-db': 'scrubbed' } }),
    });
    expect(scrubbed.status).toBe(202);
    expect((await made(scrubbed.body.operationId)).state).toBe('ready');
  });

  it('refuses a dev-scoped token a clone of prod, even into dev and without data', async () => {
    const res = await api.request('POST', '/v1/clones', {
      token: tokens.devOperator, body: drill({ name: 'shop-dev-copy', cluster: 'dev-eu', tier: 'dev', data: {}, purpose: 'clone' }),
    });
    expect(res.status).toBe(403);
    expect(await api.catalog.environments.get('shop-dev-copy')).toBeUndefined();
  });
});

describe('a clone\'s TTL and teardown through the API', { timeout: 60_000 }, () => {
  it('shows the time left, extends it, refuses an expiry in the past, and a DELETE tears the clone down and stops its clock', async () => {
    const res = await api.request<{ operationId: string }>('POST', '/v1/clones', {
      token: tokens.release, body: drill({ name: 'shop-preview', cluster: 'preview-eu', purpose: 'preview', ttl: '2h', data: {} }),
    });
    expect(res.status).toBe(202);
    const id = res.body.operationId;
    const clone = await made(id);
    expect(clone).toMatchObject({ state: 'ready', tier: 'preview' });
    expect(clone.expiresAt).toBeDefined();
    expect(clone.remainingSeconds).toBeGreaterThan(7000);

    const extended = await api.request<{ expiresAt: string }>('POST', `/v1/clones/${id}/ttl`, { body: { extend: '4h' } });
    expect(extended.status).toBe(200);
    expect(Date.parse(extended.body.expiresAt)).toBeGreaterThan(Date.parse(clone.expiresAt!));
    expect((await api.catalog.clones.require(id)).expiresAt).toBe(extended.body.expiresAt);

    const past = await api.request<{ error: { details: { path: string }[] } }>('POST', `/v1/clones/${id}/ttl`, { body: { until: '2001-01-01T00:00:00Z' } });
    expect(past.status).toBe(422);
    expect(past.body.error.details[0]!.path).toBe('until');
    expect((await api.request('POST', `/v1/clones/${id}/ttl`, { body: { extend: '1h', cancel: true } })).status).toBe(400);

    const teardown = await api.request<{ operationId: string }>('DELETE', `/v1/clones/${id}`);
    expect(teardown.status).toBe(202);
    expect(teardown.body.operationId).toBe(`teardown-${id}`);
    await api.waitForEnd(teardown.body.operationId);
    expect(await api.catalog.environments.get('shop-preview')).toBeUndefined();
    expect(await api.catalog.clones.require(id)).toMatchObject({ state: 'torn-down' });
    expect((await api.env.client.workflow.getHandle(`expire-${id}`).describe()).status.name).toBe('COMPLETED');
    expect((await api.request('DELETE', `/v1/clones/${id}`)).status).toBe(409);
    const listed = await api.request<{ items: { id: string }[] }>('GET', '/v1/clones');
    expect(listed.body.items.map((c) => c.id)).not.toContain(id);
    const history = await api.request<{ items: { id: string }[] }>('GET', '/v1/clones?active=false');
    expect(history.body.items.map((c) => c.id)).toContain(id);
  });
});

describe('POST /v1/drills', { timeout: 60_000 }, () => {
  it('runs a drill: the clone is made, validated and torn down; the report has phases, RTO and RPO, and the list shows the RTO trend', async () => {
    const ids: string[] = [];
    for (const rto of [3600, 3600]) {
      const res = await api.request<{ operationId: string }>('POST', '/v1/drills', {
        token: tokens.release, body: { source: 'shop-prod', cluster: 'dr-eu', tier: 'dr', data: { 'orders-db': 'snapshot' }, secrets: { CACHE_URL: 'redis://dr-cache.internal:6379/0' }, objectives: { rtoSeconds: rto } },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      ids.push(res.body.operationId);
      await api.waitForEnd(res.body.operationId);
    }
    expect(ids[0]).toMatch(/^drill-shop-prod-\d+$/);
    const report = await api.request<{ state: string; outcome: string; clone: string; tornDown: boolean; rtoSeconds: number; phases: { name: string }[]; markdown: string }>('GET', `/v1/drills/${ids[0]}`);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ state: 'finished', outcome: 'passed', clone: 'shop-prod-drill', tornDown: true });
    expect(report.body.rtoSeconds).toBeGreaterThanOrEqual(0);
    expect(report.body.phases.map((p) => p.name)).toEqual(expect.arrayContaining(['clone: copying-data', 'validating', 'tearing-down']));
    expect(report.body.markdown).toContain(`# DR drill ${ids[0]}: PASSED`);
    expect(await api.catalog.environments.get('shop-prod-drill')).toBeUndefined();
    const listed = await api.request<{ items: { id: string }[]; trend: Record<string, { rtoSeconds?: number; outcome: string }[]> }>('GET', '/v1/drills?source=shop-prod');
    expect(listed.body.items.map((d) => d.id)).toEqual([...ids].reverse());
    expect(listed.body.trend['shop-prod']!.map((t) => t.outcome)).toEqual(['passed', 'passed']);
  });

  it('is refused like a clone: 400 naming the field, 403 for prod data as it is to an operator, nothing written', async () => {
    const bad = await api.request<{ error: { details: { path: string }[] } }>('POST', '/v1/drills', { token: tokens.release, body: { source: 'shop-prod', cluster: 'dr-eu', objectives: { rtoSeconds: 0 }, secrets: { CACHE_URL: 'redis://x:6379/0' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d) => d.path)).toContain('objectives.rtoSeconds');
    const raw = await api.request('POST', '/v1/drills', { token: tokens.operator, body: { source: 'shop-prod', cluster: 'dr-eu', name: 'shop-op-drill', data: { 'orders-db': 'snapshot' }, secrets: { CACHE_URL: 'redis://x:6379/0' } } });
    expect(raw.status).toBe(403);
    expect(await api.catalog.environments.get('shop-op-drill')).toBeUndefined();
    expect((await api.request('GET', '/v1/drills/drill-nope-1')).status).toBe(404);
  });
});

describe('POST /v1/operations/{id}/cancel', { timeout: 60_000 }, () => {
  it('cancels a running operation natively (a promotion awaiting approval ends cancelled); an ended one, an onboarding or an unknown id is refused', async () => {
    expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name: 'shop-eu-2', tier: 'prod', cluster: 'prod-eu', residency: 'eu' }) })).status).toBe(201);
    const res = await api.request<{ operationId: string }>('POST', '/v1/promotions', { token: tokens.release, body: { source: 'shop-prod', stages: [{ name: 'eu', targets: ['shop-eu-2'], approval: true }] } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const id = res.body.operationId;
    await api.waitForPromotion(id, (p) => p.phase === 'awaiting-approval');
    // An operator may not control promotions; a release manager may.
    expect((await api.request('POST', `/v1/operations/${id}/cancel`, { token: tokens.operator, body: {} })).status).toBe(403);
    const cancel = await api.request<{ operationId: string }>('POST', `/v1/operations/${id}/cancel`, { token: tokens.release, body: { reason: 'wrong week' } });
    expect([cancel.status, cancel.body.operationId]).toEqual([202, id]);
    const ended = await api.env.client.workflow.getHandle(id).result() as { outcome: string };
    expect(ended.outcome).toBe('cancelled');
    const audit = (await api.request<{ items: { action: string; target: string }[] }>('GET', '/v1/audit?limit=100')).body.items;
    expect(audit.find((e) => e.action === 'operation.cancel')).toMatchObject({ target: `operation/${id}` });

    await api.waitForEnd(id);
    expect((await api.request(`GET`, `/v1/operations/${id}`)).status).toBe(200);
    expect((await api.request('POST', `/v1/operations/${id}/cancel`, { token: tokens.release, body: {} })).status).toBe(409);
    expect((await api.request('POST', '/v1/operations/onboard-prod-eu/cancel', { body: {} })).status).toBe(409);
    expect((await api.request('POST', '/v1/operations/no-such-op/cancel', { body: {} })).status).toBe(404);
  });
});
