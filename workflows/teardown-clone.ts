// teardownClone: take the clone → stop its TTL clock (unless the clock itself asked) → remove
// every object Flotilla created for it, the data its copies put into external databases, then
// its catalog entry → release. A clone already torn down is left as it is.
import { CancellationScope, getExternalWorkflowHandle, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { CloneActivities } from '../activities/clone-types.js';
import type { OperationActivities } from '../activities/operations-types.js';
import { removeClone } from './clone-teardown.js';
import { messageOf } from './failures.js';

export interface TeardownCloneInput {
  cloneId: string;
  requestedBy: string;
  reason?: string;
  /** Started by the clone's own TTL clock (cloneExpiry): that clock is not stopped. */
  byExpiry?: boolean;
}

export interface TeardownCloneResult {
  cloneId: string;
  clone: string;
  outcome: 'completed' | 'failed';
  /** The clone was already gone. */
  alreadyTornDown: boolean;
  message?: string;
}

const catalogOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
} as const;
const { planClone, markClone } = proxyActivities<CloneActivities>(catalogOptions);
const { acquireEnvironments, releaseEnvironments, reportOperation } = proxyActivities<OperationActivities>(catalogOptions);

export async function teardownClone(input: TeardownCloneInput): Promise<TeardownCloneResult> {
  const id = workflowInfo().workflowId;
  const plan = await planClone({ cloneId: input.cloneId, at: new Date().toISOString() });
  if (plan.state === 'torn-down') return { cloneId: input.cloneId, clone: plan.clone, outcome: 'completed', alreadyTornDown: true };
  const report = (state: 'running' | 'completed', outcome?: 'completed' | 'failed', message?: string) =>
    CancellationScope.nonCancellable(() => reportOperation({
      id, kind: 'teardown', state, environments: [plan.clone], clusters: [plan.cluster], requestedBy: input.requestedBy,
      ...(outcome ? { outcome } : {}), ...(message !== undefined ? { message } : {}),
    }));
  await acquireEnvironments({ holder: id, environments: [plan.clone] });
  let outcome: 'completed' | 'failed' = 'completed';
  let message: string | undefined;
  try {
    await report('running');
    // Only a clock that runs: a clone without a TTL (or whose TTL was cancelled) has none.
    if (!input.byExpiry && plan.expiresAt !== undefined) await stopClock(input.cloneId);
    await markClone({ cloneId: input.cloneId, state: 'tearing-down' });
    await removeClone({ cloneId: input.cloneId, clone: plan.clone, data: plan.data, reason: input.reason ?? `torn down by ${input.requestedBy}` });
  } catch (error) {
    outcome = 'failed';
    message = messageOf(error);
    await CancellationScope.nonCancellable(() => markClone({ cloneId: input.cloneId, state: 'failed', message: `teardown failed: ${message}` }));
  } finally {
    await CancellationScope.nonCancellable(() => releaseEnvironments({ holder: id }));
  }
  await report('completed', outcome, message);
  return { cloneId: input.cloneId, clone: plan.clone, outcome, alreadyTornDown: false, ...(message !== undefined ? { message } : {}) };
}

/** Cancels the clone's TTL clock, if it has one still running. */
async function stopClock(cloneId: string): Promise<void> {
  try {
    await getExternalWorkflowHandle(`expire-${cloneId}`).cancel();
  } catch {
    // No clock (no TTL), or it already ended: nothing to stop.
  }
}
