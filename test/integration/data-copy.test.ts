// The PostgreSQL data copy (activities/data-copy.ts over providers/postgres) against a real
// PostgreSQL: one database per environment, source and targets, reached through a connector
// that maps (environment, database) to the test server's databases. Every expectation is
// computed here, with our own SQL (and psql) on both sides, never by the engine.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDataCopyActivities } from '../../activities/data-copy.js';
import type { CopyHeartbeat, DataCopyActivities } from '../../activities/data-copy-types.js';
import type { DataPolicy } from '../../domain/data-policy.js';
import type { AppSpecInput } from '../../domain/environment.js';
import type { DatabaseConnector } from '../../providers/databases/connector.js';
import { findPgBin } from '../../providers/postgres/binaries.js';
import { copyDatabase } from '../../providers/postgres/engine.js';
import { createEnvironment } from '../../store/changes.js';
import { GLOBAL_SCOPE } from '../../store/secrets.js';
import { testCatalog, type TestCatalog } from '../support/catalog.js';
import { createTestDatabase, startTestPostgres, type TestPostgres } from '../support/postgres.js';

const exec = promisify(execFile);
const [cluster] = inject('clusters');
const DB = 'orders-db';
const REPO = resolve(import.meta.dirname, '../..');

const SCHEMA = `
  create table customers (
    id bigint generated always as identity primary key,
    email varchar(120) not null unique,
    full_name text not null,
    phone varchar(32),
    street text,
    city text,
    zip text,
    vip boolean not null default false
  );
  create table orders (
    id bigserial primary key,
    customer_id bigint not null references customers(id),
    customer_email varchar(120) not null references customers(email),
    amount numeric(10,2) not null,
    status text not null check (status in ('open', 'paid', 'shipped')),
    note text,
    total_cents bigint generated always as ((amount * 100)::bigint) stored
  );
  create index orders_status_idx on orders(status);
  create table order_items (order_id bigint not null references orders(id), line int not null, sku text not null, qty int not null, primary key (order_id, line));
  create schema billing;
  create table billing.invoices (
    id serial primary key,
    order_id bigint not null references orders(id),
    billed_to text not null,
    contact_phone varchar(40) unique,
    issued date not null
  );
  create view customer_totals as select c.id, sum(o.amount) as total from customers c join orders o on o.customer_id = c.id group by c.id;
`;

/** A few thousand rows, with the text format's hard cases (tabs, newlines, backslashes, non-ASCII, NULLs). */
const SEED = `
  insert into customers (email, full_name, phone, street, city, zip, vip)
  select format('customer%s@example.com', i),
         case when i % 7 = 0 then format(E'Zoë\\tO''Brien\\\\%s', i) when i % 11 = 0 then format(E'Ana\\nMaría Núñez %s', i) else format('Person Number %s', i) end,
         case when i % 5 = 0 then null else format('+44 20 7946 %s', lpad(i::text, 4, '0')) end,
         format('%s High Street', i), (array['Leeds', 'York', 'Bath'])[1 + i % 3], format('LS%s', i % 90), i % 3 = 0
  from generate_series(1, 2000) i;
  insert into orders (customer_id, customer_email, amount, status, note)
  select c.id, c.email, (i % 997) + 0.99, (array['open', 'paid', 'shipped'])[1 + i % 3],
         case when i % 4 = 0 then null when i % 4 = 1 then format('call %s', c.email) else format(E'gift\\twrap %s', i) end
  from generate_series(1, 5000) i join customers c on c.id = 1 + (i * 7) % 2000;
  insert into order_items select o.id, l, format('SKU-%s', (o.id * l) % 300), 1 + l from orders o, generate_series(1, 2) l;
  insert into billing.invoices (order_id, billed_to, contact_phone, issued)
  select o.id, c.full_name, c.phone, date '2026-01-01' + (o.id % 300)::int
  from orders o join customers c on c.id = o.customer_id where o.id % 5 = 0 and c.phone is not null
    and o.id = (select min(o2.id) from orders o2 where o2.customer_id = o.customer_id);
`;

const TABLES = ['public.customers', 'public.orders', 'public.order_items', 'billing.invoices'];

const POLICY: DataPolicy = {
  tables: {
    customers: { email: 'email', full_name: 'name', phone: 'phone', street: 'redact', zip: { fixed: '00000' } },
    'public.orders': { customer_email: 'email', note: 'hash' },
    // A fixed value for a date: that table goes through the text format (a date's binary form is not its text).
    'billing.invoices': { billed_to: 'name', contact_phone: 'phone', issued: { fixed: '2000-01-01' } },
    // city is left unruled on purpose: reported (non-strict), refused (strict).
  },
};

describe('PostgreSQL data copy', () => {
  let server: TestPostgres;
  let tc: TestCatalog;
  let activities: DataCopyActivities;
  const urls = new Map<string, string>();
  const drops: (() => Promise<void>)[] = [];
  let sourceUrl: string;

  const connector: DatabaseConnector = {
    open(environment, database) {
      const url = urls.get(`${environment}/${database}`);
      if (!url) return Promise.reject(new Error(`no database ${database} for ${environment}`));
      return Promise.resolve({ url, describe: `test ${database} of ${environment}`, close: () => Promise.resolve() });
    },
  };

  async function query<R extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  /** A fresh empty database standing for a clone's, under environment `env`. */
  async function target(env: string): Promise<string> {
    const db = await createTestDatabase(server.url);
    drops.push(db.drop);
    urls.set(`${env}/${DB}`, db.url);
    return db.url;
  }

  async function sourceEnvironment(name: string, dataPolicy?: DataPolicy): Promise<void> {
    const spec: AppSpecInput = {
      services: [{ name: 'web', image: 'ghcr.io/acme/web:1.0.0' }],
      databases: [{ name: DB, mode: 'external', engine: 'postgres', connectionSecret: 'ORDERS_DB_URL', ...(dataPolicy ? { dataPolicy } : {}) }],
      secrets: ['ORDERS_DB_URL'],
    };
    await createEnvironment(tc.catalog, { binding: { name, application: 'shop', tier: 'prod', cluster: cluster!.name, namespace: name }, spec, author: 'test' });
    urls.set(`${name}/${DB}`, sourceUrl);
  }

  /** Runs an activity like Temporal would, collecting its heartbeats. */
  async function activity<T>(fn: () => Promise<T>, heartbeats: unknown[] = []): Promise<T> {
    const env = new MockActivityEnvironment();
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    return env.run(fn) as Promise<T>;
  }

  async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
    const error = await p.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    return error as ApplicationFailure;
  }

  /** Row count and an md5 of every row's text, ordered: our own checksum, computed by the server. */
  async function fingerprint(url: string, table: string, columns = '*'): Promise<{ rows: number; md5: string }> {
    const [row] = await query<{ rows: string; md5: string }>(url,
      `select count(*)::text as rows, coalesce(md5(string_agg(r::text, ',' order by r::text)), '') as md5 from (select ${columns} from ${table}) r`);
    return { rows: Number(row!.rows), md5: row!.md5 };
  }

  /** Everything in a database that is not PostgreSQL's own (an empty, fresh database has nothing). */
  async function contents(url: string): Promise<string[]> {
    const rows = await query<{ what: string }>(url, `
      select 'schema ' || nspname as what from pg_namespace where nspname not in ('public', 'pg_catalog', 'information_schema', 'pg_toast') and nspname !~ '^pg_(temp|toast_temp)_'
      union all select 'relation ' || n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and n.nspname !~ '^pg_(temp|toast_temp)_'
      union all select 'function ' || proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'
      order by 1`);
    return rows.map((r) => r.what);
  }

  async function constraints(url: string): Promise<string[]> {
    const rows = await query<{ c: string }>(url, `
      select format('%s %s %s %s', conrelid::regclass, contype, pg_get_constraintdef(oid), convalidated) as c from pg_constraint
      where connamespace in (select oid from pg_namespace where nspname in ('public', 'billing')) order by 1`);
    return rows.map((r) => r.c);
  }

  async function indexes(url: string): Promise<string[]> {
    const rows = await query<{ i: string }>(url, `select indexdef as i from pg_indexes where schemaname in ('public', 'billing') order by 1`);
    return rows.map((r) => r.i);
  }

  beforeAll(async () => {
    server = await startTestPostgres();
    const source = await createTestDatabase(server.url);
    drops.push(source.drop);
    sourceUrl = source.url;
    await query(sourceUrl, SCHEMA);
    await query(sourceUrl, SEED);
    tc = await testCatalog([cluster!]);
    activities = createDataCopyActivities({ catalog: tc.catalog, databases: connector });
    await sourceEnvironment('shop-prod', POLICY);
    await sourceEnvironment('shop-nopolicy');
    await sourceEnvironment('shop-broken', { tables: { ...POLICY.tables, customers: { ...POLICY.tables.customers, e_mail: 'email' } } });
  });

  afterAll(async () => {
    for (const drop of drops.reverse()) await drop().catch(() => undefined);
    await tc?.close();
    await server?.stop();
  });

  it('snapshot: equal row counts and checksums on both sides, with indexes, constraints and sequences', async () => {
    const targetUrl = await target('clone-snap');
    const heartbeats: CopyHeartbeat[] = [];
    const before = Date.now();
    const result = await activity(() => activities.copyDatabase({
      copyId: 'clone-snap/orders-db', source: { environment: 'shop-prod', database: DB }, target: { environment: 'clone-snap', database: DB }, mode: 'snapshot', strict: false,
    }), heartbeats);

    for (const table of TABLES) {
      const [src, dst] = [await fingerprint(sourceUrl, table), await fingerprint(targetUrl, table)];
      expect(dst, table).toEqual(src);
      expect(src.rows).toBeGreaterThan(300);
      expect(result.tables.find((t) => t.name === table)?.rows, table).toBe(src.rows);
    }
    expect(result.tables.map((t) => t.name).sort()).toEqual([...TABLES].sort());
    expect(await constraints(targetUrl)).toEqual(await constraints(sourceUrl));
    expect(await indexes(targetUrl)).toEqual(await indexes(sourceUrl));
    // The view and the generated column came along; the sequences continue where the source's are.
    expect(await fingerprint(targetUrl, 'customer_totals')).toEqual(await fingerprint(sourceUrl, 'customer_totals'));
    const [seq] = await query<{ next: string; max: string }>(targetUrl, `select nextval('orders_id_seq')::text as next, (select max(id) from orders)::text as max`);
    expect(Number(seq!.next)).toBe(Number(seq!.max) + 1);
    // The result's checksum is the SHA-256 of the rows as the target holds them (psql's COPY, our hash).
    const psql = join(findPgBin(), 'psql');
    for (const t of result.tables) {
      const { stdout } = await exec('bash', ['-c', `"${psql}" -X -q "$URL" -c "copy ${t.name} (${await columnList(targetUrl, t.name)}) to stdout (format ${t.format})" | sha256sum`], { env: { ...process.env, URL: targetUrl } });
      expect(stdout.split(' ')[0], t.name).toBe(t.checksum);
    }
    expect(Date.parse(result.snapshotAt!)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(result.snapshotAt!)).toBeLessThanOrEqual(Date.now());
    expect(result.phases.schemaMs).toBeGreaterThan(0);
    expect(result.phases.postDataMs).toBeGreaterThan(0);
    // Heartbeats carry progress, never where the databases are or how to log in.
    expect(heartbeats.some((h) => h?.phase === 'data')).toBe(true);
    const told = JSON.stringify([heartbeats, result]);
    for (const secret of [sourceUrl, targetUrl, 'flotilla:flotilla', new URL(sourceUrl).pathname.slice(1)]) expect(told).not.toContain(secret);
  });

  async function columnList(url: string, table: string): Promise<string> {
    const rows = await query<{ a: string }>(url, `select quote_ident(attname) as a from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped and attgenerated = '' order by attnum`, [table]);
    return rows.map((r) => r.a).join(', ');
  }

  it('scrubbed: no source e-mail, name or phone survives in any text column; foreign keys resolve and unique constraints hold', async () => {
    const targetUrl = await target('clone-scrub');
    const result = await activity(() => activities.copyDatabase({
      copyId: 'clone-scrub/orders-db', source: { environment: 'shop-prod', database: DB }, target: { environment: 'clone-scrub', database: DB }, mode: 'scrubbed', strict: false,
    }));
    expect(result.unruledPersonal).toEqual(['public.customers.city']);
    for (const table of TABLES) expect((await fingerprint(targetUrl, table)).rows, table).toBe((await fingerprint(sourceUrl, table)).rows);

    // Every personal value of the source, searched in every text column of every table of the target.
    const personal = await query<{ v: string }>(sourceUrl, `
      select email as v from customers union select full_name from customers union select phone from customers where phone is not null
      union select street from customers union select billed_to from billing.invoices union select contact_phone from billing.invoices where contact_phone is not null
      union select note from orders where note is not null`);
    expect(personal.length).toBeGreaterThan(5000);
    const textColumns = await query<{ s: string; t: string; c: string }>(targetUrl, `
      select table_schema as s, table_name as t, column_name as c from information_schema.columns
      where table_schema in ('public', 'billing') and data_type in ('text', 'character varying', 'character')
        and (table_schema, table_name) in (select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE')`);
    expect(textColumns.length).toBeGreaterThanOrEqual(12);
    const client = new pg.Client({ connectionString: targetUrl });
    await client.connect();
    try {
      await client.query('create temp table source_values (v text)');
      await client.query('insert into source_values select unnest($1::text[])', [personal.map((p) => p.v)]);
      for (const { s, t, c } of textColumns) {
        if (t === 'customers' && c === 'city') continue; // unruled (reported), copied as is: no personal value lives there
        const { rows } = await client.query<{ n: string }>(`select count(*)::text as n from ${s}.${t} x join source_values v on x.${c}::text = v.v`);
        expect(Number(rows[0]!.n), `${s}.${t}.${c}`).toBe(0);
      }
    } finally {
      await client.end();
    }
    // The constraints are all there and validated (post-data built them over the masked rows)...
    expect(await constraints(targetUrl)).toEqual(await constraints(sourceUrl));
    // ...and consistent masking kept each order on its customer through both keys.
    const [joined] = await query<{ both: string; all: string }>(targetUrl, `
      select (select count(*) from orders o join customers c on c.id = o.customer_id and c.email = o.customer_email)::text as both, (select count(*) from orders)::text as all`);
    expect(joined!.both).toBe(joined!.all);
    const [unique] = await query<{ emails: string; phones: string; customers: string; invoices: string }>(targetUrl, `
      select (select count(distinct email) from customers)::text as emails, (select count(*) from customers)::text as customers,
             (select count(distinct contact_phone) from billing.invoices)::text as phones, (select count(contact_phone) from billing.invoices)::text as invoices`);
    expect(unique!.emails).toBe(unique!.customers);
    expect(unique!.phones).toBe(unique!.invoices);
    // NULL stays NULL; unmasked columns are the source's; masked ones have their fake shapes.
    expect(await fingerprint(targetUrl, 'customers', 'id, phone is null, city, vip')).toEqual(await fingerprint(sourceUrl, 'customers', 'id, phone is null, city, vip'));
    expect(await fingerprint(targetUrl, 'orders', 'id, customer_id, amount, status, total_cents, note is null')).toEqual(await fingerprint(sourceUrl, 'orders', 'id, customer_id, amount, status, total_cents, note is null'));
    const [shapes] = await query<{ bad: string }>(targetUrl, `
      select count(*)::text as bad from customers where email !~ '@example\\.invalid$' or street <> '[redacted]' or zip <> '00000' or full_name !~ '^[A-Z][a-z]+ [A-Z][a-z]+-[A-Z][a-z]+$'`);
    expect(shapes!.bad).toBe('0');
    expect(await query(targetUrl, `select distinct issued::text from billing.invoices`)).toEqual([{ issued: '2000-01-01' }]);
    expect(result.tables.find((t) => t.name === 'billing.invoices')?.format).toBe('text');
    expect(result.tables.find((t) => t.name === 'public.customers')?.format).toBe('binary');
    expect(result.tables.find((t) => t.name === 'public.customers')?.masked.sort()).toEqual(['email', 'full_name', 'phone', 'street', 'zip']);
    // The masking key was made once, 32 random bytes, in the catalog's global secrets; never in the result.
    const key = await tc.catalog.secrets.get(GLOBAL_SCOPE, 'FLOTILLA_MASKING_KEY');
    expect(Buffer.from(key!, 'base64')).toHaveLength(32);
    expect(JSON.stringify(result)).not.toContain(key!);
  });

  it('scrubbed, strict: an unruled personal column refuses the copy and nothing is written', async () => {
    const targetUrl = await target('clone-strict');
    const failure = await failureOf(activity(() => activities.copyDatabase({
      copyId: 'clone-strict/orders-db', source: { environment: 'shop-prod', database: DB }, target: { environment: 'clone-strict', database: DB }, mode: 'scrubbed', strict: true,
    })));
    expect(failure.type).toBe('DataPolicyRefused');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('public.customers.city');
    expect(await contents(targetUrl)).toEqual([]);
  });

  it('a rule naming a missing column refuses (check and copy alike) and the target stays completely empty', async () => {
    const targetUrl = await target('clone-broken');
    const check = await failureOf(activity(() => activities.checkDataPolicy({ source: { environment: 'shop-broken', database: DB }, mode: 'scrubbed', strict: false })));
    expect(check.type).toBe('DataPolicyRefused');
    expect(check.message).toContain('tables.customers.e_mail');
    const copy = await failureOf(activity(() => activities.copyDatabase({
      copyId: 'clone-broken/orders-db', source: { environment: 'shop-broken', database: DB }, target: { environment: 'clone-broken', database: DB }, mode: 'scrubbed', strict: false,
    })));
    expect(copy.type).toBe('DataPolicyRefused');
    expect(copy.nonRetryable).toBe(true);
    // No values in the refusal: only table and column names.
    expect(copy.message).not.toMatch(/customer\d+@example\.com/);
    expect(await contents(targetUrl)).toEqual([]);
  });

  it('scrubbed without any data policy is refused', async () => {
    const failure = await failureOf(activity(() => activities.checkDataPolicy({ source: { environment: 'shop-nopolicy', database: DB }, mode: 'scrubbed', strict: false })));
    expect(failure.type).toBe('DataPolicyRefused');
    expect(failure.message).toContain('no dataPolicy');
  });

  it('checkDataPolicy reports the unruled personal columns and the table count', async () => {
    const check = await activity(() => activities.checkDataPolicy({ source: { environment: 'shop-prod', database: DB }, mode: 'scrubbed', strict: false }));
    expect(check).toEqual({ tables: 4, unruledPersonal: ['public.customers.city'] });
  });

  it('schema: every table, index and constraint, and no rows', async () => {
    const targetUrl = await target('clone-schema');
    const result = await activity(() => activities.copyDatabase({
      copyId: 'clone-schema/orders-db', source: { environment: 'shop-prod', database: DB }, target: { environment: 'clone-schema', database: DB }, mode: 'schema', strict: false,
    }));
    expect(result.tables).toEqual([]);
    for (const table of TABLES) expect((await fingerprint(targetUrl, table)).rows, table).toBe(0);
    expect(await constraints(targetUrl)).toEqual(await constraints(sourceUrl));
    expect(await indexes(targetUrl)).toEqual(await indexes(sourceUrl));
  });

  it('none: nothing at all, not even a marker', async () => {
    const targetUrl = await target('clone-none');
    const result = await activity(() => activities.copyDatabase({
      copyId: 'clone-none/orders-db', source: { environment: 'shop-prod', database: DB }, target: { environment: 'clone-none', database: DB }, mode: 'none', strict: false,
    }));
    expect(result.tables).toEqual([]);
    expect(await contents(targetUrl)).toEqual([]);
  });

  it('a non-empty target without the marker is refused and left untouched', async () => {
    const targetUrl = await target('clone-occupied');
    await query(targetUrl, `create table theirs (id int primary key, v text); insert into theirs values (1, 'keep me')`);
    const failure = await failureOf(activity(() => activities.copyDatabase({
      copyId: 'clone-occupied/orders-db', source: { environment: 'shop-prod', database: DB }, target: { environment: 'clone-occupied', database: DB }, mode: 'snapshot', strict: false,
    })));
    expect(failure.type).toBe('TargetNotEmpty');
    expect(failure.nonRetryable).toBe(true);
    expect(await contents(targetUrl)).toEqual(['relation public.theirs', 'relation public.theirs_pkey']);
    expect(await query(targetUrl, 'select * from theirs')).toEqual([{ id: 1, v: 'keep me' }]);
    // dropClonedData refuses it too.
    expect((await failureOf(activity(() => activities.dropClonedData({ copyId: 'clone-occupied/orders-db', target: { environment: 'clone-occupied', database: DB } })))).type).toBe('TargetNotEmpty');
  });

  it('source and target the same database: refused', async () => {
    urls.set(`clone-self/${DB}`, sourceUrl);
    const failure = await failureOf(activity(() => activities.copyDatabase({
      copyId: 'clone-self/orders-db', source: { environment: 'shop-prod', database: DB }, target: { environment: 'clone-self', database: DB }, mode: 'snapshot', strict: false,
    })));
    expect(failure.type).toBe('SameDatabase');
    expect(await fingerprint(sourceUrl, 'customers')).toMatchObject({ rows: 2000 });
  });

  it('another copy\'s target is refused; dropClonedData empties only its own copy', async () => {
    const targetUrl = await target('clone-drop');
    await activity(() => activities.copyDatabase({
      copyId: 'clone-drop/orders-db', source: { environment: 'shop-prod', database: DB }, target: { environment: 'clone-drop', database: DB }, mode: 'schema', strict: false,
    }));
    const other = await failureOf(activity(() => activities.copyDatabase({
      copyId: 'someone-else/orders-db', source: { environment: 'shop-prod', database: DB }, target: { environment: 'clone-drop', database: DB }, mode: 'schema', strict: false,
    })));
    expect(other.type).toBe('TargetOwnedByOtherCopy');
    expect((await failureOf(activity(() => activities.dropClonedData({ copyId: 'someone-else/orders-db', target: { environment: 'clone-drop', database: DB } })))).type).toBe('TargetOwnedByOtherCopy');
    expect(await contents(targetUrl)).not.toEqual([]);
    expect(await activity(() => activities.dropClonedData({ copyId: 'clone-drop/orders-db', target: { environment: 'clone-drop', database: DB } }))).toEqual({ outcome: 'dropped' });
    expect(await contents(targetUrl)).toEqual([]);
    // The public schema is back as a fresh database has it (owner and grants).
    const fresh = await target('clone-fresh');
    const schemaOf = (url: string) => query(url, `select nspowner::regrole::text as owner, nspacl::text as acl from pg_namespace where nspname = 'public'`);
    expect(await schemaOf(targetUrl)).toEqual(await schemaOf(fresh));
    expect(await activity(() => activities.dropClonedData({ copyId: 'clone-drop/orders-db', target: { environment: 'clone-drop', database: DB } }))).toEqual({ outcome: 'already-empty' });
  });

  it('cancelled mid-copy: stops, leaves the target marked, and dropClonedData empties it', async () => {
    const { url: bigUrl } = await bigSource();
    urls.set(`shop-big/${DB}`, bigUrl);
    await sourceEnvironmentAt('shop-big', bigUrl);
    const targetUrl = await target('clone-cancel');
    const env = new MockActivityEnvironment();
    let cancelledAt = 0;
    env.on('heartbeat', (d: CopyHeartbeat | undefined) => {
      if (d?.phase === 'data' && d.rows > 0 && cancelledAt === 0) {
        cancelledAt = d.rows;
        env.cancel();
      }
    });
    // Progress every 10 ms: the first report with rows comes while `events` (300,000 rows) still streams.
    const quick = createDataCopyActivities({ catalog: tc.catalog, databases: connector, heartbeatMs: 10 });
    const error = await (env.run(() => quick.copyDatabase({
      copyId: 'clone-cancel/orders-db', source: { environment: 'shop-big', database: DB }, target: { environment: 'clone-cancel', database: DB }, mode: 'snapshot', strict: false,
    })) as Promise<unknown>).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(CancelledFailure);
    expect(cancelledAt).toBeGreaterThan(0);
    expect((await fingerprint(targetUrl, 'events')).rows).toBeLessThan(300_000);
    const [marker] = await query<{ state: string }>(targetUrl, 'select state from flotilla_clone.marker');
    expect(marker!.state).toBe('copying');
    expect(await activity(() => activities.dropClonedData({ copyId: 'clone-cancel/orders-db', target: { environment: 'clone-cancel', database: DB } }))).toEqual({ outcome: 'dropped' });
    expect(await contents(targetUrl)).toEqual([]);
  });

  it('a worker killed mid-copy: the retry resets the target and ends complete and correct', async () => {
    const { url: bigUrl } = await bigSource();
    const targetUrl = await target('clone-crash');
    const copyId = 'clone-crash/orders-db';
    // The first attempt runs in a child process, killed (SIGKILL) once rows are streaming.
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-copy-child-'));
    const script = join(dir, 'copy.mts');
    writeFileSync(script, `
      import { copyDatabase } from ${JSON.stringify(pathToFileURL(join(REPO, 'providers/postgres/engine.ts')).href)};
      await copyDatabase({
        copyId: ${JSON.stringify(copyId)}, mode: 'snapshot', parallel: 1,
        source: { url: process.env.SOURCE_URL!, describe: 'source' }, target: { url: process.env.TARGET_URL!, describe: 'target' },
        onProgress: (p) => console.log(JSON.stringify(p)),
      });
      console.log('"done"');
    `);
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO, env: { ...process.env, SOURCE_URL: bigUrl, TARGET_URL: targetUrl }, stdio: ['ignore', 'pipe', 'inherit'] });
    let killedAt = 0;
    await new Promise<void>((done, fail) => {
      let buffer = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        buffer += d;
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          const p = JSON.parse(line) as { phase?: string; rows?: number } | string;
          if (p === 'done') fail(new Error('the copy finished before it could be killed: make the table bigger'));
          if (typeof p === 'object' && p.phase === 'data' && (p.rows ?? 0) > 30_000 && killedAt === 0) {
            killedAt = p.rows!;
            child.kill('SIGKILL');
          }
        }
      });
      child.on('exit', () => done());
    });
    expect(killedAt).toBeGreaterThan(0);
    // Half-copied as the crash left it: marked as an attempt in progress, the big table partial or empty.
    const [marker] = await query<{ state: string }>(targetUrl, 'select state from flotilla_clone.marker');
    expect(marker!.state).toBe('copying');
    expect((await fingerprint(targetUrl, 'events')).rows).toBeLessThan((await fingerprint(bigUrl, 'events')).rows);

    const result = await copyDatabase({ copyId, mode: 'snapshot', source: { url: bigUrl, describe: 'source' }, target: { url: targetUrl, describe: 'target' } });
    expect(result.attempt).toBe(2);
    for (const table of ['public.accounts', 'public.events']) {
      expect(await fingerprint(targetUrl, table), table).toEqual(await fingerprint(bigUrl, table));
    }
    expect(await constraints(targetUrl)).toEqual(await constraints(bigUrl));
    // A retry of a finished copy returns its result and copies nothing again.
    const again = await copyDatabase({ copyId, mode: 'snapshot', source: { url: bigUrl, describe: 'source' }, target: { url: targetUrl, describe: 'target' } });
    expect(again).toEqual(result);
  });

  let big: { url: string } | undefined;
  /** A source big enough to stop mid-copy: ~300k rows (about 40 MB). */
  async function bigSource(): Promise<{ url: string }> {
    if (big) return big;
    const db = await createTestDatabase(server.url);
    drops.push(db.drop);
    await query(db.url, `
      create table accounts (id int primary key, email text not null unique);
      insert into accounts select i, format('user%s@example.com', i) from generate_series(1, 1000) i;
      create table events (id bigint primary key, account_id int not null references accounts(id), kind text not null, payload text not null, at timestamptz not null);
      insert into events select i, 1 + i % 1000, (array['login', 'view', 'buy'])[1 + i % 3], repeat(md5(i::text), 3), timestamptz '2026-01-01' + i * interval '1 second'
      from generate_series(1, 300000) i;
      create index events_account_idx on events(account_id);`);
    big = { url: db.url };
    return big;
  }

  async function sourceEnvironmentAt(name: string, url: string): Promise<void> {
    await sourceEnvironment(name);
    urls.set(`${name}/${DB}`, url);
  }
});
