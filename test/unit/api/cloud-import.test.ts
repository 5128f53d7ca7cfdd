// POST /v1/providers/{provider}/discover and …/import over the in-process API: discovery is asked
// of the worker (a stand-in here answers as the discoverClusters workflow would), the body is
// checked against the provider's account with field paths, only unscoped admins may, and an
// import registers each selected cluster with labels from its tags and starts its onboarding,
// reporting clusters registered before as unchanged.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DiscoverClustersInput, DiscoveredCluster } from '../../../activities/discovery-types.js';
import { WorkflowRunError } from '../../../api/starter.js';
import { kubeconfigCluster, RecordingStarter, startTestApi, type TestApi } from '../../support/api-server.js';

type ErrorBody = { error: { code: string; message: string; details?: { path: string; message: string }[] } };
type ImportBody = { results: { name: string; cloudName: string; region?: string; action: string; operationId?: string; labels: Record<string, string>; skippedTags?: unknown[] }[] };

const ROLE = 'arn:aws:iam::111111111111:role/flotilla-import';

/** The worker, as the API sees it: a workflow it executes and waits for. */
class FakeWorker extends RecordingStarter {
  readonly discoveries: { workflowType: string; input: DiscoverClustersInput; workflowId: string }[] = [];
  answer: (input: DiscoverClustersInput) => DiscoveredCluster[] = () => [];

  async execute(workflowType: string, args: unknown[], workflowId: string): Promise<unknown> {
    const input = args[0] as DiscoverClustersInput;
    this.discoveries.push({ workflowType, input, workflowId });
    return this.answer(input);
  }
}

const eks = (name: string, region: string, tags?: Record<string, string>, roleArn?: string): DiscoveredCluster => ({
  name, suggestedName: name.toLowerCase(), region, version: '1.31', status: 'ACTIVE', ready: true,
  connection: { provider: 'eks', region, clusterName: name, ...(roleArn ? { roleArn } : {}) },
  ...(tags ? { tags } : {}),
});

const ACCOUNT = [
  eks('prod', 'eu-west-1', { Team: 'Payments', tier: 'prod', 'aws:cloudformation:stack-name': 'eks-prod' }, ROLE),
  eks('staging', 'eu-west-1', { tier: 'staging', 'Cost Center': 'R&D' }, ROLE),
  eks('analytics', 'eu-west-1', undefined, ROLE),
];

describe('cloud import through the API', () => {
  let api: TestApi;
  const worker = new FakeWorker();
  beforeAll(async () => {
    api = await startTestApi({ operations: worker });
  });
  afterAll(() => api.close());
  beforeEach(() => {
    worker.discoveries.length = 0;
    worker.answer = () => ACCOUNT;
  });

  const importEks = (body: unknown, token?: string) => api.request<ImportBody & ErrorBody>('POST', '/v1/providers/eks/import', { body, ...(token ? { token } : {}) });

  it('discover asks the worker, with the account as given (provider from the path), and lists what it found', async () => {
    worker.answer = () => [ACCOUNT[0]!];
    const res = await api.request<{ items: DiscoveredCluster[] }>('POST', '/v1/providers/eks/discover', { body: { regions: ['eu-west-1'], roleArn: ROLE } });
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([ACCOUNT[0]]);
    expect(worker.discoveries).toEqual([
      { workflowType: 'discoverClusters', input: { provider: 'eks', account: { regions: ['eu-west-1'], roleArn: ROLE } }, workflowId: expect.stringMatching(/^discover-eks-[0-9a-f-]{36}$/) },
    ]);
  });

  it.each([
    ['neither all nor names', { regions: ['eu-west-1'] }, 'names', 'required unless all is true (the clusters to import, by their name in the provider)'],
    ['both all and names', { all: true, names: ['prod'] }, 'names', 'give either all: true or names, not both'],
    ['a name twice', { names: ['prod', 'prod'] }, 'names[1]', '"prod" appears twice'],
    ['another provider\'s field', { all: true, project: 'acme-prod' }, 'project', 'unknown field'],
    ['a region that is not one', { all: true, regions: ['Europe'] }, 'regions[0]', 'is not an AWS region (e.g. eu-west-1)'],
    ['a role that is not an IAM role ARN', { all: true, roleArn: 'arn:aws:s3:::bucket' }, 'roleArn', 'is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)'],
    ['a tier that does not exist', { all: true, allowedTiers: ['qa'] }, 'allowedTiers[0]', expect.stringContaining('dev')],
    ['an empty list of names', { names: [] }, 'names', expect.stringContaining('>=1')],
  ])('refuses %s with 400 naming the field, before asking the worker', async (_what, body, path, message) => {
    const res = await importEks(body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.details).toEqual([{ path, message }]);
    expect(worker.discoveries).toEqual([]);
  });

  it('is for unscoped admins only: a scoped admin and an operator get 403, and the worker is not asked', async () => {
    for (const token of [await api.token('admin', ['dev']), await api.token('operator')]) {
      const res = await importEks({ all: true }, token);
      expect(res.status).toBe(403);
      expect((await api.request('POST', '/v1/providers/eks/discover', { body: {}, token })).status).toBe(403);
    }
    expect(worker.discoveries).toEqual([]);
  });

  it('refuses names the account does not have (422, each named), importing none', async () => {
    const res = await importEks({ names: ['prod', 'nope', 'gone'] });
    expect(res.status).toBe(422);
    expect(res.body.error).toEqual({
      code: 'invalid_reference',
      message: '2 cluster(s) not found in the account (it has: analytics, prod, staging)',
      details: [{ path: 'names[1]', message: 'no cluster of that name in the account' }, { path: 'names[2]', message: 'no cluster of that name in the account' }],
    });
    expect(await api.catalog.clusters.get('prod')).toBeUndefined();
  });

  it('imports the named clusters with labels from their tags and starts each onboarding; again, they are unchanged', async () => {
    const res = await importEks({ regions: ['eu-west-1'], roleArn: ROLE, names: ['prod', 'staging'], labels: { geo: 'eu' }, allowedTiers: ['dev'] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.results).toEqual([
      {
        name: 'prod', cloudName: 'prod', region: 'eu-west-1', action: 'created', operationId: 'onboard-prod',
        labels: { team: 'Payments', tier: 'prod', geo: 'eu', 'flotilla.dev/provider': 'eks', 'topology.kubernetes.io/region': 'eu-west-1' },
        skippedTags: [{ tag: 'aws:cloudformation:stack-name', reason: 'reserved for the cloud provider' }],
      },
      {
        name: 'staging', cloudName: 'staging', region: 'eu-west-1', action: 'created', operationId: 'onboard-staging',
        labels: { 'cost-center': 'R-D', tier: 'staging', geo: 'eu', 'flotilla.dev/provider': 'eks', 'topology.kubernetes.io/region': 'eu-west-1' },
      },
    ]);
    expect(worker.discoveries.map((d) => d.input)).toEqual([{ provider: 'eks', account: { regions: ['eu-west-1'], roleArn: ROLE } }]);
    expect(await api.catalog.clusters.require('prod')).toMatchObject({
      region: 'eu-west-1', status: 'onboarding', allowedTiers: ['dev'],
      connection: { provider: 'eks', region: 'eu-west-1', clusterName: 'prod', roleArn: ROLE },
    });
    const onboardings = worker.calls.filter((c) => c.workflowType === 'onboardCluster');
    expect(onboardings.map((c) => [c.workflowId, c.args])).toEqual([['onboard-prod', [{ cluster: 'prod' }]], ['onboard-staging', [{ cluster: 'staging' }]]]);

    // --all: the two already there are unchanged (no second onboarding), the third is new.
    const again = await importEks({ all: true, roleArn: ROLE });
    expect(again.status).toBe(200);
    expect(again.body.results.map((r) => [r.name, r.action, r.operationId])).toEqual([
      ['prod', 'unchanged', undefined], ['staging', 'unchanged', undefined], ['analytics', 'created', 'onboard-analytics'],
    ]);
    expect(worker.calls.filter((c) => c.workflowType === 'onboardCluster').map((c) => c.workflowId)).toEqual(['onboard-prod', 'onboard-staging', 'onboard-analytics']);
    const audit = (await api.catalog.audit.query({ action: 'cluster.import', result: 'ok' })).items.map((e) => [e.target, e.details?.results]);
    expect(audit).toContainEqual(['provider/eks', ['prod (prod): unchanged', 'staging (staging): unchanged', 'analytics (analytics): created']]);
  });

  it('refuses (409) a cluster whose name another cluster has, and imports none of the batch', async () => {
    expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster('batch') })).status).toBe(202);
    worker.answer = () => [eks('reports', 'us-east-1'), eks('batch', 'us-east-1')];
    const res = await importEks({ all: true });
    expect(res.status).toBe(409);
    expect(res.body.error).toEqual({
      code: 'name_taken', message: '1 cluster(s) cannot take their name; nothing was imported',
      details: [{ path: 'clusters.batch', message: '"batch" in us-east-1 would be registered as "batch", which is another cluster\'s name' }],
    });
    expect(await api.catalog.clusters.get('reports')).toBeUndefined();
  });

  it("answers the worker's refusals as the API's errors", async () => {
    worker.answer = () => {
      throw new WorkflowRunError('discover-x', 'eks discover: invalid request for: this worker has no eks adapter configured', 'ProviderNotConfigured');
    };
    const missing = await importEks({ all: true });
    expect(missing.status).toBe(422);
    expect(missing.body.error).toMatchObject({ code: 'provider_not_configured', message: 'eks discover: invalid request for: the worker has no eks adapter configured' });
    worker.answer = () => {
      throw new WorkflowRunError('discover-x', 'eks listClusters: throttled on region eu-west-1: Rate exceeded', 'Cloudthrottled');
    };
    const throttled = await api.request<ErrorBody>('POST', '/v1/providers/eks/discover', { body: {} });
    expect(throttled.status).toBe(503);
    expect(throttled.body.error).toMatchObject({ code: 'provider_unavailable', message: 'eks listClusters: throttled on region eu-west-1: Rate exceeded' });
  });

  it('is in the OpenAPI document', async () => {
    const doc = await api.request<{ paths: Record<string, { post?: { operationId: string } }> }>('GET', '/v1/openapi.json');
    expect(doc.body.paths['/v1/providers/{provider}/import']?.post?.operationId).toBe('importClusters');
  });
});
