// Chart activities on the worker, which holds the helm binary (and, in production, the
// registry credentials): resolve a chart's tag to the digest a revision pins, and render charts
// into the catalog's cache.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { RenderedChart } from '../domain/chart-objects.js';
import type { Chart } from '../domain/charts.js';
import { pullChart, templateChart } from '../providers/helm/cli.js';
import type { Catalog } from '../store/catalog.js';
import { type ChartRenderer, environmentCharts } from '../store/chart-renders.js';
import type { ChartActivities } from './charts-types.js';

export interface HelmDeps {
  binary: string;
  /** Registries spoken to over plain HTTP (a registry on localhost), by host:port. */
  plainHttpHosts?: readonly string[];
}

export interface ChartActivityDeps {
  catalog: Pick<Catalog, 'chartRenders' | 'uploads'>;
  helm?: HelmDeps;
}

/** host:port of an oci:// reference. */
function hostOf(ref: string): string {
  return ref.replace(/^oci:\/\//, '').split('/')[0] ?? '';
}

function requireHelm(helm: HelmDeps | undefined): HelmDeps {
  if (!helm) throw ApplicationFailure.nonRetryable('this worker has no helm binary (FLOTILLA_HELM)', 'HelmNotConfigured');
  return helm;
}

/**
 * `helm template` of a pinned chart: from its registry by digest, or an uploaded archive from the
 * catalog (written to a private temporary file). A failure names the chart (a template error is
 * not retried).
 */
export function helmRenderer(helm: HelmDeps | undefined, catalog: Pick<Catalog, 'uploads'>, signal?: AbortSignal): ChartRenderer {
  return async (request) => {
    const { binary, plainHttpHosts } = requireHelm(helm);
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-render-'));
    try {
      let chart = request.source;
      if (!chart.startsWith('oci://')) {
        const archive = await catalog.uploads.chart(chart);
        if (!archive) throw ApplicationFailure.nonRetryable(`chart "${request.chart}": no uploaded archive ${chart}`, 'ChartNotFound');
        chart = join(dir, 'chart.tgz');
        writeFileSync(chart, archive, { mode: 0o600 });
      }
      return await templateChart({
        helm: binary, plainHttp: plainHttpHosts?.includes(hostOf(request.source)) ?? false, signal,
        chart, release: request.release, namespace: request.namespace, values: request.values,
      });
    } catch (error) {
      if (error instanceof ApplicationFailure) throw error;
      const message = error instanceof Error ? (error as Error & { stderr?: string }).stderr?.trim() || error.message : String(error);
      throw ApplicationFailure.nonRetryable(`chart "${request.chart}" cannot be rendered: ${message.split('\n').slice(0, 3).join(' ')}`, 'ChartRenderFailed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

export function createChartActivities(deps: ChartActivityDeps): ChartActivities {
  async function pin(chart: Chart, helm: HelmDeps): Promise<Chart> {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-chart-'));
    try {
      const plainHttp = helm.plainHttpHosts?.includes(hostOf(chart.oci!)) ?? false;
      const { digest } = await pullChart({ helm: helm.binary, plainHttp, ref: chart.oci!, version: chart.version, dir });
      return { ...chart, digest };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw ApplicationFailure.nonRetryable(`chart "${chart.name}" (${chart.oci}${chart.version ? ` ${chart.version}` : ''}) cannot be resolved: ${message.split('\n')[0]}`, 'ChartNotFound');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  return {
    async prepareCharts({ charts, targets }) {
      const pinned: Chart[] = [];
      for (const chart of charts) {
        pinned.push(chart.digest !== undefined || chart.oci === undefined ? chart : await pin(chart, requireHelm(deps.helm)));
      }
      const signal = Context.current().cancellationSignal;
      for (const { binding, overrides } of targets) {
        await environmentCharts(deps.catalog, { binding, spec: { charts: pinned }, overrides }, helmRenderer(deps.helm, deps.catalog, signal));
        Context.current().heartbeat();
      }
      return { charts: pinned };
    },
  };
}

/** The renders of an environment's charts (rendered now when the cache lacks them); undefined without charts. */
export async function chartsOf(
  catalog: Pick<Catalog, 'chartRenders' | 'uploads'>, helm: HelmDeps | undefined, environment: Parameters<typeof environmentCharts>[1],
): Promise<RenderedChart[] | undefined> {
  if ((environment.spec.charts ?? []).length === 0) return undefined;
  return environmentCharts(catalog, environment, helmRenderer(helm, catalog));
}
