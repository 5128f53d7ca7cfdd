// How long rendering and applying a 40-object Helm chart to six clusters takes with Flotilla,
// beside `helm upgrade --install` run per cluster, measured in the same run on the same clusters
// (issue 14):
//   (F) Flotilla: the spec of each of the 6 environments (one per cluster, the application's only
//       part the chart, pinned to its digest) changes to new chart values, then 6 deployEnvironment
//       workflows are started at once; timed from the spec change to the last workflow's end.
//       Each deploy renders the chart with `helm template` on the worker (the new values are not
//       in the catalog's render cache: every iteration renders 6 times), applies the 40 objects
//       (server-side apply) and waits for the 10 Deployments to roll out.
//   (S) `helm upgrade --install REL oci://… --version V --plain-http --namespace NS
//       --create-namespace --kubeconfig KC --values V.json --wait` (watcher strategy), one cluster
//       after another;
//   (P) the same, the 6 clusters at once.
// Every side moves the chart from the previous iteration's values to new ones (`generation`,
// an environment variable of every Deployment and a key of every ConfigMap), so every iteration
// is an upgrade that rolls all 60 Deployments; each side in namespaces of its own. The order of
// the sides alternates (F S P, then P S F) so the machine's load falls on all alike. After each
// run kubectl checks every namespace: the 40 objects, the new values, rolled out.
//
//   npx tsx bench/charts.ts [--iterations N] [--json]     (default 3; about 6 minutes on 2 busy cores, one of
//   them creating the clusters; --iterations 2 took 4.5 minutes). --json: the table on stderr, JSON on stdout.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execFile } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Chart } from '../domain/charts.js';
import type { AppSpecInput } from '../domain/environment.js';
import { shortRevision } from '../domain/revision.js';
import { LocalFleet } from '../local/fleet.js';
import { startOciRegistry } from '../local/oci-registry.js';
import { onShutdown } from '../local/shutdown.js';
import { tempCatalog } from '../local/temp-catalog.js';
import { startTemporalDevServer } from '../local/temporal-dev-server.js';
import { cacheDir, ensureToolchain } from '../local/toolchain.js';
import type { Catalog } from '../store/catalog.js';
import { changeSpec, createEnvironment } from '../store/changes.js';
import { flotillaDataConverter } from '../temporal/data-converter.js';
import { PayloadKeyRing } from '../temporal/key-ring.js';
import { activityDeps } from '../worker/deps.js';
import { bundleWorkflows, runFlotillaWorker } from '../worker/worker.js';
import { deployEnvironment, type DeployResult } from '../workflows/deploy-environment.js';
import { prepareCharts } from '../workflows/prepare-charts.js';
import {
  CHART, CHART_VERSION, checkChartNamespace, helmUpgrade, OBJECTS, readHelmLog, valuesFor, writeChart, writeHelmWrapper, type HelmTarget,
} from './support/chart-scenario.js';
import { allActivityTimings, busyShare, cpuTimes, firstEventMs, max, median, min, type HistoryEvent } from './support/promote-scenario.js';
import { runBench } from './support/run-bench.js';

const exec = promisify(execFile);
const { values: options } = parseArgs({ options: { iterations: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } } });
const iterations = Number(options.iterations);
if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`--iterations must be a positive integer, got ${options.iterations}`);

const CLUSTERS = 6;
const APP = 'chartbench';
const envName = (k: number) => `chartbench-${k}`;
const ENVS = Array.from({ length: CLUSTERS }, (_, i) => envName(i + 1));
const RELEASE = CHART;
const ROLLOUT_TIMEOUT_S = 120;
const taskQueue = 'bench-charts';
const started = performance.now();
const log = (m: string) => console.error(`[bench +${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const s = (ms: number) => (ms / 1000).toFixed(2);

type Side = 'F' | 'S' | 'P';
const LABELS: Record<Side, string> = {
  F: '(F) Flotilla: 6 deploys at once (render+apply+wait)',
  S: '(S) helm upgrade --install --wait, sequential',
  P: '(P) helm upgrade --install --wait, 6 in parallel',
};
const helmNamespace = (side: 'S' | 'P', k: number) => `chartbench-${k}-helm-${side === 'S' ? 'seq' : 'par'}`;

interface FlotillaSample {
  wall: number;
  /** The revision the six environments deployed. */
  revision: string;
  /** Named spans in ms (per environment where it applies). */
  spans: Record<string, number[]>;
  /** `helm template` runs the worker made during this run (ms each), and the first start / last end after the start. */
  renders: number[];
  renderWindow: { firstStart: number; lastEnd: number };
  applied: DeployResult['applied'][];
}

interface HelmSample {
  wall: number;
  perCluster: number[];
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const toolchain = ensureToolchain();
  if (!toolchain.helm || !toolchain.registry) throw new Error('the toolchain has no helm or no OCI registry: run `npm run toolchain`');
  const helm = toolchain.helm;
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-charts-'));
  onShutdown('temporary files', () => rmSync(dir, { recursive: true, force: true }));
  // Helm's cache, config and data of this run only, for both sides (nothing shared with other runs).
  for (const [k, sub] of [['HELM_CACHE_HOME', 'cache'], ['HELM_CONFIG_HOME', 'config'], ['HELM_DATA_HOME', 'data']] as const) {
    process.env[k] = join(dir, 'helm', sub);
    mkdirSync(process.env[k], { recursive: true });
  }

  const temporal = await startTemporalDevServer({ executable: toolchain.temporal, dbFile: join(dir, 'temporal.db') });
  onShutdown('temporal dev server', () => temporal.stop());
  log(`temporal dev server at ${temporal.address}`);
  const registry = await startOciRegistry({ executable: toolchain.registry, dir: join(dir, 'registry') });
  log(`OCI registry at ${registry.host}`);

  // The chart: 40 objects, packaged and pushed as a user would.
  const chartDir = writeChart(join(dir, 'chart-src'));
  await exec(helm, ['package', chartDir, '--version', CHART_VERSION, '--destination', dir]);
  const { stdout: pushOut, stderr: pushErr } = await exec(helm, ['push', join(dir, `${CHART}-${CHART_VERSION}.tgz`), `oci://${registry.host}/charts`, '--plain-http']);
  const pushedDigest = /Digest: (sha256:[0-9a-f]{64})/.exec(pushOut + pushErr)?.[1];
  const ref = `oci://${registry.host}/charts/${CHART}`;
  const { stdout: rendered } = await exec(helm, ['template', RELEASE, ref, '--version', CHART_VERSION, '--plain-http', '--namespace', 'x'], { maxBuffer: 16 * 1024 * 1024 });
  const objects = (rendered.match(/^kind: /gm) ?? []).length;
  if (objects !== OBJECTS) throw new Error(`the chart renders ${objects} objects, expected ${OBJECTS}`);
  log(`pushed ${ref}:${CHART_VERSION} (${pushedDigest ?? 'digest not reported'}), ${objects} objects`);

  const bundle = bundleWorkflows(); // webpack, while the clusters start
  bundle.catch(() => {});
  const fleet = await LocalFleet.create({
    toolchain,
    // Its own kwokctl workdir: a test run creating clusters at the same time shares nothing.
    workdir: join(cacheDir(), 'fleet-bench'),
    clusters: Array.from({ length: CLUSTERS }, (_, i) => ({ name: `bench-charts-${i + 1}`, labels: { tier: 'prod', geo: i % 2 ? 'eu' : 'us' } })),
    log,
  });

  const tc = await tempCatalog(fleet.clusters);
  onShutdown('catalog', () => tc.close());
  const catalog = tc.catalog;
  const helmLog = join(dir, 'helm-calls.log');
  const helmOnWorker = writeHelmWrapper(dir, helm, helmLog);
  const dataConverter = flotillaDataConverter(PayloadKeyRing.generate());
  const worker = await runFlotillaWorker({
    address: temporal.address, namespace: temporal.namespace, taskQueue,
    deps: activityDeps({ catalog, adapters: {}, helm: { binary: helmOnWorker, plainHttpHosts: [registry.host] } }),
    workflowBundle: await bundle, dataConverter,
  });
  onShutdown('worker', () => worker.stop());
  const client = new Client({ connection: await Connection.connect({ address: temporal.address }), namespace: temporal.namespace, dataConverter });
  onShutdown('temporal client', () => client.connection.close());

  // ---- set-up (not timed): the chart pinned as `flotilla apply` pins it, generation 0 everywhere ----
  const { charts: [pinned] } = await client.workflow.execute(prepareCharts, {
    taskQueue, workflowId: 'pin-chart', args: [{ charts: [{ name: CHART, oci: ref, version: CHART_VERSION }], targets: [] }],
  });
  if (!pinned?.digest) throw new Error(`prepareCharts pinned no digest: ${JSON.stringify(pinned)}`);
  if (pushedDigest && pinned.digest !== pushedDigest) throw new Error(`pinned ${pinned.digest}, but helm push reported ${pushedDigest}`);
  const specFor = (generation: number): AppSpecInput => ({ services: [], charts: [{ ...pinned, values: valuesFor(generation) } satisfies Chart] });
  for (const [i, name] of ENVS.entries()) {
    await createEnvironment(catalog, { binding: { name, application: APP, tier: 'prod', cluster: fleet.clusters[i]!.name, namespace: name }, spec: specFor(0), author: 'bench' });
  }
  log(`chart pinned to ${pinned.digest.slice(0, 19)}…; deploying generation 0 with Flotilla (${ENVS.length} environments) and helm (12 releases) ...`);
  const valuesDir = join(dir, 'values');
  mkdirSync(valuesDir, { recursive: true });
  const valuesFile = (generation: number) => {
    const file = join(valuesDir, `generation-${generation}.json`);
    writeFileSync(file, JSON.stringify(valuesFor(generation)));
    return file;
  };
  const helmTargets = (side: 'S' | 'P'): HelmTarget[] => fleet.clusters.map((c, k) => ({ kubeconfig: c.kubeconfigPath, namespace: helmNamespace(side, k + 1) }));
  const upgrade = (target: HelmTarget, file: string) => helmUpgrade(helm, { ref, version: CHART_VERSION, release: RELEASE, valuesFile: file, target, timeoutSeconds: ROLLOUT_TIMEOUT_S });
  const file0 = valuesFile(0);
  await Promise.all([
    Promise.all(ENVS.map((environment) => client.workflow.execute(deployEnvironment, {
      taskQueue, workflowId: `setup-${environment}`, args: [{ environment, requestedBy: 'bench', rolloutTimeoutSeconds: ROLLOUT_TIMEOUT_S }],
    }))),
    Promise.all(helmTargets('S').map((t) => upgrade(t, file0))),
  ]);
  await Promise.all(helmTargets('P').map((t) => upgrade(t, file0)));
  for (const side of ['F', 'S', 'P'] as const) await verify(toolchain.kubectl, fleet, side, 0, 60_000);
  await sleep(2_000);
  const idle0 = cpuTimes();
  await sleep(2_000);
  const idleBusy = busyShare(idle0, cpuTimes());
  log(`set-up done; the idle fleet keeps ${(idleBusy * 100).toFixed(0)}% of the CPUs busy`);

  // ---- the iterations ----
  const wall: Record<Side, number[]> = { F: [], S: [], P: [] };
  const busy: Record<Side, number[]> = { F: [], S: [], P: [] };
  const settle: Record<Side, number[]> = { F: [], S: [], P: [] };
  const flotilla: FlotillaSample[] = [];
  const helmRuns: Record<'S' | 'P', HelmSample[]> = { S: [], P: [] };
  for (let i = 1; i <= iterations; i++) {
    const order: Side[] = i % 2 === 1 ? ['F', 'S', 'P'] : ['P', 'S', 'F'];
    const file = valuesFile(i);
    log(`iteration ${i}/${iterations}: generation ${i}, order ${order.join(' ')}`);
    for (const side of order) {
      await sleep(1_000); // let the previous run's old pods go before timing the next
      const cpu0 = cpuTimes();
      if (side === 'F') {
        const sample = await runFlotilla(client, catalog, i, specFor(i), helmLog);
        busy.F.push(busyShare(cpu0, cpuTimes()));
        wall.F.push(sample.wall);
        flotilla.push(sample);
        log(`  (F) Flotilla ${s(sample.wall)} s, revision ${shortRevision(sample.revision)} on all ${CLUSTERS}; ${sample.renders.length} helm template runs (median ${s(median(sample.renders))} s)`);
      } else {
        const targets = helmTargets(side);
        const t0 = performance.now();
        const perCluster = side === 'S'
          ? await targets.reduce<Promise<number[]>>(async (acc, t) => [...(await acc), await upgrade(t, file)], Promise.resolve([]))
          : await Promise.all(targets.map((t) => upgrade(t, file)));
        const ms = performance.now() - t0;
        busy[side].push(busyShare(cpu0, cpuTimes()));
        wall[side].push(ms);
        helmRuns[side].push({ wall: ms, perCluster });
        log(`  (${side}) helm ${side === 'S' ? 'sequential' : 'parallel'} ${s(ms)} s (per cluster ${perCluster.map(s).join(' ')})`);
      }
      settle[side].push(await verify(toolchain.kubectl, fleet, side, i, 15_000));
    }
  }

  printReport({ wall, busy, settle, idleBusy, flotilla, helmRuns, digest: pinned.digest });
}

/** The six spec changes, then six deployEnvironment workflows at once; timed from the first change to the last result. */
async function runFlotilla(client: Client, catalog: Catalog, i: number, spec: AppSpecInput, helmLog: string): Promise<FlotillaSample> {
  const callsBefore = readHelmLog(helmLog).length;
  const startEpoch = Date.now();
  const t0 = performance.now();
  const revisions = new Set<string>();
  for (const environment of ENVS) revisions.add((await changeSpec(catalog, environment, spec, { author: 'bench' })).revision.id);
  const specChanged = performance.now() - t0;
  const results = await Promise.all(ENVS.map((environment) => client.workflow.execute(deployEnvironment, {
    taskQueue, workflowId: `deploy-${environment}-${i}`, args: [{ environment, requestedBy: 'bench', rolloutTimeoutSeconds: ROLLOUT_TIMEOUT_S }],
  })));
  const wallMs = performance.now() - t0;
  const [rev] = revisions;
  if (revisions.size !== 1 || results.some((r) => r.revision !== rev || !r.changed)) {
    throw new Error(`the deploys of generation ${i} did not all deploy revision ${rev}: ${JSON.stringify(results.map((r) => ({ environment: r.environment, revision: r.revision, changed: r.changed })))}`);
  }

  const calls = readHelmLog(helmLog).slice(callsBefore).filter((c) => c.command === 'template');
  if (calls.some((c) => !c.ok)) throw new Error('a helm template run on the worker failed');
  const spans: Record<string, number[]> = {};
  const add = (name: string, v: number | undefined) => { if (v !== undefined && Number.isFinite(v)) (spans[name] ??= []).push(v); };
  add('6 spec changes in the catalog (changeSpec)', specChanged);
  for (const environment of ENVS) {
    const events = ((await client.workflow.getHandle(`deploy-${environment}-${i}`).fetchHistory()).events ?? []) as HistoryEvent[];
    const wfStart = firstEventMs(events, (e) => e.workflowExecutionStartedEventAttributes)!;
    const wfEnd = firstEventMs(events, (e) => e.workflowExecutionCompletedEventAttributes)!;
    add('bench start → deploy workflow started', wfStart - startEpoch);
    let previousEnd = wfStart;
    for (const a of allActivityTimings(events)) {
      add(`  ${a.name}: wait for a worker slot/task`, (a.started ?? NaN) - a.scheduled);
      add(`  ${a.name}: runs${a.name === 'planDeploy' ? ' (helm template + rules)' : ''}`, (a.completed ?? NaN) - (a.started ?? NaN));
      add('  between activities (workflow tasks)', a.scheduled - previousEnd);
      previousEnd = a.completed ?? previousEnd;
    }
    add('  last activity → workflow completed', wfEnd - previousEnd);
    add('deploy workflow total (history)', wfEnd - wfStart);
  }
  return {
    wall: wallMs,
    revision: rev!,
    spans,
    renders: calls.map((c) => c.endMs - c.startMs),
    renderWindow: { firstStart: min(calls.map((c) => c.startMs)) - startEpoch, lastEnd: max(calls.map((c) => c.endMs)) - startEpoch },
    applied: results.map((r) => r.applied),
  };
}

/**
 * Every namespace of a side holds the 40 objects at `generation`, rolled out. Retries for up to
 * `graceMs` (set-up: the first rollout; afterwards: what was still settling when the tool said
 * done) and returns how long that took after the run; throws with the details after that.
 */
async function verify(kubectl: string, fleet: LocalFleet, side: Side, generation: number, graceMs: number): Promise<number> {
  const t0 = performance.now();
  for (let attempt = 0; ; attempt++) {
    const problems = (await Promise.all(fleet.clusters.map((c, k) => checkChartNamespace(
      kubectl, c.kubeconfigPath, side === 'F' ? envName(k + 1) : helmNamespace(side, k + 1), String(generation),
    )))).flat();
    // 0: right at the first look (that check's own time is not the side's).
    if (problems.length === 0) return attempt === 0 ? 0 : performance.now() - t0;
    if (performance.now() - t0 > graceMs) throw new Error(`${LABELS[side]}: generation ${generation} is not what runs:\n  ${problems.slice(0, 20).join('\n  ')}`);
    await sleep(250);
  }
}

function printReport({ wall, busy, settle, idleBusy, flotilla, helmRuns, digest }: {
  wall: Record<Side, number[]>;
  busy: Record<Side, number[]>;
  settle: Record<Side, number[]>;
  idleBusy: number;
  flotilla: FlotillaSample[];
  helmRuns: Record<'S' | 'P', HelmSample[]>;
  digest: string;
}): void {
  const line = (cells: string[], widths: number[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : 'n/a');
  const out: string[] = [];
  out.push('');
  out.push(`a ${OBJECTS}-object chart (10 x ServiceAccount, ConfigMap, Service, 1-replica Deployment) rendered and applied to ${CLUSTERS} clusters,`);
  out.push(`new values each iteration (all ${CLUSTERS * 10} Deployments roll); ${iterations} iteration(s), order alternating (F S P, then P S F); CPUs busy while idle: ${pct(idleBusy)}`);
  const w = [52, 9, 9, 9, 9, 26];
  out.push(line(['side', 'median', 'min', 'max', 'CPU busy', 'runs (s)'], w));
  for (const side of ['F', 'S', 'P'] as const) {
    out.push(line([LABELS[side], `${s(median(wall[side]))} s`, `${s(min(wall[side]))} s`, `${s(max(wall[side]))} s`, pct(median(busy[side])), wall[side].map(s).join(' ')], w));
  }
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  out.push('');
  out.push(`Flotilla / parallel helm     (F/P)  median ${ratio(median(wall.F), median(wall.P))}, min ${ratio(min(wall.F), min(wall.P))}`);
  out.push(`Flotilla / sequential helm   (F/S)  median ${ratio(median(wall.F), median(wall.S))}, min ${ratio(min(wall.F), min(wall.S))}`);
  out.push(`sequential helm / Flotilla   (S/F)  median ${ratio(median(wall.S), median(wall.F))}, min ${ratio(min(wall.S), min(wall.F))}`);
  out.push(`not yet all rolled out by kubectl's first look after the side finished (then ms until it was; 0 = it was): ${(['F', 'S', 'P'] as const).map((x) => `${x} ${settle[x].map((v) => v.toFixed(0)).join('/')}`).join(', ')}`);
  out.push('');
  const renders = flotilla.flatMap((f) => f.renders);
  out.push(`Flotilla's render: ${renders.length} helm template runs on the worker (${flotilla.map((f) => f.renders.length).join('/')} per iteration), each median ${median(renders).toFixed(0)} ms, max ${max(renders).toFixed(0)} ms;`);
  out.push(`  after the start, the first began at ${flotilla.map((f) => f.renderWindow.firstStart.toFixed(0)).join('/')} ms and the last ended at ${flotilla.map((f) => f.renderWindow.lastEnd.toFixed(0)).join('/')} ms (chart pinned to ${digest.slice(0, 19)}…)`);
  const applied = flotilla.flatMap((f) => f.applied);
  out.push(`  objects applied per environment (the chart's ${OBJECTS} and the Namespace): median created ${median(applied.map((a) => a.created))}, configured ${median(applied.map((a) => a.configured))}, unchanged ${median(applied.map((a) => a.unchanged))}`);
  out.push('');
  out.push('where Flotilla\'s time goes, from the histories (ms over every environment and iteration)');
  const sw = [56, 8, 8, 5];
  out.push(line(['span', 'median', 'max', 'n'], sw));
  for (const k of [...new Set(flotilla.flatMap((f) => Object.keys(f.spans)))]) {
    const xs = flotilla.flatMap((f) => f.spans[k] ?? []);
    out.push(line([k, median(xs).toFixed(0), max(xs).toFixed(0), String(xs.length)], sw));
  }
  out.push('');
  out.push('helm upgrade --install --wait, per cluster (ms)');
  for (const side of ['S', 'P'] as const) {
    const xs = helmRuns[side].flatMap((r) => r.perCluster);
    out.push(line([`(${side}) one release (pull + render + apply + wait)`, median(xs).toFixed(0), max(xs).toFixed(0), String(xs.length)], sw));
  }
  if (options.json) {
    console.error(out.join('\n'));
    console.log(JSON.stringify({
      clusters: CLUSTERS, objects: OBJECTS, iterations, idleBusy, digest,
      sides: Object.fromEntries((['F', 'S', 'P'] as const).map((x) => [x, { label: LABELS[x], wallMs: wall[x], busy: busy[x], settleMs: settle[x], medianMs: median(wall[x]), minMs: min(wall[x]) }])),
      ratios: { flotillaOverParallelHelm: median(wall.F) / median(wall.P), flotillaOverSequentialHelm: median(wall.F) / median(wall.S) },
      flotilla, helm: helmRuns,
    }, null, 2));
  } else {
    console.log(out.join('\n'));
  }
}

runBench(main, log);
