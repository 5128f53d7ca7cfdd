// A local fleet: real kube-apiservers (with etcd, controller-manager and scheduler) created by
// kwokctl's binary runtime from the provisioned binaries; KWOK simulates the nodes and pods, with
// the stages of local/kwok/stages.yaml: KWOK's defaults, plus pods that fail on purpose when their
// image is one of local/kwok-faults.ts's FAULT_IMAGES.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import { kubeConfigFromYaml } from '../providers/kubernetes/kubeconfig.js';
import { KWOK_STAGES_FILE } from './kwok-faults.js';
import { onShutdown } from './shutdown.js';
import { cacheDir, type Toolchain } from './toolchain.js';

const exec = promisify(execFile);

export interface LocalClusterSpec {
  name: string;
  /** Flotilla labels of the cluster (tier, geo, …). */
  labels?: Record<string, string>;
  /** Fake nodes to add; 2 by default. */
  nodes?: number;
  /** Pre-made PersistentVolumes for claims to bind (KWOK has no provisioner); 16 by default. */
  persistentVolumes?: number;
}

export interface LocalCluster {
  name: string;
  labels: Record<string, string>;
  kubeconfigPath: string;
  kubeconfig: string;
  server: string;
}

export interface LocalFleetOptions {
  toolchain: Toolchain;
  clusters: LocalClusterSpec[];
  /** Where kwokctl keeps cluster state; ~/.cache/flotilla/fleet by default. */
  workdir?: string;
  /** Delete the clusters on Ctrl-C/SIGTERM (default true). */
  deleteOnSignal?: boolean;
  log?: (message: string) => void;
}

export class LocalFleet {
  private readonly byName = new Map<string, LocalCluster>();
  private unregister: (() => void) | undefined;

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

  /** Creates one cluster (replacing a stale one of the same name) with ready fake nodes. */
  async add(spec: LocalClusterSpec): Promise<LocalCluster> {
    const started = Date.now();
    const t = this.toolchain;
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
      // Never touch the user's ~/.kube/config.
      '--kubeconfig', join(this.workdir, 'kubeconfig.merged.yaml'),
      '--disable-qps-limits',
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
    const cluster: LocalCluster = {
      name: spec.name,
      labels: spec.labels ?? {},
      kubeconfigPath,
      kubeconfig,
      server: kc.getCurrentCluster()!.server,
    };
    this.byName.set(spec.name, cluster);
    this.log(`cluster ${spec.name} ready at ${cluster.server} (${nodes} nodes, ${((Date.now() - started) / 1000).toFixed(1)}s)`);
    return cluster;
  }

  /** Stops a cluster's processes, keeping its state: it becomes unreachable. */
  async stop(name: string): Promise<void> {
    await this.kwokctl(['stop', 'cluster', '--name', this.cluster(name).name]);
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
    }
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
