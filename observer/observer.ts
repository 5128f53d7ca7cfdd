// The observer: every few seconds it reads the fleet from the catalog, takes (or renews) the
// lease of each onboarded cluster, and runs a ClusterObserver for each cluster it holds, told
// which environments live there and what each should look like (the render of its last
// deploy). The ClusterObservers write status, drift and reachability back to the catalog.
// Several observers may share one catalog: a cluster's lease lets only one of them write it, and
// they split the clusters between them (observer/shard.ts).
import { randomUUID } from 'node:crypto';
import type { Manifest } from '../domain/manifest.js';
import { asStopped } from '../domain/stop.js';
import { renderEnvironment } from '../store/chart-renders.js';
import { clusterClients } from '../activities/cluster-client.js';
import type { ClusterDirectory } from '../providers/cluster-directory.js';
import { ServiceAccountTokens } from '../providers/kubernetes/service-account-tokens.js';
import type { Catalog } from '../store/catalog.js';
import type { EnvironmentRecord } from '../store/environments.js';
import { LeaseLostError } from '../store/observations.js';
import { ClusterObserver, type ObservedEnvironment } from './cluster-observer.js';
import type { Snapshot } from './environment-snapshot.js';
import { HealPolicy, type HealPolicyOptions } from './heal.js';
import type { ObjectDrift } from '../domain/drift.js';
import { presenceKey, shardPlan } from './shard.js';

export interface ObserverLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface ObserverOptions {
  catalog: Catalog;
  clusters: ClusterDirectory;
  /** This observer's name in leases; random by default. */
  id?: string;
  syncEveryMs?: number;
  /** How long a lease lasts unless renewed; another observer takes the cluster after it lapses. */
  leaseMs?: number;
  probeEveryMs?: number;
  log?: ObserverLog;
  /** Called after each snapshot is written (tests, events). */
  onSnapshot?(environment: string, snapshot: Snapshot): void;
  /**
   * Starts the deploy that heals an environment whose driftPolicy is `heal` (observer/heal.ts
   * startHeal); resolves to its operation id. Without it, drift is only reported.
   */
  heal?(environment: EnvironmentRecord, drift: readonly ObjectDrift[]): Promise<string>;
  healPolicy?: HealPolicyOptions;
}

/** Cluster states the observer watches: onboarded ones. */
const OBSERVED_CLUSTER_STATES = new Set(['ready', 'degraded']);

export class Observer {
  readonly id: string;
  private readonly observers = new Map<string, ClusterObserver>();
  private readonly renders = new Map<string, Manifest[]>();
  private readonly tokens = new ServiceAccountTokens();
  private readonly warned = new Map<string, number>();
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly healPolicy: HealPolicy;
  /** The environments and the locked ones as of the last sync. */
  private environments = new Map<string, EnvironmentRecord>();
  private locked = new Set<string>();

  constructor(private readonly options: ObserverOptions) {
    this.id = options.id ?? `observer-${randomUUID().slice(0, 8)}`;
    this.healPolicy = new HealPolicy(options.healPolicy);
  }

  /** Starts syncing; resolves after the first sync. */
  async start(): Promise<void> {
    await this.sync();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await Promise.all([...this.observers.values()].map((o) => o.stop()));
    this.observers.clear();
    await this.options.catalog.observations.releaseLeases(this.id).catch(() => {});
  }

  /** The clusters this observer writes now. */
  held(): string[] {
    return [...this.observers.keys()].sort();
  }

  private async run(): Promise<void> {
    const every = this.options.syncEveryMs ?? 2_000;
    while (!this.abort.signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.abort.signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, every);
        this.abort.signal.addEventListener('abort', done, { once: true });
      });
      if (this.abort.signal.aborted) return;
      await this.sync().catch((error: unknown) => this.warn('sync', `fleet sync failed: ${error instanceof Error ? error.message : String(error)}`));
    }
  }

  private async sync(): Promise<void> {
    const { catalog } = this.options;
    const [clusters, environments, locks] = await Promise.all([catalog.clusters.list(), catalog.environments.list(), catalog.locks.list()]);
    const locked = new Set(locks.map((l) => l.environment));
    this.environments = new Map(environments.map((e) => [e.binding.name, e]));
    this.locked = locked;
    await this.settleHeals();
    const now = new Date().toISOString();
    const until = new Date(Date.now() + (this.options.leaseMs ?? 15_000)).toISOString();
    const observed = clusters.filter((c) => OBSERVED_CLUSTER_STATES.has(c.status));
    // Alive, and counted in every observer's share (observer/shard.ts).
    await catalog.observations.acquireLease(presenceKey(this.id), this.id, now, until);
    const plan = shardPlan(observed.map((c) => c.name), await catalog.observations.leases(), this.id, now);
    for (const cluster of plan.release) {
      await this.observers.get(cluster)?.stop();
      this.observers.delete(cluster);
      await catalog.observations.releaseLease(cluster, this.id);
      this.options.log?.info(`handed cluster "${cluster}" over: ${plan.observers} observers share the fleet, ${plan.share} clusters each at most`);
    }
    const wanted = new Set<string>();
    const rendered = new Set<string>();
    const held = new Set(plan.hold);
    for (const cluster of observed) {
      if (!held.has(cluster.name)) continue;
      const mine = await catalog.observations.acquireLease(cluster.name, this.id, now, until);
      if (!mine) continue;
      wanted.add(cluster.name);
      const observer = this.observers.get(cluster.name) ?? (await this.observe(cluster.name));
      if (!observer) continue;
      const targets: ObservedEnvironment[] = [];
      for (const env of environments) {
        if (env.binding.cluster !== cluster.name || !env.deployed) continue;
        const expected = await this.expected(env);
        if (expected) rendered.add(expected.key);
        if (expected) targets.push({ name: env.binding.name, namespace: env.binding.namespace, expected: expected.manifests, changing: locked.has(env.binding.name), key: `${expected.key}|${locked.has(env.binding.name)}` });
      }
      observer.setEnvironments(targets);
    }
    // Renders of revisions no environment runs any more go.
    for (const key of this.renders.keys()) if (!rendered.has(key)) this.renders.delete(key);
    for (const [name, observer] of this.observers) {
      if (wanted.has(name)) continue;
      this.observers.delete(name);
      this.options.log?.info(`stopped observing cluster "${name}"`);
      await observer.stop();
    }
  }

  private async observe(cluster: string): Promise<ClusterObserver | undefined> {
    const { catalog } = this.options;
    let client;
    try {
      client = await clusterClients({ clusters: this.options.clusters, serviceAccountTokens: this.tokens }).agentClient(cluster);
    } catch (error) {
      this.warn(`client:${cluster}`, `cannot reach cluster "${cluster}" as Flotilla's agent: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
    const observer: ClusterObserver = new ClusterObserver({
      cluster,
      client,
      probeEveryMs: this.options.probeEveryMs,
      write: async (environment, snapshot) => {
        try {
          await catalog.observations.writeEnvironment(this.id, { environment, cluster, ...snapshot, at: new Date().toISOString() });
        } catch (error) {
          if (error instanceof LeaseLostError) this.observers.delete(cluster);
          throw error;
        }
        this.options.onSnapshot?.(environment, snapshot);
        if (snapshot.drift.length > 0) await this.maybeHeal(environment, snapshot.drift);
      },
      reachability: async (change) => {
        await catalog.observations.setReachability(this.id, cluster, { ...change, at: new Date().toISOString() });
        if (!change.reachable) this.options.log?.info(`cluster "${cluster}" is unreachable: ${change.message ?? 'no answer'}`);
      },
      warn: (message) => this.warn(`${cluster}:${message.slice(0, 60)}`, message),
    });
    this.observers.set(cluster, observer);
    observer.start();
    this.options.log?.info(`observing cluster "${cluster}"`);
    return observer;
  }

  /**
   * Heals a drifted environment that asks for it, when HealPolicy allows: against the
   * environment as the catalog has it now (a deploy may have just ended), never while an
   * operation holds it.
   */
  private async maybeHeal(name: string, drift: readonly ObjectDrift[]): Promise<void> {
    const { heal } = this.options;
    const known = this.environments.get(name);
    if (!heal || known?.driftPolicy !== 'heal' || this.locked.has(name)) return;
    if (!this.healPolicy.shouldHeal(name, drift, Date.now())) return;
    const env = await this.options.catalog.environments.get(name);
    if (!env?.deployed || env.driftPolicy !== 'heal' || env.deployed.revision !== known.deployed?.revision || env.deployed.overridesVersion !== known.deployed?.overridesVersion) return;
    this.healPolicy.started(name, Date.now());
    try {
      const operationId = await heal(env, drift);
      this.healPolicy.running(name, operationId);
      this.options.log?.info(`healing drift of environment "${name}" (${drift.length} object(s)): operation ${operationId}`);
    } catch (error) {
      this.healPolicy.finished(name);
      this.warn(`heal:${name}`, `could not heal environment "${name}": ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Heals whose operation ended free their environment for the next one. */
  private async settleHeals(): Promise<void> {
    for (const { environment, operationId } of this.healPolicy.inFlight()) {
      const op = await this.options.catalog.operations.get(operationId);
      if (op && !['running', 'waiting', 'paused'].includes(op.state)) {
        this.healPolicy.finished(environment);
        this.options.log?.info(`heal of environment "${environment}" ended: ${op.outcome ?? op.state}${op.message ? ` (${op.message})` : ''}`);
      }
    }
  }

  /** The render of the environment's last deploy (scaled to zero while stopped), cached by what it depends on. */
  private async expected(env: EnvironmentRecord): Promise<{ manifests: Manifest[]; key: string } | undefined> {
    const deployed = env.deployed!;
    const key = JSON.stringify([env.binding, deployed.revision, deployed.overridesVersion ?? null, env.stopped !== undefined]);
    const cached = this.renders.get(key);
    if (cached) return { manifests: cached, key };
    try {
      const { catalog } = this.options;
      const { spec } = await catalog.revisions.require(deployed.revision);
      const overrides = deployed.overridesVersion === undefined ? env.overrides : await catalog.environments.overridesAt(env.binding.name, deployed.overridesVersion);
      // Charts from the catalog's cache, which the deploy filled: the observer never runs helm.
      const rendered = await renderEnvironment(catalog, { binding: env.binding, spec, overrides, revision: deployed.revision });
      const manifests = env.stopped ? asStopped(rendered) : rendered;
      this.renders.set(key, manifests);
      return { manifests, key };
    } catch (error) {
      this.warn(`render:${env.binding.name}`, `cannot render environment "${env.binding.name}": ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }

  /** At most one line a minute for the same trouble. */
  private warn(key: string, message: string): void {
    const last = this.warned.get(key) ?? 0;
    if (Date.now() - last < 60_000) return;
    this.warned.set(key, Date.now());
    this.options.log?.warn(message);
  }
}
