// The real teardownEnvironment workflow on Temporal's time-skipping test server, with stub
// activities: the plain path (remove, then forget, then release), an environment already gone,
// refusals (another change involves it, the lock is held), the approval gate (approved by
// someone else under four eyes, rejected, timed out in skipped time, cancelled while waiting),
// and a removal that keeps failing (reported failed, nothing forgotten).
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { LifecycleJobActivities } from '../../../activities/lifecycle-jobs-types.js';
import type { OperationActivities } from '../../../activities/operations-types.js';
import type { TeardownActivities, TeardownPlan, TeardownRemoval } from '../../../activities/teardown-types.js';
import { approveTeardownUpdate, rejectTeardownUpdate, teardownStateQuery } from '../../../workflows/messages.js';
import { teardownEnvironment, type TeardownEnvironmentInput } from '../../../workflows/teardown-environment.js';
import { keepHistory } from '../../support/histories.js';
import { fileWorker, sharedWorkflowBundle } from '../../support/workflow-env.js';
import { Calls, permanent, recorded, Switchboard, until } from './stubs.js';

const bundle = sharedWorkflowBundle();
const board = new Switchboard();
const file = fileWorker(board.activities, bundle);
let runs = 0;
const keep = keepHistory;

const plan = (extra: Partial<TeardownPlan> = {}): TeardownPlan => ({
  gone: false, cluster: 'eu-1', namespace: 'shop-dev', tier: 'dev', approval: { required: 0, fourEyes: false }, ...extra,
});
const removal: TeardownRemoval = { deleted: ['Deployment/shop-dev/web', 'Service/shop-dev/web', 'Namespace/shop-dev'], keptClaims: [], namespace: 'deleted' };

type Stubs = TeardownActivities & OperationActivities & LifecycleJobActivities;
function stubs(overrides: Partial<Stubs> = {}): Stubs {
  return {
    async planTeardown() {
      return plan();
    },
    async removeEnvironmentObjects() {
      return removal;
    },
    async forgetEnvironment() {},
    async runLifecycleJob({ hook }) {
      return { hook, jobs: [] };
    },
    async acquireEnvironments() {},
    async releaseEnvironments() {},
    async reportOperation() {},
    ...overrides,
  };
}

type Handle = WorkflowHandle<typeof teardownEnvironment>;

async function teardown(s: Stubs, input: Partial<TeardownEnvironmentInput> = {}, drive?: (handle: Handle) => Promise<void>) {
  const calls = new Calls();
  board.use(recorded(calls, s));
  const workflowId = `teardown-shop-dev-${++runs}-${Date.now()}`;
  const handle = await file.env.client.workflow.start(teardownEnvironment, {
    taskQueue: file.taskQueue, workflowId, args: [{ environment: 'shop-dev', requestedBy: 'alice', ...input }],
  });
  await drive?.(handle);
  const outcome = await handle.result().then((result) => ({ result, error: undefined }), (error: unknown) => ({ result: undefined, error }));
  return { ...outcome, calls, workflowId, handle };
}

const reports = (calls: Calls) => calls.of('reportOperation').map((r) => [r.state, r.outcome].filter((x) => x !== undefined).join(' '));
const awaitingApproval = (handle: Handle) => until('the teardown to wait for approval', async () => (await handle.query(teardownStateQuery)).phase === 'awaiting-approval');

async function refusal(update: Promise<unknown>): Promise<{ type?: string; message: string }> {
  try {
    await update;
  } catch (error) {
    expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (error as WorkflowUpdateFailedError).cause as ApplicationFailure;
    return { type: cause.type ?? undefined, message: cause.message };
  }
  throw new Error('the update was accepted');
}

describe('teardownEnvironment', () => {
  it('removes the objects, then forgets the environment, then releases it and reports completed', async () => {
    const run = await teardown(stubs(), { deleteData: true });

    expect(run.result).toEqual({ environment: 'shop-dev', outcome: 'completed', alreadyGone: false, removal });
    expect(run.calls.names()).toEqual([
      'planTeardown', 'acquireEnvironments', 'reportOperation', 'runLifecycleJob', 'removeEnvironmentObjects', 'forgetEnvironment', 'reportOperation', 'releaseEnvironments',
    ]);
    expect(run.calls.of('runLifecycleJob')).toEqual([{ environment: 'shop-dev', hook: 'beforeTeardown', runId: run.workflowId }]);
    expect(run.calls.of('acquireEnvironments')).toEqual([{ holder: run.workflowId, environments: ['shop-dev'] }]);
    expect(run.calls.of('removeEnvironmentObjects')).toEqual([{ environment: 'shop-dev', cluster: 'eu-1', namespace: 'shop-dev', deleteData: true }]);
    expect(run.calls.of('forgetEnvironment')).toEqual([{ environment: 'shop-dev', operationId: run.workflowId, requestedBy: 'alice', removal, deleteData: true }]);
    expect(run.calls.of('reportOperation').at(-1)).toEqual({
      id: run.workflowId, kind: 'teardown', state: 'completed', outcome: 'completed', environments: ['shop-dev'], requestedBy: 'alice',
    });
    expect(run.calls.of('releaseEnvironments')).toEqual([{ holder: run.workflowId }]);
    await keep('teardown-environment-removed', run.handle);
  }, 30_000);

  it('says why a namespace Flotilla created was kept', async () => {
    const kept: TeardownRemoval = { deleted: ['Deployment/shop-dev/web'], keptClaims: ['data-orders-db-0'], namespace: 'kept', keptBecause: "it holds the environment's data" };
    const run = await teardown(stubs({ removeEnvironmentObjects: async () => kept }));

    expect(run.result).toMatchObject({ outcome: 'completed', removal: kept, message: "namespace shop-dev kept: it holds the environment's data" });
    expect(run.calls.of('removeEnvironmentObjects')[0]).toMatchObject({ deleteData: false });
  }, 30_000);

  it('an environment already gone completes at once, removing nothing', async () => {
    const run = await teardown(stubs({ planTeardown: async () => ({ gone: true, approval: { required: 0, fourEyes: false } }) }));

    expect(run.result).toEqual({ environment: 'shop-dev', outcome: 'completed', alreadyGone: true, message: 'environment "shop-dev" was already gone' });
    expect(run.calls.names()).toEqual(['planTeardown', 'releaseEnvironments', 'reportOperation']);
  }, 30_000);

  it('is rejected, removing nothing, while a promotion involves the environment', async () => {
    const involvedIn = { operationId: 'promote-shop-1', message: 'environment "shop-dev" takes part in promotion promote-shop-1 (running); wait for it to end or cancel it' };
    const run = await teardown(stubs({ planTeardown: async () => plan({ involvedIn }) }));

    expect(run.result).toEqual({ environment: 'shop-dev', outcome: 'rejected', alreadyGone: false, message: involvedIn.message });
    expect(run.calls.of('removeEnvironmentObjects')).toEqual([]);
    expect(run.calls.of('forgetEnvironment')).toEqual([]);
    expect(reports(run.calls)).toEqual(['running', 'completed rejected']);
    expect(run.calls.of('releaseEnvironments')).toEqual([{ holder: run.workflowId }]);
  }, 30_000);

  it('is rejected when another operation holds the environment', async () => {
    const busy = permanent('environment "shop-dev" is held by deploy-shop-dev-abc-1', 'EnvironmentBusy');
    const run = await teardown(stubs({ acquireEnvironments: () => Promise.reject(busy) }));

    expect(run.result).toMatchObject({ outcome: 'rejected', message: 'environment "shop-dev" is held by deploy-shop-dev-abc-1' });
    expect(run.calls.of('removeEnvironmentObjects')).toEqual([]);
  }, 30_000);

  it('waits for the approvals its tier asks; the requester may not approve under four eyes; another approver may', async () => {
    const refusals: { type?: string; message: string }[] = [];
    const run = await teardown(stubs({ planTeardown: async () => plan({ tier: 'prod', approval: { required: 1, fourEyes: true } }) }), {}, async (handle) => {
      await awaitingApproval(handle);
      refusals.push(await refusal(handle.executeUpdate(approveTeardownUpdate, { args: [{ by: 'alice', role: 'admin' }] })));
      refusals.push(await refusal(handle.executeUpdate(approveTeardownUpdate, { args: [{ by: 'olga', role: 'operator' }] })));
      const state = await handle.executeUpdate(approveTeardownUpdate, { args: [{ by: 'bob', role: 'release-manager', comment: 'ok' }] });
      expect(state.approval).toMatchObject({ approvedBy: 'bob', approvals: [{ by: 'bob', comment: 'ok' }] });
      refusals.push(await refusal(handle.executeUpdate(rejectTeardownUpdate, { args: [{ by: 'carol', role: 'admin' }] })));
    });

    expect(refusals).toEqual([
      { type: 'FourEyes', message: 'four eyes: alice requested this teardown and cannot also approve it' },
      { type: 'ApproverRole', message: 'approving needs role release-manager or admin; olga has operator' },
      { type: 'AlreadyDecided', message: 'teardown is already approved (by bob)' },
    ]);
    expect(run.result?.outcome).toBe('completed');
    expect(reports(run.calls)).toEqual(['running', 'waiting', 'running', 'completed completed']);
    expect(run.calls.of('forgetEnvironment')).toHaveLength(1);
    await keep('teardown-environment-approved', run.handle);
  }, 30_000);

  it('two approvers when the rules ask for two, each once', async () => {
    let again: { type?: string; message: string } | undefined;
    const run = await teardown(stubs({ planTeardown: async () => plan({ approval: { required: 2, fourEyes: false } }) }), {}, async (handle) => {
      await awaitingApproval(handle);
      await handle.executeUpdate(approveTeardownUpdate, { args: [{ by: 'alice', role: 'release-manager' }] });
      again = await refusal(handle.executeUpdate(approveTeardownUpdate, { args: [{ by: 'alice', role: 'release-manager' }] }));
      expect((await handle.query(teardownStateQuery)).phase).toBe('awaiting-approval');
      await handle.executeUpdate(approveTeardownUpdate, { args: [{ by: 'bob', role: 'admin' }] });
    });

    expect(again).toEqual({ type: 'AlreadyApproved', message: 'alice has already approved this teardown; it needs 2 distinct approvers' });
    expect(run.result?.outcome).toBe('completed');
  }, 30_000);

  it('a rejection ends it as rejected, removing nothing', async () => {
    const run = await teardown(stubs({ planTeardown: async () => plan({ approval: { required: 1, fourEyes: true } }) }), {}, async (handle) => {
      await awaitingApproval(handle);
      await handle.executeUpdate(rejectTeardownUpdate, { args: [{ by: 'bob', role: 'release-manager', comment: 'still in use' }] });
    });

    expect(run.result).toMatchObject({ outcome: 'rejected', message: 'rejected by bob: still in use; nothing was removed' });
    expect(run.calls.of('removeEnvironmentObjects')).toEqual([]);
    expect(run.calls.of('releaseEnvironments')).toEqual([{ holder: run.workflowId }]);
  }, 30_000);

  it('no approval in time (skipped time) ends it as cancelled, removing nothing', async () => {
    const run = await teardown(stubs({ planTeardown: async () => plan({ approval: { required: 1, fourEyes: true } }) }), { approvalTimeoutSeconds: 3600 });

    expect(run.result).toMatchObject({ outcome: 'cancelled', message: 'no approval in time; nothing was removed' });
    expect(run.calls.of('removeEnvironmentObjects')).toEqual([]);
    const timers = ((await run.handle.fetchHistory()).events ?? []).flatMap((e) => e.timerStartedEventAttributes ? [Number(e.timerStartedEventAttributes.startToFireTimeout?.seconds)] : []);
    expect(timers).toEqual([3600]);
  }, 30_000);

  it('a Temporal cancel while it waits for approval ends it as cancelled, removing nothing', async () => {
    const run = await teardown(stubs({ planTeardown: async () => plan({ approval: { required: 1, fourEyes: true } }) }), {}, async (handle) => {
      await awaitingApproval(handle);
      await handle.cancel();
    });

    expect(run.result).toMatchObject({ outcome: 'cancelled', message: 'cancelled while waiting for approval; nothing was removed' });
    expect(run.calls.of('removeEnvironmentObjects')).toEqual([]);
    expect(run.calls.of('releaseEnvironments')).toEqual([{ holder: run.workflowId }]);
  }, 30_000);

  it('runs the beforeTeardown jobs after the approval and before removal', async () => {
    const run = await teardown(stubs({ planTeardown: async () => plan({ approval: { required: 1, fourEyes: false } }) }), {}, async (handle) => {
      await awaitingApproval(handle);
      await handle.executeUpdate(approveTeardownUpdate, { args: [{ by: 'bob', role: 'admin' }] });
    });

    expect(run.result?.outcome).toBe('completed');
    const order = run.calls.names();
    expect(order.indexOf('runLifecycleJob')).toBeGreaterThan(-1);
    expect(order.slice(order.indexOf('runLifecycleJob'))).toEqual(['runLifecycleJob', 'removeEnvironmentObjects', 'forgetEnvironment', 'reportOperation', 'releaseEnvironments']);
  }, 30_000);

  it('a failed beforeTeardown job fails the teardown with its log tail, nothing removed or forgotten', async () => {
    const failure = permanent('beforeTeardown job failed: Job shop-dev/backup-abc-x1 failed: BackoffLimitExceeded\nlast 1 line(s) of pod backup-abc-x1-p:\nbucket unreachable', 'LifecycleJobFailed');
    const run = await teardown(stubs({ runLifecycleJob: () => Promise.reject(failure) }));

    expect(run.error).toBeInstanceOf(WorkflowFailedError);
    expect(run.calls.of('removeEnvironmentObjects')).toEqual([]);
    expect(run.calls.of('forgetEnvironment')).toEqual([]);
    const last = run.calls.of('reportOperation').at(-1);
    expect(last).toMatchObject({ state: 'failed', outcome: 'failed' });
    expect(last?.message).toBe(`teardown stopped before anything was removed: ${failure.message}`);
    expect(run.calls.of('releaseEnvironments')).toEqual([{ holder: run.workflowId }]);
  }, 30_000);

  it('a removal that keeps failing fails the teardown, reported failed, the environment not forgotten', async () => {
    const run = await teardown(stubs({ removeEnvironmentObjects: () => Promise.reject(permanent('2 object(s) still there after 240s', 'TeardownTimeout')) }));

    expect(run.error).toBeInstanceOf(WorkflowFailedError);
    expect(run.calls.of('forgetEnvironment')).toEqual([]);
    expect(run.calls.of('reportOperation').at(-1)).toMatchObject({ state: 'failed', outcome: 'failed', message: '2 object(s) still there after 240s' });
    expect(run.calls.of('releaseEnvironments')).toEqual([{ holder: run.workflowId }]);
  }, 30_000);
});
