// onboardCluster: resolve access → check connectivity and version → install the baseline →
// read capacity → ready. While the cluster cannot be reached it waits durably and reports
// `unreachable`, continuing as new so a day of waiting keeps the history small; a permanent
// error is reported and leaves nothing half-installed.
import {
  ActivityFailure, ApplicationFailure, CancellationScope, continueAsNew, isCancellation, patched, proxyActivities, setHandler, sleep, workflowInfo,
} from '@temporalio/workflow';
import type { OnboardingActivities } from '../activities/onboarding-types.js';
import type { OperationActivities } from '../activities/operations-types.js';
import { checkVersion, DEFAULT_SUPPORTED_VERSIONS, type VersionRange } from '../domain/baseline.js';
import { onboardClusterV1 } from './legacy/onboard-cluster-v1.js';
import { onboardingStateQuery, type OnboardingState } from './messages.js';
import { CHANGE_CONTROL_PATCH } from './patches.js';

export interface OnboardClusterInput {
  cluster: string;
  supportedVersions?: VersionRange;
  /** Give up when the cluster has not answered for this long (ms); 24 h by default. */
  giveUpAfterMs?: number;
  /** Longest wait between two attempts to reach the cluster (ms). */
  maxRetryIntervalMs?: number;
  /** Continue as new while waiting once this run's history is longer (default 1,000 events). */
  maxHistoryEvents?: number;
  /** Set by the workflow itself when it continues as new while waiting; callers leave it out. */
  carried?: { attempts: number; startedAt: number; message?: string };
}

export interface OnboardClusterResult {
  cluster: string;
  version: string;
  attempts: number;
  capacity: Awaited<ReturnType<OnboardingActivities['readCapacity']>>;
}

// A probe fails fast so the workflow, not the retry policy, decides how to wait and report.
const { probeCluster } = proxyActivities<OnboardingActivities>({
  startToCloseTimeout: '20 seconds',
  retry: { maximumAttempts: 2, initialInterval: '1 second' },
});
const { installBaseline, removeBaseline, readCapacity, setClusterStatus } = proxyActivities<OnboardingActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '20 seconds', maximumAttempts: 10 },
});
const { reportOperation } = proxyActivities<OperationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '20 seconds', maximumAttempts: 10 },
});

export async function onboardCluster(input: OnboardClusterInput): Promise<OnboardClusterResult> {
  if (!patched(CHANGE_CONTROL_PATCH)) return onboardClusterV1(input);
  const { cluster } = input;
  const id = workflowInfo().workflowId;
  const state: OnboardingState = { cluster, phase: input.carried ? 'unreachable' : 'resolving', attempts: input.carried?.attempts ?? 0, message: input.carried?.message };
  setHandler(onboardingStateQuery, () => state);
  const report = (opState: 'running' | 'waiting' | 'completed' | 'failed', outcome?: 'completed' | 'failed', message?: string) =>
    CancellationScope.nonCancellable(() => reportOperation({ id, kind: 'onboarding', state: opState, clusters: [cluster], ...(outcome ? { outcome } : {}), ...(message ? { message } : {}) }));
  const fail = async (reason: string, type: string): Promise<never> => {
    state.phase = 'failed';
    state.message = reason;
    await setClusterStatus({ cluster, status: 'degraded', message: reason });
    await report('failed', 'failed', reason);
    throw ApplicationFailure.nonRetryable(reason, type);
  };

  if (!input.carried) {
    await report('running');
    await setClusterStatus({ cluster, status: 'onboarding', message: 'resolving access' });
  }

  // 1. Reach the cluster, waiting as long as it takes (up to giveUpAfter).
  const started = input.carried?.startedAt ?? Date.now(); // workflow time: deterministic
  const giveUpAfter = input.giveUpAfterMs ?? 24 * 3600_000;
  const maxInterval = input.maxRetryIntervalMs ?? 30_000;
  let probe: { gitVersion: string; server: string } | undefined;
  while (!probe) {
    state.attempts += 1;
    try {
      probe = await probeCluster({ cluster });
    } catch (error) {
      if (isCancellation(error)) throw error;
      const cause = error instanceof ActivityFailure ? error.cause : error;
      const message = cause instanceof Error ? cause.message : String(cause);
      if (cause instanceof ApplicationFailure && cause.nonRetryable) return fail(message, cause.type || 'ClusterAccessDenied');
      if (Date.now() - started > giveUpAfter) return fail(`unreachable for ${Math.round(giveUpAfter / 1000)}s: ${message}`, 'ClusterUnreachable');
      if (state.phase !== 'unreachable') {
        state.phase = 'unreachable';
        await setClusterStatus({ cluster, status: 'unreachable', message });
        await report('waiting');
      }
      state.message = message;
      await sleep(Math.min(maxInterval, 1000 * 2 ** Math.min(state.attempts, 10)));
      // Bounded history: a day of attempts goes on in fresh runs, carrying the count and the start.
      const info = workflowInfo();
      if (info.continueAsNewSuggested || info.historyLength > (input.maxHistoryEvents ?? 1000)) {
        await continueAsNew<typeof onboardCluster>({ ...input, carried: { attempts: state.attempts, startedAt: started, message } });
      }
    }
  }
  await report('running');

  // 2. Version.
  state.phase = 'checking-version';
  const version = checkVersion(probe.gitVersion, input.supportedVersions ?? DEFAULT_SUPPORTED_VERSIONS);
  if (!version.supported) return fail(version.reason!, 'UnsupportedVersion');
  await setClusterStatus({ cluster, status: 'onboarding', message: 'installing baseline', version: probe.gitVersion });

  // 3. Baseline: all of it or none of it.
  state.phase = 'installing-baseline';
  try {
    await installBaseline({ cluster });
  } catch (error) {
    await CancellationScope.nonCancellable(() => removeBaseline({ cluster }));
    if (isCancellation(error)) throw error;
    const cause = error instanceof ActivityFailure && error.cause ? error.cause : error;
    return fail(`installing the baseline failed: ${cause instanceof Error ? cause.message : String(cause)}`, 'BaselineFailed');
  }

  // 4. Capacity, then ready.
  state.phase = 'reading-capacity';
  const capacity = await readCapacity({ cluster });
  await setClusterStatus({ cluster, status: 'ready', message: `onboarded by ${id}`, version: probe.gitVersion, capacity });
  state.phase = 'ready';
  await report('completed', 'completed');
  return { cluster, version: probe.gitVersion, attempts: state.attempts, capacity };
}
