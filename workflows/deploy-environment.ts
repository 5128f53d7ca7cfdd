// deployEnvironment: take the environment → check rules → (databases ready → beforeDeploy jobs
// → migrations done) → apply → wait for the rollout → (afterDeploy jobs) → prune what the
// revision no longer has → record → release.
// Re-running it for the revision already deployed changes nothing.
import {
  ActivityCancellationType, ApplicationFailure, CancellationScope, isCancellation, patched, proxyActivities, workflowInfo,
} from '@temporalio/workflow';
import type { DeployActivities, DeployPhase, DeployPlan, PrunableObject, RevisionTarget, WorkloadState } from '../activities/deploy-types.js';
import { catalogSteps, type CatalogSteps } from './catalog-steps.js';
import { deployEnvironmentV1 } from './legacy/deploy-environment-v1.js';
import type { LifecycleHook } from '../domain/environment.js';
import { failureTypeOf, messageOf } from './failures.js';
import {
  CHANGE_CONTROL_PATCH, LIFECYCLE_JOBS_PATCH, LOCAL_CATALOG_PATCH, PRUNE_FOUND_DURING_ROLLOUT_PATCH, RELEASE_BEFORE_END_PATCH, STOP_PRUNE_SEARCH_PATCH,
} from './patches.js';

export interface DeployInput {
  environment: string;
  /** Defaults to the environment's current revision. */
  revision?: string;
  /** Defaults to the environment's overrides as they are when the deploy is planned (then pinned). */
  overridesVersion?: number;
  requestedBy: string;
  /** How long each rollout wait may take (default 600 s). */
  rolloutTimeoutSeconds?: number;
  /** How long a pod may sit in an image-pull or crash loop before the rollout fails (default 60 s). */
  stuckAfterSeconds?: number;
  /** Set by promotions and rollbacks; a plain deploy records 'deploy'. */
  kind?: 'deploy' | 'promotion' | 'rollback';
  /** Rules were already checked for the whole change (promotions check once, up front). */
  skipRules?: boolean;
  /**
   * The operation that already holds this environment's lock (a promotion deploying or rolling
   * back its target): this deploy neither takes nor releases it.
   */
  lockedBy?: string;
  /** The revision the environment should run afterwards, when not the deployed one (a rollback restores it). */
  desired?: string;
  /**
   * Take back fields someone else changed by hand (server-side apply with force): a heal of
   * drift (observer/heal.ts). Off otherwise, so a deploy over hand edits fails and says whose.
   */
  takeOwnership?: boolean;
}

export interface DeployResult {
  environment: string;
  cluster: string;
  revision: string;
  overridesVersion?: number;
  previousRevision?: string;
  applied: { created: number; configured: number; unchanged: number };
  pruned: string[];
  workloads: WorkloadState[];
  changed: boolean;
}

export const DEFAULT_ROLLOUT_TIMEOUT_SECONDS = 600;

// Cluster writes heartbeat per object: a lost worker is noticed within the heartbeat timeout,
// not after the whole start-to-close time. On a cancel the workflow waits until the write has
// really stopped, so a rollback that follows never interleaves with it.
const { applyRevision, pruneRevision } = proxyActivities<DeployActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});
// Reads only (a list per kind, at once), while the rollout is waited for: short, so that a lost
// worker is noticed soon — the deploy waits for it after the rollout.
const findPrunableOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
} as const;
const { findPrunable: findPrunableV1 } = proxyActivities<DeployActivities>(findPrunableOptions);
// Stopped when the rollout wait fails (STOP_PRUNE_SEARCH_PATCH): the deploy ends once the search
// has really ended (an attempt under way finishes; a retry not yet begun never starts), so no
// result of it arrives after the deploy has ended.
const { findPrunable } = proxyActivities<DeployActivities>({
  ...findPrunableOptions,
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});
// A hook's jobs bound themselves (activeDeadlineSeconds, at most a day); the heartbeat notices a lost worker.
const { runLifecycleJob } = proxyActivities<DeployActivities>({
  startToCloseTimeout: '25 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/** What a failed hook leaves behind, said in the deploy's failure. */
const HOOK_FAILED: Partial<Record<LifecycleHook, string>> = {
  beforeDeploy: 'deploy stopped before any workload changed',
  afterDeploy: 'the revision rolled out, but its afterDeploy jobs failed: it is not recorded as deployed and nothing was pruned',
};

export async function deployEnvironment(input: DeployInput): Promise<DeployResult> {
  if (!patched(CHANGE_CONTROL_PATCH)) return deployEnvironmentV1(input);
  const steps = catalogSteps(patched(LOCAL_CATALOG_PATCH));
  const { acquireEnvironments, releaseEnvironments, reportOperation } = steps;
  const id = workflowInfo().workflowId;
  const standalone = input.lockedBy === undefined;
  type End = 'completed' | 'failed' | 'cancelled';
  const report = (state: 'running' | End, extra: { outcome?: End; message?: string } = {}) =>
    standalone ? reportOperation({ id, kind: 'deploy', state, environments: [input.environment], requestedBy: input.requestedBy, ...extra }) : Promise.resolve();
  let released = !standalone;
  const release = async () => {
    if (released) return;
    await CancellationScope.nonCancellable(() => releaseEnvironments({ holder: id }));
    released = true;
  };
  /** Frees the environment, then says how it ended (older runs said it first). */
  const end = async (state: End, message?: string) => {
    const say = () => CancellationScope.nonCancellable(() => report(state, { outcome: state, ...(message !== undefined ? { message } : {}) }));
    if (patched(RELEASE_BEFORE_END_PATCH)) {
      await release();
      await say();
    } else {
      await say();
    }
  };

  if (standalone) {
    try {
      await acquireEnvironments({ holder: id, environments: [input.environment] });
    } catch (error) {
      released = true; // never held
      await report('failed', { outcome: 'failed', message: messageOf(error) });
      throw error;
    }
  }
  try {
    await report('running');
    const result = await deploy(input, id, steps);
    await end('completed');
    return result;
  } catch (error) {
    await end(isCancellation(error) ? 'cancelled' : 'failed', messageOf(error));
    throw error;
  } finally {
    await release();
  }
}

async function deploy(input: DeployInput, id: string, { planDeploy, recordDeployment }: CatalogSteps): Promise<DeployResult> {
  const timeoutSeconds = input.rolloutTimeoutSeconds ?? DEFAULT_ROLLOUT_TIMEOUT_SECONDS;
  const { waitForRevision } = proxyActivities<DeployActivities>({
    startToCloseTimeout: `${timeoutSeconds + 60} seconds`,
    heartbeatTimeout: '15 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
  });
  const wait = (target: RevisionTarget, phase: DeployPhase) =>
    waitForRevision({ ...target, phase, timeoutSeconds, stuckAfterSeconds: input.stuckAfterSeconds });

  const plan: DeployPlan = await planDeploy({
    environment: input.environment, revision: input.revision, overridesVersion: input.overridesVersion, at: new Date().toISOString(),
  });
  if (!input.skipRules && !plan.verdict.allowed) {
    throw ApplicationFailure.nonRetryable(
      `refused by organisation rules: ${plan.verdict.violations.map((v) => `${v.rule} (${v.object} ${v.field}): ${v.message}`).join('; ')}`,
      'RuleViolation',
      plan.verdict.violations,
    );
  }
  const target: RevisionTarget = { environment: plan.environment, revision: plan.revision, overridesVersion: plan.overridesVersion };
  // Absent unless asked: the activity input of every earlier deploy stays as it was (replay).
  const force = input.takeOwnership ? { force: true } : {};

  // Lifecycle jobs of the revision, only when it has some (older plans have no hooks: replay).
  // A heal (takeOwnership) takes back the ConfigMap and Secret a beforeDeploy applies, as applyRevision does.
  const hook = async (name: LifecycleHook) => {
    if (!plan.hooks?.includes(name) || !patched(LIFECYCLE_JOBS_PATCH)) return;
    try {
      await runLifecycleJob({ ...target, hook: name, ...force });
    } catch (error) {
      if (failureTypeOf(error) !== 'LifecycleJobFailed') throw error;
      throw ApplicationFailure.create({ message: `${HOOK_FAILED[name]}: ${messageOf(error)}`, type: 'LifecycleJobFailed', nonRetryable: true });
    }
  };

  // A migration starts only once its database answers; Deployments change only after migrations.
  if (plan.hasDatabases) {
    await applyRevision({ ...target, phase: 'databases', ...force });
    await wait(target, 'databases');
  }
  // beforeDeploy jobs: with the databases ready, before migrations and workloads; a failure changes nothing else.
  await hook('beforeDeploy');
  if (plan.hasMigrations) {
    await applyRevision({ ...target, phase: 'migrations', ...force });
    await wait(target, 'migrations');
  }
  const applied = await applyRevision({ ...target, phase: 'all', ...force });
  // What to prune is looked for during the rollout wait; deleting waits for the rollout.
  const [workloads, prunable] = patched(PRUNE_FOUND_DURING_ROLLOUT_PATCH)
    ? await rolloutAndPrunable(wait(target, 'all'), target)
    : [await wait(target, 'all'), undefined];
  // afterDeploy jobs: once the revision is ready, before prune and record.
  await hook('afterDeploy');
  // Prune last (as Argo CD's PruneLast): what the old revision had keeps serving until the new one is ready.
  const { deleted } = prunable === undefined
    ? await pruneRevision(target)
    : prunable.objects.length > 0 ? await pruneRevision({ ...target, objects: prunable.objects }) : { deleted: [] };
  const { changed } = await recordDeployment({
    ...target,
    requestedBy: input.requestedBy,
    operationId: id,
    kind: input.kind ?? 'deploy',
    desired: desiredAfter(input, plan),
  });
  return {
    environment: plan.environment,
    cluster: plan.cluster,
    revision: plan.revision,
    overridesVersion: plan.overridesVersion,
    previousRevision: plan.previousRevision,
    applied,
    pruned: deleted,
    workloads,
    changed,
  };
}

/**
 * The rollout's result and what to prune, found at once. When the rollout wait fails, the search
 * is stopped (STOP_PRUNE_SEARCH_PATCH) and the failure thrown once it has ended: no step is left
 * running unseen, and a search retrying against an unreachable cluster does not hold the failure.
 */
async function rolloutAndPrunable(rollout: Promise<WorkloadState[]>, target: RevisionTarget): Promise<[WorkloadState[], { objects: PrunableObject[] }]> {
  const stoppable = patched(STOP_PRUNE_SEARCH_PATCH);
  const search = new CancellationScope();
  const found = search.run(() => (stoppable ? findPrunable : findPrunableV1)(target));
  const [ra, rb] = await Promise.allSettled([
    rollout.catch((error: unknown) => {
      if (stoppable) search.cancel();
      throw error;
    }),
    found,
  ]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

/**
 * What the environment should run afterwards. A promotion or rollback moves it (so a later
 * plain deploy does not put the old revision back); a plain deploy leaves it unless the caller
 * says (the API does when a user names a revision), so a spec change that landed meanwhile
 * stays desired.
 */
function desiredAfter(input: DeployInput, plan: DeployPlan): string | undefined {
  if (input.desired !== undefined) return input.desired;
  if (input.kind === 'promotion' || input.kind === 'rollback') return plan.revision;
  return undefined;
}
