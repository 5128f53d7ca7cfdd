// spec + overrides + environment → Kubernetes manifests. Pure and deterministic: the same
// input gives byte-identical output (keys are emitted in a fixed order, lists sorted).
import { createHash } from 'node:crypto';
import type { AppSpec, CronJob, Database, EnvironmentBinding, LifecycleHook, Overrides, Service } from './environment.js';
import { cronJobManifest, DEPLOY_HOOKS, type JobContext, jobsFor, lifecycleJobManifest, runSuffix } from './jobs.js';
import { canonicalJson, sortKeys } from './canonical.js';
import { effectiveSpec } from './effective.js';
import { CONFIG_CHECKSUM_ANNOTATION, LABEL, MANAGED_BY, SECRET_REFS_ANNOTATION, SECRETS_CHECKSUM_ANNOTATION } from './labels.js';
import type { Manifest } from './manifest.js';
import { normalizeSpec, shortRevision } from './revision.js';
import { own } from './own.js';
import { chartObjects, type RenderedChart } from './chart-objects.js';

export interface RenderInput {
  binding: EnvironmentBinding;
  spec: AppSpec;
  overrides: Overrides;
  revision: string;
  /**
   * The version of each catalog secret of the environment (secret name → an opaque version
   * string, never the value). Pod templates carry a checksum of the versions of the secrets
   * they reference, so a new version rolls exactly those pods. Without it, no secrets
   * checksum is rendered; a referenced secret missing here counts as version "".
   */
  secretVersions?: Readonly<Record<string, string>>;
  /** The renders of the spec's charts (helm template on the worker); required when the spec has charts. */
  charts?: readonly RenderedChart[];
}

/** A Deployment's progress deadline when its service sets none: well under the rollout timeout. */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 120;

const DATABASE_IMAGES: Record<Database['engine'], { image: string; port: number; passwordEnv: string; dataPath: string }> = {
  postgres: { image: 'postgres', port: 5432, passwordEnv: 'POSTGRES_PASSWORD', dataPath: '/var/lib/postgresql/data' },
  mysql: { image: 'mysql', port: 3306, passwordEnv: 'MYSQL_ROOT_PASSWORD', dataPath: '/var/lib/mysql' },
  redis: { image: 'redis', port: 6379, passwordEnv: 'REDIS_PASSWORD', dataPath: '/data' },
};

/** The catalog secret that holds a container database's password. */
export function databasePasswordSecret(database: string): string {
  return `${envName(database)}_PASSWORD`;
}

export function configMapName(application: string): string {
  return `${application}-config`;
}
export function secretName(application: string): string {
  return `${application}-secrets`;
}

export function render({ binding, spec, overrides, revision, secretVersions, charts }: RenderInput): Manifest[] {
  const effective = effectiveSpec(normalizeSpec(spec), overrides);
  const ns = binding.namespace;
  const common = {
    [LABEL.environment]: binding.name,
    [LABEL.application]: binding.application,
    [LABEL.managedBy]: MANAGED_BY,
  };
  const objectLabels = (name: string, component: string) => ({
    ...common,
    [LABEL.name]: name,
    [LABEL.component]: component,
    [LABEL.revision]: shortRevision(revision),
  });
  const meta = (name: string, component: string, annotations?: Record<string, string>) => ({
    name,
    namespace: ns,
    labels: objectLabels(name, component),
    ...(annotations ? { annotations } : {}),
  });
  const selector = (name: string) => ({ [LABEL.name]: name, [LABEL.environment]: binding.name });

  const out: Manifest[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ...common } } },
  ];

  if (Object.keys(effective.config).length > 0) {
    out.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(configMapName(binding.application), 'config'), data: sorted(effective.config) });
  }
  if (effective.secrets.length > 0) {
    const refs = Object.fromEntries(effective.secrets.map((s) => [s, s]));
    out.push(secretManifest(meta(secretName(binding.application), 'secrets', { [SECRET_REFS_ANNOTATION]: JSON.stringify(refs) })));
  }

  const databases = effective.databases;
  for (const db of databases) {
    if (db.mode !== 'container') continue;
    const engine = DATABASE_IMAGES[db.engine];
    const credentials = `${db.name}-credentials`;
    out.push(secretManifest(meta(credentials, 'database', { [SECRET_REFS_ANNOTATION]: JSON.stringify({ password: databasePasswordSecret(db.name) }) })));
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(db.name, 'database'),
      spec: { clusterIP: 'None', selector: selector(db.name), ports: [{ name: db.engine, port: engine.port, targetPort: engine.port, protocol: 'TCP' }] },
    });
    out.push({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta(db.name, 'database'),
      spec: {
        serviceName: db.name,
        replicas: 1,
        selector: { matchLabels: selector(db.name) },
        template: {
          metadata: {
            labels: { ...common, ...selector(db.name), [LABEL.component]: 'database' },
            ...podAnnotations({}, [databasePasswordSecret(db.name)], secretVersions),
          },
          spec: {
            containers: [{
              name: db.engine,
              image: `${engine.image}:${db.version}`,
              ports: [{ containerPort: engine.port, protocol: 'TCP' }],
              env: [
                { name: engine.passwordEnv, valueFrom: { secretKeyRef: { name: credentials, key: 'password' } } },
                ...(db.engine === 'redis' ? [] : [{ name: db.engine === 'postgres' ? 'POSTGRES_DB' : 'MYSQL_DATABASE', value: db.name.replace(/-/g, '_') }]),
              ],
              ...(db.engine === 'redis' ? { args: ['--requirepass', `$(${engine.passwordEnv})`] } : {}),
              volumeMounts: [{ name: 'data', mountPath: engine.dataPath }],
            }],
          },
        },
        volumeClaimTemplates: [{
          metadata: { name: 'data' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: db.storage } } },
        }],
      },
    });
  }

  for (const service of effective.services) {
    const env = containerEnv(service, effective, binding.application);
    const refs = references(service, effective);
    if (service.ports.length > 0) {
      out.push({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: meta(service.name, 'service'),
        spec: {
          selector: selector(service.name),
          ports: service.ports.map((p, i) => ({
            name: p.name ?? `port-${i}`,
            port: p.port,
            targetPort: p.targetPort ?? p.port,
            protocol: p.protocol,
          })),
        },
      });
    }
    if (service.migration) {
      out.push({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: meta(`${service.name}-migrate-${shortRevision(revision)}`, 'migration'),
        spec: {
          backoffLimit: 2,
          template: {
            metadata: { labels: { ...common, [LABEL.name]: `${service.name}-migrate`, [LABEL.component]: 'migration' } },
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'migrate', image: service.migration.image ?? service.image, command: service.migration.command, env }],
            },
          },
        },
      });
    }
    out.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(service.name, 'service'),
      spec: {
        replicas: service.replicas,
        progressDeadlineSeconds: service.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS,
        selector: { matchLabels: selector(service.name) },
        template: {
          metadata: {
            labels: { ...common, ...selector(service.name), [LABEL.component]: 'service' },
            ...podAnnotations(refs.config, refs.secrets, secretVersions),
          },
          spec: {
            containers: [{
              name: service.name,
              image: service.image,
              ports: service.ports.map((p) => ({ containerPort: p.targetPort ?? p.port, protocol: p.protocol })),
              env,
              ...(service.resources ? { resources: sortKeys(service.resources) } : {}),
              ...probes(service),
            }],
          },
        },
      },
    });
    const hostname = own(effective.hostnames, service.name);
    const firstPort = service.ports[0];
    if (hostname && firstPort) {
      out.push({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: meta(service.name, 'ingress'),
        spec: {
          rules: [{
            host: hostname,
            http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service.name, port: { number: firstPort.port } } } }] },
          }],
        },
      });
    }
  }
  // CronJobs last: after everything their jobs read. Sorted by name, like services.
  const jobs = jobContext(binding, revision);
  for (const cron of [...(spec.cronJobs ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    out.push(cronJobManifest(cron, jobs));
  }
  // Charts and plain manifests: as Helm rendered them (or as written), in the namespace, labelled.
  if ((spec.charts ?? []).length > 0 || (spec.manifests ?? []).length > 0) {
    out.push(...chartObjects({ binding, spec, overrides, revision, charts: charts ?? [] }).objects);
  }
  return out;
}

export interface LifecycleRenderInput {
  binding: EnvironmentBinding;
  spec: AppSpec;
  revision: string;
  hook: LifecycleHook;
  /**
   * The operation that runs a run-once hook (beforeStop, beforeTeardown): each run is a Job of
   * its own. Deploy hooks ignore it: their Jobs are the revision's, so a second deploy of the
   * same revision finds them done rather than running them again.
   */
  runId?: string;
  /** With charts: their overrides and renders, for the charts' Helm hook Jobs of this moment. */
  overrides?: Overrides;
  charts?: readonly RenderedChart[];
}

/**
 * The Jobs of one hook, in the order the spec writes them. Not part of render(): the workflows
 * apply them at their moment (activities/lifecycle-jobs.ts). Their env reads the revision's
 * ConfigMap and Secret, which render() gives.
 */
export function renderLifecycleJobs({ binding, spec, revision, hook, runId, overrides, charts }: LifecycleRenderInput): Manifest[] {
  const run = DEPLOY_HOOKS.includes(hook) || runId === undefined ? undefined : runSuffix(runId);
  const own = jobsFor(spec.jobs, hook).map((job) => lifecycleJobManifest(job, jobContext(binding, revision), run));
  if ((spec.charts ?? []).length === 0) return own;
  const fromCharts = chartObjects({ binding, spec, overrides: overrides ?? {}, revision, charts: charts ?? [] }).hooks[hook] ?? [];
  // A run-once hook (a chart's pre-delete) is a Job of each run, as the spec's own are.
  const named = run === undefined ? fromCharts : fromCharts.map((job) => ({ ...job, metadata: { ...job.metadata, name: `${job.metadata.name.slice(0, 55)}-${run}` } }));
  return [...own, ...named];
}

function jobContext(binding: EnvironmentBinding, revision: string): JobContext {
  return {
    namespace: binding.namespace,
    revision: shortRevision(revision),
    common: { [LABEL.environment]: binding.name, [LABEL.application]: binding.application, [LABEL.managedBy]: MANAGED_BY },
    env: (env: CronJob['env']) => Object.keys(env ?? {}).sort().map((name) => envVar(name, env![name]!, binding.application)),
  };
}

function secretManifest(metadata: Manifest['metadata']): Manifest {
  // Values are filled in by the activity that applies it, from the catalog, never here.
  return { apiVersion: 'v1', kind: 'Secret', metadata, type: 'Opaque' };
}

function containerEnv(service: Service, spec: AppSpec, application: string) {
  const env: Record<string, unknown>[] = [];
  for (const name of Object.keys(service.env).sort()) env.push(envVar(name, service.env[name]!, application));
  for (const dep of [...service.dependsOn].sort()) {
    const db = spec.databases.find((d) => d.name === dep);
    if (!db) continue;
    const prefix = envName(db.name);
    if (db.mode === 'container') {
      env.push({ name: `${prefix}_HOST`, value: db.name });
      env.push({ name: `${prefix}_PORT`, value: String(DATABASE_IMAGES[db.engine].port) });
      env.push({ name: `${prefix}_PASSWORD`, valueFrom: { secretKeyRef: { name: `${db.name}-credentials`, key: 'password' } } });
    } else {
      env.push({ name: `${prefix}_URL`, valueFrom: { secretKeyRef: { name: secretName(application), key: db.connectionSecret } } });
    }
  }
  return env;
}

/** One container env var: a literal, a key of the application's ConfigMap, or of its Secret. */
function envVar(name: string, value: Service['env'][string], application: string): Record<string, unknown> {
  if (typeof value === 'string') return { name, value };
  if ('config' in value) return { name, valueFrom: { configMapKeyRef: { name: configMapName(application), key: value.config } } };
  return { name, valueFrom: { secretKeyRef: { name: secretName(application), key: value.secret } } };
}

/** The config values and catalog secrets a service's pods reference (what containerEnv wires in). */
function references(service: Service, spec: AppSpec): { config: Record<string, string>; secrets: string[] } {
  const config: Record<string, string> = {};
  const secrets = new Set<string>();
  for (const value of Object.values(service.env)) {
    if (typeof value === 'string') continue;
    if ('config' in value) {
      const v = own(spec.config, value.config);
      if (v !== undefined) config[value.config] = v;
    } else secrets.add(value.secret);
  }
  for (const dep of service.dependsOn) {
    const db = spec.databases.find((d) => d.name === dep);
    if (db) secrets.add(db.mode === 'container' ? databasePasswordSecret(db.name) : db.connectionSecret);
  }
  return { config, secrets: [...secrets] };
}

/**
 * A pod template's checksum annotations: of the config values its containers read, and of
 * the versions of the catalog secrets they read (only when versions are known). Each is left
 * out when the pod references nothing of the kind, so an unrelated change restarts no pod.
 */
function podAnnotations(
  config: Record<string, string>,
  secrets: readonly string[],
  versions: Readonly<Record<string, string>> | undefined,
): { annotations?: Record<string, string> } {
  const annotations: Record<string, string> = {};
  if (Object.keys(config).length > 0) annotations[CONFIG_CHECKSUM_ANNOTATION] = sha256(canonicalJson(config));
  if (versions && secrets.length > 0) {
    const used = Object.fromEntries(secrets.map((name) => [name, Object.hasOwn(versions, name) ? versions[name]! : '']));
    annotations[SECRETS_CHECKSUM_ANNOTATION] = sha256(canonicalJson(used));
  }
  return Object.keys(annotations).length > 0 ? { annotations: sorted(annotations) } : {};
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function probes(service: Service): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const { readiness, liveness } = service.probes ?? {};
  // Passed through as written: sorted so key order in the input cannot change the output.
  if (readiness) out.readinessProbe = sortKeys(readiness);
  if (liveness) out.livenessProbe = sortKeys(liveness);
  return out;
}

function sorted(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]!]));
}

function envName(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

/** Fills each rendered Secret's keys from the catalog; names what is missing. */
export function materializeSecrets(manifests: readonly Manifest[], values: (secret: string) => string | undefined): Manifest[] {
  const missing: string[] = [];
  const out = manifests.map((m) => {
    const refs = m.kind === 'Secret' ? m.metadata.annotations?.[SECRET_REFS_ANNOTATION] : undefined;
    if (!refs) return m;
    const stringData: Record<string, string> = {};
    for (const [key, secret] of Object.entries(JSON.parse(refs) as Record<string, string>)) {
      const value = values(secret);
      if (value === undefined) missing.push(secret);
      else stringData[key] = value;
    }
    return { ...m, stringData };
  });
  if (missing.length > 0) throw new MissingSecretsError([...new Set(missing)].sort());
  return out;
}

export class MissingSecretsError extends Error {
  constructor(readonly secrets: string[]) {
    super(`secrets without a value in this environment: ${secrets.join(', ')}`);
    this.name = 'MissingSecretsError';
  }
}
