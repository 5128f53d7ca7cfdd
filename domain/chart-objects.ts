// What a chart's render and a manifest bundle become in an environment (issue 14): the objects
// Helm printed (or the bundle holds), put into the environment's namespace and labelled as
// Flotilla's, Helm's hook Jobs set apart for the deploy's lifecycle moments, and anything that
// would land outside the environment's namespace refused unless the environment allows it. Pure:
// the render itself (helm template, on the worker) is an input.
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import { type Chart, mergedValues } from './charts.js';
import type { AppSpec, EnvironmentBinding, LifecycleHook, Overrides } from './environment.js';
import { HOOK_LABEL } from './jobs.js';
import { LABEL, MANAGED_BY } from './labels.js';
import type { Manifest } from './manifest.js';
import { shortRevision } from './revision.js';

/** A chart's objects as `helm template` printed them for one environment (hooks included, test hooks not). */
export interface RenderedChart {
  chart: string;
  objects: Manifest[];
}

/** Which chart (or bundle) an object came from: `chart/<name>` or `manifests/<name>`. */
export const SOURCE_LABEL = 'flotilla.dev/source';
export const HELM_HOOK_ANNOTATION = 'helm.sh/hook';
/** On a hook Job (renamed per revision and content): its name in the chart, which errors and rules use. */
export const CHART_NAME_ANNOTATION = 'flotilla.dev/chart-name';

/** What one environment asks Helm to render for a chart; `key` names the render in the catalog's cache. */
export interface ChartRenderRequest {
  chart: string;
  /** oci://…@sha256:… (pinned) or the uploaded archive's digest. */
  source: string;
  release: string;
  namespace: string;
  values: Record<string, unknown>;
  key: string;
}

/** The render requests of an environment's charts; a chart not pinned yet cannot be rendered. */
export function chartRenderRequests(binding: Pick<EnvironmentBinding, 'namespace'>, spec: Pick<AppSpec, 'charts'>, overrides: Pick<Overrides, 'chartValues'>): ChartRenderRequest[] {
  return (spec.charts ?? []).map((chart) => {
    const source = chartSource(chart);
    const release = chart.release ?? chart.name;
    const values = mergedValues(chart, overrides.chartValues?.[chart.name]);
    const key = createHash('sha256').update(canonicalJson({ source, release, namespace: binding.namespace, values })).digest('hex');
    return { chart: chart.name, source, release, namespace: binding.namespace, values, key };
  });
}

function chartSource(chart: Chart): string {
  if (chart.archive !== undefined) return chart.archive;
  if (chart.oci === undefined || chart.digest === undefined) throw new ChartNotPinnedError(chart.name);
  return `${chart.oci}@${chart.digest}`;
}

export class ChartNotPinnedError extends Error {
  constructor(readonly chart: string) {
    super(`chart "${chart}" has no digest: a revision pins every chart (apply resolves its version)`);
    this.name = 'ChartNotPinnedError';
  }
}

/** A chart's render is not at hand (not rendered yet, or its cache entry is gone). */
export class ChartNotRenderedError extends Error {
  constructor(readonly chart: string) {
    super(`chart "${chart}" has not been rendered for this environment`);
    this.name = 'ChartNotRenderedError';
  }
}

/** An object a chart or bundle would write outside the environment's namespace, which it does not allow. */
export class ChartScopeError extends Error {
  constructor(readonly problems: readonly { source: string; object: string; message: string }[]) {
    super(problems.map((p) => `${p.source}: ${p.object} ${p.message}`).join('; '));
    this.name = 'ChartScopeError';
  }
}

/** Kinds that live at cluster scope (a custom kind is, if a CRD in the same render says so). */
const CLUSTER_SCOPED = new Set([
  'Namespace', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding', 'StorageClass', 'PriorityClass', 'IngressClass',
  'CustomResourceDefinition', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'APIService', 'RuntimeClass', 'CSIDriver',
]);

/** Helm's hook moments, as the deploy's; others (rollback, delete-after, test) never run. */
const HOOK_MOMENTS: Record<string, LifecycleHook> = {
  'pre-install': 'beforeDeploy',
  'pre-upgrade': 'beforeDeploy',
  'post-install': 'afterDeploy',
  'post-upgrade': 'afterDeploy',
  'pre-delete': 'beforeTeardown',
};

export interface ChartObjects {
  /** Applied with the revision's other objects. */
  objects: Manifest[];
  /** Helm hook Jobs, by the deploy moment they run at. */
  hooks: Partial<Record<LifecycleHook, Manifest[]>>;
}

export interface ChartObjectsInput {
  binding: Pick<EnvironmentBinding, 'name' | 'application' | 'namespace'>;
  spec: Pick<AppSpec, 'charts' | 'manifests'>;
  overrides: Pick<Overrides, 'chartScope'>;
  revision: string;
  /** The renders of the spec's charts; every chart must have one. */
  charts: readonly RenderedChart[];
}

/**
 * The environment's chart and bundle objects. Throws ChartNotRenderedError when a chart's render
 * is missing (never a partial set: prune would delete what is left out), and ChartScopeError
 * naming each object outside the namespace the environment does not allow.
 */
export function chartObjects({ binding, spec, overrides, revision, charts }: ChartObjectsInput): ChartObjects {
  const sources: { source: string; objects: readonly Manifest[] }[] = [];
  for (const chart of spec.charts ?? []) {
    const rendered = charts.find((c) => c.chart === chart.name);
    if (!rendered) throw new ChartNotRenderedError(chart.name);
    sources.push({ source: `chart/${chart.name}`, objects: rendered.objects });
  }
  for (const bundle of spec.manifests ?? []) {
    // An uploaded bundle's documents are in the revision (the API put them there): never apply a partial set.
    if (bundle.documents === undefined) throw new ChartNotRenderedError(`manifests/${bundle.name}`);
    sources.push({ source: `manifests/${bundle.name}`, objects: bundle.documents as unknown as Manifest[] });
  }
  const customScopes = clusterScopedCustomKinds(sources.flatMap((s) => s.objects));
  const labels = {
    [LABEL.environment]: binding.name,
    [LABEL.application]: binding.application,
    [LABEL.managedBy]: MANAGED_BY,
    [LABEL.revision]: shortRevision(revision),
  };
  const out: ChartObjects = { objects: [], hooks: {} };
  const problems: { source: string; object: string; message: string }[] = [];
  for (const { source, objects } of sources) {
    for (const original of objects) {
      const clusterScoped = CLUSTER_SCOPED.has(original.kind) || customScopes.has(`${groupOf(original.apiVersion)}/${original.kind}`);
      const object = structuredClone(original);
      object.metadata = { ...object.metadata, labels: { ...object.metadata.labels, ...labels, [SOURCE_LABEL]: source.replace('/', '.') } };
      if (!clusterScoped) object.metadata.namespace ??= binding.namespace;
      const problem = scopeProblem(object, clusterScoped, binding.namespace, overrides.chartScope);
      if (problem) problems.push({ source, object: `${object.kind}/${object.metadata.name}`, message: problem });
      const moment = hookMoment(object);
      if (moment === null) continue;
      if (moment === undefined) {
        out.objects.push(labelPodTemplate(object, labels));
      } else if (object.kind === 'Job') {
        (out.hooks[moment] ??= []).push(hookJob(object, labels, moment, revision));
      } else {
        // A hook that is not a Job (a ConfigMap a hook Job reads …) goes in with the revision's objects.
        out.objects.push(object);
      }
    }
  }
  if (problems.length > 0) throw new ChartScopeError(problems);
  return out;
}

function scopeProblem(object: Manifest, clusterScoped: boolean, namespace: string, scope: Overrides['chartScope']): string | undefined {
  if (clusterScoped) {
    return scope?.clusterScoped
      ? undefined
      : 'is cluster-scoped: an environment writes only into its namespace unless its overrides allow it (chartScope.clusterScoped: true) and the cluster grants the agent the flotilla-agent-cluster-scope role';
  }
  const target = object.metadata.namespace!;
  if (target === namespace || (scope?.namespaces ?? []).includes(target)) return undefined;
  return `would be written into namespace "${target}", not the environment's "${namespace}" (allow it with chartScope.namespaces)`;
}

/** The hook moment of an object: undefined when it is no hook, null for a hook Flotilla never runs. */
function hookMoment(object: Manifest): LifecycleHook | undefined | null {
  const hooks = object.metadata.annotations?.[HELM_HOOK_ANNOTATION];
  if (hooks === undefined) return undefined;
  for (const hook of hooks.split(',').map((h) => h.trim())) {
    const moment = HOOK_MOMENTS[hook];
    if (moment) return moment;
  }
  return null;
}

/**
 * A hook Job runs once per revision and content: its name carries both (a Job's template cannot
 * change, and a new revision's pre-upgrade runs again, as Helm's does).
 */
function hookJob(job: Manifest, labels: Record<string, string>, moment: LifecycleHook, revision: string): Manifest {
  const hash = createHash('sha256').update(canonicalJson(job)).digest('hex').slice(0, 6);
  const name = `${job.metadata.name.slice(0, 42).replace(/-+$/, '')}-${shortRevision(revision).slice(0, 8)}-${hash}`;
  const out = labelPodTemplate(job, labels);
  out.metadata = {
    ...out.metadata, name,
    labels: { ...out.metadata.labels, [HOOK_LABEL]: moment },
    annotations: { ...out.metadata.annotations, [CHART_NAME_ANNOTATION]: job.metadata.name },
  };
  return out;
}

/** Flotilla's environment labels on a workload's pod template too (its pods are the environment's). */
function labelPodTemplate(object: Manifest, labels: Record<string, string>): Manifest {
  const template = (object.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template
    ?? (object.spec as { jobTemplate?: { spec?: { template?: { metadata?: { labels?: Record<string, string> } } } } } | undefined)?.jobTemplate?.spec?.template;
  if (template && typeof template === 'object') {
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [LABEL.environment]: labels[LABEL.environment]!, [LABEL.application]: labels[LABEL.application]! } };
  }
  return object;
}

/** "apps/v1" → "apps"; "v1" → "" (the core group). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** group/Kind of custom kinds a CRD in the set declares cluster-scoped. */
function clusterScopedCustomKinds(objects: readonly Manifest[]): Set<string> {
  const out = new Set<string>();
  for (const o of objects) {
    if (o.kind !== 'CustomResourceDefinition') continue;
    const spec = o.spec as { group?: string; scope?: string; names?: { kind?: string } } | undefined;
    if (spec?.scope === 'Cluster' && spec.group && spec.names?.kind) out.add(`${spec.group}/${spec.names.kind}`);
  }
  return out;
}
