// complianceClone (a schedule's run) on Temporal's time-skipping test server, with the real
// clone, teardown and drill workflows as its children and stub activities: the branches the
// API-level tests (test/unit/api/schedules.test.ts, real catalog) do not reach — the previous
// run's clone cannot be torn down (the run fails, nothing new is written), the new clone fails
// (the run says why), and a run cancelled while its clone is made (the clone is torn down, the
// run ends cancelled).
import { Context } from '@temporalio/activity';
import { describe, expect, it } from 'vitest';
import type { ScheduledRunInput } from '../../../domain/schedule.js';
import { complianceClone } from '../../../workflows/compliance-clone.js';
import { fileWorker, sharedWorkflowBundle, timeSkippingEnv, withWorker } from '../../support/workflow-env.js';
import { type AllActivities, Calls, clonePlan, cloneStubs, deployStubs, permanent, recorded, Switchboard, until } from './stubs.js';

const bundle = sharedWorkflowBundle();
const board = new Switchboard();
const file = fileWorker(board.activities, bundle);

const INPUT: ScheduledRunInput = {
  schedule: 'nightly', kind: 'clone', createdBy: 'olga',
  clone: { source: 'shop-prod', name: 'shop-dr', cluster: 'dr-1', data: { 'orders-db': 'snapshot' }, purpose: 'compliance' },
};
/** A run's workflow id as Temporal Schedules names it: the schedule's prefix and the run's time. */
const runId = (second: number) => `scheduled-nightly-2026-12-03T02:00:0${second}Z`;

function stubs(calls: Calls, extra: Partial<AllActivities> = {}) {
  const plan = clonePlan({ cloneId: 'clone-shop-dr-20261203T020000Z', data: [{ database: 'orders-db', engine: 'postgres', location: 'container', mode: 'snapshot' }] });
  return recorded(calls, {
    ...deployStubs(() => ({ environment: plan.clone, hasDatabases: true })),
    ...cloneStubs(plan),
    async previousClones() {
      return [{ cloneId: 'clone-shop-dr-20261202T020000Z', state: 'ready' as const }];
    },
    async writeScheduledClone() {
      return { written: true };
    },
    ...extra,
  });
}

describe('complianceClone', { timeout: 60_000 }, () => {
  it('the previous run\'s clone cannot be torn down: the run fails saying so, and writes nothing new', async () => {
    const calls = new Calls();
    board.use(stubs(calls, { async removeDeployment() { throw permanent('namespace shop-dr is stuck terminating', 'NamespaceStuck'); } }));
    const result = await file.env.client.workflow.execute(complianceClone, { taskQueue: file.taskQueue, workflowId: runId(1), args: [INPUT] });
    expect(result).toMatchObject({ outcome: 'failed', replaced: [] });
    expect(result.message).toContain('clone-shop-dr-20261202T020000Z could not be torn down');
    expect(calls.of('writeScheduledClone')).toEqual([]);
    expect(calls.of('reportOperation').at(-1)).toMatchObject({ kind: 'compliance-clone', state: 'completed', outcome: 'failed' });
  });

  it('a clone that fails: the run fails with the clone\'s reason, after replacing the previous one', async () => {
    const calls = new Calls();
    board.use(stubs(calls, { async copyDatabase() { throw permanent('target database orders_db is not empty', 'TargetNotEmpty'); } }));
    const result = await file.env.client.workflow.execute(complianceClone, { taskQueue: file.taskQueue, workflowId: runId(2), args: [INPUT] });
    expect(result).toMatchObject({ outcome: 'failed', replaced: ['clone-shop-dr-20261202T020000Z'], message: 'target database orders_db is not empty' });
    expect(calls.of('writeScheduledClone')).toEqual([expect.objectContaining({ schedule: 'nightly', cloneId: 'clone-shop-dr-20261203T020002Z', requestedBy: 'schedule/nightly' })]);
  });
});

describe('a run cancelled while its clone is made', { timeout: 60_000 }, () => {
  it('ends cancelled, and the clone it was making is torn down', async () => {
    // Its own test server: the cancelled copy would lock skipped time for the others.
    const own = await timeSkippingEnv();
    const calls = new Calls();
    let copying = false;
    const activities = stubs(calls, {
      async previousClones() {
        return [];
      },
      // As the real copy does: it heartbeats, and a cancel reaches it through a heartbeat.
      async copyDatabase() {
        copying = true;
        const context = Context.current();
        for (;;) {
          context.heartbeat({ rows: 0 });
          await Promise.race([context.cancelled, context.sleep(200)]);
        }
      },
    });
    try {
      const result = await withWorker(own, { activities, workflowBundle: await bundle() }, async (taskQueue) => {
        const handle = await own.client.workflow.start(complianceClone, { taskQueue, workflowId: runId(3), args: [INPUT] });
        await until('the copy to start', () => copying);
        await handle.cancel();
        return handle.result();
      });
      expect(result).toMatchObject({ outcome: 'cancelled', cloneId: 'clone-shop-dr-20261203T020003Z' });
      expect(calls.of('removeDeployment')).toHaveLength(1);
    } finally {
      await own.teardown();
    }
  });
});
