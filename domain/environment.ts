import { z } from 'zod';
import { Chart, ChartValues, checkChartValues, ManifestBundle } from './charts.js';
import { DataPolicy } from './data-policy.js';
import { API_VERSION, DnsLabel } from './names.js';
import { hasOwn } from './own.js';

export const TIERS = ['dev', 'staging', 'prod', 'dr', 'preview', 'compliance'] as const;
export const Tier = z.enum(TIERS);
export type Tier = z.infer<typeof Tier>;

/** Kubernetes quantities as strings: "250m", "1", "512Mi", "10Gi". */
export const Quantity = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/, 'must be a Kubernetes quantity such as "250m", "512Mi" or "2"');

const ResourceAmounts = z.strictObject({ cpu: Quantity.optional(), memory: Quantity.optional() });
export const Resources = z.strictObject({ requests: ResourceAmounts.optional(), limits: ResourceAmounts.optional() });
export type Resources = z.infer<typeof Resources>;

const Port = z.number().int().min(1).max(65535);

export const ServicePort = z.strictObject({
  name: DnsLabel.optional(),
  port: Port,
  targetPort: Port.optional(),
  protocol: z.enum(['TCP', 'UDP']).default('TCP'),
});

export const Probe = z.strictObject({
  httpGet: z.strictObject({ path: z.string().startsWith('/'), port: Port }).optional(),
  tcpSocket: z.strictObject({ port: Port }).optional(),
  exec: z.strictObject({ command: z.array(z.string()).min(1) }).optional(),
  initialDelaySeconds: z.number().int().min(0).optional(),
  periodSeconds: z.number().int().min(1).optional(),
  failureThreshold: z.number().int().min(1).optional(),
}).refine((p) => [p.httpGet, p.tcpSocket, p.exec].filter(Boolean).length === 1, {
  message: 'a probe needs exactly one of httpGet, tcpSocket or exec',
});

const EnvVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid environment variable name');

/** A container environment variable: a literal, a config key, or a secret by name. */
export const EnvVar = z.union([
  z.string(),
  z.strictObject({ config: z.string().min(1) }),
  z.strictObject({ secret: EnvVarName }),
]);

export const Migration = z.strictObject({
  command: z.array(z.string()).min(1),
  /** Defaults to the service's image. */
  image: z.string().min(1).optional(),
});

export const Service = z.strictObject({
  name: DnsLabel,
  image: z.string().min(1),
  ports: z.array(ServicePort).default([]),
  replicas: z.number().int().min(0).max(1000).default(1),
  env: z.record(EnvVarName, EnvVar).default({}),
  resources: Resources.optional(),
  probes: z.strictObject({ readiness: Probe.optional(), liveness: Probe.optional() }).optional(),
  dependsOn: z.array(DnsLabel).default([]),
  /** Runs as a Job before the revision's Deployments change. */
  migration: Migration.optional(),
  /**
   * Seconds a rollout may go without progress before Kubernetes reports it failed
   * (ProgressDeadlineExceeded). Defaults to DEFAULT_PROGRESS_DEADLINE_SECONDS (domain/render.ts).
   * Optional with no default, so specs written without it keep their revision id.
   */
  progressDeadlineSeconds: z.number().int().min(5).max(3600).optional(),
});
export type Service = z.infer<typeof Service>;

/** When a lifecycle job runs: around a deploy, before a stop, before a teardown. */
export const LIFECYCLE_HOOKS = ['beforeDeploy', 'afterDeploy', 'beforeStop', 'beforeTeardown'] as const;
export const LifecycleHook = z.enum(LIFECYCLE_HOOKS);
export type LifecycleHook = z.infer<typeof LifecycleHook>;

const CRON_FIELDS: readonly { min: number; max: number; names?: readonly string[]; question?: boolean }[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31, question: true },
  { min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'], question: true },
];
const CRON_MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** Why a CronJob schedule is not one Kubernetes takes (five fields, or a macro such as @daily); undefined when it is. */
export function cronScheduleProblem(schedule: string): string | undefined {
  const text = schedule.trim();
  if (text.startsWith('@')) return CRON_MACROS.includes(text) ? undefined : `unknown macro "${text}" (one of ${CRON_MACROS.join(', ')})`;
  const fields = text.split(/\s+/);
  if (fields.length !== 5) return `needs 5 fields (minute hour day-of-month month day-of-week), has ${fields.length}`;
  const labels = ['minute', 'hour', 'day of month', 'month', 'day of week'];
  for (const [i, field] of fields.entries()) {
    const { min, max, names, question } = CRON_FIELDS[i]!;
    const value = (v: string) => {
      const named = names?.indexOf(v.toUpperCase()) ?? -1;
      if (named >= 0) return named + (names!.length === 12 ? 1 : 0);
      return /^[0-9]+$/.test(v) ? Number(v) : Number.NaN;
    };
    for (const part of field.split(',')) {
      if (question && part === '?') continue;
      const [range, step, extra] = part.split('/');
      if (extra !== undefined || (step !== undefined && !/^[1-9][0-9]*$/.test(step))) return `${labels[i]} "${field}": bad step`;
      if (range === '*') continue;
      const bounds = (range ?? '').split('-');
      if (bounds.length > 2 || bounds.some((b) => { const n = value(b); return !(n >= min && n <= max); })) {
        return `${labels[i]} "${field}": each value must be ${min}-${max}${names ? ` or a name (${names[0]}…)` : ''}`;
      }
    }
  }
  return undefined;
}

/** A job's name: short enough that Kubernetes' suffixes (revision, run, the CronJob's schedule time) fit in 63 characters. */
const JobName = DnsLabel.max(40, 'must be at most 40 characters (room for the suffixes Kubernetes and Flotilla add)');

/**
 * A recurring job: a Kubernetes CronJob. Every field but name, schedule and image is optional
 * with no default, so the revision id of a spec depends only on what it says.
 */
export const CronJob = z.strictObject({
  name: JobName,
  schedule: z.string().min(1).superRefine((s, ctx) => {
    const problem = cronScheduleProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: `not a cron schedule: ${problem}` });
  }),
  /** An IANA time zone ("Europe/Paris"); the controller's (UTC) otherwise. */
  timeZone: z.string().regex(/^[A-Za-z_]+(\/[-+A-Za-z0-9_]+)*$/, 'must be an IANA time zone such as "Europe/Paris"').optional(),
  image: z.string().min(1),
  command: z.array(z.string()).min(1).optional(),
  args: z.array(z.string()).optional(),
  env: z.record(EnvVarName, EnvVar).optional(),
  resources: Resources.optional(),
  concurrencyPolicy: z.enum(['Allow', 'Forbid', 'Replace']).optional(),
  successfulJobsHistoryLimit: z.number().int().min(0).max(100).optional(),
  failedJobsHistoryLimit: z.number().int().min(0).max(100).optional(),
  suspend: z.boolean().optional(),
});
export type CronJob = z.infer<typeof CronJob>;

/**
 * A job a workflow runs at a moment of the environment's life (`hook`), and waits for: a failure
 * stops the operation, with its log's tail. Optional fields have no default (revision ids).
 */
export const LifecycleJob = z.strictObject({
  name: JobName,
  hook: LifecycleHook,
  image: z.string().min(1),
  command: z.array(z.string()).min(1),
  args: z.array(z.string()).optional(),
  env: z.record(EnvVarName, EnvVar).optional(),
  resources: Resources.optional(),
  /** How long it may run (activeDeadlineSeconds); DEFAULT_JOB_TIMEOUT_SECONDS (domain/jobs.ts) otherwise. */
  timeoutSeconds: z.number().int().min(1).max(86_400).optional(),
  /** Retries of a failed pod before the job fails; DEFAULT_JOB_BACKOFF_LIMIT (domain/jobs.ts) otherwise. */
  backoffLimit: z.number().int().min(0).max(10).optional(),
});
export type LifecycleJob = z.infer<typeof LifecycleJob>;

export const DATABASE_ENGINES = ['postgres', 'mysql', 'redis'] as const;
export const Database = z.discriminatedUnion('mode', [
  z.strictObject({
    name: DnsLabel,
    mode: z.literal('container'),
    engine: z.enum(DATABASE_ENGINES),
    version: z.string().min(1),
    storage: Quantity.default('1Gi'),
    /** Masking rules for scrubbed copies. Optional with no default, so specs without it keep their revision id. */
    dataPolicy: DataPolicy.optional(),
  }),
  z.strictObject({
    name: DnsLabel,
    mode: z.literal('external'),
    engine: z.enum(DATABASE_ENGINES),
    version: z.string().min(1).optional(),
    /** Secret holding the connection string, exposed to services as <NAME>_URL. */
    connectionSecret: EnvVarName,
    /** Masking rules for scrubbed copies. Optional with no default, so specs without it keep their revision id. */
    dataPolicy: DataPolicy.optional(),
  }),
]);
export type Database = z.infer<typeof Database>;

/** Names must be unique and every reference must point at something the spec declares. */
function checkReferences(spec: {
  services: Service[];
  databases: Database[];
  config: Record<string, string>;
  environmentConfig: string[];
  secrets: string[];
  cronJobs?: CronJob[];
  jobs?: LifecycleJob[];
  charts?: Chart[];
  manifests?: ManifestBundle[];
}, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const serviceNames = new Set<string>();
  spec.services.forEach((s, i) => {
    if (serviceNames.has(s.name)) issue(['services', i, 'name'], `duplicate service name "${s.name}"`);
    serviceNames.add(s.name);
  });
  const databaseNames = new Set<string>();
  spec.databases.forEach((d, i) => {
    if (databaseNames.has(d.name) || serviceNames.has(d.name)) issue(['databases', i, 'name'], `duplicate name "${d.name}"`);
    databaseNames.add(d.name);
    if (d.mode === 'external' && !spec.secrets.includes(d.connectionSecret)) {
      issue(['databases', i, 'connectionSecret'], `secret "${d.connectionSecret}" is not declared in secrets`);
    }
  });
  const secrets = new Set(spec.secrets);
  spec.services.forEach((s, i) => {
    s.dependsOn.forEach((dep, j) => {
      if (!serviceNames.has(dep) && !databaseNames.has(dep)) issue(['services', i, 'dependsOn', j], `"${dep}" is neither a service nor a database`);
      if (dep === s.name) issue(['services', i, 'dependsOn', j], 'a service cannot depend on itself');
    });
    for (const [name, value] of Object.entries(s.env)) {
      if (typeof value === 'string') continue;
      if ('config' in value && !hasOwn(spec.config, value.config)) issue(['services', i, 'env', name, 'config'], `config key "${value.config}" is not declared in config`);
      if ('secret' in value && !secrets.has(value.secret)) issue(['services', i, 'env', name, 'secret'], `secret "${value.secret}" is not declared in secrets`);
    }
  });
  // Jobs and CronJobs: names unique among themselves and against services and databases (the
  // objects and their pods would otherwise share names and labels); their env as services'.
  const taken = new Set([...serviceNames, ...databaseNames]);
  for (const field of ['cronJobs', 'jobs'] as const) {
    (spec[field] ?? []).forEach((job, i) => {
      if (taken.has(job.name)) issue([field, i, 'name'], `duplicate name "${job.name}"`);
      taken.add(job.name);
      for (const [name, value] of Object.entries(job.env ?? {})) {
        if (typeof value === 'string') continue;
        if ('config' in value && !hasOwn(spec.config, value.config)) issue([field, i, 'env', name, 'config'], `config key "${value.config}" is not declared in config`);
        if ('secret' in value && !secrets.has(value.secret)) issue([field, i, 'env', name, 'secret'], `secret "${value.secret}" is not declared in secrets`);
      }
    });
  }
  spec.environmentConfig.forEach((key, i) => {
    if (!hasOwn(spec.config, key)) issue(['environmentConfig', i], `config key "${key}" is not declared in config`);
  });
  // Charts and bundles: unique names of their own (a chart's release name is its name by default).
  for (const field of ['charts', 'manifests'] as const) {
    const names = new Set<string>();
    (spec[field] ?? []).forEach((part, i) => {
      if (names.has(part.name)) issue([field, i, 'name'], `duplicate name "${part.name}"`);
      names.add(part.name);
    });
  }
  if (spec.services.length === 0 && (spec.charts ?? []).length === 0 && (spec.manifests ?? []).length === 0) {
    issue(['services'], 'an application needs at least one service, chart or manifest bundle');
  }
}

/**
 * The portable part of an environment: what a revision snapshots and what promotion and
 * cloning carry. Secret *names* only; their values are per-environment and never here.
 */
export const AppSpec = z.strictObject({
  /** May be left out when the application has charts or manifests (checkReferences asks for one of the three). */
  services: z.array(Service).default([]),
  databases: z.array(Database).default([]),
  config: z.record(z.string().regex(/^[-._a-zA-Z0-9]+$/, 'must be a valid ConfigMap key'), z.string()).default({}),
  /** Config keys whose values each environment sets for itself (an override). */
  environmentConfig: z.array(z.string()).default([]),
  secrets: z.array(EnvVarName).default([]),
  /** Recurring jobs (Kubernetes CronJobs). Optional with no default, so specs without it keep their revision id. */
  cronJobs: z.array(CronJob).optional(),
  /** Jobs the workflows run at a hook (before/after a deploy, before a stop or a teardown). Optional with no default, likewise. */
  jobs: z.array(LifecycleJob).optional(),
  /** Helm charts, each pinned by digest in the revision. Optional with no default, likewise. */
  charts: z.array(Chart).optional(),
  /** Plain Kubernetes manifests, inline or as an uploaded bundle. Optional with no default, likewise. */
  manifests: z.array(ManifestBundle).optional(),
}).superRefine(checkReferences);
export type AppSpec = z.infer<typeof AppSpec>;
export type AppSpecInput = z.input<typeof AppSpec>;

/** The per-environment part that promotion does not carry. */
export const Overrides = z.strictObject({
  replicas: z.record(DnsLabel, z.number().int().min(0).max(1000)).default({}),
  resources: z.record(DnsLabel, Resources).default({}),
  hostnames: z.record(DnsLabel, z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS name')).default({}),
  config: z.record(z.string(), z.string()).default({}),
  /** Per chart, values at its declared environmentValues paths. Optional with no default: stored overrides keep their form. */
  chartValues: ChartValues.optional(),
  /**
   * Where the environment's charts and manifests may write beyond its namespace (refused
   * otherwise): other namespaces by name, and cluster-scoped objects (CRDs …), which the cluster's
   * admin must also grant the agent. Optional with no default, likewise.
   */
  chartScope: z.strictObject({
    clusterScoped: z.boolean().optional(),
    namespaces: z.array(DnsLabel).max(20).optional(),
  }).optional(),
});
export type Overrides = z.infer<typeof Overrides>;
export type OverridesInput = z.input<typeof Overrides>;

/**
 * Namespaces an environment may never use: the cluster's own, Flotilla's, and `default`
 * (which exists before anyone, so Flotilla never created it).
 */
export function systemNamespace(namespace: string): boolean {
  return namespace === 'default' || namespace === 'flotilla-system' || namespace.startsWith('kube-');
}
const SYSTEM_NAMESPACE_MESSAGE = 'is a system namespace (default, kube-*, flotilla-system); an environment needs a namespace of its own';

/** Where an environment runs and what it is. */
export const EnvironmentBinding = z.strictObject({
  name: DnsLabel,
  application: DnsLabel,
  tier: Tier,
  residency: z.string().min(1).optional(),
  cluster: DnsLabel,
  namespace: DnsLabel.refine((n) => !systemNamespace(n), SYSTEM_NAMESPACE_MESSAGE),
});
export type EnvironmentBinding = z.infer<typeof EnvironmentBinding>;

/**
 * What the observer does when an environment's live objects drift from its last deploy:
 * `report` it (the default), or `heal` it by deploying the same revision again.
 */
export const DRIFT_POLICIES = ['report', 'heal'] as const;
export const DriftPolicy = z.enum(DRIFT_POLICIES);
export type DriftPolicy = z.infer<typeof DriftPolicy>;

/**
 * How an environment of an Application takes a changed application: `track` (dev, staging)
 * takes it on apply and deploys it when it runs; `promotion` (prod) changes only by promotion
 * (or a deploy of a revision it has had). An environment with its own inline `app` is `inline`.
 */
export const UPDATE_MODES = ['track', 'promotion'] as const;
export const UpdateMode = z.enum(UPDATE_MODES);
export type UpdateMode = z.infer<typeof UpdateMode>;
export type EnvironmentUpdates = UpdateMode | 'inline';

/** Tiers whose environments change only by promotion unless they say otherwise. */
const PROMOTED_TIERS: readonly Tier[] = ['prod', 'dr', 'compliance'];

/** The default of `spec.updates` for an environment of an Application on this tier. */
export function defaultUpdates(tier: Tier): UpdateMode {
  return PROMOTED_TIERS.includes(tier) ? 'promotion' : 'track';
}

/** The `kind: Environment` document of `flotilla apply -f`. */
export const EnvironmentDocument = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Environment'),
  metadata: z.strictObject({ name: DnsLabel }),
  spec: z.strictObject({
    /** The Application it runs (its `kind: Application` document), or the name its inline `app` goes by. */
    application: DnsLabel,
    tier: Tier,
    residency: z.string().min(1).optional(),
    cluster: DnsLabel,
    /** Defaults to the environment's name. */
    namespace: DnsLabel.optional(),
    /** The application inline (older documents): the environment then carries its own spec. */
    app: AppSpec.optional(),
    /** With an Application: track it or change by promotion only (default by tier: prod, dr, compliance promote). */
    updates: UpdateMode.optional(),
    overrides: Overrides.default({ replicas: {}, resources: {}, hostnames: {}, config: {} }),
    driftPolicy: DriftPolicy.optional(),
  }),
}).superRefine((doc, ctx) => {
  // The namespace defaults to the environment's name: check the one it will really use.
  const namespace = doc.spec.namespace ?? doc.metadata.name;
  if (systemNamespace(namespace)) {
    ctx.addIssue({ code: 'custom', path: doc.spec.namespace === undefined ? ['metadata', 'name'] : ['spec', 'namespace'], message: `namespace "${namespace}" ${SYSTEM_NAMESPACE_MESSAGE}` });
  }
  if (doc.spec.app !== undefined && doc.spec.updates !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['spec', 'updates'], message: 'only for an environment of an Application (without spec.app): an inline app changes with its own document' });
  }
});
export type EnvironmentDocument = z.infer<typeof EnvironmentDocument>;

export interface Environment {
  binding: EnvironmentBinding;
  spec: AppSpec;
  overrides: Overrides;
  driftPolicy?: DriftPolicy;
}

/** The document's binding: where it runs and what it is. */
export function bindingOf(doc: EnvironmentDocument): EnvironmentBinding {
  const { application, tier, residency, cluster, namespace } = doc.spec;
  return { name: doc.metadata.name, application, tier, residency, cluster, namespace: namespace ?? doc.metadata.name };
}

/** How the environment takes application changes. */
export function updatesOf(doc: EnvironmentDocument): EnvironmentUpdates {
  return doc.spec.app !== undefined ? 'inline' : doc.spec.updates ?? defaultUpdates(doc.spec.tier);
}

/**
 * The environment a document describes, with the spec it runs: its inline `app`, else
 * `applicationSpec` (its Application's, or the revision it stays on when it changes by promotion).
 */
export function environmentFromDocument(doc: EnvironmentDocument, applicationSpec?: AppSpec): Environment {
  const spec = doc.spec.app ?? applicationSpec;
  if (spec === undefined) throw new Error(`environment "${doc.metadata.name}": no spec (no inline app and no application spec given)`);
  return {
    binding: bindingOf(doc),
    spec,
    overrides: doc.spec.overrides,
    ...(doc.spec.driftPolicy ? { driftPolicy: doc.spec.driftPolicy } : {}),
  };
}

/** Overrides may only name what the spec declares; returns issues with field paths. */
export function checkOverrides(spec: AppSpec, overrides: Overrides): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const services = new Set(spec.services.map((s) => s.name));
  for (const field of ['replicas', 'resources', 'hostnames'] as const) {
    for (const name of Object.keys(overrides[field])) {
      if (!services.has(name)) issues.push({ path: [field, name], message: `service "${name}" is not in the spec` });
    }
  }
  for (const key of Object.keys(overrides.config)) {
    if (!spec.environmentConfig.includes(key)) {
      issues.push({ path: ['config', key], message: `config key "${key}" is not declared environment-specific (environmentConfig)` });
    }
  }
  issues.push(...checkChartValues(spec.charts ?? [], overrides.chartValues));
  return issues;
}
