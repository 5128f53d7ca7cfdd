// Where a tier-scoped token's reach ends for things that are not environments: clusters,
// the organisation's rules and the audit log. Modelled on Argo CD's projects: a scoped admin
// administers the clusters and the per-tier rules of its tiers, and sees the audit of its tiers.
//
//   cluster writes  — the cluster's `tier` label and every tier it allows (`allowedTiers`), before
//                     and after the change, must be in scope; a cluster without a tier label
//                     belongs to no tier, so only unscoped admins touch it
//   rules writes    — only the per-tier entries (approvals, minReplicas) of tiers in scope may
//                     change; anything organisation-wide needs an unscoped admin
//   audit reads     — entries about environments, clusters and operations of the scope's
//                     tiers, and the principal's own; nothing else
import { canonicalJson } from '../../domain/canonical.js';
import { Tier, TIERS } from '../../domain/environment.js';
import { own } from '../../domain/own.js';
import type { Rules } from '../../domain/rules.js';
import type { Catalog } from '../../store/catalog.js';
import type { AuditEntry } from '../../store/audit.js';
import type { Principal } from '../authz.js';

/**
 * The tiers a cluster's writes touch: its `tier` label's and those it allows beyond it (a dev
 * admin cannot open a dev cluster to prod environments), or every tier when it has no tier label.
 */
export function clusterTiers(labels: Readonly<Record<string, string>> | undefined, allowedTiers: readonly Tier[] = []): Tier[] {
  const tier = labels && Object.hasOwn(labels, 'tier') ? Tier.safeParse(labels.tier) : undefined;
  return tier?.success ? TIERS.filter((t) => t === tier.data || allowedTiers.includes(t)) : [...TIERS];
}

/** The tiers a rules change touches: those whose per-tier entries differ; every tier if anything else does. */
export function rulesTiers(before: Rules, after: Rules): Tier[] {
  const perTier = (r: Rules) => ({
    approvals: r.approvals ?? {},
    minReplicas: r.minReplicas?.perTier ?? {},
  });
  const rest = (r: Rules) => canonicalJson({ ...r, approvals: undefined, minReplicas: r.minReplicas ? { ...r.minReplicas, perTier: undefined } : undefined });
  if (rest(before) !== rest(after)) return [...TIERS];
  const [a, b] = [perTier(before), perTier(after)];
  return TIERS.filter((t) => canonicalJson([own(a.approvals, t), own(a.minReplicas, t)]) !== canonicalJson([own(b.approvals, t), own(b.minReplicas, t)]));
}

/** Keeps the audit entries a scoped principal may see; an unscoped one sees all. */
export async function visibleAudit(catalog: Catalog, principal: Principal, entries: AuditEntry[]): Promise<AuditEntry[]> {
  const scope = principal.tiers;
  if (!scope) return entries;
  const within = (tiers: readonly Tier[]) => tiers.length > 0 && tiers.every((t) => scope.includes(t));
  const cache = new Map<string, Promise<boolean>>();
  const remember = (key: string, decide: () => Promise<boolean>) => {
    if (!cache.has(key)) cache.set(key, decide());
    return cache.get(key)!;
  };
  const environment = (name: string) => remember(`e:${name}`, async () => {
    const env = await catalog.environments.get(name);
    return env !== undefined && within([env.binding.tier]);
  });
  const cluster = (name: string) => remember(`c:${name}`, async () => {
    const c = await catalog.clusters.get(name);
    return c !== undefined && within(clusterTiers(c.labels, c.allowedTiers));
  });
  const operation = (id: string) => remember(`o:${id}`, async () => {
    const op = await catalog.operations.get(id);
    if (!op || op.environments.length + op.clusters.length === 0) return false;
    const checks = [...op.environments.map(environment), ...op.clusters.map(cluster)];
    return (await Promise.all(checks)).every(Boolean);
  });
  const visible = async (entry: AuditEntry): Promise<boolean> => {
    if (entry.actor === principal.name) return true;
    const [kind, ...rest] = entry.target.split('/');
    const name = rest.join('/');
    if (kind === 'environment') return environment(name);
    if (kind === 'cluster') return cluster(name);
    if (kind === 'promotion' || kind === 'operation') return operation(name);
    return entry.operationId !== undefined ? operation(entry.operationId) : false;
  };
  const keep = await Promise.all(entries.map(visible));
  return entries.filter((_, i) => keep[i]);
}
