// A short workflow the API runs and waits for when an applied spec has charts: the worker (which
// holds helm and the registry credentials) pins each chart's version to its digest and renders
// the charts for the environments they go to into the catalog's cache, so the API judges the
// rules on what will be deployed. Quick retries, then the error goes back to the person applying.
import { proxyActivities } from '@temporalio/workflow';
import type { ChartActivities, PrepareChartsInput } from '../activities/charts-types.js';
import type { Chart } from '../domain/charts.js';

const { prepareCharts: prepareOnWorker } = proxyActivities<ChartActivities>({
  startToCloseTimeout: '120 seconds',
  heartbeatTimeout: '60 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 seconds', maximumAttempts: 3 },
});

export async function prepareCharts(input: PrepareChartsInput): Promise<{ charts: Chart[] }> {
  return prepareOnWorker(input);
}
