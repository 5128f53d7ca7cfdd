// How fast and how fresh Flotilla's fleet view is (issue 12), beside asking the clusters with
// kubectl, measured in the same run on the same clusters:
//   the fleet: 6 real KWOK clusters (1 fake node each) × 20 environments (3 services, 4 pods
//     each: 120 environments, 360 Deployments, 480 pods), put in place the way the deploy
//     activity applies (bench/support/fleet-scenario.ts, without Temporal) and recorded deployed;
//   Flotilla: the observer as its own process (worker/observer.ts, as the dev command runs it)
//     keeping the catalog (SQLite) up to date; the API (api/app.ts createApp) in this process,
//     over HTTP on 127.0.0.1 with a viewer token; GET /v1/fleet answers from the catalog;
//   the baseline: `kubectl get deploy -A -l app.kubernetes.io/managed-by=flotilla -o json` per
//     cluster, the 6 in parallel (and one cluster alone), timed the same way.
// Before measuring, every environment must be observed healthy without drift.
//
// Latency: --requests sequential GET /v1/fleet (keep-alive), and as many with If-None-Match (a
// polling dashboard: 304 while nothing changed), p50/p90/p99/max; the service alone
// (fleetView(), no HTTP, no auth) for where time goes; the kubectl listings --kubectl times each.
// Interleaved in 5 rounds, so background load on a shared machine hits both sides alike.
// Freshness: --trials times, a Deployment's scale subresource is written through the API server
// of one cluster (1 → 2 replicas), then GET /v1/fleet is polled every 20 ms until it shows the
// environment drifted with 2 replicas; then back to 1 until it shows it clean. The baseline: the
// same write, then one kubectl call (the 6-cluster listing; and the changed cluster alone) —
// kubectl is as fresh as the time one call takes. Every freshness time counts from just before
// the write is sent. Also the observer process's CPU and RSS, and how busy the machine was.
// Goals: p99 ≤ 50 ms, freshness ≤ 2 s. Goals missed are reported, not an error (exit 0); a
// failure to set up or to measure exits 1. Clusters are deleted at the end, after a failure too
// (leftovers of a crash: KWOK_WORKDIR=~/.cache/flotilla/fleet-bench kwokctl get clusters).
//
//   npx tsx bench/fleet.ts [--requests 500] [--trials 12] [--kubectl 30] [--json]     (about 3–4 minutes on 2 cores; a minute of it creating the clusters)
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs, promisify } from 'node:util';
import { AppsV1Api } from '@kubernetes/client-node';
import { createApp } from '../api/app.js';
import { createLogger } from '../api/http/logger.js';
import { fleetView } from '../api/services/fleet.js';
import type { Tier } from '../domain/environment.js';
import { LocalFleet } from '../local/fleet.js';
import { onShutdown } from '../local/shutdown.js';
import { tempCatalog } from '../local/temp-catalog.js';
import { cacheDir, ensureToolchain } from '../local/toolchain.js';
import { kubeConfigFromYaml } from '../providers/kubernetes/kubeconfig.js';
import { createEnvironment } from '../store/changes.js';
import { startObserverProcess } from '../test/support/worker-process.js';
import { activityDeps } from '../worker/deps.js';
import { cpuOf, rssOf, rssSampler, textTable } from './support/pg-copy.js';
import { busyShare, cpuTimes } from './support/promote-scenario.js';
import {
  directDeployer, distribution, fleetEnvironment, fleetSpec, kubectlListing, PER_ENVIRONMENT, SCALED_SERVICE,
  type Distribution, type FleetAnswer,
} from './support/fleet-scenario.js';
import { runBench } from './support/run-bench.js';

const { values: options } = parseArgs({
  options: {
    requests: { type: 'string', default: '500' }, trials: { type: 'string', default: '12' }, kubectl: { type: 'string', default: '30' },
    json: { type: 'boolean', default: false },
  },
});
const positive = (name: string, value: string | undefined, least: number) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < least) throw new Error(`--${name} must be an integer ≥ ${least}, got ${value}`);
  return n;
};
const REQUESTS = positive('requests', options.requests, 5);
const TRIALS = positive('trials', options.trials, 1);
const KUBECTL = positive('kubectl', options.kubectl, 1);

const CLUSTERS = 6;
const ENVIRONMENTS = 20;
const TOTAL = CLUSTERS * ENVIRONMENTS;
const ROUNDS = 5;
const POLL_MS = 20;
const TRIAL_TIMEOUT_MS = 20_000;
const GOALS = { p99Ms: 50, freshnessMs: 2_000 } as const;

const started = performance.now();
const log = (m: string) => console.error(`[bench +${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const clusterName = (i: number) => `bench-fleet-${i + 1}`;
const appName = (j: number) => `app-${String(j + 1).padStart(2, '0')}`;
const envName = (i: number, j: number) => `${appName(j)}-fleet-${i + 1}`;
const tierOf = (i: number): Tier => (i < 2 ? 'staging' : 'prod');

interface Phase { observerCpuMs: number; wallMs: number; busy: number }

async function main(): Promise<void> {
  const toolchain = ensureToolchain();
  const load0 = loadavg();

  // ---- the clusters: one after another (each control plane's start is CPU-heavy), 1 node each ----
  // Its own kwokctl workdir, as the other benchmarks: a test run creating clusters at the same time shares nothing.
  const workdir = join(cacheDir(), 'fleet-bench');
  const fleet = await LocalFleet.create({ toolchain, workdir, clusters: [], log });
  for (let i = 0; i < CLUSTERS; i++) {
    const spec = { name: clusterName(i), nodes: 1, labels: { tier: tierOf(i), geo: i % 2 ? 'eu' : 'us' } };
    // kwokctl picks free ports per workdir: another workdir's cluster starting at the same moment
    // can take one first ("bind: address already in use"). add() replaces a half-made cluster of
    // the same name, so try again; after the last attempt, delete what is left of it (the fleet
    // deletes only the clusters it finished).
    for (let attempt = 1; ; attempt++) {
      try {
        await fleet.add(spec);
        break;
      } catch (error) {
        if (attempt < 3) {
          log(`cluster ${spec.name}, attempt ${attempt}: ${error instanceof Error ? error.message : String(error)}; trying again`);
          continue;
        }
        await promisify(execFile)(toolchain.kwokctl, ['delete', 'cluster', '--name', spec.name], {
          env: { ...process.env, KWOK_WORKDIR: workdir, KWOK_KUBE_VERSION: toolchain.versions.kubernetes },
        }).catch(() => undefined);
        throw error;
      }
    }
  }

  // ---- the catalog: the clusters registered and onboarded (ready), 20 environments on each ----
  const tc = await tempCatalog(fleet.clusters);
  onShutdown('catalog', () => tc.close());
  const { catalog } = tc;
  for (const c of fleet.clusters) await catalog.clusters.updateStatus(c.name, { status: 'ready' });
  for (let i = 0; i < CLUSTERS; i++) {
    for (let j = 0; j < ENVIRONMENTS; j++) {
      const name = envName(i, j);
      await createEnvironment(catalog, { binding: { name, application: appName(j), tier: tierOf(i), cluster: clusterName(i), namespace: name }, spec: fleetSpec(appName(j)), author: 'bench' });
    }
  }
  log(`deploying ${TOTAL} environments (${PER_ENVIRONMENT.services} services, ${PER_ENVIRONMENT.pods} pods each), the ${CLUSTERS} clusters in parallel ...`);
  const deploy = directDeployer(catalog, activityDeps({ catalog, adapters: {} }).clusters);
  const t0 = performance.now();
  const objects = await Promise.all(Array.from({ length: CLUSTERS }, async (_, i) => {
    let n = 0;
    for (let j = 0; j < ENVIRONMENTS; j++) n += await deploy(envName(i, j));
    return n;
  }));
  log(`applied ${objects.reduce((a, b) => a + b, 0)} objects in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // ---- the API, in this process, over HTTP ----
  const app = createApp({
    catalog,
    operations: { start: () => Promise.reject(new Error('the fleet benchmark starts no operations')) },
    logger: createLogger({ level: 'warn', destination: process.stderr }),
    // Off: 2 × --requests from one token in a minute would pass the default 600 per minute.
    rateLimit: { max: 0, windowMs: 60_000 },
    webRoot: '/nonexistent',
  });
  const server = createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  onShutdown('api', () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { token } = await catalog.tokens.create({ name: 'bench-fleet-dashboard', role: 'viewer' });
  const headers = { authorization: `Bearer ${token}` };
  const get = async (etag?: string): Promise<{ ms: number; status: number; etag: string; text: string }> => {
    const t = performance.now();
    const res = await fetch(`${base}/v1/fleet`, { headers: etag ? { ...headers, 'if-none-match': etag } : headers });
    const text = await res.text();
    const ms = performance.now() - t;
    if (res.status !== 200 && res.status !== 304) throw new Error(`GET /v1/fleet answered ${res.status}: ${text.slice(0, 500)}`);
    return { ms, status: res.status, etag: res.headers.get('etag') ?? '', text };
  };
  const fleetNow = async () => JSON.parse((await get()).text) as FleetAnswer;

  // ---- the observer, as its own process ----
  const observer = startObserverProcess({ FLOTILLA_CATALOG_URL: tc.url, FLOTILLA_MASTER_KEY: tc.masterKey, FLOTILLA_OBSERVER_ID: 'bench-fleet-observer' });
  onShutdown('observer', () => observer.kill('SIGTERM'));
  await observer.ready;
  const pid = observer.child.pid!;
  log(`observer process ${pid} running; waiting until all ${TOTAL} environments are observed healthy without drift ...`);
  const t1 = performance.now();
  let last: FleetAnswer;
  let lastLog = 0;
  for (;;) {
    last = await fleetNow();
    const s = last.summary;
    if (s.environments === TOTAL && s.healthy === TOTAL && s.drifted === 0 && s.stale === 0 && last.clusters.every((c) => c.status === 'ready')) break;
    if (performance.now() - t1 > 300_000) {
      const bad = last.clusters.flatMap((c) => c.environments.filter((e) => e.health !== 'healthy' || e.drifted || e.stale).map((e) => `${c.name}/${e.name}: ${e.health}${e.drifted ? ', drifted' : ''}${e.stale ? ', stale' : ''}`));
      throw new Error(`not every environment observed healthy within 300 s: ${JSON.stringify(s)}\n${bad.slice(0, 20).join('\n')}\nobserver:\n${observer.output}`);
    }
    if (performance.now() - lastLog > 10_000) {
      lastLog = performance.now();
      log(`  observed: ${s.environments} environments, ${s.healthy} healthy, ${s.drifted} drifted, ${s.stale} stale`);
    }
    await sleep(500);
  }
  const observedAfterMs = performance.now() - t1;
  const services = last.clusters.flatMap((c) => c.environments).reduce((n, e) => n + e.services.length, 0);
  log(`all ${TOTAL} environments healthy, no drift, ${services} services, ${((observedAfterMs) / 1000).toFixed(1)} s after the observer started`);

  const kubeconfigs = fleet.clusters.map((c) => c.kubeconfigPath);
  // Warm-up, not measured: connections, kubectl's discovery cache, the JIT.
  for (let i = 0; i < 20; i++) await get();
  await kubectlListing(toolchain.kubectl, kubeconfigs);
  for (const kc of kubeconfigs) await kubectlListing(toolchain.kubectl, [kc]);

  // ---- the idle fleet: what the observer costs with nothing happening ----
  const rss = rssSampler(pid);
  const idle = await measurePhase(pid, async () => {
    await sleep(10_000);
  });
  const idleRss = rssOf(pid);
  log(`idle: observer ${pctOfCore(idle)} of a core, RSS ${(idleRss / 1e6).toFixed(0)} MB; the machine ${(idle.busy * 100).toFixed(0)}% busy`);

  // ---- latency, interleaved in rounds ----
  const plain: number[] = [];
  /** Per round: GET /v1/fleet p50/p99 and how busy the machine was, to tell the tail from the load. */
  const rounds: { p50: number; p99: number; busy: number }[] = [];
  const conditional: number[] = [];
  let notModified = 0;
  const service: number[] = [];
  const kubectlFleet: number[] = [];
  const kubectlOne: number[] = [];
  let bytes = 0;
  const latency = await measurePhase(pid, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const roundBusy = cpuTimes();
      const from = plain.length;
      const share = (n: number) => Math.floor(n / ROUNDS) + (round < n % ROUNDS ? 1 : 0);
      for (let k = 0; k < share(REQUESTS); k++) {
        const r = await get();
        plain.push(r.ms);
        bytes = r.text.length;
        if (k === 0 && (JSON.parse(r.text) as FleetAnswer).summary.environments !== TOTAL) throw new Error('GET /v1/fleet lost environments');
      }
      let etag = (await get()).etag;
      for (let k = 0; k < share(REQUESTS); k++) {
        const r = await get(etag);
        conditional.push(r.ms);
        if (r.status === 304) notModified++;
        else etag = r.etag; // the observer wrote (a cluster's last-seen time): as a client, keep the new tag
      }
      for (let k = 0; k < share(200); k++) {
        const t = performance.now();
        await fleetView(catalog, {}, new Date());
        service.push(performance.now() - t);
      }
      for (let k = 0; k < share(KUBECTL); k++) {
        const all = await kubectlListing(toolchain.kubectl, kubeconfigs);
        const count = all.deployments.reduce((n, m) => n + m.size, 0);
        if (count !== TOTAL * PER_ENVIRONMENT.services) throw new Error(`kubectl listed ${count} Deployments, expected ${TOTAL * PER_ENVIRONMENT.services}`);
        kubectlFleet.push(all.ms);
        kubectlOne.push((await kubectlListing(toolchain.kubectl, [kubeconfigs[(round * KUBECTL + k) % CLUSTERS]!])).ms);
      }
      const mine = distribution(plain.slice(from));
      rounds.push({ p50: mine.p50, p99: mine.p99, busy: busyShare(roundBusy, cpuTimes()) });
      log(`latency round ${round + 1}/${ROUNDS}: GET p50 ${distribution(plain).p50.toFixed(1)} ms, kubectl × ${CLUSTERS} p50 ${distribution(kubectlFleet).p50.toFixed(0)} ms`);
    }
  });

  // ---- freshness ----
  const apps = fleet.clusters.map((c) => kubeConfigFromYaml(c.kubeconfig).makeApiClient(AppsV1Api));
  const writeMs: number[] = [];
  /** Writes the scale subresource (what `kubectl scale` changes); resolves to the time just before the request was sent. */
  const scale = async (i: number, namespace: string, replicas: number): Promise<number> => {
    const t = performance.now();
    await apps[i]!.replaceNamespacedDeploymentScale({
      name: SCALED_SERVICE, namespace, fieldManager: 'bench-fleet',
      body: { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: SCALED_SERVICE, namespace }, spec: { replicas } },
    });
    writeMs.push(performance.now() - t);
    return t;
  };
  /** ms from `since` until GET /v1/fleet (polled every POLL_MS, with If-None-Match) shows `seen`; Infinity on a time-out. */
  const apiSees = async (since: number, seen: (fleet: FleetAnswer) => boolean): Promise<{ ms: number; polls: number }> => {
    let etag: string | undefined;
    for (let polls = 1; ; polls++) {
      const r = await get(etag);
      if (r.status === 200) {
        etag = r.etag;
        if (seen(JSON.parse(r.text) as FleetAnswer)) return { ms: performance.now() - since, polls };
      }
      if (performance.now() - since > TRIAL_TIMEOUT_MS) return { ms: Infinity, polls };
      await sleep(POLL_MS);
    }
  };
  /** The environment with its scaled service at `replicas`, drifted or not (and, with `healthy`, healthy again). */
  const shows = (i: number, env: string, replicas: number, drifted: boolean, healthy = false) => (f: FleetAnswer) => {
    const e = fleetEnvironment(f, clusterName(i), env);
    const s = e?.services.find((x) => x.service === SCALED_SERVICE);
    return e !== undefined && s !== undefined && e.drifted === drifted && s.desiredReplicas === replicas && (!healthy || e.health === 'healthy');
  };
  const driftShown: number[] = [];
  const cleanShown: number[] = [];
  const kubectlFleetSees: number[] = [];
  const kubectlOneSees: number[] = [];
  const polls: number[] = [];
  let timeouts = 0;
  const freshness = await measurePhase(pid, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const i = trial % CLUSTERS;
      const env = envName(i, (trial * 7) % ENVIRONMENTS);
      const key = `${env}/${SCALED_SERVICE}`;
      // Flotilla: the change, then back.
      let t = await scale(i, env, 2);
      const up = await apiSees(t, shows(i, env, 2, true));
      t = await scale(i, env, 1);
      const down = await apiSees(t, shows(i, env, 1, false));
      for (const [into, r] of [[driftShown, up], [cleanShown, down]] as const) {
        into.push(r.ms);
        polls.push(r.polls);
        if (!Number.isFinite(r.ms)) timeouts++;
      }
      await sleep(300);
      // kubectl: the same change, one call of the fleet listing after it; back, one call of the changed cluster.
      t = await scale(i, env, 2);
      const all = await kubectlListing(toolchain.kubectl, kubeconfigs);
      if (all.deployments[i]!.get(key)?.replicas !== 2) throw new Error(`kubectl did not show ${key} scaled to 2 right after the write`);
      kubectlFleetSees.push(performance.now() - t);
      t = await scale(i, env, 1);
      const one = await kubectlListing(toolchain.kubectl, [kubeconfigs[i]!]);
      if (one.deployments[0]!.get(key)?.replicas !== 1) throw new Error(`kubectl did not show ${key} scaled back to 1 right after the write`);
      kubectlOneSees.push(performance.now() - t);
      // Clean again before the next trial (not measured).
      if (!Number.isFinite((await apiSees(performance.now(), shows(i, env, 1, false, true))).ms)) throw new Error(`${env} did not show clean again within ${TRIAL_TIMEOUT_MS} ms`);
      log(`freshness trial ${trial + 1}/${TRIALS} (${clusterName(i)}/${env}): drift shown after ${fmt(up.ms)} ms, clean after ${fmt(down.ms)} ms; kubectl × ${CLUSTERS} ${fmt(kubectlFleetSees.at(-1)!)} ms, one cluster ${fmt(kubectlOneSees.at(-1)!)} ms`);
      await sleep(300);
    }
  });
  const peakRss = rss.stop();
  const load1 = loadavg();

  report({
    latency: {
      plain: distribution(plain), conditional: distribution(conditional), notModified, service: distribution(service),
      kubectlFleet: distribution(kubectlFleet), kubectlOne: distribution(kubectlOne), bytes, rounds,
    },
    freshness: {
      driftShown: distribution(driftShown), cleanShown: distribution(cleanShown), kubectlFleet: distribution(kubectlFleetSees), kubectlOne: distribution(kubectlOneSees),
      timeouts, polls: distribution(polls), write: distribution(writeMs),
    },
    observer: { idle, latency, freshness, idleRssMb: idleRss / 1e6, peakRssMb: peakRss / 1e6, observedAfterMs },
    fleet: { services, objects: objects.reduce((a, b) => a + b, 0) },
    machine: { loadBefore: load0, loadAfter: load1 },
    samples: { plain, conditional, service, kubectlFleet, kubectlOne, driftShown, cleanShown, kubectlFleetSees, kubectlOneSees },
  });
}

async function measurePhase(pid: number, work: () => Promise<void>): Promise<Phase> {
  const cpu0 = cpuOf(pid);
  const busy0 = cpuTimes();
  const t = performance.now();
  await work();
  return { observerCpuMs: cpuOf(pid) - cpu0, wallMs: performance.now() - t, busy: busyShare(busy0, cpuTimes()) };
}

const fmt = (ms: number, digits = 0) => (Number.isFinite(ms) ? ms.toFixed(digits) : 'timeout');
const pctOfCore = (p: Phase) => `${((p.observerCpuMs / p.wallMs) * 100).toFixed(1)}%`;

interface Results {
  latency: {
    plain: Distribution; conditional: Distribution; notModified: number; service: Distribution; kubectlFleet: Distribution; kubectlOne: Distribution; bytes: number;
    rounds: { p50: number; p99: number; busy: number }[];
  };
  freshness: { driftShown: Distribution; cleanShown: Distribution; kubectlFleet: Distribution; kubectlOne: Distribution; timeouts: number; polls: Distribution; write: Distribution };
  observer: { idle: Phase; latency: Phase; freshness: Phase; idleRssMb: number; peakRssMb: number; observedAfterMs: number };
  fleet: { services: number; objects: number };
  machine: { loadBefore: number[]; loadAfter: number[] };
  samples: Record<string, number[]>;
}

function report(r: Results): void {
  const { latency: l, freshness: f, observer: o } = r;
  const mark = (met: boolean) => (met ? 'met' : 'MISSED');
  const row = (label: string, d: Distribution, digits: number, goal = '', note = '') =>
    [label, String(d.n), fmt(d.p50, digits), fmt(d.p90, digits), fmt(d.p99, digits), fmt(d.max, digits), goal, note];
  const p99Met = l.plain.p99 <= GOALS.p99Ms;
  const p99CondMet = l.conditional.p99 <= GOALS.p99Ms;
  const freshMet = f.driftShown.max <= GOALS.freshnessMs && f.cleanShown.max <= GOALS.freshnessMs;
  const out: string[] = [];
  out.push(`fleet: ${CLUSTERS} KWOK clusters (1 node each) × ${ENVIRONMENTS} environments = ${TOTAL} environments, ${r.fleet.services} services, ${TOTAL * PER_ENVIRONMENT.pods} pods, ${r.fleet.objects} objects applied;`);
  out.push(`observer: its own process (worker/observer.ts) over a SQLite catalog; API: createApp in the benchmark's process, HTTP on 127.0.0.1, keep-alive, viewer token; GET /v1/fleet answer ${(l.bytes / 1024).toFixed(0)} KiB`);
  out.push(`machine: 2 cores shared with whatever else runs (load average ${r.machine.loadBefore.map((x) => x.toFixed(2)).join(' ')} at start, ${r.machine.loadAfter.map((x) => x.toFixed(2)).join(' ')} at the end);`);
  out.push(`CPUs busy: ${(o.idle.busy * 100).toFixed(0)}% with the fleet idle, ${(o.latency.busy * 100).toFixed(0)}% during the latency rounds, ${(o.freshness.busy * 100).toFixed(0)}% during the freshness trials`);
  out.push('');
  out.push(`latency, ms (${ROUNDS} interleaved rounds)`);
  out.push(...textTable(['what', 'n', 'p50', 'p90', 'p99', 'max', 'goal', ''], [
    row('GET /v1/fleet', l.plain, 1, `p99 ≤ ${GOALS.p99Ms}: ${mark(p99Met)}`),
    row('GET /v1/fleet, If-None-Match', l.conditional, 1, `p99 ≤ ${GOALS.p99Ms}: ${mark(p99CondMet)}`, `${l.notModified} × 304, ${l.conditional.n - l.notModified} × 200 (a 200: the observer had written since the last answer)`),
    row('  of which fleetView() alone (catalog reads + view; no HTTP, auth, JSON)', l.service, 1),
    row(`baseline: kubectl get deploy -A -l … -o json, ${CLUSTERS} clusters in parallel`, l.kubectlFleet, 0, '', 'Deployments only: no pods, no health, no drift'),
    row('baseline: the same, one cluster', l.kubectlOne, 0),
  ]));
  out.push(`GET /v1/fleet per round, p50/p99 ms (CPUs busy): ${l.rounds.map((x) => `${fmt(x.p50, 1)}/${fmt(x.p99, 1)} (${(x.busy * 100).toFixed(0)}%)`).join(', ')}`);
  out.push('');
  out.push(`freshness, ms from just before a scale write to the answer that shows it (${TRIALS} trials, a different environment and cluster each; GET polled every ${POLL_MS} ms)`);
  out.push(...textTable(['what', 'n', 'p50', 'p90', 'p99', 'max', 'goal', ''], [
    row('GET /v1/fleet shows the drift (replicas 1 → 2)', f.driftShown, 0, `≤ ${GOALS.freshnessMs}: ${mark(f.driftShown.max <= GOALS.freshnessMs)}`, `polls per trial: median ${fmt(f.polls.p50)}, max ${fmt(f.polls.max)}`),
    row('GET /v1/fleet shows it clean again (2 → 1)', f.cleanShown, 0, `≤ ${GOALS.freshnessMs}: ${mark(f.cleanShown.max <= GOALS.freshnessMs)}`),
    row(`baseline: one kubectl call after the change, ${CLUSTERS} clusters in parallel`, f.kubectlFleet, 0),
    row('baseline: one kubectl call after the change, the changed cluster only', f.kubectlOne, 0),
  ]));
  out.push(`(the write itself: p50 ${fmt(f.write.p50, 1)} ms, max ${fmt(f.write.max, 1)} ms, included above; time-outs: ${f.timeouts})`);
  out.push('');
  out.push(`observer process: RSS ${o.idleRssMb.toFixed(0)} MB idle, ${o.peakRssMb.toFixed(0)} MB peak; CPU ${pctOfCore(o.idle)} of a core idle, ${pctOfCore(o.latency)} during the latency rounds, ${pctOfCore(o.freshness)} during the freshness trials;`);
  out.push(`  all ${TOTAL} environments observed healthy ${(o.observedAfterMs / 1000).toFixed(1)} s after it started`);
  out.push('');
  out.push('goals (issue 12):');
  out.push(`  GET /v1/fleet p99 ≤ ${GOALS.p99Ms} ms: ${fmt(l.plain.p99, 1)} ms ${mark(p99Met)} (with If-None-Match ${fmt(l.conditional.p99, 1)} ms ${mark(p99CondMet)}); kubectl across ${CLUSTERS} clusters: p50 ${fmt(l.kubectlFleet.p50)} ms`);
  out.push(`  freshness ≤ ${GOALS.freshnessMs} ms: drift shown p50 ${fmt(f.driftShown.p50)} / max ${fmt(f.driftShown.max)} ms, clean again p50 ${fmt(f.cleanShown.p50)} / max ${fmt(f.cleanShown.max)} ms ${mark(freshMet)}; kubectl across ${CLUSTERS} clusters: p50 ${fmt(f.kubectlFleet.p50)} / max ${fmt(f.kubectlFleet.max)} ms`);

  if (options.json) {
    console.error(out.join('\n'));
    const { samples, ...rest } = r;
    console.log(JSON.stringify({ clusters: CLUSTERS, environments: ENVIRONMENTS, requests: REQUESTS, trials: TRIALS, goals: GOALS, met: { p99: p99Met, p99Conditional: p99CondMet, freshness: freshMet }, ...rest, samples }, null, 2));
  } else {
    console.log(out.join('\n'));
  }
}

runBench(main, log);
