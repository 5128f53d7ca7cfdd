// The worker of bench/scale.ts as its own OS process, so that its CPU and memory are its own in
// /proc: worker/main.ts's set-up (catalog from FLOTILLA_CATALOG_URL, payloads encrypted with
// FLOTILLA_PAYLOAD_KEYS, slots from FLOTILLA_WORKER_*), plus what the bench asks it over IPC:
// how many Kubernetes requests each activity type sent and how many waited on a rate limiter.
// BENCH_WORKFLOW_BUNDLE: the workflow bundle the bench built once (no webpack per process).
import { readFileSync } from 'node:fs';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { dataConverterFromEnv } from '../../temporal/data-converter.js';
import { activityDeps, openWorkerCatalog } from '../../worker/deps.js';
import { readSettings, TemporalSettings, workerTuningFromEnv } from '../../worker/config.js';
import { createFlotillaWorker } from '../../worker/worker.js';
import { CountingRateLimits } from './counting-limits.js';

/** What the worker answers to { type: 'stats' }. */
export interface ScaleWorkerStats {
  type: 'stats';
  /** Requests that went through a limiter, and of those how many waited for a token (and how long). */
  requests: number;
  throttled: number;
  throttledMs: number;
  /** Highest requests in flight at once on any one cluster entry's limiter. */
  peakInFlight: number;
  /** Catalog cluster entries a request went to. */
  limiters: number;
  /** Kubernetes requests per activity type. */
  byActivity: Record<string, number>;
}

const settings = readSettings(TemporalSettings);
Runtime.install({ logger: new DefaultLogger('WARN') });
const catalog = await openWorkerCatalog();
const rateLimits = new CountingRateLimits();
const bundlePath = process.env.BENCH_WORKFLOW_BUNDLE;
const { worker, connection } = await createFlotillaWorker({
  address: settings.TEMPORAL_ADDRESS,
  namespace: settings.TEMPORAL_NAMESPACE,
  taskQueue: settings.FLOTILLA_TASK_QUEUE,
  deps: { ...activityDeps({ catalog, adapters: {} }), rateLimits },
  dataConverter: dataConverterFromEnv(),
  tuning: workerTuningFromEnv(),
  ...(bundlePath ? { workflowBundle: { code: readFileSync(bundlePath, 'utf8') } } : {}),
});

process.on('message', (message: { type?: string }) => {
  if (message.type !== 'stats') return;
  const stats: ScaleWorkerStats = { type: 'stats', requests: 0, throttled: 0, throttledMs: 0, peakInFlight: 0, limiters: 0, byActivity: {} };
  for (const { stats: s } of rateLimits.allLimiters()) {
    stats.requests += s.requests;
    stats.throttled += s.throttled;
    stats.throttledMs += s.throttledMs;
    stats.peakInFlight = Math.max(stats.peakInFlight, s.peakInFlight);
    stats.limiters += 1;
  }
  for (const [type, s] of rateLimits.byActivity) stats.byActivity[type] = s.requests;
  process.send?.(stats);
});
// The bench stops it with SIGTERM: Worker.run() drains and returns on it by itself.
console.log('scale worker running');
await worker.run();
await connection.close();
await catalog.close();
process.disconnect?.();
