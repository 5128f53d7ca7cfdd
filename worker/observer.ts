// The observer process (observer/observer.ts): watches every onboarded cluster of the catalog
// (FLOTILLA_CATALOG_URL, FLOTILLA_MASTER_KEY) and keeps live status, drift and reachability
// there. Run one beside each worker fleet; leases in the catalog keep two from writing one
// cluster (FLOTILLA_OBSERVER_ID names this one: a restart under the same name resumes its
// leases at once). Heals of `driftPolicy: heal` environments start deploy workflows on
// Temporal (TEMPORAL_ADDRESS, FLOTILLA_TASK_QUEUE, payloads encrypted with FLOTILLA_PAYLOAD_KEYS),
// connected at the first heal. SIGINT/SIGTERM stop it cleanly and hand its clusters over at once.
import { Client, Connection } from '@temporalio/client';
import { createLogger } from '../api/http/logger.js';
import type { StartDeps } from '../api/deps.js';
import { temporalStarter } from '../api/temporal.js';
import { startHeal } from '../observer/heal.js';
import { Observer } from '../observer/observer.js';
import { dataConverterFromEnv } from '../temporal/data-converter.js';
import { readSettings, TemporalSettings } from './config.js';
import { activityDeps, openWorkerCatalog } from './deps.js';

const settings = readSettings(TemporalSettings);

function seconds(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 3 || n > 600) throw new Error(`FLOTILLA_OBSERVER_LEASE_SECONDS must be 3 to 600, not "${text}"`);
  return n;
}
const logger = createLogger({ name: 'flotilla-observer' });
const catalog = await openWorkerCatalog();
const { clusters } = activityDeps({ catalog });

let temporal: Promise<{ deps: StartDeps; connection: Connection }> | undefined;
const connect = () => (temporal ??= (async () => {
  const connection = await Connection.connect({ address: settings.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: settings.TEMPORAL_NAMESPACE, dataConverter: dataConverterFromEnv() });
  return { connection, deps: { catalog, operations: temporalStarter(client, settings.FLOTILLA_TASK_QUEUE), logger, now: () => new Date() } };
})().catch((error: unknown) => {
  temporal = undefined; // try again at the next heal
  throw error;
}));

const observer = new Observer({
  catalog,
  clusters,
  id: process.env.FLOTILLA_OBSERVER_ID || undefined,
  // How long another observer waits for a dead one's clusters (default 15 s).
  ...(process.env.FLOTILLA_OBSERVER_LEASE_SECONDS ? { leaseMs: seconds(process.env.FLOTILLA_OBSERVER_LEASE_SECONDS) * 1000 } : {}),
  log: { info: (m) => logger.info(m), warn: (m) => logger.warn(m) },
  heal: async (environment, drift) => startHeal((await connect()).deps, environment, drift),
});
await observer.start();
logger.info(`observer ${observer.id} running`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await observer.stop();
  if (temporal) await (await temporal.catch(() => undefined))?.connection.close();
  await catalog.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
