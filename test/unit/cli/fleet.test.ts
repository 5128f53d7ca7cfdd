// flotilla get fleet / get drift / status / watch against the real in-process API over a catalog
// holding an observer's observations (written here at known values): the tables a person reads,
// -o json, and watch redrawing only when the fleet changed (ETag).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watch } from '../../../cli/commands/fleet.js';
import { commandContext } from '../../../cli/context.js';
import { EXIT } from '../../../cli/exit-codes.js';
import { run } from '../../../cli/program.js';
import type { ObjectDrift } from '../../../domain/drift.js';
import { kubeconfigCluster, startTestApi, type TestApi } from '../../support/api-server.js';
import { shopEnvironment } from '../../support/fixtures.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), readStdin: async () => '' } };
}

const scaled: ObjectDrift = {
  kind: 'Deployment', namespace: 'shop-prod', name: 'web', reason: 'modified',
  fields: [{ path: 'spec.replicas', expected: 2, actual: 5, changedBy: 'kubectl' }],
};

describe('flotilla fleet commands', { timeout: 60_000 }, () => {
  let api: TestApi;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    api = await startTestApi();
    for (const [name, labels] of [['prod-1', { tier: 'prod' }], ['dev-1', { tier: 'dev' }]] as const) {
      expect((await api.request('POST', '/v1/clusters', { body: kubeconfigCluster(name, labels) })).status).toBe(202);
      await api.catalog.clusters.updateStatus(name, { status: 'ready' });
    }
    expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name: 'shop-prod', tier: 'prod', cluster: 'prod-1' }) })).status).toBe(201);
    const now = new Date();
    const obs = api.catalog.observations;
    for (const c of ['prod-1', 'dev-1']) expect(await obs.acquireLease(c, 'obs', now.toISOString(), new Date(now.getTime() + 3_600_000).toISOString())).toBe(true);
    await obs.setReachability('obs', 'prod-1', { reachable: true, at: now.toISOString() });
    await obs.writeEnvironment('obs', {
      environment: 'shop-prod', cluster: 'prod-1', health: 'degraded', revision: 'abc123def456', drift: [scaled], at: now.toISOString(),
      services: [
        { service: 'web', desiredReplicas: 5, readyReplicas: 4, updatedReplicas: 5, restarts: 3, health: 'degraded', revision: 'abc123def456', drift: true, details: { kind: 'Deployment', problems: ['web-1/web: CrashLoopBackOff back-off 10s'] } },
        { service: 'api', desiredReplicas: 2, readyReplicas: 2, updatedReplicas: 2, restarts: 0, health: 'healthy', revision: 'abc123def456', drift: false },
      ],
    });
    await obs.setReachability('obs', 'dev-1', { reachable: false, at: now.toISOString(), message: 'connect ECONNREFUSED' });
    env = { FLOTILLA_SERVER: api.base, FLOTILLA_TOKEN: await api.token('viewer', undefined, 'vic') };
  });
  afterAll(async () => api?.close());

  it('get fleet: one row per environment, a row for an empty cluster, and a summary', async () => {
    const c = io();
    expect(await run(['get', 'fleet'], c.io, env), c.err.join('\n')).toBe(0);
    const text = c.out.join('\n');
    expect(text).toMatch(/CLUSTER\s+STATUS\s+ENVIRONMENT\s+TIER\s+HEALTH\s+DRIFT\s+READY\s+REVISION\s+OBSERVED/);
    expect(text).toMatch(/prod-1\s+ready\s+shop-prod\s+prod\s+degraded\s+1 object\(s\)\s+6\/7\s+abc123def456\s+live/);
    expect(text).toMatch(/dev-1\s+unreachable\s+-\s+.*stale/);
    expect(text).toContain('2 cluster(s), 1 unreachable; 1 environment(s): 0 healthy, 1 drifted, 0 stale');
    const selected = io();
    expect(await run(['get', 'fleet', '-l', 'tier=dev', '-o', 'json'], selected.io, env)).toBe(0);
    expect((JSON.parse(selected.out.join('\n')) as { clusters: { name: string }[] }).clusters.map((x) => x.name)).toEqual(['dev-1']);
  });

  it('get drift: each object with its difference and who made it', async () => {
    const c = io();
    expect(await run(['get', 'drift'], c.io, env)).toBe(0);
    expect(c.out.join('\n')).toMatch(/shop-prod\s+prod-1\s+Deployment\/web\s+spec\.replicas: 2 → 5 \(by kubectl\)/);
  });

  it('status: the services, their problems and the drift', async () => {
    const c = io();
    expect(await run(['status', 'shop-prod'], c.io, env)).toBe(0);
    const text = c.out.join('\n');
    expect(text).toContain('Health:       degraded');
    expect(text).toMatch(/web\s+degraded\s+4\/5\s+5\s+3\s+abc123def456\s+yes/);
    expect(text).toContain('! web: web-1/web: CrashLoopBackOff back-off 10s');
    expect(text).toContain('Deployment/web: spec.replicas: 2 → 5 (by kubectl)');
    const missing = io();
    expect(await run(['status', 'nope'], missing.io, env)).toBe(EXIT.notFound);
  });

  it('watch: redraws when the fleet changes, not when it does not', async () => {
    const c = io();
    const ctx = commandContext(c.io, env);
    const watching = watch(ctx, {}, { intervalMs: 100, rounds: 6 });
    await new Promise((r) => setTimeout(r, 250));
    await api.catalog.observations.setReachability('obs', 'dev-1', { reachable: true, at: new Date().toISOString() });
    await watching;
    // The first screen, then one more after the change: six rounds, two screens.
    expect(c.out).toHaveLength(2);
    expect(c.out[0]).toContain('1 unreachable');
    expect(c.out[1]).toContain('0 unreachable');
  });
});
