// cloneEnvironment: plan (rules again, now) → take source and clone → check the data policy
// of every copied database (refused: nothing is made) → the clone's databases → copy the data
// (the source is free again after) → migrations → everything else, rolled out → ready, with
// its TTL's own workflow started. A clone that fails or is cancelled half-made is torn down, and
// the outcome says why: rejected, failed and cancelled are results, not workflow failures.
import {
  ActivityCancellationType, ApplicationFailure, CancellationScope, isCancellation, ParentClosePolicy, proxyActivities, setHandler,
  startChild, workflowInfo,
} from '@temporalio/workflow';
import type { CloneActivities, ClonePlan } from '../activities/clone-types.js';
import type { DataCopyActivities } from '../activities/data-copy-types.js';
import type { DeployActivities, DeployPhase, RevisionTarget } from '../activities/deploy-types.js';
import type { OperationActivities } from '../activities/operations-types.js';
import type { DatabaseCopySummary } from '../domain/clone.js';
import { cloneExpiry } from './clone-expiry.js';
import { copyIdOf, removeClone } from './clone-teardown.js';
import { failureTypeOf, messageOf } from './failures.js';
import { cloneStateQuery, type ClonePhaseName, type CloneState } from './messages.js';

export interface CloneInput {
  /** The clone's record in the catalog (the API wrote it); defaults to the workflow id. */
  cloneId?: string;
  requestedBy: string;
  /** How long each rollout wait may take (default 600 s). */
  rolloutTimeoutSeconds?: number;
}

export type CloneOutcome = 'completed' | 'rejected' | 'failed' | 'cancelled';

export interface CloneResult {
  cloneId: string;
  clone?: string;
  source?: string;
  cluster?: string;
  revision?: string;
  outcome: CloneOutcome;
  message?: string;
  data: DatabaseCopySummary[];
  phases: CloneState['phases'];
  expiresAt?: string;
  /** A clone that did not end ready was removed again. */
  tornDown: boolean;
}

const catalogOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
} as const;
const { planClone, markClone } = proxyActivities<CloneActivities>(catalogOptions);
const { planDeploy, recordDeployment } = proxyActivities<DeployActivities>(catalogOptions);
const { acquireEnvironments, releaseEnvironments, reportOperation } = proxyActivities<OperationActivities>(catalogOptions);
const { checkDataPolicy } = proxyActivities<DataCopyActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});
// A copy heartbeats its progress: a killed worker is noticed within the heartbeat timeout, and
// the retry starts the copy over on a target it resets first.
const { copyDatabase } = proxyActivities<DataCopyActivities>({
  startToCloseTimeout: '6 hours',
  // Also how soon a cancel reaches it: heartbeats go out at most every 0.8 × this.
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});
const { applyRevision } = proxyActivities<DeployActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/** Data-policy refusals and rule violations: the clone is refused, not failed. */
const REFUSALS = new Set(['DataPolicyRefused', 'RuleViolation']);

export async function cloneEnvironment(input: CloneInput): Promise<CloneResult> {
  const id = workflowInfo().workflowId;
  const cloneId = input.cloneId ?? id;
  const state: CloneState = { cloneId, phase: 'planning', phases: [] };
  setHandler(cloneStateQuery, () => state);
  const now = () => new Date().toISOString();
  const enter = (name: ClonePhaseName) => {
    const at = now();
    const open = state.phases[state.phases.length - 1];
    if (open && open.finishedAt === undefined) open.finishedAt = at;
    state.phase = name;
    state.phases.push({ name, startedAt: at });
  };
  const data: DatabaseCopySummary[] = [];
  let plan: ClonePlan | undefined;
  let made = false;
  let expiresAt: string | undefined;
  // The run itself completes whatever the outcome; the outcome says how the clone ended.
  const report = (opState: 'running' | 'completed', outcome?: CloneOutcome, message?: string) =>
    CancellationScope.nonCancellable(() => reportOperation({
      id, kind: 'clone', state: opState, requestedBy: input.requestedBy,
      ...(plan ? { environments: [plan.clone, plan.source], clusters: [plan.cluster] } : {}),
      ...(outcome ? { outcome } : {}),
      ...(message !== undefined ? { message } : {}),
    }));

  let outcome: CloneOutcome = 'completed';
  let message: string | undefined;
  try {
    enter('planning');
    plan = await planClone({ cloneId, at: now() });
    state.clone = plan.clone;
    await acquireEnvironments({ holder: id, environments: [plan.clone, plan.source] });
    await report('running');
    if (!plan.verdict.allowed) {
      throw ApplicationFailure.nonRetryable(
        `refused by organisation rules: ${plan.verdict.violations.map((v) => `${v.rule} (${v.object} ${v.field}): ${v.message}`).join('; ')}`,
        'RuleViolation',
      );
    }
    await checkPolicies(plan);
    made = true;
    await build(plan);
    enter('ready');
    if (plan.ttlSeconds !== undefined) expiresAt = new Date(Date.now() + plan.ttlSeconds * 1000).toISOString();
    await markClone({ cloneId, state: 'ready', dataResult: data, ...(expiresAt ? { expiresAt } : {}) });
    if (expiresAt) {
      await startChild(cloneExpiry, {
        workflowId: `expire-${cloneId}`,
        args: [{ cloneId, clone: plan.clone, expiresAt, requestedBy: input.requestedBy }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    }
  } catch (error) {
    outcome = isCancellation(error) ? 'cancelled' : REFUSALS.has(failureTypeOf(error) ?? '') ? 'rejected' : 'failed';
    message = messageOf(error);
    state.message = message;
    await CancellationScope.nonCancellable(() => undo(plan, made));
    enter(outcome);
  } finally {
    await CancellationScope.nonCancellable(() => releaseEnvironments({ holder: id }));
  }
  const last = state.phases[state.phases.length - 1];
  if (last && last.finishedAt === undefined) last.finishedAt = now();
  await report('completed', outcome, message);
  return {
    cloneId, clone: plan?.clone, source: plan?.source, cluster: plan?.cluster, revision: plan?.revision,
    outcome, ...(message !== undefined ? { message } : {}), data, phases: state.phases,
    ...(expiresAt ? { expiresAt } : {}), tornDown: outcome !== 'completed',
  };

  /** Refuses before anything exists when a copied database's rules do not fit its source. */
  async function checkPolicies(p: ClonePlan): Promise<void> {
    const copied = p.data.filter((d) => d.mode === 'snapshot' || d.mode === 'scrubbed');
    if (copied.length === 0) return;
    enter('checking-data-policy');
    for (const db of copied) {
      await checkDataPolicy({ source: { environment: p.source, database: db.database }, mode: db.mode, strict: p.strictDataPolicy, revision: p.revision });
    }
  }

  /** The clone's databases, their data, migrations, then everything else. */
  async function build(p: ClonePlan): Promise<void> {
    const { waitForRevision } = proxyActivities<DeployActivities>({
      startToCloseTimeout: `${(input.rolloutTimeoutSeconds ?? 600) + 60} seconds`,
      heartbeatTimeout: '15 seconds',
      retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
    });
    const deploy = await planDeploy({ environment: p.clone, revision: p.revision, at: now() });
    const target: RevisionTarget = { environment: deploy.environment, revision: deploy.revision, overridesVersion: deploy.overridesVersion };
    const roll = async (phase: DeployPhase) => {
      await applyRevision({ ...target, phase });
      await waitForRevision({ ...target, phase, timeoutSeconds: input.rolloutTimeoutSeconds ?? 600 });
    };
    if (deploy.hasDatabases) {
      enter('creating-databases');
      await roll('databases');
    }
    const copies = p.data.filter((d) => d.mode !== 'none');
    if (copies.length > 0) {
      enter('copying-data');
      for (const db of copies) {
        state.copying = db.database;
        const started = Date.now();
        const copied = await copyDatabase({
          copyId: copyIdOf(cloneId, db.database), mode: db.mode, strict: p.strictDataPolicy, revision: p.revision,
          source: { environment: p.source, database: db.database }, target: { environment: p.clone, database: db.database },
        });
        data.push({
          database: db.database, mode: db.mode, tables: copied.tables.length, rows: copied.rows,
          bytes: copied.bytes, durationMs: Date.now() - started,
          ...(copied.snapshotAt ? { snapshotAt: copied.snapshotAt } : {}),
          ...(copied.unruledPersonal?.length ? { unruledPersonal: copied.unruledPersonal } : {}),
        });
      }
      state.copying = undefined;
    }
    // The source is read no more: its own changes may go on while the clone finishes.
    await releaseEnvironments({ holder: id, environments: [p.source] });
    if (deploy.hasMigrations) {
      enter('migrating');
      await roll('migrations');
    }
    enter('deploying');
    await roll('all');
    await recordDeployment({ ...target, requestedBy: input.requestedBy, operationId: id, kind: 'clone', desired: deploy.revision });
  }

  /** A clone that will not be: remove what was made (nothing when it was refused first), keep its record. */
  async function undo(p: ClonePlan | undefined, built: boolean): Promise<void> {
    if (!p) {
      await markClone({ cloneId, state: 'failed', message: message ?? 'failed before its plan' }).catch(() => undefined);
      return;
    }
    enter('tearing-down');
    try {
      if (built) await removeClone({ cloneId, clone: p.clone, data: p.data, reason: message ?? outcome });
      else await forgetOnly(p, message ?? outcome);
    } catch (error) {
      // The clone's parts stay for a teardown to finish; its record says so.
      await markClone({ cloneId, state: 'failed', message: `${message ?? outcome}; teardown failed: ${messageOf(error)}` });
    }
  }
}

/** Nothing was made in a cluster: only the catalog's environment goes. */
async function forgetOnly(p: ClonePlan, reason: string): Promise<void> {
  const { forgetCloneEnvironment } = proxyActivities<CloneActivities>(catalogOptions);
  await forgetCloneEnvironment({ cloneId: p.cloneId, reason });
}
