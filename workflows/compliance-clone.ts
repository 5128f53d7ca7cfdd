// complianceClone: one run of a schedule (Temporal Schedules start it; overlap policy skip).
// Tear down what the schedule's previous run left → write this run's clone as the API writes one
// (the rules judged now: residency, tiers, scrubbed copies) → make it (cloneEnvironment), or
// drill it (drDrill, which tears it down after unless kept). So a schedule leaves at most one
// clone. The outcome is the result: rejected (the rules or the request), failed, cancelled.
import {
  ApplicationFailure, CancellationScope, executeChild, isCancellation, ParentClosePolicy, proxyActivities, setHandler, workflowInfo,
} from '@temporalio/workflow';
import type { OperationActivities } from '../activities/operations-types.js';
import type { ScheduleActivities } from '../activities/schedule-types.js';
import { runStamp, type ScheduledCloneInput } from '../domain/schedule.js';
import { cloneEnvironment } from './clone-environment.js';
import { drDrill } from './dr-drill.js';
import { failureTypeOf, messageOf } from './failures.js';
import { scheduledRunQuery, type ScheduledRunState } from './messages.js';
import { teardownClone } from './teardown-clone.js';

export type ScheduledRunOutcome = 'completed' | 'rejected' | 'failed' | 'cancelled';

export interface ScheduledRunResult {
  schedule: string;
  kind: 'clone' | 'drill';
  cloneId: string;
  /** The drill's id (its report: GET /v1/drills/{id}), for a drill. */
  drillId?: string;
  outcome: ScheduledRunOutcome;
  message?: string;
  /** Earlier runs' clones torn down first. */
  replaced: string[];
}

const catalogOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
} as const;
const { previousClones, writeScheduledClone } = proxyActivities<ScheduleActivities>(catalogOptions);
const { reportOperation } = proxyActivities<OperationActivities>(catalogOptions);

/** Refusals of this run's clone: the run is rejected, not failed. */
const REFUSALS = new Set(['RuleViolation', 'InvalidCloneRequest']);
/** Children are cancelled with the run (never left half-made by a terminated parent). */
const childOptions = { parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL } as const;

export async function complianceClone(input: ScheduledCloneInput): Promise<ScheduledRunResult> {
  const id = workflowInfo().workflowId;
  const stamp = runStamp(id);
  const requestedBy = `schedule/${input.schedule}`;
  const state: ScheduledRunState = { schedule: input.schedule, kind: input.kind, cloneId: `clone-${input.clone.name}-${stamp}`, phase: 'replacing', replaced: [] };
  setHandler(scheduledRunQuery, () => state);
  const report = (opState: 'running' | 'completed', outcome?: ScheduledRunOutcome, message?: string) =>
    CancellationScope.nonCancellable(() => reportOperation({
      id, kind: 'compliance-clone', state: opState, requestedBy, environments: [input.clone.name, input.clone.source], clusters: [input.clone.cluster],
      ...(outcome ? { outcome } : {}), ...(message !== undefined ? { message } : {}),
    }));

  await report('running');
  let outcome: ScheduledRunOutcome = 'completed';
  let message: string | undefined;
  let drillId: string | undefined;
  try {
    await replacePrevious();
    state.phase = 'writing';
    await writeScheduledClone({ schedule: input.schedule, cloneId: state.cloneId, clone: input.clone, requestedBy, at: new Date().toISOString() });
    if (input.kind === 'drill') {
      state.phase = 'drilling';
      drillId = `drill-${input.clone.source}-${stamp}`;
      const drill = await executeChild(drDrill, {
        ...childOptions, workflowId: drillId,
        args: [{ cloneId: state.cloneId, requestedBy, ...input.drill }],
      });
      outcome = drill.outcome === 'passed' ? 'completed' : drill.outcome;
      if (drill.reason !== undefined) message = drill.reason;
    } else {
      state.phase = 'cloning';
      const clone = await executeChild(cloneEnvironment, { ...childOptions, workflowId: state.cloneId, args: [{ cloneId: state.cloneId, requestedBy }] });
      outcome = clone.outcome;
      if (clone.message !== undefined) message = clone.message;
    }
  } catch (error) {
    outcome = isCancellation(error) ? 'cancelled' : REFUSALS.has(failureTypeOf(error) ?? '') ? 'rejected' : 'failed';
    message = messageOf(error);
  }
  state.phase = 'done';
  state.outcome = outcome;
  await report('completed', outcome, message);
  return { schedule: input.schedule, kind: input.kind, cloneId: state.cloneId, ...(drillId ? { drillId } : {}), outcome, ...(message !== undefined ? { message } : {}), replaced: state.replaced };

  /** The schedule's earlier clones go first: this run's takes their name. */
  async function replacePrevious(): Promise<void> {
    for (const previous of await previousClones({ name: input.clone.name, requestedBy })) {
      if (previous.cloneId === state.cloneId) continue;
      const ended = await executeChild(teardownClone, {
        ...childOptions, workflowId: `teardown-${previous.cloneId}`,
        args: [{ cloneId: previous.cloneId, requestedBy, reason: `replaced by the schedule's run ${id}` }],
      });
      if (ended.outcome !== 'completed') {
        throw ApplicationFailure.nonRetryable(`the previous run's clone ${previous.cloneId} could not be torn down: ${ended.message ?? ended.outcome}`, 'TeardownFailed');
      }
      state.replaced.push(previous.cloneId);
    }
  }
}
