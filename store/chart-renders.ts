// The catalog's cache of chart renders (migration 0010), and the one function every reader of an
// environment's chart objects goes through: deploys and promotions on the worker (which render
// what is missing with helm), the observer and the API's rules verdict (which only read).
import { chartRenderRequests, ChartNotRenderedError, type ChartRenderRequest, type RenderedChart } from '../domain/chart-objects.js';
import type { AppSpec, EnvironmentBinding, Overrides } from '../domain/environment.js';
import type { Manifest } from '../domain/manifest.js';
import { render, type RenderInput } from '../domain/render.js';
import { nowIso } from './columns.js';
import { guard } from './errors.js';
import type { CatalogDb } from './transaction.js';

export class ChartRenderRepository {
  constructor(private readonly db: CatalogDb) {}

  async get(key: string): Promise<Manifest[] | undefined> {
    const row = await guard('get chart render', () => this.db.selectFrom('chart_renders').select('objects').where('key', '=', key).executeTakeFirst());
    return row && (JSON.parse(row.objects) as Manifest[]);
  }

  /** Stores a render; a second store of the same key keeps the first (the same inputs render the same). */
  async put(request: Pick<ChartRenderRequest, 'key' | 'chart' | 'source'>, objects: readonly Manifest[]): Promise<void> {
    await guard('store chart render', () => this.db.insertInto('chart_renders')
      .values({ key: request.key, chart: request.chart, source: request.source, objects: JSON.stringify(objects), created_at: nowIso() })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute());
  }
}

/** Renders a chart for one environment (helm template, on the worker). */
export type ChartRenderer = (request: ChartRenderRequest) => Promise<Manifest[]>;

/**
 * The renders of an environment's charts, from the cache; what is missing is rendered with
 * `renderer` and stored, or, without one, a ChartNotRenderedError.
 */
export async function environmentCharts(
  catalog: { chartRenders: ChartRenderRepository },
  environment: { binding: Pick<EnvironmentBinding, 'namespace'>; spec: Pick<AppSpec, 'charts'>; overrides: Pick<Overrides, 'chartValues'> },
  renderer?: ChartRenderer,
): Promise<RenderedChart[]> {
  const out: RenderedChart[] = [];
  for (const request of chartRenderRequests(environment.binding, environment.spec, environment.overrides)) {
    let objects = await catalog.chartRenders.get(request.key);
    if (!objects) {
      if (!renderer) throw new ChartNotRenderedError(request.chart);
      objects = await renderer(request);
      await catalog.chartRenders.put(request, objects);
    }
    out.push({ chart: request.chart, objects });
  }
  return out;
}

/** render() of an environment, with its charts' renders from the cache (and `renderer` for what is missing). */
export async function renderEnvironment(catalog: { chartRenders: ChartRenderRepository }, input: Omit<RenderInput, 'charts'>, renderer?: ChartRenderer): Promise<Manifest[]> {
  const charts = (input.spec.charts ?? []).length > 0 ? await environmentCharts(catalog, input, renderer) : undefined;
  return render({ ...input, ...(charts ? { charts } : {}) });
}
