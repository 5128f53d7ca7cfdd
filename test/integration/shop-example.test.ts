// examples/shop.yaml as a user applies it (issue 13): the application written once, three
// environments deployed; a change to the application reaches the tracking environment on apply
// (and is deployed there) while the prod ones move only by a promotion (with the approval the
// file's rules ask); `diff` between staging and prod is overrides only. Real Temporal dev
// server, a worker, the API, the shared local clusters; kubectl as the check. The file's
// environments keep their names; only their namespaces get this run's suffix, so they never
// meet another test's objects on the shared clusters.
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { parseAllDocuments, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubectlWithInput } from '../../local/pod-logs.js';
import { activityDeps } from '../../worker/deps.js';
import { runFlotillaWorker, type RunningWorker } from '../../worker/worker.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { kubectl } from '../support/kubectl.js';
import { finishedOperation, startLiveApi, type LiveApi, until } from '../support/live-api.js';
import { tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';

type Cluster = ReturnType<typeof inject<'clusters'>>[number];
const [a, b] = inject('clusters') as [Cluster, Cluster];
const binary = inject('toolchain').kubectl;
const run = Math.random().toString(36).slice(2, 7);
const taskQueue = `shop-example-${run}`;
/** The file's clusters, on the two shared ones (local-dev and local-prod-us share one). */
const CLUSTERS = { 'local-dev': a, 'local-prod-us': a, 'local-prod-eu': b } as const;
const PLACEMENT = { 'local-dev': { labels: { tier: 'dev', geo: 'us' }, allowedTiers: ['staging'] }, 'local-prod-us': { labels: { tier: 'prod', geo: 'us' }, allowedTiers: [] }, 'local-prod-eu': { labels: { tier: 'prod', geo: 'eu' }, allowedTiers: [] } };
const ENVIRONMENTS = { 'shop-staging': 'local-dev', 'shop-prod-us': 'local-prod-us', 'shop-prod-eu': 'local-prod-eu' } as const;
type EnvName = keyof typeof ENVIRONMENTS;

interface Operation { id: string; state: string; outcome?: string; message?: string }
interface ApplyBody { results: { kind: string; name: string; action: string; operationId?: string }[] }

/** examples/shop.yaml with this run's namespaces, and the web image at `version` in the Application. */
function shopYaml(version: string): string {
  const docs = parseAllDocuments(readFileSync(new URL('../../examples/shop.yaml', import.meta.url), 'utf8')).map((d) => d.toJS() as { kind: string; metadata?: { name: string }; spec: Record<string, unknown> });
  expect(docs.filter((d) => d.kind === 'Application')).toHaveLength(1);
  expect(docs.filter((d) => d.kind === 'Environment').every((d) => d.spec.app === undefined)).toBe(true);
  for (const doc of docs) {
    if (doc.kind === 'Environment') doc.spec.namespace = `${doc.metadata!.name}-${run}`;
    if (doc.kind === 'Application') {
      const web = (doc.spec.services as { name: string; image: string }[]).find((s) => s.name === 'web')!;
      web.image = `ghcr.io/acme/web:${version}`;
    }
  }
  return docs.map((d) => stringify(d)).join('---\n');
}

describe('examples/shop.yaml, written once', () => {
  let tc: TestCatalog;
  let client: Client;
  let worker: RunningWorker;
  let api: LiveApi;
  let bob: string;
  const volumes: { cluster: Cluster; name: string }[] = [];

  const operation = async (id: string) => (await api.request<Operation>('GET', `/v1/operations/${id}`)).body;
  const finished = (id: string) => finishedOperation(api, id);
  const apply = async (yaml: string) => {
    const res = await fetch(`${api.base}/v1/apply`, { method: 'POST', headers: { authorization: `Bearer ${api.admin}`, 'content-type': 'application/yaml' }, body: yaml });
    const body = await res.json() as ApplyBody;
    expect(res.status, JSON.stringify(body)).toBe(200);
    return body.results;
  };
  /** The image web runs in an environment, read by kubectl. */
  const webImage = async (env: EnvName) => (await kubectl(binary, CLUSTERS[ENVIRONMENTS[env]].kubeconfigPath, [
    'get', 'deployment', 'web', '-n', `${env}-${run}`, '-o', 'jsonpath={.spec.template.spec.containers[0].image} {.spec.replicas}',
  ])).trim();

  beforeAll(async () => {
    tc = await testCatalog();
    client = await tierClient();
    worker = await runFlotillaWorker({ address: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue, deps: activityDeps({ catalog: tc.catalog, adapters: {} }), workflowBundle: tierWorkflowBundle() });
    api = await startLiveApi(tc.catalog, client, taskQueue);
    bob = (await tc.catalog.tokens.create({ name: `bob-${run}`, role: 'release-manager' })).token;
    for (const [name, cluster] of Object.entries(CLUSTERS)) {
      const res = await api.request<{ operationId: string }>('POST', '/v1/clusters', {
        body: { name, ...PLACEMENT[name as keyof typeof PLACEMENT], connection: { provider: 'kubeconfig' }, kubeconfig: cluster.kubeconfig },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      expect(await finished(res.body.operationId)).toMatchObject({ state: 'completed' });
    }
    // Volumes of this file's own for the three orders-db claims (smaller than the pool's: bound first).
    for (const env of Object.keys(ENVIRONMENTS) as EnvName[]) {
      const cluster = CLUSTERS[ENVIRONMENTS[env]];
      const name = `shop-${run}-${env}`;
      await kubectlWithInput(binary, ['--kubeconfig', cluster.kubeconfigPath, 'apply', '-f', '-'], JSON.stringify({
        apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name },
        spec: { capacity: { storage: '6Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: `/tmp/${name}` } },
      }), `create PersistentVolume ${name}`);
      volumes.push({ cluster, name });
    }
  }, 240_000);
  afterAll(async () => {
    await api?.close();
    await worker?.stop();
    await client?.connection.close();
    await tc?.close();
    for (const env of Object.keys(ENVIRONMENTS) as EnvName[]) {
      await kubectl(binary, CLUSTERS[ENVIRONMENTS[env]].kubeconfigPath, ['delete', 'namespace', `${env}-${run}`, '--wait=false', '--ignore-not-found']).catch(() => undefined);
    }
    for (const v of volumes) await kubectl(binary, v.cluster.kubeconfigPath, ['delete', 'pv', v.name, '--wait=false', '--ignore-not-found']).catch(() => undefined);
  });

  it('applies from scratch: the rules, the application once, three environments; each deploys', async () => {
    const results = await apply(shopYaml('1.0.0'));
    expect(results.map((r) => `${r.kind}/${r.name}: ${r.action}`)).toEqual([
      'Rules/organisation: created', 'Application/shop: created', 'Environment/shop-staging: created', 'Environment/shop-prod-us: created', 'Environment/shop-prod-eu: created',
    ]);
    const listed = await api.request<{ items: { name: string; updates: string }[] }>('GET', '/v1/environments?application=shop');
    expect(listed.body.items.map((e) => `${e.name} ${e.updates}`)).toEqual(['shop-prod-eu promotion', 'shop-prod-us promotion', 'shop-staging track']);

    for (const env of Object.keys(ENVIRONMENTS)) {
      expect((await api.request('PUT', `/v1/environments/${env}/secrets/PAYMENTS_KEY`, { body: { value: `sk_test_${run}` } })).status).toBe(204);
    }
    const deploys = await Promise.all(Object.keys(ENVIRONMENTS).map(async (env) => (await api.request<{ operationId: string }>('POST', `/v1/environments/${env}/deploy`, { body: {} })).body.operationId));
    for (const id of deploys) expect(await finished(id), id).toMatchObject({ state: 'completed' });
    expect(await webImage('shop-staging')).toBe('ghcr.io/acme/web:1.0.0 1');
    expect(await webImage('shop-prod-us')).toBe('ghcr.io/acme/web:1.0.0 3');
    expect(await webImage('shop-prod-eu')).toBe('ghcr.io/acme/web:1.0.0 2');
  }, 300_000);

  it('a changed application reaches the tracking environment on apply (deployed there); prod stays', async () => {
    const results = await apply(shopYaml('1.1.0'));
    expect(results.map((r) => `${r.kind}/${r.name}: ${r.action}`)).toEqual([
      'Rules/organisation: unchanged', 'Application/shop: configured', 'Environment/shop-staging: configured', 'Environment/shop-prod-us: unchanged', 'Environment/shop-prod-eu: unchanged',
    ]);
    const deploy = results.find((r) => r.name === 'shop-staging')!.operationId;
    expect(deploy).toMatch(/^deploy-shop-staging-/);
    expect(await finished(deploy!)).toMatchObject({ state: 'completed' });
    expect(await webImage('shop-staging')).toBe('ghcr.io/acme/web:1.1.0 1');
    expect(await webImage('shop-prod-us')).toBe('ghcr.io/acme/web:1.0.0 3');
    expect(await webImage('shop-prod-eu')).toBe('ghcr.io/acme/web:1.0.0 2');
  }, 300_000);

  it('reaches prod only by promotion (approved by a second release manager, as the rules ask); diff is overrides only', async () => {
    const started = await api.request<{ operationId: string }>('POST', '/v1/promotions', {
      body: { source: 'shop-staging', stages: [{ name: 'us', targets: ['shop-prod-us'] }, { name: 'eu', targets: ['shop-prod-eu'] }], rolloutTimeoutSeconds: 120 },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const id = started.body.operationId;
    await until('the promotion to wait for approval', async () => (await operation(id)).state === 'waiting', 120_000);
    expect(await webImage('shop-prod-us')).toBe('ghcr.io/acme/web:1.0.0 3');
    expect((await api.request('POST', `/v1/operations/${id}/approve`, { token: bob, body: { comment: 'ok' } })).status).toBe(200);
    // The eu stage asks again (every prod stage does): bob approves it too.
    await until('the eu stage to wait for approval', async () => {
      const state = (await api.request<{ stages: { name: string; phase: string }[]; phase: string }>('GET', `/v1/promotions/${id}`)).body;
      return state.phase === 'completed' || state.stages[1]?.phase === 'awaiting-approval';
    }, 120_000);
    if ((await operation(id)).state === 'waiting') expect((await api.request('POST', `/v1/operations/${id}/approve`, { token: bob })).status).toBe(200);
    expect(await finished(id)).toMatchObject({ state: 'completed', outcome: 'completed' });
    expect(await webImage('shop-prod-us')).toBe('ghcr.io/acme/web:1.1.0 3');
    expect(await webImage('shop-prod-eu')).toBe('ghcr.io/acme/web:1.1.0 2');

    const diff = await api.request<{ zeroDrift: boolean; overrides: { path: string }[]; other: unknown[] }>('GET', '/v1/environments/shop-staging/diff/shop-prod-eu');
    expect(diff.body.zeroDrift).toBe(true);
    expect(diff.body.other).toEqual([]);
    expect(diff.body.overrides.map((o) => o.path).sort()).toEqual(['overrides.config.public-url', 'overrides.hostnames.web', 'overrides.replicas.api', 'overrides.replicas.web']);
  }, 300_000);
});
