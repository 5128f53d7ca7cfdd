// The observer (worker/observer.ts as its own process) on the real local fleet, checked through
// the API and against kubectl: hand changes made with kubectl (scale, edit of an image, delete of
// a managed Service, label of a stray object) appear in GET /v1/drift with the field, the value
// and the kubectl command that made them — timed over 20 trials; a stopped cluster turns
// unreachable within 10 s (a cluster of its own, stopped with kwokctl: the tier's shared two stay
// up) with its last state still shown, marked stale, and fresh again within
// 10 s of its start; a killed observer, restarted, reports the drift made while it was down; a
// second observer takes half the clusters (never one the first still holds), and all of them
// when the first dies.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AppSpecInput } from '../../domain/environment.js';
import { LocalFleet } from '../../local/fleet.js';
import { createEnvironment } from '../../store/changes.js';
import { activityDeps } from '../../worker/deps.js';
import { runFlotillaWorker, type RunningWorker } from '../../worker/worker.js';
import { deployEnvironment } from '../../workflows/deploy-environment.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { kubectlJson } from '../support/kubectl.js';
import { startLiveApi, type LiveApi, until } from '../support/live-api.js';
import { startObserverProcess, type WorkerProcess as ObserverProcess } from '../support/worker-process.js';
import { tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';

const exec = promisify(execFile);
const toolchain = inject('toolchain');
type Cluster = ReturnType<typeof inject<'clusters'>>[number];
const [a] = inject('clusters') as [Cluster];
const run = Math.random().toString(36).slice(2, 7);
const taskQueue = `observer-${run}`;
const envA = `obs-a-${run}`;
const envB = `obs-b-${run}`;
const envHeal = `obs-heal-${run}`;
const observerId = `observer-it-${run}`;

const SPEC: AppSpecInput = {
  services: [{ name: 'web', image: 'ghcr.io/acme/web:4.2.0', ports: [{ port: 8080 }], replicas: 1, resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1', memory: '256Mi' } } }],
};

interface FieldDrift { path: string; expected?: unknown; actual?: unknown; changedBy?: string }
interface ObjectDrift { kind: string; name: string; reason: string; fields: FieldDrift[]; changedBy?: string }
interface DriftItem { environment: string; cluster: string; since?: string; objects: ObjectDrift[] }
interface FleetEnv { name: string; health: string; drifted: boolean; stale: boolean; ageSeconds?: number; services: { service: string; readyReplicas: number; desiredReplicas: number }[] }
interface FleetCluster { name: string; status: string; reachability: { state: string }; stale: boolean; ageSeconds?: number; environments: FleetEnv[] }

describe('the observer', () => {
  let tc: TestCatalog;
  let client: Client;
  let worker: RunningWorker;
  let api: LiveApi;
  let observer: ObserverProcess;
  let dir: string;
  /** A cluster of this test's own, which it stops and starts (the tier's shared two stay up for the other files). */
  let ownFleet: LocalFleet;
  let b: { name: string };
  const observerEnv = () => ({
    FLOTILLA_CATALOG_URL: tc.url, FLOTILLA_MASTER_KEY: tc.masterKey, FLOTILLA_OBSERVER_ID: observerId,
    TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: inject('temporalNamespace'), FLOTILLA_TASK_QUEUE: taskQueue,
    // A dead observer's clusters go to another after 6 s rather than 15: the handover test waits it out.
    FLOTILLA_OBSERVER_LEASE_SECONDS: '6',
  });
  const k = (args: string[], env: Record<string, string> = {}) =>
    exec(toolchain.kubectl, ['--kubeconfig', a.kubeconfigPath, '-n', envA, ...args], { env: { ...process.env, ...env } });

  const drift = async (env: string): Promise<DriftItem | undefined> =>
    (await api.request<{ items: DriftItem[] }>('GET', '/v1/drift')).body.items.find((i) => i.environment === env);
  const fleetCluster = async (name: string): Promise<FleetCluster> =>
    (await api.request<{ clusters: FleetCluster[] }>('GET', '/v1/fleet')).body.clusters.find((c) => c.name === name)!;

  /** Milliseconds until `probe` holds, polling the API every 25 ms. */
  async function msUntil(what: string, probe: () => Promise<boolean>, since: number, timeoutMs = 15_000): Promise<number> {
    for (;;) {
      if (await probe()) return performance.now() - since;
      if (performance.now() - since > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  const clean = (env: string) => until(`${env} without drift`, async () => (await drift(env)) === undefined, 20_000);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'observer-it-'));
    ownFleet = await LocalFleet.create({ toolchain, clusters: [{ name: `obs-${run}`, labels: { tier: 'prod', geo: 'eu' } }] });
    const own = ownFleet.clusters[0]!;
    b = own;
    tc = await testCatalog([a, { name: own.name, kubeconfig: own.kubeconfig, labels: own.labels, allowedTiers: ['staging'] }]);
    for (const c of [a, b]) await tc.catalog.clusters.updateStatus(c.name, { status: 'ready' });
    client = await tierClient();
    worker = await runFlotillaWorker({ address: inject('temporalAddress'), namespace: inject('temporalNamespace'), taskQueue, deps: activityDeps({ catalog: tc.catalog, adapters: {} }), workflowBundle: tierWorkflowBundle() });
    api = await startLiveApi(tc.catalog, client, taskQueue);
    for (const [name, cluster] of [[envA, a.name], [envB, b.name], [envHeal, a.name]] as const) {
      const driftPolicy = name === envHeal ? 'heal' as const : undefined;
      await createEnvironment(tc.catalog, { binding: { name, application: 'shop', tier: 'staging', cluster, namespace: name }, spec: SPEC, driftPolicy, author: 'setup' });
      await client.workflow.execute(deployEnvironment, { taskQueue, workflowId: `deploy-${name}`, args: [{ environment: name, requestedBy: 'setup', rolloutTimeoutSeconds: 120 }] });
    }
    observer = startObserverProcess(observerEnv());
    await observer.ready;
    await until('both environments observed healthy', async () => {
      const envs = (await Promise.all([fleetCluster(a.name), fleetCluster(b.name)])).flatMap((c) => c.environments);
      return [envA, envB, envHeal].every((n) => envs.some((e) => e.name === n && e.health === 'healthy' && !e.drifted));
    }, 60_000).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\ndrift: ${JSON.stringify(await drift(envA))}\nfleet: ${JSON.stringify(await fleetCluster(a.name))}\nobserver:\n${observer.output}`);
    });
  });
  afterAll(async () => {
    await observer?.kill('SIGTERM');
    await api?.close();
    await worker?.stop();
    await client?.connection.close();
    await tc?.close();
    await ownFleet?.delete();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports kubectl scale, edit, delete and label in /v1/drift within seconds (20 trials)', async () => {
    // The Service as it is now, to put back after each delete (no server-set fields).
    const svc = await kubectlJson<{ metadata: Record<string, unknown>; spec: Record<string, unknown> }>(toolchain.kubectl, a.kubeconfigPath, ['-n', envA, 'get', 'service', 'web', '-o', 'json']);
    for (const f of ['resourceVersion', 'uid', 'creationTimestamp', 'managedFields']) delete svc.metadata[f];
    for (const f of ['clusterIP', 'clusterIPs']) delete svc.spec[f];
    const svcFile = join(dir, 'service.json');
    writeFileSync(svcFile, JSON.stringify(svc));
    const latencies: Record<string, number[]> = { scale: [], edit: [], delete: [], label: [] };
    const seen = (pick: (d: DriftItem) => boolean) => async () => {
      const d = await drift(envA);
      return d !== undefined && pick(d);
    };
    const field = (d: DriftItem, kind: string, path: string) => d.objects.find((o) => o.kind === kind)?.fields.find((f) => f.path === path);

    for (let round = 0; round < 5; round++) {
      let t0 = performance.now();
      await k(['scale', 'deployment/web', '--replicas=3']);
      latencies.scale!.push(await msUntil('scale drift', seen((d) => field(d, 'Deployment', 'spec.replicas')?.actual === 3), t0));
      const scaled = field((await drift(envA))!, 'Deployment', 'spec.replicas')!;
      expect(scaled).toMatchObject({ expected: 1, actual: 3, changedBy: 'kubectl' });
      await k(['scale', 'deployment/web', '--replicas=1']);
      await clean(envA);

      // A real `kubectl edit`, its editor a sed that changes the image.
      t0 = performance.now();
      await k(['edit', 'deployment/web'], { KUBE_EDITOR: 'sed -i -e s#ghcr.io/acme/web:4.2.0#ghcr.io/acme/web:6.6.6#' });
      const image = 'spec.template.spec.containers[name=web].image';
      latencies.edit!.push(await msUntil('edit drift', seen((d) => field(d, 'Deployment', image)?.actual === 'ghcr.io/acme/web:6.6.6'), t0));
      expect(field((await drift(envA))!, 'Deployment', image)).toMatchObject({ expected: 'ghcr.io/acme/web:4.2.0', changedBy: 'kubectl-edit' });
      await k(['edit', 'deployment/web'], { KUBE_EDITOR: 'sed -i -e s#ghcr.io/acme/web:6.6.6#ghcr.io/acme/web:4.2.0#' });
      await clean(envA);

      t0 = performance.now();
      await k(['delete', 'service', 'web', '--wait=false']);
      latencies.delete!.push(await msUntil('delete drift', seen((d) => d.objects.some((o) => o.kind === 'Service' && o.name === 'web' && o.reason === 'deleted')), t0));
      await k(['create', '-f', svcFile]);
      await clean(envA);

      const stray = `stray-${round}`;
      await k(['create', 'configmap', stray, '--from-literal=a=b']);
      t0 = performance.now();
      await k(['label', 'configmap', stray, `flotilla.dev/environment=${envA}`, 'app.kubernetes.io/managed-by=flotilla']);
      latencies.label!.push(await msUntil('label drift', seen((d) => d.objects.some((o) => o.kind === 'ConfigMap' && o.name === stray && o.reason === 'extra')), t0));
      expect((await drift(envA))!.objects.find((o) => o.name === stray)).toMatchObject({ reason: 'extra', changedBy: 'kubectl-label' });
      await k(['delete', 'configmap', stray]);
      await clean(envA);
    }

    const all = Object.values(latencies).flat().sort((x, y) => x - y);
    const p50 = all[Math.floor(all.length / 2)]!;
    const max = all.at(-1)!;
    const summary = Object.fromEntries(Object.entries(latencies).map(([kind, ms]) => [kind, ms.map((m) => Math.round(m))]));
    console.log(`[observer] drift latency over ${all.length} trials: p50 ${Math.round(p50)} ms, max ${Math.round(max)} ms; per kind (ms): ${JSON.stringify(summary)}`);
    expect(all).toHaveLength(20);
    expect(p50).toBeLessThanOrEqual(2_000);
    expect(max).toBeLessThanOrEqual(5_000);
  });

  it('heals a `driftPolicy: heal` environment back to its revision within 10 s, once', async () => {
    const replicas = async () => Number((await exec(toolchain.kubectl, ['--kubeconfig', a.kubeconfigPath, '-n', envHeal, 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}'])).stdout);
    const heals = async (env: string) => (await tc.catalog.operations.list({ kind: 'deploy', environment: env })).items.filter((o) => o.id.startsWith('heal-'));
    const t0 = performance.now();
    await exec(toolchain.kubectl, ['--kubeconfig', a.kubeconfigPath, '-n', envHeal, 'scale', 'deployment/web', '--replicas=3']);
    const healed = await msUntil('the heal', async () => (await replicas()) === 1 && (await heals(envHeal)).some((h) => h.state === 'completed') && (await drift(envHeal)) === undefined, t0, 10_000);
    console.log(`[observer] ${envHeal} back at its revision ${Math.round(healed)} ms after kubectl scale`);
    // Settled: still one heal, its deploy of the same revision, audited as the observer's.
    await new Promise((r) => setTimeout(r, 4_000));
    const done = await heals(envHeal);
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ state: 'completed', outcome: 'completed', requestedBy: 'system:observer' });
    expect(await replicas()).toBe(1);
    const audit = await tc.catalog.audit.query({ action: 'environment.heal' });
    expect(audit.items.map((e) => [e.actor, e.target, e.operationId])).toEqual([['system:observer', `environment/${envHeal}`, done[0]!.id]]);
    // The kubectl history of revisions did not move: the heal deployed the deployed revision.
    const env = await tc.catalog.environments.require(envHeal);
    expect(env.deployed?.revision).toBe(env.currentRevision);
    // A report-only environment was never healed, for all its drift above.
    expect(await heals(envA)).toEqual([]);
  });

  it('marks a stopped cluster unreachable within 10 s, keeps its last state visible as stale, and is fresh within 10 s of its start', async () => {
    let t0 = performance.now();
    await ownFleet.stop(b.name);
    try {
      const down = await msUntil(`${b.name} unreachable`, async () => (await fleetCluster(b.name)).reachability.state === 'unreachable', t0, 10_000);
      const stale = await fleetCluster(b.name);
      expect(stale).toMatchObject({ status: 'unreachable', stale: true });
      const env = stale.environments.find((e) => e.name === envB)!;
      // Its last known state, marked stale with an age.
      expect(env).toMatchObject({ health: 'healthy', stale: true, services: [{ service: 'web', readyReplicas: 1, desiredReplicas: 1 }] });
      expect(env.ageSeconds).toBeGreaterThanOrEqual(0);
      console.log(`[observer] ${b.name} unreachable ${Math.round(down)} ms after kwokctl stop returned`);
    } finally {
      t0 = performance.now();
      await ownFleet.start(b.name);
    }
    const started = performance.now() - t0;
    t0 = performance.now();
    const up = await msUntil(`${b.name} fresh`, async () => {
      const c = await fleetCluster(b.name);
      return c.reachability.state === 'reachable' && !c.stale && c.environments.every((e) => !e.stale);
    }, t0, 10_000);
    console.log(`[observer] ${b.name} fresh ${Math.round(up)} ms after kwokctl start returned (it took ${Math.round(started)} ms)`);
    expect((await fleetCluster(b.name)).status).toBe('ready');
  });

  it('reports, once restarted, the drift made while it was killed', async () => {
    await observer.kill('SIGKILL');
    await k(['scale', 'deployment/web', '--replicas=4']);
    // The catalog still says no drift: nobody was watching.
    expect(await drift(envA)).toBeUndefined();
    observer = startObserverProcess(observerEnv());
    await observer.ready;
    const t0 = performance.now();
    await msUntil('drift made while down', async () => (await drift(envA))?.objects.some((o) => o.fields.some((f) => f.path === 'spec.replicas' && f.actual === 4)) ?? false, t0, 10_000);
    await k(['scale', 'deployment/web', '--replicas=1']);
    await clean(envA);
  });

  it('shares the clusters with a second observer, one each, never both on one; the survivor takes both when the other dies', async () => {
    const second = startObserverProcess({ ...observerEnv(), FLOTILLA_OBSERVER_ID: `second-${run}` });
    try {
      await second.ready;
      const holders = async () => {
        const leases = await tc.catalog.observations.leases();
        return [a.name, b.name].map((name) => leases.find((l) => l.cluster === name)?.holder);
      };
      // The first hands one cluster over (its share is now one of two); the second takes it.
      await until('the two observers to hold one cluster each', async () => new Set(await holders()).size === 2 && (await holders()).every(Boolean), 20_000);
      expect(new Set(await holders())).toEqual(new Set([observerId, `second-${run}`]));
      // Each cluster's observations come from its lease holder only.
      await until('each cluster written by its holder', async () => {
        const byCluster = new Map((await tc.catalog.observations.clusters()).map((c) => [c.cluster, c.observer]));
        const now = await holders();
        return [a.name, b.name].every((name, i) => byCluster.get(name) === now[i]);
      }, 10_000);
      await observer.kill('SIGKILL');
      // After the dead one's lease lapses (6 s here), the second writes both clusters.
      await until('the second observer to take over', async () => (await tc.catalog.observations.clusters()).every((c) => c.observer === `second-${run}`), 30_000);
      const t0 = performance.now();
      await k(['scale', 'deployment/web', '--replicas=2']);
      await msUntil('drift seen by the second observer', async () => (await drift(envA))?.objects.some((o) => o.fields.some((f) => f.actual === 2)) ?? false, t0, 5_000);
      await k(['scale', 'deployment/web', '--replicas=1']);
      await clean(envA);
    } finally {
      await second.kill('SIGTERM');
    }
  });
});
