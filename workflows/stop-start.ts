// stopEnvironment: take the environment → refuse what the rules forbid (a stopped tier) or what
// cannot be stopped (never deployed) → run the revision's beforeStop jobs → record what each
// workload runs → scale to zero, CronJobs suspended → release. startEnvironment: take it → bring each workload back to what the stop
// recorded and wait until ready → clear the record → release. A stopped environment stopped
// again, or a running one started, completes at once. scheduledLifecycle: what a Temporal
// Schedule runs: stop or start one environment, or every environment of a tier, each as a
// child workflow; outcomes are results, never failures of the schedule.
import { CancellationScope, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { LifecycleJobActivities } from '../activities/lifecycle-jobs-types.js';
import type { OperationActivities } from '../activities/operations-types.js';
import type { StopStartActivities } from '../activities/stop-start-types.js';
import type { ScheduledLifecycleInput } from '../domain/schedule.js';
import { messageOf } from './failures.js';

export interface StopStartInput {
  environment: string;
  requestedBy: string;
  /** How long the start's rollout may take (default 600 s). */
  rolloutTimeoutSeconds?: number;
}

export interface StopStartResult {
  environment: string;
  action: 'stop' | 'start';
  outcome: 'completed' | 'rejected' | 'failed';
  /** Replicas per workload, as recorded by the stop (and restored by the start). */
  replicas?: Record<string, number>;
  message?: string;
}

const catalogOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
} as const;
const { planStopStart, markStarted, lifecycleTargets } = proxyActivities<StopStartActivities>(catalogOptions);
const { acquireEnvironments, releaseEnvironments, reportOperation } = proxyActivities<OperationActivities>(catalogOptions);
const { stopWorkloads } = proxyActivities<StopStartActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
});

const { runLifecycleJob } = proxyActivities<LifecycleJobActivities>({
  // A job's own timeoutSeconds bounds it (at most a day); the heartbeat notices a lost worker.
  startToCloseTimeout: '25 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
});

export function stopEnvironment(input: StopStartInput): Promise<StopStartResult> {
  return stopOrStart('stop', input);
}

export function startEnvironment(input: StopStartInput): Promise<StopStartResult> {
  return stopOrStart('start', input);
}

async function stopOrStart(action: 'stop' | 'start', input: StopStartInput): Promise<StopStartResult> {
  const id = workflowInfo().workflowId;
  const { environment } = input;
  const report = (state: 'running' | 'completed' | 'failed', outcome?: StopStartResult['outcome'], message?: string) =>
    CancellationScope.nonCancellable(() => reportOperation({
      id, kind: action, state, environments: [environment], requestedBy: input.requestedBy, ...(outcome ? { outcome } : {}), ...(message !== undefined ? { message } : {}),
    }));
  const end = async (outcome: StopStartResult['outcome'], extra: { message?: string; replicas?: Record<string, number> } = {}): Promise<StopStartResult> => {
    await report(outcome === 'failed' ? 'failed' : 'completed', outcome, extra.message);
    return { environment, action, outcome, ...extra };
  };

  const plan = await planStopStart({ environment });
  if (plan.gone) return end('rejected', { message: `environment "${environment}" does not exist` });
  try {
    await acquireEnvironments({ holder: id, environments: [environment] });
  } catch (error) {
    return end('rejected', { message: messageOf(error) });
  }
  try {
    await report('running');
    if (action === 'stop' && plan.refusal) return await end('rejected', { message: plan.refusal });
    if (!plan.deployed) return await end('rejected', { message: `environment "${environment}" has never been deployed: nothing to ${action}` });
    if (action === 'stop' && plan.stopped) return await end('completed', { message: `environment "${environment}" is already stopped` });
    if (action === 'start' && !plan.stopped) return await end('completed', { message: `environment "${environment}" is not stopped` });
    if (action === 'stop') {
      // The revision's beforeStop jobs first (a failure stops nothing): e.g. drain a queue.
      await runLifecycleJob({ environment, hook: 'beforeStop', runId: id });
      const { replicas } = await stopWorkloads({ environment, operationId: id, requestedBy: input.requestedBy });
      return await end('completed', { replicas });
    }
    const timeoutSeconds = input.rolloutTimeoutSeconds ?? 600;
    const { startWorkloads } = proxyActivities<StopStartActivities>({
      startToCloseTimeout: `${timeoutSeconds + 60} seconds`,
      heartbeatTimeout: '30 seconds',
      retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
    });
    const { replicas } = await startWorkloads({ environment, timeoutSeconds });
    await markStarted({ environment });
    return await end('completed', { replicas });
  } catch (error) {
    await report('failed', 'failed', messageOf(error));
    throw error;
  } finally {
    await CancellationScope.nonCancellable(() => releaseEnvironments({ holder: id }));
  }
}


export interface ScheduledLifecycleResult {
  schedule: string;
  action: 'stop' | 'start';
  results: StopStartResult[];
}

export async function scheduledLifecycle(input: ScheduledLifecycleInput): Promise<ScheduledLifecycleResult> {
  const id = workflowInfo().workflowId;
  const targets = await lifecycleTargets({ ...(input.environment ? { environment: input.environment } : {}), ...(input.tier ? { tier: input.tier } : {}) });
  const child = input.action === 'stop' ? stopEnvironment : startEnvironment;
  const results = await Promise.all(targets.map((environment) => executeChild(child, {
    workflowId: `${id}-${environment}`,
    args: [{ environment, requestedBy: `schedule/${input.schedule}` }],
  }).catch((error: unknown): StopStartResult => ({ environment, action: input.action, outcome: 'failed', message: messageOf(error) }))));
  return { schedule: input.schedule, action: input.action, results };
}
