// Operations start real workflows: the API, over a real SQLite catalog, starts onboardCluster
// and deployEnvironment on the real Temporal dev server; the temporal CLI then sees them, and
// the kubeconfig never travels in a workflow input. A deploy holds its environment: a second one
// is refused (409 naming it) while it runs, and takes over once Temporal says it ended.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { temporalStarter } from '../../api/temporal.js';
import { kubeconfigCluster, startTestApi, type TestApi, testKubeconfig } from '../support/api-server.js';
import { shopEnvironment } from '../support/fixtures.js';
import { decryptHistory, tierClient } from '../support/tier-temporal.js';

const run = promisify(execFile);
const address = inject('temporalAddress');
const namespace = inject('temporalNamespace');
const temporal = inject('toolchain').temporal;
// No worker polls this queue: the runs stay open for the checks below, then are terminated.
const taskQueue = `api-operations-${Date.now()}`;
const suffix = Math.random().toString(36).slice(2, 7);

async function describeWorkflow(id: string): Promise<{ workflowExecutionInfo: { type: { name: string }; status: string; taskQueue: string } }> {
  const { stdout } = await run(temporal, ['workflow', 'describe', '--address', address, '--namespace', namespace, '-w', id, '-o', 'json']);
  return JSON.parse(stdout);
}

/** The run's history as the temporal CLI shows it, its encrypted payloads decrypted with the tier's key ring. */
async function history(id: string): Promise<string> {
  const { stdout } = await run(temporal, ['workflow', 'show', '--address', address, '--namespace', namespace, '-w', id, '-o', 'json'], { maxBuffer: 16 * 1024 * 1024 });
  return JSON.stringify(await decryptHistory(JSON.parse(stdout) as unknown));
}

/** Workflow inputs are base64 payloads in the history: decode every one. */
function decodedPayloads(historyJson: string): string {
  const out: string[] = [];
  JSON.stringify(JSON.parse(historyJson), (key, value: unknown) => {
    if (key === 'data' && typeof value === 'string') out.push(Buffer.from(value, 'base64').toString('utf8'));
    return value;
  });
  return out.join('\n');
}

describe('API operations on the real Temporal dev server', () => {
  let api: TestApi;
  let client: Client;
  const started: string[] = [];
  beforeAll(async () => {
    client = await tierClient();
    api = await startTestApi({ operations: temporalStarter(client, taskQueue) });
  });
  afterAll(async () => {
    for (const id of started) await client.workflow.getHandle(id).terminate('test done').catch(() => undefined);
    await api?.close();
    await client?.connection.close();
  });

  it('registering a cluster starts onboardCluster with the cluster name only', async () => {
    const cluster = `api-it-${suffix}`;
    const credential = `kc-it-${suffix}-credential`;
    const res = await api.request<{ operationId: string }>('POST', '/v1/clusters', { body: kubeconfigCluster(cluster, { tier: 'dev' }, testKubeconfig(cluster, credential)) });
    expect(res.status).toBe(202);
    expect(res.body.operationId).toBe(`onboard-${cluster}`);
    started.push(res.body.operationId);

    const described = await describeWorkflow(res.body.operationId);
    expect(described.workflowExecutionInfo.type.name).toBe('onboardCluster');
    expect(described.workflowExecutionInfo.status).toMatch(/RUNNING/);
    const payloads = decodedPayloads(await history(res.body.operationId));
    expect(JSON.parse(payloads.split('\n')[0]!)).toEqual({ cluster });
    expect(payloads).not.toContain(credential);

    // GET /v1/operations/{id} reads Temporal's describe and the index together.
    const op = await api.request<{ kind: string; state: string; temporal: { type: string; status: string } }>('GET', `/v1/operations/${res.body.operationId}`);
    expect(op.body).toMatchObject({ kind: 'onboarding', state: 'running', temporal: { type: 'onboardCluster', status: 'RUNNING' } });

    // A second registration while onboarding runs is a conflict, and leaves no cluster behind
    // (the catalog entry removed by hand: DELETE would offboard it).
    await api.catalog.clusters.remove(cluster);
    const again = await api.request<{ error: { code: string } }>('POST', '/v1/clusters', { body: kubeconfigCluster(cluster) });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('operation_running');
    expect(await api.catalog.clusters.get(cluster)).toBeUndefined();
  });

  it('deploying starts deployEnvironment by type name with environment, revision and requester', async () => {
    const cluster = `api-it-d-${suffix}`;
    started.push((await api.request<{ operationId: string }>('POST', '/v1/clusters', { body: kubeconfigCluster(cluster, { tier: 'dev' }) })).body.operationId);
    const name = `shop-${suffix}`;
    expect((await api.request('POST', '/v1/environments', { body: shopEnvironment({ name, cluster, tier: 'dev' }) })).status).toBe(201);
    const res = await api.request<{ operationId: string }>('POST', `/v1/environments/${name}/deploy`, { headers: { 'idempotency-key': `it-${suffix}` } });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/v1/operations/${res.body.operationId}`);
    started.push(res.body.operationId);
    const described = await describeWorkflow(res.body.operationId);
    expect(described.workflowExecutionInfo.type.name).toBe('deployEnvironment');
    expect(described.workflowExecutionInfo.taskQueue).toBe(taskQueue);
    const revision = (await api.catalog.environments.require(name)).currentRevision;
    const input = JSON.parse(decodedPayloads(await history(res.body.operationId)).split('\n')[0]!);
    expect(input).toEqual({ environment: name, revision, requestedBy: 'test-admin' });

    // The retry with the same key answers the same operation and starts nothing new.
    const retry = await api.request<{ operationId: string }>('POST', `/v1/environments/${name}/deploy`, { headers: { 'idempotency-key': `it-${suffix}` } });
    expect(retry.body.operationId).toBe(res.body.operationId);
    const list = await api.request<{ items: { id: string }[] }>('GET', `/v1/operations?environment=${name}`);
    expect(list.body.items.map((o) => o.id)).toEqual([res.body.operationId]);

    // One change at a time: while it runs (no worker: it waits), another deploy is refused, naming it.
    expect(await api.catalog.locks.heldBy([name])).toMatchObject([{ environment: name, operationId: res.body.operationId }]);
    const busy = await api.request<{ error: { code: string; message: string } }>('POST', `/v1/environments/${name}/deploy`, { headers: { 'idempotency-key': `it-${suffix}-busy` } });
    expect(busy.status).toBe(409);
    expect(busy.body.error).toEqual({
      code: 'environment_busy', message: `environment "${name}" is being changed by operation "${res.body.operationId}"`,
      details: [{ environment: name, operationId: res.body.operationId, since: expect.any(String) }],
    });
    expect((await api.request<{ items: { id: string }[] }>('GET', `/v1/operations?environment=${name}`)).body.items.map((o) => o.id)).toEqual([res.body.operationId]);

    // Terminated in Temporal → the index follows on the next read.
    await client.workflow.getHandle(res.body.operationId).terminate('test');
    const op = await api.request<{ state: string }>('GET', `/v1/operations/${res.body.operationId}`);
    expect(op.body.state).toBe('terminated');

    // Its lock is stale now (the workflow no longer runs to release it): the next deploy takes it over.
    const next = await api.request<{ operationId: string }>('POST', `/v1/environments/${name}/deploy`, { headers: { 'idempotency-key': `it-${suffix}-next` } });
    expect(next.status).toBe(202);
    started.push(next.body.operationId);
    expect(next.body.operationId).not.toBe(res.body.operationId);
    expect(await api.catalog.locks.heldBy([name])).toMatchObject([{ environment: name, operationId: next.body.operationId }]);
  });
});
