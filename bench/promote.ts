// How long promoting a new revision to six clusters takes with Flotilla, beside the scripting
// approach it replaces, measured in the same run on the same clusters:
//   (A) Flotilla: `promote`, one stage of 6 targets, maxParallel 6, failurePolicy rollback;
//   (B) a bash loop: per cluster `kubectl apply -f` then `kubectl rollout status` for every
//       Deployment, one cluster after another;
//   (C) the same loop with the six clusters in parallel.
// Every approach changes the same 6 × 20 Deployments from the previous revision to a new image
// tag, each in its own namespaces, applying byte-for-byte the manifests Flotilla renders for
// that target. Goals: A ≤ 1.25 × C, B ≥ 3 × A. Also reported: workflow start → first apply,
// and where Flotilla's time goes, read from the Temporal histories.
//
//   npx tsx bench/promote.ts [--iterations N]      (default 3; about 5–6 minutes on 2 cores)
import { spawn, execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
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
import {
  activityTimings, baselineManifests, baselineScript, baselineSplit, benchSpec, busyShare, cpuTimes, firstEventMs, max, median,
  min, putSecrets, SERVICES, shellQuote as q, targetOverrides, toYaml, type BaselineTarget, type HistoryEvent,
} from './support/promote-scenario.js';
import { watchConvergence } from './support/convergence.js';
import { CountingRateLimits, type RequestStats } from './support/counting-limits.js';

const exec = promisify(execFile);
const { values: options } = parseArgs({ options: { iterations: { type: 'string', default: '3' } } });
const iterations = Number(options.iterations);
if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`--iterations must be a positive integer, got ${options.iterations}`);

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

type Approach = 'A' | 'B' | 'C';
const LABELS: Record<Approach, string> = {
  A: '(A) Flotilla promote, maxParallel 6',
  B: '(B) kubectl loop, sequential',
  C: '(C) kubectl loop, 6 clusters in parallel',
};
const suffix = { B: 'kubectl-seq', C: 'kubectl-par' } as const;

interface FlotillaSample {
  wall: number;
  /** Parent WorkflowExecutionStarted → each child's first applyRevision ActivityTaskStarted. */
  firstApply: number[];
  /** Named spans in ms, per target where it applies. */
  spans: Record<string, number[]>;
  throttled: number;
  throttledMs: number;
  /** Kubernetes requests per activity type, this promotion. */
  requests: Map<string, RequestStats>;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const toolchain = ensureToolchain();
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-promote-'));
  onShutdown('temporary files', () => rmSync(dir, { recursive: true, force: true }));

  const temporal = await startTemporalDevServer({ executable: toolchain.temporal, dbFile: join(dir, 'temporal.db') });
  onShutdown('temporal dev server', () => temporal.stop());
  log(`temporal dev server at ${temporal.address} (headless, ${join(dir, 'temporal.db')})`);

  const bundle = bundleWorkflows(); // webpack, while the clusters start
  bundle.catch(() => {});
  const fleet = await LocalFleet.create({
    toolchain,
    // Its own kwokctl workdir: a test run creating clusters at the same time shares nothing.
    workdir: join(cacheDir(), 'fleet-bench'),
    clusters: Array.from({ length: CLUSTERS }, (_, i) => ({ name: `bench-promote-${i + 1}`, labels: { tier: 'prod', geo: i % 2 ? 'eu' : 'us' } })),
    log,
  });
  const clusterOf = (k: number): LocalCluster => fleet.clusters[k - 1]!;

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

  // ---- the environments, revision 0 everywhere ----
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

  // ---- the iterations ----
  const wall: Record<Approach, number[]> = { A: [], B: [], C: [] };
  const busy: Record<Approach, number[]> = { A: [], B: [], C: [] };
  const flotilla: FlotillaSample[] = [];
  const kubectlSplit: Record<'B' | 'C', { apply: number[]; wait: number[] }> = { B: { apply: [], wait: [] }, C: { apply: [], wait: [] } };
  for (let i = 1; i <= iterations; i++) {
    const tag = `1.0.${i}`;
    const { revision: { id: rev } } = await changeSpec(catalog, SOURCE, benchSpec(tag), { author: 'bench' });
    await client.workflow.execute(deployEnvironment, {
      taskQueue, workflowId: `source-${i}`, args: [{ environment: SOURCE, requestedBy: 'bench', rolloutTimeoutSeconds: 120 }],
    });
    const files = await writeBaselineFiles(catalog, fleet, i, rev);
    const order: Approach[] = i % 2 === 1 ? ['A', 'B', 'C'] : ['C', 'B', 'A'];
    log(`iteration ${i}/${iterations}: image tag ${tag}, revision ${shortRevision(rev)}, order ${order.join(' ')}`);
    for (const approach of order) {
      await sleep(1_000); // let the previous run's old pods go before timing the next
      const cpu0 = cpuTimes();
      if (approach === 'A') {
        const sample = await runFlotilla(client, rateLimits, fleet, i, rev, tag);
        busy.A.push(busyShare(cpu0, cpuTimes()));
        await verifyFlotilla(toolchain.kubectl, catalog, rev, tag, fleet);
        wall.A.push(sample.wall);
        flotilla.push(sample);
        log(`  (A) Flotilla ${s(sample.wall)} s (first apply after ${s(min(sample.firstApply))}–${s(max(sample.firstApply))} s); all ${CLUSTERS} targets at ${shortRevision(rev)}`);
      } else {
        const script = baselineScript(toolchain.kubectl, files[approach], SERVICES, approach === 'C');
        const startMs = Date.now();
        const t0 = performance.now();
        const out = await runScript(script);
        const ms = performance.now() - t0;
        busy[approach].push(busyShare(cpu0, cpuTimes()));
        await verifyBaseline(toolchain.kubectl, approach, rev, tag, fleet);
        wall[approach].push(ms);
        const split = baselineSplit(out, startMs, approach === 'C');
        kubectlSplit[approach].apply.push(...split.apply);
        kubectlSplit[approach].wait.push(...split.wait);
        log(`  (${approach}) kubectl ${approach === 'B' ? 'sequential' : 'parallel'} ${s(ms)} s; all ${CLUSTERS} namespaces at ${tag}`);
      }
    }
  }

  printReport({ wall, busy, idleBusy, flotilla, kubectlSplit, objects });
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
  // Independent watches note when each cluster has really finished (not timed: set up before).
  const watches = TARGETS.map((t, k) => watchConvergence(fleet.clusters[k]!.kubeconfig, t, tag, SERVICES.length));
  await sleep(500);
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
  const parentActivities = activityTimings(parent === parentLast ? parent : [...parent, ...parentLast]);
  const plan = parentActivities.find((a) => a.name === 'planPromotion')!;
  const spans: Record<string, number[]> = {};
  const add = (name: string, v: number | undefined) => { if (v !== undefined && Number.isFinite(v)) (spans[name] ??= []).push(v); };
  add('client start() → parent WorkflowExecutionStarted', parentStart - startEpoch);
  add('parent start → planPromotion completed', plan.completed! - parentStart);
  const firstApply: number[] = [];
  let lastChildEnd = 0;
  for (const [k, target] of TARGETS.entries()) {
    const events = ((await client.workflow.getHandle(`${workflowId}/${target}`).fetchHistory()).events ?? []) as HistoryEvent[];
    const childStart = firstEventMs(events, (e) => e.workflowExecutionStartedEventAttributes)!;
    const childEnd = firstEventMs(events, (e) => e.workflowExecutionCompletedEventAttributes)!;
    lastChildEnd = Math.max(lastChildEnd, childEnd);
    add('planPromotion completed → child started', childStart - plan.completed!);
    const acts = activityTimings(events);
    const apply = acts.find((a) => a.name === 'applyRevision');
    if (apply?.started !== undefined) firstApply.push(apply.started - parentStart);
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
      add('cluster rolled out → waitForRevision completed (poll lag)', (wait?.completed ?? NaN) - convergedAt);
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
  return { wall: wallMs, firstApply, spans, throttled: after.throttled - before.throttled, throttledMs: after.throttledMs - before.throttledMs, requests };
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
      ...(await checkNamespace(kubectl, fleet.clusters[k]!.kubeconfigPath, t, tag, rev)),
    ];
  }))).flat();
  if (problems.length > 0) throw new Error(`Flotilla's promotion is not what runs:\n  ${problems.join('\n  ')}`);
}

async function verifyBaseline(kubectl: string, approach: 'B' | 'C', rev: string, tag: string, fleet: LocalFleet): Promise<void> {
  const problems = (await Promise.all(TARGETS.map((t, k) => checkNamespace(kubectl, fleet.clusters[k]!.kubeconfigPath, `${t}-${suffix[approach]}`, tag, rev)))).flat();
  if (problems.length > 0) throw new Error(`baseline (${approach}) did not roll out:\n  ${problems.join('\n  ')}`);
}

function printReport({ wall, busy, idleBusy, flotilla, kubectlSplit, objects }: {
  wall: Record<Approach, number[]>;
  busy: Record<Approach, number[]>;
  idleBusy: number;
  flotilla: FlotillaSample[];
  kubectlSplit: Record<'B' | 'C', { apply: number[]; wait: number[] }>;
  objects: number;
}): void {
  const line = (cells: string[], widths: number[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : 'n/a');
  const out: string[] = [];
  out.push('');
  out.push(`promote to ${CLUSTERS} clusters: ${SERVICES.length} Deployments (${objects} objects) per target, a new image tag each iteration;`);
  out.push(`${iterations} iteration(s), order alternating (A B C, then C B A); CPUs busy while idle: ${pct(idleBusy)}`);
  const w = [42, 9, 9, 9, 9, 24];
  out.push(line(['approach', 'median', 'min', 'max', 'CPU busy', 'runs (s)'], w));
  for (const a of ['A', 'B', 'C'] as const) {
    out.push(line([LABELS[a], `${s(median(wall[a]))} s`, `${s(min(wall[a]))} s`, `${s(max(wall[a]))} s`, pct(median(busy[a])), wall[a].map(s).join(' ')], w));
  }
  const ac = median(wall.A) / median(wall.C);
  const ba = median(wall.B) / median(wall.A);
  out.push('');
  out.push(`Flotilla / parallel kubectl   (A/C, medians)  ${ac.toFixed(2)}x   goal <= 1.25: ${ac <= 1.25 ? 'met' : 'NOT met'}`);
  out.push(`sequential kubectl / Flotilla (B/A, medians)  ${ba.toFixed(2)}x   goal >= 3:    ${ba >= 3 ? 'met' : 'NOT met'}`);
  const first = flotilla.flatMap((f) => f.firstApply);
  out.push(`promote start -> first applyRevision start    min ${s(min(first))} s, median ${s(median(first))} s  (${first.length} children; earliest per run: ${flotilla.map((f) => s(min(f.firstApply))).join(' ')} s)`);
  out.push('');
  out.push('where Flotilla\'s time goes, from the histories (ms over every target and iteration)');
  const sw = [56, 8, 8, 5];
  out.push(line(['span', 'median', 'max', 'n'], sw));
  for (const k of Object.keys(flotilla[0]?.spans ?? {})) {
    const xs = flotilla.flatMap((f) => f.spans[k] ?? []);
    out.push(line([k, median(xs).toFixed(0), max(xs).toFixed(0), String(xs.length)], sw));
  }
  out.push('');
  out.push(`Kubernetes requests per promotion, by activity (all 6 clusters; limiter: ${flotilla.reduce((n, f) => n + f.throttled, 0)} throttled)`);
  const rw = [24, 10, 14, 14, 14];
  out.push(line(['activity', 'requests', 'latency med', 'latency p95', 'latency max'], rw));
  const types = [...new Set(flotilla.flatMap((f) => [...f.requests.keys()]))];
  for (const type of types) {
    const counts = flotilla.map((f) => f.requests.get(type)?.requests ?? 0);
    const lat = flotilla.flatMap((f) => f.requests.get(type)?.latencies ?? []).sort((a, b) => a - b);
    const p95 = lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.95))] ?? NaN;
    out.push(line([type, median(counts).toFixed(0), `${median(lat).toFixed(0)} ms`, `${p95.toFixed(0)} ms`, `${max(lat).toFixed(0)} ms`], rw));
  }
  out.push('');
  out.push('kubectl baselines, per cluster (ms)');
  out.push(line(['span', 'median', 'max', 'n'], sw));
  for (const a of ['B', 'C'] as const) {
    out.push(line([`(${a}) kubectl apply -f (${objects} objects)`, median(kubectlSplit[a].apply).toFixed(0), max(kubectlSplit[a].apply).toFixed(0), String(kubectlSplit[a].apply.length)], sw));
    out.push(line([`(${a}) ${SERVICES.length} x kubectl rollout status`, median(kubectlSplit[a].wait).toFixed(0), max(kubectlSplit[a].wait).toFixed(0), String(kubectlSplit[a].wait.length)], sw));
  }
  console.log(out.join('\n'));
}

runBench(main, log);
