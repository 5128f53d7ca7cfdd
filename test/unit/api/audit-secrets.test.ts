// Every mutation is in the audit log (ok, denied or error), and no secret — a kubeconfig's
// credential, an API token — appears in any log line or any other response.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigCluster, startTestApi, type ApiResponse, type TestApi, testKubeconfig } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';

describe('audit log and secrets', () => {
  let api: TestApi;
  const responses: { label: string; res: ApiResponse }[] = [];
  const kubeconfigCredential = 'kc-cred-3f9a1c7e5b2d4a6f8e0c';
  const environmentSecret = 'sk_live_9d8c7b6a5f4e3d2c1b0a';
  let createdToken = '';
  let viewer = '';

  const call = async (label: string, method: string, path: string, options: Parameters<TestApi['request']>[2] = {}) => {
    const res = await api.request(method, path, options);
    responses.push({ label, res });
    return res;
  };

  beforeAll(async () => {
    api = await startTestApi();
    viewer = await api.token('viewer');
    await call('register', 'POST', '/v1/clusters', { body: kubeconfigCluster('dev-1', { tier: 'dev' }, testKubeconfig('dev-1', kubeconfigCredential)) });
    await call('register dup', 'POST', '/v1/clusters', { body: kubeconfigCluster('dev-1', {}, testKubeconfig('dev-1', kubeconfigCredential)) });
    await call('create env', 'POST', '/v1/environments', { body: shopEnvironment({ name: 'shop-dev', cluster: 'dev-1', tier: 'dev' }) });
    await call('spec', 'PUT', '/v1/environments/shop-dev/spec', { body: (shopEnvironment() as { spec: { app: unknown } }).spec.app });
    await call('overrides', 'PUT', '/v1/environments/shop-dev/overrides', { body: { replicas: { web: 5 } } });
    await call('secret', 'PUT', '/v1/environments/shop-dev/secrets/STRIPE_KEY', { body: { value: environmentSecret } });
    await call('secret names', 'GET', '/v1/environments/shop-dev/secrets');
    await call('deploy', 'POST', '/v1/environments/shop-dev/deploy');
    await call('rules', 'PUT', '/v1/rules', { body: { forbidLatestTag: {} } });
    const token = await call('token', 'POST', '/v1/tokens', { body: { name: 'ci', role: 'operator', tiers: ['dev'] } });
    createdToken = (token.body as { token: string }).token;
    await call('revoke', 'DELETE', `/v1/tokens/${(token.body as { id: string }).id}`);
    await call('apply', 'POST', '/v1/apply', { raw: JSON.stringify(shopEnvironment({ name: 'shop-dev-2', cluster: 'dev-1', tier: 'dev' })), headers: { 'content-type': 'application/json' } });
    await call('delete env', 'DELETE', '/v1/environments/shop-dev-2');
    await call('denied', 'PUT', '/v1/rules', { token: viewer, body: {} });
    await call('anonymous', 'POST', '/v1/tokens', { token: null, body: { name: 'x', role: 'admin' } });
    await call('revoked token', 'GET', '/v1/clusters', { token: createdToken });
    await call('describe', 'GET', '/v1/clusters/dev-1');
    await call('audit', 'GET', '/v1/audit?limit=500');
    await call('delete cluster refused', 'DELETE', '/v1/clusters/dev-1');
  });
  afterAll(() => api.close());

  it('records every mutation with who, what, target, result and operation id', async () => {
    const { items } = await api.catalog.audit.query({ limit: 500 });
    const seen = items.map((e) => `${e.actor} ${e.action} ${e.target} ${e.result}`);
    expect(seen).toEqual(expect.arrayContaining([
      'test-admin cluster.register cluster/dev-1 ok',
      'test-admin cluster.register cluster/dev-1 error',
      'test-admin environment.create environment/shop-dev ok',
      'test-admin environment.spec environment/shop-dev ok',
      'test-admin environment.overrides environment/shop-dev ok',
      'test-admin environment.deploy environment/shop-dev ok',
      'test-admin environment.secret.set environment/shop-dev/secret/STRIPE_KEY ok',
      'test-admin rules.update rules/organisation ok',
      'test-admin apply environment/shop-dev-2 ok',
      'test-admin environment.teardown environment/shop-dev-2 ok',
      'test-admin cluster.offboard cluster/dev-1 error',
      `${'viewer-all-1'} rules.update rules/organisation denied`,
      'anonymous POST /v1/tokens /v1/tokens denied',
    ]));
    expect(items.filter((e) => e.action === 'token.create' && e.result === 'ok')).toHaveLength(1);
    expect(items.filter((e) => e.action === 'token.revoke' && e.result === 'ok')).toHaveLength(1);
    const deploy = items.find((e) => e.action === 'environment.deploy')!;
    expect(deploy.operationId).toMatch(/^deploy-shop-dev-/);
    expect(items.find((e) => e.action === 'cluster.register' && e.result === 'ok')!.operationId).toBe('onboard-dev-1');
    // The audit endpoint answers with the same entries, filterable.
    const filtered = await api.request<{ items: { result: string }[] }>('GET', '/v1/audit?result=denied');
    expect(filtered.body.items.length).toBeGreaterThanOrEqual(2);
    expect(filtered.body.items.every((e) => e.result === 'denied')).toBe(true);
  });

  it('writes one structured log line per request, with its request id', () => {
    const lines = api.logs.map((l) => JSON.parse(l) as { msg: string; requestId?: string; status?: number });
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(responses.length);
    expect(requests.every((l) => typeof l.requestId === 'string' && typeof l.status === 'number')).toBe(true);
  });

  it('never shows a secret in a log line or a response', () => {
    const secrets = [kubeconfigCredential, environmentSecret, api.admin, viewer, createdToken];
    const logs = api.logs.join('\n');
    for (const secret of secrets) expect(logs).not.toContain(secret);
    for (const { label, res } of responses) {
      const visible = label === 'token' ? res.text.replace(createdToken, '') : res.text;
      for (const secret of secrets) expect(visible, label).not.toContain(secret);
      expect(res.text, label).not.toMatch(/\n\s+at .*:\d+:\d+/);
    }
  });

  it('keeps the kubeconfig and secret values encrypted at rest, and out of the audit log', async () => {
    const rows = await api.catalog.db.selectFrom('secrets').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(kubeconfigCredential);
    expect(JSON.stringify(rows)).not.toContain(environmentSecret);
    expect(await api.catalog.secrets.get('environment/shop-dev', 'STRIPE_KEY')).toBe(environmentSecret);
    const audit = await api.catalog.audit.query({ limit: 500 });
    expect(JSON.stringify(audit)).not.toContain(environmentSecret);
  });
});
