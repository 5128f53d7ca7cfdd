// The clone workflows (cloneEnvironment, cloneExpiry, teardownClone) on Temporal's
// time-skipping test server with stub activities: the order of a clone's steps (policy checks
// before anything is made, data after the databases and before migrations, the source freed
// once its data is read), refusals and failures as outcomes that leave nothing behind, a TTL
// that tears the clone down on time, an extended and a cancelled TTL, and an early teardown
// that stops the clock.
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Context } from '@temporalio/activity';
import type { ClonePlan } from '../../../activities/clone-types.js';
import type { CopyResult } from '../../../activities/data-copy-types.js';
import type { DeployPlan } from '../../../activities/deploy-types.js';
import { cloneEnvironment } from '../../../workflows/clone-environment.js';
import { cancelTtlUpdate, cloneExpiryQuery, cloneStateQuery, extendTtlUpdate } from '../../../workflows/messages.js';
import { teardownClone } from '../../../workflows/teardown-clone.js';
import { recordHistory } from '../../support/histories.js';
import { sharedWorkflowBundle, startWorker, timeSkippingEnv, withWorker, type RunningWorker } from '../../support/workflow-env.js';
import {
  type AllActivities, Calls, clonePlan, cloneStubs, deployStubs, permanent, recorded, refused, Switchboard, until,
} from './stubs.js';

const bundle = sharedWorkflowBundle();
const board = new Switchboard();
let env: TestWorkflowEnvironment;
let shared: RunningWorker;
let runs = 0;

beforeAll(async () => {
  const [started, workflowBundle] = await Promise.all([timeSkippingEnv(), bundle()]);
  env = started;
  shared = await startWorker(env, { activities: board.activities, workflowBundle });
}, 120_000);
afterAll(async () => {
  await shared?.stop();
  await env?.teardown();
});

interface Scenario {
  plan?: Partial<ClonePlan>;
  deploy?: Partial<DeployPlan>;
  stubs?: Partial<AllActivities>;
}

function use(s: Scenario, cloneId: string): Calls {
  const calls = new Calls();
  const plan = clonePlan({ cloneId, ...s.plan });
  board.use(recorded(calls, {
    ...deployStubs(() => ({ environment: plan.clone, tier: 'dr', hasDatabases: true, ...s.deploy })),
    ...cloneStubs(plan),
    ...s.stubs,
  }));
  return calls;
}

/**
 * Runs a clone to its end. Through a plain client: waiting for its result does not skip time, so
 * a TTL clock it starts is still at its beginning when the test gets the result (the test
 * environment's own client skips time whenever it waits, up to the clock's timer).
 */
async function clone(s: Scenario = {}) {
  const cloneId = `clone-${++runs}-${Date.now()}`;
  const calls = use(s, cloneId);
  const handle = await plain().workflow.start(cloneEnvironment, { taskQueue: shared.taskQueue, workflowId: cloneId, args: [{ requestedBy: 'sam' }] });
  const result = await handle.result();
  return { result, calls, cloneId, handle, clock: plain().workflow.getHandle(`expire-${cloneId}`) };
}

const recording = process.env.FLOTILLA_RECORD_HISTORIES !== undefined;
/** Keeps a run's history for the replay test when recording (FLOTILLA_RECORD_HISTORIES). */
async function keep(name: string, handle: { workflowId: string; fetchHistory: () => Promise<unknown> }): Promise<void> {
  if (recording) await recordHistory(name, handle as Parameters<typeof recordHistory>[1]);
}

let plainClient: Client | undefined;
const plain = () => (plainClient ??= new Client({ connection: env.connection, namespace: env.namespace }));

/** Each call as "activity detail": the phase, state or database it was about. */
function steps(calls: Calls): string[] {
  return calls.all.map(({ name, input }) => {
    const detail = input.phase ?? input.state ?? (input.source as { database?: string } | undefined)?.database
      ?? (input.target as { database?: string } | undefined)?.database ?? (input.environments as string[] | undefined)?.join('+');
    return [name, detail].filter((x) => x !== undefined).join(' ');
  });
}

describe('cloneEnvironment', { timeout: 60_000 }, () => {
  it('checks every copied database\'s policy first, copies after the databases are up, frees the source, then rolls out the rest', async () => {
    const { result, calls, cloneId, handle } = await clone({ deploy: { hasMigrations: true } });
    expect(result.outcome).toBe('completed');
    await keep('clone-environment-with-data', handle);
    expect(steps(calls)).toEqual([
      'planClone', 'acquireEnvironments shop-dr+shop-prod', 'reportOperation running',
      'checkDataPolicy orders-db', 'checkDataPolicy ledger',
      'planDeploy', 'applyRevision databases', 'waitForRevision databases',
      'copyDatabase orders-db', 'copyDatabase ledger',
      'releaseEnvironments shop-prod',
      'applyRevision migrations', 'waitForRevision migrations',
      'applyRevision all', 'waitForRevision all', 'recordDeployment',
      'markClone ready', 'releaseEnvironments', 'reportOperation completed',
    ]);
    const [orders, ledger] = calls.of('copyDatabase');
    expect(orders).toMatchObject({ copyId: `${cloneId}/orders-db`, mode: 'snapshot', source: { environment: 'shop-prod' }, target: { environment: 'shop-dr' } });
    expect(ledger).toMatchObject({ copyId: `${cloneId}/ledger`, mode: 'scrubbed' });
    expect(calls.of('recordDeployment')[0]).toMatchObject({ environment: 'shop-dr', revision: 'rev-7', kind: 'clone', desired: 'rev-7' });
    // 10 + 20 + 30 rows in 3 tables, per database, as the stub copy reported.
    expect(result.data).toEqual([
      expect.objectContaining({ database: 'orders-db', mode: 'snapshot', tables: 3, rows: 60, bytes: 4096, snapshotAt: '2026-12-01T10:00:00.000Z' }),
      expect.objectContaining({ database: 'ledger', mode: 'scrubbed', tables: 3, rows: 60 }),
    ]);
    expect(calls.of('markClone')[0]!.dataResult).toEqual(result.data);
    expect(result.phases.map((p) => p.name)).toEqual(['planning', 'checking-data-policy', 'creating-databases', 'copying-data', 'migrating', 'deploying', 'ready']);
    expect(result.phases.every((p) => p.finishedAt !== undefined)).toBe(true);
    expect(result).toMatchObject({ clone: 'shop-dr', source: 'shop-prod', cluster: 'dr-1', revision: 'rev-7', tornDown: false });
    expect(result.expiresAt).toBeUndefined();
  });

  it('copies nothing and checks no policy for a clone without data', async () => {
    const { result, calls } = await clone({ plan: { data: [{ database: 'orders-db', engine: 'postgres', location: 'container', mode: 'none' }] } });
    expect(result.outcome).toBe('completed');
    expect(calls.of('checkDataPolicy')).toEqual([]);
    expect(calls.of('copyDatabase')).toEqual([]);
    expect(result.data).toEqual([]);
  });

  it('is rejected by the rules as they are now, with nothing made: only its catalog entry goes', async () => {
    const { result, calls } = await clone({ plan: { verdict: refused } });
    expect(result.outcome).toBe('rejected');
    expect(result.message).toContain('forbidLatestTag');
    expect(steps(calls)).toEqual([
      'planClone', 'acquireEnvironments shop-dr+shop-prod', 'reportOperation running',
      'forgetCloneEnvironment', 'releaseEnvironments', 'reportOperation completed',
    ]);
    expect(calls.of('reportOperation').at(-1)).toMatchObject({ state: 'completed', outcome: 'rejected' });
    expect(result.tornDown).toBe(true);
  });

  it('is rejected when a data policy names a column the source lacks: nothing is made, nothing copied', async () => {
    const { result, calls, handle } = await clone({
      stubs: {
        async checkDataPolicy({ source }) {
          if (source.database === 'ledger') throw permanent('table public.customers has no column "mail"', 'DataPolicyRefused');
          return { tables: 3, unruledPersonal: [] };
        },
      },
    });
    expect(result.outcome).toBe('rejected');
    await keep('clone-environment-policy-refused', handle);
    expect(result.message).toBe('table public.customers has no column "mail"');
    expect(calls.of('applyRevision')).toEqual([]);
    expect(calls.of('copyDatabase')).toEqual([]);
    expect(calls.of('removeDeployment')).toEqual([]);
    expect(calls.of('forgetCloneEnvironment')[0]).toMatchObject({ reason: 'table public.customers has no column "mail"' });
  });

  it('fails when a copy fails for good, and removes what it made: objects, the copied external data, the catalog entry', async () => {
    const { result, calls, cloneId, handle } = await clone({
      stubs: {
        async copyDatabase(input) {
          if (input.target.database === 'ledger') throw permanent('target database ledger is not empty and carries no marker of this copy', 'TargetNotEmpty');
          return cloneStubs(clonePlan()).copyDatabase(input);
        },
      },
    });
    expect(result.outcome).toBe('failed');
    await keep('clone-environment-copy-failed', handle);
    expect(result.message).toContain('not empty');
    expect(steps(calls).slice(steps(calls).indexOf('copyDatabase ledger'))).toEqual([
      'copyDatabase ledger', 'removeDeployment', 'dropClonedData ledger', 'forgetCloneEnvironment', 'releaseEnvironments', 'reportOperation completed',
    ]);
    expect(calls.of('dropClonedData')[0]).toMatchObject({ copyId: `${cloneId}/ledger` });
    expect(calls.of('reportOperation').at(-1)).toMatchObject({ outcome: 'failed' });
    expect(result.phases.map((p) => p.name).slice(-2)).toEqual(['tearing-down', 'failed']);
  });

});

describe('a clone with a TTL', { timeout: 60_000 }, () => {
  // Each test its own test server: skipped time is global to a server, and a clock left waiting
  // by one test would have its timer skipped to by the next one's waits.
  let outer: { env: TestWorkflowEnvironment; shared: RunningWorker } | undefined;
  beforeEach(async () => {
    outer = { env, shared };
    env = await timeSkippingEnv();
    shared = await startWorker(env, { activities: board.activities, workflowBundle: await bundle() });
    plainClient = undefined;
  });
  afterEach(async () => {
    await shared.stop();
    await env.teardown();
    ({ env, shared } = outer!);
    plainClient = undefined;
  });

  it('tears itself down when its TTL runs out, and not before', async () => {
    const { result, calls, cloneId, clock } = await clone({ plan: { ttlSeconds: 3600, data: [] } });
    expect(result.outcome).toBe('completed');
    expect(calls.of('markClone')[0]).toMatchObject({ state: 'ready', expiresAt: result.expiresAt });
    const waiting = await clock.query(cloneExpiryQuery);
    expect(waiting).toMatchObject({ phase: 'waiting', expiresAt: result.expiresAt });
    expect(waiting.remainingSeconds).toBeGreaterThan(3500);
    expect(calls.of('removeDeployment')).toEqual([]);
    // Waiting for the clock's end (through the environment's client) skips to its timer.
    const ended = await env.client.workflow.getHandle(`expire-${cloneId}`).result();
    expect(ended.phase).toBe('torn-down');
    expect(calls.of('removeDeployment')).toEqual([{ environment: 'shop-dr' }]);
    expect(calls.of('forgetCloneEnvironment')[0]!.reason).toBe(`TTL expired at ${result.expiresAt}`);
    const teardown = plain().workflow.getHandle(`teardown-${cloneId}`);
    expect(await teardown.result()).toMatchObject({ outcome: 'completed', alreadyTornDown: false });
    // The durable timer fired at the expiry: the teardown started no earlier.
    expect((await teardown.describe()).startTime.getTime()).toBeGreaterThanOrEqual(Date.parse(result.expiresAt!));
  });

  it('an extended TTL moves the teardown later; the catalog hears of the new expiry', async () => {
    const { result, calls, cloneId, clock } = await clone({ plan: { ttlSeconds: 3600, data: [] } });
    const later = new Date(Date.parse(result.expiresAt!) + 2 * 3600_000).toISOString();
    const extended = await clock.executeUpdate(extendTtlUpdate, { args: [{ by: 'sam', until: later }] });
    expect(extended.expiresAt).toBe(later);
    expect(calls.of('markClone').at(-1)).toMatchObject({ state: 'ready', expiresAt: later });
    expect(await clock.query(cloneExpiryQuery)).toMatchObject({ phase: 'waiting', expiresAt: later });
    await env.client.workflow.getHandle(`expire-${cloneId}`).result();
    await keep('clone-expiry-extended', clock);
    await keep('teardown-clone-by-expiry', plain().workflow.getHandle(`teardown-${cloneId}`));
    expect(calls.of('removeDeployment')).toHaveLength(1);
    const started = (await plain().workflow.getHandle(`teardown-${cloneId}`).describe()).startTime.getTime();
    expect(started).toBeGreaterThanOrEqual(Date.parse(later));
  });

  it('refuses an extension to a time already past', async () => {
    const { result, clock } = await clone({ plan: { ttlSeconds: 3600, data: [] } });
    const past = new Date(Date.parse(result.expiresAt!) - 7200_000).toISOString();
    const refusal = await clock.executeUpdate(extendTtlUpdate, { args: [{ by: 'sam', until: past }] }).then(() => undefined, (error: unknown) => error);
    expect((refusal as Error).cause).toMatchObject({ message: 'the new expiry must be later than now', type: 'InvalidTtl' });
    await clock.executeUpdate(cancelTtlUpdate, { args: [{ by: 'sam' }] });
    await clock.result();
  });

  it('a cancelled TTL keeps the clone: the clock ends and nothing is torn down', async () => {
    const { calls, cloneId, clock } = await clone({ plan: { ttlSeconds: 3600, data: [] } });
    const cancelled = await clock.executeUpdate(cancelTtlUpdate, { args: [{ by: 'sam' }] });
    expect(cancelled).toMatchObject({ phase: 'cancelled' });
    expect(cancelled.expiresAt).toBeUndefined();
    expect(calls.of('markClone').at(-1)).toMatchObject({ expiresAt: null });
    expect(await clock.result()).toMatchObject({ phase: 'cancelled' });
    // The clock is over: no teardown was or will be started by it.
    await expect(plain().workflow.getHandle(`teardown-${cloneId}`).describe()).rejects.toThrow(/not found/i);
    expect(calls.of('removeDeployment')).toEqual([]);
  });

  it('a teardown asked for early stops the clock and removes the clone once', async () => {
    // The catalog's record of a clone whose clock runs carries its expiry.
    const { calls, cloneId, clock } = await clone({ plan: { ttlSeconds: 3600, expiresAt: '2099-01-01T00:00:00.000Z', data: [] } });
    const teardown = await plain().workflow.execute(teardownClone, {
      taskQueue: shared.taskQueue, workflowId: `teardown-early-${cloneId}`, args: [{ cloneId, requestedBy: 'sam', reason: 'done with it' }],
    });
    expect(teardown).toMatchObject({ outcome: 'completed', clone: 'shop-dr' });
    expect(await clock.result()).toMatchObject({ phase: 'cancelled' });
    await keep('teardown-clone-early', plain().workflow.getHandle(`teardown-early-${cloneId}`));
    await keep('clone-expiry-stopped-by-teardown', clock);
    expect(calls.of('removeDeployment')).toHaveLength(1);
    expect(calls.of('forgetCloneEnvironment')[0]).toMatchObject({ reason: 'done with it' });
  });

  it('a teardown of a clone already torn down does nothing', async () => {
    const cloneId = `clone-gone-${++runs}`;
    const calls = use({ plan: { state: 'torn-down' } }, cloneId);
    const teardown = await plain().workflow.execute(teardownClone, { taskQueue: shared.taskQueue, workflowId: `teardown-${cloneId}`, args: [{ cloneId, requestedBy: 'sam' }] });
    expect(teardown).toMatchObject({ outcome: 'completed', alreadyTornDown: true });
    expect(calls.names()).toEqual(['planClone']);
  });
});

describe('a clone cancelled while copying', { timeout: 60_000 }, () => {
  it('stops the copy, tears the clone down, and ends as cancelled', async () => {
    // Its own test server: the cancelled copy activity would keep time skipping locked for the
    // TTL tests that share the file's server.
    const own = await timeSkippingEnv();
    const cloneId = `clone-cancel-${Date.now()}`;
    const calls = new Calls();
    const plan = clonePlan({ cloneId });
    let copying = false;
    let copyCancelled = false;
    const activities = recorded(calls, {
      ...deployStubs(() => ({ environment: plan.clone, hasDatabases: true })),
      ...cloneStubs(plan),
      // As a real copy does: heartbeats while it streams, and stops when its cancel arrives with one.
      async copyDatabase(): Promise<CopyResult> {
        copying = true;
        const ctx = Context.current();
        try {
          for (;;) {
            ctx.heartbeat({ rows: 1 });
            await ctx.sleep(50);
          }
        } catch (error) {
          copyCancelled = true;
          throw error;
        }
      },
    });
    try {
      // The worker sends a heartbeat (and so learns of the cancel) at most every second, not 80 %
      // of the 15 s heartbeat timeout: the same way in, without waiting out the throttle.
      const result = await withWorker(own, { activities, workflowBundle: await bundle(), worker: { maxHeartbeatThrottleInterval: '1 second' } }, async (taskQueue) => {
        const handle = await own.client.workflow.start(cloneEnvironment, { taskQueue, workflowId: cloneId, args: [{ requestedBy: 'sam' }] });
        await until('the copy to start', () => copying);
        expect(await handle.query(cloneStateQuery)).toMatchObject({ phase: 'copying-data', copying: 'orders-db' });
        await handle.cancel();
        return handle.result();
      });
      expect(result.outcome).toBe('cancelled');
      expect(copyCancelled).toBe(true);
      expect(calls.of('removeDeployment')).toHaveLength(1);
      expect(calls.of('forgetCloneEnvironment')).toHaveLength(1);
      expect(calls.of('recordDeployment')).toEqual([]);
      expect(calls.of('markClone').map((m) => m.state)).not.toContain('ready');
    } finally {
      await own.teardown();
    }
  });
});
