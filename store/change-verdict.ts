// The one place that decides the organisation rules' verdict on a change: the API before it
// stores or starts anything, and the workflows' planning activities, all ask here. It gives the
// rules what they judge placement by: each target's cluster (labels and allowed tiers) and the
// Ingress hosts every other environment holds.
import type { EnvironmentBinding, AppSpec, Overrides } from '../domain/environment.js';
import type { ClusterPlacement } from '../domain/placement.js';
import { ingressHosts } from '../domain/placement.js';
import { evaluateRules, type DataCopy, type HostInUse, type Rules, type RulesVerdict } from '../domain/rules.js';
import type { CatalogRepositories } from './catalog.js';
import { environmentCharts } from './chart-renders.js';
import type { RenderedChart } from '../domain/chart-objects.js';
import { NotFoundError } from './errors.js';

export interface VerdictTarget {
  binding: EnvironmentBinding;
  spec: AppSpec;
  overrides: Overrides;
  /** The renders of the spec's charts; from the catalog's cache when not given. */
  charts?: readonly RenderedChart[];
}

export interface ChangeToJudge {
  /** `edit`: a spec or overrides change that runs nothing yet, so freeze windows do not apply. */
  kind: 'edit' | 'deploy' | 'promote' | 'clone';
  /** When the change would happen (ISO). */
  at: string;
  targets: VerdictTarget[];
  /** Clusters known to the caller (e.g. clusters applied in the same request); the catalog answers for the rest. */
  clusters?: ReadonlyMap<string, ClusterPlacement>;
  /**
   * Other environments the same request writes (documents of one apply): their hosts count as
   * held, in place of what the catalog holds for them.
   */
  alongside?: readonly { binding: Pick<EnvironmentBinding, 'name'>; overrides: Pick<Overrides, 'hostnames'> }[];
  /** The rules to judge by; the catalog's current rules otherwise. */
  rules?: Rules;
  /** A clone's data copy (kind clone). */
  copy?: DataCopy;
}

type Repositories = Pick<CatalogRepositories, 'rules' | 'clusters' | 'environments' | 'chartRenders'>;

/** The verdict; NotFoundError('cluster', name) when a target's cluster is not registered. */
export async function changeVerdict(catalog: Repositories, change: ChangeToJudge): Promise<RulesVerdict> {
  const rules = change.rules ?? (await catalog.rules.current()).rules;
  const targets = [];
  for (const target of change.targets) {
    const name = target.binding.cluster;
    const cluster = change.clusters?.get(name) ?? (await catalog.clusters.get(name));
    if (!cluster) throw new NotFoundError('cluster', name);
    // Charts are judged by their render, which the worker put in the cache (ChartNotRenderedError otherwise).
    const charts = target.charts ?? ((target.spec.charts ?? []).length > 0 ? await environmentCharts(catalog, target) : undefined);
    targets.push({ ...target, ...(charts ? { charts } : {}), cluster: { name, labels: { ...cluster.labels }, allowedTiers: cluster.allowedTiers ?? [] } });
  }
  const hostsInUse = await heldHosts(catalog, change);
  const judged = change.kind === 'edit' ? { ...rules, freezeWindows: [] } : rules;
  return evaluateRules(judged, { kind: change.kind === 'edit' ? 'deploy' : change.kind, at: change.at, targets, hostsInUse, ...(change.copy ? { copy: change.copy } : {}) });
}

/**
 * The Ingress hosts of every environment but the targets: what each runs (its deployed
 * overrides) and what it will run (its current ones); the request's other documents instead of
 * the catalog for environments they write.
 */
async function heldHosts(catalog: Repositories, change: ChangeToJudge): Promise<HostInUse[]> {
  const judged = new Set(change.targets.map((t) => t.binding.name));
  const alongside = (change.alongside ?? []).filter((e) => !judged.has(e.binding.name));
  const replaced = new Set(alongside.map((e) => e.binding.name));
  const held: HostInUse[] = alongside.flatMap((e) => ingressHosts(e.overrides.hostnames).map(([, host]) => ({ host, environment: e.binding.name })));
  for (const env of await catalog.environments.list()) {
    const name = env.binding.name;
    if (judged.has(name) || replaced.has(name)) continue;
    const versions = [env.overrides];
    const deployed = env.deployed?.overridesVersion;
    if (deployed !== undefined && deployed !== env.overridesVersion) {
      // A version gone from the catalog holds nothing (the verdict's NotFoundError means a cluster).
      const old = await catalog.environments.overridesAt(name, deployed).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      });
      if (old) versions.push(old);
    }
    for (const overrides of versions) held.push(...ingressHosts(overrides.hostnames).map(([, host]) => ({ host, environment: name })));
  }
  return held;
}

/** One line per violation, for failures and logs. */
export function describeViolations(verdict: RulesVerdict): string {
  return verdict.violations.map((v) => `${v.rule} (${v.object} ${v.field}): ${v.message}`).join('; ');
}
