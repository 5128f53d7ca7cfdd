// Offboarding a cluster (issue 13), through the API, on the real Temporal dev server and a
// local cluster of this file's own (its baseline goes, so never a shared one), kubectl as the
// check: refused while an environment is bound; with drain the environment is torn down first;
// the baseline Flotilla's onboarding installed (namespace, service accounts, RBAC) is gone and
// the cluster is `offboarded`; DELETE again forgets it; a cluster with nothing bound offboards
// without drain.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalFleet } from '../../local/fleet.js';
import { activityDeps } from '../../worker/deps.js';
import { runFlotillaWorker, type RunningWorker } from '../../worker/worker.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { kubectl } from '../support/kubectl.js';
import { finishedOperation, startLiveApi, type LiveApi, until } from '../support/live-api.js';
import { shopSpec } from '../support/promotion-env.js';
import { tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';

const toolchain = inject('toolchain');
const run = Math.random().toString(36).slice(2, 7);
const taskQueue = `offboarding-${run}`;
const BASELINE_RBAC = 'clusterroles/flotilla-agent clusterroles/flotilla-agent-namespaced clusterroles/flotilla-bootstrap clusterrolebindings/flotilla-agent clusterrolebindings/flotilla-bootstrap'.split(' ');


describe('offboarding a cluster', () => {
  let fleet: LocalFleet;
  let tc: TestCatalog;
  let client: Client;
  let worker: RunningWorker;
  let api: LiveApi;
  let k: (args: string[]) => Promise<string>;

  const finished = (id: string) => finishedOperation(api, id);
  const register = async (name: string) => {
    const own = fleet.clusters[0]!;
    const res = await api.request<{ operationId: string }>('POST', '/v1/clusters', {
      body: { name, labels: { tier: 'dev' }, allowedTiers: ['dev'], connection: { provider: 'kubeconfig' }, kubeconfig: own.kubeconfig },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(await finished(res.body.operationId)).toMatchObject({ state: 'completed' });
  };
  /** What of the baseline's RBAC the cluster still has. */
  const rbac = async () => (await Promise.all(BASELINE_RBAC.map(async (ref) => (await k(['get', ref, '--ignore-not-found', '-o', 'name'])).trim()))).filter(Boolean);
  const namespaceGone = (ns: string) => until(`namespace ${ns} to go`, async () => (await k(['get', 'namespace', ns, '--ignore-not-found', '-o', 'name'])).trim() === '', 120_000);

  beforeAll(async () => {
    // No baseline of the fleet's own: Flotilla's onboarding installs it, as on a real cluster.
    fleet = await LocalFleet.create({ toolchain, clusters: [{ name: `off-${run}`, labels: { tier: 'dev' }, baseline: false }] });
    k = (args) => kubectl(toolchain.kubectl, fleet.clusters[0]!.kubeconfigPath, args);
    tc = await testCatalog();
    client = await tierClient();
    worker = await runFlotillaWorker({ address: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue, deps: activityDeps({ catalog: tc.catalog, adapters: {} }), workflowBundle: tierWorkflowBundle() });
    api = await startLiveApi(tc.catalog, client, taskQueue);
  }, 240_000);
  afterAll(async () => {
    await api?.close();
    await worker?.stop();
    await client?.connection.close();
    await tc?.close();
    await fleet?.delete();
  });

  it('is refused while an environment is bound; with drain tears it down, removes the baseline and marks the cluster offboarded; DELETE again forgets it', async () => {
    const cluster = `off-a-${run}`;
    const env = `off-env-${run}`;
    await register(cluster);
    expect(await rbac()).toEqual(BASELINE_RBAC.map((r) => r.replace('clusterroles/', 'clusterrole.rbac.authorization.k8s.io/').replace('clusterrolebindings/', 'clusterrolebinding.rbac.authorization.k8s.io/')));
    const created = await api.request('POST', '/v1/environments', {
      body: { apiVersion: 'flotilla.dev/v1', kind: 'Environment', metadata: { name: env }, spec: { application: 'shop', tier: 'dev', cluster, app: shopSpec('1.0.0', ['web']) } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const deploy = await api.request<{ operationId: string }>('POST', `/v1/environments/${env}/deploy`, { body: {} });
    expect(await finished(deploy.body.operationId)).toMatchObject({ state: 'completed' });

    const refused = await api.request<{ error: { code: string; message: string } }>('DELETE', `/v1/clusters/${cluster}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'cluster_in_use', message: expect.stringContaining(env) as unknown });

    const drained = await api.request<{ operationId: string }>('DELETE', `/v1/clusters/${cluster}?drain=true`);
    expect(drained.status).toBe(202);
    expect(await finished(drained.body.operationId)).toMatchObject({ state: 'completed', outcome: 'completed' });

    expect((await api.request('GET', `/v1/environments/${env}`)).status).toBe(404);
    await namespaceGone(env);
    expect(await rbac()).toEqual([]);
    await namespaceGone('flotilla-system');
    expect((await api.request<{ status: string }>('GET', `/v1/clusters/${cluster}`)).body.status).toBe('offboarded');
    // Nothing new lands on it.
    const again = await api.request<{ error: { details: { path: string }[] } }>('POST', '/v1/environments', {
      body: { apiVersion: 'flotilla.dev/v1', kind: 'Environment', metadata: { name: `${env}-2` }, spec: { application: 'shop', tier: 'dev', cluster, app: shopSpec('1.0.0', ['web']) } },
    });
    expect(again.status).toBe(422);
    expect(again.body.error.details).toEqual([{ path: 'spec.cluster', message: 'is offboarded' }]);

    expect((await api.request('DELETE', `/v1/clusters/${cluster}`)).status).toBe(204);
    expect((await api.request('GET', `/v1/clusters/${cluster}`)).status).toBe(404);
  }, 400_000);

  it('a cluster with nothing bound offboards without drain', async () => {
    const cluster = `off-b-${run}`;
    await register(cluster);
    expect(await rbac()).toHaveLength(BASELINE_RBAC.length);

    const res = await api.request<{ operationId: string }>('DELETE', `/v1/clusters/${cluster}`);
    expect(res.status).toBe(202);
    expect(await finished(res.body.operationId)).toMatchObject({ state: 'completed', outcome: 'completed' });
    expect(await rbac()).toEqual([]);
    expect((await api.request<{ status: string }>('GET', `/v1/clusters/${cluster}`)).body.status).toBe('offboarded');
  }, 300_000);
});
