// drDrill on Temporal's time-skipping test server, with the real clone workflows as its
// children and stub activities: a drill that passes (every phase timed, RTO and RPO, its report
// kept), one whose validation fails (still torn down, and says why), one whose objectives are
// missed, one cancelled midway (torn down), one kept on request, and one whose clone never
// becomes ready.
import { describe, expect, it } from 'vitest';
import type { ClonePlan } from '../../../activities/clone-types.js';
import type { CopyResult } from '../../../activities/data-copy-types.js';
import type { DrillReport } from '../../../domain/drill.js';
import { drDrill, type DrillInput } from '../../../workflows/dr-drill.js';
import { drillStateQuery } from '../../../workflows/messages.js';
import { recordHistory } from '../../support/histories.js';
import { fileWorker, sharedWorkflowBundle, timeSkippingEnv, withWorker } from '../../support/workflow-env.js';
import { type AllActivities, Calls, clonePlan, cloneStubs, deployStubs, permanent, recorded, Switchboard, until } from './stubs.js';

const bundle = sharedWorkflowBundle();
const board = new Switchboard();
const recording = process.env.FLOTILLA_RECORD_HISTORIES !== undefined;
let runs = 0;
const file = fileWorker(board.activities, bundle);

const PASSING = [
  { name: 'workloads ready', ok: true, detail: '3 workloads' },
  { name: 'live objects match revision rev-7', ok: true },
  { name: 'rows of orders-db', ok: true, detail: '60 rows in 3 tables; the copy moved 60' },
];

interface Scenario {
  plan?: Partial<ClonePlan>;
  input?: Partial<DrillInput>;
  stubs?: Partial<AllActivities>;
}

function stubs(s: Scenario, cloneId: string, calls: Calls, reports: DrillReport[]) {
  const plan = clonePlan({ cloneId, data: [{ database: 'orders-db', engine: 'postgres', location: 'container', mode: 'snapshot' }], ...s.plan });
  return recorded(calls, {
    ...deployStubs(() => ({ environment: plan.clone, hasDatabases: true })),
    ...cloneStubs(plan),
    async validateClone() {
      return PASSING;
    },
    async saveDrillReport({ report }: { report: DrillReport }) {
      reports.push(report);
    },
    ...s.stubs,
  });
}

async function drill(s: Scenario = {}, name?: string) {
  const cloneId = `clone-drill-${++runs}-${Date.now()}`;
  const calls = new Calls();
  const reports: DrillReport[] = [];
  board.use(stubs(s, cloneId, calls, reports));
  const handle = await file.env.client.workflow.start(drDrill, {
    taskQueue: file.taskQueue, workflowId: `drill-${runs}-${Date.now()}`, args: [{ cloneId, requestedBy: 'sre', ...s.input }],
  });
  const report = await handle.result();
  if (recording && name) await recordHistory(name, handle);
  return { report, calls, reports, cloneId };
}

describe('drDrill', { timeout: 60_000 }, () => {
  it('passes: clone, validate, tear down, with every phase timed, RTO and RPO against the objectives, and the report kept', async () => {
    const { report, calls, reports, cloneId } = await drill({ input: { objectives: { rtoSeconds: 3600, rpoSeconds: 86_400 * 3650 } } }, 'dr-drill-passed');
    expect(report).toMatchObject({ outcome: 'passed', clone: 'shop-dr', source: 'shop-prod', cluster: 'dr-1', kept: false, tornDown: true, objectivesMet: { rto: true, rpo: true } });
    expect(report.reason).toBeUndefined();
    expect(report.phases.map((p) => p.name)).toEqual([
      'clone: planning', 'clone: checking-data-policy', 'clone: creating-databases', 'clone: copying-data', 'clone: deploying', 'clone: ready',
      'validating', 'tearing-down',
    ]);
    expect(report.phases.every((p) => p.finishedAt !== undefined)).toBe(true);
    expect(report.rtoSeconds).toBeGreaterThanOrEqual(0);
    // RPO: the age of the copied data (the stub's snapshot of 2026-12-01T10:00Z) when the clone was validated.
    expect(report.rpoSeconds).toBeGreaterThan(0);
    expect(report.data).toEqual([{ database: 'orders-db', mode: 'snapshot', rows: 60, bytes: 4096, snapshotAt: '2026-12-01T10:00:00.000Z' }]);
    expect(calls.of('validateClone')).toEqual([{ cloneId, copied: [{ database: 'orders-db', rows: 60 }], http: [] }]);
    expect(calls.of('removeDeployment')).toEqual([{ environment: 'shop-dr' }]);
    expect(reports).toEqual([report]);
    expect(calls.of('reportOperation').at(-1)).toMatchObject({ kind: 'drill', state: 'completed', outcome: 'completed' });
  });

  it('a validation that fails still tears the clone down, and the report says why', async () => {
    const { report, calls } = await drill({
      input: { http: [{ service: 'web', path: '/healthz' }] },
      stubs: { async validateClone() { return [...PASSING, { name: 'GET web/healthz', ok: false, detail: 'answered 503' }]; } },
    }, 'dr-drill-validation-failed');
    expect(report).toMatchObject({ outcome: 'failed', tornDown: true, reason: 'validation failed: GET web/healthz (answered 503)' });
    expect(report.rtoSeconds).toBeUndefined();
    expect(calls.of('removeDeployment')).toHaveLength(1);
    expect(calls.of('reportOperation').at(-1)).toMatchObject({ outcome: 'failed', message: report.reason });
  });

  it('missed objectives fail the drill, naming them', async () => {
    const { report } = await drill({ input: { objectives: { rpoSeconds: 60 } } });
    expect(report).toMatchObject({ outcome: 'failed', objectivesMet: { rpo: false }, tornDown: true });
    expect(report.reason).toMatch(/^objectives missed: RPO \d+(\.\d)?s over the objective of 60s$/);
  });

  it('kept on request: validated, not torn down', async () => {
    const { report, calls } = await drill({ input: { keep: true } });
    expect(report).toMatchObject({ outcome: 'passed', kept: true, tornDown: false });
    expect(calls.of('removeDeployment')).toEqual([]);
    expect(report.phases.map((p) => p.name)).not.toContain('tearing-down');
  });

  it('a clone that never becomes ready fails the drill; the clone removed itself and the teardown finds nothing more to do', async () => {
    const { report, calls } = await drill({
      stubs: { async copyDatabase() { throw permanent('target database orders_db is not empty', 'TargetNotEmpty'); } },
    });
    expect(report).toMatchObject({ outcome: 'failed', reason: 'the clone did not become ready: target database orders_db is not empty' });
    // Once by the failed clone itself; the drill's teardown then finds the clone's record torn down (its stub plan says so only in the real catalog).
    expect(calls.of('removeDeployment').length).toBeGreaterThanOrEqual(1);
    expect(report.tornDown).toBe(true);
  });
});

describe('a drill cancelled midway', { timeout: 60_000 }, () => {
  it('tears the clone down and reports cancelled', async () => {
    // Its own test server: the cancelled validation activity would lock skipped time for the others.
    const own = await timeSkippingEnv();
    const cloneId = `clone-drill-cancel-${Date.now()}`;
    const calls = new Calls();
    const reports: DrillReport[] = [];
    let validating = false;
    const activities = stubs({
      stubs: {
        async validateClone() {
          validating = true;
          // Still checking when the cancel comes; it ends on its own a little later.
          await new Promise((resolve) => setTimeout(resolve, 2_000));
          return PASSING;
        },
        async copyDatabase(input): Promise<CopyResult> {
          return cloneStubs(clonePlan()).copyDatabase(input);
        },
      },
    }, cloneId, calls, reports);
    try {
      const report = await withWorker(own, { activities, workflowBundle: await bundle() }, async (taskQueue) => {
        const handle = await own.client.workflow.start(drDrill, { taskQueue, workflowId: `drill-cancel-${Date.now()}`, args: [{ cloneId, requestedBy: 'sre' }] });
        await until('the validation to start', () => validating);
        expect(await handle.query(drillStateQuery)).toMatchObject({ phase: 'validating', cloneId });
        await handle.cancel();
        return handle.result();
      });
      expect(report).toMatchObject({ outcome: 'cancelled', tornDown: true, reason: 'the drill was cancelled' });
      expect(calls.of('removeDeployment')).toHaveLength(1);
      expect(reports).toHaveLength(1);
    } finally {
      await own.teardown();
    }
  });
});
