// Helm charts and plain manifests in an application (issue 14), through the API, on the real
// Temporal dev server, a worker with the real helm, a real OCI registry (CNCF distribution) and
// both shared clusters. The chart (test/charts/webapp: a Deployment with its ServiceAccount,
// ConfigMaps and Service, an Ingress, a CRD, a pre-install/pre-upgrade Job and a test hook) is
// packaged and pushed with `helm push`. What is expected comes from `helm template` run here with
// the values we wrote, and what is there from kubectl:
// - an application with a service, the chart and a manifest bundle deploys to two clusters, and
//   every object `helm template` renders is on the cluster as rendered (Flotilla's labels aside);
// - a new chart version, applied, deploys to the environment that tracks the application (the
//   object the new version drops is pruned, and only it) and is promoted to the other: the same
//   digest, the same objects but for the declared environment values, a diff of overrides only;
// - a chart writing into another namespace, and a chart breaking the rules (no limits, `latest`),
//   are refused with a 422 naming the chart and the object, and nothing changes;
// - a tag moved to other content changes no existing revision: redeploying it changes nothing.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startOciRegistry, type OciRegistry } from '../../local/oci-registry.js';
import { activityDeps } from '../../worker/deps.js';
import { runFlotillaWorker, type RunningWorker } from '../../worker/worker.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { kubectl, kubectlJson } from '../support/kubectl.js';
import { finishedOperation, startLiveApi, type LiveApi, until } from '../support/live-api.js';
import { startObserverProcess, type WorkerProcess } from '../support/worker-process.js';
import { tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';

const exec = promisify(execFile);
const clusters = inject('clusters');
const toolchain = inject('toolchain');
const helm = toolchain.helm!;
const run = Math.random().toString(36).slice(2, 7);
const taskQueue = `charts-${run}`;
const application = `web-${run}`;
const envA = `web-${run}-a`;
const envB = `web-${run}-b`;
const chartSource = join(import.meta.dirname, '..', 'charts', 'webapp');

type Json = Record<string, unknown>;
interface Live { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; generation?: number; resourceVersion?: string }; [k: string]: unknown }
interface ApplyResult { results: { kind: string; name: string; action: string; operationId?: string; message?: string }[] }

/** Labels that are Flotilla's: the only difference allowed between what helm renders and what runs. */
const flotillaLabel = (key: string) => key.startsWith('flotilla.dev/') || key === 'app.kubernetes.io/managed-by';

/**
 * Every field `expected` sets has the same value in `actual` (the API server adds defaults and
 * status; those are not the chart's). Labels: all of the chart's but Flotilla's, as written.
 */
function expectRendered(actual: unknown, expected: unknown, path: string): void {
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${path} is a list`).toBe(true);
    expect((actual as unknown[]).length, `${path} length`).toBe(expected.length);
    expected.forEach((e, i) => expectRendered((actual as unknown[])[i], e, `${path}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    expect(actual !== null && typeof actual === 'object', `${path} is an object`).toBe(true);
    for (const [key, value] of Object.entries(expected as Json)) {
      if (path.endsWith('.metadata') && key === 'labels') {
        const want = Object.fromEntries(Object.entries(value as Record<string, string>).filter(([k]) => !flotillaLabel(k)));
        const have = Object.fromEntries(Object.entries((actual as Json).labels as Record<string, string>).filter(([k]) => !flotillaLabel(k)));
        expect(have, `${path}.labels`).toEqual(want);
        continue;
      }
      expectRendered((actual as Json)[key], value, `${path}.${key}`);
    }
    return;
  }
  expect(actual, path).toEqual(expected);
}

/** kubectl's name for an object's resource: "configmap", "deployment.apps", "ingress.networking.k8s.io". */
function resourceOf(object: Live): string {
  const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '';
  return group ? `${object.kind.toLowerCase()}.${group}` : object.kind.toLowerCase();
}

describe('charts and manifests', () => {
  let tc: TestCatalog;
  let client: Client;
  let worker: RunningWorker;
  let api: LiveApi;
  let registry: OciRegistry;
  let observer: WorkerProcess;
  let dir: string;
  const digests: Record<string, string> = {};
  const [a, b] = clusters;
  const k = (cluster: typeof a, args: string[]) => kubectl(toolchain.kubectl, cluster!.kubeconfigPath, args);
  const kj = <T>(cluster: typeof a, args: string[]) => kubectlJson<T>(toolchain.kubectl, cluster!.kubeconfigPath, args);

  /** Packages the test chart at `version` (after `edit` on a copy) and pushes it; the digest `helm push` reports. */
  /** `helm package` of the test chart at `version` (after `edit` on a copy); the archive's path. */
  async function packageChart(version: string, edit: (chartDir: string) => void = () => {}): Promise<string> {
    const work = mkdtempSync(join(dir, 'chart-'));
    const chart = join(work, 'webapp');
    cpSync(chartSource, chart, { recursive: true });
    edit(chart);
    await exec(helm, ['package', chart, '--version', version, '--app-version', version, '--destination', work]);
    return join(work, `webapp-${version}.tgz`);
  }

  async function push(version: string, edit: (chartDir: string) => void = () => {}): Promise<string> {
    const archive = await packageChart(version, edit);
    const { stdout, stderr } = await exec(helm, ['push', archive, `oci://${registry.host}/charts`, '--plain-http']);
    const digest = /Digest: (sha256:[0-9a-f]{64})/.exec(stdout + stderr)![1]!;
    digests[version] = digest;
    return digest;
  }

  /** `helm template` of the pushed chart here, with the values an environment gets (written by the test). */
  async function helmTemplate(ref: string, namespace: string, values: Json): Promise<Live[]> {
    const file = join(dir, `values-${namespace}.json`);
    writeFileSync(file, JSON.stringify(values));
    const { stdout } = await exec(helm, ['template', 'webapp', ref, '--namespace', namespace, '--values', file, '--include-crds', '--plain-http'], { maxBuffer: 16 * 1024 * 1024 });
    return parseAllDocuments(stdout).map((d) => d.toJS() as Live | null).filter((o): o is Live => o !== null);
  }

  const bundle = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extras' }, data: { SUPPORT_EMAIL: 'ops@example.test' } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'extras-proxy' }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 8081, targetPort: 8081, protocol: 'TCP' }], selector: { app: 'extras-proxy' } } },
  ];
  const chartValues = { greeting: 'hi from flotilla' };
  const appDoc = (version: string, values: Json = chartValues) => ({
    apiVersion: 'flotilla.dev/v1', kind: 'Application', metadata: { name: application },
    spec: {
      services: [{ name: 'api', image: 'ghcr.io/acme/api:1.0.0', ports: [{ port: 8080 }], replicas: 1, resources: { limits: { cpu: '100m', memory: '64Mi' } } }],
      charts: [{ name: 'webapp', oci: `oci://${registry.host}/charts/webapp`, version, values, environmentValues: ['ingress.host', 'replicaCount'] }],
      manifests: [{ name: 'extras', documents: bundle }],
    },
  });
  const hosts = { [envA]: `a-${run}.example.test`, [envB]: `b-${run}.example.test` };
  const envValues = { [envA]: { 'ingress.host': hosts[envA] }, [envB]: { 'ingress.host': hosts[envB], replicaCount: 2 } };
  const envDoc = (name: string, cluster: string, tier: string) => ({
    apiVersion: 'flotilla.dev/v1', kind: 'Environment', metadata: { name },
    spec: { application, tier, cluster, overrides: { chartValues: { webapp: envValues[name] }, chartScope: { clusterScoped: true } } },
  });
  /** The values helm gets for an environment: the chart's, then the environment's (dotted paths written out). */
  const valuesFor = (name: string, values: Json = chartValues) => ({
    ...values, ingress: { host: hosts[name] }, ...(name === envB ? { replicaCount: 2 } : {}),
  });
  const apply = (docs: unknown[]) => api.request<ApplyResult>('POST', '/v1/apply', { body: docs });
  const deployed = async (name: string) => (await api.request<{ deployed?: { revision: string } }>('GET', `/v1/environments/${name}`)).body.deployed?.revision;
  const deploy = async (name: string, revision?: string) => {
    const started = await api.request<{ operationId: string }>('POST', `/v1/environments/${name}/deploy`, { body: revision ? { revision } : {} });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    return finishedOperation(api, started.body.operationId);
  };
  const pinned = async (revision: string) => (await tc.catalog.revisions.require(revision)).spec.charts?.[0]?.digest;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'charts-it-'));
    registry = await startOciRegistry({ executable: toolchain.registry!, dir: join(dir, 'registry') });
    tc = await testCatalog(clusters);
    client = await tierClient();
    worker = await runFlotillaWorker({
      workflowBundle: tierWorkflowBundle(),
      address: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue,
      deps: activityDeps({ catalog: tc.catalog, adapters: {}, helm: { binary: helm, plainHttpHosts: [registry.host] } }),
    });
    api = await startLiveApi(tc.catalog, client, taskQueue);
    for (const c of clusters) await tc.catalog.clusters.updateStatus(c.name, { status: 'ready' });
    // The observer compares what runs with the revision, chart objects too (from the catalog's cache of renders).
    observer = startObserverProcess({
      FLOTILLA_CATALOG_URL: tc.url, FLOTILLA_MASTER_KEY: tc.masterKey, FLOTILLA_OBSERVER_ID: `charts-${run}`,
      TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: inject('temporalNamespace'), FLOTILLA_TASK_QUEUE: taskQueue,
    });
    await observer.ready;
    // The clusters' admin lets charts install CRDs (the baseline's unbound role), as the refusal says to.
    for (const c of clusters) {
      await k(c, ['create', 'clusterrolebinding', `flotilla-agent-cluster-scope-${run}`, '--clusterrole=flotilla-agent-cluster-scope', '--serviceaccount=flotilla-system:flotilla-agent']);
    }
  }, 180_000);
  afterAll(async () => {
    await observer?.kill('SIGTERM');
    await api?.close();
    await worker?.stop();
    await client?.connection.close();
    await tc?.close();
    await registry?.stop();
    for (const [c, ns] of [[a, envA], [b, envB]] as const) {
      await k(c, ['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']).catch(() => {});
      await k(c, ['delete', 'clusterrolebinding', `flotilla-agent-cluster-scope-${run}`, '--ignore-not-found']).catch(() => {});
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('deploys a service, a chart from the registry and a manifest bundle to two clusters: what runs is what helm template renders', async () => {
    await push('1.0.0');
    const applied = await apply([appDoc('1.0.0'), envDoc(envA, a!.name, 'staging'), envDoc(envB, b!.name, 'prod')]);
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    // The revision pins the digest `helm push` reported, not the tag.
    const app = { revision: (await api.request<{ currentRevision: string }>('GET', `/v1/applications/${application}`)).body.currentRevision };
    expect(await pinned(app.revision)).toBe(digests['1.0.0']);

    for (const [name, cluster] of [[envA, a], [envB, b]] as const) {
      const op = await deploy(name);
      expect(op, JSON.stringify(op)).toMatchObject({ state: 'completed', outcome: 'completed' });
      const rendered = await helmTemplate(`oci://${registry.host}/charts/webapp@${digests['1.0.0']}`, name, valuesFor(name));
      const hooks = rendered.filter((o) => (o.metadata as { annotations?: Record<string, string> }).annotations?.['helm.sh/hook']);
      const plain = rendered.filter((o) => !hooks.includes(o));
      expect(plain.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
        'ConfigMap/webapp-config', 'ConfigMap/webapp-flags', 'CustomResourceDefinition/widgets.webapp.flotilla.dev', 'Deployment/webapp', 'Ingress/webapp', 'Service/webapp', 'ServiceAccount/webapp',
      ]);
      for (const object of plain) {
        const live = await kj<Live>(cluster, ['get', resourceOf(object), object.metadata.name, ...(object.kind === 'CustomResourceDefinition' ? [] : ['-n', name])]);
        const { metadata, ...body } = object;
        expectRendered(live, body, `${object.kind}/${object.metadata.name}`);
        expectRendered(live.metadata, { labels: metadata.labels ?? {} }, `${object.kind}/${object.metadata.name}.metadata`);
        if (object.kind !== 'CustomResourceDefinition') expect(live.metadata.namespace).toBe(name);
        expect(live.metadata.labels).toMatchObject({ 'flotilla.dev/environment': name, 'app.kubernetes.io/managed-by': 'flotilla' });
      }
      // Exactly those: nothing else of the chart's is there (the test hook Pod is not deployed).
      const fromChart = await kj<{ items: Live[] }>(cluster, ['get', 'serviceaccounts,configmaps,services,deployments,ingresses,jobs,pods', '-n', name, '-l', 'flotilla.dev/source=chart.webapp']);
      const names = fromChart.items.filter((o) => o.kind !== 'Pod' && o.kind !== 'Job').map((o) => `${o.kind}/${o.metadata.name}`).sort();
      expect(names).toEqual(['ConfigMap/webapp-config', 'ConfigMap/webapp-flags', 'Deployment/webapp', 'Ingress/webapp', 'Service/webapp', 'ServiceAccount/webapp']);
      expect(fromChart.items.some((o) => o.metadata.name.includes('test-connection'))).toBe(false);
      // The pre-install hook ran as a Job before the release's workloads, and completed.
      const [hook] = fromChart.items.filter((o) => o.kind === 'Job');
      expect(hook?.metadata.labels?.['flotilla.dev/hook']).toBe('beforeDeploy');
      expectRendered((hook as unknown as { spec: { template: { spec: Json } } }).spec.template.spec, (hooks.find((o) => o.kind === 'Job')!.spec as { template: { spec: Json } }).template.spec, 'hook Job pod');
      expect((hook as unknown as { status: { succeeded?: number } }).status.succeeded).toBe(1);
      // The bundle's objects and the service, beside the chart's.
      const extras = await kj<Live>(cluster, ['get', 'configmap', 'extras', '-n', name]);
      expect(extras).toMatchObject({ data: { SUPPORT_EMAIL: 'ops@example.test' }, metadata: { labels: { 'flotilla.dev/source': 'manifests.extras' } } });
      expect((await kj<Live>(cluster, ['get', 'service', 'extras-proxy', '-n', name])).spec).toMatchObject({ ports: [{ port: 8081 }] });
      expect((await kj<Live>(cluster, ['get', 'deployment', 'api', '-n', name])).spec).toMatchObject({ replicas: 1 });
    }

    // Drift: what the chart rendered is what runs (the API server's defaults are no drift); a hand edit of a chart's object is.
    interface DriftItem { environment: string; objects: { kind: string; name: string; fields: { path: string; expected?: unknown; actual?: unknown }[] }[] }
    const drift = async () => (await api.request<{ items: DriftItem[] }>('GET', '/v1/drift')).body.items.find((i) => i.environment === envA);
    const observedClean = async () => {
      const { clusters: seen } = (await api.request<{ clusters: { name: string; environments: { name: string; drifted: boolean }[] }[] }>('GET', '/v1/fleet')).body;
      return seen.find((c) => c.name === a!.name)?.environments.some((e) => e.name === envA && !e.drifted) ?? false;
    };
    await until('the chart environment observed without drift', observedClean, 60_000);
    await k(a, ['patch', 'configmap', 'webapp-config', '-n', envA, '--type', 'merge', '-p', '{"data":{"GREETING":"edited by hand"}}']);
    await until('the edited chart ConfigMap reported as drift', async () => {
      const fields = (await drift())?.objects.find((o) => o.kind === 'ConfigMap' && o.name === 'webapp-config')?.fields ?? [];
      return fields.some((f) => f.path === 'data.GREETING' && f.expected === 'hi from flotilla' && f.actual === 'edited by hand');
    }, 30_000);
    await k(a, ['patch', 'configmap', 'webapp-config', '-n', envA, '--type', 'merge', '-p', '{"data":{"GREETING":"hi from flotilla"}}']);
    await until('no drift once it is put back', async () => (await drift()) === undefined, 30_000);
  });

  it('a new chart version deploys where the application is tracked (the dropped template pruned, only it) and is promoted with its digest: the same objects but for the environment values', async () => {
    await push('1.1.0', (chart) => {
      rmSync(join(chart, 'templates', 'feature-flags.yaml'));
      const values = join(chart, 'values.yaml');
      writeFileSync(values, readFileSync(values, 'utf8').replace('tag: "1.0.0"', 'tag: "1.1.0"'));
    });
    const before = await kj<{ items: Live[] }>(a, ['get', 'configmaps,services,deployments,ingresses,serviceaccounts', '-n', envA, '-l', 'flotilla.dev/environment']);
    const applied = await apply([appDoc('1.1.0')]);
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    // envA tracks the application (staging): the apply deployed it; envB (prod) waits for a promotion.
    const carried = applied.body.results.find((r) => r.name === envA);
    expect(carried?.operationId, JSON.stringify(applied.body)).toBeDefined();
    expect(await finishedOperation(api, carried!.operationId!)).toMatchObject({ state: 'completed', outcome: 'completed' });
    const revision = (await deployed(envA))!;
    expect(await pinned(revision)).toBe(digests['1.1.0']);

    const after = await kj<{ items: Live[] }>(a, ['get', 'configmaps,services,deployments,ingresses,serviceaccounts', '-n', envA, '-l', 'flotilla.dev/environment']);
    const key = (o: Live) => `${o.kind}/${o.metadata.name}`;
    expect(before.items.map(key).filter((n) => !after.items.map(key).includes(n))).toEqual(['ConfigMap/webapp-flags']);
    expect((await kj<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(a, ['get', 'deployment', 'webapp', '-n', envA])).spec.template.spec.containers[0]!.image).toBe('ghcr.io/acme/webapp:1.1.0');

    const started = await api.request<{ operationId: string }>('POST', '/v1/promotions', { body: { source: envA, stages: [{ name: 'prod', targets: [envB] }] } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(await finishedOperation(api, started.body.operationId)).toMatchObject({ state: 'completed', outcome: 'completed' });
    expect(await deployed(envB)).toBe(revision);

    // Object by object, the two environments run the same thing but for the declared values.
    const objects = async (cluster: typeof a, ns: string) => (await kj<{ items: Live[] }>(cluster, ['get', 'configmaps,services,deployments,ingresses,serviceaccounts', '-n', ns, '-l', 'flotilla.dev/source=chart.webapp'])).items;
    const [inA, inB] = [await objects(a, envA), await objects(b, envB)];
    expect(inB.map(key).sort()).toEqual(inA.map(key).sort());
    const portable = (o: Live) => {
      const { status: _s, ...rest } = o as Live & { status?: unknown };
      const spec = structuredClone(rest.spec) as Json | undefined;
      if (o.kind === 'Deployment') {
        delete spec!.replicas;
        // Flotilla's environment label on the pods: the environment's own name.
        delete ((spec!.template as Json).metadata as { labels: Json }).labels['flotilla.dev/environment'];
      }
      if (o.kind === 'Ingress') (spec!.rules as Json[]).forEach((r) => delete r.host);
      if (o.kind === 'Service') { delete spec!.clusterIP; delete spec!.clusterIPs; }
      const labels = Object.fromEntries(Object.entries(o.metadata.labels ?? {}).filter(([k]) => k !== 'flotilla.dev/environment'));
      return { kind: o.kind, name: o.metadata.name, labels, spec, data: (o as Json).data };
    };
    for (const objectA of inA) {
      const objectB = inB.find((o) => key(o) === key(objectA))!;
      expect(portable(objectB), key(objectA)).toEqual(portable(objectA));
    }
    const dep = (list: Live[]) => (list.find((o) => o.kind === 'Deployment') as unknown as { spec: { replicas: number } }).spec.replicas;
    expect([dep(inA), dep(inB)]).toEqual([1, 2]);
    const host = (list: Live[]) => (list.find((o) => o.kind === 'Ingress') as unknown as { spec: { rules: { host: string }[] } }).spec.rules[0]!.host;
    expect([host(inA), host(inB)]).toEqual([hosts[envA], hosts[envB]]);

    // `flotilla diff`: overrides only.
    const diff = (await api.request<{ overrides: { path: string }[]; other: unknown[]; zeroDrift: boolean }>('GET', `/v1/environments/${envA}/diff/${envB}`)).body;
    expect(diff.other).toEqual([]);
    expect(diff.zeroDrift).toBe(true);
    expect(diff.overrides.map((d) => d.path).sort()).toEqual(['overrides.chartValues.webapp.ingress.host', 'overrides.chartValues.webapp.replicaCount']);
  });

  it('refuses a chart that writes into another namespace, and one that breaks the rules, with a 422 naming the chart and the object; nothing changes', async () => {
    const current = (await api.request<{ currentRevision: string }>('GET', `/v1/applications/${application}`)).body.currentRevision;
    const elsewhere = await apply([appDoc('1.1.0', { ...chartValues, otherNamespace: 'kube-public' })]);
    expect(elsewhere.status, JSON.stringify(elsewhere.body)).toBe(422);
    expect(elsewhere.body).toMatchObject({ error: { code: 'rule_violations' } });
    const scope = JSON.stringify(elsewhere.body);
    expect(scope).toContain('chartScope');
    expect(scope).toContain(`chart/webapp/${envA}: ConfigMap/webapp-shared`);
    expect(scope).toContain('would be written into namespace \\"kube-public\\"');

    const rules = await api.request('PUT', '/v1/rules', { body: { requireResourceLimits: { enforcement: 'block' }, forbidLatestTag: { enforcement: 'block' } } });
    expect(rules.status, JSON.stringify(rules.body)).toBe(200);
    try {
      const broken = await apply([appDoc('1.1.0', { ...chartValues, image: { repository: 'ghcr.io/acme/webapp', tag: 'latest' }, resources: null })]);
      expect(broken.status, JSON.stringify(broken.body)).toBe(422);
      const violations = (broken.body as unknown as { error: { details: { rule: string; object: string; message: string }[] } }).error.details;
      expect(violations).toEqual(expect.arrayContaining([
        expect.objectContaining({ rule: 'forbidLatestTag', object: `chart/webapp/${envA}: Deployment/webapp` }),
        expect.objectContaining({ rule: 'requireResourceLimits', object: `chart/webapp/${envA}: Deployment/webapp` }),
        // The hook Job by its name in the chart.
        expect.objectContaining({ rule: 'requireResourceLimits', object: `chart/webapp/${envA}: Job/webapp-migrate` }),
      ]));
    } finally {
      expect((await api.request('PUT', '/v1/rules', { body: {} })).status).toBe(200);
    }
    expect((await api.request<{ currentRevision: string }>('GET', `/v1/applications/${application}`)).body.currentRevision).toBe(current);
    expect((await k(a, ['get', 'configmap', '-n', 'kube-public', 'webapp-shared', '--ignore-not-found'])).trim()).toBe('');
  });

  it('a tag moved to other content changes no existing revision: redeploying it changes nothing, a new apply pins the new digest', async () => {
    const revision = (await deployed(envB))!;
    const moved = await push('1.1.0', (chart) => {
      rmSync(join(chart, 'templates', 'feature-flags.yaml'));
      const values = join(chart, 'values.yaml');
      writeFileSync(values, readFileSync(values, 'utf8').replace('tag: "1.0.0"', 'tag: "1.1.0"').replace('greeting: hello', 'greeting: moved'));
    });
    expect(moved).not.toBe(digests['1.0.0']);
    const configBefore = await kj<Live & { data: Json }>(b, ['get', 'configmap', 'webapp-config', '-n', envB]);
    const deploymentBefore = await kj<Live>(b, ['get', 'deployment', 'webapp', '-n', envB]);
    expect(await pinned(revision)).not.toBe(moved);

    const op = await deploy(envB, revision);
    expect(op, JSON.stringify(op)).toMatchObject({ state: 'completed', outcome: 'completed' });
    const configAfter = await kj<Live & { data: Json }>(b, ['get', 'configmap', 'webapp-config', '-n', envB]);
    expect(configAfter.data).toEqual({ GREETING: 'hi from flotilla' });
    expect(configAfter.metadata.resourceVersion).toBe(configBefore.metadata.resourceVersion);
    expect((await kj<Live>(b, ['get', 'deployment', 'webapp', '-n', envB])).metadata.generation).toBe(deploymentBefore.metadata.generation);

    // Applying the application again resolves the tag anew: a new revision with the new digest.
    const applied = await apply([appDoc('1.1.0', { greeting: 'hi from flotilla' })]);
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    const now = (await api.request<{ currentRevision: string }>('GET', `/v1/applications/${application}`)).body.currentRevision;
    expect(now).not.toBe(revision);
    expect(await pinned(now)).toBe(moved);
    const carried = applied.body.results.find((r) => r.name === envA);
    if (carried?.operationId) await finishedOperation(api, carried.operationId);
  });

  it('deploys a chart archive and a manifest bundle uploaded to Flotilla (no registry), each named by its digest', async () => {
    const archive = await packageChart('2.0.0');
    const chart = await api.request<{ digest: string }>('POST', '/v1/charts', { body: { archive: readFileSync(archive).toString('base64') } });
    expect(chart.status, JSON.stringify(chart.body)).toBe(201);
    const yaml = bundle.map((d) => JSON.stringify(d)).join('\n---\n');
    const uploaded = await fetch(`${api.base}/v1/bundles`, { method: 'POST', headers: { authorization: `Bearer ${api.admin}`, 'content-type': 'application/yaml' }, body: yaml });
    expect(uploaded.status).toBe(201);
    const { digest: bundleDigest } = (await uploaded.json()) as { digest: string };
    const name = `web-${run}-up`;
    const created = await api.request('POST', '/v1/environments', {
      body: {
        apiVersion: 'flotilla.dev/v1', kind: 'Environment', metadata: { name },
        spec: {
          application: `up-${run}`, tier: 'dev', cluster: a!.name,
          app: { charts: [{ name: 'webapp', archive: chart.body.digest, values: { greeting: 'from an upload', ingress: { enabled: false } } }], manifests: [{ name: 'extras', bundle: bundleDigest }] },
          overrides: { chartScope: { clusterScoped: true } },
        },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    try {
      const op = await deploy(name);
      expect(op, JSON.stringify(op)).toMatchObject({ state: 'completed', outcome: 'completed' });
      // What runs is what `helm template` renders from the archive file with those values.
      const file = join(dir, 'values-upload.json');
      writeFileSync(file, JSON.stringify({ greeting: 'from an upload', ingress: { enabled: false } }));
      const { stdout } = await exec(helm, ['template', 'webapp', archive, '--namespace', name, '--values', file]);
      const rendered = parseAllDocuments(stdout).map((d) => d.toJS() as Live | null).filter((o): o is Live => o?.kind === 'Deployment' || o?.kind === 'ConfigMap');
      expect(rendered.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['ConfigMap/webapp-config', 'ConfigMap/webapp-flags', 'Deployment/webapp']);
      for (const object of rendered) {
        const { metadata, ...body } = object;
        const live = await kj<Live>(a, ['get', resourceOf(object), metadata.name, '-n', name]);
        expectRendered(live, body, `${object.kind}/${metadata.name}`);
      }
      expect(await kj<Live>(a, ['get', 'configmap', 'extras', '-n', name])).toMatchObject({ data: { SUPPORT_EMAIL: 'ops@example.test' } });
      expect((await k(a, ['get', 'ingress', '-n', name, '-o', 'name'])).trim()).toBe('');
    } finally {
      await k(a, ['delete', 'namespace', name, '--wait=false', '--ignore-not-found']).catch(() => {});
    }
  });

  it('a chart with a CRD deploys only where the cluster grants the agent cluster scope: otherwise the deploy fails at once, saying how to grant it', async () => {
    await k(a, ['delete', 'clusterrolebinding', `flotilla-agent-cluster-scope-${run}`]);
    const name = `web-${run}-nogrant`;
    try {
      const created = await api.request('POST', '/v1/environments', {
        body: {
          apiVersion: 'flotilla.dev/v1', kind: 'Environment', metadata: { name },
          spec: {
            application: `nogrant-${run}`, tier: 'dev', cluster: a!.name,
            app: { charts: [{ name: 'webapp', oci: `oci://${registry.host}/charts/webapp`, version: '1.0.0', values: { ingress: { enabled: false } } }] },
            overrides: { chartScope: { clusterScoped: true } },
          },
        },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const op = await deploy(name);
      expect(op).toMatchObject({ state: 'failed' });
      expect(op.message).toContain('customresourcedefinitions.apiextensions.k8s.io at cluster scope');
      expect(op.message).toContain('kubectl create clusterrolebinding flotilla-agent-cluster-scope --clusterrole=flotilla-agent-cluster-scope --serviceaccount=flotilla-system:flotilla-agent');
      // No workload of the chart was written, and its pre-install hook never ran: the CRD goes first, and it was refused.
      expect((await k(a, ['get', 'deployments,jobs', '-n', name, '-o', 'name'])).trim()).toBe('');
    } finally {
      await k(a, ['create', 'clusterrolebinding', `flotilla-agent-cluster-scope-${run}`, '--clusterrole=flotilla-agent-cluster-scope', '--serviceaccount=flotilla-system:flotilla-agent']);
      await k(a, ['delete', 'namespace', name, '--wait=false', '--ignore-not-found']).catch(() => {});
    }
  });
});
