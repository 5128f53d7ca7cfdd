// How long promoting a new revision to six clusters takes with Flotilla, beside the scripting
// approach it replaces, when every cluster is a WAN hop away, measured in one run on the same
// clusters (issue 15, item 2):
//   (A) Flotilla: `promote`, one stage of 6 targets, maxParallel 6, failurePolicy rollback;
//   (B) a bash loop: per cluster `kubectl apply -f` then `kubectl rollout status` for every
//       Deployment, one cluster after another;
//   (C) the same loop with the six clusters in parallel;
// at each one-way latency of --latencies (0, 25 and 80 ms by default; ±10 % jitter). One fleet:
// each cluster's API server sits behind Toxiproxy (LocalFleet's `proxy` option) and the latency
// is switched on all six proxies between phases. A, B and C all go through the proxied
// kubeconfigs; set-up, checks and the floor's watch use the direct ones.
//
// The floor, precisely: for each run of A, an independent watch per target namespace (started
// before the run, on the direct, un-proxied connection, so the latency it measures does not
// delay it) notes the last moment at which all 20 Deployments carried the new tag and were
// rolled out as `kubectl rollout status` judges it. floor = the latest of the 6 clusters' moments
// − the moment the bench called start() on the promote workflow. So floor ≤ A's wall time, and
// A/floor (each run over its own floor; the median of those) is how much later Flotilla reports
// done than the clusters really were — its bookkeeping, its polling lag, and at least one trip
// over the WAN to notice. The watch's timestamps wait on the bench process's event loop (the
// worker runs in it too): its delay is reported (p99 per run) to show that it is small.
//
// Every approach changes the same 6 × 20 Deployments from the previous revision to a new image
// tag, each in its own namespaces, applying byte-for-byte the manifests Flotilla renders for
// that target. Goals (at 25 and 80 ms): B/A ≥ 3, A/C ≤ 0.6; at every latency: A/floor ≤ 1.10,
// promote workflow start → first applyRevision started ≤ 200 ms p50. Also reported: where
// Flotilla's time goes, read from the Temporal histories, and its Kubernetes requests.
// Output: markdown on stdout, progress on stderr, the results as JSON and the chart as a PNG
// (docs/performance-promote.json and .png by default; bench/chart.ts draws it).
//
//   npm run bench:promote [-- --iterations N --sequential-iterations M --latencies 0,25,80
//                            --jitter-pct 10 --json FILE --chart FILE]
//   (= npx tsx bench/promote.ts …; by default 2 iterations per latency, the sequential loop in
//   the first only: 13–16 minutes on 2 shared cores, 756 s and 937 s measured)
import { spawn, execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { AppSpecInput } from '../domain/environment.js';
import { LABEL } from '../domain/labels.js';
import { shortRevision } from '../domain/revision.js';
import { LocalFleet, type LocalCluster } from '../local/fleet.js';
import { onShutdown } from '../local/shutdown.js';
import { runBench } from './support/run-bench.js';
import { tempCatalog } from '../local/temp-catalog.js';
import { startTemporalDevServer } from '../local/temporal-dev-server.js';
import { cacheDir, ensureToolchain } from '../local/toolchain.js';
import type { Catalog } from '../store/catalog.js';
import { changeSpec, createEnvironment } from '../store/changes.js';
import { flotillaDataConverter } from '../temporal/data-converter.js';
import { PayloadKeyRing } from '../temporal/key-ring.js';
import { activityDeps } from '../worker/deps.js';
import { bundleWorkflows, runFlotillaWorker } from '../worker/worker.js';
import { deployEnvironment } from '../workflows/deploy-environment.js';
import { promote } from '../workflows/promote.js';
import { renderChartPng } from './chart.js';
import {
  allActivityTimings, eventMs, baselineManifests, baselineScript, baselineSplit, benchSpec, busyShare, cpuTimes, firstEventMs, max,
  min, putSecrets, SERVICES, shellQuote as q, targetOverrides, toYaml, workflowTaskTimings, type BaselineTarget, type HistoryEvent,
} from './support/promote-scenario.js';
import {
  chartSpec, describe, markdownProfile, markdownSummary, resultsJson, summarize, type Approach, type Phase,
} from './support/promote-report.js';
import { watchConvergence } from './support/convergence.js';
import { CountingRateLimits, type RequestStats } from './support/counting-limits.js';

const exec = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: options } = parseArgs({
  options: {
    iterations: { type: 'string', default: '2' },
    // The sequential loop is the long one (3–4 minutes at 80 ms) and, being round trips one
    // after another, the steadiest: by default it runs in the first iteration of each latency only.
    'sequential-iterations': { type: 'string', default: '1' },
    latencies: { type: 'string', default: '0,25,80' },
    'jitter-pct': { type: 'string', default: '10' },
    json: { type: 'string', default: join(ROOT, 'docs', 'performance-promote.json') },
    chart: { type: 'string', default: join(ROOT, 'docs', 'performance-promote.png') },
  },
});
const iterations = Number(options.iterations);
if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`--iterations must be a positive integer, got ${options.iterations}`);
const seqIterations = Math.min(iterations, Number(options['sequential-iterations']));
if (!Number.isInteger(seqIterations) || seqIterations < 1) throw new Error(`--sequential-iterations must be a positive integer, got ${options['sequential-iterations']}`);
const latencies = options.latencies.split(',').map((x) => Number(x.trim()));
if (latencies.length === 0 || latencies.some((l) => !Number.isInteger(l) || l < 0)) throw new Error(`--latencies must be whole milliseconds ≥ 0, comma-separated, got ${options.latencies}`);
const jitterPct = Number(options['jitter-pct']);
if (!(jitterPct >= 0 && jitterPct <= 100)) throw new Error(`--jitter-pct must be 0–100, got ${options['jitter-pct']}`);
// Toxiproxy takes whole milliseconds.
const jitterOf = (latencyMs: number) => Math.round((latencyMs * jitterPct) / 100);

const CLUSTERS = 6;
const APP = 'shop';
const SOURCE = 'shop-staging';
const targetName = (k: number) => `shop-prod-${k}`;
const TARGETS = Array.from({ length: CLUSTERS }, (_, i) => targetName(i + 1));
const taskQueue = 'bench-promote';
const started = performance.now();
const log = (m: string) => console.error(`[bench +${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const s = (ms: number) => (ms / 1000).toFixed(2);

const suffix = { B: 'kubectl-seq', C: 'kubectl-par' } as const;
/** The API server itself, bypassing the proxy: set-up, checks and the floor's watch. */
const direct = (c: LocalCluster) => c.direct ?? c;

interface FlotillaSample {
  wall: number;
  /** The bench's start() call → the last cluster converged (independent watch, direct connection). */
  floor: number;
  /** Parent WorkflowExecutionStarted → each child's first applyRevision ActivityTaskStarted. */
  firstApply: number[];
  /** Named spans in ms, per target where it applies. */
  spans: Record<string, number[]>;
  throttled: number;
  throttledMs: number;
  /** Kubernetes requests per activity type, this promotion. */
  requests: Map<string, RequestStats>;
  /** p99 of the bench process's event-loop delay during the run, ms. */
  loopDelayP99: number;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const toolchain = ensureToolchain();
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-promote-'));
  onShutdown('temporary files', () => rmSync(dir, { recursive: true, force: true }));
  log(`latencies ${latencies.map((l) => `${l} ms ±${jitterOf(l)}`).join(', ')}; ${iterations} iteration(s) each (the sequential loop in ${seqIterations})`);

  const temporal = await startTemporalDevServer({ executable: toolchain.temporal, dbFile: join(dir, 'temporal.db') });
  onShutdown('temporal dev server', () => temporal.stop());
  log(`temporal dev server at ${temporal.address} (headless, ${join(dir, 'temporal.db')})`);

  const bundle = bundleWorkflows(); // webpack, while the clusters start
  bundle.catch(() => {});
  const fleet = await LocalFleet.create({
    toolchain,
    // Its own kwokctl workdir: a test run creating clusters at the same time shares nothing.
    workdir: join(cacheDir(), 'fleet-bench'),
    // Every API server behind Toxiproxy (no latency yet): the catalog, and so the worker, and
    // the kubectl loops get the proxied kubeconfigs.
    proxy: {},
    clusters: Array.from({ length: CLUSTERS }, (_, i) => ({ name: `bench-promote-${i + 1}`, labels: { tier: 'prod', geo: i % 2 ? 'eu' : 'us' } })),
    log,
  });
  const clusterOf = (k: number): LocalCluster => fleet.clusters[k - 1]!;
  const setLatency = (k: number, ms: number) => fleet.faults(clusterOf(k).name).latency(ms, jitterOf(ms));

  // Prod clusters; the first also runs the staging source, so an admin allowed staging on them.
  const tc = await tempCatalog(fleet.clusters.map((c) => ({ ...c, allowedTiers: ['staging' as const] })));
  onShutdown('catalog', () => tc.close());
  const catalog = tc.catalog;
  const rateLimits = new CountingRateLimits();
  // Measured as it runs in production: every payload encrypted (a key ring for this run only).
  const dataConverter = flotillaDataConverter(PayloadKeyRing.generate());
  const worker = await runFlotillaWorker({
    address: temporal.address, namespace: temporal.namespace, taskQueue,
    deps: { ...activityDeps({ catalog, adapters: {} }), rateLimits }, workflowBundle: await bundle, dataConverter,
  });
  onShutdown('worker', () => worker.stop());
  const client = new Client({ connection: await Connection.connect({ address: temporal.address }), namespace: temporal.namespace, dataConverter });
  onShutdown('temporal client', () => client.connection.close());

  // ---- the environments, revision 0 everywhere (no latency yet) ----
  const spec0 = benchSpec('1.0.0');
  await createEnv(catalog, SOURCE, 'staging', clusterOf(1).name, spec0, { config: { 'public-url': 'https://staging.shop.example' } });
  for (const [i, t] of TARGETS.entries()) await createEnv(catalog, t, 'prod', clusterOf(i + 1).name, spec0, targetOverrides(i + 1));
  const rev0 = (await catalog.environments.require(SOURCE)).currentRevision!;
  log(`deploying revision 0 (${shortRevision(rev0)}) with Flotilla to ${SOURCE} and ${TARGETS.length} targets ...`);
  await Promise.all([SOURCE, ...TARGETS].map((environment) => client.workflow.execute(deployEnvironment, {
    taskQueue, workflowId: `setup-${environment}`, args: [{ environment, requestedBy: 'bench', rolloutTimeoutSeconds: 120 }],
  })));
  const rev0Targets = await writeBaselineFiles(catalog, fleet, 0, rev0);
  log('deploying revision 0 with kubectl to the baseline namespaces ...');
  // Set-up, not measured: one apply per namespace, then wait by listing (fewer processes).
  // Through the proxies (no latency yet), so kubectl's discovery cache (~/.kube/cache, per
  // server address) is warm for the measured loops, as for someone who runs them every day.
  await runScript([...rev0Targets.B, ...rev0Targets.C].map((t) => `${q(toolchain.kubectl)} --kubeconfig ${q(t.kubeconfig)} apply -f ${q(t.file)} >/dev/null &`).concat('wait').join('\n'));
  for (let attempt = 0; ; attempt++) {
    const pending = (await Promise.all((['B', 'C'] as const).map((a) => verifyBaseline(toolchain.kubectl, a, rev0, '1.0.0', fleet).then(() => 0, () => 1)))).some(Boolean);
    if (!pending) break;
    if (attempt > 120) await verifyBaseline(toolchain.kubectl, 'B', rev0, '1.0.0', fleet); // throws with the details
    await sleep(1_000);
  }
  const objects = (await baselineManifests(catalog, TARGETS[0]!, rev0, 'x')).length;
  await sleep(2_000);
  const idle0 = cpuTimes();
  await sleep(2_000);
  const idleBusy = busyShare(idle0, cpuTimes());
  log(`set-up done; the idle fleet keeps ${(idleBusy * 100).toFixed(0)}% of the CPUs busy`);

  // ---- per latency, the iterations ----
  const phases: Phase[] = [];
  let n = 0; // every run moves to a new tag, across the phases
  for (const latencyMs of latencies) {
    const phase: Phase = {
      latencyMs, jitterMs: jitterOf(latencyMs),
      wall: { A: [], B: [], C: [] }, busy: { A: [], B: [], C: [] }, floor: [], overFloor: [], firstApply: [], spans: {}, requests: [], loopDelayP99: [],
      kubectlSplit: { B: { apply: [], wait: [] }, C: { apply: [], wait: [] } },
    };
    phases.push(phase);
    await Promise.all(fleet.clusters.map((_, k) => setLatency(k + 1, latencyMs)));
    log(`latency ${latencyMs} ms ±${phase.jitterMs} one-way on all ${CLUSTERS} proxies`);
    for (let i = 1; i <= iterations; i++) {
      n++;
      const tag = `1.0.${n}`;
      const { revision: { id: rev } } = await changeSpec(catalog, SOURCE, benchSpec(tag), { author: 'bench' });
      // The source's deploy is set-up, not measured: its cluster's latency is lifted meanwhile.
      await setLatency(1, 0);
      await client.workflow.execute(deployEnvironment, {
        taskQueue, workflowId: `source-${n}`, args: [{ environment: SOURCE, requestedBy: 'bench', rolloutTimeoutSeconds: 120 }],
      });
      await setLatency(1, latencyMs);
      const files = await writeBaselineFiles(catalog, fleet, n, rev);
      const order = (n % 2 === 1 ? ['A', 'B', 'C'] : ['C', 'B', 'A']).filter((a) => a !== 'B' || i <= seqIterations) as Approach[];
      log(`${latencyMs} ms, iteration ${i}/${iterations}: image tag ${tag}, revision ${shortRevision(rev)}, order ${order.join(' ')}`);
      for (const approach of order) {
        await sleep(1_000); // let the previous run's old pods go before timing the next
        const cpu0 = cpuTimes();
        if (approach === 'A') {
          const sample = await runFlotilla(client, rateLimits, fleet, n, rev, tag);
          phase.busy.A.push(busyShare(cpu0, cpuTimes()));
          await verifyFlotilla(toolchain.kubectl, catalog, rev, tag, fleet);
          phase.wall.A.push(sample.wall);
          phase.floor.push(sample.floor);
          phase.overFloor.push(sample.wall / sample.floor);
          phase.firstApply.push(...sample.firstApply);
          for (const [k, xs] of Object.entries(sample.spans)) (phase.spans[k] ??= []).push(...xs);
          phase.requests.push(sample.requests);
          phase.loopDelayP99.push(sample.loopDelayP99);
          log(`  (A) Flotilla ${s(sample.wall)} s, floor ${s(sample.floor)} s (${(sample.wall / sample.floor).toFixed(2)}×); first apply after ${s(min(sample.firstApply))}–${s(max(sample.firstApply))} s; all ${CLUSTERS} targets at ${shortRevision(rev)}`);
        } else {
          const script = baselineScript(toolchain.kubectl, files[approach], SERVICES, approach === 'C');
          const startMs = Date.now();
          const t0 = performance.now();
          const out = await runScript(script);
          const ms = performance.now() - t0;
          phase.busy[approach].push(busyShare(cpu0, cpuTimes()));
          await verifyBaseline(toolchain.kubectl, approach, rev, tag, fleet);
          phase.wall[approach].push(ms);
          const split = baselineSplit(out, startMs, approach === 'C');
          phase.kubectlSplit[approach].apply.push(...split.apply);
          phase.kubectlSplit[approach].wait.push(...split.wait);
          log(`  (${approach}) kubectl ${approach === 'B' ? 'sequential' : 'parallel'} ${s(ms)} s; all ${CLUSTERS} namespaces at ${tag}`);
        }
      }
    }
    const m = summarize(phase);
    log(`${latencyMs} ms done: A ${s(m.medianMs.A)} s, B ${s(m.medianMs.B)} s, C ${s(m.medianMs.C)} s, floor ${s(m.medianMs.floor)} s`);
  }
  await Promise.all(fleet.clusters.map((_, k) => setLatency(k + 1, 0)));

  // ---- the report ----
  const runSeconds = Math.round((performance.now() - started) / 1000);
  const cpu = cpus();
  const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}`;
  const context = `idle fleet: ${(idleBusy * 100).toFixed(0)}% of the CPUs busy; load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`;
  const report = [
    '',
    describe({ clusters: CLUSTERS, services: SERVICES.length, objects, iterations, seqIterations }),
    '',
    `Machine: ${machine}; ${context}. Whole run: ${runSeconds} s.`,
    '',
    markdownSummary(phases),
    '',
    markdownProfile(phases, objects),
    '',
  ].join('\n');
  console.log(report);
  const jsonPath = resolve(options.json);
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(resultsJson(phases, {
    benchmark: 'bench/promote.ts', measuredAt: new Date().toISOString(), runSeconds, machine, idleCpuBusy: idleBusy,
    clusters: CLUSTERS, services: SERVICES.length, objectsPerTarget: objects, iterations, sequentialIterations: seqIterations, latenciesMs: latencies, jitterPct,
  }), null, 2)}\n`);
  console.log(`results (JSON): ${jsonPath}`);
  const chartPath = resolve(options.chart);
  mkdirSync(dirname(chartPath), { recursive: true });
  await renderChartPng(chartSpec(phases, {
    clusters: CLUSTERS, services: SERVICES.length,
    note: `${cpu.length} shared cores; medians of ${iterations} run(s) (the sequential loop: ${seqIterations}) per latency; floor: the last cluster converged (independent watch) during Flotilla's runs.`,
  }), chartPath);
  console.log(`chart (PNG): ${chartPath}`);
  log(`whole run ${runSeconds} s`);
}

async function createEnv(catalog: Catalog, name: string, tier: 'staging' | 'prod', cluster: string, spec: AppSpecInput, overrides: Parameters<typeof createEnvironment>[1]['overrides']): Promise<void> {
  await createEnvironment(catalog, { binding: { name, application: APP, tier, cluster, namespace: name }, spec, overrides, author: 'bench' });
  await putSecrets(catalog, name);
}

/** Renders each target's manifests at `rev` for the baselines' namespaces, into YAML files. */
async function writeBaselineFiles(catalog: Catalog, fleet: LocalFleet, i: number, rev: string): Promise<Record<'B' | 'C', BaselineTarget[]>> {
  const out: Record<'B' | 'C', BaselineTarget[]> = { B: [], C: [] };
  const folder = join(benchDir(), `iteration-${i}`);
  mkdirSync(folder, { recursive: true });
  for (const approach of ['B', 'C'] as const) {
    for (const [k, target] of TARGETS.entries()) {
      const namespace = `${target}-${suffix[approach]}`;
      const file = join(folder, `${namespace}.yaml`);
      writeFileSync(file, toYaml(await baselineManifests(catalog, target, rev, namespace)));
      out[approach].push({ kubeconfig: fleet.clusters[k]!.kubeconfigPath, file, namespace });
    }
  }
  return out;
}

let benchFolder: string | undefined;
function benchDir(): string {
  benchFolder ??= mkdtempSync(join(tmpdir(), 'flotilla-bench-yaml-'));
  return benchFolder;
}
onShutdown('rendered YAML', () => {
  if (benchFolder) rmSync(benchFolder, { recursive: true, force: true });
});

function runScript(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`baseline script exited ${code}:\n${stderr.slice(-2000)}`))));
  });
}

async function runFlotilla(client: Client, rateLimits: CountingRateLimits, fleet: LocalFleet, i: number, rev: string, tag: string): Promise<FlotillaSample> {
  // Independent watches note when each cluster has really finished (not timed: set up before),
  // on the direct connection: the proxy's latency must not delay the floor it is compared with.
  const watches = TARGETS.map((t, k) => watchConvergence(direct(fleet.clusters[k]!).kubeconfig, t, tag, SERVICES.length));
  await sleep(500);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const before = limiterTotals(rateLimits);
  rateLimits.reset();
  const workflowId = `promote-${i}`;
  const startEpoch = Date.now();
  const t0 = performance.now();
  const handle = await client.workflow.start(promote, {
    taskQueue, workflowId,
    args: [{
      source: SOURCE, requestedBy: 'bench', failurePolicy: 'rollback', rolloutTimeoutSeconds: 120, targetTimeoutSeconds: 300,
      stages: [{ name: 'prod', targets: TARGETS, maxParallel: CLUSTERS }],
    }],
  });
  const result = await handle.result();
  const wallMs = performance.now() - t0;
  const after = limiterTotals(rateLimits);
  const requests = new Map(rateLimits.byActivity);
  loopDelay.disable();
  const converged = await Promise.all(watches.map((w) => w.stop()));
  if (result.outcome !== 'completed' || result.phase !== 'completed' || result.revision !== rev || !result.stages[0]!.targets.every((t) => t.phase === 'succeeded')) {
    throw new Error(`promotion ${workflowId} did not complete at ${rev}: ${JSON.stringify(result)}`);
  }

  // Where the time went, from the histories.
  // promote may continue as new: its start is in the first run, its end in the last.
  const parent = ((await client.workflow.getHandle(workflowId, handle.firstExecutionRunId).fetchHistory()).events ?? []) as HistoryEvent[];
  const parentLast = ((await handle.fetchHistory()).events ?? []) as HistoryEvent[];
  const parentStart = firstEventMs(parent, (e) => e.workflowExecutionStartedEventAttributes)!;
  const parentEnd = firstEventMs(parentLast, (e) => e.workflowExecutionCompletedEventAttributes)!;
  // Two fetches of one run are two arrays: the same run when they start at the same moment with as many events.
  const sameRun = parent.length === parentLast.length && eventMs(parent[0]!) === eventMs(parentLast[0]!);
  const parentActivities = allActivityTimings(sameRun ? parent : [...parent, ...parentLast]);
  const plan = parentActivities.find((a) => a.name === 'planPromotion')!;
  const spans: Record<string, number[]> = {};
  const add = (name: string, v: number | undefined) => { if (v !== undefined && Number.isFinite(v)) (spans[name] ??= []).push(v); };
  add('client start() → parent WorkflowExecutionStarted', parentStart - startEpoch);
  add('parent start → planPromotion completed', plan.completed! - parentStart);
  // The path to the first apply (the ≤ 200 ms goal), step by step: what the parent does before
  // its children (its activities' run times, and the rest: waiting for tasks and workflow tasks).
  const upToPlan = parentActivities.filter((a) => a.scheduled <= plan.scheduled && !a.local); // a local activity's run time is not recorded
  if (upToPlan.length > 0) {
    const parentRuns = upToPlan.reduce((t, a) => t + ((a.completed ?? NaN) - (a.started ?? NaN)), 0);
    add(`first apply: parent's ${upToPlan.length} activities up to planPromotion (${upToPlan.map((a) => a.name).join(', ')}): runs`, parentRuns);
    add('first apply: parent start → planPromotion completed, not running activities', plan.completed! - parentStart - parentRuns);
  }
  // Workflow tasks: how long each waits for a worker to poll it, and how long the worker takes.
  const parentTasks = workflowTaskTimings(parent).filter((t) => t.scheduled < plan.completed!);
  add(`first apply: parent's ${parentTasks.length} workflow tasks up to planPromotion: scheduled → started (sum)`, parentTasks.reduce((t, w) => t + (w.started ?? NaN) - w.scheduled, 0));
  add(`first apply: parent's ${parentTasks.length} workflow tasks up to planPromotion: started → completed (sum)`, parentTasks.reduce((t, w) => t + (w.completed ?? NaN) - (w.started ?? NaN), 0));
  const firstApply: number[] = [];
  let lastChildEnd = 0;
  for (const [k, target] of TARGETS.entries()) {
    const events = ((await client.workflow.getHandle(`${workflowId}/${target}`).fetchHistory()).events ?? []) as HistoryEvent[];
    const childStart = firstEventMs(events, (e) => e.workflowExecutionStartedEventAttributes)!;
    const childEnd = firstEventMs(events, (e) => e.workflowExecutionCompletedEventAttributes)!;
    lastChildEnd = Math.max(lastChildEnd, childEnd);
    add('planPromotion completed → child started', childStart - plan.completed!);
    const acts = allActivityTimings(events);
    const apply = acts.find((a) => a.name === 'applyRevision');
    if (apply?.started !== undefined) firstApply.push(apply.started - parentStart);
    const firstAct = acts[0];
    if (firstAct && apply && firstAct !== apply) {
      add(firstAct.local
        ? `first apply: child started → ${firstAct.name} completed (a local activity, in the child's first workflow task)`
        : `first apply: child started → ${firstAct.name} scheduled (child's first workflow task)`, firstAct.scheduled - childStart);
      const firstTask = workflowTaskTimings(events)[0];
      if (firstTask) {
        add("first apply: child's first workflow task: scheduled → started (until a worker polls it)", (firstTask.started ?? NaN) - firstTask.scheduled);
        add("first apply: child's first workflow task: started → completed (the worker runs it)", (firstTask.completed ?? NaN) - (firstTask.started ?? NaN));
      }
      const prior = acts.filter((a) => a.scheduled < apply.scheduled);
      const priorTasks = prior.filter((a) => !a.local);
      if (priorTasks.length > 0) add(`first apply: child's activity tasks before applyRevision (${priorTasks.map((a) => a.name).join(', ')}): scheduled → completed`, priorTasks.reduce((t, a) => t + ((a.completed ?? NaN) - a.scheduled), 0));
      add('first apply: previous activity completed → applyRevision scheduled', apply.scheduled - (prior.at(-1)?.completed ?? NaN));
      add('first apply: applyRevision scheduled → started', (apply.started ?? NaN) - apply.scheduled);
    }
    let previousEnd = childStart;
    for (const a of acts) {
      add(`  ${a.name}: wait for a worker slot/task`, (a.started ?? NaN) - a.scheduled);
      add(`  ${a.name}: runs`, (a.completed ?? NaN) - (a.started ?? NaN));
      add('  between activities (workflow tasks)', a.scheduled - previousEnd);
      previousEnd = a.completed ?? previousEnd;
    }
    add('  last activity → child completed', childEnd - previousEnd);
    const wait = acts.find((a) => a.name === 'waitForRevision');
    const { appliedAt, convergedAt } = converged[k]!;
    if (appliedAt !== undefined) add('parent start → all 20 Deployments applied (watch)', appliedAt - parentStart);
    if (convergedAt !== undefined) {
      add('parent start → cluster rolled out (independent watch)', convergedAt - parentStart);
      add('cluster rolled out → waitForRevision completed (notice lag)', (wait?.completed ?? NaN) - convergedAt);
    }
    add('child (deployEnvironment) total', childEnd - childStart);
  }
  // checkHealth runs after each child; the lock (acquire/release) and the operations index
  // (reportOperation) are the promotion's own bookkeeping at its start, phase changes and end.
  for (const a of parentActivities.filter((x) => x.name !== 'planPromotion')) {
    add(`parent ${a.name}${a.name === 'checkHealth' ? ' (after each child)' : ''}: runs`, (a.completed ?? NaN) - (a.started ?? NaN));
  }
  add('last child completed → parent completed', parentEnd - lastChildEnd);
  add('parent total (history)', parentEnd - parentStart);
  const lastConverged = Math.max(...converged.map((c) => c.convergedAt ?? NaN));
  if (!Number.isFinite(lastConverged)) throw new Error(`promotion ${workflowId}: the watch saw no convergence in ${TARGETS.filter((_, k) => converged[k]!.convergedAt === undefined).join(', ')}`);
  // The gap A/floor measures, in its parts.
  add('last cluster converged (watch) → last child completed', lastChildEnd - lastConverged);
  add('last cluster converged (watch) → parent completed', parentEnd - lastConverged);
  add('parent completed → the bench has the result', startEpoch + wallMs - parentEnd);
  return {
    wall: wallMs, floor: lastConverged - startEpoch, firstApply, spans, throttled: after.throttled - before.throttled, throttledMs: after.throttledMs - before.throttledMs,
    requests, loopDelayP99: loopDelay.percentile(99) / 1e6,
  };
}

function limiterTotals(rateLimits: CountingRateLimits): { throttled: number; throttledMs: number } {
  const t = { throttled: 0, throttledMs: 0 };
  for (const { stats } of rateLimits.allLimiters()) {
    t.throttled += stats.throttled;
    t.throttledMs += stats.throttledMs;
  }
  return t;
}

interface LiveDeployment {
  metadata: { name: string; generation?: number; labels?: Record<string, string> };
  spec: { replicas?: number; template: { spec: { containers: { image: string }[] } } };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number };
}

/** Every Deployment of the namespace runs `tag`, fully rolled out; returns what is wrong. */
async function checkNamespace(kubectl: string, kubeconfig: string, namespace: string, tag: string, revision?: string): Promise<string[]> {
  const { stdout } = await exec(kubectl, ['--kubeconfig', kubeconfig, 'get', 'deployments', '-n', namespace, '-o', 'json'], { maxBuffer: 64 * 1024 * 1024 });
  const items = (JSON.parse(stdout) as { items: LiveDeployment[] }).items;
  const problems: string[] = [];
  if (items.length !== SERVICES.length) problems.push(`${namespace}: ${items.length} Deployments, expected ${SERVICES.length}`);
  for (const d of items) {
    const image = d.spec.template.spec.containers[0]!.image;
    const st = d.status ?? {};
    const want = d.spec.replicas ?? 1;
    if (!image.endsWith(`:${tag}`)) problems.push(`${namespace}/${d.metadata.name} runs ${image}`);
    if (revision && d.metadata.labels?.[LABEL.revision] !== shortRevision(revision)) problems.push(`${namespace}/${d.metadata.name} labelled ${d.metadata.labels?.[LABEL.revision]}`);
    if ((st.observedGeneration ?? 0) < (d.metadata.generation ?? 0) || st.updatedReplicas !== want || st.availableReplicas !== want || (st.replicas ?? 0) > want) {
      problems.push(`${namespace}/${d.metadata.name} not rolled out: ${JSON.stringify(st)}`);
    }
  }
  return problems;
}

async function verifyFlotilla(kubectl: string, catalog: Catalog, rev: string, tag: string, fleet: LocalFleet): Promise<void> {
  const problems = (await Promise.all(TARGETS.map(async (t, k) => {
    const recorded = (await catalog.environments.require(t)).deployed?.revision;
    return [
      ...(recorded === rev ? [] : [`${t}: catalog says ${recorded}`]),
      ...(await checkNamespace(kubectl, direct(fleet.clusters[k]!).kubeconfigPath, t, tag, rev)),
    ];
  }))).flat();
  if (problems.length > 0) throw new Error(`Flotilla's promotion is not what runs:\n  ${problems.join('\n  ')}`);
}

async function verifyBaseline(kubectl: string, approach: 'B' | 'C', rev: string, tag: string, fleet: LocalFleet): Promise<void> {
  const problems = (await Promise.all(TARGETS.map((t, k) => checkNamespace(kubectl, direct(fleet.clusters[k]!).kubeconfigPath, `${t}-${suffix[approach]}`, tag, rev)))).flat();
  if (problems.length > 0) throw new Error(`baseline (${approach}) did not roll out:\n  ${problems.join('\n  ')}`);
}

runBench(main, log);
