// teardownEnvironment: plan → take the environment → refuse while another change involves it →
// wait for the approvals its tier asks (as for a deploy) → run the deployed revision's
// beforeTeardown jobs (a failed one stops it) → remove every object Flotilla created
// for it and wait until the cluster confirms → forget it in the catalog (revisions and audit
// stay) → release. Once removal starts it is not cancelled: half a teardown is worse than a
// whole one. Running it again for an environment already gone completes at once.
import { ApplicationFailure, CancellationScope, isCancellation, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { LifecycleJobActivities } from '../activities/lifecycle-jobs-types.js';
import type { OperationActivities } from '../activities/operations-types.js';
import type { TeardownActivities, TeardownRemoval } from '../activities/teardown-types.js';
import { ApprovalGate } from './approval-gate.js';
import { failureTypeOf, messageOf } from './failures.js';
import { approveTeardownUpdate, rejectTeardownUpdate, type TeardownState, teardownStateQuery } from './messages.js';

export interface TeardownEnvironmentInput {
  environment: string;
  requestedBy: string;
  /** Also delete the PersistentVolumeClaims (the databases' data). */
  deleteData?: boolean;
  /** An approval not given in this time ends the teardown as cancelled (default 24 h). */
  approvalTimeoutSeconds?: number;
}

export interface TeardownEnvironmentResult {
  environment: string;
  outcome: 'completed' | 'rejected' | 'cancelled';
  /** It was not in the catalog any more. */
  alreadyGone: boolean;
  removal?: TeardownRemoval;
  message?: string;
}

const catalogOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
} as const;
const { planTeardown, forgetEnvironment } = proxyActivities<TeardownActivities>(catalogOptions);
const { acquireEnvironments, releaseEnvironments, reportOperation } = proxyActivities<OperationActivities>(catalogOptions);
// Heartbeats per object and poll: a killed worker is noticed within the heartbeat timeout and
// the removal runs again from the top (every step of it is idempotent).
const { removeEnvironmentObjects } = proxyActivities<TeardownActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
});

// The deployed revision's beforeTeardown jobs bound themselves (activeDeadlineSeconds); the heartbeat notices a lost worker.
const { runLifecycleJob } = proxyActivities<LifecycleJobActivities>({
  startToCloseTimeout: '25 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
});

export async function teardownEnvironment(input: TeardownEnvironmentInput): Promise<TeardownEnvironmentResult> {
  const id = workflowInfo().workflowId;
  const { environment } = input;
  const deleteData = input.deleteData ?? false;
  const state: TeardownState = { environment, phase: 'planning', requestedBy: input.requestedBy, deleteData };
  setHandler(teardownStateQuery, () => state);
  const report = (opState: 'running' | 'waiting' | 'completed', outcome?: TeardownEnvironmentResult['outcome'], message?: string) =>
    CancellationScope.nonCancellable(() => reportOperation({
      id, kind: 'teardown', state: opState, environments: [environment], requestedBy: input.requestedBy,
      ...(outcome ? { outcome } : {}), ...(message !== undefined ? { message } : {}),
    }));
  const end = async (outcome: TeardownEnvironmentResult['outcome'], extra: { message?: string; removal?: TeardownRemoval; alreadyGone?: boolean } = {}) => {
    state.phase = outcome;
    if (extra.message !== undefined) state.message = extra.message;
    await report('completed', outcome, extra.message);
    return { environment, outcome, alreadyGone: extra.alreadyGone ?? false, ...(extra.removal ? { removal: extra.removal } : {}), ...(extra.message !== undefined ? { message: extra.message } : {}) };
  };

  const plan = await planTeardown({ environment });
  if (plan.gone) {
    await CancellationScope.nonCancellable(() => releaseEnvironments({ holder: id }));
    return end('completed', { alreadyGone: true, message: `environment "${environment}" was already gone` });
  }
  try {
    await acquireEnvironments({ holder: id, environments: [environment] });
  } catch (error) {
    return end('rejected', { message: messageOf(error) });
  }
  try {
    await report('running');
    if (plan.involvedIn) return await end('rejected', { message: plan.involvedIn.message });

    if (plan.approval.required > 0) {
      const gate = new ApprovalGate('teardown', input.requestedBy, { needed: plan.approval.required, fourEyes: plan.approval.fourEyes });
      state.approval = gate.state;
      const now = () => new Date().toISOString();
      setHandler(approveTeardownUpdate, (d) => { gate.approve(d, now()); return state; }, { validator: (d) => gate.validate(d) });
      setHandler(rejectTeardownUpdate, (d) => { gate.reject(d, now()); return state; }, { validator: (d) => gate.validate(d) });
      state.phase = 'awaiting-approval';
      await report('waiting');
      let decided;
      try {
        decided = await gate.wait((input.approvalTimeoutSeconds ?? 24 * 3600) * 1000);
      } catch (error) {
        if (isCancellation(error)) return await end('cancelled', { message: 'cancelled while waiting for approval; nothing was removed' });
        throw error;
      }
      if (decided === 'rejected') return await end('rejected', { message: `rejected by ${gate.state.rejectedBy ?? '?'}${gate.state.comment ? `: ${gate.state.comment}` : ''}; nothing was removed` });
      if (decided === 'timed-out') return await end('cancelled', { message: 'no approval in time; nothing was removed' });
      await report('running');
    }

    // The deployed revision's beforeTeardown jobs (none: the activity returns at once). A failed
    // one ends the teardown as failed with nothing removed; a cancel meanwhile, as cancelled.
    try {
      await runLifecycleJob({ environment, hook: 'beforeTeardown', runId: id });
    } catch (error) {
      if (isCancellation(error)) return await end('cancelled', { message: 'cancelled while its beforeTeardown jobs ran; nothing was removed' });
      if (failureTypeOf(error) !== 'LifecycleJobFailed') throw error;
      throw ApplicationFailure.create({ message: `teardown stopped before anything was removed: ${messageOf(error)}`, type: 'LifecycleJobFailed', nonRetryable: true });
    }

    // From here on nothing cancels it: the cluster and the catalog end up agreeing.
    const removal = await CancellationScope.nonCancellable(async () => {
      state.phase = 'removing';
      const removed = await removeEnvironmentObjects({ environment, cluster: plan.cluster!, namespace: plan.namespace!, deleteData });
      Object.assign(state, { deleted: removed.deleted, keptClaims: removed.keptClaims, namespace: removed.namespace });
      state.phase = 'forgetting';
      await forgetEnvironment({ environment, operationId: id, requestedBy: input.requestedBy, removal: removed, deleteData });
      return removed;
    });
    return await end('completed', { removal, ...(removal.keptBecause ? { message: `namespace ${plan.namespace!} kept: ${removal.keptBecause}` } : {}) });
  } catch (error) {
    // Flotilla could not do its job (the cluster never confirmed): a failure, said as such.
    await CancellationScope.nonCancellable(() => reportOperation({
      id, kind: 'teardown', state: 'failed', outcome: 'failed', message: messageOf(error), environments: [environment], requestedBy: input.requestedBy,
    }));
    throw error;
  } finally {
    await CancellationScope.nonCancellable(() => releaseEnvironments({ holder: id }));
  }
}
