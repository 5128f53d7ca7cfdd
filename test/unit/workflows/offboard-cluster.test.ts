// The real offboardCluster workflow (and its teardownEnvironment children) on Temporal's
// time-skipping test server, with stub activities: a cluster with nothing bound loses its
// baseline and is marked offboarded; environments bound refuse it without drain; a drain tears
// each down first; a drained environment that is not torn down stops it before the baseline goes.
import type { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { LifecycleJobActivities } from '../../../activities/lifecycle-jobs-types.js';
import type { OffboardingActivities, OffboardingPlan } from '../../../activities/offboarding-types.js';
import type { OnboardingActivities } from '../../../activities/onboarding-types.js';
import type { OperationActivities } from '../../../activities/operations-types.js';
import type { TeardownActivities, TeardownPlan } from '../../../activities/teardown-types.js';
import { offboardCluster, type OffboardClusterInput } from '../../../workflows/offboard-cluster.js';
import { keepHistory } from '../../support/histories.js';
import { fileWorker, sharedWorkflowBundle } from '../../support/workflow-env.js';
import { Calls, recorded, Switchboard } from './stubs.js';

const bundle = sharedWorkflowBundle();
const board = new Switchboard();
const file = fileWorker(board.activities, bundle);
let runs = 0;
const keep = keepHistory;

type Stubs = OffboardingActivities & Pick<OnboardingActivities, 'removeBaseline'> & TeardownActivities & OperationActivities & LifecycleJobActivities;

function stubs(plan: OffboardingPlan, overrides: Partial<Stubs> = {}): Stubs {
  return {
    async planOffboarding() {
      return plan;
    },
    async finishOffboarding() {},
    async removeBaseline() {
      return { removed: 7, kept: [] };
    },
    async planTeardown({ environment }): Promise<TeardownPlan> {
      return { gone: false, cluster: 'eu-1', namespace: environment, tier: 'dev', approval: { required: 0, fourEyes: false } };
    },
    async removeEnvironmentObjects() {
      return { deleted: ['Namespace/x'], keptClaims: [], namespace: 'deleted' };
    },
    async forgetEnvironment() {},
    async runLifecycleJob() {
      return { hook: 'beforeTeardown' as const, jobs: [] };
    },
    async acquireEnvironments() {},
    async releaseEnvironments() {},
    async reportOperation() {},
    ...overrides,
  };
}

async function offboard(s: Stubs, input: Partial<OffboardClusterInput> = {}) {
  const calls = new Calls();
  board.use(recorded(calls, s));
  const workflowId = `offboard-eu-1-${++runs}-${Date.now()}`;
  const handle = await file.env.client.workflow.start(offboardCluster, { taskQueue: file.taskQueue, workflowId, args: [{ cluster: 'eu-1', requestedBy: 'alice', ...input }] });
  const outcome = await handle.result().then((result) => ({ result, error: undefined }), (error: unknown) => ({ result: undefined, error: error as WorkflowFailedError }));
  return { ...outcome, calls, workflowId, handle };
}

const nothingBound: OffboardingPlan = { exists: true, offboarded: false, environments: [] };
const twoBound: OffboardingPlan = { exists: true, offboarded: false, environments: ['shop-dev', 'shop-qa'] };

describe('offboardCluster', () => {
  it('removes the baseline of a cluster with nothing bound, then marks it offboarded', async () => {
    const run = await offboard(stubs(nothingBound));

    expect(run.result).toEqual({ cluster: 'eu-1', outcome: 'completed', tornDown: [], baseline: { removed: 7, kept: [] } });
    expect(run.calls.names()).toEqual(['planOffboarding', 'reportOperation', 'removeBaseline', 'finishOffboarding', 'reportOperation']);
    expect(run.calls.of('finishOffboarding')).toEqual([{ cluster: 'eu-1', operationId: run.workflowId, requestedBy: 'alice', removed: 7, kept: [] }]);
    expect(run.calls.of('reportOperation').at(-1)).toEqual({ id: run.workflowId, kind: 'offboarding', state: 'completed', outcome: 'completed', clusters: ['eu-1'], requestedBy: 'alice' });
  }, 30_000);

  it('says what of the baseline it found there before it and left', async () => {
    const run = await offboard(stubs(nothingBound, { removeBaseline: async () => ({ removed: 5, kept: ['Namespace/flotilla-system'] }) }));

    expect(run.result).toMatchObject({ outcome: 'completed', baseline: { removed: 5, kept: ['Namespace/flotilla-system'] }, message: 'left what Flotilla found there before it: Namespace/flotilla-system' });
  }, 30_000);

  it('is rejected while environments are bound and drain is not asked, removing nothing', async () => {
    const run = await offboard(stubs(twoBound));

    expect(run.result).toEqual({
      cluster: 'eu-1', outcome: 'rejected', tornDown: [],
      message: '2 environment(s) still bound to cluster "eu-1" (shop-dev, shop-qa); tear them down first, or offboard with drain',
    });
    expect(run.calls.of('removeBaseline')).toEqual([]);
    expect(run.calls.of('finishOffboarding')).toEqual([]);
  }, 30_000);

  it('with drain tears every bound environment down first (child teardowns), with their data when asked', async () => {
    const run = await offboard(stubs(twoBound), { drain: true, deleteData: true });

    expect(run.result).toMatchObject({ outcome: 'completed', tornDown: ['shop-dev', 'shop-qa'] });
    expect(run.calls.of('removeEnvironmentObjects').map((c) => `${String(c.environment)} ${String(c.deleteData)}`).sort()).toEqual(['shop-dev true', 'shop-qa true']);
    expect(run.calls.of('forgetEnvironment').map((c) => c.environment).sort()).toEqual(['shop-dev', 'shop-qa']);
    // The baseline goes only after both teardowns forgot their environments.
    const names = run.calls.names();
    expect(names.lastIndexOf('forgetEnvironment')).toBeLessThan(names.indexOf('removeBaseline'));
    expect(run.calls.of('finishOffboarding')).toHaveLength(1);
    await keep('offboard-cluster-drained', run.handle);
  }, 30_000);

  it('a drained environment that is not torn down (busy elsewhere) stops it before the baseline goes', async () => {
    const run = await offboard(stubs(twoBound, {
      async planTeardown({ environment }) {
        return {
          gone: false, cluster: 'eu-1', namespace: environment, tier: 'dev', approval: { required: 0, fourEyes: false },
          ...(environment === 'shop-qa' ? { involvedIn: { operationId: 'promote-1', message: 'takes part in promotion promote-1' } } : {}),
        };
      },
    }), { drain: true });

    expect(run.result).toEqual({
      cluster: 'eu-1', outcome: 'rejected', tornDown: ['shop-dev'],
      message: 'not offboarded: 1 environment(s) not torn down: shop-qa: rejected (takes part in promotion promote-1)',
    });
    expect(run.calls.of('removeBaseline')).toEqual([]);
    expect(run.calls.of('finishOffboarding')).toEqual([]);
  }, 30_000);

  it('a cluster already offboarded (or gone) completes at once', async () => {
    const run = await offboard(stubs({ exists: true, offboarded: true, environments: [] }));

    expect(run.result).toEqual({ cluster: 'eu-1', outcome: 'completed', tornDown: [], alreadyOffboarded: true, message: 'cluster "eu-1" is already offboarded' });
    expect(run.calls.names()).toEqual(['planOffboarding', 'reportOperation']);
  }, 30_000);
});
