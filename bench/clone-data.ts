// How fast Flotilla copies a PostgreSQL database, beside PostgreSQL's own tools, measured in the
// same run on the same server, each into a fresh empty database:
//   (A) Flotilla `snapshot` (providers/postgres/engine.ts), in a child process;
//   (B) Flotilla `scrubbed` (customers' e-mail, name, phone and the orders' e-mail masked);
//   (C) pg_dump | psql (plain format, one stream);
//   (D) pg_dump -Fc to a file, then pg_restore -j2 (a custom-format archive cannot be restored
//       in parallel from a pipe).
// The source: customers, orders (foreign keys to customers by id and by e-mail) and events,
// about --size-mb of table data. Reported: time per phase, rows/s, MB/s (table data over wall
// time) and, for A and B, the copying process's peak RSS over its idle RSS (sampled every 20 ms).
// Goals (issue 11): A ≤ 1.3 × the fastest baseline, B ≤ 2 ×, peak RSS ≤ idle + 64 MB.
//
// Each approach runs --iterations times, interleaved (the machine may be shared); the table
// shows medians, and the ratios compare medians.
//
//   npx tsx bench/clone-data.ts [--size-mb 100] [--parallel 2] [--iterations 3]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { DataMode, DataPolicy } from '../domain/data-policy.js';
import { findPgBin } from '../providers/postgres/binaries.js';
import { copyDatabase, type CopyResult } from '../providers/postgres/engine.js';
import { createTestDatabase, startTestPostgres } from '../test/support/postgres.js';
import { counts, cpuOf, dumpPipePsql, dumpThenRestore, query, rssOf, seed as seedSource } from './support/pg-copy.js';

const { values: options } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '100' }, parallel: { type: 'string', default: '2' }, iterations: { type: 'string', default: '3' },
    child: { type: 'boolean', default: false },
  },
});
const iterations = Number(options.iterations);
const sizeMb = Number(options['size-mb']);
const parallel = Number(options.parallel);
const started = performance.now();
const log = (m: string) => console.error(`[bench +${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] ${m}`);

const POLICY: DataPolicy = {
  tables: {
    customers: { email: 'email', full_name: 'name', phone: 'phone' },
    orders: { customer_email: 'email' },
  },
};

// --- child: one Flotilla copy, started on "go", result on stdout ------------------------------

async function child(): Promise<void> {
  const mode = process.env.BENCH_MODE as DataMode;
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  const result = await copyDatabase({
    copyId: `bench-${mode}`, mode, parallel, policy: POLICY, maskingKey: randomBytes(32),
    source: { url: process.env.SOURCE_URL!, describe: 'bench source' }, target: { url: process.env.TARGET_URL!, describe: 'bench target' },
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stdin.destroy();
}

// --- parent -----------------------------------------------------------------------------------

interface Row {
  label: string;
  totalMs: number;
  phases: string;
  rows: number;
  rssMb?: number;
  idleMb?: number;
}

async function ours(mode: DataMode, sourceUrl: string, targetUrl: string): Promise<{ result: CopyResult; wallMs: number; idle: number; peak: number; cpuMs: number }> {
  const self = fileURLToPath(import.meta.url);
  const proc = spawn(process.execPath, ['--import', 'tsx', self, '--child', '--parallel', String(parallel)], {
    env: { ...process.env, BENCH_MODE: mode, SOURCE_URL: sourceUrl, TARGET_URL: targetUrl }, stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let waiting: ((line: string) => void) | undefined;
  let buffer = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    buffer += d;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w(line);
      } else lines.push(line);
    }
  });
  const next = () => new Promise<string>((resolve, reject) => {
    const queued = lines.shift();
    if (queued !== undefined) return resolve(queued);
    waiting = resolve;
    proc.once('exit', (code) => reject(new Error(`copy child exited (${code})`)));
  });
  if ((await next()) !== 'ready') throw new Error('the copy child did not start');
  // Idle: the process with everything loaded, before the copy.
  const idleSamples: number[] = [];
  for (let i = 0; i < 25; i++) {
    idleSamples.push(rssOf(proc.pid!));
    await new Promise((r) => setTimeout(r, 20));
  }
  const idle = Math.max(...idleSamples);
  let peak = idle;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssOf(proc.pid!));
  }, 20);
  const t0 = performance.now();
  const cpu0 = cpuOf(proc.pid!);
  proc.stdin.write('go\n');
  const line = await next();
  const wallMs = performance.now() - t0;
  const cpuMs = cpuOf(proc.pid!) - cpu0;
  clearInterval(sampler);
  await new Promise((r) => proc.once('exit', r));
  return { result: JSON.parse(line) as CopyResult, wallMs, idle, peak, cpuMs };
}

async function main(): Promise<void> {
  const pgBin = findPgBin();
  const server = await startTestPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-data-'));
  const drops: (() => Promise<void>)[] = [];
  try {
    const source = await createTestDatabase(server.url);
    drops.push(source.drop);
    log(`seeding ~${sizeMb} MB`);
    await seedSource(source.url, sizeMb);
    const [size] = await query<{ data: string; total: string; rows: string }>(source.url, `
      select sum(pg_table_size(c.oid))::text as data, pg_database_size(current_database())::text as total, sum(c.reltuples)::bigint::text as rows
      from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r'`);
    const dataMb = Number(size!.data) / 1e6;
    const rows = Number(size!.rows);
    const expected = await counts(source.url);
    log(`source: ${dataMb.toFixed(0)} MB of table data, ${(Number(size!.total) / 1e6).toFixed(0)} MB with indexes, ${rows} rows`);
    const fresh = async () => {
      const db = await createTestDatabase(server.url);
      drops.push(db.drop);
      return db.url;
    };
    const samples = new Map<string, Row[]>();
    const record = (row: Row) => samples.set(row.label, [...(samples.get(row.label) ?? []), row]);
    const check = async (label: string, url: string) => {
      const got = await counts(url);
      if (got !== expected) throw new Error(`${label}: target holds ${got} rows, source ${expected}`);
    };
    const flotilla = async (mode: DataMode) => {
      const target = await fresh();
      const { result, wallMs, idle, peak, cpuMs } = await ours(mode, source.url, target);
      await check(mode, target);
      const p = result.phases;
      record({
        label: `(${mode === 'snapshot' ? 'A' : 'B'}) Flotilla ${mode}`, totalMs: wallMs,
        phases: `schema ${s(p.schemaMs)} + data ${s(p.dataMs)} + post-data ${s(p.postDataMs)}; copy process CPU ${s(cpuMs)}`, rows, rssMb: (peak - idle) / 1e6, idleMb: idle / 1e6,
      });
    };
    const approaches: Record<string, () => Promise<void>> = {
      C: async () => {
        const target = await fresh();
        const ms = await dumpPipePsql(pgBin, source.url, target);
        await check('C', target);
        record({ label: '(C) pg_dump | psql', totalMs: ms, phases: '', rows });
      },
      D: async () => {
        const target = await fresh();
        const { dumpMs, restoreMs } = await dumpThenRestore(pgBin, source.url, target, dir, parallel);
        await check('D', target);
        record({ label: `(D) pg_dump -Fc + pg_restore -j${parallel}`, totalMs: dumpMs + restoreMs, phases: `dump ${s(dumpMs)} + restore ${s(restoreMs)}`, rows });
      },
      A: () => flotilla('snapshot'),
      B: () => flotilla('scrubbed'),
    };
    const order = ['C', 'D', 'A', 'B'];
    for (let i = 0; i < iterations; i++) {
      // Rotate the order: no approach always runs first (or last) on a shared machine.
      for (const key of [...order.slice(i % 4), ...order.slice(0, i % 4)]) {
        log(`iteration ${i + 1}/${iterations}: ${key}`);
        await approaches[key]!();
      }
      // Each run's database is dropped before the next iteration: the server's disk stays small.
      for (const drop of drops.splice(1).reverse()) await drop();
    }
    const results: Row[] = order.map((key) => {
      const label = [...samples.keys()].find((l) => l.startsWith(`(${key})`))!;
      const runs = [...samples.get(label)!].sort((x, y) => x.totalMs - y.totalMs);
      const median = runs[Math.floor(runs.length / 2)]!;
      // Memory: the worst of the runs, not the median.
      const rss = runs.some((r) => r.rssMb !== undefined) ? Math.max(...runs.map((r) => r.rssMb ?? 0)) : undefined;
      return { ...median, rssMb: rss, label: `${label} [${runs.map((r) => s(r.totalMs)).join(' ')}]` };
    });

    const fastest = Math.min(...results.filter((r) => r.label.startsWith('(C)') || r.label.startsWith('(D)')).map((r) => r.totalMs));
    const header = ['approach', 'total s', 'rows/s', 'MB/s', '× fastest', 'peak RSS over idle', 'phases (s)'];
    const cells = results.map((r) => [
      r.label, s(r.totalMs), Math.round(r.rows / (r.totalMs / 1000)).toLocaleString('en'), (dataMb / (r.totalMs / 1000)).toFixed(1),
      (r.totalMs / fastest).toFixed(2), r.rssMb === undefined ? '' : `+${r.rssMb.toFixed(1)} MB (idle ${r.idleMb!.toFixed(0)} MB)`, r.phases,
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
    const line = (c: string[]) => c.map((x, i) => (i === 0 || i === c.length - 1 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ');
    const a = results.find((r) => r.label.startsWith('(A)'))!;
    const b = results.find((r) => r.label.startsWith('(B)'))!;
    console.log([
      `clone-data: ${dataMb.toFixed(0)} MB of table data, ${rows.toLocaleString('en')} rows, parallel ${parallel}, medians of ${iterations} runs [each run's s], PostgreSQL ${pgBin}`,
      line(header), ...cells.map(line), '',
      `goal snapshot ≤ 1.3× fastest baseline: ${(a.totalMs / fastest).toFixed(2)}× ${a.totalMs / fastest <= 1.3 ? 'met' : 'MISSED'}`,
      `goal scrubbed ≤ 2× fastest baseline:   ${(b.totalMs / fastest).toFixed(2)}× ${b.totalMs / fastest <= 2 ? 'met' : 'MISSED'}`,
      `goal memory ≤ +64 MB over idle:        snapshot +${a.rssMb!.toFixed(1)} MB, scrubbed +${b.rssMb!.toFixed(1)} MB ${Math.max(a.rssMb!, b.rssMb!) <= 64 ? 'met' : 'MISSED'}`,
    ].join('\n'));
  } finally {
    for (const drop of drops.reverse()) await drop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
}

function s(ms: number): string {
  return (ms / 1000).toFixed(2);
}

if (options.child) await child();
else await main();
