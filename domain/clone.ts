// A clone: an environment made from another one's revision, on a cluster of its own, under a
// new name, with its own overrides and (per database) a copy of the source's data. Previews,
// DR drills and compliance clones are clones with a purpose. Pure: the API and the workflow's
// planning activity decide with these functions what a clone will be before anything exists.
import { z } from 'zod';
import type { DataMode } from './data-policy.js';
import type { AppSpec, EnvironmentBinding, Overrides, OverridesInput, Tier } from './environment.js';
import { Overrides as OverridesSchema, Tier as TierSchema } from './environment.js';
import { DnsLabel } from './names.js';
import { hasOwn } from './own.js';

export const CLONE_PURPOSES = ['clone', 'preview', 'drill', 'compliance'] as const;
export type ClonePurpose = (typeof CLONE_PURPOSES)[number];

export const DATA_MODES = ['none', 'schema', 'snapshot', 'scrubbed'] as const satisfies readonly DataMode[];

/** The tier a clone gets when the request names none: its purpose's own tier, else the source's. */
const PURPOSE_TIER: Record<ClonePurpose, Tier | undefined> = { clone: undefined, preview: 'preview', drill: 'dr', compliance: 'compliance' };

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
/** Longest TTL: a clone nobody extends is gone within a month. */
export const MAX_TTL_SECONDS = 30 * 86_400;

/** "90s", "30m", "4h", "2d", "1h30m" → seconds; undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+[smhd])+$/.test(text)) return undefined;
  let seconds = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([smhd])/g)) seconds += Number(n) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
  return seconds;
}

/** A TTL as the API takes it: a duration text ("4h") or seconds. */
export const Ttl = z.union([
  z.number().int().min(1).max(MAX_TTL_SECONDS),
  z.string().transform((text, ctx) => {
    const seconds = parseDuration(text);
    if (seconds === undefined || seconds < 1) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration such as "90s", "30m", "4h", "2d" or "1h30m", or seconds' });
      return z.NEVER;
    }
    if (seconds > MAX_TTL_SECONDS) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_TTL_SECONDS / 86_400} days` });
      return z.NEVER;
    }
    return seconds;
  }),
]);

export const CloneRequest = z.strictObject({
  /** The environment to clone. */
  source: DnsLabel,
  /** The clone's own environment name. */
  name: DnsLabel,
  /** Where the clone runs. */
  cluster: DnsLabel,
  /** The source's revision to run (sha256:… or a short form); its deployed one by default. */
  revision: z.string().min(1).optional(),
  /** Defaults to the purpose's tier (preview, dr, compliance), else the source's. */
  tier: TierSchema.optional(),
  /** Defaults to the source's residency. */
  residency: z.string().min(1).optional(),
  /** Defaults to the clone's name. */
  namespace: DnsLabel.optional(),
  /** Laid over the source's overrides, key by key; the source's Ingress hosts are never carried over. */
  overrides: OverridesSchema.partial().optional(),
  /** Per database of the spec: none (the default), schema, snapshot or scrubbed. */
  data: z.record(DnsLabel, z.enum(DATA_MODES)).default({}),
  /** Tear the clone down after this long (a duration such as "4h", or seconds). */
  ttl: Ttl.optional(),
  purpose: z.enum(CLONE_PURPOSES).default('clone'),
});
export type CloneRequest = z.infer<typeof CloneRequest>;
export type CloneRequestInput = z.input<typeof CloneRequest>;

export interface CloneSource {
  binding: EnvironmentBinding;
  overrides: Overrides;
}

/** Where the clone runs and what it is. */
export function cloneBinding(source: CloneSource, request: CloneRequest): EnvironmentBinding {
  const residency = request.residency ?? source.binding.residency;
  return {
    name: request.name,
    application: source.binding.application,
    tier: request.tier ?? PURPOSE_TIER[request.purpose] ?? source.binding.tier,
    ...(residency !== undefined ? { residency } : {}),
    cluster: request.cluster,
    namespace: request.namespace ?? request.name,
  };
}

/**
 * The clone's overrides: the source's, without its Ingress hosts (two environments never share
 * one), with the request's laid over them key by key (a request's replicas for `web` replaces the
 * source's for `web` and keeps the others).
 */
export function cloneOverrides(source: Overrides, given: Partial<OverridesInput> = {}): Overrides {
  const merged: OverridesInput = {
    replicas: { ...source.replicas, ...given.replicas },
    resources: { ...source.resources, ...given.resources },
    hostnames: { ...given.hostnames },
    config: { ...source.config, ...given.config },
  };
  return OverridesSchema.parse(merged);
}

export interface DataPlanEntry {
  database: string;
  engine: string;
  location: 'container' | 'external';
  mode: DataMode;
}

/** One problem with the request's `data`, with its field path. */
export interface CloneProblem {
  path: string;
  message: string;
}

/** Every database of the spec with the mode it is cloned with; problems name `data.<db>`. */
export function dataPlan(spec: AppSpec, requested: Readonly<Record<string, DataMode>>): { plan: DataPlanEntry[]; problems: CloneProblem[] } {
  const problems: CloneProblem[] = [];
  const declared = new Set(spec.databases.map((d) => d.name));
  for (const name of Object.keys(requested)) {
    if (!declared.has(name)) problems.push({ path: `data.${name}`, message: `the source has no database "${name}" (it has ${[...declared].join(', ') || 'none'})` });
  }
  const plan = spec.databases.map((d) => {
    const mode = hasOwn(requested, d.name) ? requested[d.name]! : 'none';
    if (mode !== 'none' && d.engine !== 'postgres') {
      problems.push({ path: `data.${d.name}`, message: `data can be cloned from PostgreSQL databases only; "${d.name}" is ${d.engine}` });
    }
    return { database: d.name, engine: d.engine, location: d.mode, mode };
  });
  return { plan, problems };
}

/**
 * What a clone's data exposes, for authorisation: `raw-prod` when any database of a prod source
 * is copied as it is (snapshot), `data` when any is copied at all (scrubbed, or raw from a lower
 * tier), `none` otherwise.
 */
export function dataExposure(sourceTier: Tier, plan: readonly Pick<DataPlanEntry, 'mode'>[]): 'raw-prod' | 'data' | 'none' {
  if (sourceTier === 'prod' && plan.some((p) => p.mode === 'snapshot')) return 'raw-prod';
  if (plan.some((p) => p.mode === 'snapshot' || p.mode === 'scrubbed')) return 'data';
  return 'none';
}

/** When a clone with this TTL, made at `at`, tears itself down (ISO); undefined without a TTL. */
export function expiryOf(at: Date, ttlSeconds: number | undefined): string | undefined {
  return ttlSeconds === undefined ? undefined : new Date(at.getTime() + ttlSeconds * 1000).toISOString();
}

/** What a clone's data copy did to one database (the clone's record and result show it). */
export interface DatabaseCopySummary {
  database: string;
  mode: DataMode;
  tables: number;
  rows: number;
  bytes: number;
  /** When the source's snapshot was taken: the age of the data (RPO). */
  snapshotAt?: string;
  durationMs: number;
  /** Columns that look personal and that no rule of the data policy names (copied as they are under `snapshot`). */
  unruledPersonal?: string[];
}

export const CLONE_STATES = ['creating', 'ready', 'failed', 'tearing-down', 'torn-down'] as const;
export type CloneState = (typeof CLONE_STATES)[number];
