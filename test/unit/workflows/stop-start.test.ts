// The real stopEnvironment, startEnvironment and scheduledLifecycle workflows on Temporal's
// time-skipping test server, with stub activities: a stop records and scales; a start restores
// and clears the record; what cannot be done ends as rejected (the rules forbid stopping the
// tier, never deployed, busy) or completes at once (already stopped, not stopped); a scheduled
// run acts on every environment it names, each as a child, and reports each outcome.
import { describe, expect, it } from 'vitest';
import type { LifecycleJobActivities } from '../../../activities/lifecycle-jobs-types.js';
import type { OperationActivities } from '../../../activities/operations-types.js';
import type { StopStartActivities, StopStartPlan } from '../../../activities/stop-start-types.js';
import { scheduledLifecycle, startEnvironment, stopEnvironment } from '../../../workflows/stop-start.js';
import { keepHistory } from '../../support/histories.js';
import { fileWorker, sharedWorkflowBundle } from '../../support/workflow-env.js';
import { Calls, permanent, recorded, Switchboard } from './stubs.js';

const bundle = sharedWorkflowBundle();
const board = new Switchboard();
const file = fileWorker(board.activities, bundle);
let runs = 0;
const keep = keepHistory;

const replicas = { 'Deployment/web': 3, 'Deployment/api': 2, 'StatefulSet/orders-db': 1 };
const running: StopStartPlan = { gone: false, cluster: 'eu-1', tier: 'dev', deployed: true, stopped: false };
const stopped: StopStartPlan = { ...running, stopped: true };

type Stubs = StopStartActivities & OperationActivities & LifecycleJobActivities;
function stubs(plan: StopStartPlan, overrides: Partial<Stubs> = {}): Stubs {
  return {
    async planStopStart() {
      return plan;
    },
    async stopWorkloads() {
      return { replicas };
    },
    async startWorkloads() {
      return { replicas };
    },
    async markStarted() {},
    async runLifecycleJob() {
      return { hook: 'beforeStop' as const, revision: 'sha256:1', jobs: [] };
    },
    async lifecycleTargets() {
      return ['shop-dev', 'shop-qa'];
    },
    async acquireEnvironments() {},
    async releaseEnvironments() {},
    async reportOperation() {},
    ...overrides,
  };
}

async function execute<A>(workflow: (input: A) => Promise<unknown>, s: Stubs, input: A) {
  const calls = new Calls();
  board.use(recorded(calls, s));
  const workflowId = `lifecycle-${++runs}-${Date.now()}`;
  const handle = await file.env.client.workflow.start(workflow as never, { taskQueue: file.taskQueue, workflowId, args: [input] as never });
  const result = await handle.result();
  return { result, calls, workflowId, handle };
}
const input = { environment: 'shop-dev', requestedBy: 'alice' };

describe('stopEnvironment and startEnvironment', () => {
  it('a stop takes the environment, records and scales its workloads, reports, releases', async () => {
    const run = await execute(stopEnvironment, stubs(running), input);

    expect(run.result).toEqual({ environment: 'shop-dev', action: 'stop', outcome: 'completed', replicas });
    expect(run.calls.names()).toEqual(['planStopStart', 'acquireEnvironments', 'reportOperation', 'runLifecycleJob', 'stopWorkloads', 'reportOperation', 'releaseEnvironments']);
    expect(run.calls.of('runLifecycleJob')).toEqual([{ environment: 'shop-dev', hook: 'beforeStop', runId: run.workflowId }]);
    expect(run.calls.of('stopWorkloads')).toEqual([{ environment: 'shop-dev', operationId: run.workflowId, requestedBy: 'alice' }]);
    expect(run.calls.of('reportOperation').at(-1)).toEqual({ id: run.workflowId, kind: 'stop', state: 'completed', outcome: 'completed', environments: ['shop-dev'], requestedBy: 'alice' });
    await keep('stop-environment', run.handle);
  }, 30_000);

  it('a start brings the workloads back (waiting up to the rollout timeout), then clears the record', async () => {
    const run = await execute(startEnvironment, stubs(stopped), { ...input, rolloutTimeoutSeconds: 120 });

    expect(run.result).toEqual({ environment: 'shop-dev', action: 'start', outcome: 'completed', replicas });
    expect(run.calls.of('startWorkloads')).toEqual([{ environment: 'shop-dev', timeoutSeconds: 120 }]);
    const names = run.calls.names();
    expect(names.indexOf('startWorkloads')).toBeLessThan(names.indexOf('markStarted'));
    await keep('start-environment', run.handle);
  }, 30_000);

  it('refuses to stop a tier the rules keep running (rejected, nothing scaled)', async () => {
    const refusal = "the organisation's rules forbid stopping prod environments (forbidStop)";
    const run = await execute(stopEnvironment, stubs({ ...running, tier: 'prod', refusal }), input);

    expect(run.result).toEqual({ environment: 'shop-dev', action: 'stop', outcome: 'rejected', message: refusal });
    expect(run.calls.of('stopWorkloads')).toEqual([]);
    expect(run.calls.of('releaseEnvironments')).toEqual([{ holder: run.workflowId }]);
  }, 30_000);

  it('an environment never deployed has nothing to stop; a stopped one stopped again, or a running one started, completes at once', async () => {
    const never = await execute(stopEnvironment, stubs({ ...running, deployed: false }), input);
    expect(never.result).toMatchObject({ outcome: 'rejected', message: 'environment "shop-dev" has never been deployed: nothing to stop' });

    const again = await execute(stopEnvironment, stubs(stopped), input);
    expect(again.result).toMatchObject({ outcome: 'completed', message: 'environment "shop-dev" is already stopped' });
    expect(again.calls.of('stopWorkloads')).toEqual([]);

    const notStopped = await execute(startEnvironment, stubs(running), input);
    expect(notStopped.result).toMatchObject({ outcome: 'completed', message: 'environment "shop-dev" is not stopped' });
    expect(notStopped.calls.of('startWorkloads')).toEqual([]);
    expect(notStopped.calls.of('markStarted')).toEqual([]);
  }, 30_000);

  it('a failing beforeStop job fails the stop with its log tail, nothing scaled, the environment released', async () => {
    const failed = permanent('lifecycle job drain (beforeStop) failed: BackoffLimitExceeded; last lines of its log:\nqueue not empty', 'LifecycleJobFailed');
    const calls = new Calls();
    board.use(recorded(calls, stubs(running, { runLifecycleJob: () => Promise.reject(failed) })));
    const handle = await file.env.client.workflow.start(stopEnvironment, { taskQueue: file.taskQueue, workflowId: `lifecycle-${++runs}-${Date.now()}`, args: [input] });
    await expect(handle.result()).rejects.toThrow();
    expect(calls.of('stopWorkloads')).toEqual([]);
    expect(calls.of('reportOperation').at(-1)).toMatchObject({ state: 'failed', outcome: 'failed', message: expect.stringContaining('queue not empty') as unknown });
    expect(calls.of('releaseEnvironments')).toEqual([{ holder: handle.workflowId }]);
  }, 30_000);

  it('is rejected while another operation holds the environment', async () => {
    const busy = permanent('environment "shop-dev" is held by deploy-shop-dev-1', 'EnvironmentBusy');
    const run = await execute(stopEnvironment, stubs(running, { acquireEnvironments: () => Promise.reject(busy) }), input);

    expect(run.result).toMatchObject({ outcome: 'rejected', message: 'environment "shop-dev" is held by deploy-shop-dev-1' });
    expect(run.calls.of('stopWorkloads')).toEqual([]);
  }, 30_000);
});

describe('scheduledLifecycle', () => {
  it('stops every environment the schedule names, each as a child, and reports each outcome', async () => {
    const run = await execute(scheduledLifecycle, stubs(running, {
      async planStopStart({ environment }) {
        return environment === 'shop-qa' ? { ...running, deployed: false } : running;
      },
    }), { schedule: 'nightly', action: 'stop' as const, tier: 'dev', createdBy: 'alice' });

    expect(run.calls.of('lifecycleTargets')).toEqual([{ tier: 'dev' }]);
    expect(run.result).toEqual({
      schedule: 'nightly', action: 'stop',
      results: [
        { environment: 'shop-dev', action: 'stop', outcome: 'completed', replicas },
        { environment: 'shop-qa', action: 'stop', outcome: 'rejected', message: 'environment "shop-qa" has never been deployed: nothing to stop' },
      ],
    });
    expect(run.calls.of('stopWorkloads').map((c) => c.requestedBy)).toEqual(['schedule/nightly']);
    expect(run.calls.of('stopWorkloads').map((c) => c.operationId)).toEqual([`${run.workflowId}-shop-dev`]);
    await keep('scheduled-lifecycle-stop', run.handle);
  }, 30_000);
});
