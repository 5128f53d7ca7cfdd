// The Kubernetes activity layer on a real cluster, run in a mock activity context (no Temporal
// server needed): heartbeats come from the layer's progress callbacks, and failures arrive as
// ApplicationFailures whose type and retryability come from the error classification.
//
// deleteNamespace is the one activity left in activities/kubernetes.ts (the frozen legacy
// workflow workflows/legacy/promote-v1.ts calls it by name), so it carries these checks. How
// apply conflicts and invalid objects are classified (reason, retryability, conflict details)
// is covered by test/integration/kubernetes-layer.test.ts on a real cluster (and
// test/unit/kubernetes-errors.test.ts), and the deploy tests (test/integration/deploy.test.ts)
// cover the apply path of the deploy activities end to end.
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createKubernetesActivities } from '../../activities/kubernetes.js';
import type { NamespaceDeletion } from '../../providers/kubernetes/namespace.js';
import { StaticClusterDirectory } from '../../providers/cluster-directory.js';
import { ClusterRateLimits } from '../../providers/kubernetes/rate-limit.js';
import { kubectl } from '../support/kubectl.js';

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
const k = (args: string[]) => kubectl(kubectlBinary, cluster!.kubeconfigPath, args);

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
  await Promise.all(namespaces.map((ns) => k(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found'])));
});

describe('kubernetes activities', () => {
  it('deleteNamespace deletes a namespace, heartbeating its progress, and answers deleted:false once it is gone', async () => {
    const namespace = `kl-act-${run}`;
    namespaces.push(namespace);
    // Made by kubectl, the independent client; with content for the namespace controller to remove.
    await k(['create', 'namespace', namespace]);
    await k(['create', 'configmap', 'web-config', '-n', namespace, '--from-literal=SERVICE=web']);

    const deleted = await runActivity(activities.deleteNamespace, { cluster: cluster!.name, namespace, timeoutSeconds: 120 });
    expect(deleted.error).toBeUndefined();
    expect(deleted.result).toEqual({ deleted: true });
    expect(await k(['get', 'namespace', namespace, '--ignore-not-found', '-o', 'name'])).toBe('');
    // One heartbeat per poll, in the layer's NamespaceDeletion shape, the last one saying Gone.
    const states = deleted.heartbeats as NamespaceDeletion[];
    expect(states.length).toBeGreaterThan(0);
    expect(states.at(-1)).toMatchObject({ name: namespace, phase: 'Gone', conditions: [] });
    expect(states.slice(0, -1).every((s) => s.name === namespace && s.phase !== 'Gone')).toBe(true);

    // Repeating it (a Temporal retry) is harmless and says there was nothing to delete.
    const again = await runActivity(activities.deleteNamespace, { cluster: cluster!.name, namespace, timeoutSeconds: 30 });
    expect(again.error).toBeUndefined();
    expect(again.result).toEqual({ deleted: false });
    expect(again.heartbeats).toEqual([expect.objectContaining({ name: namespace, phase: 'Gone' })]);
  });

  it('fails with retry when the cluster is unreachable, and without retry when it is unknown', async () => {
    const namespace = `kl-actf-${run}`;

    const unreachable = await runActivity(activities.deleteNamespace, { cluster: 'dead', namespace, timeoutSeconds: 10 });
    expect(unreachable.error).toBeInstanceOf(ApplicationFailure);
    expect(unreachable.error).toMatchObject({ type: 'ECONNREFUSED', nonRetryable: false });

    const unknown = await runActivity(activities.deleteNamespace, { cluster: 'nowhere', namespace, timeoutSeconds: 10 });
    expect(unknown.error).toBeInstanceOf(ApplicationFailure);
    expect(unknown.error).toMatchObject({ type: 'UnknownCluster', nonRetryable: true });
    expect(unknown.heartbeats).toEqual([]);
  });
});
