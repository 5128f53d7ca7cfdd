// The contract of the chart activities (types only): chart references in, pinned references out;
// never chart contents or values with secrets.
import type { Chart } from '../domain/charts.js';

export interface ChartActivities {
  /**
   * Pins every chart to the digest its reference names now (an oci chart with a version: what
   * the registry serves for that tag); charts already pinned are returned as they are.
   */
  resolveCharts(input: { charts: Chart[] }): Promise<{ charts: Chart[] }>;
}
