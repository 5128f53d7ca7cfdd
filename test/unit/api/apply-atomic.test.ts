// POST /v1/apply is all-or-nothing (issue 10, finding 7): a multi-document apply that fails on
// a later document stores none of the earlier ones and starts no onboarding; workflows start
// only after everything is committed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLOBAL_SCOPE } from '../../../store/secrets.js';
import { kubeconfigCluster, RecordingStarter, startTestApi, testKubeconfig, type TestApi } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';

type ErrorBody = { error: { code: string; message: string; details?: { path: string; message: string }[] } };

describe('POST /v1/apply is all or nothing', () => {
  let api: TestApi;
  let starter: RecordingStarter;
  beforeAll(async () => {
    starter = new RecordingStarter();
    api = await startTestApi({ operations: starter });
    expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster('c1', { tier: 'prod' }) })).status).toBe(202);
    expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name: 'e0', tier: 'prod', cluster: 'c1' }) })).status).toBe(201);
    await api.catalog.secrets.put(GLOBAL_SCOPE, 'kc-new', testKubeconfig('c-new'));
  });
  afterAll(() => api.close());

  const cluster = (name: string) => ({ apiVersion: 'flotilla.dev/v1', kind: 'Cluster', metadata: { name }, spec: { labels: { tier: 'prod' }, connection: { provider: 'kubeconfig', kubeconfigSecret: 'kc-new' } } });
  const apply = (docs: unknown[]) => api.request<ErrorBody & { results: { kind: string; name: string; action: string; operationId?: string }[] }>('POST', '/v1/apply', {
    raw: JSON.stringify(docs), headers: { 'content-type': 'application/json' },
  });

  it('a later document that cannot be written (its namespace is taken) leaves nothing of the earlier ones, and starts nothing', async () => {
    const clash = shopEnvironment({ name: 'e1', tier: 'prod', cluster: 'c1' }) as { spec: { namespace?: string } };
    clash.spec.namespace = 'e0';
    const rulesBefore = await api.catalog.rules.current();
    const before = starter.calls.length;
    const res = await apply([
      { apiVersion: 'flotilla.dev/v1', kind: 'Rules', spec: { forbidLatestTag: { enforcement: 'block' } } },
      cluster('c-new'),
      shopEnvironment({ name: 'e-fine', tier: 'prod', cluster: 'c1' }),
      clash,
    ]);
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    // Found before the first write, naming the field that clashes (issue 10, finding 1).
    expect(res.body.error.code).toBe('namespace_taken');
    expect(res.body.error.details).toEqual([{ path: 'documents[3].spec.namespace', message: expect.stringContaining('environment "e0"') }]);
    expect(await api.catalog.clusters.get('c-new')).toBeUndefined();
    expect(await api.catalog.environments.get('e-fine')).toBeUndefined();
    expect(await api.catalog.environments.get('e1')).toBeUndefined();
    expect((await api.catalog.rules.current()).version).toBe(rulesBefore.version);
    expect(starter.calls.length).toBe(before);
  });

  it('a good apply commits every document, then starts the onboarding of the new cluster', async () => {
    const res = await apply([cluster('c-new'), shopEnvironment({ name: 'e-new', tier: 'prod', cluster: 'c-new' })]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.results.map((r) => [r.kind, r.name, r.action])).toEqual([['Cluster', 'c-new', 'created'], ['Environment', 'e-new', 'created']]);
    expect(res.body.results[0]!.operationId).toBe('onboard-c-new');
    expect(starter.calls.map((c) => c.workflowId)).toContain('onboard-c-new');
    expect((await api.catalog.environments.require('e-new')).binding.cluster).toBe('c-new');
  });
});
