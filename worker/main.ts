// The worker process: connects to Temporal and runs every Flotilla workflow and activity.
// Until the catalog lands, clusters come from a folder of kubeconfig files (NAME.yaml).
import { z } from 'zod';
import { StaticClusterDirectory } from '../providers/cluster-directory.js';
import { readSettings, TemporalSettings } from './config.js';
import { createFlotillaWorker } from './worker.js';

const settings = readSettings(
  TemporalSettings.extend({ FLOTILLA_KUBECONFIG_DIR: z.string().optional() }),
);

const directory = settings.FLOTILLA_KUBECONFIG_DIR
  ? StaticClusterDirectory.fromFolder(settings.FLOTILLA_KUBECONFIG_DIR)
  : new StaticClusterDirectory();

const { worker, connection } = await createFlotillaWorker({
  address: settings.TEMPORAL_ADDRESS,
  namespace: settings.TEMPORAL_NAMESPACE,
  taskQueue: settings.FLOTILLA_TASK_QUEUE,
  deps: { clusters: directory },
});
console.log(`worker on ${settings.TEMPORAL_ADDRESS}, task queue "${settings.FLOTILLA_TASK_QUEUE}", clusters: ${directory.names().join(', ') || 'none'}`);
// Worker.run() stops gracefully on SIGINT/SIGTERM by itself.
await worker.run();
await connection.close();
