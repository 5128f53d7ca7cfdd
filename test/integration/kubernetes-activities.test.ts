// The Kubernetes activities on a real cluster, run in a mock activity context (no Temporal
// server needed): heartbeats come from the layer's progress callbacks, and failures arrive as
// ApplicationFailures whose type and retryability come from the error classification.
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createKubernetesActivities } from '../../activities/kubernetes.js';
import { StaticClusterDirectory } from '../../providers/cluster-directory.js';
import { ClusterRateLimits } from '../../providers/kubernetes/rate-limit.js';
import { renderEnvironment } from '../support/environments.js';
import { kubectl } from '../support/kubectl.js';
import { kubectlServerSideApply } from '../support/kubectl-apply.js';

const [cluster] = inject('clusters');
const kubectlBinary = inject('toolchain').kubectl;
const run = Math.random().toString(36).slice(2, 6);
const rateLimits = new ClusterRateLimits();
const directory = new StaticClusterDirectory([
  [cluster!.name, cluster!.kubeconfig],
  ['dead', cluster!.kubeconfig.replace(/server: https:\/\/127\.0\.0\.1:\d+/, 'server: https://127.0.0.1:1')],
]);
const activities = createKubernetesActivities({ clusters: directory, rateLimits });
const namespaces: string[] = [];

/** Runs an activity in a mock context, collecting its heartbeats. */
async function runActivity<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<{ result?: R; error?: unknown; heartbeats: unknown[] }> {
  const env = new MockActivityEnvironment();
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => heartbeats.push(details));
  try {
    return { result: await env.run(fn, ...args), heartbeats };
  } catch (error) {
    return { error, heartbeats };
  }
}

afterAll(async () => {
  await Promise.all(namespaces.map((ns) => kubectl(kubectlBinary, cluster!.kubeconfigPath, ['delete', 'namespace', ns, '--wait=false', '--ignore-not-found'])));
});

describe('kubernetes activities', () => {
  it('apply → prune → wait, heartbeating, with results in their recorded shapes', async () => {
    const namespace = `kl-act-${run}`;
    namespaces.push(namespace);
    const environment = `act-${run}`;
    const manifests = renderEnvironment({ environment, namespace, services: ['web', 'api'] });

    const applied = await runActivity(activities.applyManifests, { cluster: cluster!.name, manifests });
    expect(applied.error).toBeUndefined();
    expect(applied.result).toHaveLength(manifests.length);
    expect(applied.result![0]).toMatchObject({ apiVersion: 'v1', kind: 'Namespace', name: namespace, action: 'created' });
    expect(applied.heartbeats.at(-1)).toEqual({ applied: manifests.length, total: manifests.length });

    const rollout = await runActivity(activities.waitForRollout, {
      cluster: cluster!.name,
      deployments: [{ namespace, name: 'web' }, { namespace, name: 'api' }],
      timeoutSeconds: 120,
    });
    // The shape recorded in test/replay histories: DeploymentRollout[].
    expect(rollout.result).toEqual([
      { namespace, name: 'web', replicas: 1, updated: 1, ready: 1, available: 1, done: true },
      { namespace, name: 'api', replicas: 1, updated: 1, ready: 1, available: 1, done: true },
    ]);
    expect(rollout.heartbeats.length).toBeGreaterThan(0);

    const next = renderEnvironment({ environment, namespace, services: ['web'] });
    const pruned = await runActivity(activities.pruneObjects, {
      cluster: cluster!.name,
      namespace,
      environment,
      keep: next.map((m) => ({ apiVersion: m.apiVersion, kind: m.kind, namespace: m.metadata.namespace, name: m.metadata.name })),
    });
    expect(pruned.result?.map((p) => `${p.kind}/${p.name}`).sort()).toEqual(['ConfigMap/api-config', 'Deployment/api', 'Secret/api-secret', 'Service/api', 'ServiceAccount/api']);
    expect(pruned.heartbeats).toHaveLength(5);

    const workloads = await runActivity(activities.waitForWorkloads, { cluster: cluster!.name, workloads: [{ kind: 'Deployment', namespace, name: 'web' }], timeoutSeconds: 60 });
    expect(workloads.result).toEqual([{ kind: 'Deployment', namespace, name: 'web', desired: 1, updated: 1, ready: 1, done: true }]);

    const deleted = await runActivity(activities.deleteNamespace, { cluster: cluster!.name, namespace, timeoutSeconds: 120 });
    expect(deleted.result).toEqual({ deleted: true });
    expect(deleted.heartbeats.at(-1)).toMatchObject({ name: namespace, phase: 'Gone' });
  });

  it('fails without retry on a conflict, and with retry when the cluster is unreachable', async () => {
    const namespace = `kl-actc-${run}`;
    namespaces.push(namespace);
    const [ns, cm] = renderEnvironment({ environment: `actc-${run}`, namespace, services: ['web'] });
    await runActivity(activities.applyManifests, { cluster: cluster!.name, manifests: [ns!, cm!] });
    const theirs = { ...cm!, data: { SERVICE: 'theirs' } };
    await kubectlServerSideApply(kubectlBinary, cluster!.kubeconfigPath, theirs, 'other', ['--force-conflicts']);
    const conflict = await runActivity(activities.applyManifests, { cluster: cluster!.name, manifests: [ns!, cm!] });
    expect(conflict.error).toBeInstanceOf(ApplicationFailure);
    expect(conflict.error).toMatchObject({ type: 'ApplyConflict', nonRetryable: true });
    expect((conflict.error as ApplicationFailure).details?.[0]).toEqual([
      { object: { apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'web-config' }, conflicts: [expect.objectContaining({ manager: 'other', field: '.data.SERVICE' })] },
    ]);
    const forced = await runActivity(activities.applyManifests, { cluster: cluster!.name, manifests: [ns!, cm!], force: true });
    expect(forced.result?.map((a) => a.action)).toEqual(['unchanged', 'configured']);

    const unreachable = await runActivity(activities.applyManifests, { cluster: 'dead', manifests: [ns!] });
    expect(unreachable.error).toMatchObject({ type: 'ECONNREFUSED', nonRetryable: false });

    const invalid = await runActivity(activities.applyManifests, { cluster: cluster!.name, manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name', namespace } }] });
    expect(invalid.error).toMatchObject({ type: 'Invalid', nonRetryable: true });

    const unknown = await runActivity(activities.applyManifests, { cluster: 'nowhere', manifests: [ns!] });
    expect(unknown.error).toMatchObject({ type: 'UnknownCluster', nonRetryable: true });
  });
});
