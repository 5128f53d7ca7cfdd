// Replays recorded histories against today's workflow code, offline (no server): a change
// that would break a running workflow fails here. Record new ones by running the integration
// tier with FLOTILLA_RECORD_HISTORIES=1.
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflows } from '../../worker/worker.js';
import { recordedHistories } from '../support/histories.js';

const recorded = recordedHistories();

describe('recorded histories replay against the current workflows', () => {
  let workflowBundle: NonNullable<WorkerOptions['workflowBundle']>;
  beforeAll(async () => {
    workflowBundle = await bundleWorkflows();
  }, 60_000);

  it('has recorded histories to replay', () => {
    expect(recorded.map((r) => r.file)).toEqual(expect.arrayContaining([
      'rollout-to-clusters.json', 'rollout-to-cluster.json', 'onboard-cluster-unreachable-then-up.json', 'deploy-environment-prune.json',
    ]));
  });

  it.each(recorded)('$file replays without nondeterminism', async ({ workflowId, history }) => {
    await expect(Worker.runReplayHistory({ workflowBundle }, history, workflowId)).resolves.toBeUndefined();
  });
});
