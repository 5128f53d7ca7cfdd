// Stop and start through the in-process API (the starter records starts; schedules in memory):
// what is refused up front and how (the rules forbid stopping a tier, never deployed, already
// stopped, not stopped); a deploy or promotion into a stopped environment says so up front
// unless asked to keep it stopped; stop and start schedules name one environment or a tier.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigCluster, type RecordingStarter, startTestApi, type TestApi } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';
import { MemorySchedules } from '../../support/memory-schedules.js';

interface ErrorBody { error: { code: string; message: string; details?: { path: string; message: string }[] } }

describe('stop and start through the API', () => {
  let api: TestApi;
  const schedules = new MemorySchedules();
  const starts = () => (api.operations as RecordingStarter).calls;
  const deployed = async (name: string, tier: 'dev' | 'prod') => {
    expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name, tier, cluster: `${tier}-1` }) })).status).toBe(201);
    const { currentRevision } = await api.catalog.environments.require(name);
    await api.catalog.environments.markDeployed(name, { revision: currentRevision!, by: 'test' });
  };

  beforeAll(async () => {
    api = await startTestApi({ schedules });
    for (const [name, tier] of [['dev-1', 'dev'], ['prod-1', 'prod']] as const) {
      expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster(name, { tier }) })).status).toBe(202);
    }
    await deployed('shop-dev', 'dev');
    await deployed('shop-prod', 'prod');
    expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name: 'shop-new', tier: 'dev', cluster: 'dev-1' }) })).status).toBe(201);
  });
  afterAll(() => api.close());

  it('starts stopEnvironment under the lock; start is refused until it is stopped, stop once it is', async () => {
    expect((await api.request<ErrorBody>('POST', '/v1/environments/shop-dev/start')).body.error.code).toBe('not_stopped');
    const res = await api.request<{ operationId: string }>('POST', '/v1/environments/shop-dev/stop');
    expect(res.status).toBe(202);
    expect(starts().at(-1)).toMatchObject({ workflowType: 'stopEnvironment', workflowId: res.body.operationId, args: [{ environment: 'shop-dev', requestedBy: 'test-admin' }] });
    expect(await api.catalog.locks.heldBy(['shop-dev'])).toMatchObject([{ environment: 'shop-dev', operationId: res.body.operationId }]);

    await api.catalog.locks.release(res.body.operationId);
    await api.catalog.environments.setStopped('shop-dev', { at: '2026-12-07T20:00:00.000Z', by: 'test-admin', operationId: res.body.operationId, replicas: { 'Deployment/web': 3 } });
    const again = await api.request<ErrorBody>('POST', '/v1/environments/shop-dev/stop');
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'already_stopped', message: 'environment "shop-dev" is already stopped (since 2026-12-07T20:00:00.000Z, by test-admin)' });
    expect((await api.request<{ stopped?: unknown }>('GET', '/v1/environments/shop-dev')).body.stopped).toMatchObject({ replicas: { 'Deployment/web': 3 } });
  });

  it('an environment never deployed has nothing to stop (409)', async () => {
    expect((await api.request<ErrorBody>('POST', '/v1/environments/shop-new/stop')).body.error.code).toBe('not_deployed');
  });

  it('a deploy or promotion into a stopped environment is refused up front (409) unless keepStopped', async () => {
    const deploy = await api.request<ErrorBody>('POST', '/v1/environments/shop-dev/deploy', { body: {} });
    expect(deploy.status).toBe(409);
    expect(deploy.body.error.code).toBe('environment_stopped');
    expect(deploy.body.error.message).toBe('shop-dev is stopped: start it first (flotilla start), or deploy it stopped (keepStopped: true)');
    expect((await api.request('POST', '/v1/environments/shop-dev/deploy', { body: { keepStopped: true } })).status).toBe(202);

    const promotion = await api.request<ErrorBody>('POST', '/v1/promotions', { body: { source: 'shop-prod', stages: [{ name: 'dev', targets: ['shop-dev'] }] } });
    expect(promotion.status).toBe(409);
    expect(promotion.body.error.details).toEqual([{ path: 'stages', message: 'shop-dev is stopped' }]);
  });

  it('the rules may forbid stopping a tier (422), by hand and by schedule', async () => {
    expect((await api.request('PUT', '/v1/rules', { body: { forbidStop: { tiers: ['prod'] } } })).status).toBe(200);
    const res = await api.request<ErrorBody>('POST', '/v1/environments/shop-prod/stop');
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'stop_forbidden', message: "the organisation's rules forbid stopping prod environments (forbidStop)" });
    const scheduled = await api.request<ErrorBody>('POST', '/v1/schedules', { body: { id: 'prod-nights', kind: 'stop', tier: 'prod', cron: '0 20 * * 1-5' } });
    expect(scheduled.status).toBe(422);
    expect(scheduled.body.error.details).toEqual([{ path: 'tier', message: "the organisation's rules forbid stopping prod environments (forbidStop)" }]);
    expect((await api.request('PUT', '/v1/rules', { body: {} })).status).toBe(200);
  });

  it('a stop schedule names one environment or a tier, by cron with a time zone', async () => {
    const res = await api.request<{ id: string; kind: string; environment: string; cron: string; timezone: string; tiers: string[] }>('POST', '/v1/schedules', {
      body: { id: 'dev-nights', kind: 'stop', environment: 'shop-dev', cron: '0 20 * * 1-5', timezone: 'Europe/Paris' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ id: 'dev-nights', kind: 'stop', environment: 'shop-dev', cron: '0 20 * * 1-5', timezone: 'Europe/Paris', tiers: ['dev'] });
    expect(schedules.schedules.get('dev-nights')!.input).toEqual({ schedule: 'dev-nights', kind: 'stop', action: 'stop', environment: 'shop-dev', createdBy: 'test-admin' });

    const both = await api.request<ErrorBody>('POST', '/v1/schedules', { body: { id: 'x', kind: 'start', environment: 'shop-dev', tier: 'dev', cron: '0 8 * * 1-5' } });
    expect(both.status).toBe(400);
    expect(both.body.error.details).toEqual([{ path: 'environment', message: 'kind start needs exactly one of environment or tier' }]);
    const unknown = await api.request<ErrorBody>('POST', '/v1/schedules', { body: { id: 'y', kind: 'start', environment: 'nope', cron: '0 8 * * 1-5' } });
    expect(unknown.status).toBe(404);
    const cloneless = await api.request<ErrorBody>('POST', '/v1/schedules', { body: { id: 'z', kind: 'clone', every: '24h' } });
    expect(cloneless.status).toBe(400);
    expect(cloneless.body.error.details).toEqual([{ path: 'clone', message: 'kind clone needs clone' }]);
  });

  it('a dev-scoped operator may schedule stops of dev, not of prod', async () => {
    const devOperator = await api.token('operator', ['dev']);
    expect((await api.request('POST', '/v1/schedules', { token: devOperator, body: { id: 'dev-tier', kind: 'stop', tier: 'dev', cron: '0 20 * * *' } })).status).toBe(201);
    expect((await api.request('POST', '/v1/schedules', { token: devOperator, body: { id: 'prod-tier', kind: 'stop', tier: 'prod', cron: '0 20 * * *' } })).status).toBe(403);
  });
});
