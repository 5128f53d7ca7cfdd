// Stub activities for the workflow unit tests: plain functions that return canned values and
// record every call (name and input, in order), so a test can say which activities ran, with
// what, and in which order. Nothing here re-implements what a workflow decides.
import { Context } from '@temporalio/activity';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { CloneActivities, ClonePlan } from '../../../activities/clone-types.js';
import type { DataCopyActivities } from '../../../activities/data-copy-types.js';
import type { DeployActivities, DeployPlan } from '../../../activities/deploy-types.js';
import type { DrillActivities } from '../../../activities/drill-types.js';
import type { OffboardingActivities } from '../../../activities/offboarding-types.js';
import type { StopStartActivities } from '../../../activities/stop-start-types.js';
import type { OnboardingActivities } from '../../../activities/onboarding-types.js';
import type { OperationActivities } from '../../../activities/operations-types.js';
import type { PlannedTarget, PromotionActivities, PromotionPlan } from '../../../activities/promotion-types.js';
import type { ScheduleActivities } from '../../../activities/schedule-types.js';
import type { TeardownActivities } from '../../../activities/teardown-types.js';
import type { RulesVerdict } from '../../../domain/rules.js';

export type AllActivities = DeployActivities & OperationActivities & PromotionActivities & OnboardingActivities & CloneActivities & DataCopyActivities & DrillActivities
  & ScheduleActivities & TeardownActivities & OffboardingActivities & StopStartActivities;
type AnyActivity = (input: never) => Promise<unknown>;

export interface Call {
  name: string;
  input: Record<string, unknown>;
}

/** Every call the stubs received, in the order the worker ran them. */
export class Calls {
  readonly all: Call[] = [];

  /** The inputs of one activity's calls, in order. */
  of(name: keyof AllActivities): Record<string, unknown>[] {
    return this.all.filter((c) => c.name === name).map((c) => c.input);
  }

  names(): string[] {
    return this.all.map((c) => c.name);
  }
}

/** Wraps every stub so that it records its call before it runs. */
export function recorded<T extends object>(calls: Calls, stubs: T): T {
  return Object.fromEntries(Object.entries(stubs).map(([name, fn]) => [name, (input: never) => {
    calls.all.push({ name, input: input as Record<string, unknown> });
    return (fn as AnyActivity)(input);
  }])) as T;
}

/** A non-retryable failure that stays out of the test output (BENIGN: logged at DEBUG, not WARN). */
export function permanent(message: string, type: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true, category: ApplicationFailureCategory.BENIGN });
}

/** A failure the activity's retry policy retries (BENIGN: quiet in the test output). */
export function transient(message: string, type = 'Transient'): ApplicationFailure {
  return ApplicationFailure.create({ message, type, category: ApplicationFailureCategory.BENIGN });
}

export const allowed: RulesVerdict = { allowed: true, violations: [], warnings: [], approval: { required: 0, fourEyes: false, tiers: [] } };

export const refused: RulesVerdict = {
  allowed: false,
  violations: [{ rule: 'forbidLatestTag', severity: 'error', object: 'service/shop/web', field: 'spec.app.services[0].image', message: 'image tag "latest" is not allowed' }],
  warnings: [],
  approval: { required: 0, fourEyes: false, tiers: [] },
};

/**
 * Canned deploy and lock activities: planDeploy answers with `plan` (what a real plan would
 * say about the environment), every other activity with a fixed value.
 */
export function deployStubs(plan: (input: { environment: string; revision?: string; overridesVersion?: number }) => Partial<DeployPlan> = () => ({})): DeployActivities & OperationActivities {
  return {
    async planDeploy(input) {
      return {
        environment: input.environment, cluster: 'cluster-1', namespace: input.environment, tier: 'prod',
        revision: input.revision ?? 'rev-desired', overridesVersion: input.overridesVersion ?? 3,
        verdict: allowed, hasDatabases: false, hasMigrations: false, objects: 4,
        ...plan(input),
      };
    },
    async applyRevision() {
      return { created: 1, configured: 2, unchanged: 3 };
    },
    async waitForRevision() {
      return [{ kind: 'Deployment', name: 'web', ready: 2, desired: 2, done: true }];
    },
    async pruneRevision() {
      return { deleted: ['ConfigMap/old-config'] };
    },
    async findPrunable() {
      return { objects: [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'old-config', uid: 'uid-old-config' }] };
    },
    async recordDeployment() {
      return { changed: true };
    },
    async removeDeployment() {
      return { deleted: ['Deployment/web', 'Service/web'], namespaceDeleted: false };
    },
    async recordUndeploy() {},
    async runLifecycleJob({ hook }) {
      return { hook, revision: 'rev-desired', jobs: [`${hook}-job`] };
    },
    async acquireEnvironments() {},
    async releaseEnvironments() {},
    async reportOperation() {},
  };
}

/** A planned target as planPromotion would return it for an environment that runs rev-1 today. */
export function target(environment: string, extra: Partial<PlannedTarget> = {}): PlannedTarget {
  return {
    environment, cluster: `${environment}-cluster`, namespace: 'shop', tier: 'prod',
    previousRevision: 'rev-1', previousOverridesVersion: 1, previousDesired: 'rev-1', overridesVersion: 2, waits: 1,
    ...extra,
  };
}

/** A plan for rev-2 with these targets per stage, no approvals unless `approvals` says. */
export function promotionPlan(stages: PlannedTarget[][], approvals: PromotionPlan['stages'][number]['approval'][] = [], verdict: RulesVerdict = allowed): PromotionPlan {
  return {
    revision: 'rev-2',
    stages: stages.map((targets, i) => ({ targets, approval: approvals[i] ?? { required: false, fourEyes: false } })),
    verdict,
  };
}

/** Promotion activities answering with `plan` and healthy checks. */
export function promotionStubs(plan: PromotionPlan): PromotionActivities {
  return {
    async planPromotion() {
      return plan;
    },
    async checkHealth() {
      return { healthy: true };
    },
  };
}

/** A clone of shop-prod as shop-dr on cluster dr-1, with its orders-db (container) and ledger (external) as `data` says. */
export function clonePlan(extra: Partial<ClonePlan> = {}): ClonePlan {
  return {
    cloneId: 'clone-1', clone: 'shop-dr', source: 'shop-prod', revision: 'rev-7', cluster: 'dr-1', namespace: 'shop-dr',
    purpose: 'drill', state: 'creating', strictDataPolicy: false, verdict: allowed,
    data: [
      { database: 'orders-db', engine: 'postgres', location: 'container', mode: 'snapshot' },
      { database: 'ledger', engine: 'postgres', location: 'external', mode: 'scrubbed' },
    ],
    ...extra,
  };
}

/** Clone and data activities answering for `plan`: policies pass, each copy moves 3 tables. */
export function cloneStubs(plan: ClonePlan): CloneActivities & DataCopyActivities {
  return {
    async planClone() {
      return plan;
    },
    async markClone() {},
    async forgetCloneEnvironment() {},
    async checkDataPolicy() {
      return { tables: 3, unruledPersonal: [] };
    },
    async copyDatabase({ copyId, mode }) {
      const table = (name: string, rows: number) => ({ name, rows, bytes: rows * 10, checksum: 'c0ffee', format: 'binary' as const, masked: [] });
      return {
        copyId, mode, tables: [table('public.customers', 10), table('public.orders', 20), table('public.items', 30)], rows: 60, bytes: 4096,
        snapshotAt: '2026-12-01T10:00:00.000Z', phases: { schemaMs: 1, dataMs: 2, postDataMs: 3 }, durationMs: 6, unruledPersonal: [], attempt: 1,
      };
    },
    async dropClonedData() {
      return { outcome: 'dropped' as const };
    },
  };
}

/**
 * A gate an activity stub waits at until the test opens it (or `fallbackMs` of real time pass,
 * so that a failing test never leaves an activity that blocks the worker's shutdown).
 */
export class Gate {
  private release!: () => void;
  private readonly opened = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  reached = false;

  constructor(private readonly fallbackMs = 10_000) {}

  async pass(): Promise<void> {
    this.reached = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.opened, new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.fallbackMs);
    })]);
    clearTimeout(timer);
  }

  open(): void {
    this.release();
  }
}

/** Polls (real time, every 20 ms) until `probe` holds, or fails naming `what`. */
export async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Every activity a workflow of this project may call. */
export const ACTIVITY_NAMES = [
  'planDeploy', 'applyRevision', 'pruneRevision', 'findPrunable', 'waitForRevision', 'recordDeployment', 'removeDeployment', 'recordUndeploy', 'runLifecycleJob',
  'acquireEnvironments', 'releaseEnvironments', 'reportOperation', 'planPromotion', 'checkHealth',
  'probeCluster', 'installBaseline', 'removeBaseline', 'readCapacity', 'setClusterStatus',
  'planClone', 'markClone', 'forgetCloneEnvironment', 'checkDataPolicy', 'copyDatabase', 'dropClonedData',
  'validateClone', 'saveDrillReport', 'previousClones', 'writeScheduledClone',
  'planTeardown', 'removeEnvironmentObjects', 'forgetEnvironment', 'planOffboarding', 'finishOffboarding',
  'planStopStart', 'stopWorkloads', 'startWorkloads', 'markStarted', 'lifecycleTargets',
] as const satisfies readonly (keyof AllActivities)[];
// Fails to compile when an activity is added to a contract but not to the list above.
const everyActivityListed: Exclude<keyof AllActivities, (typeof ACTIVITY_NAMES)[number]> extends never ? true : never = true;
void everyActivityListed;

/**
 * The activities of a worker shared by a whole test file: each call goes to the stubs the
 * running test chose with `use` (tests of one file run one after another).
 */
export class Switchboard {
  private current: Partial<Record<string, AnyActivity>> = {};
  private readonly searches = new Map<string, { ended: Promise<void>; end(): void }>();

  readonly activities: Record<string, AnyActivity> = Object.fromEntries(ACTIVITY_NAMES.map((name) => [name, (input: never) => {
    const stub = this.current[name];
    if (!stub) throw new Error(`no stub for activity ${name} in this test`);
    if (name === 'findPrunable') return stub(input).finally(() => this.search().end());
    if (name === 'waitForRevision' && (input as { phase?: string }).phase === 'all') return stub(input).catch((error: unknown) => this.afterSearch(error));
    return stub(input);
  }]));

  /** This run's prune search: its end, however it ended. */
  private search() {
    const run = Context.current().info.workflowExecution?.runId ?? '';
    let entry = this.searches.get(run);
    if (!entry) {
      let end!: () => void;
      const ended = new Promise<void>((resolve) => (end = resolve));
      entry = { ended, end };
      this.searches.set(run, entry);
    }
    return entry;
  }

  /**
   * A failed rollout wait is reported only once the same run's prune search has ended (or after
   * 2 s). A deploy cancels its search when its wait fails, and the time-skipping test server
   * refuses a workflow task that cancels an activity which completed while that task ran
   * (temporalio/sdk-java#2391; the real server records the cancel and goes on): the run would hang.
   */
  private async afterSearch(error: unknown): Promise<never> {
    await Promise.race([this.search().ended, sleep(2_000)]);
    await sleep(50); // the search's own completion reaches the server first
    throw error;
  }

  use(stubs: object): void {
    this.current = stubs as Partial<Record<string, AnyActivity>>;
  }
}
