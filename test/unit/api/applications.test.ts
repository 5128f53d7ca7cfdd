// Applications written once (issue 13), through the API with its in-process app (the starter
// records starts): environments name an Application and give only their binding and
// overrides; a changed Application moves the environments that track it (and deploys those
// that run) and leaves those that change by promotion; bad references are 4xx naming the field;
// an environment made from another starts at the revision the source runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigCluster, type RecordingStarter, startTestApi, type TestApi } from '../../support/api-server.js';

interface ErrorBody { error: { code: string; message: string; details?: { path: string; message: string }[] } }
interface ApplyBody { results: { kind: string; name: string; action: string; operationId?: string; revision?: string; message?: string }[] }
interface EnvView { name: string; updates: string; currentRevision?: string; deployed?: { revision: string } }

const app = (image: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'flotilla.dev/v1', kind: 'Application', metadata: { name: 'shop' },
  spec: {
    services: [{ name: 'web', image, ports: [{ port: 8080 }], resources: { limits: { cpu: '500m', memory: '256Mi' } } }],
    config: { 'public-url': 'https://dev.shop.example' },
    environmentConfig: ['public-url'],
    ...extra,
  },
});
const env = (name: string, tier: string, cluster: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'flotilla.dev/v1', kind: 'Environment', metadata: { name }, spec: { application: 'shop', tier, cluster, ...spec },
});

describe('Applications', () => {
  let api: TestApi;
  const apply = (docs: unknown[]) => api.request<ApplyBody & ErrorBody>('POST', '/v1/apply', { body: docs });
  const get = async (name: string) => (await api.request<EnvView>('GET', `/v1/environments/${name}`)).body;
  const starts = () => (api.operations as RecordingStarter).calls;

  beforeAll(async () => {
    api = await startTestApi();
    for (const [name, tier] of [['dev-1', 'dev'], ['prod-1', 'prod']] as const) {
      expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster(name, { tier }) })).status).toBe(202);
    }
  });
  afterAll(() => api.close());

  it('is written once: environments name it; dev tracks it and prod changes by promotion (by tier, or as they say)', async () => {
    const res = await apply([app('ghcr.io/acme/web:1.0.0'), env('shop-dev', 'dev', 'dev-1'), env('shop-prod', 'prod', 'prod-1', { overrides: { config: { 'public-url': 'https://shop.example' } } })]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.results.map((r) => `${r.kind}/${r.name}: ${r.action}`)).toEqual(['Application/shop: created', 'Environment/shop-dev: created', 'Environment/shop-prod: created']);
    const [application, dev, prod] = res.body.results;
    expect(dev!.revision).toBe(application!.revision);
    expect(prod!.revision).toBe(application!.revision);
    expect((await get('shop-dev')).updates).toBe('track');
    expect((await get('shop-prod')).updates).toBe('promotion');

    const listed = await api.request<{ items: { name: string; environments: { name: string; updates: string }[] }[] }>('GET', '/v1/applications');
    expect(listed.body.items).toEqual([expect.objectContaining({
      name: 'shop', currentRevision: application!.revision,
      environments: [expect.objectContaining({ name: 'shop-dev', updates: 'track' }), expect.objectContaining({ name: 'shop-prod', updates: 'promotion' })],
    })]);
  });

  it('a changed application moves the tracking environment on apply, not the one that changes by promotion', async () => {
    const prodBefore = (await get('shop-prod')).currentRevision;
    const res = await apply([app('ghcr.io/acme/web:1.1.0')]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const revision = res.body.results[0]!.revision;
    expect(res.body.results).toEqual([{ kind: 'Application', name: 'shop', action: 'configured', revision }]);
    expect((await get('shop-dev')).currentRevision).toBe(revision);
    expect((await get('shop-prod')).currentRevision).toBe(prodBefore);
    // Applying the same again changes nothing.
    expect((await apply([app('ghcr.io/acme/web:1.1.0')])).body.results).toEqual([{ kind: 'Application', name: 'shop', action: 'unchanged', revision }]);
  });

  it('deploys the change to a tracking environment that runs (one never deployed waits for its first deploy)', async () => {
    const dev = await get('shop-dev');
    await api.catalog.environments.markDeployed('shop-dev', { revision: dev.currentRevision!, by: 'test' });
    const before = starts().length;
    const res = await apply([app('ghcr.io/acme/web:1.2.0')]);
    expect(res.status).toBe(200);
    const deployed = res.body.results.find((r) => r.name === 'shop-dev');
    expect(deployed).toMatchObject({ kind: 'Environment', action: 'deploying', operationId: expect.stringMatching(/^deploy-shop-dev-/) as unknown });
    expect(starts().slice(before)).toEqual([expect.objectContaining({
      workflowType: 'deployEnvironment', workflowId: deployed!.operationId, args: [expect.objectContaining({ environment: 'shop-dev', requestedBy: 'test-admin' })],
    })]);
    // The deploy holds the environment: the next change is applied, and says why it was not deployed.
    const next = await apply([app('ghcr.io/acme/web:1.3.0')]);
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expect(next.body.results.find((r) => r.name === 'shop-dev')).toMatchObject({ action: 'configured', message: expect.stringContaining('not deployed') as unknown });
  });

  it('refuses an environment naming no Application (422 at spec.application), an inline app beside one (422 at spec.app), and updates with an inline app (400)', async () => {
    const missing = await apply([{ ...env('x-dev', 'dev', 'dev-1'), spec: { ...env('x-dev', 'dev', 'dev-1').spec, application: 'nope' } }]);
    expect(missing.status).toBe(422);
    expect(missing.body.error.details).toEqual([{ path: 'spec.application', message: 'no such application' }]);

    const inline = await apply([env('y-dev', 'dev', 'dev-1', { app: app('ghcr.io/acme/web:1.0.0').spec })]);
    expect(inline.status).toBe(422);
    expect(inline.body.error.details).toEqual([{ path: 'spec.app', message: 'application "shop" has an Application document: remove spec.app' }]);

    const both = await apply([{ ...env('z-dev', 'dev', 'dev-1', { app: app('ghcr.io/acme/web:1.0.0').spec, updates: 'track' }), spec: { ...env('z-dev', 'dev', 'dev-1').spec, application: 'other', app: app('ghcr.io/acme/web:1.0.0').spec, updates: 'track' } }]);
    expect(both.status).toBe(400);
    expect(both.body.error.details).toEqual([{ path: 'spec.updates', message: 'only for an environment of an Application (without spec.app): an inline app changes with its own document' }]);
    expect(await api.catalog.environments.get('x-dev')).toBeUndefined();
  });

  it('checks overrides against the application (400 naming the document and field), writing nothing', async () => {
    const res = await apply([app('ghcr.io/acme/web:1.3.0'), env('w-dev', 'dev', 'dev-1', { overrides: { replicas: { nope: 2 } } })]);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'documents[1].spec.overrides.replicas.nope', message: 'service "nope" is not in the spec' }]);
    expect(await api.catalog.environments.get('w-dev')).toBeUndefined();
  });

  it('a changed application that breaks a rule for a tracking environment is refused (422), nothing written', async () => {
    expect((await api.request('PUT', '/v1/rules', { body: { forbidLatestTag: {} } })).status).toBe(200);
    const before = (await get('shop-dev')).currentRevision;
    const res = await apply([app('ghcr.io/acme/web:latest')]);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('rule_violations');
    expect((await get('shop-dev')).currentRevision).toBe(before);
    expect((await api.request('PUT', '/v1/rules', { body: {} })).status).toBe(200);
  });

  it("an environment's own spec is the application's: PUT spec is refused (409)", async () => {
    const res = await api.request<ErrorBody>('PUT', '/v1/environments/shop-dev/spec', { body: app('ghcr.io/acme/web:9.9.9').spec });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('spec_from_application');
  });

  it('env create --from: the same application, its own binding, at the revision the source runs', async () => {
    const notDeployed = await api.request<ErrorBody>('POST', '/v1/environments/shop-prod/copies', { body: { name: 'shop-prod-2', cluster: 'prod-1' } });
    expect(notDeployed.status).toBe(409);
    expect(notDeployed.body.error.code).toBe('not_deployed');

    const dev = await get('shop-dev');
    const res = await api.request<EnvView & { tier: string; cluster: string; namespace: string; application: string }>('POST', '/v1/environments/shop-dev/copies', {
      body: { name: 'shop-prod-eu', cluster: 'prod-1', tier: 'prod' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      name: 'shop-prod-eu', application: 'shop', tier: 'prod', cluster: 'prod-1', namespace: 'shop-prod-eu', updates: 'promotion', currentRevision: dev.deployed!.revision,
    });
    expect(res.body.deployed).toBeUndefined();
    const taken = await api.request<ErrorBody>('POST', '/v1/environments/shop-dev/copies', { body: { name: 'shop-prod-eu2', cluster: 'prod-1', tier: 'prod', namespace: 'shop-prod-eu' } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.details).toEqual([expect.objectContaining({ path: 'namespace' })]);
  });

  it('an application in use is not removed (409); an unknown one is 404', async () => {
    expect((await api.request<ErrorBody>('DELETE', '/v1/applications/shop')).body.error.code).toBe('application_in_use');
    expect((await api.request('DELETE', '/v1/applications/nope')).status).toBe(404);
  });
});
