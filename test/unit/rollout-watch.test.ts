// waitForRollouts with `watch`: lists come from a fake client, watches from a local HTTP server
// that streams events as the API server does (one JSON object per line), so client-node's Watch
// and watchObjects run for real. The clock is fake: a poll happens only when a test moves it,
// so a wait that returns without one was woken by the watch.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, type RequestOptions } from '../../providers/kubernetes/client.js';
import { JobFailedError, waitForRollouts, type WaitOptions, type WorkloadRef } from '../../providers/kubernetes/rollout.js';
import { FakeClock } from '../support/fake-clock.js';

type Json = Record<string, unknown>;

interface WatchRequest {
  path: string;
  query: URLSearchParams;
  res: ServerResponse;
  closed: boolean;
}

/** Watch requests, kept open until the test answers or the client goes away. */
class WatchServer {
  readonly watches: WatchRequest[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.searchParams.get('watch') !== 'true') {
        res.writeHead(404).end();
        return;
      }
      const watch: WatchRequest = { path: url.pathname, query: url.searchParams, res, closed: false };
      this.watches.push(watch);
      res.on('close', () => (watch.closed = true));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  send(watch: WatchRequest, type: string, object: Json): void {
    watch.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  get open(): WatchRequest[] {
    return this.watches.filter((w) => !w.closed);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** Lists served from memory, each with the next resourceVersion; watches go to the server. */
class FakeCluster extends KubeClient {
  readonly objects = new Map<string, Json[]>(); // "plural/namespace" → items
  readonly lists: { path: string; resourceVersion: string; fieldSelector?: string }[] = [];
  private version = 100;

  constructor(server: string) {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server, skipTLSVerify: true }],
      users: [{ name: 'fake' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    });
    super(kc, { cluster: 'fake' });
  }

  put(plural: string, namespace: string, item: Json): void {
    const name = (o: Json) => (o.metadata as { name: string }).name;
    this.objects.set(`${plural}/${namespace}`, [...(this.objects.get(`${plural}/${namespace}`) ?? []).filter((o) => name(o) !== name(item)), item]);
  }

  override async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const m = /^\/apis\/[a-z.]+\/v1\/namespaces\/([^/]+)\/([a-z]+)$/.exec(path);
    if (method !== 'GET' || !m) throw new Error(`unexpected ${method} ${path}`);
    const resourceVersion = String(++this.version);
    const fieldSelector = options.query?.fieldSelector as string | undefined;
    this.lists.push({ path, resourceVersion, ...(fieldSelector ? { fieldSelector } : {}) });
    const items = (this.objects.get(`${m[2]}/${m[1]}`) ?? []).filter((o) => !fieldSelector || fieldSelector === `metadata.name=${(o.metadata as { name: string }).name}`);
    return structuredClone({ items, metadata: { resourceVersion } }) as T;
  }
}

function deployment(name: string, available: number): Json {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, namespace: 'shop', generation: 2 },
    spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: {} },
    status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: available, availableReplicas: available },
  };
}

function failedJob(name: string): Json {
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: { name, namespace: 'shop' },
    spec: { completions: 1 },
    status: { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] },
  };
}

/** Waits in real time for the client's side of the sockets (the fake clock does not move). */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const server = new WatchServer();
beforeAll(() => server.start());
afterAll(() => server.stop());

function start(cluster: FakeCluster, workloads: WorkloadRef[], options: Partial<WaitOptions> & { clock: FakeClock }) {
  let outcome: { value?: unknown; error?: unknown } | undefined;
  const promise = waitForRollouts(cluster, workloads, { timeoutMs: 600_000, pollMs: 250, watch: true, ...options }).then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  return { promise, state: () => outcome };
}

describe('waitForRollouts with watch', () => {
  it('returns on the watch event that completes the rollout, without another poll, and closes the watch', async () => {
    const cluster = new FakeCluster(server.url);
    const clock = new FakeClock();
    cluster.put('deployments', 'shop', deployment('web', 1));
    cluster.put('deployments', 'shop', deployment('api', 2));
    const before = server.watches.length;
    const wait = start(cluster, [{ kind: 'Deployment', namespace: 'shop', name: 'web' }, { kind: 'Deployment', namespace: 'shop', name: 'api' }], { clock });
    await until(() => server.watches.length > before, 'the watch');
    const watch = server.watches.at(-1)!;
    // One watch for the kind and namespace, from where the list ended.
    expect(watch.path).toBe('/apis/apps/v1/namespaces/shop/deployments');
    expect(watch.query.get('resourceVersion')).toBe(cluster.lists[0]!.resourceVersion);

    server.send(watch, 'MODIFIED', deployment('other', 0)); // not waited for: no effect
    server.send(watch, 'MODIFIED', deployment('web', 2));
    await wait.promise;
    expect(wait.state()?.value).toMatchObject([{ name: 'web', done: true, ready: 2 }, { name: 'api', done: true }]);
    expect(cluster.lists).toHaveLength(1);
    expect(clock.now()).toBe(0);
    await until(() => watch.closed, 'the watch to close');
  });

  it('opens no watch when its first list finds every workload done', async () => {
    const cluster = new FakeCluster(server.url);
    cluster.put('deployments', 'shop', deployment('web', 2));
    const before = server.watches.length;
    const wait = start(cluster, [{ kind: 'Deployment', namespace: 'shop', name: 'web' }], { clock: new FakeClock() });
    await wait.promise;
    expect(wait.state()?.value).toMatchObject([{ name: 'web', done: true }]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.watches.length).toBe(before);
  });

  it('watches a lone workload by name and fails at once on the event of a failed Job', async () => {
    const cluster = new FakeCluster(server.url);
    const clock = new FakeClock();
    cluster.put('jobs', 'shop', { ...failedJob('migrate'), status: { active: 1 } });
    const before = server.watches.length;
    const wait = start(cluster, [{ kind: 'Job', namespace: 'shop', name: 'migrate' }], { clock });
    await until(() => server.watches.length > before, 'the watch');
    const watch = server.watches.at(-1)!;
    expect(cluster.lists[0]).toMatchObject({ path: '/apis/batch/v1/namespaces/shop/jobs', fieldSelector: 'metadata.name=migrate' });
    expect(watch.query.get('fieldSelector')).toBe('metadata.name=migrate');
    server.send(watch, 'MODIFIED', failedJob('migrate'));
    await wait.promise;
    expect(wait.state()?.error).toBeInstanceOf(JobFailedError);
    expect(cluster.lists).toHaveLength(1);
    await until(() => watch.closed, 'the watch to close');
  });

  it('falls back to polling every pollMs when the watch fails (410 Gone), and watches again from the next list', async () => {
    const cluster = new FakeCluster(server.url);
    const clock = new FakeClock();
    cluster.put('deployments', 'shop', deployment('web', 1));
    const before = server.watches.length;
    const wait = start(cluster, [{ kind: 'Deployment', namespace: 'shop', name: 'web' }], { clock, pollMs: 250 });
    await until(() => server.watches.length > before && clock.pending === 1, 'the watch');
    // Watching: the next list is the safety net, 2 s away.
    expect(clock.sleeps.at(-1)).toBe(2_000);
    const first = server.watches.at(-1)!;
    server.send(first, 'ERROR', { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version' });
    await until(() => first.closed && clock.sleeps.at(-1) === 250, 'the fallback to polling');
    expect(wait.state()).toBeUndefined();

    await clock.advance(250);
    await until(() => server.watches.length > before + 1, 'the watch to reopen');
    expect(cluster.lists).toHaveLength(2);
    const second = server.watches.at(-1)!;
    expect(second.query.get('resourceVersion')).toBe(cluster.lists[1]!.resourceVersion);
    server.send(second, 'MODIFIED', deployment('web', 2));
    await wait.promise;
    expect(wait.state()?.value).toMatchObject([{ name: 'web', done: true }]);
    await until(() => second.closed, 'the watch to close');
  });

  it('still finishes by polling when no watch can be opened, and closes the watches when its signal aborts', async () => {
    // A server that is not there: every watch fails at once.
    const cluster = new FakeCluster('http://127.0.0.1:9');
    const clock = new FakeClock();
    cluster.put('deployments', 'shop', deployment('web', 1));
    const wait = start(cluster, [{ kind: 'Deployment', namespace: 'shop', name: 'web' }], { clock, pollMs: 250 });
    await until(() => clock.sleeps.at(-1) === 250, 'polling');
    cluster.put('deployments', 'shop', deployment('web', 2));
    await clock.advance(250);
    await until(() => wait.state() !== undefined, 'the wait');
    expect(wait.state()?.value).toMatchObject([{ name: 'web', done: true }]);

    const healthy = new FakeCluster(server.url);
    healthy.put('deployments', 'shop', deployment('web', 1));
    const controller = new AbortController();
    const before = server.watches.length;
    const aborted = start(healthy, [{ kind: 'Deployment', namespace: 'shop', name: 'web' }], { clock: new FakeClock(), signal: controller.signal });
    await until(() => server.watches.length > before, 'the watch');
    controller.abort(new Error('cancelled by test'));
    await aborted.promise;
    expect((aborted.state()?.error as Error).message).toBe('cancelled by test');
    await until(() => server.watches.at(-1)!.closed, 'the watch to close');
  });
});
