// The ScheduleClient over Temporal Schedules: each schedule starts complianceClone (clones and
// drills) or scheduledLifecycle (stops and starts) by type name, with overlap policy skip, so a
// run never starts while the previous one goes on.
import {
  type Client, isGrpcServiceError, ScheduleAlreadyRunning, ScheduleNotFoundError as TemporalScheduleNotFound, ScheduleOverlapPolicy,
  type ScheduleDescription, type ScheduleSummary as TemporalScheduleSummary, WorkflowNotFoundError,
} from '@temporalio/client';
import type { Tier } from '../domain/environment.js';
import { isLifecycleRun, scheduleWorkflowId, type ScheduledRunInput } from '../domain/schedule.js';
import {
  type NewSchedule, type ScheduleClient, ScheduleExistsError, ScheduleInvalidError, ScheduleNotFoundError, type ScheduleState, type ScheduleSummary, type ScheduleTiming,
  type ScheduledRun, summaryOf,
} from './schedule-client.js';

export const SCHEDULED_WORKFLOW = 'complianceClone';
export const SCHEDULED_LIFECYCLE_WORKFLOW = 'scheduledLifecycle';
const SCHEDULED_WORKFLOWS = new Set([SCHEDULED_WORKFLOW, SCHEDULED_LIFECYCLE_WORKFLOW]);

interface FlotillaMemo {
  timing: ScheduleTiming;
  tiers: Tier[];
  summary?: ScheduleSummary;
}

export function temporalSchedules(client: Client, taskQueue: string): ScheduleClient {
  const handle = (id: string) => client.schedule.getHandle(id);
  const known = async <T>(id: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof TemporalScheduleNotFound) throw new ScheduleNotFoundError(id);
      throw error;
    }
  };

  return {
    async create(s: NewSchedule) {
      try {
        await client.schedule.create({
          scheduleId: s.id,
          spec: s.timing.everySeconds !== undefined
            ? { intervals: [{ every: `${s.timing.everySeconds}s` }] }
            : { cronExpressions: [s.timing.cron!], ...(s.timing.timezone ? { timezone: s.timing.timezone } : {}) },
          action: {
            type: 'startWorkflow', workflowType: isLifecycleRun(s.input) ? SCHEDULED_LIFECYCLE_WORKFLOW : SCHEDULED_WORKFLOW,
            taskQueue, workflowId: scheduleWorkflowId(s.id), args: [s.input],
          },
          // A run missed while Temporal was down is made up within an hour, not replayed by the dozen.
          policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour', pauseOnFailure: false },
          state: { paused: s.paused, ...(s.note !== undefined ? { note: s.note } : {}) },
          memo: { flotilla: { timing: s.timing, tiers: s.tiers, summary: summaryOf(s.input) } satisfies FlotillaMemo },
        });
      } catch (error) {
        if (error instanceof ScheduleAlreadyRunning) throw new ScheduleExistsError(s.id);
        // The client reads the cron expression and time zone before sending (a TypeError: "Minute
        // is not in range [0-59]", "unknown time zone …"); the server may refuse too (INVALID_ARGUMENT).
        if (error instanceof TypeError) throw new ScheduleInvalidError(error.message);
        if (isGrpcServiceError(error) && error.code === 3) throw new ScheduleInvalidError(error.details || error.message);
        throw error;
      }
    },

    async list() {
      const out: ScheduleState[] = [];
      for await (const summary of client.schedule.list()) {
        if (!SCHEDULED_WORKFLOWS.has(summary.action?.workflowType ?? '')) continue;
        out.push(summaryState(summary));
      }
      return out.sort((a, b) => a.id.localeCompare(b.id));
    },

    async describe(id) {
      let d: ScheduleDescription;
      try {
        d = await handle(id).describe();
      } catch (error) {
        if (error instanceof TemporalScheduleNotFound) return undefined;
        throw error;
      }
      if (!SCHEDULED_WORKFLOWS.has(d.action.workflowType)) return undefined;
      const state = describedState(d);
      const last = state.recentRuns.at(-1);
      if (!last) return state;
      try {
        const run = client.workflow.getHandle(last.workflowId);
        const { status } = await run.describe();
        const result = status.name === 'COMPLETED' ? await run.result() : undefined;
        return { ...state, lastRun: { ...last, status: status.name, ...(result !== undefined ? { result } : {}) } };
      } catch (error) {
        // Its history is gone (retention): the run is only a time.
        if (error instanceof WorkflowNotFoundError) return state;
        throw error;
      }
    },

    pause: (id, note) => known(id, () => handle(id).pause(note)),
    unpause: (id, note) => known(id, () => handle(id).unpause(note)),
    trigger: (id) => known(id, () => handle(id).trigger(ScheduleOverlapPolicy.SKIP)),
    delete: (id) => known(id, () => handle(id).delete()),
  };
}

function runsOf(actions: readonly { scheduledAt: Date; takenAt: Date; action: { workflow: { workflowId: string } } }[]): ScheduledRun[] {
  return actions.map((a) => ({ workflowId: a.action.workflow.workflowId, scheduledAt: a.scheduledAt.toISOString(), startedAt: a.takenAt.toISOString() }));
}

function memoOf(memo: Record<string, unknown> | undefined): FlotillaMemo {
  const m = memo?.flotilla as Partial<FlotillaMemo> | undefined;
  return { timing: m?.timing ?? {}, tiers: m?.tiers ?? [], ...(m?.summary ? { summary: m.summary } : {}) };
}

function summaryState(s: TemporalScheduleSummary): ScheduleState {
  const memo = memoOf(s.memo);
  return {
    id: s.scheduleId, timing: memo.timing, tiers: memo.tiers, ...(memo.summary ? { summary: memo.summary } : {}), paused: s.state.paused, ...(s.state.note ? { note: s.state.note } : {}),
    nextRuns: s.state.paused ? [] : s.info.nextActionTimes.map((t) => t.toISOString()), recentRuns: runsOf(s.info.recentActions), running: [], runs: 0, skipped: 0,
  };
}

function describedState(d: ScheduleDescription): ScheduleState {
  const memo = memoOf(d.memo);
  return {
    id: d.scheduleId, timing: memo.timing, input: d.action.args?.[0] as ScheduledRunInput | undefined, tiers: memo.tiers,
    ...(memo.summary ? { summary: memo.summary } : {}),
    paused: d.state.paused, ...(d.state.note ? { note: d.state.note } : {}),
    // Temporal keeps computing them while paused; none of them will run.
    nextRuns: d.state.paused ? [] : d.info.nextActionTimes.map((t) => t.toISOString()),
    recentRuns: runsOf(d.info.recentActions),
    running: d.info.runningActions.map((a) => a.workflow.workflowId),
    runs: d.info.numActionsTaken, skipped: d.info.numActionsSkippedOverlap,
    createdAt: d.info.createdAt.toISOString(),
  };
}
