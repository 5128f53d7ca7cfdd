// Organisation rules, checked before any change. Each violation names the rule, the object
// and the field; rules set to `warn` report without blocking. Two checks are built in and
// always block, whatever the rules say: an environment's tier must be one its cluster accepts
// (`clusterTier`, domain/placement.ts), and no two environments may claim one Ingress host
// (`uniqueIngressHost`).
import { z } from 'zod';
import type { AppSpec, EnvironmentBinding, Overrides, Resources, Tier } from './environment.js';
import { TIERS } from './environment.js';
import { effectiveSpec } from './effective.js';
import { API_VERSION } from './names.js';
import { own } from './own.js';
import { CHART_NAME_ANNOTATION, chartObjects, ChartScopeError, type RenderedChart, SOURCE_LABEL } from './chart-objects.js';
import type { Manifest } from './manifest.js';
import { DomainPattern, hostMatches, ingressHosts, tierRefusal } from './placement.js';

const Enforcement = z.enum(['block', 'warn']).default('block');
const TierName = z.enum(TIERS);
const HHMM = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'must be HH:MM (24h, UTC)');
const Weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);

export const FreezeWindow = z.union([
  z.strictObject({
    name: z.string().min(1),
    tiers: z.array(TierName).min(1),
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
  }),
  z.strictObject({
    name: z.string().min(1),
    tiers: z.array(TierName).min(1),
    /** Every week on these days, between these UTC times. */
    days: z.array(Weekday).min(1),
    start: HHMM,
    end: HHMM,
  }),
]);

export const Rules = z.strictObject({
  requireResourceLimits: z.strictObject({ enforcement: Enforcement }).optional(),
  allowedRegistries: z.strictObject({ registries: z.array(z.string().min(1)).min(1), enforcement: Enforcement }).optional(),
  forbidLatestTag: z.strictObject({ enforcement: Enforcement }).optional(),
  minReplicas: z.strictObject({ perTier: z.partialRecord(TierName, z.number().int().min(0)), enforcement: Enforcement }).optional(),
  residency: z.strictObject({ labelKey: z.string().min(1).default('geo'), enforcement: Enforcement }).optional(),
  freezeWindows: z.array(FreezeWindow).default([]),
  approvals: z.partialRecord(TierName, z.strictObject({ required: z.number().int().min(0).max(10), fourEyes: z.boolean().default(true) })).default({}),
  maxClustersPerChange: z.strictObject({ max: z.number().int().min(1), enforcement: Enforcement }).optional(),
  /** Tiers whose environments may never be stopped (scaled to zero), by hand or by a schedule. */
  forbidStop: z.strictObject({ tiers: z.array(TierName).min(1) }).optional(),
  /**
   * The domains each tier's Ingress hosts may use (`*.dev.example.com`: exactly one label in
   * place of the *). With this rule set, a tier it does not list may use no Ingress host.
   */
  ingressDomains: z.strictObject({ perTier: z.partialRecord(TierName, z.array(DomainPattern)), enforcement: Enforcement }).optional(),
  /**
   * Copied data (clones): `strict` refuses a copy of a database with a column that looks personal
   * (e-mail, phone, names, addresses) that its data policy gives no rule; `report` (the default)
   * copies and reports such columns.
   */
  dataPolicy: z.enum(['strict', 'report']).optional(),
  /**
   * Copied data leaving its tier: a clone of an environment of `fromTiers` may copy its
   * databases only `scrubbed` (or `schema`/`none`), never as they are (`snapshot`), unless the
   * clone's own tier is one of `exceptTiers` (a DR drill restores real data to prove it can).
   */
  scrubbedCopies: z.strictObject({
    fromTiers: z.array(TierName).min(1).default(['prod']),
    exceptTiers: z.array(TierName).default([]),
    enforcement: Enforcement,
  }).optional(),
});
export type Rules = z.infer<typeof Rules>;
export type RulesInput = z.input<typeof Rules>;

export const RulesDocument = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Rules'),
  metadata: z.strictObject({ name: z.string().min(1).default('organisation') }).optional(),
  spec: Rules,
});

export const RULE_NAMES = [
  'requireResourceLimits', 'allowedRegistries', 'forbidLatestTag', 'minReplicas', 'residency',
  'freezeWindows', 'maxClustersPerChange', 'ingressDomains', 'scrubbedCopies',
  // Built in, always blocking: not settings of the rules.
  'clusterTier', 'uniqueIngressHost', 'chartScope',
] as const;
export type RuleName = (typeof RULE_NAMES)[number];

export interface Violation {
  rule: RuleName;
  severity: 'error' | 'warning';
  /** The object at fault: "environment/shop-prod", "service/shop-prod/web", "cluster/eu-1". */
  object: string;
  /** The field path in the environment document ("spec.app.services[0].image"). */
  field: string;
  message: string;
}

export interface ChangeTarget {
  binding: EnvironmentBinding;
  spec: AppSpec;
  overrides: Overrides;
  /** The cluster with what it accepts: its labels and the tiers an admin allowed beyond its `tier` label. */
  cluster: { name: string; labels: Record<string, string>; allowedTiers?: readonly Tier[] };
  /** The renders of the spec's charts for this target (required when the spec has charts). */
  charts?: readonly RenderedChart[];
}

/** An Ingress host another environment (not among the change's targets) holds. */
export interface HostInUse {
  host: string;
  environment: string;
}

export interface PlannedChange {
  kind: 'deploy' | 'promote' | 'clone';
  /** ISO timestamp of when the change would happen. */
  at: string;
  targets: ChangeTarget[];
  /** The Ingress hosts of every other environment, for the uniqueIngressHost check. */
  hostsInUse?: readonly HostInUse[];
  /** A clone's data: where it comes from and how each database is copied (the scrubbedCopies check). */
  copy?: DataCopy;
}

export interface DataCopy {
  sourceTier: Tier;
  databases: readonly { database: string; mode: 'none' | 'schema' | 'snapshot' | 'scrubbed' }[];
}

export interface RulesVerdict {
  allowed: boolean;
  violations: Violation[];
  warnings: Violation[];
  /** The strictest approval any target's tier asks for. */
  approval: { required: number; fourEyes: boolean; tiers: Tier[] };
}

/** Evaluates every rule on a planned change. Pure: the caller supplies the time. */
export function evaluateRules(rules: Rules, change: PlannedChange): RulesVerdict {
  const found: Violation[] = [];
  const at = new Date(change.at);
  for (const target of change.targets) found.push(...checkTarget(rules, target, at));
  found.push(...checkHostCollisions(change));
  if (rules.scrubbedCopies && change.copy) for (const target of change.targets) found.push(...checkCopy(rules.scrubbedCopies, target, change.copy));

  if (rules.maxClustersPerChange) {
    const clusters = new Set(change.targets.map((t) => t.cluster.name));
    if (clusters.size > rules.maxClustersPerChange.max) {
      found.push(violation('maxClustersPerChange', rules.maxClustersPerChange.enforcement, `change/${change.kind}`, 'targets',
        `changes ${clusters.size} clusters at once; at most ${rules.maxClustersPerChange.max} allowed`));
    }
  }

  const approval = approvalFor(rules, change.targets.map((t) => t.binding.tier));

  const violations = found.filter((v) => v.severity === 'error');
  return { allowed: violations.length === 0, violations, warnings: found.filter((v) => v.severity === 'warning'), approval };
}

/** Why the rules refuse to stop an environment of this tier, if they do. */
export function stopRefusal(rules: Rules, tier: Tier): string | undefined {
  return rules.forbidStop?.tiers.includes(tier) ? `the organisation's rules forbid stopping ${tier} environments (forbidStop)` : undefined;
}

/** The strictest approval the rules ask for a change to environments of these tiers. */
export function approvalFor(rules: Rules, tiers: readonly Tier[]): RulesVerdict['approval'] {
  const approval = { required: 0, fourEyes: false, tiers: [] as Tier[] };
  for (const tier of new Set(tiers)) {
    const ask = rules.approvals[tier];
    if (!ask || ask.required === 0) continue;
    approval.required = Math.max(approval.required, ask.required);
    approval.fourEyes ||= ask.fourEyes;
    approval.tiers.push(tier);
  }
  return approval;
}

function checkCopy(rule: NonNullable<Rules['scrubbedCopies']>, target: ChangeTarget, copy: DataCopy): Violation[] {
  const tier = target.binding.tier;
  if (!rule.fromTiers.includes(copy.sourceTier) || rule.exceptTiers.includes(tier)) return [];
  return copy.databases.filter((d) => d.mode === 'snapshot').map((d) => violation('scrubbedCopies', rule.enforcement,
    `database/${target.binding.name}/${d.database}`, `data.${d.database}`,
    `data of a ${copy.sourceTier} environment goes into tier ${tier} only scrubbed, not as a snapshot` +
    `${rule.exceptTiers.length > 0 ? ` (as it is only into ${rule.exceptTiers.join(', ')})` : ''}`));
}

function checkTarget(rules: Rules, target: ChangeTarget, at: Date): Violation[] {
  const out: Violation[] = [];
  const env = target.binding.name;
  const misplaced = tierRefusal(target.binding.tier, target.cluster.name, target.cluster);
  if (misplaced) out.push(violation('clusterTier', 'block', `environment/${env}`, 'spec.tier', misplaced));
  if (rules.ingressDomains) {
    const allowed = own(rules.ingressDomains.perTier, target.binding.tier) ?? [];
    for (const [service, host] of ingressHosts(target.overrides.hostnames)) {
      if (allowed.some((pattern) => hostMatches(pattern, host))) continue;
      out.push(violation('ingressDomains', rules.ingressDomains.enforcement, `service/${env}/${service}`, `spec.overrides.hostnames.${service}`,
        `host "${host}" is not in a domain tier ${target.binding.tier} may use (${allowed.length > 0 ? allowed.join(', ') : 'none'})`));
    }
  }
  const effective = effectiveSpec(target.spec, target.overrides);
  effective.services.forEach((service, i) => {
    const object = `service/${env}/${service.name}`;
    const field = `spec.app.services[${i}]`;
    if (rules.requireResourceLimits) out.push(...missingLimits(rules.requireResourceLimits.enforcement, object, field, service.resources));
    const images = [service.image, ...(service.migration?.image ? [service.migration.image] : [])];
    images.forEach((image, n) => out.push(...checkImage(rules, object, n === 0 ? `${field}.image` : `${field}.migration.image`, image)));
    const min = rules.minReplicas?.perTier[target.binding.tier];
    if (rules.minReplicas && min !== undefined && service.replicas < min) {
      const overridden = own(target.overrides.replicas, service.name) !== undefined;
      out.push(violation('minReplicas', rules.minReplicas.enforcement, object,
        overridden ? `spec.overrides.replicas.${service.name}` : `${field}.replicas`,
        `${service.replicas} replicas; tier ${target.binding.tier} needs at least ${min}`));
    }
  });
  // Jobs and CronJobs run the same kind of containers: the same image and limit rules judge them.
  for (const [field, kind] of [['cronJobs', 'cronjob'], ['jobs', 'job']] as const) {
    (target.spec[field] ?? []).forEach((job, i) => {
      const object = `${kind}/${env}/${job.name}`;
      const path = `spec.app.${field}[${i}]`;
      if (rules.requireResourceLimits) out.push(...missingLimits(rules.requireResourceLimits.enforcement, object, path, job.resources));
      out.push(...checkImage(rules, object, `${path}.image`, job.image));
    });
  }

  if ((target.spec.charts ?? []).length > 0 || (target.spec.manifests ?? []).length > 0) out.push(...checkChartObjects(rules, target));

  if (rules.residency && target.binding.residency) {
    const key = rules.residency.labelKey;
    const actual = own(target.cluster.labels, key);
    if (actual !== target.binding.residency) {
      out.push(violation('residency', rules.residency.enforcement, `environment/${env}`, 'spec.cluster',
        `residency "${target.binding.residency}" needs a cluster labelled ${key}=${target.binding.residency}; ` +
        `cluster "${target.cluster.name}" is ${actual === undefined ? `not labelled ${key}` : `${key}=${actual}`}`));
    }
  }

  rules.freezeWindows.forEach((window, i) => {
    if (window.tiers.includes(target.binding.tier) && inWindow(window, at)) {
      out.push(violation('freezeWindows', 'block', `environment/${env}`, `freezeWindows[${i}]`,
        `tier ${target.binding.tier} is frozen by "${window.name}" at ${at.toISOString()}`));
    }
  });
  return out;
}

/**
 * Charts and manifests are judged by what they render: every container of their workloads
 * (hooks too) against the limits and image rules, their Deployments and StatefulSets against
 * minReplicas, and anything outside the environment's namespace it does not allow (chartScope).
 */
function checkChartObjects(rules: Rules, target: ChangeTarget): Violation[] {
  const env = target.binding.name;
  const out: Violation[] = [];
  let rendered;
  try {
    rendered = chartObjects({ binding: target.binding, spec: target.spec, overrides: target.overrides, revision: '', charts: target.charts ?? [] });
  } catch (error) {
    if (!(error instanceof ChartScopeError)) throw error;
    return error.problems.map((p) => violation('chartScope', 'block', `${p.source}/${env}: ${p.object}`, sourceField(target.spec, p.source), p.message));
  }
  const objects = [...rendered.objects, ...Object.values(rendered.hooks).flat()];
  for (const object of objects) {
    const source = object.metadata.labels?.[SOURCE_LABEL]?.replace('.', '/') ?? '';
    const at = `${source}/${env}: ${object.kind}/${object.metadata.annotations?.[CHART_NAME_ANNOTATION] ?? object.metadata.name}`;
    const field = sourceField(target.spec, source);
    for (const { path, container } of workloadContainers(object)) {
      if (rules.requireResourceLimits) {
        const limits = (container.resources as { limits?: Record<string, unknown> } | undefined)?.limits;
        for (const r of ['cpu', 'memory'] as const) {
          if (limits?.[r] === undefined) out.push(violation('requireResourceLimits', rules.requireResourceLimits.enforcement, at, field, `container "${String(container.name)}" (${path}) has no ${r} limit`));
        }
      }
      if (typeof container.image === 'string') out.push(...checkImage(rules, at, field, container.image));
    }
    const min = rules.minReplicas?.perTier[target.binding.tier];
    if (rules.minReplicas && min !== undefined && (object.kind === 'Deployment' || object.kind === 'StatefulSet')) {
      const replicas = (object.spec as { replicas?: number } | undefined)?.replicas ?? 1;
      if (replicas < min) out.push(violation('minReplicas', rules.minReplicas.enforcement, at, field, `${replicas} replicas; tier ${target.binding.tier} needs at least ${min}`));
    }
  }
  return out;
}

/** `spec.app.charts[i]` or `spec.app.manifests[i]` of `chart/NAME` or `manifests/NAME`. */
function sourceField(spec: AppSpec, source: string): string {
  const [kind, name] = source.split('/');
  const list = kind === 'chart' ? spec.charts : spec.manifests;
  const i = (list ?? []).findIndex((c) => c.name === name);
  return `spec.app.${kind === 'chart' ? 'charts' : 'manifests'}[${i}]`;
}

const POD_SPEC_AT: Record<string, string[]> = {
  Deployment: ['spec', 'template', 'spec'], StatefulSet: ['spec', 'template', 'spec'], DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'], Job: ['spec', 'template', 'spec'], CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'], Pod: ['spec'],
};

/** The containers (and init containers) of a workload object, with their path in it. */
function workloadContainers(object: Manifest): { path: string; container: Record<string, unknown> }[] {
  const at = POD_SPEC_AT[object.kind];
  if (!at) return [];
  let pod: unknown = object;
  for (const key of at) pod = (pod as Record<string, unknown> | undefined)?.[key];
  const out: { path: string; container: Record<string, unknown> }[] = [];
  for (const list of ['initContainers', 'containers'] as const) {
    const containers = (pod as Record<string, unknown> | undefined)?.[list];
    if (Array.isArray(containers)) containers.forEach((c, i) => out.push({ path: `${[...at, list].join('.')}[${i}]`, container: c as Record<string, unknown> }));
  }
  return out;
}

function missingLimits(enforcement: 'block' | 'warn', object: string, field: string, resources: Resources | undefined): Violation[] {
  return (['cpu', 'memory'] as const)
    .filter((r) => !resources?.limits?.[r])
    .map((r) => violation('requireResourceLimits', enforcement, object, `${field}.resources.limits.${r}`, `no ${r} limit set`));
}

/** An image against allowedRegistries and forbidLatestTag. */
function checkImage(rules: Rules, object: string, field: string, image: string): Violation[] {
  const out: Violation[] = [];
  const ref = parseImage(image);
  if (rules.allowedRegistries && !rules.allowedRegistries.registries.some((r) => ref.repository === r || ref.repository.startsWith(`${r.replace(/\/$/, '')}/`))) {
    out.push(violation('allowedRegistries', rules.allowedRegistries.enforcement, object, field,
      `image "${image}" is not from an allowed registry (${rules.allowedRegistries.registries.join(', ')})`));
  }
  if (rules.forbidLatestTag && !ref.digest && (!ref.tag || ref.tag === 'latest')) {
    out.push(violation('forbidLatestTag', rules.forbidLatestTag.enforcement, object, field,
      ref.tag ? `image "${image}" uses the "latest" tag` : `image "${image}" has no tag; pin a version or digest`));
  }
  return out;
}

/** One Ingress host, one environment: among the targets, and against every other environment's. */
function checkHostCollisions(change: PlannedChange): Violation[] {
  const out: Violation[] = [];
  const holder = new Map<string, string>();
  for (const { host, environment } of change.hostsInUse ?? []) if (!holder.has(host)) holder.set(host, environment);
  for (const target of change.targets) {
    const env = target.binding.name;
    for (const [service, host] of ingressHosts(target.overrides.hostnames)) {
      const other = holder.get(host);
      if (other !== undefined && other !== env) {
        out.push(violation('uniqueIngressHost', 'block', `service/${env}/${service}`, `spec.overrides.hostnames.${service}`,
          `host "${host}" is already used by environment "${other}"`));
      } else {
        holder.set(host, env);
      }
    }
  }
  return out;
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export function inWindow(window: z.infer<typeof FreezeWindow>, at: Date): boolean {
  if ('from' in window) return at >= new Date(window.from) && at < new Date(window.to);
  const minutes = at.getUTCHours() * 60 + at.getUTCMinutes();
  const [sh, sm] = window.start.split(':').map(Number) as [number, number];
  const [eh, em] = window.end.split(':').map(Number) as [number, number];
  const start = sh * 60 + sm;
  const end = eh * 60 + em;
  const today = DAYS[at.getUTCDay()]!;
  const yesterday = DAYS[(at.getUTCDay() + 6) % 7]!;
  if (start <= end) return window.days.includes(today) && minutes >= start && minutes < end;
  // Spans midnight: the window that began yesterday evening, or the one that begins tonight.
  return (window.days.includes(today) && minutes >= start) || (window.days.includes(yesterday) && minutes < end);
}

export interface ImageRef {
  repository: string;
  tag?: string;
  digest?: string;
}

/** Splits "ghcr.io/acme/web:1.2@sha256:…" into repository, tag and digest; bare names are Docker Hub's. */
export function parseImage(image: string): ImageRef {
  const [withoutDigest, digest] = image.split('@', 2) as [string, string | undefined];
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const hasTag = colon > lastSlash;
  let repository = hasTag ? withoutDigest.slice(0, colon) : withoutDigest;
  const tag = hasTag ? withoutDigest.slice(colon + 1) : undefined;
  const first = repository.split('/')[0]!;
  const hasRegistry = repository.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) repository = `docker.io/${repository.includes('/') ? repository : `library/${repository}`}`;
  return { repository, tag, digest };
}

function violation(rule: RuleName, enforcement: 'block' | 'warn', object: string, field: string, message: string): Violation {
  return { rule, severity: enforcement === 'block' ? 'error' : 'warning', object, field, message };
}
