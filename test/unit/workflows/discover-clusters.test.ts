// The discoverClusters workflow on Temporal's time-skipping test server with a stub activity: it
// hands back what the worker found, tries again (a few times, quickly) when the cloud throttles
// or is down, and gives up at once on what a retry cannot mend, with the activity's message.
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { DiscoverClustersInput, DiscoveredCluster } from '../../../activities/discovery-types.js';
import { discoverClusters } from '../../../workflows/discover-clusters.js';
import { fileWorker, sharedWorkflowBundle } from '../../support/workflow-env.js';
import { rootCause } from '../../support/wait.js';

let behaviour: (input: DiscoverClustersInput, attempt: number) => Promise<DiscoveredCluster[]>;
const calls: DiscoverClustersInput[] = [];
const activities = {
  async discoverClusters(input: DiscoverClustersInput) {
    calls.push(input);
    return behaviour(input, calls.length);
  },
};
const worker = fileWorker(activities, sharedWorkflowBundle());
let n = 0;

const prod: DiscoveredCluster = {
  name: 'prod', suggestedName: 'prod', connection: { provider: 'eks', region: 'eu-west-1', clusterName: 'prod' },
  region: 'eu-west-1', version: '1.31', status: 'ACTIVE', ready: true, tags: { team: 'payments' },
};

function run(input: DiscoverClustersInput) {
  calls.length = 0;
  return worker.env.client.workflow.execute(discoverClusters, { taskQueue: worker.taskQueue, workflowId: `discover-${++n}`, args: [input] });
}

describe('discoverClusters', () => {
  it("returns the worker's candidates for the account it was given", async () => {
    behaviour = async () => [prod];
    const result = await run({ provider: 'eks', account: { regions: ['eu-west-1'] } });
    expect(result).toEqual([prod]);
    expect(calls).toEqual([{ provider: 'eks', account: { regions: ['eu-west-1'] } }]);
  });

  it('tries again while the cloud throttles, then answers', async () => {
    behaviour = async (_input, attempt) => {
      if (attempt < 3) throw ApplicationFailure.retryable('eks listClusters: throttled on region eu-west-1: Rate exceeded', 'Cloudthrottled');
      return [prod];
    };
    expect(await run({ provider: 'eks', account: {} })).toEqual([prod]);
    expect(calls).toHaveLength(3);
  });

  it('gives up after three attempts of an outage, with its message', async () => {
    behaviour = async () => {
      throw ApplicationFailure.retryable('gke listClusters: service unavailable for project acme-prod: backend down', 'Cloudunavailable');
    };
    const error = await run({ provider: 'gke', account: { project: 'acme-prod' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(calls).toHaveLength(3);
    expect((rootCause(error) as Error).message).toBe('gke listClusters: service unavailable for project acme-prod: backend down');
  });

  it('does not retry what cannot mend (no adapter on this worker)', async () => {
    behaviour = async () => {
      throw ApplicationFailure.nonRetryable('aks discover: invalid request for: this worker has no aks adapter configured', 'ProviderNotConfigured');
    };
    const error = await run({ provider: 'aks', account: { subscriptionId: '00000000-0000-0000-0000-000000000000' } }).catch((e: unknown) => e);
    expect(calls).toHaveLength(1);
    expect(rootCause(error)).toMatchObject({ type: 'ProviderNotConfigured' });
  });
});
