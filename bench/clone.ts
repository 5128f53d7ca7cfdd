// How fast Flotilla clones a whole environment with its data, beside PostgreSQL's own tools
// copying the same database, measured in the same run on the same PostgreSQL server:
//   (A) a full `cloneEnvironment` (plan, data policy check, the data copy, 20 services rolled
//       out on a local KWOK cluster, recorded ready), database copied `snapshot`;
//   (B) the same, `scrubbed` (customers' e-mail, name and phone and the orders' e-mail masked);
//   (C) pg_dump | psql (plain format, one stream);
//   (D) pg_dump -Fc to a file, then pg_restore -j2.
// The source: a 20-service environment (bench/support/promote-scenario.ts) with one external
// PostgreSQL database (`ledger-db`, its connection in LEDGER_URL) of about --size-mb of table data:
// customers (email, full_name, phone), orders (foreign keys to customers by id and by e-mail),
// events (bench/support/pg-copy.ts). Each clone goes into a fresh empty database under a fresh
// name and is torn down (teardownClone) after it is measured. The worker runs as its own process
// (worker/main.ts, as in production) so its memory can be read: VmRSS every 20 ms during the
// clone, over its idle RSS read just before (its pg_dump/pg_restore children are not counted).
//
// Reported per approach: total wall time (a clone: workflow start → result), copy time (a clone:
// its `copying-data` phase; a baseline: all of it), rows/s and MB/s (table data over copy time),
// peak worker RSS over idle; then every cloneEnvironment phase; then the goals (issue 11):
// snapshot ≤ 1.3 × the fastest baseline, scrubbed ≤ 2 ×, compared on the copy phase and on the
// whole clone, worker RSS ≤ idle + 64 MB. Goals missed are reported, not an error (exit 0).
// Approaches run --iterations times, interleaved and rotated; the tables show medians, memory
// the worst run. --json: the JSON on stdout, the tables on stderr.
//
//   npx tsx bench/clone.ts [--size-mb 100] [--iterations 3] [--json]     (100 MB: about 3 minutes on 2 cores; --size-mb 1000 --iterations 1: about 5.5)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { clonePermissions, checkClone, cloneId, planClone, writeClone } from '../api/services/clones.js';
import { CloneRequest } from '../domain/clone.js';
import type { AppSpecInput } from '../domain/environment.js';
import { LocalFleet } from '../local/fleet.js';
import { onShutdown } from '../local/shutdown.js';
import { runBench } from './support/run-bench.js';
import { tempCatalog } from '../local/temp-catalog.js';
import { startTemporalDevServer } from '../local/temporal-dev-server.js';
import { cacheDir, ensureToolchain } from '../local/toolchain.js';
import { findPgBin } from '../providers/postgres/binaries.js';
import { createEnvironment } from '../store/changes.js';
import { environmentScope } from '../store/secrets.js';
import { flotillaDataConverter } from '../temporal/data-converter.js';
import { PayloadKeyRing } from '../temporal/key-ring.js';
import { createTestDatabase, startTestPostgres } from '../test/support/postgres.js';
import { startWorkerProcess } from '../test/support/worker-process.js';
import { cloneEnvironment, type CloneResult } from '../workflows/clone-environment.js';
import { deployEnvironment } from '../workflows/deploy-environment.js';
import { teardownClone } from '../workflows/teardown-clone.js';
import { counts, cpuOf, dumpPipePsql, dumpThenRestore, idleRss, query, rssSampler, seed, sourceSize, textTable } from './support/pg-copy.js';
import { benchSpec, median, putSecrets } from './support/promote-scenario.js';

const { values: options } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '100' }, iterations: { type: 'string', default: '3' }, json: { type: 'boolean', default: false },
  },
});
const sizeMb = Number(options['size-mb']);
const iterations = Number(options.iterations);
if (!(sizeMb > 0)) throw new Error(`--size-mb must be a positive number, got ${options['size-mb']}`);
if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`--iterations must be a positive integer, got ${options.iterations}`);
/** pg_restore's jobs; the worker's copies run with its default parallelism, also 2. */
const PARALLEL = 2;
const GOALS = { snapshot: 1.3, scrubbed: 2, memoryMb: 64 } as const;
const OUTSIDE = '(start and result, outside phases)';

const run = Math.random().toString(36).slice(2, 7);
const SOURCE = 'shop-staging';
const CLUSTER = `bench-clone-${run}`;
const taskQueue = `bench-clone-${run}`;
const started = performance.now();
const log = (m: string) => console.error(`[bench +${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] ${m}`);
const s = (ms: number) => (ms / 1000).toFixed(2);

const POLICY = { tables: { customers: { email: 'email', full_name: 'name', phone: 'phone', city: 'keep' }, orders: { customer_email: 'email' } } };

/** The 20 services, plus the external database `ledger-db` whose connection is LEDGER_URL. */
function spec(): AppSpecInput {
  const base = benchSpec('1.0.0');
  return {
    ...base,
    databases: [{ name: 'ledger-db', mode: 'external', engine: 'postgres', connectionSecret: 'LEDGER_URL', dataPolicy: POLICY }],
    secrets: [...(base.secrets ?? []), 'LEDGER_URL'],
  } as AppSpecInput;
}

type Key = 'A' | 'B' | 'C' | 'D';
const LABELS: Record<Key, string> = {
  A: '(A) Flotilla clone, snapshot',
  B: '(B) Flotilla clone, scrubbed',
  C: '(C) pg_dump | psql',
  D: `(D) pg_dump -Fc + pg_restore -j${PARALLEL}`,
};

interface Sample {
  totalMs: number;
  copyMs: number;
  /** Clones: every phase of the workflow's result, ms; dump/restore for D. */
  phases: Record<string, number>;
  /** Clones: peak worker RSS over idle, and idle, bytes; worker CPU over the clone, ms. */
  rssOver?: number;
  idle?: number;
  cpuMs?: number;
  /** Clones: what the copy itself reports (rows and bytes it moved). */
  copied?: { rows: number; bytes: number; tables: number };
}

async function main(): Promise<void> {
  const toolchain = ensureToolchain();
  const pgBin = findPgBin();
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-clone-'));
  onShutdown('temporary files', () => rmSync(dir, { recursive: true, force: true }));

  const server = await startTestPostgres();
  onShutdown('postgresql', () => server.stop());
  const drops: (() => Promise<void>)[] = [];
  onShutdown('databases', async () => {
    for (const drop of drops.splice(0).reverse()) await drop().catch(() => undefined);
  });
  const source = await createTestDatabase(server.url);
  drops.push(source.drop);

  const temporal = await startTemporalDevServer({ executable: toolchain.temporal, dbFile: join(dir, 'temporal.db') });
  onShutdown('temporal dev server', () => temporal.stop());
  log(`temporal dev server at ${temporal.address}; seeding ~${sizeMb} MB while a KWOK cluster starts ...`);

  // Set-up, not measured: the seed and the cluster at once.
  const [fleet] = await Promise.all([
    LocalFleet.create({
      toolchain,
      // Its own kwokctl workdir, as bench/promote.ts: a test run creating clusters at the same time shares nothing.
      workdir: join(cacheDir(), 'fleet-bench'),
      clusters: [{ name: CLUSTER, labels: { tier: 'staging', geo: 'eu' } }],
      log,
    }),
    seed(source.url, sizeMb),
  ]);
  const size = await sourceSize(source.url);
  const expected = await counts(source.url);
  const rows = expected.split('/').map(Number).reduce((a, b) => a + b, 0);
  const dataMb = size.dataBytes / 1e6;
  log(`source: ${dataMb.toFixed(0)} MB of table data, ${(size.totalBytes / 1e6).toFixed(0)} MB with indexes, ${rows} rows (${expected})`);

  const tc = await tempCatalog(fleet.clusters.map((c) => ({ ...c, allowedTiers: ['preview' as const, 'dr' as const] })));
  onShutdown('catalog', () => tc.close());
  const catalog = tc.catalog;
  // Every payload encrypted, as in production: a key ring for this run only.
  const ring = PayloadKeyRing.generate();
  const worker = startWorkerProcess({
    TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: temporal.namespace, FLOTILLA_TASK_QUEUE: taskQueue,
    FLOTILLA_CATALOG_URL: tc.url, FLOTILLA_MASTER_KEY: tc.masterKey, FLOTILLA_PAYLOAD_KEYS: JSON.stringify(ring.toJSON()),
  });
  onShutdown('worker', () => worker.kill('SIGTERM'));
  await worker.ready;
  const pid = worker.child.pid!;
  log(`worker process ${pid} ready`);
  const client = new Client({ connection: await Connection.connect({ address: temporal.address }), namespace: temporal.namespace, dataConverter: flotillaDataConverter(ring) });
  onShutdown('temporal client', () => client.connection.close());

  // ---- the source: 20 services and the ledger database, deployed ----
  await createEnvironment(catalog, { binding: { name: SOURCE, application: 'shop', tier: 'staging', cluster: CLUSTER, namespace: SOURCE }, spec: spec(), author: 'bench' });
  await putSecrets(catalog, SOURCE);
  await catalog.secrets.put(environmentScope(SOURCE), 'LEDGER_URL', source.url);
  log(`deploying ${SOURCE} (20 services) ...`);
  await client.workflow.execute(deployEnvironment, { taskQueue, workflowId: `deploy-${SOURCE}`, args: [{ environment: SOURCE, requestedBy: 'bench', rolloutTimeoutSeconds: 300 }] });

  // The API's own steps (api/services/clones.ts), minus HTTP: plan and check, write, then the workflow.
  const deps = { catalog, now: () => new Date() };
  const samples: Record<Key, Sample[]> = { A: [], B: [], C: [], D: [] };
  const fresh = async () => {
    const db = await createTestDatabase(server.url);
    drops.push(db.drop);
    return db.url;
  };
  const check = async (label: string, url: string) => {
    const got = await counts(url);
    if (got !== expected) throw new Error(`${label}: target holds ${got} rows, source ${expected}`);
  };

  const clone = async (key: 'A' | 'B', i: number) => {
    const mode = key === 'A' ? 'snapshot' : 'scrubbed';
    const name = `shop-${mode === 'snapshot' ? 'snap' : 'scrub'}-${i + 1}`;
    const target = await fresh();
    const planned = await planClone(deps, { ...CloneRequest.parse({ source: SOURCE, name, cluster: CLUSTER, purpose: 'preview', data: { 'ledger-db': mode } }), secrets: { LEDGER_URL: target } });
    if (clonePermissions(planned).length !== 1) throw new Error('unexpected: this clone would need clone.data.prod');
    await checkClone(deps, planned);
    const id = await cloneId(deps, name);
    await writeClone(deps, planned, id, 'bench');

    const idle = await idleRss(pid);
    const sampler = rssSampler(pid);
    const cpu0 = cpuOf(pid);
    const t0 = performance.now();
    const result: CloneResult = await client.workflow.execute(cloneEnvironment, {
      taskQueue, workflowId: id, args: [{ cloneId: id, requestedBy: 'bench', rolloutTimeoutSeconds: 300 }],
    });
    const totalMs = performance.now() - t0;
    const peak = sampler.stop();
    const cpuMs = cpuOf(pid) - cpu0;
    if (result.outcome !== 'completed') throw new Error(`clone ${id}: ${result.outcome}: ${result.message ?? ''}`);
    await check(name, target);
    if (mode === 'scrubbed') {
      const [kept] = await query<{ n: string }>(target, `select count(*)::text as n from customers where email like 'customer%@example.com' or full_name like 'Person Number %' or phone like '+44 20 %'`);
      if (kept!.n !== '0') throw new Error(`clone ${id}: ${kept!.n} customers keep their source e-mail, name or phone`);
    }
    const phases: Record<string, number> = {};
    for (const p of result.phases) phases[p.name] = (phases[p.name] ?? 0) + (Date.parse(p.finishedAt ?? p.startedAt) - Date.parse(p.startedAt));
    // Workflow start → first phase, and last phase → result here: per run, so the medians add up.
    phases[OUTSIDE] = totalMs - Object.values(phases).reduce((a, b) => a + b, 0);
    const copy = result.data[0]!;
    samples[key].push({
      totalMs, copyMs: phases['copying-data'] ?? NaN, phases, rssOver: peak - idle, idle, cpuMs,
      copied: { rows: copy.rows, bytes: copy.bytes, tables: copy.tables },
    });
    log(`${LABELS[key]}: ${s(totalMs)} s, copy ${s(phases['copying-data'] ?? NaN)} s, worker +${((peak - idle) / 1e6).toFixed(1)} MB over ${(idle / 1e6).toFixed(0)} MB idle; tearing it down`);
    const down = await client.workflow.execute(teardownClone, { taskQueue, workflowId: `teardown-${id}`, args: [{ cloneId: id, requestedBy: 'bench' }] });
    if (down.outcome !== 'completed') throw new Error(`teardown of ${id}: ${down.message ?? down.outcome}`);
  };

  const approaches: Record<Key, (i: number) => Promise<void>> = {
    A: (i) => clone('A', i),
    B: (i) => clone('B', i),
    C: async () => {
      const target = await fresh();
      const ms = await dumpPipePsql(pgBin, source.url, target);
      await check('C', target);
      samples.C.push({ totalMs: ms, copyMs: ms, phases: {} });
    },
    D: async () => {
      const target = await fresh();
      const { dumpMs, restoreMs } = await dumpThenRestore(pgBin, source.url, target, dir, PARALLEL);
      await check('D', target);
      samples.D.push({ totalMs: dumpMs + restoreMs, copyMs: dumpMs + restoreMs, phases: { dump: dumpMs, restore: restoreMs } });
    },
  };
  const order: Key[] = ['C', 'D', 'A', 'B'];
  for (let i = 0; i < iterations; i++) {
    // Rotated: no approach always runs first (or last) on a shared machine.
    for (const key of [...order.slice(i % 4), ...order.slice(0, i % 4)]) {
      log(`iteration ${i + 1}/${iterations}: ${LABELS[key]}`);
      await approaches[key](i);
    }
    // Each run's database is dropped before the next iteration (the source stays): the server's disk stays small.
    for (const drop of drops.splice(1).reverse()) await drop();
  }

  report(samples, { dataMb, rows, totalMb: size.totalBytes / 1e6 });
}

function report(samples: Record<Key, Sample[]>, source: { dataMb: number; rows: number; totalMb: number }): void {
  const keys: Key[] = ['A', 'B', 'C', 'D'];
  const med = (k: Key, f: (x: Sample) => number) => median(samples[k].map(f));
  const summary = Object.fromEntries(keys.map((k) => {
    const totalMs = med(k, (x) => x.totalMs);
    const copyMs = med(k, (x) => x.copyMs);
    const worst = samples[k].some((x) => x.rssOver !== undefined) ? Math.max(...samples[k].map((x) => x.rssOver ?? 0)) : undefined;
    const phaseNames = [...new Set(samples[k].flatMap((x) => Object.keys(x.phases)))];
    return [k, {
      label: LABELS[k], runs: samples[k].map((x) => Math.round(x.totalMs)), totalMs, copyMs,
      rowsPerSecond: source.rows / (copyMs / 1000), mbPerSecond: source.dataMb / (copyMs / 1000),
      ...(worst !== undefined ? {
        peakRssOverIdleMb: worst / 1e6, idleRssMb: Math.max(...samples[k].map((x) => x.idle ?? 0)) / 1e6, workerCpuMs: med(k, (x) => x.cpuMs ?? 0),
        copied: samples[k][0]!.copied,
      } : {}),
      phasesMs: Object.fromEntries(phaseNames.map((p) => [p, med(k, (x) => x.phases[p] ?? 0)])),
    }];
  })) as Record<Key, {
    label: string; runs: number[]; totalMs: number; copyMs: number; rowsPerSecond: number; mbPerSecond: number; peakRssOverIdleMb?: number; idleRssMb?: number;
    workerCpuMs?: number; copied?: Sample['copied']; phasesMs: Record<string, number>;
  }>;
  const fastestKey: Key = summary.C.totalMs <= summary.D.totalMs ? 'C' : 'D';
  const fastest = summary[fastestKey].totalMs;
  const ratio = (k: 'A' | 'B') => ({ copy: summary[k].copyMs / fastest, whole: summary[k].totalMs / fastest });
  const memory = Math.max(summary.A.peakRssOverIdleMb ?? NaN, summary.B.peakRssOverIdleMb ?? NaN);
  const goals = {
    snapshotCopy: { ratio: ratio('A').copy, limit: GOALS.snapshot, met: ratio('A').copy <= GOALS.snapshot },
    snapshotWhole: { ratio: ratio('A').whole, limit: GOALS.snapshot, met: ratio('A').whole <= GOALS.snapshot },
    scrubbedCopy: { ratio: ratio('B').copy, limit: GOALS.scrubbed, met: ratio('B').copy <= GOALS.scrubbed },
    scrubbedWhole: { ratio: ratio('B').whole, limit: GOALS.scrubbed, met: ratio('B').whole <= GOALS.scrubbed },
    memory: { overIdleMb: memory, limitMb: GOALS.memoryMb, met: memory <= GOALS.memoryMb },
  };

  const out: string[] = [];
  out.push(`clone: a 20-service environment with ${source.dataMb.toFixed(0)} MB of table data (${source.totalMb.toFixed(0)} MB with indexes), ${source.rows.toLocaleString('en')} rows; medians of ${iterations} run(s) [each run's total s]; worker RSS the worst run`);
  out.push(...textTable(
    ['approach', 'total s', 'copy s', 'rows/s', 'MB/s', 'copy × fastest', 'total × fastest', 'worker RSS over idle', 'runs'],
    keys.map((k) => {
      const r = summary[k];
      return [
        r.label, s(r.totalMs), s(r.copyMs), Math.round(r.rowsPerSecond).toLocaleString('en'), r.mbPerSecond.toFixed(1),
        (r.copyMs / fastest).toFixed(2), (r.totalMs / fastest).toFixed(2),
        r.peakRssOverIdleMb === undefined ? '' : `+${r.peakRssOverIdleMb.toFixed(1)} MB (idle ${r.idleRssMb!.toFixed(0)} MB, CPU ${s(r.workerCpuMs!)} s)`,
        `[${r.runs.map((ms) => s(ms)).join(' ')}]`,
      ];
    }),
  ));
  out.push('', 'phases (s, medians)');
  const phaseNames = [...new Set([...Object.keys(summary.A.phasesMs), ...Object.keys(summary.B.phasesMs)])];
  const share = (k: 'A' | 'B', ms: number) => `${((ms / summary[k].totalMs) * 100).toFixed(0)}%`;
  out.push(...textTable(['phase', 'snapshot', '', 'scrubbed', ''], [
    ...phaseNames.filter((p) => p !== OUTSIDE).concat(OUTSIDE)
      .map((p) => [p, s(summary.A.phasesMs[p] ?? NaN), share('A', summary.A.phasesMs[p] ?? NaN), s(summary.B.phasesMs[p] ?? NaN), share('B', summary.B.phasesMs[p] ?? NaN)]),
  ]));
  out.push(`(D) dump ${s(summary.D.phasesMs.dump ?? NaN)} + restore ${s(summary.D.phasesMs.restore ?? NaN)}`);
  const mark = (met: boolean) => (met ? 'met' : 'MISSED');
  out.push('', `goals, against the fastest baseline ${LABELS[fastestKey]} (${s(fastest)} s):`);
  out.push(`  snapshot ≤ ${GOALS.snapshot}×: copy phase ${goals.snapshotCopy.ratio.toFixed(2)}× ${mark(goals.snapshotCopy.met)}; whole clone ${goals.snapshotWhole.ratio.toFixed(2)}× ${mark(goals.snapshotWhole.met)}`);
  out.push(`  scrubbed ≤ ${GOALS.scrubbed}×:   copy phase ${goals.scrubbedCopy.ratio.toFixed(2)}× ${mark(goals.scrubbedCopy.met)}; whole clone ${goals.scrubbedWhole.ratio.toFixed(2)}× ${mark(goals.scrubbedWhole.met)}`);
  out.push(`  worker RSS ≤ idle + ${GOALS.memoryMb} MB: snapshot +${(summary.A.peakRssOverIdleMb ?? NaN).toFixed(1)} MB, scrubbed +${(summary.B.peakRssOverIdleMb ?? NaN).toFixed(1)} MB ${mark(goals.memory.met)}`);

  if (options.json) {
    console.error(out.join('\n'));
    console.log(JSON.stringify({ sizeMb, iterations, source, fastest: fastestKey, approaches: summary, goals, samples }, null, 2));
  } else {
    console.log(out.join('\n'));
  }
}

runBench(main, log);
