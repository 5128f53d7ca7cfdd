// Tearing environments down (issue 13), through the API, on the real Temporal dev server, a
// worker process and a shared local cluster, with kubectl as the check: every object Flotilla
// created goes and objects of others stay; claims stay unless deleteData; the catalog entry
// goes and the audit stays; a teardown is refused (409) while a promotion involves the
// environment; a worker killed in the middle of one and the teardown still completes.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { kubectlWithInput } from '../../local/pod-logs.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { kubectl } from '../support/kubectl.js';
import { finishedOperation, startLiveApi, type LiveApi, until } from '../support/live-api.js';
import { shopSpec } from '../support/promotion-env.js';
import { tierClient } from '../support/tier-temporal.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

const [cluster] = inject('clusters');
const binary = inject('toolchain').kubectl;
const run = Math.random().toString(36).slice(2, 7);
const taskQueue = `teardown-${run}`;
const k = (args: string[]) => kubectl(binary, cluster!.kubeconfigPath, args);
const names = (out: string) => out.split('\n').filter(Boolean).sort();
/** Every kind Flotilla renders, and pods: what "labelled for it" covers. */
const RENDERED = 'deployments,statefulsets,services,configmaps,secrets,serviceaccounts,ingresses,jobs,pods';

interface Operation { id: string; state: string; outcome?: string; message?: string; temporal?: { pending?: { activity: string; progress?: unknown }[] } }

describe('teardown of an environment', () => {
  let tc: TestCatalog;
  let client: Client;
  let api: LiveApi;
  let worker: WorkerProcess;
  const volumes = [0, 1].map((i) => `teardown-${run}-${i}`);

  const startWorker = async () => {
    worker = startWorkerProcess({
      TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      FLOTILLA_TASK_QUEUE: taskQueue, FLOTILLA_CATALOG_URL: tc.url, FLOTILLA_MASTER_KEY: tc.masterKey,
    });
    await worker.ready;
  };

  const operation = async (id: string) => (await api.request<Operation>('GET', `/v1/operations/${id}`)).body;
  const finished = (id: string) => finishedOperation(api, id);

  /** Creates a staging environment on the cluster (with a container database when asked) and deploys it. */
  async function deployed(name: string, withDatabase = false): Promise<void> {
    const app = {
      ...shopSpec('1.0.0', ['web']),
      ...(withDatabase ? { databases: [{ name: 'orders-db', mode: 'container', engine: 'postgres', version: '16.4', storage: '1Gi' }] } : {}),
    };
    const created = await api.request('POST', '/v1/environments', {
      body: { apiVersion: 'flotilla.dev/v1', kind: 'Environment', metadata: { name }, spec: { application: 'shop', tier: 'staging', cluster: cluster!.name, app } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const started = await api.request<{ operationId: string }>('POST', `/v1/environments/${name}/deploy`, { body: {} });
    expect(started.status).toBe(202);
    const op = await finished(started.body.operationId);
    expect(op, JSON.stringify(op)).toMatchObject({ state: 'completed' });
  }

  const teardown = async (name: string, deleteData = false) => {
    const res = await api.request<{ operationId: string }>('DELETE', `/v1/environments/${name}${deleteData ? '?deleteData=true' : ''}`);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body.operationId;
  };
  const labelled = async (name: string) => names(await k(['get', RENDERED, '-n', name, '-l', `flotilla.dev/environment=${name}`, '-o', 'name']));
  const namespaceExists = async (name: string) => (await k(['get', 'namespace', name, '--ignore-not-found', '-o', 'name'])).trim() !== '';

  beforeAll(async () => {
    tc = await testCatalog([cluster!]);
    client = await tierClient();
    await startWorker();
    api = await startLiveApi(tc.catalog, client, taskQueue);
    // Volumes of this file's own for the claims of its databases: the shared cluster's pool
    // stays as it was (a deleted claim leaves its Retain volume Released, never reused).
    // Smaller than the pool's, so the binder picks these first.
    for (const pv of volumes) {
      await kubectlWithInput(binary, ['--kubeconfig', cluster!.kubeconfigPath, 'apply', '-f', '-'], JSON.stringify({
        apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: pv },
        spec: { capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: `/tmp/${pv}` } },
      }), `create PersistentVolume ${pv}`);
    }
  }, 180_000);
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await api?.close();
    await client?.connection.close();
    await tc?.close();
    await k(['delete', 'pv', ...volumes, '--ignore-not-found', '--wait=false']).catch(() => undefined);
  });

  it('is refused (409, naming the promotion) while a promotion involves the environment, as source or target', async () => {
    const [source, target] = [`td-src-${run}`, `td-dst-${run}`];
    await deployed(source);
    const created = await api.request('POST', '/v1/environments', {
      body: { apiVersion: 'flotilla.dev/v1', kind: 'Environment', metadata: { name: target }, spec: { application: 'shop', tier: 'staging', cluster: cluster!.name, app: shopSpec('1.0.0', ['web']) } },
    });
    expect(created.status).toBe(201);
    const promotion = await api.request<{ operationId: string }>('POST', '/v1/promotions', { body: { source, stages: [{ name: 'gate', targets: [target], approval: true }] } });
    expect(promotion.status).toBe(202);
    const id = promotion.body.operationId;
    await until('the promotion to wait for approval', async () => (await operation(id)).state === 'waiting', 60_000);

    for (const name of [source, target]) {
      const refused = await api.request<{ error: { code: string; message: string } }>('DELETE', `/v1/environments/${name}`);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('environment_involved');
      expect(refused.body.error.message).toContain(id);
    }
    expect(await labelled(source)).toContain('deployment.apps/web');

    expect((await api.request('POST', `/v1/operations/${id}/cancel`, { body: { reason: 'test' } })).status).toBe(202);
    await finished(id);
    expect((await finished(await teardown(source))).outcome).toBe('completed');
    expect((await finished(await teardown(target))).outcome).toBe('completed');
  }, 300_000);

  it('removes every object Flotilla created, leaves others\' objects and the claims (no deleteData), forgets the environment, keeps the audit', async () => {
    const name = `td-keep-${run}`;
    await deployed(name, true);
    await k(['create', 'configmap', 'theirs', '-n', name, '--from-literal=owner=team']);
    const claims = names(await k(['get', 'pvc', '-n', name, '-o', 'name']));
    expect(claims).toEqual(['persistentvolumeclaim/data-orders-db-0']);

    const op = await finished(await teardown(name));
    expect(op).toMatchObject({ state: 'completed', outcome: 'completed' });
    expect(op.message).toContain(`namespace ${name} kept`);

    expect(await labelled(name)).toEqual([]);
    expect(names(await k(['get', 'pvc', '-n', name, '-o', 'name']))).toEqual(claims);
    expect(names(await k(['get', 'configmap', 'theirs', '-n', name, '-o', 'name']))).toEqual(['configmap/theirs']);
    expect(await namespaceExists(name)).toBe(true);
    expect((await api.request('GET', `/v1/environments/${name}`)).status).toBe(404);
    const audit = await api.request<{ items: { action: string; operationId?: string }[] }>('GET', `/v1/audit?target=environment/${name}`);
    expect(audit.body.items.map((e) => e.action)).toEqual(expect.arrayContaining(['environment.teardown', 'environment.torn-down']));
    // Idempotent: the environment is gone, so a second request finds nothing to tear down.
    expect((await api.request('DELETE', `/v1/environments/${name}`)).status).toBe(404);
    await k(['delete', 'namespace', name, '--wait=false']);
  }, 300_000);

  it('with deleteData removes the claims too, and the namespace Flotilla created', async () => {
    const name = `td-data-${run}`;
    await deployed(name, true);
    const op = await finished(await teardown(name, true));
    expect(op, JSON.stringify(op)).toMatchObject({ state: 'completed', outcome: 'completed' });
    expect(await namespaceExists(name)).toBe(false);
  }, 300_000);

  it('completes after the worker is killed in the middle of it', async () => {
    const name = `td-kill-${run}`;
    await deployed(name);
    // Someone's finalizer holds the Deployment: the teardown waits for the cluster to confirm.
    await k(['patch', 'deployment', 'web', '-n', name, '--type', 'merge', '-p', '{"metadata":{"finalizers":["test.flotilla.dev/hold"]}}']);
    const id = await teardown(name);
    await until('the removal to wait for the cluster', async () => {
      const pending = (await operation(id)).temporal?.pending ?? [];
      return pending.some((p) => p.activity === 'removeEnvironmentObjects' && JSON.stringify(p.progress ?? '').includes('waiting'));
    }, 120_000);

    await worker.kill('SIGKILL');
    await k(['patch', 'deployment', 'web', '-n', name, '--type', 'json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    await startWorker();

    const op = await finished(id);
    expect(op).toMatchObject({ state: 'completed', outcome: 'completed' });
    expect(await namespaceExists(name)).toBe(false);
    expect((await api.request('GET', `/v1/environments/${name}`)).status).toBe(404);
  }, 300_000);
});
