// The real onboardCluster workflow on Temporal's time-skipping test server, with stub activities:
// a cluster that cannot be reached for three rounds is waited for durably (2 s, 4 s, 8 s of
// workflow time) and then onboarded, and none of that waiting takes wall time.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnboardingActivities, SetClusterStatusInput } from '../../../activities/onboarding-types.js';
import { onboardCluster } from '../../../workflows/onboard-cluster.js';
import { sharedWorkflowBundle, timeSkippingEnv, withWorker, type WorkflowBundle } from '../../support/workflow-env.js';

const bundle = sharedWorkflowBundle();

describe('onboardCluster on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let workflowBundle: WorkflowBundle;

  beforeAll(async () => {
    [env, workflowBundle] = await Promise.all([timeSkippingEnv(), bundle()]);
  }, 120_000);
  afterAll(async () => {
    await env?.teardown();
  });

  it('waits out an unreachable cluster in skipped time, then onboards it', async () => {
    // probeCluster has its own retry policy (2 attempts), so one unreachable round of the
    // workflow is two failed calls: three rounds are the first six calls.
    const unreachableRounds = 3;
    let probes = 0;
    const statuses: SetClusterStatusInput[] = [];
    // Every activity the workflow may call; others it gains later (e.g. reporting) are no-ops here.
    const activities: OnboardingActivities & Record<string, (input: never) => Promise<unknown>> = {
      async probeCluster() {
        probes += 1;
        if (probes <= unreachableRounds * 2) {
          // BENIGN only keeps these expected failures out of the test output (DEBUG, not WARN).
          throw ApplicationFailure.create({ message: 'connect ECONNREFUSED 127.0.0.1:6443', type: 'Unreachable', category: ApplicationFailureCategory.BENIGN });
        }
        return { gitVersion: 'v1.34.4', server: 'https://127.0.0.1:6443' };
      },
      async installBaseline() {
        return { applied: 7 };
      },
      async removeBaseline() {
        return { removed: 0 };
      },
      async readCapacity() {
        return { nodes: 3, cpu: '12', memory: '48Gi', pods: 330 };
      },
      async setClusterStatus(input) {
        statuses.push(input);
      },
      async reportOperation() {},
    };

    const wallStart = performance.now();
    const { result, history } = await withWorker(env, { activities, workflowBundle }, async (taskQueue) => {
      const handle = await env.client.workflow.start(onboardCluster, { taskQueue, workflowId: `onboard-flaky-${Date.now()}`, args: [{ cluster: 'flaky' }] });
      return { result: await handle.result(), history: await handle.fetchHistory() };
    });
    const wallMs = performance.now() - wallStart;

    expect(result).toEqual({ cluster: 'flaky', version: 'v1.34.4', attempts: unreachableRounds + 1, capacity: { nodes: 3, cpu: '12', memory: '48Gi', pods: 330 } });
    expect(probes).toBe(unreachableRounds * 2 + 1);
    expect(statuses.map((s) => s.status)).toEqual(['onboarding', 'unreachable', 'onboarding', 'ready']);
    expect(statuses[1]?.message).toContain('ECONNREFUSED');

    // The workflow slept 2 s, 4 s and 8 s (and its activity retried after 1 s three times) ...
    const events = history.events ?? [];
    const timers = events.filter((e) => e.timerStartedEventAttributes).map((e) => Number(e.timerStartedEventAttributes!.startToFireTimeout!.seconds));
    expect(timers).toEqual([2, 4, 8]);
    const seconds = (e: (typeof events)[number] | undefined) => Number(e?.eventTime?.seconds ?? 0) + (e?.eventTime?.nanos ?? 0) / 1e9;
    const workflowSeconds = seconds(events.at(-1)) - seconds(events[0]);
    expect(workflowSeconds).toBeGreaterThanOrEqual(2 + 4 + 8);
    // ... in far less wall time than that: 0.5-3 s here (worker start included), on 2 busy cores.
    // Real sleeps alone would take 14 s; the bound leaves room for a loaded CI machine.
    expect(wallMs).toBeLessThan(8_000);
    console.info(`[time-skipping] ${workflowSeconds.toFixed(1)} s of workflow time in ${Math.round(wallMs)} ms of wall time`);
  }, 60_000);
});
