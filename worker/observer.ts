// The observer process (observer/observer.ts): watches every onboarded cluster of the catalog
// (FLOTILLA_CATALOG_URL, FLOTILLA_MASTER_KEY) and keeps live status, drift and reachability
// there. Run one beside each worker fleet; leases in the catalog keep two from writing one
// cluster. SIGINT/SIGTERM stop it cleanly and hand its clusters over at once.
import { Observer } from '../observer/observer.js';
import { activityDeps, openWorkerCatalog } from './deps.js';

const catalog = await openWorkerCatalog();
const { clusters } = activityDeps({ catalog });
const observer = new Observer({
  catalog,
  clusters,
  id: process.env.FLOTILLA_OBSERVER_ID || undefined,
  log: { info: (m) => console.log(`observer: ${m}`), warn: (m) => console.warn(`observer: ${m}`) },
});
await observer.start();
console.log(`observer ${observer.id} running`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await observer.stop();
  await catalog.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
