// onboardCluster on the real dev server against real local clusters: a reachable cluster, one
// that is down at first, one with an unsupported version, and a worker killed mid-way while
// the wait continues as new (bounded history). Each reports to the operations index.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AGENT_SERVICE_ACCOUNT, SYSTEM_NAMESPACE } from '../../domain/baseline.js';
import { LocalFleet } from '../../local/fleet.js';
import { activityDeps } from '../../worker/deps.js';
import { createFlotillaWorker } from '../../worker/worker.js';
import { onboardCluster } from '../../workflows/onboard-cluster.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { rootCause, until } from '../support/wait.js';
import { recordHistory } from '../support/histories.js';
import { kubectl } from '../support/kubectl.js';
import { startWorkerProcess } from '../support/worker-process.js';
import { tierClient, tierWorkflowBundle } from '../support/tier-temporal.js';

const exec = promisify(execFile);
const toolchain = inject('toolchain');
const shared = inject('clusters');
const run = Math.random().toString(36).slice(2, 7);
const taskQueue = `onboarding-${run}`;



describe('onboardCluster', () => {
  let fleet: LocalFleet;
  let tc: TestCatalog;
  let client: Client;
  const flaky = `onb-${run}`;
  /** A cluster where someone already has a flotilla-system namespace, and a binding named like Flotilla's. */
  const occupied = `onb-occ-${run}`;

  beforeAll(async () => {
    fleet = await LocalFleet.create({
      toolchain, deleteOnSignal: false,
      clusters: [{ name: flaky, labels: { tier: 'dev' }, baseline: false }, { name: occupied, labels: { tier: 'dev' }, baseline: false, nodes: 1 }],
    });
    tc = await testCatalog([...shared, ...fleet.clusters]);
    client = await tierClient();
  });
  afterAll(async () => {
    await fleet?.delete();
    await client?.connection.close();
    await tc?.close();
  });

  async function inProcessWorker<T>(fn: () => Promise<T>): Promise<T> {
    const { worker, connection } = await createFlotillaWorker({
      workflowBundle: tierWorkflowBundle(),
      address: inject('temporalAddress'),
      namespace: inject('temporalNamespace'),
      taskQueue,
      deps: activityDeps({ catalog: tc.catalog, adapters: {} }),
    });
    try {
      return await worker.runUntil(fn);
    } finally {
      await connection.close();
    }
  }

  it('installs a least-privilege baseline, reads capacity and marks the cluster ready', async () => {
    const cluster = shared[0]!;
    const result = await inProcessWorker(() =>
      client.workflow.execute(onboardCluster, { taskQueue, workflowId: `onboard-${cluster.name}-${run}`, args: [{ cluster: cluster.name }] }),
    );
    expect(result).toMatchObject({ cluster: cluster.name, version: 'v1.34.4', attempts: 1, capacity: { nodes: 2 } });
    expect(await tc.catalog.clusters.require(cluster.name)).toMatchObject({ status: 'ready', version: 'v1.34.4', capacity: { nodes: 2 } });
    // The workflow keeps the operations index in step itself (nobody recorded this start).
    expect(await tc.catalog.operations.require(`onboard-${cluster.name}-${run}`)).toMatchObject({
      kind: 'onboarding', state: 'completed', outcome: 'completed', clusters: [cluster.name],
    });
    const sa = await kubectl(toolchain.kubectl, cluster.kubeconfigPath, ['get', 'serviceaccount', AGENT_SERVICE_ACCOUNT, '-n', SYSTEM_NAMESPACE, '-o', 'name']);
    expect(sa.trim()).toBe(`serviceaccount/${AGENT_SERVICE_ACCOUNT}`);

    // The installed service account: no cluster-admin, and no write at all at cluster scope or in a
    // namespace nobody bound it in (issue 10, finding 5; agent-rbac.test.ts shows it per namespace).
    const as = ['--as', `system:serviceaccount:${SYSTEM_NAMESPACE}:${AGENT_SERVICE_ACCOUNT}`];
    for (const where of [[], ['-n', 'shop'], ['-n', 'kube-system']]) {
      const list = await kubectl(toolchain.kubectl, cluster.kubeconfigPath, ['auth', 'can-i', '--list', ...where, ...as]);
      const rows = list.trim().split('\n').slice(1).map((line) => line.trim().split(/\s{2,}|\t/));
      // kubectl prints: Resources  Non-Resource URLs  Resource Names  Verbs
      const granted = rows.map((r) => ({ resource: r[0]!, verbs: r.at(-1)! }));
      expect(granted.some((g) => g.resource === '*.*' || g.verbs.includes('*'))).toBe(false);
      const writes = granted.filter((g) => /create|update|patch|delete/.test(g.verbs) && !/^self.*reviews\./.test(g.resource)).map((g) => g.resource);
      expect(writes, list).toEqual([]);
      expect(granted.filter((g) => g.resource === 'nodes').map((g) => g.verbs), list).toEqual(['[get list watch]']);
    }
    const can = async (...args: string[]) =>
      (await exec(toolchain.kubectl, ['--kubeconfig', cluster.kubeconfigPath, 'auth', 'can-i', ...args, ...as]).then((r) => r.stdout, (e: { stdout: string }) => e.stdout)).trim();
    expect(await can('create', 'deployments.apps', '-n', 'shop')).toBe('no');
    expect(await can('list', 'nodes')).toBe('yes');
    expect(await can('*', '*')).toBe('no');
    expect(await can('create', 'clusterrolebindings')).toBe('no');
    expect(await can('delete', 'nodes')).toBe('no');
    expect(await can('create', 'pods', '-n', 'kube-system')).toBe('no');
  });

  it('refuses an unsupported version with a clear failure and installs nothing', async () => {
    // This test's own cluster: the shared ones may have been onboarded by other test files.
    const cluster = fleet.cluster(flaky);
    const outcome = await inProcessWorker(() =>
      client.workflow
        .execute(onboardCluster, {
          taskQueue,
          workflowId: `onboard-${cluster.name}-old-${run}`,
          args: [{ cluster: cluster.name, supportedVersions: { minMinor: 35, maxMinor: 37 } }],
        })
        .then(() => undefined, (e: unknown) => e),
    );
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    const cause = rootCause(outcome);
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('UnsupportedVersion');
    expect((cause as Error).message).toBe('Kubernetes v1.34.4 is outside the supported range 1.35–1.37');
    expect(await tc.catalog.clusters.require(cluster.name)).toMatchObject({ status: 'degraded', statusMessage: (cause as Error).message });
    expect(await tc.catalog.operations.require(`onboard-${cluster.name}-old-${run}`)).toMatchObject({
      kind: 'onboarding', state: 'failed', outcome: 'failed', message: (cause as Error).message, clusters: [cluster.name],
    });
    const namespaces = await kubectl(toolchain.kubectl, cluster.kubeconfigPath, ['get', 'namespaces', '-o', 'name']);
    expect(namespaces).not.toContain(`namespace/${SYSTEM_NAMESPACE}`);
  });

  it('waits while the cluster is down, reporting unreachable, and completes once it is up', async () => {
    await fleet.stop(flaky);
    const result = await inProcessWorker(async () => {
      const handle = await client.workflow.start(onboardCluster, {
        taskQueue, workflowId: `onboard-${flaky}-down-${run}`, args: [{ cluster: flaky, maxRetryIntervalMs: 1000 }],
      });
      await until('status unreachable', async () => (await tc.catalog.clusters.require(flaky)).status === 'unreachable');
      await fleet.start(flaky);
      const value = await handle.result();
      if (process.env.FLOTILLA_RECORD_HISTORIES) await recordHistory('onboard-cluster-unreachable-then-up', handle);
      return value;
    });
    expect(result.attempts).toBeGreaterThan(1);
    expect(await tc.catalog.clusters.require(flaky)).toMatchObject({ status: 'ready', version: 'v1.34.4' });
  });

  it('completes after its worker process is killed mid-onboarding, its wait continued as new to keep the history bounded', async () => {
    await fleet.stop(flaky);
    const env = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      FLOTILLA_TASK_QUEUE: `${taskQueue}-proc`,
      FLOTILLA_CATALOG_URL: tc.url,
      FLOTILLA_MASTER_KEY: tc.masterKey,
    };
    const first = startWorkerProcess(env);
    await first.ready;
    const id = `onboard-${flaky}-killed-${run}`;
    // A tiny history bound: the wait goes on in fresh runs after the first attempt or two.
    const handle = await client.workflow.start(onboardCluster, {
      taskQueue: env.FLOTILLA_TASK_QUEUE, workflowId: id, args: [{ cluster: flaky, maxRetryIntervalMs: 1000, maxHistoryEvents: 20 }],
    });
    await until('status unreachable', async () => (await tc.catalog.clusters.require(flaky)).status === 'unreachable');
    await first.kill('SIGKILL');
    await fleet.start(flaky);
    const second = startWorkerProcess(env);
    try {
      await second.ready;
      const result = await handle.result();
      expect(result).toMatchObject({ cluster: flaky, version: 'v1.34.4' });
      // The attempts are counted across the runs.
      expect(result.attempts).toBeGreaterThan(1);
      expect(await tc.catalog.clusters.require(flaky)).toMatchObject({ status: 'ready' });
      const runs: string[] = [];
      await until('the runs in visibility', async () => {
        runs.length = 0;
        for await (const w of client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(w.status.name);
        return runs.includes('COMPLETED');
      });
      expect(runs.filter((r) => r === 'CONTINUED_AS_NEW').length, runs.join()).toBeGreaterThan(0);
      expect(runs.filter((r) => r !== 'CONTINUED_AS_NEW'), runs.join()).toEqual(['COMPLETED']);
      // Every run stayed within a few attempts' worth of events.
      const lengths: number[] = [];
      for await (const w of client.workflow.list({ query: `WorkflowId = '${id}'` })) lengths.push(w.historyLength);
      expect(Math.max(...lengths), lengths.join()).toBeLessThan(100);
      expect(await tc.catalog.operations.require(id)).toMatchObject({ kind: 'onboarding', state: 'completed', outcome: 'completed' });
      const ns = await kubectl(toolchain.kubectl, fleet.cluster(flaky).kubeconfigPath, ['get', 'namespace', SYSTEM_NAMESPACE, '-o', 'name']);
      expect(ns.trim()).toBe(`namespace/${SYSTEM_NAMESPACE}`);
    } finally {
      await second.kill('SIGTERM');
    }
  });

  it('a failed baseline install removes only what Flotilla created: a namespace and a binding someone else had stay, with what is in them', async () => {
    const cluster = fleet.cluster(occupied);
    const kc = (args: string[]) => kubectl(toolchain.kubectl, cluster.kubeconfigPath, args);
    await kc(['create', 'namespace', SYSTEM_NAMESPACE]);
    await kc(['create', 'configmap', 'team-settings', '-n', SYSTEM_NAMESPACE, '--from-literal=owner=platform-team']);
    // Same name as Flotilla's agent binding, another role: its roleRef cannot change, so the install fails there.
    await kc(['create', 'clusterrolebinding', 'flotilla-agent', '--clusterrole=view', '--group=platform-team']);

    const outcome = await inProcessWorker(() =>
      client.workflow.execute(onboardCluster, { taskQueue, workflowId: `onboard-${cluster.name}-${run}`, args: [{ cluster: cluster.name }] })
        .then(() => undefined, (e: unknown) => e),
    );
    expect((rootCause(outcome) as ApplicationFailure).type).toBe('BaselineFailed');
    // Someone's namespace (not even being deleted), their ConfigMap in it and their binding: all still there, unchanged.
    expect((await kc(['get', 'namespace', SYSTEM_NAMESPACE, '-o', 'jsonpath={.status.phase}'])).trim()).toBe('Active');
    expect((await kc(['get', 'configmap', 'team-settings', '-n', SYSTEM_NAMESPACE, '-o', 'jsonpath={.data.owner}'])).trim()).toBe('platform-team');
    expect((await kc(['get', 'clusterrolebinding', 'flotilla-agent', '-o', 'jsonpath={.roleRef.name}'])).trim()).toBe('view');
    // What Flotilla created before the failure is gone again.
    expect((await kc(['get', 'serviceaccounts', '-n', SYSTEM_NAMESPACE, '-o', 'name'])).split('\n')).not.toContain(`serviceaccount/${AGENT_SERVICE_ACCOUNT}`);
    expect(await kc(['get', 'clusterroles', '-o', 'name'])).not.toMatch(/clusterrole\.rbac\.authorization\.k8s\.io\/flotilla-/);
  });
});
