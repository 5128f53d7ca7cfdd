// The real deployEnvironment workflow on Temporal's time-skipping test server, with stub
// activities: the order of its steps (databases ready before migrations, migrations before the
// workloads, prune last), what it records as desired, the pinned overrides version, rules, and
// the per-environment lock of a standalone deploy.
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { DeployPlan } from '../../../activities/deploy-types.js';
import { deployEnvironment, type DeployInput } from '../../../workflows/deploy-environment.js';
import { recordHistory } from '../../support/histories.js';
import { fileWorker, sharedWorkflowBundle } from '../../support/workflow-env.js';
import { type AllActivities, Calls, deployStubs, permanent, recorded, refused, Switchboard, transient } from './stubs.js';

const bundle = sharedWorkflowBundle();
const board = new Switchboard();
let runs = 0;
const file = fileWorker(board.activities, bundle);

interface Scenario {
  input?: Partial<DeployInput>;
  /** What planDeploy says about the environment and the revision. */
  plan?: Partial<DeployPlan>;
  stubs?: Partial<AllActivities>;
}

/** Runs a deploy of shop-prod to its end: its result or its failure, and every activity call. */
async function deploy(s: Scenario = {}) {
  const calls = new Calls();
  board.use(recorded(calls, { ...deployStubs(() => s.plan ?? {}), ...s.stubs }));
  const workflowId = `deploy-${++runs}-${Date.now()}`;
  const input: DeployInput = { environment: 'shop-prod', requestedBy: 'dana', ...s.input };
  const handle = await file.env.client.workflow.start(deployEnvironment, { taskQueue: file.taskQueue, workflowId, args: [input] });
  const outcome = await handle.result().then((result) => ({ result, error: undefined }), (error: unknown) => ({ result: undefined, error }));
  return { ...outcome, calls, workflowId, handle };
}

/**
 * Each call as "activity phase-or-state". The rollout wait and the search for what to prune run
 * at once (either may start first): one step, "waitForRevision all + findPrunable".
 */
const steps = (calls: Calls) => {
  const names = calls.all.map(({ name, input }) => [name, input.phase ?? input.state].filter((x) => x !== undefined).join(' '));
  const together = new Set(['waitForRevision all', 'findPrunable']);
  return names.flatMap((n, i) => {
    if (together.has(n) && together.has(names[i + 1] ?? '') && n !== names[i + 1]) return ['waitForRevision all + findPrunable'];
    if (together.has(n) && together.has(names[i - 1] ?? '') && n !== names[i - 1]) return [];
    return [n];
  });
};

/** The patch ids the history's markers record. */
function markersOf(events: { markerRecordedEventAttributes?: { markerName?: string | null; details?: Record<string, { payloads?: { data?: Uint8Array | null }[] | null }> | null } | null }[]): string[] {
  return events.flatMap((e) => {
    const data = e.markerRecordedEventAttributes?.markerName === 'core_patch' ? e.markerRecordedEventAttributes.details?.['patch-data']?.payloads?.[0]?.data : undefined;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
  });
}

/** The ApplicationFailure at the root of a workflow's failure. */
function failureOf(error: unknown): ApplicationFailure {
  expect(error).toBeInstanceOf(WorkflowFailedError);
  let cause = (error as WorkflowFailedError).cause;
  if (cause instanceof ActivityFailure) cause = cause.cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

describe('deployEnvironment: the order of its steps', () => {
  it('with databases and a migration: databases ready → migrations done → everything → prune last → record; the lock around it', async () => {
    const run = await deploy({ input: { revision: 'rev-7' }, plan: { hasDatabases: true, hasMigrations: true, previousRevision: 'rev-6' } });

    expect(run.error).toBeUndefined();
    expect(steps(run.calls)).toEqual([
      'acquireEnvironments', 'reportOperation running', 'planDeploy',
      'applyRevision databases', 'waitForRevision databases',
      'applyRevision migrations', 'waitForRevision migrations',
      'applyRevision all', 'waitForRevision all + findPrunable',
      'pruneRevision', 'recordDeployment',
      'releaseEnvironments', 'reportOperation completed',
    ]);
    expect(run.result).toEqual({
      environment: 'shop-prod', cluster: 'cluster-1', revision: 'rev-7', overridesVersion: 3, previousRevision: 'rev-6',
      applied: { created: 1, configured: 2, unchanged: 3 }, pruned: ['ConfigMap/old-config'],
      workloads: [{ kind: 'Deployment', name: 'web', ready: 2, desired: 2, done: true }], changed: true,
    });
    expect(run.calls.of('acquireEnvironments')).toEqual([{ holder: run.workflowId, environments: ['shop-prod'] }]);
    expect(run.calls.of('releaseEnvironments')).toEqual([{ holder: run.workflowId }]);
    expect(run.calls.of('reportOperation')).toEqual([
      { id: run.workflowId, kind: 'deploy', state: 'running', environments: ['shop-prod'], requestedBy: 'dana' },
      { id: run.workflowId, kind: 'deploy', state: 'completed', outcome: 'completed', environments: ['shop-prod'], requestedBy: 'dana' },
    ]);
    // The catalog steps ran as local activities (markers in the history), not as activity tasks:
    // only the cluster steps went through the server's task queue, and the release, which fixes
    // how the deploy ends before the environment is freed.
    const events = (await run.handle.fetchHistory()).events ?? [];
    const scheduled = events.flatMap((e) => e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : []);
    expect(scheduled).toEqual(['applyRevision', 'waitForRevision', 'applyRevision', 'waitForRevision', 'applyRevision', 'waitForRevision', 'findPrunable', 'pruneRevision', 'releaseEnvironments']);
    expect(events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toHaveLength(5);
    expect(markersOf(events)).toEqual(expect.arrayContaining(['local-catalog-steps', 'prune-found-during-rollout', 'release-as-activity-task']));
    if (process.env.FLOTILLA_RECORD_HISTORIES !== undefined) await recordHistory('deploy-environment-databases-migration', run.handle);
  }, 30_000);

  it('with a migration and no database: migrations done → everything → prune → record', async () => {
    const run = await deploy({ plan: { hasDatabases: false, hasMigrations: true } });

    expect(steps(run.calls).slice(2, -2)).toEqual([
      'planDeploy', 'applyRevision migrations', 'waitForRevision migrations', 'applyRevision all', 'waitForRevision all + findPrunable', 'pruneRevision', 'recordDeployment',
    ]);
  }, 30_000);

  it('without databases or migrations: everything → wait → prune → record', async () => {
    const run = await deploy();

    expect(steps(run.calls)).toEqual([
      'acquireEnvironments', 'reportOperation running', 'planDeploy',
      'applyRevision all', 'waitForRevision all + findPrunable', 'pruneRevision', 'recordDeployment',
      'releaseEnvironments', 'reportOperation completed',
    ]);
  }, 30_000);
});

describe('deployEnvironment: prune', () => {
  const target = { environment: 'shop-prod', revision: 'rev-desired', overridesVersion: 3 };
  const old = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop-prod', name: 'old-config', uid: 'u-1' };

  it('looks for what to prune while the rollout is waited for, and deletes exactly that once it is done', async () => {
    let searched!: () => void;
    const searchStarted = new Promise<void>((resolve) => (searched = resolve));
    const run = await deploy({
      stubs: {
        // The rollout ends only once the search has begun: both run at once, or this never ends.
        async waitForRevision() {
          await Promise.race([searchStarted, new Promise((_, reject) => setTimeout(() => reject(permanent('findPrunable did not start during the wait', 'Test')), 5_000))]);
          return [{ kind: 'Deployment', name: 'web', ready: 2, desired: 2, done: true }];
        },
        async findPrunable() {
          searched();
          return { objects: [old] };
        },
      },
    });

    expect(run.error).toBeUndefined();
    expect(run.calls.of('findPrunable')).toEqual([target]);
    expect(run.calls.of('pruneRevision')).toEqual([{ ...target, objects: [old] }]);
    expect(steps(run.calls).slice(-4)).toEqual(['pruneRevision', 'recordDeployment', 'releaseEnvironments', 'reportOperation completed']);
  }, 30_000);

  it('nothing to prune: no prune step after the rollout', async () => {
    const run = await deploy({ stubs: { async findPrunable() { return { objects: [] }; } } });

    expect(run.error).toBeUndefined();
    expect(run.calls.of('pruneRevision')).toEqual([]);
    expect(run.result?.pruned).toEqual([]);
    expect(steps(run.calls).slice(3)).toEqual(['applyRevision all', 'waitForRevision all + findPrunable', 'recordDeployment', 'releaseEnvironments', 'reportOperation completed']);
  }, 30_000);

  it('a rollout wait that fails stops the search: the deploy fails at once, not after the search\'s retries', async () => {
    let searched!: () => void;
    const searchStarted = new Promise<void>((resolve) => (searched = resolve));
    const started = Date.now();
    const run = await deploy({
      stubs: {
        async waitForRevision() {
          await searchStarted;
          throw permanent('Deployment web: 0/2 ready: pod web-1 CrashLoopBackOff', 'RolloutFailed');
        },
        // The cluster stopped answering: every attempt fails, retried up to 20 times (minutes of backoff).
        async findPrunable() {
          searched();
          throw transient('connect ECONNREFUSED 10.0.0.7:6443');
        },
      },
    });
    if (process.env.FLOTILLA_RECORD_HISTORIES !== undefined) await recordHistory('deploy-environment-rollout-failed-search-stopped', run.handle);

    expect(failureOf(run.error).type).toBe('RolloutFailed');
    expect(run.calls.of('findPrunable').length).toBeLessThanOrEqual(2);
    expect(Date.now() - started).toBeLessThan(20_000);
    const events = (await run.handle.fetchHistory()).events ?? [];
    expect(events.some((e) => e.activityTaskCancelRequestedEventAttributes)).toBe(true);
    expect(markersOf(events)).toContain('stop-prune-search-on-failed-wait');
    expect(run.calls.names()).not.toContain('pruneRevision');
    expect(run.calls.names()).not.toContain('recordDeployment');
    expect(steps(run.calls).slice(-2)).toEqual(['releaseEnvironments', 'reportOperation failed']);
  }, 60_000);
});

describe('deployEnvironment: what it records and applies', () => {
  it.each([
    { case: 'a promotion moves desired to the revision', input: { kind: 'promotion', lockedBy: 'promo-1' }, desired: 'rev-9' },
    { case: 'a rollback moves desired to the revision', input: { kind: 'rollback', lockedBy: 'promo-1' }, desired: 'rev-9' },
    { case: 'a plain deploy leaves desired alone', input: {}, desired: undefined },
    { case: 'a plain deploy that names what is desired records that', input: { desired: 'rev-9' }, desired: 'rev-9' },
    { case: 'input.desired wins over a rollback\'s revision', input: { kind: 'rollback', desired: 'rev-4', lockedBy: 'promo-1' }, desired: 'rev-4' },
  ] satisfies { case: string; input: Partial<DeployInput>; desired: string | undefined }[])('$case', async ({ input, desired }) => {
    const run = await deploy({ input: { revision: 'rev-9', ...input } });

    expect(run.error).toBeUndefined();
    expect(run.calls.of('recordDeployment')).toEqual([{
      environment: 'shop-prod', revision: 'rev-9', overridesVersion: 3, requestedBy: 'dana', operationId: run.workflowId,
      kind: input.kind ?? 'deploy', desired,
    }]);
  }, 30_000);

  it('pins the overrides version the plan chose and passes it to every activity', async () => {
    const run = await deploy({ input: { rolloutTimeoutSeconds: 120, stuckAfterSeconds: 30 }, plan: { revision: 'rev-5', overridesVersion: 12, hasDatabases: true } });

    expect(run.calls.of('planDeploy')).toEqual([{ environment: 'shop-prod', revision: undefined, overridesVersion: undefined, at: expect.any(String) as unknown }]);
    const target = { environment: 'shop-prod', revision: 'rev-5', overridesVersion: 12 };
    expect(run.calls.of('applyRevision')).toEqual([{ ...target, phase: 'databases' }, { ...target, phase: 'all' }]);
    expect(run.calls.of('waitForRevision')).toEqual([
      { ...target, phase: 'databases', timeoutSeconds: 120, stuckAfterSeconds: 30 },
      { ...target, phase: 'all', timeoutSeconds: 120, stuckAfterSeconds: 30 },
    ]);
    expect(run.calls.of('findPrunable')).toEqual([target]);
    expect(run.calls.of('pruneRevision')).toEqual([{ ...target, objects: [expect.objectContaining({ name: 'old-config' })] }]);
    expect(run.calls.of('recordDeployment')).toEqual([{ ...target, requestedBy: 'dana', operationId: run.workflowId, kind: 'deploy', desired: undefined }]);
    expect(run.result?.overridesVersion).toBe(12);
  }, 30_000);

  it('waits 600 s per rollout unless told otherwise', async () => {
    const run = await deploy();

    expect(run.calls.of('waitForRevision').map((w) => [w.timeoutSeconds, w.stuckAfterSeconds])).toEqual([[600, undefined]]);
  }, 30_000);
});

describe('deployEnvironment: rules', () => {
  const message = 'refused by organisation rules: forbidLatestTag (service/shop/web spec.app.services[0].image): image tag "latest" is not allowed';

  it('a change the rules refuse fails, non-retryable, as RuleViolation; nothing is applied and the lock is released', async () => {
    const run = await deploy({ plan: { verdict: refused } });

    const failure = failureOf(run.error);
    expect(failure.type).toBe('RuleViolation');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe(message);
    expect(steps(run.calls)).toEqual(['acquireEnvironments', 'reportOperation running', 'planDeploy', 'releaseEnvironments', 'reportOperation failed']);
    expect(run.calls.of('reportOperation').at(-1)).toEqual({
      id: run.workflowId, kind: 'deploy', state: 'failed', outcome: 'failed', message, environments: ['shop-prod'], requestedBy: 'dana',
    });
  }, 30_000);

  it('skipRules deploys what the rules would refuse (the promotion checked them already)', async () => {
    const run = await deploy({ input: { skipRules: true }, plan: { verdict: refused } });

    expect(run.error).toBeUndefined();
    expect(run.calls.of('recordDeployment')).toHaveLength(1);
  }, 30_000);
});

describe('deployEnvironment: the lock on the environment', () => {
  it('a standalone deploy that fails still reports the failure and releases the lock; nothing is pruned or recorded', async () => {
    const run = await deploy({
      stubs: { async waitForRevision() { throw permanent('Deployment web: 0/2 ready: pod web-1 Unschedulable (Insufficient cpu)', 'RolloutFailed'); } },
    });

    expect(failureOf(run.error).type).toBe('RolloutFailed');
    // The failed wait stops the prune search: it may have begun, or been cancelled before it did.
    expect(steps(run.calls).map((s) => (s === 'waitForRevision all + findPrunable' ? 'waitForRevision all' : s))).toEqual([
      'acquireEnvironments', 'reportOperation running', 'planDeploy', 'applyRevision all', 'waitForRevision all',
      'releaseEnvironments', 'reportOperation failed',
    ]);
    expect(run.calls.of('reportOperation').at(-1)).toMatchObject({ state: 'failed', outcome: 'failed', message: 'Deployment web: 0/2 ready: pod web-1 Unschedulable (Insufficient cpu)' });
    expect(run.calls.of('releaseEnvironments')).toEqual([{ holder: run.workflowId }]);
  }, 30_000);

  it('a cancel that arrives while a finished deploy frees its environment changes nothing: completed, recorded, freed and reported once', async () => {
    // The release was a local activity in the workflow task that completes the deploy; the
    // server refused that task because of the cancel, and the replay ended "cancelled" after the
    // first run had recorded the deploy, freed the environment and reported it completed.
    const run = await deploy({
      stubs: {
        async releaseEnvironments() {
          // The server has the request once this returns; the release ends after it.
          await file.env.client.workflow.getHandle(Context.current().info.workflowExecution!.workflowId).cancel().catch(() => undefined);
        },
      },
    });
    if (process.env.FLOTILLA_RECORD_HISTORIES !== undefined) await recordHistory('deploy-environment-cancel-while-releasing', run.handle);

    expect(run.error).toBeUndefined();
    expect(run.result?.revision).toBe('rev-desired');
    expect(run.calls.of('recordDeployment')).toHaveLength(1);
    expect(run.calls.of('releaseEnvironments')).toEqual([{ holder: run.workflowId }]);
    expect(run.calls.of('reportOperation').map((r) => r.state)).toEqual(['running', 'completed']);
  }, 30_000);

  it('a deploy for an operation that holds the lock (lockedBy) neither takes, releases nor reports', async () => {
    const run = await deploy({ input: { lockedBy: 'promo-1', kind: 'promotion', skipRules: true } });

    expect(run.error).toBeUndefined();
    expect(steps(run.calls)).toEqual(['planDeploy', 'applyRevision all', 'waitForRevision all + findPrunable', 'pruneRevision', 'recordDeployment']);
  }, 30_000);

  it('an environment held by another operation fails the deploy as EnvironmentBusy, before anything is planned, with nothing to release', async () => {
    const busy = 'environment "shop-prod" is busy: held by promote-shop-1 (promotion)';
    const run = await deploy({ stubs: { async acquireEnvironments() { throw permanent(busy, 'EnvironmentBusy'); } } });

    const failure = failureOf(run.error);
    expect(failure.type).toBe('EnvironmentBusy');
    expect(failure.message).toBe(busy);
    expect(steps(run.calls)).toEqual(['acquireEnvironments', 'reportOperation failed']);
    expect(run.calls.of('reportOperation')).toEqual([{
      id: run.workflowId, kind: 'deploy', state: 'failed', outcome: 'failed', message: busy, environments: ['shop-prod'], requestedBy: 'dana',
    }]);
  }, 30_000);
});

describe('deployEnvironment: lifecycle jobs', () => {
  const target = { environment: 'shop-prod', revision: 'rev-desired', overridesVersion: 3 };

  it('beforeDeploy after the databases and before migrations and workloads; afterDeploy after the rollout, before prune and record', async () => {
    const run = await deploy({ plan: { hasDatabases: true, hasMigrations: true, hooks: ['beforeDeploy', 'afterDeploy'] } });

    expect(run.error).toBeUndefined();
    expect(steps(run.calls).slice(2, -2)).toEqual([
      'planDeploy', 'applyRevision databases', 'waitForRevision databases',
      'runLifecycleJob', 'applyRevision migrations', 'waitForRevision migrations',
      'applyRevision all', 'waitForRevision all + findPrunable', 'runLifecycleJob', 'pruneRevision', 'recordDeployment',
    ]);
    expect(run.calls.of('runLifecycleJob')).toEqual([{ ...target, hook: 'beforeDeploy' }, { ...target, hook: 'afterDeploy' }]);
    const markers = ((await run.handle.fetchHistory()).events ?? []).flatMap((e) => e.markerRecordedEventAttributes ? [e.markerRecordedEventAttributes.markerName] : []);
    expect(markers).toContain('core_patch');
    if (process.env.FLOTILLA_RECORD_HISTORIES !== undefined) await recordHistory('deploy-environment-lifecycle-jobs', run.handle);
  }, 30_000);

  it('only the hooks the revision has jobs for; none when the plan names none (as every older plan)', async () => {
    const after = await deploy({ plan: { hooks: ['afterDeploy'] } });
    expect(steps(after.calls).slice(3, -2)).toEqual(['applyRevision all', 'waitForRevision all + findPrunable', 'runLifecycleJob', 'pruneRevision', 'recordDeployment']);
    expect(after.calls.of('runLifecycleJob')).toEqual([{ ...target, hook: 'afterDeploy' }]);

    const stopOnly = await deploy({ plan: { hooks: ['beforeStop', 'beforeTeardown'] } });
    expect(stopOnly.calls.of('runLifecycleJob')).toEqual([]);
    const none = await deploy();
    expect(none.calls.of('runLifecycleJob')).toEqual([]);
  }, 30_000);

  it('a heal (takeOwnership) passes force to the hooks too; a plain deploy does not', async () => {
    const run = await deploy({ input: { takeOwnership: true }, plan: { hooks: ['beforeDeploy', 'afterDeploy'] } });
    expect(run.calls.of('runLifecycleJob')).toEqual([{ ...target, hook: 'beforeDeploy', force: true }, { ...target, hook: 'afterDeploy', force: true }]);
  }, 30_000);

  it('a failed beforeDeploy job stops the deploy: no migration, workload, prune or record; its log tail in the failure; the lock released', async () => {
    const why = 'beforeDeploy job failed: Job shop-prod/seed-0123456789ab failed: BackoffLimitExceeded: Job has reached the specified backoff limit\nlast 2 line(s) of pod seed-0123456789ab-x7k2p:\nseeding orders\nERROR: relation "orders" does not exist';
    const run = await deploy({
      plan: { hasDatabases: true, hasMigrations: true, hooks: ['beforeDeploy', 'afterDeploy'] },
      stubs: { async runLifecycleJob() { throw permanent(why, 'LifecycleJobFailed'); } },
    });

    const failure = failureOf(run.error);
    expect(failure.type).toBe('LifecycleJobFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe(`deploy stopped before any workload changed: ${why}`);
    expect(steps(run.calls)).toEqual([
      'acquireEnvironments', 'reportOperation running', 'planDeploy', 'applyRevision databases', 'waitForRevision databases',
      'runLifecycleJob', 'releaseEnvironments', 'reportOperation failed',
    ]);
    expect(run.calls.of('reportOperation').at(-1)).toMatchObject({ state: 'failed', outcome: 'failed', message: `deploy stopped before any workload changed: ${why}` });
  }, 30_000);

  it('a failed afterDeploy job fails the deploy, saying the revision rolled out but is neither recorded nor pruned', async () => {
    const why = 'afterDeploy job failed: Job shop-prod/smoke-0123456789ab failed: DeadlineExceeded: Job was active longer than specified deadline';
    const run = await deploy({ plan: { hooks: ['afterDeploy'] }, stubs: { async runLifecycleJob() { throw permanent(why, 'LifecycleJobFailed'); } } });

    const failure = failureOf(run.error);
    expect(failure.type).toBe('LifecycleJobFailed');
    expect(failure.message).toBe(`the revision rolled out, but its afterDeploy jobs failed: it is not recorded as deployed and nothing was pruned: ${why}`);
    expect(steps(run.calls).slice(2)).toEqual(['planDeploy', 'applyRevision all', 'waitForRevision all + findPrunable', 'runLifecycleJob', 'releaseEnvironments', 'reportOperation failed']);
  }, 30_000);
});
