// A local fleet: real kube-apiservers (with etcd, controller-manager and scheduler) created by
// kwokctl's binary runtime from the provisioned binaries; KWOK simulates the nodes and pods, with
// the stages of local/kwok/stages.yaml: KWOK's defaults, plus pods that fail on purpose when their
// image is one of local/kwok-faults.ts's FAULT_IMAGES. With the `proxy` option each API server sits
// behind Toxiproxy (local/toxiproxy.ts): the cluster's kubeconfig goes through the proxy, so
// latency and network faults can be set per cluster (fleet.faults(name)), while kwokctl's own
// components keep the direct kubeconfig. KWOK serves port-forwards too: forwardPod makes a
// simulated pod's port reach a real local server (a container database's pod, a real PostgreSQL),
// and logs: serviceLogFile gives a service's pods a log file (local/pod-logs.ts).
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import { parseDocument } from 'yaml';
import { baselineManifests } from '../domain/baseline.js';
import { applyBaseline } from '../providers/kubernetes/baseline.js';
import { KubeClient } from '../providers/kubernetes/client.js';
import { kubeConfigFromYaml } from '../providers/kubernetes/kubeconfig.js';
import { openPortForward } from '../providers/kubernetes/port-forward.js';
import { KWOK_STAGES_FILE } from './kwok-faults.js';
import { kubectlWithInput, serviceLogFile } from './pod-logs.js';
import { onShutdown } from './shutdown.js';
import { cacheDir, requireToxiproxy, type Toolchain } from './toolchain.js';
import { startToxiproxy, type ToxiproxyClient, type ToxiproxyProxy, type ToxiproxyServer } from './toxiproxy.js';

const exec = promisify(execFile);

export interface LocalClusterSpec {
  name: string;
  /** Flotilla labels of the cluster (tier, geo, …). */
  labels?: Record<string, string>;
  /** Fake nodes to add; 2 by default. */
  nodes?: number;
  /** Pre-made PersistentVolumes for claims to bind (KWOK has no provisioner); 16 by default. */
  persistentVolumes?: number;
  /**
   * Install Flotilla's baseline (domain/baseline.ts: the agent and bootstrap accounts and their
   * RBAC), as onboarding does, so that the worker, which acts as the agent, can deploy at once;
   * true by default. Off for a cluster whose onboarding a test watches from the start.
   */
  baseline?: boolean;
  /** An audit policy file for the API server (kwokctl --kube-audit-policy); fleet.auditLog(name) reads the log. */
  auditPolicy?: string;
  /** One-way latency in ms (each direction) set on the cluster's proxy at creation; needs `proxy`. */
  latencyMs?: number;
  /** Jitter (± ms) of that latency. */
  jitterMs?: number;
}

export interface LocalCluster {
  name: string;
  labels: Record<string, string>;
  kubeconfigPath: string;
  kubeconfig: string;
  server: string;
  /**
   * Only in a fleet with the `proxy` option, where kubeconfigPath, kubeconfig and server go
   * through the cluster's proxy: the API server itself (what kwokctl's components use).
   */
  direct?: { kubeconfigPath: string; kubeconfig: string; server: string };
}

export interface LocalFleetProxyOptions {
  /** A running toxiproxy-server to create the proxies on; else the fleet starts (and stops) one. */
  toxiproxy?: ToxiproxyServer | ToxiproxyClient;
}

export interface LocalFleetOptions {
  toolchain: Toolchain;
  clusters: LocalClusterSpec[];
  /** Where kwokctl keeps cluster state; ~/.cache/flotilla/fleet by default. */
  workdir?: string;
  /** Delete the clusters on Ctrl-C/SIGTERM (default true). */
  deleteOnSignal?: boolean;
  /**
   * Put each cluster's API server behind a Toxiproxy proxy (the toolchain's, on 127.0.0.1): the
   * cluster's kubeconfig points at the proxy, and fleet.faults(name) sets latency and faults.
   * Without it nothing changes: kubeconfigs reach the API servers directly.
   */
  proxy?: LocalFleetProxyOptions;
  log?: (message: string) => void;
}

export class LocalFleet {
  private readonly byName = new Map<string, LocalCluster>();
  private readonly proxies = new Map<string, ToxiproxyProxy>();
  private unregister: (() => void) | undefined;
  /** Set with the `proxy` option: where the proxies live, and the server when the fleet owns it. */
  private toxiproxy: { client: ToxiproxyClient; owned?: ToxiproxyServer } | undefined;

  private constructor(
    private readonly toolchain: Toolchain,
    readonly workdir: string,
    private readonly log: (message: string) => void,
  ) {}

  static async create(options: LocalFleetOptions): Promise<LocalFleet> {
    const workdir = options.workdir ?? join(cacheDir(), 'fleet');
    mkdirSync(workdir, { recursive: true });
    const fleet = new LocalFleet(options.toolchain, workdir, options.log ?? (() => {}));
    if (options.deleteOnSignal ?? true) fleet.unregister = onShutdown('local fleet', () => fleet.delete());
    try {
      if (options.proxy) fleet.toxiproxy = await proxyServer(options.toolchain, options.proxy);
      // Sequential: each control plane's start-up is CPU-heavy and the machine has two cores.
      for (const spec of options.clusters) await fleet.add(spec);
    } catch (error) {
      await fleet.delete();
      throw error;
    }
    return fleet;
  }

  get clusters(): LocalCluster[] {
    return [...this.byName.values()];
  }

  cluster(name: string): LocalCluster {
    const cluster = this.byName.get(name);
    if (!cluster) throw new Error(`no local cluster named "${name}"`);
    return cluster;
  }

  /** The faults of a cluster's proxy (latency, down/up, timeout, reset, …); needs the `proxy` option. */
  faults(name: string): ToxiproxyProxy {
    const proxy = this.proxies.get(this.cluster(name).name);
    if (!proxy) throw new Error(`cluster "${name}" is not behind a proxy: create the fleet with the \`proxy\` option`);
    return proxy;
  }

  /** The toxiproxy API the fleet's proxies live on, when it has the `proxy` option. */
  get toxiproxyClient(): ToxiproxyClient | undefined {
    return this.toxiproxy?.client;
  }

  /** Creates one cluster (replacing a stale one of the same name) with ready fake nodes. */
  async add(spec: LocalClusterSpec): Promise<LocalCluster> {
    const started = Date.now();
    const t = this.toolchain;
    if ((spec.latencyMs !== undefined || spec.jitterMs !== undefined) && !this.toxiproxy) {
      throw new Error(`cluster "${spec.name}" asks for latency, which needs a fleet created with the \`proxy\` option`);
    }
    await this.kwokctl(['delete', 'cluster', '--name', spec.name]).catch(() => {});
    this.log(`creating cluster ${spec.name} ...`);
    await this.kwokctl([
      'create', 'cluster', '--name', spec.name, '--runtime', 'binary',
      '--kube-apiserver-binary', t.kubeApiserver,
      '--kube-controller-manager-binary', t.kubeControllerManager,
      '--kube-scheduler-binary', t.kubeScheduler,
      '--etcd-binary', t.etcd,
      '--kwok-controller-binary', t.kwok,
      // Node and pod stages. Any Stage given here replaces all of kwokctl's defaults, so the
      // file carries the default ones too (pod stages that skip the fault images).
      '--config', KWOK_STAGES_FILE,
      // Port-forwards into simulated pods reach real local servers (forwardPod): KWOK serves
      // them from these resources. Only these kinds become CRDs: Stages still come from --config.
      '--enable-crds', 'PortForward', '--enable-crds', 'ClusterPortForward',
      // `kubectl logs` of a simulated pod reads a file (serviceLogFile, local/pod-logs.ts).
      '--enable-crds', 'ClusterLogs',
      // Never touch the user's ~/.kube/config.
      '--kubeconfig', join(this.workdir, 'kubeconfig.merged.yaml'),
      '--disable-qps-limits',
      ...(spec.auditPolicy ? ['--kube-audit-policy', spec.auditPolicy] : []),
      '--wait', '120s',
    ]);
    const nodes = spec.nodes ?? 2;
    await this.kwokctl(['scale', 'node', '--name', spec.name, '--replicas', String(nodes)]);
    const kubeconfigPath = join(this.workdir, 'clusters', spec.name, 'kubeconfig.yaml');
    // Self-contained (certificates inline): the form a catalog stores, and kubectl reads.
    const kubeconfig = await this.flatten(kubeconfigPath);
    writeFileSync(kubeconfigPath, kubeconfig);
    const kc = kubeConfigFromYaml(kubeconfig);
    await waitForReadyNodes(kc, nodes, 60_000);
    await createPersistentVolumes(kc, spec.persistentVolumes ?? 16);
    await this.waitForPortForwards(spec.name, kubeconfigPath, kc);
    if (spec.baseline ?? true) await applyBaseline(kc, baselineManifests(), { force: true });
    const server = kc.getCurrentCluster()!.server;
    const cluster: LocalCluster = this.toxiproxy
      ? await this.proxied(spec, { kubeconfigPath, kubeconfig, server }, this.toxiproxy.client)
      : { name: spec.name, labels: spec.labels ?? {}, kubeconfigPath, kubeconfig, server };
    this.byName.set(spec.name, cluster);
    const via = cluster.direct ? ` via proxy ${cluster.server}` : '';
    this.log(`cluster ${spec.name} ready at ${server}${via} (${nodes} nodes, ${((Date.now() - started) / 1000).toFixed(1)}s)`);
    return cluster;
  }

  /**
   * Puts a proxy in front of the API server and writes a second kubeconfig that goes through
   * it. The proxy listens on 127.0.0.1 like the API server, so the serving certificate (whose
   * SANs kwokctl makes include IP 127.0.0.1) still verifies; only the port differs.
   */
  private async proxied(
    spec: LocalClusterSpec,
    direct: { kubeconfigPath: string; kubeconfig: string; server: string },
    client: ToxiproxyClient,
  ): Promise<LocalCluster> {
    const url = new URL(direct.server);
    const upstream = `${url.hostname}:${url.port || '443'}`;
    await client.deleteProxy(spec.name); // a stale one from an earlier run of the same name
    const proxy = await client.createProxy({ name: spec.name, upstream, listen: '127.0.0.1:0' });
    this.proxies.set(spec.name, proxy);
    if (spec.latencyMs || spec.jitterMs) await proxy.latency(spec.latencyMs ?? 0, spec.jitterMs ?? 0);
    const server = `${url.protocol}//127.0.0.1:${proxy.port}`;
    const kubeconfig = withServer(direct.kubeconfig, server);
    const kubeconfigPath = join(dirname(direct.kubeconfigPath), 'kubeconfig.proxied.yaml');
    writeFileSync(kubeconfigPath, kubeconfig);
    return { name: spec.name, labels: spec.labels ?? {}, kubeconfigPath, kubeconfig, server, direct };
  }

  /**
   * Makes `kubectl port-forward pod/POD PORT` (and Flotilla's port-forward) of a simulated pod
   * reach a real local server, e.g. a container database's pod a real PostgreSQL: forwardPod below.
   */
  async forwardPod(name: string, forward: PodForward): Promise<void> {
    await forwardPod(this.toolchain.kubectl, this.cluster(name).kubeconfigPath, forward);
  }

  /** Removes a forward made by forwardPod. */
  async unforwardPod(name: string, forward: Pick<PodForward, 'namespace' | 'pod'>): Promise<void> {
    await unforwardPod(this.toolchain.kubectl, this.cluster(name).kubeconfigPath, forward);
  }

  /**
   * KWOK starts watching the port-forward resources only some seconds after a new cluster is
   * ready (its first watch fails while the CRDs settle, then backs off): until then every forward
   * fails "no forward found". A probe pod forwarded to a local listener shows when it serves.
   */
  private async waitForPortForwards(name: string, kubeconfigPath: string, kc: ReturnType<typeof kubeConfigFromYaml>): Promise<void> {
    const PROBE = { namespace: 'kube-public', pod: 'flotilla-forward-probe' };
    const HELLO = 'flotilla-forward-probe\n';
    const listener = createServer((socket) => socket.end(HELLO));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const core = kc.makeApiClient(CoreV1Api);
    const client = new KubeClient(kc, { cluster: name });
    try {
      await forwardPod(this.toolchain.kubectl, kubeconfigPath, { ...PROBE, target: { address: '127.0.0.1', port: (listener.address() as { port: number }).port } });
      const deadline = Date.now() + 90_000;
      // Right after creation the namespace's `default` service account may not exist yet, and the
      // API server refuses pods until it does: try again until it is there.
      for (;;) {
        try {
          await core.createNamespacedPod({ namespace: PROBE.namespace, body: { metadata: { name: PROBE.pod }, spec: { containers: [{ name: 'probe', image: 'registry.k8s.io/pause:3.10' }] } } });
          break;
        } catch (error) {
          if (!/serviceaccount/i.test(String((error as { body?: unknown }).body ?? error)) || Date.now() > deadline) throw error;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      for (;;) {
        const answer = await probeOnce(client, PROBE).catch(() => '');
        if (answer === HELLO) return;
        if (Date.now() > deadline) throw new Error(`cluster ${name}: KWOK did not serve port-forwards within 90s`);
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      client.close();
      listener.close();
      await core.deleteNamespacedPod({ namespace: PROBE.namespace, name: PROBE.pod, gracePeriodSeconds: 0 }).catch(() => {});
      await unforwardPod(this.toolchain.kubectl, kubeconfigPath, PROBE).catch(() => {});
    }
  }

  /**
   * Gives every pod of a service real logs: the path of a file that `kubectl logs` (and Flotilla)
   * then read for the service's container; append to it with appendLogLines (local/pod-logs.ts).
   */
  async serviceLogFile(name: string, namespace: string, service: string): Promise<string> {
    return serviceLogFile(this.toolchain.kubectl, this.cluster(name).kubeconfigPath, { namespace, service });
  }

  /** Stops a cluster's processes, keeping its state: it becomes unreachable. */
  async stop(name: string): Promise<void> {
    await this.kwokctl(['stop', 'cluster', '--name', this.cluster(name).name]);
  }

  /** The API server's audit log (JSON lines) of a cluster created with `auditPolicy`. */
  async auditLog(name: string): Promise<string> {
    return this.kwokctl(['logs', 'audit', '--name', this.cluster(name).name]);
  }

  /** Starts a stopped cluster again. */
  async start(name: string): Promise<void> {
    await this.kwokctl(['start', 'cluster', '--name', this.cluster(name).name, '--wait', '120s']);
  }

  async delete(): Promise<void> {
    this.unregister?.();
    this.unregister = undefined;
    for (const name of [...this.byName.keys()].reverse()) {
      this.log(`deleting cluster ${name}`);
      await this.kwokctl(['delete', 'cluster', '--name', name]).catch((error: unknown) => {
        this.log(`could not delete cluster ${name}: ${String(error)}`);
      });
      this.byName.delete(name);
      // A server the fleet started goes as a whole below; on a shared one, only this proxy.
      if (this.proxies.has(name) && this.toxiproxy && !this.toxiproxy.owned) {
        await this.toxiproxy.client.deleteProxy(name).catch((error: unknown) => {
          this.log(`could not delete the proxy of cluster ${name}: ${String(error)}`);
        });
      }
      this.proxies.delete(name);
    }
    const owned = this.toxiproxy?.owned;
    this.toxiproxy = undefined;
    if (owned) await owned.stop();
  }

  private async flatten(kubeconfigPath: string): Promise<string> {
    const { stdout } = await exec(this.toolchain.kubectl, ['config', 'view', '--raw', '--flatten', '--minify', '--kubeconfig', kubeconfigPath]);
    return stdout;
  }

  private async kwokctl(args: string[]): Promise<string> {
    try {
      const { stdout } = await exec(this.toolchain.kwokctl, args, {
        env: { ...process.env, KWOK_WORKDIR: this.workdir, KWOK_KUBE_VERSION: this.toolchain.versions.kubernetes },
        maxBuffer: 16 * 1024 * 1024,
        timeout: 300_000,
      });
      return stdout;
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(`kwokctl ${args.slice(0, 2).join(' ')} failed: ${(e.stderr ?? '').trim() || e.message}`);
    }
  }
}

/** A simulated pod's port that reaches a real local address (KWOK's ClusterPortForward resource). */
export interface PodForward {
  namespace: string;
  /** The pod, e.g. a container database's `<db>-0`. Neither it nor its namespace need exist yet. */
  pod: string;
  /** The pod's ports to forward; every port when omitted. */
  ports?: number[];
  /** Where the node's end dials, e.g. a test's PostgreSQL at 127.0.0.1:PORT. */
  target: { address: string; port: number };
}

/** The ClusterPortForward that serves one pod: `<pod>.<namespace>`. */
export function podForwardName(forward: Pick<PodForward, 'namespace' | 'pod'>): string {
  return `${forward.pod}.${forward.namespace}`;
}

/**
 * Creates or replaces a ClusterPortForward that selects exactly one pod by namespace and name
 * (kubectl apply with the given kubeconfig, an admin's), for a cluster whose KWOK serves them
 * (LocalFleet's clusters do). Cluster-scoped, so it can be made before a deploy creates the
 * namespace. For tests that hold a cluster's kubeconfig and not its fleet.
 */
export async function forwardPod(kubectl: string, kubeconfigPath: string, forward: PodForward): Promise<void> {
  const resource = {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'ClusterPortForward',
    metadata: { name: podForwardName(forward) },
    spec: {
      selector: { matchNamespaces: [forward.namespace], matchNames: [forward.pod] },
      forwards: [{ ...(forward.ports?.length ? { ports: forward.ports } : {}), target: forward.target }],
    },
  };
  await kubectlWithInput(kubectl, ['--kubeconfig', kubeconfigPath, 'apply', '-f', '-'], JSON.stringify(resource), `apply ClusterPortForward ${podForwardName(forward)}`);
}

/** Removes what forwardPod made (no error when it is gone). */
export async function unforwardPod(kubectl: string, kubeconfigPath: string, forward: Pick<PodForward, 'namespace' | 'pod'>): Promise<void> {
  await kubectlWithInput(kubectl, ['--kubeconfig', kubeconfigPath, 'delete', 'clusterportforward', podForwardName(forward), '--ignore-not-found'], '', `delete ClusterPortForward ${podForwardName(forward)}`);
}

/** One connection through a port-forward to the probe pod: what it reads before the end. */
async function probeOnce(client: KubeClient, probe: { namespace: string; pod: string }): Promise<string> {
  const forward = await openPortForward(client, { ...probe, port: 80 });
  try {
    return await new Promise<string>((resolve) => {
      let read = '';
      const socket = connect(forward.port, forward.host);
      socket.setTimeout(5_000, () => socket.destroy());
      socket.on('data', (d: Buffer) => {
        read += d.toString();
        if (read.endsWith('\n')) socket.destroy(); // the whole greeting: done
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve(read));
    });
  } finally {
    await forward.close();
  }
}

async function proxyServer(
  toolchain: Toolchain,
  options: LocalFleetProxyOptions,
): Promise<{ client: ToxiproxyClient; owned?: ToxiproxyServer }> {
  const given = options.toxiproxy;
  if (given) return { client: 'client' in given ? given.client : given };
  // Stopped by fleet.delete(); on a signal too even when the clusters are kept (deleteOnSignal:
  // false), so no proxy outlives the process.
  const owned = await startToxiproxy({ executable: requireToxiproxy(toolchain).server, stopOnSignal: true });
  return { client: owned.client, owned };
}

/** The kubeconfig with every cluster's server replaced (certificates and users untouched). */
function withServer(kubeconfig: string, server: string): string {
  const doc = parseDocument(kubeconfig);
  const clusters = doc.get('clusters') as { items: unknown[] } | undefined;
  const count = clusters?.items.length ?? 0;
  if (count === 0) throw new Error('kubeconfig has no clusters');
  for (let i = 0; i < count; i++) doc.setIn(['clusters', i, 'cluster', 'server'], server);
  return doc.toString();
}

/**
 * KWOK simulates pods, not storage: a StatefulSet's claims would stay Pending. Volumes made
 * ahead of time (no storage class, so classless claims bind to them) stand in for a provisioner.
 */
async function createPersistentVolumes(kc: ReturnType<typeof kubeConfigFromYaml>, count: number): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await Promise.all(Array.from({ length: count }, (_, i) => core.createPersistentVolume({
    body: {
      metadata: { name: `local-pv-${String(i).padStart(3, '0')}`, labels: { 'flotilla.dev/local-fleet': 'true' } },
      spec: {
        capacity: { storage: '100Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        hostPath: { path: `/tmp/flotilla-pv-${i}` },
      },
    },
  })));
}

async function waitForReadyNodes(kc: ReturnType<typeof kubeConfigFromYaml>, count: number, timeoutMs: number): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const nodes = await core.listNode().catch(() => ({ items: [] }));
    const ready = nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    if (ready.length >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${ready.length}/${count} nodes became Ready within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
