// The app's plumbing over a real SQLite catalog: OpenAPI, public routes, request ids, 401,
// limits, idempotency, and the main resource flows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBootstrapToken } from '../../../api/bootstrap.js';
import { kubeconfigCluster, RecordingStarter, startTestApi, type TestApi } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';

type ErrorBody = { error: { code: string; message: string; details?: { path: string; message: string }[] } };

describe('API', () => {
  let api: TestApi;
  let starter: RecordingStarter;
  beforeAll(async () => {
    starter = new RecordingStarter();
    api = await startTestApi({ operations: starter });
    expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster('local-dev', { tier: 'dev', geo: 'eu' }) })).status).toBe(202);
    expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster('prod-eu', { tier: 'prod', geo: 'eu' }) })).status).toBe(202);
  });
  afterAll(() => api.close());

  it('serves an OpenAPI 3.1 document, generated from the routes, without a token', async () => {
    const res = await api.request<{ openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { additionalProperties?: boolean } }> } }>> }>('GET', '/v1/openapi.json', { token: null });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining([
      '/v1/clusters', '/v1/clusters/{name}', '/v1/providers/{provider}/discover', '/v1/environments', '/v1/environments/{name}/deploy',
      '/v1/environments/{name}/diff/{other}', '/v1/rules', '/v1/tokens', '/v1/tokens/{id}', '/v1/audit', '/v1/operations', '/v1/operations/{id}', '/v1/apply',
    ]));
    // Strict domain schemas stay strict in the document.
    expect(res.body.paths['/v1/clusters']!.post!.requestBody!.content['application/json']!.schema.additionalProperties).toBe(false);
  });

  it('answers 401 without or with a bad token, in the error shape', async () => {
    for (const token of [null, 'flt_nope', 'not-even-a-token']) {
      const res = await api.request<ErrorBody>('GET', '/v1/clusters', { token });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthenticated');
    }
    expect((await api.request('GET', '/v1/healthz', { token: null })).status).toBe(200);
  });

  it('echoes a sane X-Request-Id and makes one otherwise', async () => {
    expect((await api.request('GET', '/v1/healthz', { headers: { 'x-request-id': 'abc-123' } })).headers.get('x-request-id')).toBe('abc-123');
    expect((await api.request('GET', '/v1/healthz', { headers: { 'x-request-id': 'bad id with spaces' } })).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes and objects with 404, duplicates with 409', async () => {
    expect((await api.request<ErrorBody>('GET', '/v1/nothing-here')).status).toBe(404);
    expect((await api.request<ErrorBody>('GET', '/v1/clusters/nope')).body.error).toEqual({ code: 'not_found', message: 'cluster "nope" not found' });
    const dup = await api.request<ErrorBody>('POST', '/v1/clusters', { body: kubeconfigCluster('local-dev') });
    expect(dup.status).toBe(409);
  });

  it('refuses bodies over 1 MB with 413', async () => {
    const res = await api.request<ErrorBody>('PUT', '/v1/rules', { raw: JSON.stringify({ x: 'a'.repeat(1024 * 1024 + 10) }), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(413);
  });

  it('registers a kubeconfig cluster: secret stored encrypted by name, only the name in the workflow input', async () => {
    const body = kubeconfigCluster('edge-1', { tier: 'dev' });
    const res = await api.request<{ operationId: string }>('POST', '/v1/clusters', { body });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ operationId: 'onboard-edge-1' });
    expect(res.headers.get('location')).toBe('/v1/operations/onboard-edge-1');
    const cluster = await api.catalog.clusters.require('edge-1');
    expect(cluster.status).toBe('onboarding');
    expect(cluster.connection).toEqual({ provider: 'kubeconfig', kubeconfigSecret: 'edge-1-kubeconfig' });
    expect(await api.catalog.secrets.require('global', 'edge-1-kubeconfig')).toBe(body.kubeconfig);
    const call = starter.calls.find((c) => c.workflowId === 'onboard-edge-1')!;
    expect(call).toEqual({ workflowType: 'onboardCluster', args: [{ cluster: 'edge-1' }], workflowId: 'onboard-edge-1' });
    expect((await api.catalog.operations.require('onboard-edge-1')).clusters).toEqual(['edge-1']);
  });

  it('selects clusters by labels', async () => {
    const res = await api.request<{ items: { name: string }[] }>('GET', '/v1/clusters?labels=tier=prod,geo=eu');
    expect(res.body.items.map((c) => c.name)).toEqual(['prod-eu']);
    expect((await api.request<ErrorBody>('GET', '/v1/clusters?labels=tier')).body.error.details?.[0]?.path).toBe('query.labels');
  });

  it('creates, changes, deploys and diffs environments', async () => {
    expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name: 'shop-a', cluster: 'local-dev', tier: 'dev' }) })).status).toBe(201);
    expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name: 'shop-b', cluster: 'prod-eu', tier: 'prod' }) })).status).toBe(201);
    const doc = shopEnvironment({ name: 'shop-b' }) as { spec: { app: { services: { image: string }[] } } };
    doc.spec.app.services[0]!.image = 'ghcr.io/acme/web:2.0.0';
    const put = await api.request<{ changed: boolean; revision: string }>('PUT', '/v1/environments/shop-b/spec', { body: doc.spec.app });
    expect(put.status).toBe(200);
    expect(put.body.changed).toBe(true);

    const diff = await api.request<{ overrides: { path: string }[]; other: { path: string }[]; zeroDrift: boolean }>('GET', '/v1/environments/shop-a/diff/shop-b');
    expect(diff.status).toBe(200);
    expect(diff.body.other.map((d) => d.path)).toEqual(['services[11].image']);
    expect(diff.body.zeroDrift).toBe(false);

    const deploy = await api.request<{ operationId: string }>('POST', '/v1/environments/shop-b/deploy');
    expect(deploy.status).toBe(202);
    expect(deploy.body.operationId).toBe(`deploy-shop-b-${put.body.revision.slice(7, 19)}-1`);
    expect(starter.calls.at(-1)).toEqual({
      workflowType: 'deployEnvironment', workflowId: deploy.body.operationId,
      args: [{ environment: 'shop-b', revision: put.body.revision, requestedBy: 'test-admin' }],
    });
    const op = await api.request<{ state: string; temporal: { status: string } }>('GET', `/v1/operations/${deploy.body.operationId}`);
    expect(op.body.state).toBe('running');
    starter.status.set(deploy.body.operationId, 'COMPLETED');
    expect((await api.request<{ state: string }>('GET', `/v1/operations/${deploy.body.operationId}`)).body.state).toBe('completed');
    // The same revision again: the next number.
    expect((await api.request<{ operationId: string }>('POST', '/v1/environments/shop-b/deploy')).body.operationId).toMatch(/-2$/);

    const list = await api.request<{ items: { id: string }[] }>('GET', '/v1/operations?kind=deploy&environment=shop-b');
    expect(list.body.items).toHaveLength(2);
    const revisions = await api.request<{ items: { kind: string }[] }>('GET', '/v1/environments/shop-b/revisions');
    expect(revisions.body.items.map((r) => r.kind)).toEqual(['spec-change', 'spec-change']);
    const shown = await api.request<{ status: { health: string } }>('GET', '/v1/environments/shop-b');
    expect(shown.body.status.health).toBe('unknown');
  });

  it('lists rule violations with 422 and writes nothing', async () => {
    expect((await api.request('PUT', '/v1/rules', { body: { forbidLatestTag: {}, residency: {} } })).status).toBe(200);
    const bad = shopEnvironment({ name: 'shop-us', cluster: 'prod-eu', tier: 'prod', residency: 'us' }) as { spec: { app: { services: { image: string }[] } } };
    bad.spec.app.services[0]!.image = 'ghcr.io/acme/web:latest';
    const res = await api.request<{ error: { details: { rule: string }[] } }>('POST', '/v1/environments', { body: bad });
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d) => d.rule).sort()).toEqual(['forbidLatestTag', 'residency']);
    expect(await api.catalog.environments.get('shop-us')).toBeUndefined();
    expect((await api.request('PUT', '/v1/rules', { body: {} })).status).toBe(200);
  });

  it('replays a POST with the same Idempotency-Key, and refuses the key with another body', async () => {
    const headers = { 'idempotency-key': 'deploy-once-1' };
    const first = await api.request<{ operationId: string }>('POST', '/v1/environments/shop-a/deploy', { body: {}, headers });
    const again = await api.request<{ operationId: string }>('POST', '/v1/environments/shop-a/deploy', { body: {}, headers });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(starter.calls.filter((c) => c.workflowId === first.body.operationId)).toHaveLength(1);
    const other = await api.request<ErrorBody>('POST', '/v1/environments/shop-a/deploy', { body: { revision: 'sha256:0000000000000000' }, headers });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
  });

  it('applies a multi-document YAML stream and reports per document', async () => {
    const yaml = [
      'apiVersion: flotilla.dev/v1', 'kind: Rules', 'spec:', '  forbidLatestTag: {}', '---',
      JSON.stringify(shopEnvironment({ name: 'shop-c', cluster: 'local-dev', tier: 'dev' })),
    ].join('\n');
    const res = await api.request<{ results: { kind: string; name: string; action: string }[] }>('POST', '/v1/apply', { raw: yaml, headers: { 'content-type': 'application/yaml' } });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r) => `${r.kind}/${r.name}:${r.action}`)).toEqual(['Rules/organisation:configured', 'Environment/shop-c:created']);
    const again = await api.request<{ results: { action: string }[] }>('POST', '/v1/apply', { raw: yaml, headers: { 'content-type': 'application/yaml' } });
    expect(again.body.results.map((r) => r.action)).toEqual(['unchanged', 'unchanged']);
  });

  it('rate-limits per token', async () => {
    const limited = await startTestApi({ rateLimit: { max: 3, windowMs: 60_000 } });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await limited.request('GET', '/v1/clusters')).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await limited.close();
    }
  });

  it('never mints a bootstrap admin token on a catalog that has had a token, even with every admin revoked', async () => {
    const fresh = await startTestApi();
    try {
      await fresh.catalog.tokens.revoke((await fresh.catalog.tokens.list())[0]!.id);
      expect(await ensureBootstrapToken(fresh.catalog)).toBeUndefined();
      expect(await fresh.catalog.tokens.list()).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
});
