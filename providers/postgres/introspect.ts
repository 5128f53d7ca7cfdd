// What the source holds, read from pg_catalog inside the copy's snapshot: the tables to copy
// (with their columns and sizes), foreign keys, sequences, and a few sampled values per text
// column for the personal-data check. Samples stay in memory: never logged or returned.
import type pg from 'pg';
import type { ColumnDescription, ColumnSamples, ForeignKeyDescription, SchemaDescription, TableDescription } from '../../domain/data-policy.js';
import { tableKey } from '../../domain/data-policy.js';

/** Flotilla's own schema in a cloned database: never copied, never counted as user data. */
export const MARKER_SCHEMA = 'flotilla_clone';

export interface CopyColumn extends ColumnDescription {
  /** Generated columns are computed by the target, never copied. */
  generated: boolean;
}

export interface SourceTable extends TableDescription {
  columns: CopyColumn[];
  /** On-disk size, to schedule the largest first. */
  bytes: number;
  /** Every column's type has binary send/receive functions. */
  binary: boolean;
}

export interface SourceSequence {
  schema: string;
  name: string;
}

export interface SourceDescription extends SchemaDescription {
  tables: SourceTable[];
  sequences: SourceSequence[];
  largeObjects: number;
}

const SYSTEM_SCHEMAS = `n.nspname not in ('pg_catalog', 'information_schema', '${MARKER_SCHEMA}') and n.nspname !~ '^pg_(toast|temp_|toast_temp_)'`;
/** Objects an extension owns are the extension's (pg_dump leaves their data out, so do we). */
const NOT_EXTENSION_MEMBER = `not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')`;

export async function describeSource(client: pg.ClientBase): Promise<SourceDescription> {
  const tables = await client.query<{ oid: number; schema: string; name: string; bytes: string }>(`
    select c.oid, n.nspname as schema, c.relname as name, pg_relation_size(c.oid)::text as bytes
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind = 'r' and ${SYSTEM_SCHEMAS} and ${NOT_EXTENSION_MEMBER}
    order by n.nspname, c.relname`);
  const columns = await client.query<{
    table: number; name: string; type: string; textual: boolean; max_length: number | null; not_null: boolean;
    unique: boolean; generated: boolean; binary: boolean;
  }>(`
    select a.attrelid as table, a.attname as name, format_type(a.atttypid, a.atttypmod) as type,
      bt.typcategory = 'S' as textual,
      case when bt.oid in ('varchar'::regtype, 'bpchar'::regtype) and tm.typmod > 4 then tm.typmod - 4 end as max_length,
      a.attnotnull as not_null,
      exists (select 1 from pg_index i where i.indrelid = a.attrelid and i.indisunique and a.attnum = any(i.indkey)) as unique,
      a.attgenerated <> '' as generated,
      t.typsend <> 0 and t.typreceive <> 0 as binary
    from pg_attribute a
    join pg_type t on t.oid = a.atttypid
    cross join lateral (select case when t.typtype = 'd' then t.typtypmod else a.atttypmod end as typmod) tm
    join pg_type bt on bt.oid = case when t.typtype = 'd' then t.typbasetype else t.oid end
    where a.attrelid = any($1::oid[]) and a.attnum > 0 and not a.attisdropped
    order by a.attrelid, a.attnum`, [tables.rows.map((t) => t.oid)]);
  const byTable = new Map<number, CopyColumn[]>();
  const binary = new Map<number, boolean>();
  for (const c of columns.rows) {
    const list = byTable.get(c.table) ?? [];
    list.push({
      name: c.name, type: c.type, textual: c.textual, notNull: c.not_null, unique: c.unique, generated: c.generated,
      ...(c.max_length !== null ? { maxLength: c.max_length } : {}),
    });
    byTable.set(c.table, list);
    binary.set(c.table, (binary.get(c.table) ?? true) && c.binary);
  }
  const fks = await client.query<{ table: string; columns: string[]; ref_table: string; ref_columns: string[] }>(`
    select format('%s.%s', n.nspname, c.relname) as table, format('%s.%s', rn.nspname, rc.relname) as ref_table,
      array(select a.attname from unnest(k.conkey) with ordinality u(attnum, i) join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.attnum order by u.i)::text[] as columns,
      array(select a.attname from unnest(k.confkey) with ordinality u(attnum, i) join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.attnum order by u.i)::text[] as ref_columns
    from pg_constraint k
    join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
    join pg_class rc on rc.oid = k.confrelid join pg_namespace rn on rn.oid = rc.relnamespace
    where k.contype = 'f' and ${SYSTEM_SCHEMAS}`);
  const sequences = await client.query<SourceSequence>(`
    select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind = 'S' and ${SYSTEM_SCHEMAS} and ${NOT_EXTENSION_MEMBER} order by 1, 2`);
  const blobs = await client.query<{ n: string }>('select count(*)::text as n from pg_largeobject_metadata');
  const foreignKeys: ForeignKeyDescription[] = fks.rows.map((r) => ({
    table: r.table, columns: r.columns, references: { table: r.ref_table, columns: r.ref_columns },
  }));
  return {
    tables: tables.rows.map((t) => ({
      schema: t.schema, name: t.name, columns: byTable.get(t.oid) ?? [], bytes: Number(t.bytes), binary: binary.get(t.oid) ?? true,
    })),
    foreignKeys,
    sequences: sequences.rows,
    largeObjects: Number(blobs.rows[0]?.n ?? 0),
  };
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualified(t: { schema: string; name: string }): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
}

/** Up to `limit` non-null values of each text column not already known, from the first rows of each table. */
export async function sampleTextColumns(client: pg.ClientBase, tables: SourceTable[], skip: (column: string) => boolean, limit = 50): Promise<ColumnSamples> {
  const samples: ColumnSamples = {};
  for (const table of tables) {
    const wanted = table.columns.filter((c) => c.textual && !skip(`${tableKey(table)}.${c.name}`));
    if (wanted.length === 0) continue;
    // Row values as text arrays: one query per table, whatever its width.
    const list = wanted.map((c) => `${quoteIdent(c.name)}::text`).join(', ');
    const result = await client.query<{ v: (string | null)[] }>({
      text: `select array[${list}] as v from ${qualified(table)} limit ${limit}`,
    });
    wanted.forEach((c, i) => {
      samples[`${tableKey(table)}.${c.name}`] = result.rows.map((r) => r.v[i]).filter((v): v is string => v !== null && v !== undefined);
    });
  }
  return samples;
}
