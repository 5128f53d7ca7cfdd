// The contract of the chart activities (types only): chart references in, pinned references out;
// never chart contents.
import type { Chart } from '../domain/charts.js';
import type { EnvironmentBinding, Overrides } from '../domain/environment.js';

export interface PrepareChartsInput {
  charts: Chart[];
  /** Environments the charts will be deployed to: each one's render goes into the catalog's cache. */
  targets: { binding: Pick<EnvironmentBinding, 'namespace'>; overrides: Pick<Overrides, 'chartValues'> }[];
}

export interface ChartActivities {
  /**
   * Pins every chart to the digest its reference names now (an oci chart with a version: what
   * the registry serves for that tag; charts already pinned stay as they are), then renders the
   * pinned charts for each target into the catalog's cache (store/chart-renders.ts).
   */
  prepareCharts(input: PrepareChartsInput): Promise<{ charts: Chart[] }>;
}
