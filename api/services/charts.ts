// Charts enter through the API unpinned (a version) and are judged by what they render; both need
// helm, which only the worker has. The API runs the prepareCharts workflow and waits: it pins each
// chart's version to the registry's digest before the revision is computed (a moved tag can never
// change what a revision means), and renders the charts for the environments being judged into the
// catalog's cache, from which the rules verdict reads them (store/change-verdict.ts).
import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../../domain/canonical.js';
import type { PrepareChartsInput } from '../../activities/charts-types.js';
import { chartRenderRequests } from '../../domain/chart-objects.js';
import type { Chart } from '../../domain/charts.js';
import type { AppSpec, EnvironmentBinding, Overrides } from '../../domain/environment.js';
import { type ChartRenderer, environmentCharts } from '../../store/chart-renders.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { WorkflowRunError } from '../starter.js';

/** How long the API waits for the worker to pin and render (then 504). */
export const PREPARE_TIMEOUT_MS = 120_000;

/**
 * The API asks the worker (`operations.execute`); on the worker itself (a scheduled clone's run)
 * `renderer` renders in place.
 */
type Deps = Pick<ApiDeps, 'catalog'> & { operations?: Partial<Pick<ApiDeps['operations'], 'execute'>>; renderer?: ChartRenderer };

async function prepareOnWorker(deps: Deps, input: PrepareChartsInput, path: string): Promise<Chart[]> {
  const execute = deps.operations?.execute?.bind(deps.operations);
  if (!execute) throw new ApiError(422, 'charts_not_supported', 'charts are pinned and rendered on the worker, and this API has no way to ask one', [{ path, message: 'charts need a worker with helm' }]);
  try {
    const result = (await execute('prepareCharts', [input], `prepare-charts-${randomUUID()}`, { timeoutMs: PREPARE_TIMEOUT_MS })) as { charts: Chart[] };
    return result.charts;
  } catch (error) {
    if (!(error instanceof WorkflowRunError)) throw error;
    switch (error.type) {
      case 'ChartNotFound': case 'ChartRenderFailed':
        // A chart the registry or helm refused: 422 at the chart's path (the message names it).
        throw new ApiError(422, 'invalid_chart', error.message, [{ path, message: error.message }]);
      case 'HelmNotConfigured':
        throw new ApiError(422, 'charts_not_supported', error.message.replace('this worker', 'the worker'), [{ path, message: 'charts need a worker with helm' }]);
      default:
        throw /timed? ?out/i.test(error.message)
          ? new ApiError(504, 'worker_timeout', `the worker did not pin and render the charts within ${PREPARE_TIMEOUT_MS / 1000} s`)
          : new ApiError(502, 'chart_preparation_failed', error.message);
    }
  }
}

/** The spec with every chart pinned to a digest (the same spec when nothing needs pinning); `path`: where the charts are in the request ("spec.charts"). */
export async function pinCharts<T extends Pick<AppSpec, 'charts'>>(deps: Deps, spec: T, path: string): Promise<T> {
  const charts = spec.charts ?? [];
  if (charts.every((c) => c.digest !== undefined || c.archive !== undefined)) return spec;
  return { ...spec, charts: await prepareOnWorker(deps, { charts, targets: [] }, path) };
}

export interface ChartTarget {
  binding: Pick<EnvironmentBinding, 'namespace'>;
  spec: Pick<AppSpec, 'charts'>;
  overrides: Pick<Overrides, 'chartValues'>;
}

/** Renders into the cache whatever the targets' charts need and it lacks (nothing when it has it all). */
export async function renderCharts(deps: Deps, targets: readonly ChartTarget[], path = 'spec.charts'): Promise<void> {
  const bySpec = new Map<string, { charts: Chart[]; targets: PrepareChartsInput['targets'] }>();
  for (const target of targets) {
    const charts = target.spec.charts ?? [];
    if (charts.length === 0) continue;
    const requests = chartRenderRequests(target.binding, target.spec, target.overrides);
    const cached = await Promise.all(requests.map(async (r) => (await deps.catalog.chartRenders.get(r.key)) !== undefined));
    if (cached.every(Boolean)) continue;
    const key = JSON.stringify(charts);
    const group = bySpec.get(key) ?? { charts, targets: [] };
    group.targets.push({ binding: { namespace: target.binding.namespace }, overrides: target.overrides.chartValues ? { chartValues: target.overrides.chartValues } : {} });
    bySpec.set(key, group);
  }
  for (const group of bySpec.values()) {
    if (!deps.renderer) {
      await prepareOnWorker(deps, group, path);
      continue;
    }
    for (const target of group.targets) await environmentCharts(deps.catalog, { binding: target.binding, spec: { charts: group.charts }, overrides: target.overrides }, deps.renderer);
  }
}

/**
 * Manifest bundles named by an upload's digest get their documents from the upload, so the
 * revision holds (and its id covers) what will be applied. 422 at the bundle's path when no such
 * bundle was uploaded, or when documents given beside it are not the bundle's.
 */
export async function expandBundles<T extends Pick<AppSpec, 'manifests'>>(deps: Pick<Deps, 'catalog'>, spec: T, path: string): Promise<T> {
  if (!(spec.manifests ?? []).some((m) => m.bundle !== undefined)) return spec;
  const manifests = [];
  for (const [i, bundle] of (spec.manifests ?? []).entries()) {
    if (bundle.bundle === undefined) {
      manifests.push(bundle);
      continue;
    }
    const at = `${path}[${i}].bundle`;
    const documents = await deps.catalog.uploads.bundle(bundle.bundle);
    if (!documents) throw new ApiError(422, 'invalid_reference', `no manifest bundle ${bundle.bundle} was uploaded (flotilla push bundle FILE)`, [{ path: at, message: 'no such bundle' }]);
    if (bundle.documents !== undefined && canonicalJson(bundle.documents) !== canonicalJson(documents)) {
      throw new ApiError(422, 'invalid_reference', `the documents of manifests "${bundle.name}" are not those of bundle ${bundle.bundle}`, [{ path: at, message: 'documents differ from the bundle' }]);
    }
    manifests.push({ ...bundle, documents: documents as unknown as Record<string, unknown>[] });
  }
  return { ...spec, manifests };
}

/** A spec as a revision holds it: bundles expanded, charts pinned. `path`: the spec's path in the request ("" for a body that is the spec). */
export async function pinSpec<T extends Pick<AppSpec, 'charts' | 'manifests'>>(deps: Deps, spec: T, path: string): Promise<T> {
  const at = (field: string) => (path ? `${path}.${field}` : field);
  return pinCharts(deps, await expandBundles(deps, spec, at('manifests')), at('charts'));
}
