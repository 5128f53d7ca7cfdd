// cloneExpiry: a TTL'd clone's clock. Waits (a durable timer) until the clone expires, then
// tears it down as a child. The expiry can be pushed later or cancelled with Updates while it
// waits; the query shows the time left. Started by cloneEnvironment, which does not wait for it.
import {
  allHandlersFinished, ApplicationFailure, CancellationScope, condition, continueAsNew, executeChild, isCancellation, proxyActivities, setHandler,
} from '@temporalio/workflow';
import type { CloneActivities } from '../activities/clone-types.js';
import { cloneExpiryQuery, extendTtlUpdate, cancelTtlUpdate, type CloneExpiry } from './messages.js';
import { teardownClone } from './teardown-clone.js';

export interface CloneExpiryInput {
  cloneId: string;
  clone: string;
  expiresAt: string;
  requestedBy: string;
}

const { markClone } = proxyActivities<CloneActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
});

/** Updates before the run starts over (continueAsNew), so a clone extended for months keeps a short history. */
const MAX_CHANGES_PER_RUN = 100;

export async function cloneExpiry(input: CloneExpiryInput): Promise<CloneExpiry> {
  const state: CloneExpiry = { cloneId: input.cloneId, clone: input.clone, expiresAt: input.expiresAt, phase: 'waiting' };
  let changes = 0;
  let changed = false;
  const remaining = () => (state.expiresAt === undefined ? undefined : Math.max(0, Date.parse(state.expiresAt) - Date.now()));
  const view = (): CloneExpiry => {
    const ms = remaining();
    return { ...state, ...(ms !== undefined ? { remainingSeconds: Math.ceil(ms / 1000) } : {}) };
  };
  setHandler(cloneExpiryQuery, view);
  const waiting = () => {
    if (state.phase !== 'waiting') throw ApplicationFailure.nonRetryable(`the clone's TTL is over (${state.phase})`, 'NotWaiting');
  };
  setHandler(extendTtlUpdate, async ({ seconds, until }) => {
    const next = until !== undefined ? Date.parse(until) : Date.now() + (seconds ?? 0) * 1000;
    state.expiresAt = new Date(next).toISOString();
    changes++;
    changed = true;
    await markClone({ cloneId: input.cloneId, state: 'ready', expiresAt: state.expiresAt });
    return view();
  }, {
    validator: ({ seconds, until }) => {
      waiting();
      if ((seconds === undefined) === (until === undefined)) throw ApplicationFailure.nonRetryable('give seconds or until', 'InvalidTtl');
      const next = until !== undefined ? Date.parse(until) : Date.now() + (seconds ?? 0) * 1000;
      if (Number.isNaN(next) || next <= Date.now()) throw ApplicationFailure.nonRetryable('the new expiry must be later than now', 'InvalidTtl');
    },
  });
  setHandler(cancelTtlUpdate, async (_request: { by: string }) => {
    state.expiresAt = undefined;
    state.phase = 'cancelled';
    changed = true;
    await markClone({ cloneId: input.cloneId, state: 'ready', expiresAt: null });
    return view();
  }, { validator: (_request: { by: string }) => waiting() });

  // An Update's handler finishes (its catalog write) before the run ends or starts over.
  const settled = async () => {
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
    return view();
  };
  try {
    for (;;) {
      const ms = remaining();
      if (state.phase === 'cancelled' || ms === undefined) return await settled();
      if (ms === 0) break;
      changed = false;
      await condition(() => changed, ms);
      if (changes >= MAX_CHANGES_PER_RUN && state.expiresAt !== undefined) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof cloneExpiry>({ ...input, expiresAt: state.expiresAt });
      }
    }
  } catch (error) {
    // Cancelled: a teardown that came first (DELETE /v1/clones/{id}) stopped the clock.
    if (isCancellation(error)) {
      state.phase = 'cancelled';
      return await settled();
    }
    throw error;
  }
  state.phase = 'tearing-down';
  await executeChild(teardownClone, {
    workflowId: `teardown-${input.cloneId}`,
    args: [{ cloneId: input.cloneId, requestedBy: input.requestedBy, reason: `TTL expired at ${state.expiresAt ?? ''}`, byExpiry: true }],
  });
  state.phase = 'torn-down';
  return view();
}
