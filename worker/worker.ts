import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { DEFAULT_TASK_QUEUE } from './config.js';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface FlotillaWorkerOptions {
  address: string;
  namespace: string;
  taskQueue?: string;
  deps: ActivityDeps;
  /** A prebuilt bundle saves the seconds webpack takes; built on start when absent. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** A worker running every Flotilla workflow and activity. */
export async function createFlotillaWorker(options: FlotillaWorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    activities: createActivities(options.deps),
    workflowBundle: options.workflowBundle ?? (await bundleWorkflows()),
  });
  return { worker, connection };
}

/** Bundles the workflow code once (webpack); quiet unless something goes wrong. */
export function bundleWorkflows(): Promise<NonNullable<WorkerOptions['workflowBundle']>> {
  return bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
}
