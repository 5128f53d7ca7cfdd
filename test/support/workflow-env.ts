// Workflow tests on Temporal's time-skipping test server, for the unit tier: no dev server, no
// clusters. The server is the Java one from Maven Central, provisioned into the cache by
// scripts/toolchain.sh (its part scripts/temporal-test-server.sh); the SDK's own default would
// download a native build from GitHub, which this project cannot reach.
//
//   const env = await timeSkippingEnv();
//   const bundle = sharedWorkflowBundle();          // one webpack bundle per worker process
//   const result = await withWorker(env, { activities, workflowBundle: await bundle() }, (taskQueue) =>
//     env.client.workflow.execute(onboardCluster, { taskQueue, workflowId: 'w-1', args: [input] }));
//   await env.teardown();
//
// Time is global to one environment: run the tests that share one serially (vitest does, within
// a file), or give each its own (a start costs about half a second). For a whole file, one
// `startWorker(env, …)` saves a worker's start and shutdown per test.
//
// The server skips time only while the client waits for a result and no activity runs; an
// activity abandoned mid-run by a workflow that closes under it (e.g. a child cancelled without
// waiting for its activity) keeps time locked on that server for good — give such a test its
// own environment.
import { afterAll, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment, type TimeSkippingTestWorkflowEnvironmentOptions } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkerOptions } from '@temporalio/worker';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/**
 * The file the worker bundles: the same as `workflowsPath` in worker/worker.ts, spelt out because
 * importing that module loads every activity and cloud client (seconds a test file would pay).
 */
export const workflowsPath = join(projectRoot, 'workflows', 'index.ts');

export type WorkflowBundle = NonNullable<WorkerOptions['workflowBundle']>;

/**
 * The wrapper that starts the provisioned test server; throws, saying how to provision it, when it
 * is missing. The script is the one place that knows the version and cache folder (FLOTILLA_CACHE,
 * FLOTILLA_TEMPORAL_TEST_SERVER_VERSION); `--path` only prints, it installs nothing.
 */
export function timeSkippingServerPath(): string {
  const script = join(projectRoot, 'scripts', 'temporal-test-server.sh');
  const found = spawnSync('bash', [script, '--path'], { encoding: 'utf8' });
  const exe = found.stdout?.trim();
  if (found.status !== 0 || !exe) {
    throw new Error(`cannot locate Temporal's time-skipping test server: ${script} --path exited ${found.status}: ${found.stderr}`);
  }
  if (!existsSync(join(dirname(exe), '..', '.complete')) || !existsSync(exe)) {
    throw new Error(
      `Temporal's time-skipping test server is not provisioned (expected ${exe}). ` +
        'Run `bash scripts/toolchain.sh` (everything), or only this part: `bash scripts/temporal-test-server.sh` (needs java and mvn).',
    );
  }
  return exe;
}

/**
 * Starts a time-skipping environment on the provisioned server. The SDK gives the server 5 s to
 * answer; on a loaded machine a JVM can miss that once, so a start that times out is tried once
 * more before the error is thrown.
 */
export async function timeSkippingEnv(options: TimeSkippingTestWorkflowEnvironmentOptions = {}): Promise<TestWorkflowEnvironment> {
  const path = timeSkippingServerPath();
  const create = () =>
    TestWorkflowEnvironment.createTimeSkipping({
      ...options,
      server: { ...options.server, executable: { type: 'existing-path', path } },
    });
  try {
    return await create();
  } catch (error) {
    if (!/timed out|timeout/i.test(String(error))) throw error;
    return await create();
  }
}

/**
 * A lazily built, memoised bundle of workflows/index.ts (webpack takes about two seconds). Call it
 * at the top of a test file. The memo is this module's: the unit tier runs files without isolation
 * (vitest.config.ts), so every file a worker process runs shares one bundle, built only when a test
 * first asks for it (the workflow code does not change while the tier runs).
 */
let memoisedBundle: Promise<WorkflowBundle> | undefined;
export function sharedWorkflowBundle(): () => Promise<WorkflowBundle> {
  return () => (memoisedBundle ??= bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') }));
}

let queues = 0;

export interface TestWorkerOptions {
  /** Stub activities, by name (e.g. a partial `OnboardingActivities`). */
  activities: object;
  workflowBundle: WorkflowBundle;
  /** A fresh one per call by default, so workers of earlier tests never pick up this test's tasks. */
  taskQueue?: string;
  /** Anything else for `Worker.create`. */
  worker?: Partial<Omit<WorkerOptions, 'connection' | 'namespace' | 'taskQueue' | 'activities' | 'workflowBundle' | 'workflowsPath'>>;
}

function createWorker(env: TestWorkflowEnvironment, options: TestWorkerOptions): Promise<{ worker: Worker; taskQueue: string }> {
  const taskQueue = options.taskQueue ?? `test-${process.pid}-${++queues}`;
  return Worker.create({
    ...options.worker,
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities: options.activities,
    workflowBundle: options.workflowBundle,
  }).then((worker) => ({ worker, taskQueue }));
}

/** Runs a worker on the environment while `fn(taskQueue)` runs, then stops it. */
export async function withWorker<T>(env: TestWorkflowEnvironment, options: TestWorkerOptions, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const { worker, taskQueue } = await createWorker(env, options);
  return worker.runUntil(() => fn(taskQueue));
}

export interface RunningWorker {
  taskQueue: string;
  /** Shuts the worker down and waits until it has stopped. */
  stop(): Promise<void>;
}

/**
 * Starts a worker that runs until `stop()`: one for a whole test file saves a worker's start and
 * shutdown per test. Give it activities that look up the current test's stubs at each call.
 */
export async function startWorker(env: TestWorkflowEnvironment, options: TestWorkerOptions): Promise<RunningWorker> {
  const { worker, taskQueue } = await createWorker(env, options);
  const running = worker.run();
  return {
    taskQueue,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

/**
 * A test file's time-skipping server and one worker over `activities` (a Switchboard's), set
 * up before its tests and stopped after them; `env` and `taskQueue` are read once it is up.
 */
export function fileWorker(activities: object, bundle: () => Promise<WorkflowBundle>): { readonly env: TestWorkflowEnvironment; readonly taskQueue: string } {
  let env: TestWorkflowEnvironment | undefined;
  let worker: RunningWorker | undefined;
  beforeAll(async () => {
    const [started, workflowBundle] = await Promise.all([timeSkippingEnv(), bundle()]);
    env = started;
    worker = await startWorker(env, { activities, workflowBundle });
  }, 120_000);
  afterAll(async () => {
    await worker?.stop();
    await env?.teardown();
  });
  return {
    get env() { return env!; },
    get taskQueue() { return worker!.taskQueue; },
  };
}
