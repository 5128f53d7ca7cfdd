// GET /v1/fleet, /v1/drift and /v1/environments/{name}/status over what an observer wrote to
// the catalog (observations written here directly, at known times): health, drift, staleness
// with its age, filters, ETags; and the leases that keep two observers off one cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectDrift } from '../../../domain/drift.js';
import { LeaseLostError } from '../../../store/observations.js';
import { kubeconfigCluster, startTestApi, type TestApi } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';

const T0 = Date.parse('2026-12-06T12:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

interface FleetEnv { name: string; health: string; drifted: boolean; driftedObjects: number; stale: boolean; ageSeconds?: number; liveRevision?: string; services: { service: string; readyReplicas: number }[] }
interface FleetCluster { name: string; status: string; reachability: { state: string; since?: string; message?: string }; stale: boolean; ageSeconds?: number; environments: FleetEnv[] }
interface Fleet { clusters: FleetCluster[]; summary: Record<string, number> }

const scaled: ObjectDrift = {
  kind: 'Deployment', namespace: 'shop-prod', name: 'web', reason: 'modified',
  fields: [{ path: 'spec.replicas', expected: 2, actual: 5, changedBy: 'kubectl', changedAt: at(-30) }],
};

describe('the fleet view', () => {
  let api: TestApi;
  let now = new Date(T0);
  const fleet = async (query = '') => (await api.request<Fleet>('GET', `/v1/fleet${query}`)).body;
  const cluster = (f: Fleet, name: string) => f.clusters.find((c) => c.name === name);

  beforeAll(async () => {
    api = await startTestApi({ now: () => now });
    for (const [name, labels] of [['prod-1', { tier: 'prod', geo: 'eu' }], ['dev-1', { tier: 'dev', geo: 'us' }]] as const) {
      expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster(name, labels) })).status).toBe(202);
      await api.catalog.clusters.updateStatus(name, { status: 'ready' });
    }
    for (const [name, tier, on] of [['shop-prod', 'prod', 'prod-1'], ['shop-dev', 'dev', 'dev-1']] as const) {
      expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name, tier, cluster: on }) })).status).toBe(201);
    }
    const { observations } = api.catalog;
    // The observer's clock is the wall clock; its leases must outlast the test's fixed "now".
    const until = new Date(Date.now() + 3_600_000).toISOString();
    for (const c of ['prod-1', 'dev-1']) expect(await observations.acquireLease(c, 'obs-1', new Date().toISOString(), until)).toBe(true);
    await observations.setReachability('obs-1', 'prod-1', { reachable: true, at: at(-2) });
    await observations.writeEnvironment('obs-1', {
      environment: 'shop-prod', cluster: 'prod-1', health: 'healthy', revision: 'abc123', drift: [scaled], at: at(-2),
      services: [{ service: 'web', desiredReplicas: 5, readyReplicas: 5, updatedReplicas: 5, restarts: 1, health: 'healthy', revision: 'abc123', drift: true }],
    });
    await observations.setReachability('obs-1', 'dev-1', { reachable: true, at: at(-60) });
    await observations.writeEnvironment('obs-1', {
      environment: 'shop-dev', cluster: 'dev-1', health: 'progressing', revision: 'def456', drift: [], at: at(-60),
      services: [{ service: 'web', desiredReplicas: 1, readyReplicas: 0, updatedReplicas: 1, restarts: 0, health: 'progressing', drift: false }],
    });
    await observations.setReachability('obs-1', 'dev-1', { reachable: false, at: at(-40), message: 'no answer within 2000 ms' });
  });
  afterAll(async () => api?.close());

  it('shows clusters × environments × services with health, drift and the live revision', async () => {
    const f = await fleet();
    expect(cluster(f, 'prod-1')).toMatchObject({
      status: 'ready', reachability: { state: 'reachable', lastSeenAt: at(-2) }, stale: false,
      environments: [{ name: 'shop-prod', health: 'healthy', drifted: true, driftedObjects: 1, liveRevision: 'abc123', stale: false, services: [{ service: 'web', readyReplicas: 5, restarts: 1, drift: true }] }],
    });
    expect(f.summary).toEqual({ clusters: 2, unreachable: 1, environments: 2, healthy: 0, drifted: 1, stale: 1 });
  });

  it('keeps an unreachable cluster\'s last state, marked stale with its age', async () => {
    const dev = cluster(await fleet(), 'dev-1')!;
    // Last answer 60 s before "now".
    expect(dev).toMatchObject({ status: 'unreachable', reachability: { state: 'unreachable', since: at(-40), message: 'no answer within 2000 ms' }, stale: true, ageSeconds: 60 });
    expect(dev.environments[0]).toMatchObject({ name: 'shop-dev', health: 'progressing', stale: true, ageSeconds: 60, services: [{ service: 'web', readyReplicas: 0 }] });
  });

  it('calls a reachable cluster stale when nobody has observed it for over 15 s', async () => {
    try {
      // Last seen 2 s before T0: 14 s ago, then 22 s ago.
      now = new Date(T0 + 12_000);
      expect(cluster(await fleet(), 'prod-1')).toMatchObject({ stale: false });
      now = new Date(T0 + 20_000);
      expect(cluster(await fleet(), 'prod-1')).toMatchObject({ stale: true, ageSeconds: 22, reachability: { state: 'reachable' } });
    } finally {
      now = new Date(T0);
    }
  });

  it('filters by cluster labels, tier, application and health', async () => {
    expect((await fleet('?selector=tier=prod,geo=eu')).clusters.map((c) => c.name)).toEqual(['prod-1']);
    expect((await fleet('?selector=geo=mars')).clusters).toEqual([]);
    expect((await fleet('?tier=dev')).clusters.map((c) => c.name)).toEqual(['dev-1']);
    expect((await fleet('?health=drifted')).clusters.flatMap((c) => c.environments.map((e) => e.name))).toEqual(['shop-prod']);
    expect((await fleet('?health=stale')).clusters.flatMap((c) => c.environments.map((e) => e.name))).toEqual(['shop-dev']);
    expect((await fleet('?application=nope')).clusters).toEqual([]);
  });

  it('refuses a bad filter with 400 naming it', async () => {
    for (const [query, field] of [['?selector=tier', 'selector'], ['?health=fine', 'health'], ['?tier=moon', 'tier'], ['?colour=red', 'colour']] as const) {
      const res = await api.request<{ error: { code: string; details: { path?: string; field?: string }[] } }>('GET', `/v1/fleet${query}`);
      expect(res.status, query).toBe(400);
      expect(JSON.stringify(res.body.error.details), query).toContain(field);
    }
  });

  it('answers 304 to an unchanged ETag, and a new ETag once something changed', async () => {
    const first = await api.request('GET', '/v1/fleet');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    const again = await api.request('GET', '/v1/fleet', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    await api.catalog.observations.setReachability('obs-1', 'dev-1', { reachable: true, at: at(0) });
    const changed = await api.request('GET', '/v1/fleet', { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    await api.catalog.observations.setReachability('obs-1', 'dev-1', { reachable: false, at: at(-40), message: 'no answer within 2000 ms' });
  });

  it('lists drift with its fields, and an environment\'s status with it', async () => {
    const drift = await api.request<{ items: unknown[] }>('GET', '/v1/drift');
    expect(drift.body.items).toEqual([{ environment: 'shop-prod', cluster: 'prod-1', application: 'shop', tier: 'prod', since: at(-2), stale: false, objects: [scaled] }]);
    expect((await api.request<{ items: unknown[] }>('GET', '/v1/drift?tier=dev')).body.items).toEqual([]);
    const status = await api.request('GET', '/v1/environments/shop-prod/status');
    expect(status.body).toMatchObject({ name: 'shop-prod', cluster: 'prod-1', health: 'healthy', reachability: { state: 'reachable' }, drift: [scaled], driftSince: at(-2) });
    expect((await api.request('GET', '/v1/environments/nope/status')).status).toBe(404);
  });

  it('shows an environment nobody has observed yet as unknown', async () => {
    expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name: 'shop-new', tier: 'prod', cluster: 'prod-1' }) })).status).toBe(201);
    const env = cluster(await fleet(), 'prod-1')!.environments.find((e) => e.name === 'shop-new');
    expect(env).toMatchObject({ health: 'unknown', drifted: false, services: [] });
  });
});

describe('observer leases', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
    expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster('c-1', { tier: 'prod' }) })).status).toBe(202);
    expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name: 'shop-c', tier: 'prod', cluster: 'c-1' }) })).status).toBe(201);
  });
  afterAll(async () => api?.close());

  it('moves an environment\'s and a service\'s changedAt only when something of it changed', async () => {
    const { observations, status } = api.catalog;
    expect(await observations.acquireLease('c-1', 'w', at(100), at(200))).toBe(true);
    const web = { service: 'web', desiredReplicas: 2, readyReplicas: 1, updatedReplicas: 2, restarts: 0, health: 'progressing' as const, drift: false };
    const snapshot = { environment: 'shop-c', cluster: 'c-1', health: 'progressing' as const, drift: [] };
    await observations.writeEnvironment('w', { ...snapshot, services: [web], at: at(101) });
    await observations.writeEnvironment('w', { ...snapshot, services: [web], at: at(102) });
    expect(await status.forEnvironment('shop-c')).toMatchObject([{ service: 'web', observedAt: at(102), changedAt: at(101) }]);
    expect(await observations.environment('shop-c')).toMatchObject({ observedAt: at(102), changedAt: at(101) });
    await observations.writeEnvironment('w', { ...snapshot, health: 'healthy', services: [{ ...web, readyReplicas: 2, health: 'healthy' }], at: at(103) });
    expect(await status.forEnvironment('shop-c')).toMatchObject([{ service: 'web', readyReplicas: 2, changedAt: at(103) }]);
    expect(await observations.environment('shop-c')).toMatchObject({ health: 'healthy', changedAt: at(103) });
    await observations.releaseLeases('w');
  });

  it('lets one holder write a cluster until its lease lapses, then the next', async () => {
    const { observations } = api.catalog;
    expect(await observations.acquireLease('c-1', 'a', at(0), at(15))).toBe(true);
    expect(await observations.acquireLease('c-1', 'b', at(5), at(20))).toBe(false);
    // The holder renews its own.
    expect(await observations.acquireLease('c-1', 'a', at(10), at(25))).toBe(true);
    const snapshot = { environment: 'shop-c', cluster: 'c-1', health: 'healthy' as const, drift: [], services: [] };
    await expect(observations.writeEnvironment('b', { ...snapshot, at: at(11) })).rejects.toBeInstanceOf(LeaseLostError);
    await expect(observations.setReachability('b', 'c-1', { reachable: true, at: at(11) })).rejects.toBeInstanceOf(LeaseLostError);
    await observations.writeEnvironment('a', { ...snapshot, at: at(11) });
    // Lapsed at 25 s: b takes it, and a may write no more.
    expect(await observations.acquireLease('c-1', 'b', at(26), at(41))).toBe(true);
    await expect(observations.writeEnvironment('a', { ...snapshot, at: at(27) })).rejects.toBeInstanceOf(LeaseLostError);
    expect(await observations.leases()).toEqual([{ cluster: 'c-1', holder: 'b', expiresAt: at(41) }]);
    await observations.releaseLeases('b');
    expect(await observations.leases()).toEqual([]);
  });
});
