// The real promote workflow (and its deployEnvironment children) on Temporal's time-skipping
// test server, with stub activities: every branch — stages and their parallelism, approvals
// (timeout, reject, four eyes, role, N approvers, a double decision), pause/resume, cancel by
// signal and by Temporal's own cancel, each failure policy, refusals, continue-as-new, the
// rollback of a target that ran nothing before and the derived per-target timeout.
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromotionPlan } from '../../../activities/promotion-types.js';
import {
  approveUpdate, cancelSignal, pauseSignal, promotionStateQuery, rejectUpdate, resumeSignal,
  type ApprovalDecision, type PromotionState,
} from '../../../workflows/messages.js';
import { promote } from '../../../workflows/promote.js';
import type { PromoteInput } from '../../../workflows/promote-types.js';
import { recordHistory } from '../../support/histories.js';
import {
  sharedWorkflowBundle, startWorker, timeSkippingEnv, withWorker, type RunningWorker, type TestWorkerOptions, type WorkflowBundle,
} from '../../support/workflow-env.js';
import {
  type AllActivities, Calls, clonePlan, cloneStubs, deployStubs, Gate, permanent, promotionPlan, promotionStubs, recorded, refused, sleepMs, Switchboard, target, transient, until,
} from './stubs.js';

const bundle = sharedWorkflowBundle();
const recording = process.env.FLOTILLA_RECORD_HISTORIES !== undefined;
const board = new Switchboard();
let env: TestWorkflowEnvironment;
let workflowBundle: WorkflowBundle;
/** One worker for the file; a test that needs its own (another server, no cache) starts one. */
let shared: RunningWorker;
let runs = 0;

beforeAll(async () => {
  [env, workflowBundle] = await Promise.all([timeSkippingEnv(), bundle()]);
  shared = await startWorker(env, { activities: board.activities, workflowBundle });
}, 120_000);
afterAll(async () => {
  await shared?.stop();
  await env?.teardown();
});

type Handle = WorkflowHandle<typeof promote>;

interface Scenario {
  plan: PromotionPlan;
  /** Anything of the input besides source, requestedBy and stages s1, s2, … of the plan's targets. */
  input?: Partial<PromoteInput>;
  /** Replaces canned activities (each is still recorded). */
  stubs?: Partial<AllActivities>;
}

function inputOf(s: Scenario): PromoteInput {
  return {
    source: 'shop-staging',
    requestedBy: 'alice',
    stages: s.plan.stages.map((stage, i) => ({ name: `s${i + 1}`, targets: stage.targets.map((t) => t.environment) })),
    ...s.input,
  };
}

function activitiesOf(s: Scenario, calls: Calls): AllActivities {
  const stubs = {
    ...deployStubs(), ...promotionStubs(s.plan), ...cloneStubs(clonePlan()),
    async validateClone() { return []; },
    async saveDrillReport() {},
    async probeCluster() { throw new Error('not used'); },
    async installBaseline() { throw new Error('not used'); },
    async removeBaseline() { throw new Error('not used'); },
    async readCapacity() { throw new Error('not used'); },
    async setClusterStatus() {},
    async previousClones() { throw new Error('not used'); },
    async writeScheduledClone() { throw new Error('not used'); },
    async planTeardown() { throw new Error('not used'); },
    async removeEnvironmentObjects() { throw new Error('not used'); },
    async forgetEnvironment() { throw new Error('not used'); },
    async planOffboarding() { throw new Error('not used'); },
    async finishOffboarding() { throw new Error('not used'); },
    async planStopStart() { throw new Error('not used'); },
    async stopWorkloads() { throw new Error('not used'); },
    async startWorkloads() { throw new Error('not used'); },
    async markStarted() { throw new Error('not used'); },
    async lifecycleTargets() { throw new Error('not used'); },
    ...s.stubs,
  } satisfies AllActivities;
  return recorded(calls, stubs);
}

/**
 * Runs a promotion to its end: `drive` acts on it while it runs (time stands still then: the
 * test server skips time only while the test waits for the result).
 */
async function promotion(s: Scenario, drive?: (handle: Handle, calls: Calls) => Promise<void>, on?: TestWorkflowEnvironment) {
  const calls = new Calls();
  const workflowId = `promote-${++runs}-${Date.now()}`;
  const run = async (client: TestWorkflowEnvironment['client'], taskQueue: string) => {
    const handle = await client.workflow.start(promote, { taskQueue, workflowId, args: [inputOf(s)] });
    await drive?.(handle, calls);
    const result = await handle.result();
    const { status } = await handle.describe();
    return { result, calls, handle, workflowId, status: status.name };
  };
  if (on) return withWorker(on, { activities: activitiesOf(s, calls), workflowBundle }, (taskQueue) => run(on.client, taskQueue));
  board.use(activitiesOf(s, calls));
  return run(env.client, shared.taskQueue);
}

async function keep(name: string, handle: WorkflowHandle): Promise<void> {
  if (recording) await recordHistory(name, handle);
}

const stateOf = (handle: Handle) => handle.query(promotionStateQuery);
const awaitingApproval = (handle: Handle) => until('the promotion to wait for approval', async () => (await stateOf(handle)).phase === 'awaiting-approval');

/** What was recorded as deployed, in order: "environment kind revision". */
const deployments = (calls: Calls) => calls.of('recordDeployment').map((c) => `${String(c.environment)} ${String(c.kind)} ${String(c.revision)}`);
/** The environments a deploy was planned for, in order. */
const planned = (calls: Calls) => calls.of('planDeploy').map((c) => String(c.environment));
const targetPhases = (state: PromotionState) => Object.fromEntries(state.stages.flatMap((s) => s.targets.map((t) => [t.environment, t.phase])));

/** The promotion let go of its targets and reported how it ended. */
function expectEnded(run: { calls: Calls; workflowId: string; status: string }, outcome: string, message?: string) {
  expect(run.status).toBe('COMPLETED');
  expect(run.calls.of('releaseEnvironments')).toEqual([{ holder: run.workflowId }]);
  const reports = run.calls.of('reportOperation');
  expect(reports.at(-1)).toEqual({
    id: run.workflowId, kind: 'promotion', state: 'completed', requestedBy: 'alice', outcome,
    environments: expect.arrayContaining(['shop-staging']) as unknown,
    ...(message !== undefined ? { message } : {}),
  });
  // The lock is released first, then the end is reported (a client that sees the end may change
  // the targets at once), and nothing runs after it.
  expect(run.calls.names().slice(-2)).toEqual(['releaseEnvironments', 'reportOperation']);
}

/** The refusal of an Update: its failure type and message. */
async function refusal(update: Promise<unknown>): Promise<{ type?: string; message: string }> {
  try {
    await update;
  } catch (error) {
    expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (error as WorkflowUpdateFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    return { type: (cause as ApplicationFailure).type ?? undefined, message: (cause as ApplicationFailure).message };
  }
  throw new Error('the update was accepted');
}

const approve = (handle: Handle, decision: ApprovalDecision) => handle.executeUpdate(approveUpdate, { args: [decision] });

/** waitForRevision that fails (non-retryable) for these environments at rev-2, `times` times each. */
function failingWait(environments: string[], times = Infinity): Pick<AllActivities, 'waitForRevision'> {
  const failures = new Map<string, number>();
  const canned = deployStubs();
  return {
    async waitForRevision(input) {
      const n = failures.get(input.environment) ?? 0;
      if (environments.includes(input.environment) && input.revision === 'rev-2' && n < times) {
        failures.set(input.environment, n + 1);
        throw permanent(`Deployment web: pod web-1 ImagePullBackOff (${input.environment})`, 'RolloutFailed');
      }
      return canned.waitForRevision(input);
    },
  };
}

/** waitForRevision that holds at `gate` for one environment's promotion deploy. */
function gatedWait(environment: string, gate: Gate): Pick<AllActivities, 'waitForRevision'> {
  const canned = deployStubs();
  return {
    async waitForRevision(input) {
      if (input.environment === environment && input.revision === 'rev-2') await gate.pass();
      return canned.waitForRevision(input);
    },
  };
}

describe('promote: a promotion that goes through', () => {
  it('runs the stages in order, deploys each target once with its pinned overrides, releases the lock and reports "completed"', async () => {
    const plan = promotionPlan([[target('a')], [target('b'), target('c', { waits: 3 })]]);
    const run = await promotion({ plan, input: { stages: [{ name: 's1', targets: ['a'] }, { name: 's2', targets: ['b', 'c'], maxParallel: 1 }] } });

    expect(run.result).toMatchObject({ outcome: 'completed', phase: 'completed', revision: 'rev-2', source: 'shop-staging', requestedBy: 'alice' });
    expect(run.result.stages.map((s) => s.phase)).toEqual(['succeeded', 'succeeded']);
    expect(targetPhases(run.result)).toEqual({ a: 'succeeded', b: 'succeeded', c: 'succeeded' });
    expect(deployments(run.calls)).toEqual(['a promotion rev-2', 'b promotion rev-2', 'c promotion rev-2']);
    // Each child deploys the plan's revision with the target's overrides version pinned at planning.
    expect(run.calls.of('planDeploy').map(({ environment, revision, overridesVersion }) => ({ environment, revision, overridesVersion }))).toEqual([
      { environment: 'a', revision: 'rev-2', overridesVersion: 2 },
      { environment: 'b', revision: 'rev-2', overridesVersion: 2 },
      { environment: 'c', revision: 'rev-2', overridesVersion: 2 },
    ]);
    // One lock for every target, taken once by the promotion (its children hold none of their own).
    expect(run.calls.of('acquireEnvironments')).toEqual([{ holder: run.workflowId, environments: ['a', 'b', 'c'] }]);
    expect(run.calls.of('reportOperation').map((r) => r.state)).toEqual(['running', 'completed']);
    expectEnded(run, 'completed');
    // Derived per-target limits: waits × (600 s + 60 s) + 120 s.
    const events = (await run.handle.fetchHistory()).events ?? [];
    const limits = events.flatMap((e) => {
      const started = e.startChildWorkflowExecutionInitiatedEventAttributes;
      return started ? [[started.workflowId, Number(started.workflowExecutionTimeout?.seconds)]] : [];
    });
    expect(limits).toEqual([[`${run.workflowId}/a`, 780], [`${run.workflowId}/b`, 780], [`${run.workflowId}/c`, 2100]]);
  }, 30_000);

  it('changes at most maxParallel targets of a stage at once (1, then 3)', async () => {
    const plan = promotionPlan([[target('a'), target('b'), target('c')], [target('d'), target('e'), target('f')]]);
    const stageOf: Record<string, number> = { a: 0, b: 0, c: 0, d: 1, e: 1, f: 1 };
    const inFlight = [0, 0];
    const most = [0, 0];
    const spans: { environment: string; start: number; end: number }[] = [];
    const canned = deployStubs();
    const run = await promotion({
      plan,
      input: { stages: [{ name: 's1', targets: ['a', 'b', 'c'], maxParallel: 1 }, { name: 's2', targets: ['d', 'e', 'f'], maxParallel: 3 }] },
      stubs: {
        // Each rollout takes until its whole stage is in flight, or 150 ms: parallel deploys overlap.
        async waitForRevision(input) {
          const stage = stageOf[input.environment]!;
          const start = performance.now();
          inFlight[stage]! += 1;
          most[stage] = Math.max(most[stage]!, inFlight[stage]!);
          const deadline = start + 150;
          while (inFlight[stage]! < 3 && performance.now() < deadline) await sleepMs(5);
          await sleepMs(20);
          inFlight[stage]! -= 1;
          spans.push({ environment: input.environment, start, end: performance.now() });
          return canned.waitForRevision(input);
        },
      },
    });

    expect(run.result.outcome).toBe('completed');
    expect(most).toEqual([1, 3]);
    expect(planned(run.calls).slice(0, 3)).toEqual(['a', 'b', 'c']);
    // Stage 2 starts only after every target of stage 1 has finished.
    const lastOfFirst = Math.max(...spans.filter((s) => stageOf[s.environment] === 0).map((s) => s.end));
    const firstOfSecond = Math.min(...spans.filter((s) => stageOf[s.environment] === 1).map((s) => s.start));
    expect(firstOfSecond).toBeGreaterThan(lastOfFirst);
    expectEnded(run, 'completed');
  }, 30_000);
});

describe('promote: approvals', () => {
  const approvalPlan = (approval: PromotionPlan['stages'][number]['approval']) =>
    promotionPlan([[target('a')], [target('b')]], [{ required: false, fourEyes: false }, approval]);

  it('an approval that does not come in time cancels the promotion: nothing after it is deployed, earlier targets roll back', async () => {
    const run = await promotion({ plan: approvalPlan({ required: true, fourEyes: false }), input: { approvalTimeoutSeconds: 3600 } });

    expect(run.result.outcome).toBe('cancelled');
    expect(run.result.message).toBe('no approval for stage "s2" within 3600s');
    expect(planned(run.calls)).toEqual(['a', 'a']);
    expect(deployments(run.calls)).toEqual(['a promotion rev-2', 'a rollback rev-1']);
    expect(targetPhases(run.result)).toEqual({ a: 'rolled-back', b: 'skipped' });
    expect(run.result.stages.map((st) => st.phase)).toEqual(['succeeded', 'skipped']);
    expect(run.calls.of('reportOperation').map((r) => r.state)).toEqual(['running', 'waiting', 'running', 'completed']);
    expectEnded(run, 'cancelled', 'no approval for stage "s2" within 3600s');
    // The wait was the approval timeout, in skipped time.
    const timers = ((await run.handle.fetchHistory()).events ?? []).flatMap((e) => e.timerStartedEventAttributes ? [Number(e.timerStartedEventAttributes.startToFireTimeout?.seconds)] : []);
    expect(timers).toEqual([3600]);
    await keep('promote-approval-timeout', run.handle);
  }, 30_000);

  it('a rejection ends it as "rejected" and rolls back what the earlier stages changed', async () => {
    let answer: PromotionState | undefined;
    const run = await promotion({ plan: approvalPlan({ required: true, fourEyes: false }) }, async (handle) => {
      await awaitingApproval(handle);
      answer = await handle.executeUpdate(rejectUpdate, { args: [{ by: 'bob', role: 'release-manager', comment: 'not on a Friday' }] });
    });

    expect(answer?.stages[1]?.approval).toMatchObject({ rejectedBy: 'bob', comment: 'not on a Friday' });
    expect(run.result.outcome).toBe('rejected');
    expect(run.result.message).toBe('stage "s2" rejected by bob: not on a Friday');
    expect(run.result.stages[1]?.phase).toBe('skipped');
    expect(deployments(run.calls)).toEqual(['a promotion rev-2', 'a rollback rev-1']);
    expect(planned(run.calls)).not.toContain('b');
    expectEnded(run, 'rejected', 'stage "s2" rejected by bob: not on a Friday');
    await keep('promote-reject', run.handle);
  }, 30_000);

  it('four eyes: the requester cannot approve (FourEyes); someone else can', async () => {
    let refused: { type?: string; message: string } | undefined;
    const run = await promotion({ plan: approvalPlan({ required: true, fourEyes: true }) }, async (handle) => {
      await awaitingApproval(handle);
      refused = await refusal(approve(handle, { by: 'alice', role: 'admin' }));
      expect((await stateOf(handle)).stages[1]?.approval?.approvals).toEqual([]);
      await approve(handle, { by: 'bob', role: 'release-manager' });
    });

    expect(refused).toEqual({ type: 'FourEyes', message: 'four eyes: alice requested this promotion and cannot also approve it' });
    expect(run.result.outcome).toBe('completed');
    expect(run.result.stages[1]?.approval).toMatchObject({ approvedBy: 'bob', approvals: [{ by: 'bob' }] });
    expect(deployments(run.calls)).toEqual(['a promotion rev-2', 'b promotion rev-2']);
    expectEnded(run, 'completed');
  }, 30_000);

  it('without four eyes the requester may approve; a viewer or operator may not (ApproverRole)', async () => {
    const refusals: ({ type?: string; message: string })[] = [];
    const run = await promotion({ plan: approvalPlan({ required: true, fourEyes: false }) }, async (handle) => {
      await awaitingApproval(handle);
      refusals.push(await refusal(approve(handle, { by: 'olga', role: 'operator' })));
      refusals.push(await refusal(handle.executeUpdate(rejectUpdate, { args: [{ by: 'vic', role: 'viewer' }] })));
      expect((await stateOf(handle)).phase).toBe('awaiting-approval');
      await approve(handle, { by: 'alice', role: 'release-manager' });
    });

    expect(refusals).toEqual([
      { type: 'ApproverRole', message: 'approving needs role release-manager or admin; olga has operator' },
      { type: 'ApproverRole', message: 'approving needs role release-manager or admin; vic has viewer' },
    ]);
    expect(run.result.outcome).toBe('completed');
    expect(run.result.stages[1]?.approval?.approvedBy).toBe('alice');
    expectEnded(run, 'completed');
  }, 30_000);

  it('N approvers: the first of two approvals leaves it waiting, the same approver again is refused (AlreadyApproved), a second one lets it go on', async () => {
    let afterFirst: PromotionState | undefined;
    let again: { type?: string; message: string } | undefined;
    let deployedBeforeSecond: string[] = [];
    const run = await promotion({ plan: approvalPlan({ required: true, fourEyes: true, count: 2 }) }, async (handle, calls) => {
      await awaitingApproval(handle);
      afterFirst = await approve(handle, { by: 'bob', role: 'release-manager', comment: 'looks good' });
      again = await refusal(approve(handle, { by: 'bob', role: 'admin' }));
      await sleepMs(200);
      expect((await stateOf(handle)).phase).toBe('awaiting-approval');
      deployedBeforeSecond = planned(calls);
      await approve(handle, { by: 'carol', role: 'admin' });
    });

    expect(afterFirst?.phase).toBe('awaiting-approval');
    expect(afterFirst?.stages[1]?.approval).toMatchObject({ needed: 2, approvals: [{ by: 'bob', comment: 'looks good' }] });
    expect(afterFirst?.stages[1]?.approval?.approvedBy).toBeUndefined();
    expect(again).toEqual({ type: 'AlreadyApproved', message: 'bob has already approved stage "s2"; it needs 2 distinct approvers' });
    expect(deployedBeforeSecond).toEqual(['a']);
    expect(run.result.outcome).toBe('completed');
    expect(run.result.stages[1]?.approval).toMatchObject({ approvedBy: 'carol', approvals: [{ by: 'bob' }, { by: 'carol' }] });
    expect(deployments(run.calls)).toEqual(['a promotion rev-2', 'b promotion rev-2']);
    expectEnded(run, 'completed');
  }, 30_000);

  it('two decisions in one workflow task: exactly one is accepted, the other is refused (AlreadyDecided)', async () => {
    // Its own test server: a worker without a cache replays every task, slowly on a loaded
    // machine; whatever it leaves running must not stall the shared server's later tests.
    const own = await timeSkippingEnv();
    try {
      // No worker runs while both Updates reach the server, and the worker keeps no workflow
      // cache (no sticky queue), so the next worker gets both in one workflow task.
      const taskQueue = `promote-double-decision-${Date.now()}`;
      // One stage, approval first: few workflow tasks to replay (this worker keeps no cache).
      const scenario: Scenario = { plan: promotionPlan([[target('b')]], [{ required: true, fourEyes: false }]) };
      const worker: TestWorkerOptions['worker'] = { maxCachedWorkflows: 0 };
      const calls = new Calls();
      const activities = activitiesOf(scenario, calls);
      const workflowId = `promote-double-decision-${Date.now()}`;
      const handle = await withWorker(own, { activities, workflowBundle, taskQueue, worker }, async () => {
        const started = await own.client.workflow.start(promote, { taskQueue, workflowId, args: [inputOf(scenario)] });
        await until('the promotion to wait for approval', async () => (await stateOf(started)).phase === 'awaiting-approval', 60_000);
        // ... and its last workflow task is done (none is left half-taken by the worker that stops).
        await until('the workflow task after the approval request to complete', async () =>
          ((await started.fetchHistory()).events ?? []).at(-1)?.workflowTaskCompletedEventAttributes !== undefined
          && calls.of('reportOperation').some((r) => r.state === 'waiting'), 60_000);
        return started;
      });
      const settle = (p: Promise<PromotionState>) => p.then((state) => ({ state }), (error: unknown) => ({ error }));
      const both = Promise.all([
        settle(approve(handle, { by: 'bob', role: 'release-manager' })),
        settle(handle.executeUpdate(rejectUpdate, { args: [{ by: 'carol', role: 'admin' }] })),
      ]);
      await sleepMs(300);
      const { decisions, result, status } = await withWorker(own, { activities, workflowBundle, taskQueue, worker }, async () => {
        const decisions = await both;
        const result = await handle.result();
        return { decisions, result, status: (await handle.describe()).status.name };
      });

      const accepted = decisions.filter((d) => 'state' in d);
      const refusals = await Promise.all(decisions.filter((d) => 'error' in d).map((d) => refusal(Promise.reject((d as { error: unknown }).error))));
      expect(accepted).toHaveLength(1);
      expect(refusals).toHaveLength(1);
      expect(refusals[0]?.type).toBe('AlreadyDecided');
      const approval = result.stages[0]!.approval!;
      // Exactly one decision in the state: bob's approval or carol's rejection, never both.
      const recorded = [approval.approvedBy, approval.rejectedBy].filter((by) => by !== undefined);
      expect(recorded).toHaveLength(1);
      if (approval.approvedBy) {
        expect(approval.approvals).toEqual([{ by: 'bob', at: expect.any(String) as unknown }]);
        expect(result.outcome).toBe('completed');
        expect(refusals[0]?.message).toBe('stage "s1" is already approved (by bob)');
      } else {
        expect(approval.rejectedBy).toBe('carol');
        expect(approval.approvals).toEqual([]);
        expect(result.outcome).toBe('rejected');
        expect(refusals[0]?.message).toBe('stage "s1" is already rejected (by carol)');
      }
      // Both arrived in one workflow task: one task completion carries the accepted one.
      const events = (await handle.fetchHistory()).events ?? [];
      expect(events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toHaveLength(1);
      expectEnded({ calls, workflowId, status }, result.outcome!, result.message);
    } finally {
      await own.teardown();
    }
  }, 120_000);

  it('an approval while no stage waits for one is refused (NotAwaitingApproval)', async () => {
    const gate = new Gate();
    let refused: { type?: string; message: string } | undefined;
    const run = await promotion({ plan: approvalPlan({ required: true, fourEyes: false }), stubs: gatedWait('a', gate) }, async (handle) => {
      await until('a to be deploying', () => gate.reached);
      refused = await refusal(approve(handle, { by: 'bob', role: 'release-manager' }));
      gate.open();
      await awaitingApproval(handle);
      await approve(handle, { by: 'bob', role: 'release-manager' });
    });

    expect(refused).toEqual({ type: 'NotAwaitingApproval', message: 'no stage is waiting for approval' });
    expect(run.result.outcome).toBe('completed');
    expectEnded(run, 'completed');
  }, 30_000);
});

describe('promote: pause, resume and cancel', () => {
  it('pause holds back every new target until resume', async () => {
    const gate = new Gate();
    let plannedWhilePaused: string[] = [];
    const run = await promotion({
      plan: promotionPlan([[target('a'), target('b'), target('c')]]),
      input: { stages: [{ name: 's1', targets: ['a', 'b', 'c'], maxParallel: 1 }] },
      stubs: gatedWait('a', gate),
    }, async (handle, calls) => {
      await until('a to be deploying', () => gate.reached);
      await handle.signal(pauseSignal, { by: 'bob' });
      await until('the pause to arrive', async () => (await stateOf(handle)).paused);
      gate.open();
      await until('the promotion to be paused', async () => (await stateOf(handle)).phase === 'paused');
      await sleepMs(300);
      plannedWhilePaused = planned(calls);
      const state = await stateOf(handle);
      expect(targetPhases(state)).toEqual({ a: 'succeeded', b: 'pending', c: 'pending' });
      await handle.signal(resumeSignal, { by: 'bob' });
    });

    expect(plannedWhilePaused).toEqual(['a']);
    expect(run.result.outcome).toBe('completed');
    expect(run.result.paused).toBe(false);
    expect(deployments(run.calls)).toEqual(['a promotion rev-2', 'b promotion rev-2', 'c promotion rev-2']);
    expect(run.calls.of('reportOperation').map((r) => r.state)).toEqual(['running', 'paused', 'running', 'completed']);
    expectEnded(run, 'completed');
    await keep('promote-pause-resume', run.handle);
  }, 30_000);

  const cancelScenario = (gate: Gate): Scenario => ({
    plan: promotionPlan([[target('a')], [target('b'), target('c'), target('d')]]),
    input: { stages: [{ name: 's1', targets: ['a'] }, { name: 's2', targets: ['b', 'c', 'd'], maxParallel: 1 }] },
    stubs: gatedWait('c', gate),
  });

  it('the cancel signal stops new targets and rolls back every changed one, newest first; the workflow completes as "cancelled"', async () => {
    const gate = new Gate();
    const run = await promotion(cancelScenario(gate), async (handle) => {
      await until('c to be deploying', () => gate.reached);
      await handle.signal(cancelSignal, { by: 'bob', reason: 'wrong build' });
      gate.open();
    });

    expect(run.result.outcome).toBe('cancelled');
    expect(run.result.message).toBe('wrong build');
    expect(deployments(run.calls)).toEqual([
      'a promotion rev-2', 'b promotion rev-2', 'c promotion rev-2',
      'c rollback rev-1', 'b rollback rev-1', 'a rollback rev-1',
    ]);
    expect(planned(run.calls)).not.toContain('d');
    expect(targetPhases(run.result)).toEqual({ a: 'rolled-back', b: 'rolled-back', c: 'rolled-back', d: 'skipped' });
    expectEnded(run, 'cancelled', 'wrong build');
    await keep('promote-cancel-signal', run.handle);
  }, 30_000);

  it("Temporal's own cancel rolls back like the signal, newest first, and the workflow completes as \"cancelled\"", async () => {
    // Its own test server: c's rollout activity is abandoned mid-run (the child is cancelled
    // without waiting for it), and the test server then keeps time skipping locked for good,
    // which would stall every later test that needs skipped time.
    const own = await timeSkippingEnv();
    const gate = new Gate();
    let history: unknown;
    const run = await promotion(cancelScenario(gate), async (handle) => {
      await until('c to be deploying', () => gate.reached);
      await handle.cancel();
      await until('the rollback to start', async () => (await stateOf(handle)).phase === 'rolling-back');
      gate.open();
    }, own).then(async (done) => {
      await keep('promote-native-cancel', done.handle);
      history = await done.handle.fetchHistory();
      return done;
    }).finally(() => own.teardown());

    expect(run.result.outcome).toBe('cancelled');
    expect(run.result.message).toBe('cancelled through Temporal (workflow cancel request)');
    // c's own deploy was cancelled mid-rollout, so it never recorded; it is rolled back all the same.
    expect(deployments(run.calls)).toEqual([
      'a promotion rev-2', 'b promotion rev-2',
      'c rollback rev-1', 'b rollback rev-1', 'a rollback rev-1',
    ]);
    expect(planned(run.calls)).not.toContain('d');
    expect(targetPhases(run.result)).toEqual({ a: 'rolled-back', b: 'rolled-back', c: 'rolled-back', d: 'skipped' });
    expect(run.result.stages.map((st) => st.phase)).not.toContain('running');
    expectEnded(run, 'cancelled', 'cancelled through Temporal (workflow cancel request)');
    // Temporal's cancel request is in the history, and the workflow completed after it.
    const events = (history as Awaited<ReturnType<Handle['fetchHistory']>>).events ?? [];
    expect(events.some((e) => e.workflowExecutionCancelRequestedEventAttributes)).toBe(true);
    expect(events.at(-1)?.workflowExecutionCompletedEventAttributes).toBeTruthy();
  }, 30_000);
});

describe('promote: a native cancel seen with the last health check', () => {
  it('a cancel that reaches the workflow in the same workflow task as its last health check still rolls everything back → "cancelled"', async () => {
    // The chaos test's case (seed 988549): the worker died after Temporal had the cancel and
    // before it had run a workflow task with it; the health check finished meanwhile. The next
    // worker gets both in one activation. A cancel that arrives before the promotion has
    // decided how it ends must win, whatever order the activation lists them in.
    const own = await timeSkippingEnv();
    const gate = new Gate();
    const s: Scenario = {
      plan: promotionPlan([[target('a'), target('b')]]),
      input: { stages: [{ name: 's1', targets: ['a', 'b'], maxParallel: 1 }] },
      stubs: {
        async checkHealth({ environment }) {
          if (environment === 'b') await gate.pass();
          return { healthy: true };
        },
      },
    };
    const calls = new Calls();
    const taskQueue = `cancel-with-health-${Date.now()}`;
    const workflowId = `promote-cancel-with-health-${Date.now()}`;
    // Activities on a worker of their own, so the workflow worker can be stopped while one runs;
    // no workflow cache, so the next workflow worker replays from the history alone.
    const activityWorker = await Worker.create({ connection: own.nativeConnection, namespace: own.namespace ?? 'default', taskQueue, activities: activitiesOf(s, calls) });
    const activitiesRunning = activityWorker.run();
    // The catalog steps are local activities: the workflow workers run them.
    const workflowWorker = () => Worker.create({
      connection: own.nativeConnection, namespace: own.namespace ?? 'default', taskQueue, workflowBundle, maxCachedWorkflows: 0, activities: activitiesOf(s, calls), enableNonLocalActivities: false,
    });
    try {
      const first = await workflowWorker();
      const firstRunning = first.run();
      const handle = await own.client.workflow.start(promote, { taskQueue, workflowId, args: [inputOf(s)] });
      // Without a cache each local catalog step's result waits out a workflow task timeout (10 s).
      await until("b's health check to be running", () => gate.reached, 45_000);
      first.shutdown();
      await firstRunning;
      await handle.cancel();
      gate.open();
      await until("b's health check to be done, after the cancel request", async () => {
        const events = (await handle.fetchHistory()).events ?? [];
        const health = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'checkHealth').map((e) => String(e.eventId)));
        const cancelAt = events.findIndex((e) => e.workflowExecutionCancelRequestedEventAttributes);
        return cancelAt >= 0 && events.slice(cancelAt).some((e) => health.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId)));
      });
      const second = await workflowWorker();
      const result = await second.runUntil(() => handle.result());
      expect(result.outcome).toBe('cancelled');
      expect(result.message).toBe('cancelled through Temporal (workflow cancel request)');
      expect(deployments(calls)).toEqual(['a promotion rev-2', 'b promotion rev-2', 'b rollback rev-1', 'a rollback rev-1']);
      expect(targetPhases(result)).toEqual({ a: 'rolled-back', b: 'rolled-back' });
      await keep('promote-native-cancel-with-last-health-check', handle);
    } finally {
      activityWorker.shutdown();
      await activitiesRunning;
      await own.teardown();
    }
  }, 120_000);
});

describe('promote: failure policies', () => {
  const failed = (environment: string) => `Deployment web: pod web-1 ImagePullBackOff (${environment})`;

  it('rollback (the default): a failed target stops the stage and rolls back every changed target, newest first → "rolled-back"', async () => {
    const run = await promotion({
      plan: promotionPlan([[target('a')], [target('b'), target('c'), target('d')]]),
      input: { stages: [{ name: 's1', targets: ['a'] }, { name: 's2', targets: ['b', 'c', 'd'], maxParallel: 1 }] },
      stubs: failingWait(['c']),
    });

    const message = `stage "s2" failed: c: ${failed('c')}`;
    expect(run.result.outcome).toBe('rolled-back');
    expect(run.result.message).toBe(message);
    expect(deployments(run.calls)).toEqual(['a promotion rev-2', 'b promotion rev-2', 'c rollback rev-1', 'b rollback rev-1', 'a rollback rev-1']);
    expect(planned(run.calls)).not.toContain('d');
    expect(targetPhases(run.result)).toEqual({ a: 'rolled-back', b: 'rolled-back', c: 'rolled-back', d: 'skipped' });
    expect(run.result.stages[1]?.phase).toBe('failed');
    expectEnded(run, 'rolled-back', message);
    await keep('promote-rolled-back', run.handle);
  }, 30_000);

  it('rollback of a target that ran nothing before removes what Flotilla created and records the undeploy (no deploy child)', async () => {
    const run = await promotion({
      plan: promotionPlan([[target('fresh', { previousRevision: undefined, previousOverridesVersion: undefined, previousDesired: 'rev-1' })], [target('b')]]),
      stubs: failingWait(['b']),
    });

    expect(run.result.outcome).toBe('rolled-back');
    expect(run.calls.of('removeDeployment')).toEqual([{ environment: 'fresh' }]);
    expect(run.calls.of('recordUndeploy')).toEqual([{ environment: 'fresh', revision: 'rev-2', requestedBy: 'alice', operationId: run.workflowId, desired: 'rev-1' }]);
    // fresh: only its promotion was planned and recorded; b (which ran rev-1) went back through a deploy.
    expect(planned(run.calls)).toEqual(['fresh', 'b', 'b']);
    expect(deployments(run.calls)).toEqual(['fresh promotion rev-2', 'b rollback rev-1']);
    const order = run.calls.names().filter((n) => n === 'removeDeployment' || n === 'recordUndeploy' || n === 'recordDeployment');
    expect(order).toEqual(['recordDeployment', 'recordDeployment', 'removeDeployment', 'recordUndeploy']);
    expect(targetPhases(run.result)).toEqual({ fresh: 'rolled-back', b: 'rolled-back' });
    expectEnded(run, 'rolled-back', `stage "s2" failed: b: ${failed('b')}`);
  }, 30_000);

  it('pause: a failed target waits for a human; resume retries it and the promotion completes', async () => {
    const run = await promotion({
      plan: promotionPlan([[target('a'), target('b'), target('c')]]),
      input: { failurePolicy: 'pause', stages: [{ name: 's1', targets: ['a', 'b', 'c'], maxParallel: 1 }] },
      stubs: failingWait(['b'], 1),
    }, async (handle) => {
      await until('the promotion to pause on the failure', async () => (await stateOf(handle)).phase === 'paused');
      const state = await stateOf(handle);
      expect(state.message).toBe(`stage "s1" failed: b: ${failed('b')}; resume to retry, cancel to roll back`);
      expect(targetPhases(state)).toEqual({ a: 'succeeded', b: 'failed', c: 'succeeded' });
      await handle.signal(resumeSignal, { by: 'bob' });
    });

    expect(run.result.outcome).toBe('completed');
    expect(planned(run.calls)).toEqual(['a', 'b', 'c', 'b']);
    expect(deployments(run.calls)).toEqual(['a promotion rev-2', 'c promotion rev-2', 'b promotion rev-2']);
    expect(targetPhases(run.result)).toEqual({ a: 'succeeded', b: 'succeeded', c: 'succeeded' });
    expect(run.calls.of('reportOperation').map((r) => r.state)).toEqual(['running', 'paused', 'running', 'completed']);
    expectEnded(run, 'completed');
  }, 30_000);

  it('pause: cancel instead of resume rolls back every changed target, newest first → "cancelled"', async () => {
    const run = await promotion({
      plan: promotionPlan([[target('a'), target('b'), target('c')]]),
      input: { failurePolicy: 'pause', stages: [{ name: 's1', targets: ['a', 'b', 'c'], maxParallel: 1 }] },
      stubs: failingWait(['b'], 1),
    }, async (handle) => {
      await until('the promotion to pause on the failure', async () => (await stateOf(handle)).phase === 'paused');
      await handle.signal(cancelSignal, { by: 'bob' });
    });

    expect(run.result.outcome).toBe('cancelled');
    expect(run.result.message).toBe('cancelled by bob');
    expect(deployments(run.calls)).toEqual(['a promotion rev-2', 'c promotion rev-2', 'c rollback rev-1', 'b rollback rev-1', 'a rollback rev-1']);
    expect(targetPhases(run.result)).toEqual({ a: 'rolled-back', b: 'rolled-back', c: 'rolled-back' });
    expectEnded(run, 'cancelled', 'cancelled by bob');
  }, 30_000);

  it('continue: a failed target is noted and passed over → "completed-with-failures"', async () => {
    const run = await promotion({
      plan: promotionPlan([[target('a'), target('b')], [target('c')]]),
      input: { failurePolicy: 'continue' },
      stubs: failingWait(['b']),
    });

    expect(run.result.outcome).toBe('completed-with-failures');
    expect(deployments(run.calls).sort()).toEqual(['a promotion rev-2', 'c promotion rev-2']);
    expect(targetPhases(run.result)).toEqual({ a: 'succeeded', b: 'failed', c: 'succeeded' });
    expect(run.result.stages.map((s) => s.phase)).toEqual(['failed', 'succeeded']);
    expect(run.result.stages[0]?.targets[1]?.error).toBe(failed('b'));
    expect(run.calls.of('removeDeployment')).toEqual([]);
    expectEnded(run, 'completed-with-failures');
  }, 30_000);

  it('a target whose deploy outlasts the derived per-target timeout fails, saying which timeout fired', async () => {
    // rolloutTimeoutSeconds 1 and one rollout wait: 1 × (1 + 60) + 120 = 181 s of workflow time.
    // The child spends it in retry backoffs (time the test server skips): its databases' apply
    // fails six times (61 s), then the cluster refuses every apply of the workloads (1 s, 2 s, …
    // 30 s apart) — the child has not given up when the target timeout fires. (Planning is a
    // local activity now, whose short backoffs are real time: the delay comes from cluster steps.)
    const canned = deployStubs(() => ({ hasDatabases: true }));
    let databaseApplies = 0;
    const run = await promotion({
      plan: promotionPlan([[target('slow', { waits: 1 })]]),
      input: { failurePolicy: 'continue', rolloutTimeoutSeconds: 1 },
      stubs: {
        planDeploy: canned.planDeploy,
        async applyRevision(input) {
          const refused = input.revision === 'rev-2' && (input.phase === 'all' || ++databaseApplies <= 6);
          if (refused) throw transient('connect ECONNREFUSED 10.0.0.1:6443');
          return canned.applyRevision(input);
        },
      },
    });

    expect(run.result.outcome).toBe('completed-with-failures');
    expect(run.result.stages[0]?.targets[0]).toMatchObject({ phase: 'failed', error: 'target timeout (181s) fired before the deploy finished' });
    expect(deployments(run.calls)).toEqual([]);
    const events = (await run.handle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.childWorkflowExecutionTimedOutEventAttributes)).toHaveLength(1);
    expectEnded(run, 'completed-with-failures');
  }, 30_000);
});

describe('promote: refusals', () => {
  it('organisation rules refuse the change → "rejected", nothing deployed, the lock released', async () => {
    const run = await promotion({ plan: promotionPlan([[target('a')]], [], refused) });

    const message = 'refused by organisation rules: forbidLatestTag (service/shop/web spec.app.services[0].image): image tag "latest" is not allowed';
    expect(run.result.outcome).toBe('rejected');
    expect(run.result.message).toBe(message);
    expect(run.calls.of('planDeploy')).toEqual([]);
    expect(targetPhases(run.result)).toEqual({});
    expectEnded(run, 'rejected', message);
  }, 30_000);

  it('a target held by another operation → "rejected" naming the holder; nothing planned, no release of locks it never had', async () => {
    const busy = 'environment "b" is busy: held by deploy-b-42 (deploy, started 2026-11-30T10:00:00Z)';
    const run = await promotion({
      plan: promotionPlan([[target('a'), target('b')]]),
      stubs: { async acquireEnvironments() { throw permanent(busy, 'EnvironmentBusy'); } },
    });

    expect(run.status).toBe('COMPLETED');
    expect(run.result.outcome).toBe('rejected');
    expect(run.result.message).toBe(busy);
    expect(run.result.message).toContain('deploy-b-42');
    expect(run.calls.names()).toEqual(['acquireEnvironments', 'reportOperation']);
    expect(run.calls.of('reportOperation')).toEqual([{
      id: run.workflowId, kind: 'promotion', state: 'completed', outcome: 'rejected', message: busy, requestedBy: 'alice', environments: ['shop-staging', 'a', 'b'],
    }]);
    expect(run.calls.of('releaseEnvironments')).toEqual([]);
  }, 30_000);
});

describe('promote: bounded history', () => {
  it('continues as new between stages once its history is long; the result has the whole plan', async () => {
    const run = await promotion({ plan: promotionPlan([[target('a')], [target('b')], [target('c')]]), input: { maxHistoryEvents: 1 } });

    expect(run.result.outcome).toBe('completed');
    expect(run.result.revision).toBe('rev-2');
    expect(run.result.stages.map((s) => [s.name, s.phase, s.targets.map((t) => `${t.environment}:${t.phase}`)])).toEqual([
      ['s1', 'succeeded', ['a:succeeded']], ['s2', 'succeeded', ['b:succeeded']], ['s3', 'succeeded', ['c:succeeded']],
    ]);
    expect(deployments(run.calls)).toEqual(['a promotion rev-2', 'b promotion rev-2', 'c promotion rev-2']);
    // Planned, locked and released once across the runs.
    expect(run.calls.of('planPromotion')).toHaveLength(1);
    expect(run.calls.of('acquireEnvironments')).toHaveLength(1);
    expectEnded(run, 'completed');

    // Three runs: after stage 1, after stage 2, none after the last.
    const runIds: string[] = [run.handle.firstExecutionRunId];
    for (;;) {
      const events = (await env.client.workflow.getHandle(run.workflowId, runIds.at(-1)).fetchHistory()).events ?? [];
      const next = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
      if (!next) break;
      runIds.push(next);
    }
    expect(runIds).toHaveLength(3);
    await keep('promote-continue-as-new', env.client.workflow.getHandle(run.workflowId, run.handle.firstExecutionRunId));
  }, 30_000);
});

describe('promote: a native cancel while the targets are freed', () => {
  it('a cancel that arrives once the promotion has decided it completed, while it frees its targets, changes nothing: completed, freed and reported once', async () => {
    // The release was a local activity: it ran (freeing the locks) inside the workflow task that
    // completes the promotion; the server refused that task because the cancel had arrived, the
    // replay saw the cancel with the last health check and rolled back holding no lock at all.
    const gate = new Gate(20_000);
    const s: Scenario = {
      plan: promotionPlan([[target('a'), target('b')]]),
      stubs: {
        async releaseEnvironments() {
          await gate.pass();
        },
      },
    };
    const run = await promotion(s, async (handle) => {
      await until('the release of the targets', () => gate.reached, 20_000);
      await handle.cancel(); // the server has it once this returns
      gate.open();
    });
    await keep('promote-cancel-while-releasing', run.handle);

    expect(run.result.outcome).toBe('completed');
    expect(run.calls.of('releaseEnvironments')).toEqual([{ holder: run.workflowId }]);
    expect(run.calls.of('reportOperation').map((r) => r.outcome).filter(Boolean)).toEqual(['completed']);
    // No rollback: each target deployed once.
    expect(run.calls.of('planDeploy').map((p) => p.environment)).toEqual(expect.arrayContaining(['a', 'b']));
    expect(run.calls.of('planDeploy')).toHaveLength(2);
  }, 60_000);
});
