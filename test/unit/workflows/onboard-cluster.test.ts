// The real onboardCluster workflow on Temporal's time-skipping test server, with stub activities:
// the ready path, a cluster that cannot be reached (waited for durably, in skipped time, and
// continued as new so the history stays bounded), permanent errors, an unsupported version, a
// baseline that fails half-way (removed again), and giving up.
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { OnboardingActivities } from '../../../activities/onboarding-types.js';
import type { OperationActivities } from '../../../activities/operations-types.js';
import { onboardCluster, type OnboardClusterInput } from '../../../workflows/onboard-cluster.js';
import { recordHistory } from '../../support/histories.js';
import { fileWorker, sharedWorkflowBundle } from '../../support/workflow-env.js';
import { Calls, permanent, recorded, Switchboard } from './stubs.js';

const bundle = sharedWorkflowBundle();
const board = new Switchboard();
let runs = 0;
const file = fileWorker(board.activities, bundle);

const capacity = { nodes: 3, cpu: '12', memory: '48Gi', pods: 330 };
const refusedConnection = () =>
  // BENIGN only keeps these expected failures out of the test output (DEBUG, not WARN).
  ApplicationFailure.create({ message: 'connect ECONNREFUSED 127.0.0.1:6443', type: 'Unreachable', category: ApplicationFailureCategory.BENIGN });

/** Canned onboarding activities; the probe fails `unreachableCalls` times (retryable), then answers `gitVersion`. */
function onboardingStubs(unreachableCalls = 0, gitVersion = 'v1.34.4'): OnboardingActivities & OperationActivities {
  let probes = 0;
  return {
    async probeCluster() {
      probes += 1;
      if (probes <= unreachableCalls) throw refusedConnection();
      return { gitVersion, server: 'https://127.0.0.1:6443' };
    },
    async installBaseline() {
      return { applied: 7 };
    },
    async removeBaseline() {
      return { removed: 3 };
    },
    async readCapacity() {
      return capacity;
    },
    async setClusterStatus() {},
    async acquireEnvironments() {},
    async releaseEnvironments() {},
    async reportOperation() {},
  };
}

async function onboard(stubs: OnboardingActivities & OperationActivities, input: Partial<OnboardClusterInput> = {}) {
  const calls = new Calls();
  board.use(recorded(calls, stubs));
  const workflowId = `onboard-${++runs}-${Date.now()}`;
  const handle = await file.env.client.workflow.start(onboardCluster, { taskQueue: file.taskQueue, workflowId, args: [{ cluster: 'eu-1', ...input }] });
  const outcome = await handle.result().then((result) => ({ result, error: undefined }), (error: unknown) => ({ result: undefined, error }));
  return { ...outcome, calls, workflowId, handle };
}

const statuses = (calls: Calls) => calls.of('setClusterStatus').map((s) => String(s.status));
const reports = (calls: Calls) => calls.of('reportOperation').map((r) => [r.state, r.outcome].filter((x) => x !== undefined).join(' '));

/** The ApplicationFailure a failed onboarding ended with. */
function failureOf(error: unknown): ApplicationFailure {
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

/** The timers (seconds) a run of the workflow started. */
async function timersOf(handle: { fetchHistory(): Promise<{ events?: { timerStartedEventAttributes?: { startToFireTimeout?: { seconds?: unknown } | null } | null }[] | null }> }) {
  return ((await handle.fetchHistory()).events ?? []).flatMap((e) => e.timerStartedEventAttributes ? [Number(e.timerStartedEventAttributes.startToFireTimeout?.seconds)] : []);
}

describe('onboardCluster: ready', () => {
  it('a reachable cluster with a supported version gets the baseline and its capacity, and is ready', async () => {
    const run = await onboard(onboardingStubs());

    expect(run.result).toEqual({ cluster: 'eu-1', version: 'v1.34.4', attempts: 1, capacity });
    expect(run.calls.names()).toEqual([
      'reportOperation', 'setClusterStatus', 'probeCluster', 'reportOperation', 'setClusterStatus', 'installBaseline', 'readCapacity', 'setClusterStatus', 'reportOperation',
    ]);
    expect(run.calls.of('setClusterStatus')).toEqual([
      { cluster: 'eu-1', status: 'onboarding', message: 'resolving access' },
      { cluster: 'eu-1', status: 'onboarding', message: 'installing baseline', version: 'v1.34.4' },
      { cluster: 'eu-1', status: 'ready', message: `onboarded by ${run.workflowId}`, version: 'v1.34.4', capacity },
    ]);
    expect(run.calls.of('reportOperation')).toEqual([
      { id: run.workflowId, kind: 'onboarding', state: 'running', clusters: ['eu-1'] },
      { id: run.workflowId, kind: 'onboarding', state: 'running', clusters: ['eu-1'] },
      { id: run.workflowId, kind: 'onboarding', state: 'completed', outcome: 'completed', clusters: ['eu-1'] },
    ]);
    expect(run.calls.of('removeBaseline')).toEqual([]);
  }, 30_000);

  it('waits out an unreachable cluster in skipped time (reported unreachable once), then onboards it', async () => {
    // probeCluster has its own retry policy (2 attempts), so one unreachable round of the
    // workflow is two failed calls: three rounds are the first six calls.
    const wallStart = performance.now();
    const run = await onboard(onboardingStubs(6));
    const wallMs = performance.now() - wallStart;

    expect(run.result).toEqual({ cluster: 'eu-1', version: 'v1.34.4', attempts: 4, capacity });
    expect(run.calls.of('probeCluster')).toHaveLength(7);
    expect(statuses(run.calls)).toEqual(['onboarding', 'unreachable', 'onboarding', 'ready']);
    expect(run.calls.of('setClusterStatus')[1]).toEqual({ cluster: 'eu-1', status: 'unreachable', message: 'connect ECONNREFUSED 127.0.0.1:6443' });
    expect(reports(run.calls)).toEqual(['running', 'waiting', 'running', 'completed completed']);

    // The workflow slept 2 s, 4 s and 8 s (and its activity retried after 1 s three times) ...
    const events = (await run.handle.fetchHistory()).events ?? [];
    expect(await timersOf(run.handle)).toEqual([2, 4, 8]);
    const seconds = (e: (typeof events)[number] | undefined) => Number(e?.eventTime?.seconds ?? 0) + (e?.eventTime?.nanos ?? 0) / 1e9;
    const workflowSeconds = seconds(events.at(-1)) - seconds(events[0]);
    expect(workflowSeconds).toBeGreaterThanOrEqual(2 + 4 + 8);
    // ... in far less wall time than that: well under a second here. Real sleeps alone would
    // take 14 s; the bound leaves room for a loaded CI machine.
    expect(wallMs).toBeLessThan(8_000);
  }, 30_000);
});

describe('onboardCluster: failures', () => {
  it.each([
    { case: 'its own type', type: 'ProviderAuthFailed', expected: 'ProviderAuthFailed' },
    { case: 'ClusterAccessDenied when it has none', type: undefined, expected: 'ClusterAccessDenied' },
  ])('a permanent error reaching the cluster marks it degraded and fails, non-retryable, with $case', async ({ type, expected }) => {
    const message = 'the server has asked for the client to provide credentials';
    const run = await onboard({
      ...onboardingStubs(),
      async probeCluster() {
        throw ApplicationFailure.create({ message, type, nonRetryable: true, category: ApplicationFailureCategory.BENIGN });
      },
    });

    const failure = failureOf(run.error);
    expect(failure.type).toBe(expected);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe(message);
    expect(run.calls.of('probeCluster')).toHaveLength(1);
    expect(run.calls.of('setClusterStatus')).toEqual([
      { cluster: 'eu-1', status: 'onboarding', message: 'resolving access' },
      { cluster: 'eu-1', status: 'degraded', message },
    ]);
    expect(run.calls.of('reportOperation').at(-1)).toEqual({ id: run.workflowId, kind: 'onboarding', state: 'failed', outcome: 'failed', message, clusters: ['eu-1'] });
    expect(run.calls.of('installBaseline')).toEqual([]);
  }, 30_000);

  it('an unsupported Kubernetes version is refused before anything is installed (UnsupportedVersion)', async () => {
    const run = await onboard(onboardingStubs(0, 'v1.24.17'));

    const message = 'Kubernetes v1.24.17 is outside the supported range 1.30–1.37';
    const failure = failureOf(run.error);
    expect(failure.type).toBe('UnsupportedVersion');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe(message);
    expect(run.calls.of('setClusterStatus').at(-1)).toEqual({ cluster: 'eu-1', status: 'degraded', message });
    expect(run.calls.of('installBaseline')).toEqual([]);
    expect(reports(run.calls)).toEqual(['running', 'running', 'failed failed']);
  }, 30_000);

  it('a version inside a range the caller gives is accepted', async () => {
    const run = await onboard(onboardingStubs(0, 'v1.24.17'), { supportedVersions: { minMinor: 22, maxMinor: 26 } });

    expect(run.result?.version).toBe('v1.24.17');
  }, 30_000);

  it('a baseline that fails half-way is removed again, then the onboarding fails (BaselineFailed)', async () => {
    const run = await onboard({
      ...onboardingStubs(),
      async installBaseline() {
        throw permanent('admission webhook "policy.example.com" denied the request: namespace flotilla-system', 'Forbidden');
      },
    });

    const message = 'installing the baseline failed: admission webhook "policy.example.com" denied the request: namespace flotilla-system';
    const failure = failureOf(run.error);
    expect(failure.type).toBe('BaselineFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe(message);
    expect(run.calls.names().slice(-4)).toEqual(['installBaseline', 'removeBaseline', 'setClusterStatus', 'reportOperation']);
    expect(run.calls.of('removeBaseline')).toEqual([{ cluster: 'eu-1' }]);
    expect(statuses(run.calls)).toEqual(['onboarding', 'onboarding', 'degraded']);
    expect(run.calls.of('readCapacity')).toEqual([]);
  }, 30_000);

  it('gives up on a cluster that stays unreachable past giveUpAfterMs (ClusterUnreachable)', async () => {
    // Rounds end (probe, 1 s retry, probe) at 1 s, 4 s, 9 s, 18 s, 35 s and 66 s after the
    // sleeps of 2, 4, 8, 16 and 30 s (capped by maxRetryIntervalMs): the sixth is past 60 s.
    const run = await onboard(onboardingStubs(Infinity), { giveUpAfterMs: 60_000 });

    const message = 'unreachable for 60s: connect ECONNREFUSED 127.0.0.1:6443';
    const failure = failureOf(run.error);
    expect(failure.type).toBe('ClusterUnreachable');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe(message);
    expect(run.calls.of('probeCluster')).toHaveLength(12);
    expect(await timersOf(run.handle)).toEqual([2, 4, 8, 16, 30]);
    expect(statuses(run.calls)).toEqual(['onboarding', 'unreachable', 'degraded']);
    expect(reports(run.calls)).toEqual(['running', 'waiting', 'failed failed']);
  }, 30_000);
});

describe('onboardCluster: bounded history', () => {
  it('continues as new while it waits; the attempts carry across runs and the first run ends CONTINUED_AS_NEW', async () => {
    // maxHistoryEvents 1: every unreachable round ends its run. Three rounds, then up: four runs.
    const run = await onboard(onboardingStubs(6), { maxHistoryEvents: 1 });

    expect(run.result).toEqual({ cluster: 'eu-1', version: 'v1.34.4', attempts: 4, capacity });
    expect(statuses(run.calls)).toEqual(['onboarding', 'unreachable', 'onboarding', 'ready']);
    expect(reports(run.calls)).toEqual(['running', 'waiting', 'running', 'completed completed']);

    const runIds = [run.handle.firstExecutionRunId];
    const timers: number[][] = [];
    for (;;) {
      const handle = file.env.client.workflow.getHandle(run.workflowId, runIds.at(-1));
      timers.push(await timersOf(handle));
      const last = ((await handle.fetchHistory()).events ?? []).at(-1);
      const next = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
      if (!next) break;
      runIds.push(next);
    }
    expect(runIds).toHaveLength(4);
    // Each run slept once, for the interval of its attempt (2^attempts s): the count carried over.
    expect(timers).toEqual([[2], [4], [8], []]);
    const first = file.env.client.workflow.getHandle(run.workflowId, run.handle.firstExecutionRunId);
    expect(((await first.fetchHistory()).events ?? []).at(-1)?.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    if (process.env.FLOTILLA_RECORD_HISTORIES !== undefined) await recordHistory('onboard-cluster-continued-as-new', first);
  }, 30_000);
});
