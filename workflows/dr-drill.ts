// drDrill: clone the source (cloneEnvironment, a child: it copies the data and tears itself down
// if it fails) → validate the clone → measure RTO and RPO against the objectives → ALWAYS tear
// the clone down (after success, failure or cancel; a killed worker changes nothing: the run
// resumes where it was) unless asked to keep it → keep the report. Its outcome (passed, failed,
// cancelled) is its result, with the report.
import {
  CancellationScope, executeChild, isCancellation, proxyActivities, setHandler, workflowInfo,
} from '@temporalio/workflow';
import type { DrillActivities } from '../activities/drill-types.js';
import type { OperationActivities } from '../activities/operations-types.js';
import { drillVerdict, recoveryTimes, type CheckResult, type DrillObjectives, type DrillReport, type HttpCheck, type PhaseTiming } from '../domain/drill.js';
import { cloneEnvironment, type CloneResult } from './clone-environment.js';
import { messageOf } from './failures.js';
import { drillStateQuery, type DrillState } from './messages.js';
import { teardownClone } from './teardown-clone.js';

export interface DrillInput {
  /** The drill's clone record (the API wrote it): the child cloneEnvironment runs under this id. */
  cloneId: string;
  requestedBy: string;
  objectives?: DrillObjectives;
  http?: HttpCheck[];
  /** Keep the clone after the drill (it is torn down otherwise, whatever happened). */
  keep?: boolean;
}

// Validation heartbeats between checks and tables: a lost worker is noticed within a minute.
const { validateClone } = proxyActivities<DrillActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});
const { saveDrillReport } = proxyActivities<DrillActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
});
const { reportOperation } = proxyActivities<OperationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
});

export async function drDrill(input: DrillInput): Promise<DrillReport> {
  const id = workflowInfo().workflowId;
  const now = () => new Date().toISOString();
  const state: DrillState = { id, cloneId: input.cloneId, phase: 'cloning', startedAt: now() };
  setHandler(drillStateQuery, () => state);
  const phases: PhaseTiming[] = [];
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const phase: PhaseTiming = { name, startedAt: now() };
    phases.push(phase);
    try {
      return await work();
    } finally {
      phase.finishedAt = now();
    }
  };
  const report = (opState: 'running' | 'completed', outcome?: 'completed' | 'failed' | 'cancelled', message?: string) =>
    CancellationScope.nonCancellable(() => reportOperation({
      id, kind: 'drill', state: opState, requestedBy: input.requestedBy, ...(outcome ? { outcome } : {}), ...(message !== undefined ? { message } : {}),
    }));

  await report('running');
  let clone: CloneResult | undefined;
  let checks: CheckResult[] = [];
  let validatedAt: string | undefined;
  let cancelled = false;
  let failure: string | undefined;
  try {
    clone = await executeChild(cloneEnvironment, { workflowId: input.cloneId, args: [{ cloneId: input.cloneId, requestedBy: input.requestedBy }] });
    // The clone's own phases are the drill's first ones.
    phases.push(...clone.phases.map((p) => ({ ...p, name: `clone: ${p.name}` })));
    if (clone.outcome === 'cancelled') cancelled = true;
    else if (clone.outcome !== 'completed') failure = clone.message ?? clone.outcome;
    else {
      state.phase = 'validating';
      checks = await timed('validating', () => validateClone({
        cloneId: input.cloneId, copied: clone!.data.map((d) => ({ database: d.database, rows: d.rows })), http: input.http ?? [],
      }));
      if (checks.every((c) => c.ok)) validatedAt = now();
    }
  } catch (error) {
    if (isCancellation(error)) cancelled = true;
    else failure = messageOf(error);
  }
  if (CancellationScope.current().consideredCancelled) cancelled = true;

  // Always, even cancelled: the clone goes unless kept. Also when the clone did not end ready
  // (it removed itself, and the teardown finds it gone) or its end is unknown (a cancel that
  // raced its completion): the teardown is idempotent.
  const keep = input.keep === true && clone?.outcome === 'completed';
  let tornDown = false;
  if (!keep) {
    state.phase = 'tearing-down';
    await CancellationScope.nonCancellable(() => timed('tearing-down', async () => {
      try {
        const ended = await executeChild(teardownClone, {
          workflowId: `teardown-${input.cloneId}`, args: [{ cloneId: input.cloneId, requestedBy: input.requestedBy, reason: `DR drill ${id} done` }],
        });
        tornDown = ended.outcome === 'completed';
        if (!tornDown) failure ??= `teardown failed: ${ended.message ?? ''}`;
      } catch (error) {
        failure ??= `teardown failed: ${messageOf(error)}`;
      }
    }));
  }

  state.phase = 'reporting';
  const times = recoveryTimes(state.startedAt, validatedAt, (clone?.data ?? []).map((d) => d.snapshotAt));
  const objectives = input.objectives ?? {};
  const verdict = drillVerdict({ cancelled, ...(failure !== undefined ? { cloneFailure: failure } : {}), checks, times, objectives });
  const result: DrillReport = {
    id, source: clone?.source ?? '', clone: clone?.clone ?? '', cluster: clone?.cluster ?? '',
    ...(clone?.revision ? { revision: clone.revision } : {}),
    requestedBy: input.requestedBy, startedAt: state.startedAt, finishedAt: now(),
    outcome: verdict.outcome, ...(verdict.reason !== undefined ? { reason: verdict.reason } : {}),
    phases, checks, ...times, objectives, objectivesMet: verdict.objectivesMet,
    data: (clone?.data ?? []).map((d) => ({ database: d.database, mode: d.mode, rows: d.rows, bytes: d.bytes, ...(d.snapshotAt ? { snapshotAt: d.snapshotAt } : {}) })),
    kept: keep, tornDown,
  };
  await CancellationScope.nonCancellable(() => saveDrillReport({ report: result }));
  state.phase = 'done';
  state.outcome = result.outcome;
  await report('completed', result.outcome === 'passed' ? 'completed' : result.outcome, result.reason);
  return result;
}
