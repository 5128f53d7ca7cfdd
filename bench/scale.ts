// How a promotion grows with the fleet: one `promote` to 6, 100 and 500 cluster entries in one
// run. The machine holds only a few real control planes (kwokctl: kube-apiserver, etcd,
// controller-manager, scheduler, KWOK's simulated nodes and pods), so many catalog cluster
// entries share each real API server: every entry is registered under its own name with the
// kubeconfig of its server, and every target environment has its own namespace. Everything on
// the path is real (catalog, Temporal dev server, a Flotilla worker process, server-side apply,
// rollout waits, the per-entry rate limiters) except the count of control planes.
//
// Per size, a fresh worker process (its peak memory its own) runs one promotion of one stage
// (the worst case for the parent's history: it continues as new only between stages) with
// maxParallel = all targets unless --max-parallel says otherwise. Measured: end-to-end time;
// the parent's and the biggest child's history (events and bytes, as the server counts them);
// the parent's largest event (its largest payload); how long activities waited for a worker
// slot; the worker's peak RSS and CPU seconds and the Temporal server's CPU seconds (/proc);
// Kubernetes requests and how many waited on a rate limiter. Then kubectl checks every target
// straight from the API servers. A table shows how each figure grows, a chart goes to
// docs/scaling-growth.png and the numbers to docs/scaling-results.json; README (Benchmarks) says
// what they showed and which worker settings came of them. About 6–7 minutes on 2 quiet cores.
//
//   npm run bench:scale -- [--sizes 6,100,500] [--servers 3] [--max-parallel N]
//       [--worker-activities N] [--worker-workflow-tasks N] [--worker-cache N]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { AppSpecInput } from '../domain/environment.js';
import { shortRevision } from '../domain/revision.js';
import { LocalFleet } from '../local/fleet.js';
import { onShutdown } from '../local/shutdown.js';
import { tempCatalog } from '../local/temp-catalog.js';
import { startTemporalDevServer } from '../local/temporal-dev-server.js';
import { cacheDir, ensureToolchain, projectRoot } from '../local/toolchain.js';
import { changeSpec, createEnvironment } from '../store/changes.js';
import { flotillaDataConverter } from '../temporal/data-converter.js';
import { PayloadKeyRing } from '../temporal/key-ring.js';
import { workerTuningFromEnv } from '../worker/config.js';
import { bundleWorkflows } from '../worker/worker.js';
import { deployEnvironment } from '../workflows/deploy-environment.js';
import { promote } from '../workflows/promote.js';
import { growthSvg, writeGrowthChart, type Panel } from './support/growth-chart.js';
import { pool } from '../api/services/logs.js';
import { historySize, largestEvent, runsOf, scheduleToStart, type HistorySize } from './support/history-stats.js';
import { findProcess, measure, type Usage } from './support/proc-stats.js';
import { max, median } from './support/promote-scenario.js';
import { runBench } from './support/run-bench.js';
import type { ScaleWorkerStats } from './support/scale-worker.js';
import { startScaleWorker } from './support/scale-worker-process.js';
import { verifyTargets, type ScaleTarget } from './support/scale-verify.js';

const { values: options } = parseArgs({
  options: {
    sizes: { type: 'string', default: '6,100,500' },
    servers: { type: 'string', default: '3' },
    'max-parallel': { type: 'string' },
    'worker-activities': { type: 'string' },
    'worker-workflow-tasks': { type: 'string' },
    'worker-cache': { type: 'string' },
    json: { type: 'string', default: 'docs/scaling-results.json' },
    chart: { type: 'string', default: 'docs/scaling-growth.png' },
  },
});
const positive = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < (name === 'worker-cache' ? 0 : 1)) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return n;
};
const SIZES = options.sizes.split(',').map((v) => positive('sizes', v.trim())!);
const SERVERS = positive('servers', options.servers)!;
const MAX_PARALLEL = positive('max-parallel', options['max-parallel']);
const TUNING: Record<string, string> = Object.fromEntries(Object.entries({
  FLOTILLA_WORKER_MAX_ACTIVITIES: positive('worker-activities', options['worker-activities']),
  FLOTILLA_WORKER_MAX_WORKFLOW_TASKS: positive('worker-workflow-tasks', options['worker-workflow-tasks']),
  FLOTILLA_WORKER_MAX_CACHED_WORKFLOWS: positive('worker-cache', options['worker-cache']),
}).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
/** What the worker runs with (worker/config.ts's defaults under these flags), for the report. */
const EFFECTIVE_TUNING = Object.entries(workerTuningFromEnv(TUNING)).map(([k, v]) => `${k}=${v}`).join(' ');
const ENTRIES = Math.max(...SIZES);

const APP = 'scale';
const SOURCE = 'scale-src';
const DEPLOYMENTS = ['web'];
const pad = (k: number) => String(k).padStart(String(ENTRIES).length, '0');
const entryName = (k: number) => `scale-c${pad(k)}`;
const targetName = (k: number) => `scale-t${pad(k)}`;
const taskQueue = 'bench-scale';
// Temporal's defaults (dev server and production): the history of one run, and one payload.
const HISTORY_EVENTS_LIMIT = 51_200;
const HISTORY_BYTES_LIMIT = 50 * 1024 * 1024;
const BLOB_BYTES_LIMIT = 2 * 1024 * 1024;

const started = performance.now();
const log = (m: string) => console.error(`[bench +${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MB = (b: number) => b / 1024 / 1024;

/** One small service, one replica: 500 of them fit a 2-core machine. */
function scaleSpec(tag: string): AppSpecInput {
  return {
    services: [{ name: 'web', image: `ghcr.io/acme/web:${tag}`, ports: [{ name: 'http', port: 8080 }], replicas: 1, env: { LOG_LEVEL: { config: 'log-level' } } }],
    config: { 'log-level': 'info' },
  };
}

interface SizeResult {
  size: number;
  maxParallel: number;
  revision: string;
  wallSeconds: number;
  outcome: string;
  succeeded: number;
  failed: string[];
  parent: { runs: HistorySize[]; events: number; bytes: number; largestEvent: { bytes: number; type: string; byType: Record<string, number> } };
  biggestChild: { events: HistorySize; bytes: HistorySize };
  /** Milliseconds from an activity being scheduled to a worker starting it, over every activity of the promotion. */
  slotWait: { activities: number; p50: number; p95: number; max: number; slowest: string; byActivity: Record<string, { n: number; p50: number; p95: number; max: number }> };
  worker: Usage;
  temporal: Usage;
  requests: ScaleWorkerStats;
  verified: { checked: number; problems: number };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const toolchain = ensureToolchain();
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-scale-'));
  onShutdown('temporary files', () => rmSync(dir, { recursive: true, force: true }));
  log(`sizes ${SIZES.join(', ')} on ${SERVERS} real API servers; maxParallel ${MAX_PARALLEL ?? 'all targets'}; worker ${EFFECTIVE_TUNING}, the rest the SDK's defaults`);

  const dbFile = join(dir, 'temporal.db');
  const temporal = await startTemporalDevServer({ executable: toolchain.temporal, dbFile });
  onShutdown('temporal dev server', () => temporal.stop());
  const temporalPid = findProcess(dbFile);
  log(`temporal dev server at ${temporal.address} (pid ${temporalPid})`);

  // Webpack once, here; every worker process loads the file.
  const bundle = bundleWorkflows();
  bundle.catch(() => {});
  const fleet = await LocalFleet.create({
    toolchain,
    workdir: join(cacheDir(), 'fleet-scale'),
    clusters: Array.from({ length: SERVERS }, (_, i) => ({ name: `scale-${i + 1}`, labels: { tier: 'prod' } })),
    log,
  });
  const built = await bundle;
  if (!('code' in built)) throw new Error('expected the workflow bundle as code');
  const bundleFile = join(dir, 'workflows.js');
  writeFileSync(bundleFile, built.code);

  // ---- the catalog: ENTRIES cluster entries over SERVERS real servers ----
  const serverOf = (k: number) => fleet.clusters[(k - 1) % SERVERS]!;
  const tc = await tempCatalog([
    { name: 'scale-source', kubeconfig: fleet.clusters[0]!.kubeconfig, labels: { tier: 'staging' } },
    ...Array.from({ length: ENTRIES }, (_, i) => ({ name: entryName(i + 1), kubeconfig: serverOf(i + 1).kubeconfig, labels: { tier: 'prod', geo: ['us', 'eu', 'ap'][i % 3]! } })),
  ]);
  onShutdown('catalog', () => tc.close());
  const catalog = tc.catalog;
  const spec0 = scaleSpec('1.0.0');
  await createEnvironment(catalog, { binding: { name: SOURCE, application: APP, tier: 'staging', cluster: 'scale-source', namespace: SOURCE }, spec: spec0, author: 'bench' });
  const targets: ScaleTarget[] = [];
  for (let k = 1; k <= ENTRIES; k++) {
    await createEnvironment(catalog, { binding: { name: targetName(k), application: APP, tier: 'prod', cluster: entryName(k), namespace: targetName(k) }, spec: spec0, author: 'bench' });
    targets.push({ environment: targetName(k), namespace: targetName(k), kubeconfigPath: serverOf(k).kubeconfigPath });
  }
  log(`catalog: ${ENTRIES + 1} cluster entries over ${SERVERS} API servers, ${ENTRIES + 1} environments`);

  const keyRing = PayloadKeyRing.generate();
  const dataConverter = flotillaDataConverter(keyRing);
  const client = new Client({ connection: await Connection.connect({ address: temporal.address }), namespace: temporal.namespace, dataConverter });
  onShutdown('temporal client', () => client.connection.close());
  const workerEnv = {
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    FLOTILLA_TASK_QUEUE: taskQueue,
    FLOTILLA_CATALOG_URL: tc.url,
    FLOTILLA_MASTER_KEY: tc.masterKey,
    FLOTILLA_PAYLOAD_KEYS: JSON.stringify(keyRing.toJSON()),
    BENCH_WORKFLOW_BUNDLE: bundleFile,
    ...TUNING,
  };
  const withWorker = async <T>(work: (pid: number, stats: () => Promise<ScaleWorkerStats>) => Promise<T>): Promise<T> => {
    const worker = await startScaleWorker(workerEnv);
    const unregister = onShutdown('scale worker', () => worker.stop());
    try {
      return await work(worker.pid, () => worker.stats());
    } finally {
      await worker.stop();
      unregister();
    }
  };
  const deploySource = (id: string) => client.workflow.execute(deployEnvironment, {
    taskQueue, workflowId: id, args: [{ environment: SOURCE, requestedBy: 'bench', rolloutTimeoutSeconds: 300 }],
  });
  const promoteTo = (workflowId: string, count: number) => client.workflow.start(promote, {
    taskQueue, workflowId,
    args: [{
      source: SOURCE, requestedBy: 'bench', failurePolicy: 'continue', rolloutTimeoutSeconds: 300, targetTimeoutSeconds: 1_500,
      stages: [{ name: 'all', targets: targets.slice(0, count).map((t) => t.environment), maxParallel: MAX_PARALLEL ?? count }],
    }],
  });

  // ---- set-up, not measured: revision 0 on every target (a first deploy: namespaces, accounts) ----
  await withWorker(async () => {
    await deploySource('setup-source');
    const t0 = performance.now();
    const result = await (await promoteTo('scale-setup', ENTRIES)).result();
    const bad = result.stages[0]!.targets.filter((t) => t.phase !== 'succeeded');
    if (bad.length > 0) throw new Error(`set-up: ${bad.length} targets not deployed, e.g. ${bad.slice(0, 3).map((t) => `${t.environment}: ${t.error}`).join('; ')}`);
    log(`set-up: revision 0 on all ${ENTRIES} targets (a first deploy) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });

  // ---- the measured promotions ----
  const results: SizeResult[] = [];
  let broke: unknown;
  for (const [i, size] of SIZES.entries()) {
    if (broke) break;
    const tag = `1.0.${i + 1}`;
    const { revision: { id: revision } } = await changeSpec(catalog, SOURCE, scaleSpec(tag), { author: 'bench' });
    // A size that breaks ends the run, but what the smaller sizes measured is still reported.
    const measured = await withWorker(async (workerPid, stats) => {
      await deploySource(`source-${i + 1}`);
      await sleep(2_000); // the worker's start-up and the source deploy settle before measuring
      log(`promoting revision ${shortRevision(revision)} (image tag ${tag}) to ${size} targets ...`);
      const workerUsage = measure(workerPid);
      const temporalUsage = measure(temporalPid);
      const workflowId = `scale-promote-${size}-${i + 1}`;
      const t0 = performance.now();
      const handle = await promoteTo(workflowId, size);
      const result = await handle.result();
      const wallSeconds = (performance.now() - t0) / 1000;
      const worker = workerUsage.stop();
      const temporalCpu = temporalUsage.stop();
      const requests = await stats();
      const stage = result.stages[0]!;
      const failed = stage.targets.filter((t) => t.phase !== 'succeeded').map((t) => `${t.environment}: ${t.phase} ${t.error ?? ''}`);
      log(`  ${size} targets: ${result.outcome} in ${wallSeconds.toFixed(1)} s (${stage.targets.length - failed.length} succeeded); reading histories ...`);

      const runs = await runsOf(client, workflowId);
      const largest = await largestEvent(client, workflowId);
      const children = await pool(stage.targets, 8, async (t) => {
        const id = `${workflowId}/${t.environment}`;
        return { size: await historySize(client, id), waits: await scheduleToStart(client, id) };
      });
      const waits = [...children.flatMap((c) => c.waits), ...(await scheduleToStart(client, workflowId))];
      const sorted = waits.map((w) => w.ms).sort((a, b) => a - b);
      const slowest = waits.reduce((a, b) => (b.ms > a.ms ? b : a), { name: '-', ms: -1 });
      const byActivity: SizeResult['slotWait']['byActivity'] = {};
      for (const name of [...new Set(waits.map((w) => w.name))]) {
        const xs = waits.filter((w) => w.name === name).map((w) => w.ms).sort((a, b) => a - b);
        byActivity[name] = { n: xs.length, p50: median(xs), p95: percentile(xs, 0.95), max: max(xs) };
      }
      const verified = await verifyTargets({ kubectl: toolchain.kubectl, catalog, application: APP, targets: targets.slice(0, size), deployments: DEPLOYMENTS, tag, revision });
      log(`  kubectl: ${verified.checked} targets checked on ${SERVERS} API servers, ${verified.problems.length} problems${verified.problems.length ? `: ${verified.problems.slice(0, 5).join('; ')}` : ''}`);
      return {
        size,
        maxParallel: MAX_PARALLEL ?? size,
        revision,
        wallSeconds,
        outcome: result.outcome ?? result.phase,
        succeeded: stage.targets.length - failed.length,
        failed,
        parent: { runs, events: runs.reduce((n, r) => n + r.events, 0), bytes: runs.reduce((n, r) => n + r.bytes, 0), largestEvent: largest },
        biggestChild: {
          events: children.map((c) => c.size).reduce((a, b) => (b.events > a.events ? b : a)),
          bytes: children.map((c) => c.size).reduce((a, b) => (b.bytes > a.bytes ? b : a)),
        },
        slotWait: {
          activities: sorted.length,
          p50: median(sorted),
          p95: percentile(sorted, 0.95),
          max: max(sorted),
          slowest: `${slowest.name} ${slowest.ms.toFixed(0)} ms`,
          byActivity,
        },
        worker,
        temporal: temporalCpu,
        requests,
        verified: { checked: verified.checked, problems: verified.problems.length },
      } satisfies SizeResult;
    }).catch((error: unknown) => {
      broke = error;
      log(`  ${size} targets broke: ${error instanceof Error ? error.message : String(error)}`);
    });
    if (measured) results.push(measured);
  }

  if (results.length > 0) {
    report(results);
    await chart(results);
  }
  if (broke) throw broke;
  if (results.some((r) => r.failed.length > 0 || r.verified.problems > 0)) throw new Error('a promotion did not reach every target: see the table');
}

/** The q-quantile of ascending numbers. */
const percentile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN;

/** The size at which a figure growing linearly (fitted through the smallest and largest size) reaches `limit`. */
function sizeAt(results: readonly SizeResult[], figure: (r: SizeResult) => number, limit: number): number {
  const a = results[0]!;
  const b = results[results.length - 1]!;
  if (a === b) return NaN;
  const slope = (figure(b) - figure(a)) / (b.size - a.size);
  return slope > 0 ? Math.floor(a.size + (limit - figure(a)) / slope) : Infinity;
}

function report(results: SizeResult[]): void {
  const rows: [string, (r: SizeResult) => string][] = [
    ['promotion end to end (s)', (r) => r.wallSeconds.toFixed(1)],
    ['  per target (ms)', (r) => ((r.wallSeconds * 1000) / r.size).toFixed(0)],
    ['  targets succeeded', (r) => `${r.succeeded}/${r.size}`],
    ['parent history: events', (r) => String(r.parent.events)],
    ['parent history: KB', (r) => (r.parent.bytes / 1024).toFixed(0)],
    ['  runs (continue-as-new)', (r) => String(r.parent.runs.length)],
    ['  largest event (KB)', (r) => (r.parent.largestEvent.bytes / 1024).toFixed(1)],
    ['  plan / result event (KB)', (r) => `${((r.parent.largestEvent.byType.ACTIVITY_TASK_COMPLETED ?? NaN) / 1024).toFixed(1)} / ${((r.parent.largestEvent.byType.WORKFLOW_EXECUTION_COMPLETED ?? NaN) / 1024).toFixed(1)}`],
    ['biggest child: events', (r) => String(r.biggestChild.events.events)],
    ['biggest child: KB', (r) => (r.biggestChild.bytes.bytes / 1024).toFixed(1)],
    ['activity slot wait p50 (ms)', (r) => r.slotWait.p50.toFixed(0)],
    ['activity slot wait p95 (ms)', (r) => r.slotWait.p95.toFixed(0)],
    ['activity slot wait max (ms)', (r) => r.slotWait.max.toFixed(0)],
    ['worker peak RSS (MB)', (r) => MB(r.worker.peakRssBytes).toFixed(0)],
    ['  RSS at start / end (MB)', (r) => `${MB(r.worker.startRssBytes).toFixed(0)} / ${MB(r.worker.endRssBytes).toFixed(0)}`],
    ['worker CPU (s)', (r) => r.worker.cpuSeconds.toFixed(1)],
    ['  per target (ms)', (r) => ((r.worker.cpuSeconds * 1000) / r.size).toFixed(0)],
    ['Temporal dev server CPU (s)', (r) => r.temporal.cpuSeconds.toFixed(1)],
    ['  per target (ms)', (r) => ((r.temporal.cpuSeconds * 1000) / r.size).toFixed(0)],
    ['Temporal peak RSS (MB)', (r) => MB(r.temporal.peakRssBytes).toFixed(0)],
    ['Kubernetes requests', (r) => String(r.requests.requests)],
    ['  waited on a rate limiter', (r) => `${r.requests.throttled} (${r.requests.throttledMs.toFixed(0)} ms)`],
    ['  peak in flight per entry', (r) => String(r.requests.peakInFlight)],
    ['targets checked by kubectl', (r) => `${r.verified.checked - r.verified.problems}/${r.verified.checked} ok`],
  ];
  const w = [30, ...results.map(() => 16)];
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('');
  const out: string[] = ['', `promote across ${results.map((r) => r.size).join(' → ')} cluster entries (${SERVERS} real API servers, one stage, maxParallel ${MAX_PARALLEL ?? 'all'}; worker ${EFFECTIVE_TUNING})`];
  out.push(line(['', ...results.map((r) => `${r.size} targets`)]));
  for (const [name, cell] of rows) out.push(line([name, ...results.map(cell)]));
  out.push('');
  if (results.length > 1) {
    const events = sizeAt(results, (r) => r.parent.events, HISTORY_EVENTS_LIMIT);
    const bytes = sizeAt(results, (r) => r.parent.bytes, HISTORY_BYTES_LIMIT);
    const blob = sizeAt(results, (r) => r.parent.largestEvent.bytes, BLOB_BYTES_LIMIT);
    const a = results[0]!;
    const b = results[results.length - 1]!;
    out.push(`parent history per target: ${((b.parent.events - a.parent.events) / (b.size - a.size)).toFixed(1)} events, ${((b.parent.bytes - a.parent.bytes) / (b.size - a.size) / 1024).toFixed(2)} KB`);
    out.push(`one stage reaches Temporal's limits at about: ${events.toLocaleString('en')} targets (51,200 events), ${bytes.toLocaleString('en')} targets (50 MB), ${blob.toLocaleString('en')} targets (a 2 MB payload: the ${b.parent.largestEvent.type} event)`);
  }
  for (const r of results) {
    if (r.failed.length) out.push(`${r.size}: ${r.failed.length} targets not succeeded, e.g. ${r.failed.slice(0, 3).join('; ')}`);
    out.push(`${r.size}: ${r.outcome}; slot wait p50/p95/max (ms) by activity: ${Object.entries(r.slotWait.byActivity).map(([k, v]) => `${k} ${v.p50.toFixed(0)}/${v.p95.toFixed(0)}/${v.max.toFixed(0)}`).join(', ')}`);
    out.push(`${r.size}: Kubernetes requests by activity: ${Object.entries(r.requests.byActivity).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  console.log(out.join('\n'));

  const json = resolve(projectRoot, options.json);
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, `${JSON.stringify({
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    servers: SERVERS, maxParallel: MAX_PARALLEL ?? 'all', workerTuning: workerTuningFromEnv(TUNING), results,
  }, null, 2)}\n`);
  log(`results written to ${json}`);
}

async function chart(results: SizeResult[]): Promise<void> {
  const sizes = results.map((r) => r.size);
  const panels: Panel[] = [
    { title: 'Promotion, end to end', unit: 'seconds', values: results.map((r) => r.wallSeconds) },
    { title: 'Parent history', unit: 'events', values: results.map((r) => r.parent.events), limit: { value: HISTORY_EVENTS_LIMIT, label: 'limit 51,200' } },
    { title: 'Parent history size', unit: 'KB', values: results.map((r) => r.parent.bytes / 1024) },
    { title: 'Biggest child history', unit: 'events', values: results.map((r) => r.biggestChild.events.events) },
    { title: 'Worker peak RSS', unit: 'MB', values: results.map((r) => MB(r.worker.peakRssBytes)) },
    { title: 'Worker CPU', unit: 'CPU seconds', values: results.map((r) => r.worker.cpuSeconds) },
    { title: 'Temporal dev server CPU', unit: 'CPU seconds', values: results.map((r) => r.temporal.cpuSeconds) },
    { title: 'Activity wait for a worker slot, p95', unit: 'ms', values: results.map((r) => r.slotWait.p95) },
    { title: 'Kubernetes requests', unit: 'requests', values: results.map((r) => r.requests.requests) },
  ];
  const file = resolve(projectRoot, options.chart);
  await writeGrowthChart(file, growthSvg(
    `One promotion across ${sizes.join(' → ')} cluster entries`,
    `${SERVERS} real API servers shared by the cluster entries; one stage, maxParallel ${MAX_PARALLEL ?? 'all'}; ${cpus().length} cores; worker ${EFFECTIVE_TUNING}`,
    sizes, panels,
  ));
  log(`chart written to ${file}`);
}

runBench(main, log);
