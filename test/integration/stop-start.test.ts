// Stopping and starting an environment (issue 13) on the real Temporal dev server (its
// Schedules too) and a shared local cluster, kubectl as the check: a stop scales every workload
// to zero; a deploy asked to keep it stopped leaves it at zero; a start brings each back to
// exactly what it ran, overrides included, without a new rollout; a schedule fires a stop (a triggered run) and a start (its own timer), and a paused
// one does not.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { activityDeps } from '../../worker/deps.js';
import { runFlotillaWorker, type RunningWorker } from '../../worker/worker.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { kubectl } from '../support/kubectl.js';
import { finishedOperation, startLiveApi, type LiveApi, until } from '../support/live-api.js';
import { shopSpec } from '../support/promotion-env.js';
import { pastNextDueTime } from '../support/wait.js';
import { tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';

const [cluster] = inject('clusters');
const binary = inject('toolchain').kubectl;
const run = Math.random().toString(36).slice(2, 7);
const taskQueue = `stop-start-${run}`;
const env = `stop-${run}`;

interface EnvView { stopped?: { replicas: Record<string, number> } }

describe('stop and start', () => {
  let tc: TestCatalog;
  let client: Client;
  let worker: RunningWorker;
  let api: LiveApi;
  const schedules: string[] = [];

  const k = (args: string[]) => kubectl(binary, cluster!.kubeconfigPath, args);
  /** Replicas per Deployment, and the ReplicaSet each runs (a new one would mean a new rollout). */
  const workloads = async () => (await k(['get', 'deployments', '-n', env, '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.replicas} {end}'])).trim().split(' ').sort().join(' ');
  const replicaSets = async () => (await k(['get', 'replicasets', '-n', env, '-o', 'name'])).split('\n').filter(Boolean).sort();
  const finished = (id: string) => finishedOperation(api, id);
  const act = async (action: 'stop' | 'start') => {
    const res = await api.request<{ operationId: string }>('POST', `/v1/environments/${env}/${action}`, { body: {} });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return finished(res.body.operationId);
  };
  const stopped = async () => (await api.request<EnvView>('GET', `/v1/environments/${env}`)).body.stopped;

  beforeAll(async () => {
    tc = await testCatalog([cluster!]);
    client = await tierClient();
    worker = await runFlotillaWorker({ address: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue, deps: activityDeps({ catalog: tc.catalog, adapters: {} }), workflowBundle: tierWorkflowBundle() });
    api = await startLiveApi(tc.catalog, client, taskQueue);
    const created = await api.request('POST', '/v1/environments', {
      body: {
        apiVersion: 'flotilla.dev/v1', kind: 'Environment', metadata: { name: env },
        spec: { application: 'shop', tier: 'staging', cluster: cluster!.name, app: shopSpec('1.0.0', ['web', 'api']), overrides: { replicas: { web: 3 } } },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const deploy = await api.request<{ operationId: string }>('POST', `/v1/environments/${env}/deploy`, { body: {} });
    expect(await finished(deploy.body.operationId)).toMatchObject({ state: 'completed' });
  }, 240_000);
  afterAll(async () => {
    for (const id of schedules) await api.request('DELETE', `/v1/schedules/${id}`).catch(() => undefined);
    await api?.close();
    await worker?.stop();
    await client?.connection.close();
    await tc?.close();
    await k(['delete', 'namespace', env, '--wait=false', '--ignore-not-found']).catch(() => undefined);
  });

  it('stop scales every workload to zero; start brings each back exactly (overrides included), without a new rollout', async () => {
    expect(await workloads()).toBe('api=1 web=3');
    const before = await replicaSets();

    expect(await act('stop')).toMatchObject({ state: 'completed', outcome: 'completed' });
    expect(await workloads()).toBe('api=0 web=0');
    expect(await stopped()).toMatchObject({ replicas: { 'Deployment/web': 3, 'Deployment/api': 1 } });
    await until('no pod left', async () => (await k(['get', 'pods', '-n', env, '-o', 'name'])).trim() === '', 60_000);

    // A deploy into it is refused up front, unless asked to keep it stopped: then it stays at zero.
    expect((await api.request('POST', `/v1/environments/${env}/deploy`, { body: {} })).status).toBe(409);
    const kept = await api.request<{ operationId: string }>('POST', `/v1/environments/${env}/deploy`, { body: { keepStopped: true } });
    expect(kept.status).toBe(202);
    expect(await finished(kept.body.operationId)).toMatchObject({ state: 'completed' });
    expect(await workloads()).toBe('api=0 web=0');

    expect(await act('start')).toMatchObject({ state: 'completed', outcome: 'completed' });
    expect(await workloads()).toBe('api=1 web=3');
    expect(await replicaSets()).toEqual(before);
    expect(await stopped()).toBeUndefined();
  }, 300_000);

  it('a schedule fires a stop (a triggered run) and a start (its own timer); a paused one does not', async () => {
    const create = async (body: Record<string, unknown>) => {
      const res = await api.request('POST', '/v1/schedules', { body });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      schedules.push(body.id as string);
    };
    await create({ id: `nightly-stop-${run}`, kind: 'stop', environment: env, cron: '0 20 * * 1-5', timezone: 'Europe/Paris' });
    expect((await api.request('POST', `/v1/schedules/nightly-stop-${run}/trigger`, { body: {} })).status).toBe(200);
    await until('the scheduled stop', async () => (await stopped()) !== undefined && (await workloads()) === 'api=0 web=0', 60_000);

    await create({ id: `start-${run}`, kind: 'start', environment: env, every: '10s', paused: true });
    // Its first due time passes (and 5 s more, in which it would have started), paused.
    await pastNextDueTime(10, 5_000);
    expect((await api.request<{ runs: number }>('GET', `/v1/schedules/start-${run}`)).body.runs).toBe(0);
    expect(await workloads()).toBe('api=0 web=0');

    expect((await api.request('POST', `/v1/schedules/start-${run}/unpause`, { body: {} })).status).toBe(200);
    await until('the scheduled start', async () => (await stopped()) === undefined && (await workloads()) === 'api=1 web=3', 60_000);
  }, 300_000);
});
