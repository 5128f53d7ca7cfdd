// A local cluster behind Toxiproxy (local/toxiproxy.ts, LocalFleet's `proxy` option): kubectl and
// @kubernetes/client-node reach the real kube-apiserver through the proxy with the certificate
// verified, latency slows requests by at least the round trips they need, a proxy switched off
// refuses connections until it is switched on again, and a timeout toxic makes requests hang.
// Its own one-cluster fleet (own kwokctl workdir and toxiproxy-server), so the shared fleet is
// never slowed or cut off.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect, type PeerCertificate } from 'node:tls';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalFleet } from '../../local/fleet.js';
import { kubeConfigFromYaml } from '../../providers/kubernetes/kubeconfig.js';
import { until } from '../support/wait.js';

const toolchain = inject('toolchain');
const run = Math.random().toString(36).slice(2, 6);
const name = `toxi-${run}`;
/** One-way latency set on the proxy (each direction), so one round trip costs 2 × this. */
const LATENCY_MS = 80;
const ROUND_TRIP_MS = 2 * LATENCY_MS;

let fleet: LocalFleet;
let workdir: string;
/** kubectl's discovery cache, warmed once, so `get ns` makes one API request. */
let kubectlCache: string;

interface Timed { ms: number; stdout: string; error?: Error & { stderr: string } }

/** Runs kubectl against a kubeconfig and times it; never throws (the result carries the error). */
function kubectl(kubeconfigPath: string, args: string[]): Promise<Timed> {
  const started = performance.now();
  return new Promise((done) => {
    execFile(toolchain.kubectl, ['--kubeconfig', kubeconfigPath, '--cache-dir', kubectlCache, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      const ms = performance.now() - started;
      done({ ms, stdout, error: error ? Object.assign(error, { stderr }) : undefined });
    });
  });
}

/** TLS options (CA, client certificate and key) from a kubeconfig, as client-node applies them. */
async function tlsOptions(kubeconfig: string): Promise<RequestOptions> {
  const options: RequestOptions = {};
  await kubeConfigFromYaml(kubeconfig).applyToHTTPSOptions(options);
  return { ca: options.ca, cert: options.cert, key: options.key };
}

/** GET a path over https with a given agent; resolves with the time and whether the socket was reused. */
function get(server: string, path: string, agent: Agent, tls: RequestOptions): Promise<{ ms: number; status: number; reused: boolean }> {
  const url = new URL(path, server);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ ...tls, host: url.hostname, port: url.port, path: url.pathname, agent, timeout: 15_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ms: performance.now() - started, status: res.statusCode ?? 0, reused: req.reusedSocket }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe('a cluster behind Toxiproxy', () => {
  beforeAll(async () => {
    workdir = mkdtempSync(join(tmpdir(), 'flotilla-toxiproxy-'));
    kubectlCache = join(workdir, 'kubectl-cache');
    fleet = await LocalFleet.create({
      toolchain,
      workdir: join(workdir, 'fleet'),
      clusters: [{ name, nodes: 1, persistentVolumes: 0 }],
      proxy: {},
      deleteOnSignal: false,
      log: (m) => console.error(`[toxiproxy-test] ${m}`),
    });
    // Warm kubectl's discovery cache for this server, with no toxics.
    const warm = await kubectl(fleet.cluster(name).kubeconfigPath, ['get', 'ns']);
    if (warm.error) throw warm.error;
  });

  afterEach(async () => {
    await fleet?.faults(name).reset();
  });

  afterAll(async () => {
    await fleet?.delete();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  it('serves kubectl and client-node through the proxy, with the API server certificate verified', async () => {
    const cluster = fleet.cluster(name);
    const proxy = fleet.faults(name);
    expect(cluster.direct).toBeDefined();
    const direct = new URL(cluster.direct!.server);
    const proxied = new URL(cluster.server);
    // Same host (so the same certificate name), another port: the proxy's, forwarding to the API server's.
    expect(proxied.hostname).toBe('127.0.0.1');
    expect(direct.hostname).toBe('127.0.0.1');
    expect(proxied.port).toBe(String(proxy.port));
    expect(proxy.upstream).toBe(`127.0.0.1:${direct.port}`);
    expect(proxied.port).not.toBe(direct.port);
    // kwokctl's components keep the direct kubeconfig; the proxied one is a file of its own.
    expect(cluster.kubeconfigPath).not.toBe(cluster.direct!.kubeconfigPath);
    expect(cluster.kubeconfig).not.toMatch(/insecure-skip-tls-verify/);

    // The certificate presented through the proxy verifies against the kubeconfig's CA for 127.0.0.1.
    const tls = await tlsOptions(cluster.kubeconfig);
    const peer = await new Promise<PeerCertificate>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: proxy.port, ca: tls.ca, cert: tls.cert, key: tls.key }, () => {
        const certificate = socket.getPeerCertificate();
        const authorized = socket.authorized;
        socket.end();
        if (authorized) resolve(certificate);
        else reject(new Error(`not authorised: ${String(socket.authorizationError)}`));
      });
      socket.on('error', reject);
    });
    expect(peer.subjectaltname).toMatch(/IP Address:127\.0\.0\.1(,|$)/);

    // kubectl (client-go) through the proxied kubeconfig.
    const viaKubectl = await kubectl(cluster.kubeconfigPath, ['get', 'ns', '-o', 'name']);
    expect(viaKubectl.error).toBeUndefined();
    expect(viaKubectl.stdout).toMatch(/namespace\/default/);
    // @kubernetes/client-node (what Flotilla's worker uses) through the same kubeconfig.
    const core = kubeConfigFromYaml(cluster.kubeconfig).makeApiClient(CoreV1Api);
    const namespaces = await core.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toContain('kube-system');
  });

  it('adds latency: each round trip costs at least 2 × the one-way latency', async () => {
    const cluster = fleet.cluster(name);
    const proxy = fleet.faults(name);
    const before = await kubectl(cluster.kubeconfigPath, ['get', 'ns']);
    expect(before.error).toBeUndefined();

    await proxy.latency(LATENCY_MS);
    const toxics = await proxy.toxics();
    expect(toxics.map((t) => `${t.type}/${t.stream}`).sort()).toEqual(['latency/downstream', 'latency/upstream']);

    // A new kubectl process opens a new connection: the TCP handshake is answered by the proxy
    // itself (not delayed), but the TLS 1.3 handshake needs one round trip and the request
    // another, with warm discovery there is only the one request: ≥ 2 round trips in all.
    const slowed = await kubectl(cluster.kubeconfigPath, ['get', 'ns']);
    expect(slowed.error).toBeUndefined();
    expect(slowed.ms).toBeGreaterThanOrEqual(2 * ROUND_TRIP_MS);

    // On a kept-alive connection a request needs exactly one round trip; a new one needs two.
    const tls = await tlsOptions(cluster.kubeconfig);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(cluster.server, '/version', agent, tls);
      const second = await get(cluster.server, '/version', agent, tls);
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(first.reused).toBe(false);
      expect(second.reused).toBe(true);
      expect(first.ms).toBeGreaterThanOrEqual(2 * ROUND_TRIP_MS);
      expect(second.ms).toBeGreaterThanOrEqual(ROUND_TRIP_MS);
      console.error(`[toxiproxy-test] kubectl get ns: ${before.ms.toFixed(0)} ms without latency, ${slowed.ms.toFixed(0)} ms with ${LATENCY_MS} ms one-way; ` +
        `https GET /version: new connection ${first.ms.toFixed(0)} ms, kept-alive ${second.ms.toFixed(0)} ms`);
    } finally {
      agent.destroy();
    }

    // Jitter is accepted and set on both directions; latency(0) removes it.
    await proxy.latency(LATENCY_MS, 20);
    expect((await proxy.toxics()).every((t) => t.type === 'latency' && (t.attributes as { jitter?: number }).jitter === 20)).toBe(true);
    await proxy.latency(0);
    expect(await proxy.toxics()).toEqual([]);
  });

  it('down() refuses connections at once, up() restores them', async () => {
    const cluster = fleet.cluster(name);
    const proxy = fleet.faults(name);
    await proxy.down();
    const refused = await kubectl(cluster.kubeconfigPath, ['get', 'ns', '--request-timeout=10s']);
    expect(refused.error).toBeDefined();
    expect(refused.error!.stderr).toMatch(/connection refused|was refused|connection reset/i);
    // Refused by the kernel, not timed out: well before the client's own 10 s timeout.
    expect(refused.ms).toBeLessThan(5_000);
    // client-node sees the same.
    const core = kubeConfigFromYaml(cluster.kubeconfig).makeApiClient(CoreV1Api);
    await expect(core.listNamespace()).rejects.toThrow(/ECONNREFUSED|ECONNRESET/);

    await proxy.up();
    await until('kubectl through the proxy again', async () => !(await kubectl(cluster.kubeconfigPath, ['get', 'ns'])).error, 10_000);
    expect((await core.listNamespace()).items.length).toBeGreaterThan(0);
  });

  it('reset_peer resets connections on their first data', async () => {
    // Through node's https (as client-node): client-go would retry a GET that met a reset, ten
    // times a second apart, so kubectl reports it only after about 10 s.
    const cluster = fleet.cluster(name);
    await fleet.faults(name).resetPeer(0, 'upstream');
    const tls = await tlsOptions(cluster.kubeconfig);
    const agent = new Agent({ keepAlive: false });
    const started = performance.now();
    try {
      await expect(get(cluster.server, '/version', agent, tls)).rejects.toThrow(/ECONNRESET|socket hang up|disconnected/i);
    } finally {
      agent.destroy();
    }
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('a timeout toxic makes requests hang until the client gives up, or until the proxy closes', async () => {
    const cluster = fleet.cluster(name);
    const proxy = fleet.faults(name);
    // timeout 0: no data either way, the connection held open: kubectl waits out its own timeout.
    await proxy.timeout(0);
    const hung = await kubectl(cluster.kubeconfigPath, ['get', 'ns', '--request-timeout=2s']);
    expect(hung.error).toBeDefined();
    expect(hung.error!.stderr).toMatch(/timeout|deadline exceeded/i);
    expect(hung.ms).toBeGreaterThanOrEqual(2_000);
    expect(hung.ms).toBeLessThan(10_000);

    // timeout 1500: the proxy closes the connection after 1.5 s, before the client's 10 s.
    await proxy.timeout(1_500);
    const tls = await tlsOptions(cluster.kubeconfig);
    const agent = new Agent({ keepAlive: false });
    const started = performance.now();
    try {
      await expect(get(cluster.server, '/version', agent, tls)).rejects.toThrow(/socket|disconnected|ECONNRESET|EOF/i);
    } finally {
      agent.destroy();
    }
    const closedAfter = performance.now() - started;
    expect(closedAfter).toBeGreaterThanOrEqual(1_500);
    expect(closedAfter).toBeLessThan(10_000);

    // Removing the toxics (afterEach's reset) makes the cluster answer again.
    await proxy.reset();
    expect((await kubectl(cluster.kubeconfigPath, ['get', 'ns'])).error).toBeUndefined();
  });
});
