// One long-lived client per cluster in the worker (issue 15, item 3): the activities of one
// worker reuse the cluster's connections instead of opening new ones (new TCP and TLS
// handshakes, two round trips each over a WAN) for every apply, wait and prune. Counted
// independently of the client code: by a TCP proxy of the test's own in front of the real API
// server, which counts the connections it accepts. Before the pool, every activity opened at
// least one (a deploy's apply two: the agent's and the bootstrap account's).
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDeployActivities } from '../../activities/deploy.js';
import type { AppSpecInput } from '../../domain/environment.js';
import { StaticClusterDirectory } from '../../providers/cluster-directory.js';
import { createEnvironment } from '../../store/changes.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { kubectl } from '../support/kubectl.js';

const [cluster] = inject('clusters');
const binary = inject('toolchain').kubectl;
const run = Math.random().toString(36).slice(2, 7);
const k = (args: string[]) => kubectl(binary, cluster!.kubeconfigPath, args);
const spec: AppSpecInput = { services: [{ name: 'web', image: 'ghcr.io/acme/web:1.0.0', ports: [{ port: 8080 }], resources: { limits: { cpu: '100m', memory: '64Mi' } } }] };

/** A TCP relay to the API server that counts the connections it accepts. */
async function countingProxy(upstream: URL): Promise<{ server: Server; port: number; accepted: () => number; sockets: Set<Socket> }> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server = createServer((downstream) => {
    accepted++;
    const up = connect(Number(upstream.port), upstream.hostname);
    for (const s of [downstream, up]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    downstream.pipe(up).pipe(downstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, accepted: () => accepted, sockets };
}

describe('cluster connections in the worker', () => {
  let tc: TestCatalog;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let activities: ReturnType<typeof createDeployActivities>;
  const environment = `conn-${run}`;

  beforeAll(async () => {
    tc = await testCatalog([cluster!]);
    const server = new URL(/server: (https:\/\/\S+)/.exec(cluster!.kubeconfig)![1]!);
    proxy = await countingProxy(server);
    // The API server's certificate names 127.0.0.1: the proxy's address passes TLS verification as it is.
    const proxied = cluster!.kubeconfig.replace(/server: https:\/\/\S+/, `server: https://127.0.0.1:${proxy.port}`);
    activities = createDeployActivities({ catalog: tc.catalog, clusters: new StaticClusterDirectory([[cluster!.name, proxied]]) });
    await createEnvironment(tc.catalog, { binding: { name: environment, application: 'shop', tier: 'dev', cluster: cluster!.name, namespace: environment }, spec, author: 'alice' });
  });
  afterAll(async () => {
    for (const s of proxy?.sockets ?? []) s.destroy();
    proxy?.server.close();
    await k(['delete', 'namespace', environment, '--wait=false', '--ignore-not-found']).catch(() => undefined);
    await tc?.close();
  });

  it('later deploys\' activities open no new connection to the cluster: the first one\'s serve them', async () => {
    const env = await tc.catalog.environments.require(environment);
    const target = { environment, revision: env.currentRevision!, overridesVersion: env.overridesVersion };
    const activity = <R>(fn: () => Promise<R>) => new MockActivityEnvironment().run(fn);

    // A deploy's cluster work, as the workflow runs it.
    const deploy = async () => {
      await activity(() => activities.applyRevision({ ...target, phase: 'all' }));
      await activity(() => activities.waitForRevision({ ...target, phase: 'all', timeoutSeconds: 120 }));
      await activity(() => activities.pruneRevision(target));
    };
    await deploy();
    const first = proxy.accepted();
    expect(first).toBeGreaterThan(0); // it did go through the proxy
    // The same work again: the connections the first run opened (as many as it had requests in flight) serve it.
    await deploy();
    await deploy();
    expect(proxy.accepted() - first).toBe(0);
    // And the work was done: kubectl, over its own connection, sees the Deployment.
    expect(await k(['get', 'deployment', 'web', '-n', environment, '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).toBe('ghcr.io/acme/web:1.0.0');
  });
});
