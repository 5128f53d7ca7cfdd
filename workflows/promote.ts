// promote: roll the revision running in a source environment out to target environments, in
// stages. The promotion holds its targets (one change at a time per environment) from start
// to end. Each stage may wait for approvals (Updates: N distinct approvers, four eyes where
// rules ask), deploys its targets with at most `maxParallel` at once (one deployEnvironment
// child per target, with the target's overrides pinned when planned), and may soak with
// health checks. A failure rolls back every target already changed, pauses for a human, or is
// noted and passed over, as the promotion asks. Pause, resume and cancel (a signal or
// Temporal's own cancel: both roll back) work at any time. How it ends is its result
// (completed, completed-with-failures, rolled-back, cancelled, rejected); the workflow fails
// only when Flotilla itself could not do its job.
import {
  allHandlersFinished, ApplicationFailure, CancellationScope, ChildWorkflowFailure, condition, ContinueAsNew, continueAsNew, executeChild,
  isCancellation, patched, proxyActivities, setHandler, sleep, TimeoutFailure, workflowInfo,
} from '@temporalio/workflow';
import type { DeployActivities } from '../activities/deploy-types.js';
import { catalogSteps } from './catalog-steps.js';
import type { PlannedTarget, PromotionActivities, PromotionPlan } from '../activities/promotion-types.js';
import type { OperationState } from '../store/operations.js';
import { DEFAULT_ROLLOUT_TIMEOUT_SECONDS, deployEnvironment } from './deploy-environment.js';
import { promoteV1 } from './legacy/promote-v1.js';
import {
  approveUpdate, cancelSignal, pauseSignal, promotionStateQuery, rejectUpdate, resumeSignal,
  type ApprovalDecision, type PromotionState, type StageState, type TargetState,
} from './messages.js';
import { messageOf } from './failures.js';
import { CHANGE_CONTROL_PATCH, LOCAL_CATALOG_PATCH, NATIVE_CANCEL_PATCH, RELEASE_BEFORE_END_PATCH } from './patches.js';
import type { PromoteInput } from './promote-types.js';

export type { PromoteInput } from './promote-types.js';

const catalogOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '20 seconds', maximumAttempts: 10 },
} as const;
const { checkHealth } = proxyActivities<PromotionActivities>(catalogOptions);
const { recordUndeploy } = proxyActivities<DeployActivities>(catalogOptions);
const { removeDeployment } = proxyActivities<DeployActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '20 seconds', maximumAttempts: 5 },
});

const APPROVERS = new Set(['release-manager', 'admin']);
const NATIVE_CANCEL = { by: 'temporal', reason: 'cancelled through Temporal (workflow cancel request)' };
const now = () => new Date().toISOString(); // workflow time: deterministic
type Outcome = NonNullable<PromotionState['outcome']>;

export async function promote(input: PromoteInput): Promise<PromotionState> {
  if (!patched(CHANGE_CONTROL_PATCH)) return promoteV1(input);
  const { acquireEnvironments, releaseEnvironments, reportOperation, planPromotion } = catalogSteps(patched(LOCAL_CATALOG_PATCH), catalogOptions.retry);
  const policy = input.failurePolicy ?? 'rollback';
  const rolloutTimeout = input.rolloutTimeoutSeconds ?? DEFAULT_ROLLOUT_TIMEOUT_SECONDS;
  const state: PromotionState = input.carried?.state ?? {
    id: workflowInfo().workflowId,
    source: input.source,
    requestedBy: input.requestedBy,
    failurePolicy: policy,
    phase: 'planning',
    paused: false,
    stages: input.stages.map((s) => ({ name: s.name, phase: 'pending', targets: [] })),
    startedAt: now(),
  };
  const id = state.id;
  const targetNames = [...new Set(input.stages.flatMap((s) => s.targets))];
  let cancelled: { by: string; reason: string } | undefined;
  let decision: { approved: boolean; by: string; comment?: string } | undefined;
  let plan: PromotionPlan | undefined = input.carried?.plan;
  /** Targets in the order they were first changed: rollback walks it backwards. */
  const touched: TargetState[] = (input.carried?.touched ?? []).map(
    (env) => state.stages.flatMap((s) => s.targets).find((t) => t.environment === env)!,
  );

  // ---- messages ------------------------------------------------------------------------
  setHandler(promotionStateQuery, () => state);
  setHandler(pauseSignal, () => {
    state.paused = true;
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
  });
  setHandler(cancelSignal, ({ by, reason }) => {
    cancelled ??= { by, reason: reason ?? `cancelled by ${by}` };
  });
  if (patched(NATIVE_CANCEL_PATCH)) {
    // Temporal's cancel is a cancel as soon as the workflow sees it, not only for the operation
    // it interrupts: one that arrives with the last result of a stage still rolls back.
    CancellationScope.current().cancelRequested.catch(() => {
      cancelled ??= NATIVE_CANCEL;
    });
  }
  const waiting = () => state.stages.find((s) => s.phase === 'awaiting-approval');
  // Refusals carry a type that clients map. `decision` is set by the handler at once, so a
  // second decision in the same workflow task is refused, not applied twice.
  const validate = ({ by, role }: ApprovalDecision) => {
    const stage = waiting();
    if (!stage) throw ApplicationFailure.nonRetryable('no stage is waiting for approval', 'NotAwaitingApproval');
    if (decision) throw ApplicationFailure.nonRetryable(`stage "${stage.name}" is already ${decision.approved ? 'approved' : 'rejected'} (by ${decision.by})`, 'AlreadyDecided');
    if (!APPROVERS.has(role)) throw ApplicationFailure.nonRetryable(`approving needs role release-manager or admin; ${by} has ${role}`, 'ApproverRole');
    if (stage.approval?.fourEyes && by === input.requestedBy) {
      throw ApplicationFailure.nonRetryable(`four eyes: ${by} requested this promotion and cannot also approve it`, 'FourEyes');
    }
    if (stage.approval?.approvals?.some((a) => a.by === by)) {
      throw ApplicationFailure.nonRetryable(`${by} has already approved stage "${stage.name}"; it needs ${stage.approval.needed ?? 1} distinct approvers`, 'AlreadyApproved');
    }
  };
  setHandler(approveUpdate, ({ by, comment }) => {
    const approval = waiting()!.approval!;
    approval.approvals = [...(approval.approvals ?? []), { by, at: now(), ...(comment !== undefined ? { comment } : {}) }];
    if (approval.approvals.length >= (approval.needed ?? 1)) {
      decision = { approved: true, by, comment };
      Object.assign(approval, { approvedBy: by, comment, at: now() });
    }
    return state;
  }, { validator: validate });
  setHandler(rejectUpdate, ({ by, comment }) => {
    decision = { approved: false, by, comment };
    Object.assign(waiting()!.approval!, { rejectedBy: by, comment, at: now() });
    return state;
  }, { validator: validate });

  // ---- the operations index --------------------------------------------------------------
  let reported: OperationState | undefined;
  const report = async (opState: OperationState, outcome?: Outcome, message?: string) => {
    if (opState === reported && !outcome) return;
    reported = opState;
    await CancellationScope.nonCancellable(() => reportOperation({
      id, kind: 'promotion', state: opState, requestedBy: input.requestedBy,
      environments: [input.source, ...targetNames], ...(outcome ? { outcome } : {}), ...(message !== undefined ? { message } : {}),
    }));
  };

  /** Ends the promotion with an outcome: reported, the targets released, the state returned. */
  const finish = async (outcome: Outcome, message?: string): Promise<PromotionState> => {
    // What never ran, or was cut short, says so: no stage is left waiting or running, no target pending.
    for (const stage of state.stages) {
      for (const target of stage.targets) if (target.phase === 'pending') target.phase = 'skipped';
      if (!['succeeded', 'failed', 'skipped'].includes(stage.phase)) {
        stage.phase = 'skipped';
        stage.finishedAt ??= now();
      }
    }
    const show = () => {
      state.phase = outcome;
      state.outcome = outcome;
      if (message !== undefined) state.message = message;
      state.finishedAt = now();
    };
    if (patched(RELEASE_BEFORE_END_PATCH)) {
      // Free the targets first: whoever sees the end (query or index) may start the next change at once.
      await CancellationScope.nonCancellable(() => releaseEnvironments({ holder: id }));
      show();
      await report('completed', outcome, message);
    } else {
      show();
      await report('completed', outcome, message);
      await CancellationScope.nonCancellable(() => releaseEnvironments({ holder: id }));
    }
    return state;
  };

  try {
    if (!input.carried) {
      // One change at a time per environment: hold every target until the promotion ends.
      try {
        await acquireEnvironments({ holder: id, environments: targetNames });
      } catch (error) {
        const busy = busyMessage(error);
        if (!busy) throw error;
        state.phase = 'rejected';
        state.outcome = 'rejected';
        state.message = busy;
        state.finishedAt = now();
        await report('completed', 'rejected', busy);
        return state; // holds nothing: nothing to release
      }
      await report('running');
      plan = await planPromotion({ source: input.source, revision: input.revision, stages: input.stages.map((s) => s.targets), at: now() });
      state.revision = plan.revision;
      if (!plan.verdict.allowed) {
        return await finish('rejected', `refused by organisation rules: ${plan.verdict.violations.map((v) => `${v.rule} (${v.object} ${v.field}): ${v.message}`).join('; ')}`);
      }
      plan.stages.forEach((planned, i) => {
        state.stages[i]!.targets = planned.targets.map((t) => ({
          environment: t.environment, cluster: t.cluster, tier: t.tier, previousRevision: t.previousRevision, phase: 'pending',
        }));
      });
    }
    const result = await runStages(plan!);
    if (result) return result;
    if (cancelled) {
      await rollBack(plan!);
      return await finish('cancelled', cancelled.reason);
    }
    const anyFailed = state.stages.some((s) => s.targets.some((t) => t.phase === 'failed'));
    return await finish(anyFailed ? 'completed-with-failures' : 'completed');
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    if (isCancellation(error)) {
      // Temporal's own cancel (`temporal workflow cancel`, the API's cancel): roll back, as the signal does.
      cancelled ??= NATIVE_CANCEL;
      if (plan) await rollBack(plan);
      return await finish('cancelled', cancelled.reason);
    }
    const message = messageOf(error);
    if (patched(RELEASE_BEFORE_END_PATCH)) await CancellationScope.nonCancellable(() => releaseEnvironments({ holder: id }));
    state.phase = 'failed';
    state.outcome = 'failed';
    state.message = message;
    await report('failed', 'failed', message);
    if (!patched(RELEASE_BEFORE_END_PATCH)) await CancellationScope.nonCancellable(() => releaseEnvironments({ holder: id }));
    throw error;
  }

  // ---- stages ----------------------------------------------------------------------------

  /** Runs the stages from where this run starts; returns a finished state, or undefined to end normally. */
  async function runStages(plan: PromotionPlan): Promise<PromotionState | undefined> {
    for (const [i, stage] of state.stages.entries()) {
      if (i < (input.carried?.nextStage ?? 0)) continue;
      const stageInput = input.stages[i]!;
      const planned = plan.stages[i]!;
      if (cancelled) break;

      if (stageInput.approval || planned.approval.required) {
        const verdict = await awaitApproval(stage, planned.approval);
        if (verdict === 'cancelled') break;
        if (verdict === 'rejected') {
          stage.phase = 'skipped';
          await rollBack(plan);
          return finish('rejected', `stage "${stage.name}" rejected by ${decision!.by}${decision!.comment ? `: ${decision!.comment}` : ''}`);
        }
      }

      await deployStage(stage, i, plan);
      await soak(stage, stageInput.soakSeconds ?? 0, plan);

      // A failed target: as the failure policy says.
      while (!cancelled && stage.targets.some((t) => t.phase === 'failed')) {
        if (policy === 'continue') break;
        if (policy === 'rollback') {
          stage.phase = 'failed';
          stage.finishedAt = now();
          const reason = `stage "${stage.name}" failed: ${failures(stage)}`;
          await rollBack(plan);
          return finish('rolled-back', reason);
        }
        // pause: wait for a human; resume retries the failed targets, cancel rolls back.
        state.paused = true;
        state.phase = 'paused';
        state.message = `stage "${stage.name}" failed: ${failures(stage)}; resume to retry, cancel to roll back`;
        await report('paused');
        await condition(() => !state.paused || cancelled !== undefined);
        if (cancelled) break;
        state.phase = 'running';
        state.message = undefined;
        await report('running');
        for (const [k, target] of stage.targets.entries()) {
          if (target.phase === 'failed') await deployTarget(target, plan.stages[i]!.targets[k]!, plan);
        }
      }
      for (const target of stage.targets) if (target.phase === 'pending') target.phase = 'skipped';
      const cutShort = cancelled !== undefined && stage.targets.some((t) => t.phase === 'skipped');
      stage.phase = stage.targets.some((t) => t.phase === 'failed') ? 'failed' : cutShort ? 'skipped' : 'succeeded';
      stage.finishedAt = now();

      // Keep this history bounded: hand the state to a fresh run between stages.
      const info = workflowInfo();
      if (i < state.stages.length - 1 && !cancelled && (info.continueAsNewSuggested || info.historyLength > (input.maxHistoryEvents ?? 5000))) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof promote>({
          ...input,
          carried: { state, plan, touched: touched.map((t) => t.environment), nextStage: i + 1 },
        });
      }
    }
    return undefined;
  }

  /** Waits for the stage's approvals: 'approved', 'rejected', or 'cancelled' (a cancel, or no decision in time). */
  async function awaitApproval(stage: StageState, asked: PromotionPlan['stages'][number]['approval']): Promise<'approved' | 'rejected' | 'cancelled'> {
    // Four eyes unless the rules themselves ask for approvals without it: an approval the
    // promotion asks for on its own is never the requester's to give.
    const fourEyes = asked.required ? asked.fourEyes : true;
    stage.approval = { required: true, fourEyes, needed: Math.max(1, asked.count ?? 1), approvals: [] };
    stage.phase = 'awaiting-approval';
    state.phase = 'awaiting-approval';
    decision = undefined;
    await report('waiting');
    const timeoutMs = (input.approvalTimeoutSeconds ?? 24 * 3600) * 1000;
    const arrived = await condition(() => decision !== undefined || cancelled !== undefined, timeoutMs);
    if (!arrived) cancelled = { by: 'system', reason: `no approval for stage "${stage.name}" within ${timeoutMs / 1000}s` };
    if (cancelled) return 'cancelled';
    if (!decision!.approved) return 'rejected';
    await report('running');
    return 'approved';
  }

  /** Deploys the stage's targets, at most maxParallel at once. */
  async function deployStage(stage: StageState, i: number, plan: PromotionPlan): Promise<void> {
    const stageInput = input.stages[i]!;
    stage.phase = 'running';
    state.phase = 'running';
    stage.startedAt = now();
    let next = 0;
    const lanes = Math.max(1, Math.min(stageInput.maxParallel ?? stage.targets.length, stage.targets.length));
    const stopStarting = () => cancelled !== undefined || (policy === 'rollback' && stage.targets.some((t) => t.phase === 'failed'));
    // allSettled: on a cancel, every lane's child has ended before the rollback starts.
    const settled = await Promise.allSettled(Array.from({ length: lanes }, async () => {
      while (next < stage.targets.length) {
        if (state.paused && !cancelled) {
          state.phase = 'paused';
          await report('paused');
          await condition(() => !state.paused || cancelled !== undefined);
          state.phase = 'running';
          await report('running');
        }
        if (stopStarting()) return;
        const k = next++;
        await deployTarget(stage.targets[k]!, plan.stages[i]!.targets[k]!, plan);
      }
    }));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Keeps checking the stage's targets before going on. */
  async function soak(stage: StageState, seconds: number, plan: PromotionPlan): Promise<void> {
    const soakUntil = Date.now() + seconds * 1000;
    if (cancelled || stage.targets.some((t) => t.phase === 'failed') || soakUntil <= Date.now()) return;
    stage.phase = 'soaking';
    state.phase = 'soaking';
    while (Date.now() < soakUntil && !cancelled) {
      await sleep(Math.min(5_000, soakUntil - Date.now()));
      for (const target of stage.targets.filter((t) => t.phase === 'succeeded')) {
        const health = await checkHealth({ environment: target.environment, revision: plan.revision });
        if (!health.healthy) {
          target.phase = 'failed';
          target.error = `unhealthy during soak: ${health.message ?? ''}`;
        }
      }
      if (stage.targets.some((t) => t.phase === 'failed')) break;
    }
  }

  async function deployTarget(target: TargetState, planned: PlannedTarget, plan: PromotionPlan): Promise<void> {
    target.phase = 'deploying';
    target.startedAt = now();
    target.error = undefined;
    if (!touched.includes(target)) touched.push(target);
    const timeoutSeconds = targetTimeout(planned);
    try {
      await executeChild(deployEnvironment, {
        workflowId: `${id}/${planned.environment}`,
        args: [{
          environment: planned.environment, revision: plan.revision, overridesVersion: planned.overridesVersion, requestedBy: input.requestedBy,
          kind: 'promotion', skipRules: true, rolloutTimeoutSeconds: input.rolloutTimeoutSeconds, lockedBy: id,
        }],
        workflowExecutionTimeout: `${timeoutSeconds} seconds`,
      });
      const health = await checkHealth({ environment: planned.environment, revision: plan.revision });
      if (!health.healthy) throw new Error(`unhealthy right after its deploy: ${health.message ?? ''}`);
      target.phase = 'succeeded';
    } catch (error) {
      if (isCancellation(error)) throw error;
      target.phase = 'failed';
      target.error = timedOut(error) ? `target timeout (${timeoutSeconds}s) fired before the deploy finished` : messageOf(error);
    } finally {
      target.finishedAt = now();
    }
  }

  /** The per-target limit: enough for every rollout wait the deploy has, unless the caller set one. */
  function targetTimeout(planned: PlannedTarget): number {
    return input.targetTimeoutSeconds ?? (planned.waits ?? 2) * (rolloutTimeout + 60) + 120;
  }

  /** Every changed target back to exactly what it ran before, newest change first. */
  async function rollBack(plan: PromotionPlan): Promise<void> {
    state.phase = 'rolling-back';
    await report('running');
    await CancellationScope.nonCancellable(async () => {
      for (const target of [...touched].reverse()) {
        if (target.phase === 'pending' || target.phase === 'skipped') continue;
        const planned = plannedTarget(plan, target.environment);
        target.phase = 'rolling-back';
        try {
          if (planned.previousRevision) {
            await executeChild(deployEnvironment, {
              workflowId: `${id}/${target.environment}/rollback`,
              args: [{
                environment: target.environment, revision: planned.previousRevision, overridesVersion: planned.previousOverridesVersion,
                desired: planned.previousDesired, requestedBy: input.requestedBy, kind: 'rollback', skipRules: true,
                rolloutTimeoutSeconds: input.rolloutTimeoutSeconds, lockedBy: id,
              }],
              workflowExecutionTimeout: `${targetTimeout(planned)} seconds`,
            });
          } else {
            // Nothing ran there before: remove what Flotilla created for it, then say so in the catalog.
            await removeDeployment({ environment: target.environment });
            await recordUndeploy({ environment: target.environment, revision: plan.revision, requestedBy: input.requestedBy, operationId: id, desired: planned.previousDesired });
          }
          target.phase = 'rolled-back';
        } catch (error) {
          target.phase = 'rollback-failed';
          target.error = `rollback failed: ${messageOf(error)}`;
        }
        target.finishedAt = now();
      }
    });
  }
}

function plannedTarget(plan: PromotionPlan, environment: string): PlannedTarget {
  for (const stage of plan.stages) {
    const found = stage.targets.find((t) => t.environment === environment);
    if (found) return found;
  }
  throw ApplicationFailure.nonRetryable(`"${environment}" is not a target of this promotion`, 'UnknownTarget');
}

function failures(stage: StageState): string {
  return stage.targets.filter((t) => t.phase === 'failed').map((t) => `${t.environment}: ${t.error ?? 'failed'}`).join('; ');
}

/** The message of an EnvironmentBusy refusal, else undefined. */
function busyMessage(error: unknown): string | undefined {
  let e: unknown = error;
  while (e instanceof Error) {
    if (e instanceof ApplicationFailure && e.type === 'EnvironmentBusy') return e.message;
    e = e.cause;
  }
  return undefined;
}

function timedOut(error: unknown): boolean {
  return error instanceof ChildWorkflowFailure && error.cause instanceof TimeoutFailure;
}
