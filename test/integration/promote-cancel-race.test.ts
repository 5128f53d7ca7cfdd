// On the tier's real Temporal server (the time-skipping test server differs here): a native
// cancel that arrives while a promotion frees its targets, once it has decided that it
// completed. The activities are stubs (the race is Temporal's handling of the workflow task;
// no cluster takes part); the workflows are the real ones, from the tier's bundle. The cancel
// must change nothing: completed, its targets freed once, its end reported once — never freed
// and then rolled back holding no lock.
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { promote } from '../../workflows/promote.js';
import { tierClient, tierDataConverter, tierWorkflowBundle } from '../support/tier-temporal.js';
import { Calls, deployStubs, Gate, promotionPlan, promotionStubs, recorded, target, until } from '../unit/workflows/stubs.js';

const run = Math.random().toString(36).slice(2, 7);

describe('promotion: a native cancel while it frees its targets (real Temporal server)', () => {
  let client: Client;
  let connection: NativeConnection;
  beforeAll(async () => {
    client = await tierClient();
    connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  });
  afterAll(async () => {
    await connection?.close();
    await client?.connection.close();
  });

  it('changes nothing: completed, freed once, reported once, no target deployed twice', async () => {
    const calls = new Calls();
    const gate = new Gate(20_000);
    const plan = promotionPlan([[target('a'), target('b')]]);
    const activities = recorded(calls, {
      ...deployStubs(), ...promotionStubs(plan),
      async releaseEnvironments() {
        await gate.pass();
      },
    });
    const taskQueue = `cancel-race-${run}`;
    const worker = await Worker.create({
      connection, namespace: inject('temporalNamespace'), taskQueue, workflowBundle: tierWorkflowBundle(), activities, dataConverter: tierDataConverter(),
    });
    const result = await worker.runUntil(async () => {
      const handle = await client.workflow.start(promote, {
        taskQueue, workflowId: `cancel-race-${run}`, args: [{ source: 'shop-staging', requestedBy: 'alice', stages: [{ name: 's1', targets: ['a', 'b'] }] }],
      });
      await until('the release of the targets', () => gate.reached, 30_000);
      await handle.cancel(); // the server has the request once this returns
      gate.open();
      return handle.result();
    });

    expect(result.outcome).toBe('completed');
    expect(calls.of('releaseEnvironments')).toHaveLength(1);
    expect(calls.of('reportOperation').map((r) => r.outcome).filter(Boolean)).toEqual(['completed']);
    expect(calls.of('planDeploy')).toHaveLength(2);
  }, 90_000);
});
