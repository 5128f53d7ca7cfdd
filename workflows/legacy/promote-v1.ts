// FROZEN: promote as it ran before the 'change-control' patch. New runs never come here; runs (and
// recorded histories) from before the patch replay through it. Do not change its commands;
// delete it once no run from before the patch is open (then deprecatePatch).
// promote: roll the revision running in a source environment out to target environments, in
// stages. Each stage may wait for an approval (an Update, four eyes where rules ask), deploys
// its targets with at most `maxParallel` at once (one deployEnvironment child per target, so
// this history stays small), and may soak with health checks. A failure rolls back every
// target already changed, pauses for a human, or is noted and passed over, as the promotion
// asks. Pause, resume and cancel (which rolls back) work at any time.
import {
  allHandlersFinished, ApplicationFailure, CancellationScope, condition, continueAsNew, executeChild, isCancellation, patched, proxyActivities, setHandler,
  sleep, workflowInfo,
} from '@temporalio/workflow';
import type { PlannedTarget, PromotionActivities, PromotionPlan } from '../../activities/promotion-types.js';
import type { KubernetesActivities } from '../../activities/kubernetes.js';
import { deployEnvironment } from '../deploy-environment.js';
import {
  approveUpdate, cancelSignal, pauseSignal, promotionStateQuery, rejectUpdate, resumeSignal,
  type ApprovalDecision, type PromotionState, type StageState, type TargetState,
} from '../messages.js';
import type { PromoteInput } from '../promote-types.js';


const { planPromotion, checkHealth } = proxyActivities<PromotionActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '20 seconds', maximumAttempts: 10 },
});
const { deleteNamespace } = proxyActivities<KubernetesActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '20 seconds', maximumAttempts: 5 },
});

const APPROVERS = new Set(['release-manager', 'admin']);
/** The patch id of the post-deploy health check (see deployTarget). */
export const HEALTH_AFTER_DEPLOY_PATCH = 'health-check-after-deploy';
const now = () => new Date().toISOString(); // workflow time: deterministic

export async function promoteV1(input: PromoteInput): Promise<PromotionState> {
  const policy = input.failurePolicy ?? 'rollback';
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
  let cancelled: { by: string; reason: string } | undefined;
  let decision: { approved: boolean; by: string; comment?: string } | undefined;
  /** Targets in the order they were first changed: rollback walks it backwards. */
  const touched: TargetState[] = (input.carried?.touched ?? []).map(
    (env) => state.stages.flatMap((s) => s.targets).find((t) => t.environment === env)!,
  );

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
  const waiting = () => state.stages.find((s) => s.phase === 'awaiting-approval');
  // Refusals carry a type (NotAwaitingApproval, ApproverRole, FourEyes) that clients map.
  const validate = ({ by, role }: ApprovalDecision) => {
    const stage = waiting();
    if (!stage) throw ApplicationFailure.nonRetryable('no stage is waiting for approval', 'NotAwaitingApproval');
    if (!APPROVERS.has(role)) throw ApplicationFailure.nonRetryable(`approving needs role release-manager or admin; ${by} has ${role}`, 'ApproverRole');
    if (stage.approval?.fourEyes && by === input.requestedBy) {
      throw ApplicationFailure.nonRetryable(`four eyes: ${by} requested this promotion and cannot also approve it`, 'FourEyes');
    }
  };
  const decide = (approved: boolean) => ({ by, comment }: ApprovalDecision) => {
    decision = { approved, by, comment };
    const stage = waiting()!;
    stage.approval = { ...stage.approval!, ...(approved ? { approvedBy: by } : { rejectedBy: by }), comment, at: now() };
    return state;
  };
  setHandler(approveUpdate, decide(true), { validator: validate });
  setHandler(rejectUpdate, decide(false), { validator: validate });

  const plan: PromotionPlan = input.carried?.plan ?? await planPromotion({
    source: input.source, revision: input.revision, stages: input.stages.map((s) => s.targets), at: now(),
  });
  if (!input.carried) {
    state.revision = plan.revision;
    if (!plan.verdict.allowed) {
      return finish('failed', 'RuleViolation', `refused by organisation rules: ${plan.verdict.violations.map((v) => `${v.rule} (${v.object} ${v.field}): ${v.message}`).join('; ')}`, plan.verdict.violations);
    }
    plan.stages.forEach((planned, i) => {
      state.stages[i]!.targets = planned.targets.map((t) => ({ ...t, phase: 'pending' }));
    });
  }

  const deployTarget = async (target: TargetState, planned: PlannedTarget): Promise<void> => {
    target.phase = 'deploying';
    target.startedAt = now();
    target.error = undefined;
    if (!touched.includes(target)) touched.push(target);
    try {
      await executeChild(deployEnvironment, {
        workflowId: `${state.id}/${planned.environment}`,
        args: [{ environment: planned.environment, revision: plan.revision, requestedBy: input.requestedBy, kind: 'promotion', skipRules: true, rolloutTimeoutSeconds: input.rolloutTimeoutSeconds }],
        workflowExecutionTimeout: `${input.targetTimeoutSeconds ?? 900} seconds`,
      });
      // Added after promotions were already running: histories recorded before it have no
      // marker and replay without the extra activity (test/replay proves it).
      if (patched(HEALTH_AFTER_DEPLOY_PATCH)) {
        const health = await checkHealth({ environment: planned.environment, revision: plan.revision });
        if (!health.healthy) throw new Error(`unhealthy right after its deploy: ${health.message ?? ''}`);
      }
      target.phase = 'succeeded';
    } catch (error) {
      if (isCancellation(error)) throw error;
      target.phase = 'failed';
      target.error = messageOf(error);
    } finally {
      target.finishedAt = now();
    }
  };

  for (const [i, stage] of state.stages.entries()) {
    if (i < (input.carried?.nextStage ?? 0)) continue;
    const stageInput = input.stages[i]!;
    const planned = plan.stages[i]!;
    if (cancelled) break;

    // Approval.
    const needsApproval = stageInput.approval || planned.approval.required;
    if (needsApproval) {
      stage.approval = { required: true, fourEyes: planned.approval.fourEyes };
      stage.phase = 'awaiting-approval';
      state.phase = 'awaiting-approval';
      decision = undefined;
      const timeoutMs = (input.approvalTimeoutSeconds ?? 24 * 3600) * 1000;
      const arrived = await condition(() => decision !== undefined || cancelled !== undefined, timeoutMs);
      if (!arrived) cancelled = { by: 'system', reason: `no approval for stage "${stage.name}" within ${timeoutMs / 1000}s` };
      if (cancelled) break;
      if (!decision!.approved) {
        stage.phase = 'skipped';
        await rollBack();
        return finish('rejected', 'PromotionRejected', `stage "${stage.name}" rejected by ${decision!.by}${decision!.comment ? `: ${decision!.comment}` : ''}`);
      }
    }

    // Deploy the stage's targets, at most maxParallel at once.
    stage.phase = 'running';
    state.phase = 'running';
    stage.startedAt = now();
    let next = 0;
    const lanes = Math.max(1, Math.min(stageInput.maxParallel ?? stage.targets.length, stage.targets.length));
    const stopStarting = () => cancelled !== undefined || (policy === 'rollback' && stage.targets.some((t) => t.phase === 'failed'));
    await Promise.all(Array.from({ length: lanes }, async () => {
      while (next < stage.targets.length) {
        await condition(() => !state.paused || cancelled !== undefined);
        if (stopStarting()) return;
        const k = next++;
        await deployTarget(stage.targets[k]!, planned.targets[k]!);
      }
    }));

    // Soak: keep checking the stage's targets before going on.
    const soakUntil = Date.now() + (stageInput.soakSeconds ?? 0) * 1000;
    if (!cancelled && !stage.targets.some((t) => t.phase === 'failed') && soakUntil > Date.now()) {
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

    // A failed target: as the failure policy says.
    while (!cancelled && stage.targets.some((t) => t.phase === 'failed')) {
      if (policy === 'continue') break;
      if (policy === 'rollback') {
        stage.phase = 'failed';
        stage.finishedAt = now();
        const reason = `stage "${stage.name}" failed: ${failures(stage)}`;
        await rollBack();
        return finish('rolled-back', 'PromotionRolledBack', reason);
      }
      // pause: wait for a human; resume retries the failed targets, cancel rolls back.
      state.paused = true;
      state.phase = 'paused';
      state.message = `stage "${stage.name}" failed: ${failures(stage)}; resume to retry, cancel to roll back`;
      await condition(() => !state.paused || cancelled !== undefined);
      if (cancelled) break;
      state.phase = 'running';
      state.message = undefined;
      for (const [k, target] of stage.targets.entries()) {
        if (target.phase === 'failed') await deployTarget(target, planned.targets[k]!);
      }
    }
    for (const target of stage.targets) if (target.phase === 'pending') target.phase = 'skipped';
    stage.phase = stage.targets.some((t) => t.phase === 'failed') ? 'failed' : 'succeeded';
    stage.finishedAt = now();

    // Keep this history bounded: hand the state to a fresh run between stages.
    const info = workflowInfo();
    if (i < state.stages.length - 1 && !cancelled && (info.continueAsNewSuggested || info.historyLength > (input.maxHistoryEvents ?? 5000))) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof promoteV1>({
        ...input,
        carried: { state, plan, touched: touched.map((t) => t.environment), nextStage: i + 1 },
      });
    }
  }

  if (cancelled) {
    await rollBack();
    return finish('cancelled', 'PromotionCancelled', cancelled.reason);
  }
  const anyFailed = state.stages.some((s) => s.targets.some((t) => t.phase === 'failed'));
  state.phase = anyFailed ? 'completed-with-failures' : 'completed';
  state.finishedAt = now();
  return state;

  /** Every changed target back to the revision it ran before, newest change first. */
  async function rollBack(): Promise<void> {
    state.phase = 'rolling-back';
    await CancellationScope.nonCancellable(async () => {
      for (const target of [...touched].reverse()) {
        if (target.phase === 'pending' || target.phase === 'skipped') continue;
        target.phase = 'rolling-back';
        try {
          if (target.previousRevision) {
            await executeChild(deployEnvironment, {
              workflowId: `${state.id}/${target.environment}/rollback`,
              args: [{ environment: target.environment, revision: target.previousRevision, requestedBy: input.requestedBy, kind: 'rollback', skipRules: true, rolloutTimeoutSeconds: input.rolloutTimeoutSeconds }],
              workflowExecutionTimeout: `${input.targetTimeoutSeconds ?? 900} seconds`,
            });
          } else {
            // Nothing ran there before: remove what the promotion created.
            await deleteNamespace({ cluster: target.cluster, namespace: namespaceOf(target), timeoutSeconds: 300 });
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

  function namespaceOf(target: TargetState): string {
    for (const stage of plan.stages) {
      const found = stage.targets.find((t) => t.environment === target.environment);
      if (found) return found.namespace;
    }
    return target.environment;
  }

  function finish(phase: PromotionState['phase'], type: string, message: string, details?: unknown): never {
    state.phase = phase;
    state.message = message;
    state.finishedAt = now();
    throw ApplicationFailure.nonRetryable(message, type, details ?? state);
  }
}

function failures(stage: StageState): string {
  return stage.targets.filter((t) => t.phase === 'failed').map((t) => `${t.environment}: ${t.error ?? 'failed'}`).join('; ');
}

function messageOf(error: unknown): string {
  let e: unknown = error;
  while (e instanceof Error && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
