import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { dataConverterFromEnv } from '../temporal/data-converter.js';
import { DEFAULT_TASK_QUEUE } from './config.js';

// The workflow code beside this file: TypeScript from the sources, JavaScript once compiled (dist/).
export const workflowsPath = fileURLToPath(new URL(`../workflows/index.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url));

export interface FlotillaWorkerOptions {
  address: string;
  namespace: string;
  taskQueue?: string;
  deps: ActivityDeps;
  /** A prebuilt bundle saves the seconds webpack takes; built on start when absent. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Encrypts every payload (temporal/data-converter.ts); from FLOTILLA_PAYLOAD_KEYS when absent, and no key ring there is an error. */
  dataConverter?: DataConverter;
  /** Slots and cache size (worker/config.ts: FLOTILLA_WORKER_*); the SDK's defaults where absent. */
  tuning?: WorkerTuning;
}

/** The worker settings bench/scale.ts measures (its header says what it found). */
export type WorkerTuning = Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows'>;

/** A worker running every Flotilla workflow and activity. */
export async function createFlotillaWorker(options: FlotillaWorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  // Before connecting: no key ring, no worker.
  const dataConverter = options.dataConverter ?? dataConverterFromEnv();
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    activities: createActivities(options.deps),
    workflowBundle: options.workflowBundle ?? (await bundleWorkflows()),
    dataConverter,
    ...options.tuning,
  });
  return { worker, connection };
}

/** Bundles the workflow code once (webpack); quiet unless something goes wrong. */
export function bundleWorkflows(): Promise<NonNullable<WorkerOptions['workflowBundle']>> {
  return bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
}

export interface RunningWorker {
  worker: Worker;
  /** Settles when the worker has stopped. */
  running: Promise<void>;
  /** Drains the worker and closes its connection; safe to call twice, and after a signal. */
  stop(): Promise<void>;
}

/** A worker running in this process (the dev command, tests, benchmarks). */
export async function runFlotillaWorker(options: FlotillaWorkerOptions): Promise<RunningWorker> {
  const { worker, connection } = await createFlotillaWorker(options);
  const running = worker.run();
  let stopped: Promise<void> | undefined;
  return {
    worker,
    running,
    stop: () =>
      (stopped ??= (async () => {
        // The SDK already begins a graceful stop on SIGINT/SIGTERM by itself.
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => {});
        await connection.close();
      })()),
  };
}
