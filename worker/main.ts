// The worker process: connects to Temporal and runs every Flotilla workflow and activity
// against the catalog (FLOTILLA_CATALOG_URL, FLOTILLA_MASTER_KEY), every payload encrypted with
// the key ring FLOTILLA_PAYLOAD_KEYS names (it refuses to start without one). Logs as the API's
// do: FLOTILLA_LOG_FORMAT (pretty on a terminal, JSON otherwise), FLOTILLA_LOG_LEVEL. Its slots
// and workflow cache: FLOTILLA_WORKER_MAX_ACTIVITIES, _MAX_WORKFLOW_TASKS, _MAX_CACHED_WORKFLOWS.
import { Runtime } from '@temporalio/worker';
import { createLogger } from '../api/http/logger.js';
import { dataConverterFromEnv } from '../temporal/data-converter.js';
import { activityDeps, openWorkerCatalog } from './deps.js';
import { readSettings, TemporalSettings, workerTuningFromEnv } from './config.js';
import { temporalLogger } from './logging.js';
import { createFlotillaWorker } from './worker.js';

const settings = readSettings(TemporalSettings);
const logger = createLogger({ name: 'flotilla-worker' });
Runtime.install({ logger: temporalLogger(logger) });
const dataConverter = dataConverterFromEnv();
const catalog = await openWorkerCatalog();
const { worker, connection } = await createFlotillaWorker({
  address: settings.TEMPORAL_ADDRESS,
  namespace: settings.TEMPORAL_NAMESPACE,
  taskQueue: settings.FLOTILLA_TASK_QUEUE,
  deps: activityDeps({ catalog }),
  dataConverter,
  tuning: workerTuningFromEnv(),
});
logger.info(`worker on ${settings.TEMPORAL_ADDRESS}, namespace "${settings.TEMPORAL_NAMESPACE}", task queue "${settings.FLOTILLA_TASK_QUEUE}"`);
// Worker.run() stops gracefully on SIGINT/SIGTERM by itself.
await worker.run();
await connection.close();
await catalog.close();
