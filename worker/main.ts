// The worker process: connects to Temporal and runs every Flotilla workflow and activity
// against the catalog (FLOTILLA_CATALOG_URL, FLOTILLA_MASTER_KEY).
import { activityDeps, openWorkerCatalog } from './deps.js';
import { readSettings, TemporalSettings } from './config.js';
import { createFlotillaWorker } from './worker.js';

const settings = readSettings(TemporalSettings);
const catalog = await openWorkerCatalog();
const { worker, connection } = await createFlotillaWorker({
  address: settings.TEMPORAL_ADDRESS,
  namespace: settings.TEMPORAL_NAMESPACE,
  taskQueue: settings.FLOTILLA_TASK_QUEUE,
  deps: activityDeps({ catalog }),
});
console.log(`worker on ${settings.TEMPORAL_ADDRESS}, namespace "${settings.TEMPORAL_NAMESPACE}", task queue "${settings.FLOTILLA_TASK_QUEUE}"`);
// Worker.run() stops gracefully on SIGINT/SIGTERM by itself.
await worker.run();
await connection.close();
await catalog.close();
