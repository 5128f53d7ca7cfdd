// Chart activities on the worker, which holds the helm binary (and, in production, the
// registry credentials): resolve a chart's tag to the digest a revision pins.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { pullChart } from '../providers/helm/cli.js';
import type { ChartActivities } from './charts-types.js';

export interface ChartActivityDeps {
  helm?: {
    binary: string;
    /** Registries spoken to over plain HTTP (a registry on localhost), by host:port. */
    plainHttpHosts?: readonly string[];
  };
}

/** host:port of an oci:// reference. */
function hostOf(ref: string): string {
  return ref.replace(/^oci:\/\//, '').split('/')[0] ?? '';
}

export function createChartActivities(deps: ChartActivityDeps): ChartActivities {
  return {
    async resolveCharts({ charts }) {
      if (charts.every((c) => c.digest !== undefined || c.archive !== undefined)) return { charts };
      if (!deps.helm) throw ApplicationFailure.nonRetryable('this worker has no helm binary (FLOTILLA_HELM)', 'HelmNotConfigured');
      const out = [];
      for (const chart of charts) {
        if (chart.digest !== undefined || chart.oci === undefined) {
          out.push(chart);
          continue;
        }
        const dir = mkdtempSync(join(tmpdir(), 'flotilla-chart-'));
        try {
          const plainHttp = deps.helm.plainHttpHosts?.includes(hostOf(chart.oci)) ?? false;
          const { digest } = await pullChart({ helm: deps.helm.binary, plainHttp, ref: chart.oci, version: chart.version, dir });
          out.push({ ...chart, digest });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          throw ApplicationFailure.nonRetryable(`chart "${chart.name}" (${chart.oci}${chart.version ? ` ${chart.version}` : ''}) cannot be resolved: ${message.split('\n')[0]}`, 'ChartNotFound');
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
      return { charts: out };
    },
  };
}
