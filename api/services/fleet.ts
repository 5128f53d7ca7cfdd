// The fleet view, drift and an environment's live status, all from what the observer keeps in
// the catalog: never a live request to a cluster, so the answer is fast however large the
// fleet, and a cluster that stopped answering shows its last known state, marked stale.
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { Catalog } from '../../store/catalog.js';
import type { ClusterRecord } from '../../store/clusters.js';
import type { EnvironmentRecord } from '../../store/environments.js';
import type { ClusterObservation, EnvironmentObservation } from '../../store/observations.js';
import type { ServiceStatus } from '../../store/status.js';
import type {
  DriftItemView, DriftQuery, EnvironmentStatusView, FleetClusterView, FleetEnvironmentView, FleetQuery, FleetView, LiveServiceView, Reachability,
} from '../fleet-schemas.js';

type Fleet = z.infer<typeof FleetView>;
type FleetCluster = z.infer<typeof FleetClusterView>;
type FleetEnvironment = z.infer<typeof FleetEnvironmentView>;

/** A cluster's state is stale when the observer has not heard from it for this long. */
export const STALE_AFTER_MS = 15_000;

interface Loaded {
  clusters: ClusterRecord[];
  environments: EnvironmentRecord[];
  observedClusters: Map<string, ClusterObservation>;
  observedEnvironments: Map<string, EnvironmentObservation>;
  services: Map<string, ServiceStatus[]>;
}

async function load(catalog: Catalog, environmentNames?: readonly string[]): Promise<Loaded> {
  const [clusters, environments, observedClusters, observedEnvironments, services] = await Promise.all([
    catalog.clusters.list(),
    catalog.environments.list(),
    catalog.observations.clusters(),
    catalog.observations.environments(environmentNames ? { environments: environmentNames } : {}),
    catalog.status.list(environmentNames ? { environments: environmentNames } : {}),
  ]);
  const byEnvironment = new Map<string, ServiceStatus[]>();
  for (const s of services) byEnvironment.set(s.environment, [...(byEnvironment.get(s.environment) ?? []), s]);
  return {
    clusters,
    environments,
    observedClusters: new Map(observedClusters.map((o) => [o.cluster, o])),
    observedEnvironments: new Map(observedEnvironments.map((o) => [o.environment, o])),
    services: byEnvironment,
  };
}

interface Freshness {
  reachability: z.infer<typeof Reachability>;
  stale: boolean;
  ageSeconds?: number;
}

function freshness(observed: ClusterObservation | undefined, now: Date): Freshness {
  if (!observed) return { reachability: { state: 'unknown' }, stale: false };
  const reachability: z.infer<typeof Reachability> = {
    state: observed.reachable ? 'reachable' : 'unreachable',
    since: observed.since,
    ...(observed.lastSeenAt ? { lastSeenAt: observed.lastSeenAt } : {}),
    ...(observed.message ? { message: observed.message } : {}),
  };
  const seen = observed.lastSeenAt ? Date.parse(observed.lastSeenAt) : undefined;
  const stale = !observed.reachable || seen === undefined || now.getTime() - seen > STALE_AFTER_MS;
  return { reachability, stale, ...(stale && seen !== undefined ? { ageSeconds: Math.max(0, Math.round((now.getTime() - seen) / 1000)) } : {}) };
}

function serviceView(s: ServiceStatus): z.infer<typeof LiveServiceView> {
  return {
    service: s.service,
    health: s.health,
    desiredReplicas: s.desiredReplicas,
    readyReplicas: s.readyReplicas,
    updatedReplicas: s.updatedReplicas ?? 0,
    restarts: s.restarts ?? 0,
    ...(s.revision ? { revision: s.revision } : {}),
    drift: s.drift,
    ...(s.details?.kind ? { kind: s.details.kind } : {}),
    ...(s.details?.conditions ? { conditions: s.details.conditions } : {}),
    ...(s.details?.problems ? { problems: s.details.problems } : {}),
    ...(s.changedAt ? { changedAt: s.changedAt } : {}),
  };
}

function environmentView(env: EnvironmentRecord, loaded: Loaded, fresh: Freshness): FleetEnvironment {
  const observed = loaded.observedEnvironments.get(env.binding.name);
  return {
    name: env.binding.name,
    application: env.binding.application,
    tier: env.binding.tier,
    namespace: env.binding.namespace,
    ...(env.deployed ? { deployedRevision: env.deployed.revision } : {}),
    ...(observed?.revision ? { liveRevision: observed.revision } : {}),
    ...(env.stopped ? { stoppedSince: env.stopped.at } : {}),
    health: observed?.health ?? 'unknown',
    drifted: (observed?.drift.length ?? 0) > 0,
    driftedObjects: observed?.drift.length ?? 0,
    ...(observed?.driftSince ? { driftSince: observed.driftSince } : {}),
    ...(observed ? { observedAt: observed.observedAt } : {}),
    stale: fresh.stale,
    ...(fresh.ageSeconds !== undefined ? { ageSeconds: fresh.ageSeconds } : {}),
    services: (loaded.services.get(env.binding.name) ?? []).map(serviceView),
  };
}

function matchesHealth(env: FleetEnvironment, health: FleetQuery['health']): boolean {
  if (health === undefined) return true;
  if (health === 'drifted') return env.drifted;
  if (health === 'stale') return env.stale;
  return env.health === health;
}

/** Clusters × environments × services, filtered; clusters without a matching environment stay when only cluster filters apply. */
export async function fleetView(catalog: Catalog, query: FleetQuery, now: Date): Promise<Fleet> {
  const loaded = await load(catalog);
  const envFilters = query.tier !== undefined || query.application !== undefined || query.health !== undefined;
  const clusters: FleetCluster[] = [];
  for (const cluster of loaded.clusters) {
    if (query.cluster !== undefined && cluster.name !== query.cluster) continue;
    if (query.selector && !Object.entries(query.selector).every(([k, v]) => cluster.labels[k] === v)) continue;
    const fresh = freshness(loaded.observedClusters.get(cluster.name), now);
    const environments = loaded.environments
      .filter((e) => e.binding.cluster === cluster.name)
      .filter((e) => (query.tier === undefined || e.binding.tier === query.tier) && (query.application === undefined || e.binding.application === query.application))
      .map((e) => environmentView(e, loaded, fresh))
      .filter((e) => matchesHealth(e, query.health));
    if (envFilters && environments.length === 0) continue;
    clusters.push({
      name: cluster.name,
      provider: cluster.provider,
      ...(cluster.region ? { region: cluster.region } : {}),
      labels: cluster.labels,
      status: cluster.status === 'ready' && fresh.reachability.state === 'unreachable' ? 'unreachable' : cluster.status,
      reachability: fresh.reachability,
      stale: fresh.stale,
      ...(fresh.ageSeconds !== undefined ? { ageSeconds: fresh.ageSeconds } : {}),
      environments,
    });
  }
  const environments = clusters.flatMap((c) => c.environments);
  return {
    clusters,
    summary: {
      clusters: clusters.length,
      unreachable: clusters.filter((c) => c.reachability.state === 'unreachable').length,
      environments: environments.length,
      healthy: environments.filter((e) => e.health === 'healthy' && !e.drifted).length,
      drifted: environments.filter((e) => e.drifted).length,
      stale: environments.filter((e) => e.stale).length,
    },
  };
}

/** A strong validator of a JSON answer: the same body, the same tag. */
export function etagOf(body: unknown): string {
  return etagOfText(JSON.stringify(body));
}

function etagOfText(text: string): string {
  return `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"`;
}

/** The fleet view as sent: its JSON text and ETag. */
export interface FleetAnswer {
  json: string;
  etag: string;
}

/** The last answers per catalog, by filters, with the catalog version and second they were built for. */
const answers = new WeakMap<Catalog, Map<string, { version: string; answer: FleetAnswer }>>();
const MAX_CACHED_FILTERS = 32;

/**
 * fleetView, serialised once, and built again only when the catalog changed (a few aggregate
 * reads tell: ObservationRepository.version) or the second turned (ages are in seconds).
 * A dashboard per person and scripts polling then cost a version check each, not the view.
 */
export async function fleetAnswer(catalog: Catalog, query: FleetQuery, now: Date): Promise<FleetAnswer> {
  let cache = answers.get(catalog);
  if (!cache) answers.set(catalog, (cache = new Map()));
  const key = JSON.stringify(query);
  const version = `${await catalog.observations.version()}|${Math.floor(now.getTime() / 1000)}`;
  const hit = cache.get(key);
  if (hit?.version === version) return hit.answer;
  const json = JSON.stringify(await fleetView(catalog, query, now));
  const answer = { json, etag: etagOfText(json) };
  if (cache.size >= MAX_CACHED_FILTERS && !cache.has(key)) cache.clear();
  cache.set(key, { version, answer });
  return answer;
}

/** Whether an If-None-Match header names this tag (or `*`). */
export function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').map((t) => t.trim().replace(/^W\//, '')).some((t) => t === etag || t === '*');
}

/** Every environment whose live state differs from its last deploy, oldest drift first. */
export async function driftList(catalog: Catalog, query: z.infer<typeof DriftQuery>, now: Date): Promise<z.infer<typeof DriftItemView>[]> {
  const [drifted, environments, clusters] = await Promise.all([
    catalog.observations.environments({ drifted: true }),
    catalog.environments.list(),
    catalog.observations.clusters(),
  ]);
  const byName = new Map(environments.map((e) => [e.binding.name, e]));
  const observedClusters = new Map(clusters.map((c) => [c.cluster, c]));
  return drifted
    .flatMap((o) => {
      const env = byName.get(o.environment);
      if (!env) return [];
      if (query.cluster !== undefined && env.binding.cluster !== query.cluster) return [];
      if (query.tier !== undefined && env.binding.tier !== query.tier) return [];
      if (query.application !== undefined && env.binding.application !== query.application) return [];
      const fresh = freshness(observedClusters.get(env.binding.cluster), now);
      return [{
        environment: o.environment,
        cluster: env.binding.cluster,
        application: env.binding.application,
        tier: env.binding.tier,
        ...(o.driftSince ? { since: o.driftSince } : {}),
        stale: fresh.stale,
        ...(fresh.ageSeconds !== undefined ? { ageSeconds: fresh.ageSeconds } : {}),
        objects: o.drift,
      }];
    })
    .sort((a, b) => (a.since ?? '').localeCompare(b.since ?? '') || a.environment.localeCompare(b.environment));
}

/** One environment's live status; NotFoundError for an unknown environment. */
export async function environmentStatus(catalog: Catalog, name: string, now: Date): Promise<z.infer<typeof EnvironmentStatusView>> {
  const env = await catalog.environments.require(name);
  const loaded = await load(catalog, [name]);
  const fresh = freshness(loaded.observedClusters.get(env.binding.cluster), now);
  const observed = loaded.observedEnvironments.get(name);
  return {
    ...environmentView(env, loaded, fresh),
    cluster: env.binding.cluster,
    reachability: fresh.reachability,
    drift: observed?.drift ?? [],
    ...(observed ? { changedAt: observed.changedAt } : {}),
  };
}
