// What bench/clone-data.ts (the copy engine alone) and bench/clone.ts (whole clones) share: the
// source database (customers, orders with foreign keys to them, events; about --size-mb of table
// data), its size and row counts, PostgreSQL's own copies as baselines (pg_dump | psql, and
// pg_dump -Fc then pg_restore -jN), and a process's memory and CPU from /proc.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import pg from 'pg';
import { libpqEnv } from '../../providers/postgres/libpq-env.js';

const exec = promisify(execFile);

/** VmRSS of a process in bytes; 0 once it is gone. */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** utime + stime of a process, in ms (clock ticks of 10 ms). */
export function cpuOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** A process's RSS sampled every `everyMs` (20 ms): the highest seen since start(), in bytes. */
export function rssSampler(pid: number, everyMs = 20): { stop(): number } {
  let peak = rssOf(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssOf(pid));
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, rssOf(pid));
    },
  };
}

/** A process's idle RSS: the highest of `samples` readings `everyMs` apart, in bytes. */
export async function idleRss(pid: number, samples = 25, everyMs = 20): Promise<number> {
  const seen: number[] = [];
  for (let i = 0; i < samples; i++) {
    seen.push(rssOf(pid));
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return Math.max(...seen);
}

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export async function sh(script: string, env: NodeJS.ProcessEnv): Promise<void> {
  await exec('bash', ['-o', 'pipefail', '-c', script], { env, maxBuffer: 64 * 1024 * 1024 });
}

export async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** The source tables: customers (email, full_name, phone), orders (foreign keys by id and by e-mail), events; ~sizeMb of table data. */
export async function seed(url: string, sizeMb: number): Promise<void> {
  // Row counts for ~100 MB of table data, scaled.
  const k = sizeMb / 100;
  const customers = Math.round(200_000 * k);
  const orders = Math.round(400_000 * k);
  const events = Math.round(300_000 * k);
  await query(url, `
    create table customers (id bigint primary key, email varchar(200) not null unique, full_name text not null, phone varchar(40),
      city text not null, created_at timestamptz not null);
    create table orders (id bigint primary key, customer_id bigint not null, customer_email varchar(200) not null, amount numeric(10,2) not null,
      status text not null, created_at timestamptz not null);
    create table events (id bigint primary key, customer_id bigint not null, kind text not null, payload text not null, at timestamptz not null);`);
  await query(url, `insert into customers select i, format('customer%s@example.com', i), format('Person Number %s', i), format('+44 20 %s', i),
    (array['Leeds', 'York', 'Bath', 'Hull'])[1 + i % 4], timestamptz '2025-01-01' + i * interval '1 minute' from generate_series(1, ${customers}) i`);
  await query(url, `insert into orders select i, c, format('customer%s@example.com', c), (i % 997) + 0.99, (array['open', 'paid', 'shipped'])[1 + i % 3],
    timestamptz '2025-01-01' + i * interval '1 minute' from generate_series(1, ${orders}) i, lateral (select 1 + (i::bigint * 7919) % ${customers} as c) x`);
  await query(url, `insert into events select i, 1 + i % ${customers}, (array['login', 'view', 'buy'])[1 + i % 3], md5(i::text) || md5((i * 3)::text),
    timestamptz '2025-01-01' + i * interval '1 second' from generate_series(1, ${events}) i`);
  await query(url, `
    alter table orders add foreign key (customer_id) references customers(id), add foreign key (customer_email) references customers(email);
    alter table events add foreign key (customer_id) references customers(id);
    create index orders_status_idx on orders(status); create index events_at_idx on events(at);`);
  await query(url, 'vacuum (freeze, analyze)');
}

export interface SourceSize {
  /** Table data (pg_table_size of the public tables), bytes. */
  dataBytes: number;
  /** The whole database, indexes included, bytes. */
  totalBytes: number;
  rows: number;
}

export async function sourceSize(url: string): Promise<SourceSize> {
  const [size] = await query<{ data: string; total: string; rows: string }>(url, `
    select sum(pg_table_size(c.oid))::text as data, pg_database_size(current_database())::text as total, sum(c.reltuples)::bigint::text as rows
    from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r'`);
  return { dataBytes: Number(size!.data), totalBytes: Number(size!.total), rows: Number(size!.rows) };
}

/** "customers/orders/events" row counts, to compare a copy with its source. */
export async function counts(url: string): Promise<string> {
  const rows = await query<{ n: string }>(url, `select format('%s/%s/%s', (select count(*) from customers), (select count(*) from orders), (select count(*) from events)) as n`);
  return rows[0]!.n;
}

/** (C) pg_dump | psql, plain format, one stream; ms. */
export async function dumpPipePsql(pgBin: string, sourceUrl: string, targetUrl: string): Promise<number> {
  const env = { ...libpqEnv(sourceUrl, 'bench'), TARGET: targetUrl };
  return timed(() => sh(`"${pgBin}/pg_dump" --no-owner --no-privileges | "${pgBin}/psql" -X -q -v ON_ERROR_STOP=1 "$TARGET" >/dev/null`, env));
}

/** (D) pg_dump -Fc to a file in `dir`, then pg_restore -j `parallel` (a custom archive cannot be restored in parallel from a pipe); ms of each. */
export async function dumpThenRestore(pgBin: string, sourceUrl: string, targetUrl: string, dir: string, parallel: number): Promise<{ dumpMs: number; restoreMs: number }> {
  const env = { ...libpqEnv(sourceUrl, 'bench'), TARGET: targetUrl, FILE: join(dir, 'dump.fc') };
  try {
    const dumpMs = await timed(() => sh(`"${pgBin}/pg_dump" -Fc --no-owner --no-privileges -f "$FILE"`, env));
    const restoreMs = await timed(() => sh(`"${pgBin}/pg_restore" -j ${parallel} --no-owner --no-privileges -d "$TARGET" "$FILE"`, env));
    return { dumpMs, restoreMs };
  } finally {
    rmSync(env.FILE, { force: true });
  }
}

/** Fixed-width text table: the first and last columns left-aligned, the others right-aligned. */
export function textTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 || i === c.length - 1 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}
