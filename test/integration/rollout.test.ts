// The foundation's proof: a real workflow on the real Temporal dev server applies a Deployment
// to two real clusters and waits until it is available in both; kubectl then sees the pods.
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { activityDeps } from '../../worker/deps.js';
import { createFlotillaWorker, workflowsPath } from '../../worker/worker.js';
import { rolloutToClusters } from '../../workflows/rollout.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { recordHistory } from '../support/histories.js';
import { rootCause } from '../support/wait.js';
import { kubectlJson } from '../support/kubectl.js';
import { webDeployment } from '../support/manifests.js';

const clusters = inject('clusters');
const toolchain = inject('toolchain');
const taskQueue = `rollout-${Date.now()}`;


interface PodList {
  items: { metadata: { name: string }; status: { phase: string; conditions?: { type: string; status: string }[] } }[];
}

describe('rolloutToClusters on the real dev server and local fleet', () => {
  let connection: Connection;
  let client: Client;
  let catalog: TestCatalog;

  beforeAll(async () => {
    connection = await Connection.connect({ address: inject('temporalAddress') });
    client = new Client({ connection, namespace: inject('temporalNamespace') });
    catalog = await testCatalog(clusters);
  });
  afterAll(async () => {
    await connection?.close();
    await catalog?.close();
  });

  it('applies a Deployment to two clusters, waits for it, and kubectl sees Running pods in each', async () => {
    const { worker, connection: workerConnection } = await createFlotillaWorker({
      address: inject('temporalAddress'),
      namespace: inject('temporalNamespace'),
      taskQueue,
      deps: activityDeps({ catalog: catalog.catalog, adapters: {} }),
    });
    const namespace = 'foundation-it';
    const workflowId = `rollout-it-${Date.now()}`;
    const result = await worker.runUntil(async () => {
      const handle = await client.workflow.start(rolloutToClusters, {
        taskQueue,
        workflowId,
        args: [{ clusters: clusters.map((c) => c.name), manifests: webDeployment(namespace, 'web', 2), rolloutTimeoutSeconds: 120 }],
      });
      const value = await handle.result();
      // The recorded histories feed the offline replay tests (test/replay).
      if (process.env.FLOTILLA_RECORD_HISTORIES) {
        await recordHistory('rollout-to-clusters', handle);
        await recordHistory('rollout-to-cluster', client.workflow.getHandle(`${workflowId}/${clusters[0]!.name}`));
      }
      // The live history replays against the current code too.
      await Worker.runReplayHistory({ workflowsPath }, await handle.fetchHistory(), workflowId);
      return value;
    });
    await workerConnection.close();

    expect(result.map((r) => r.cluster).sort()).toEqual(clusters.map((c) => c.name).sort());
    for (const r of result) {
      expect(r.deployments).toEqual([{ namespace, name: 'web', available: 2, replicas: 2 }]);
    }
    for (const cluster of clusters) {
      const pods = await kubectlJson<PodList>(toolchain.kubectl, cluster.kubeconfigPath, [
        'get', 'pods', '-n', namespace, '-l', 'app.kubernetes.io/name=web',
      ]);
      expect(pods.items).toHaveLength(2);
      for (const pod of pods.items) {
        expect(pod.status.phase).toBe('Running');
        expect(pod.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      }
    }
  });

  it('fails without retrying when a cluster is unknown', async () => {
    const { worker, connection: workerConnection } = await createFlotillaWorker({
      address: inject('temporalAddress'),
      namespace: inject('temporalNamespace'),
      taskQueue,
      deps: activityDeps({ catalog: catalog.catalog, adapters: {} }),
    });
    const outcome = await worker.runUntil(
      client.workflow
        .execute(rolloutToClusters, {
          taskQueue,
          workflowId: `rollout-unknown-${Date.now()}`,
          args: [{ clusters: ['nowhere'], manifests: webDeployment('x') }],
        })
        .then(() => 'completed', (error: unknown) => error),
    );
    await workerConnection.close();
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    const root = rootCause(outcome) as Error;
    expect(root).toBeInstanceOf(ApplicationFailure);
    expect((root as ApplicationFailure).type).toBe('UnknownCluster');
    expect((root as ApplicationFailure).nonRetryable).toBe(true);
    expect(root.message).toBe('unknown cluster "nowhere"');
  });
});
