// The prepareCharts workflow on Temporal's time-skipping test server with a stub activity: it
// hands back the charts as the worker pinned them, tries again (a few times, quickly) when the
// registry stumbles, and gives up at once on what a retry cannot mend (a chart or version that is
// not there), with the activity's message and type, which the API turns into a 422.
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { PrepareChartsInput } from '../../../activities/charts-types.js';
import type { Chart } from '../../../domain/charts.js';
import { prepareCharts } from '../../../workflows/prepare-charts.js';
import { fileWorker, sharedWorkflowBundle } from '../../support/workflow-env.js';
import { rootCause } from '../../support/wait.js';

let behaviour: (input: PrepareChartsInput, attempt: number) => Promise<{ charts: Chart[] }>;
const calls: PrepareChartsInput[] = [];
const activities = {
  async prepareCharts(input: PrepareChartsInput) {
    calls.push(input);
    return behaviour(input, calls.length);
  },
};
const worker = fileWorker(activities, sharedWorkflowBundle());
let n = 0;

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const chart: Chart = { name: 'webapp', oci: 'oci://registry.example/charts/webapp', version: '1.2.0', values: { replicaCount: 2 } };
const input: PrepareChartsInput = { charts: [chart], targets: [{ binding: { namespace: 'shop-dev' }, overrides: { chartValues: { webapp: { 'ingress.host': 'dev.example.test' } } } }] };

function run(args: PrepareChartsInput) {
  calls.length = 0;
  return worker.env.client.workflow.execute(prepareCharts, { taskQueue: worker.taskQueue, workflowId: `prepare-charts-${++n}`, args: [args] });
}

describe('prepareCharts', () => {
  it('returns the charts as the worker pinned them, for the targets it was given', async () => {
    behaviour = async () => ({ charts: [{ ...chart, digest: DIGEST }] });
    expect(await run(input)).toEqual({ charts: [{ ...chart, digest: DIGEST }] });
    expect(calls).toEqual([input]);
  });

  it('tries again while the registry stumbles, then answers', async () => {
    behaviour = async (_input, attempt) => {
      if (attempt < 3) throw ApplicationFailure.retryable('helm pull: connection reset by peer', 'Error');
      return { charts: [{ ...chart, digest: DIGEST }] };
    };
    expect((await run(input)).charts[0]!.digest).toBe(DIGEST);
    expect(calls).toHaveLength(3);
  });

  it('does not retry a chart that is not there, and keeps its message and type', async () => {
    behaviour = async () => {
      throw ApplicationFailure.nonRetryable('chart "webapp" (oci://registry.example/charts/webapp 9.9.9) cannot be resolved: not found', 'ChartNotFound');
    };
    const error = await run({ ...input, charts: [{ ...chart, version: '9.9.9' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(calls).toHaveLength(1);
    expect(rootCause(error)).toMatchObject({ type: 'ChartNotFound', message: 'chart "webapp" (oci://registry.example/charts/webapp 9.9.9) cannot be resolved: not found' });
  });
});
