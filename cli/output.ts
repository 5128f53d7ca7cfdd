// Output: kubectl-like tables by default, `-o json` or `-o yaml` for scripts.
import { stringify } from 'yaml';
import { CliError, EXIT } from './exit-codes.js';

export const FORMATS = ['table', 'json', 'yaml'] as const;
export type Format = (typeof FORMATS)[number];

export function parseFormat(value: string | undefined): Format {
  const format = value ?? 'table';
  if (!(FORMATS as readonly string[]).includes(format)) throw new CliError(`unknown output format "${format}" (table, json, yaml)`, EXIT.usage);
  return format as Format;
}

export interface Column<T> {
  header: string;
  value(row: T): string | number | undefined;
}

/** Columns padded to their widest cell, upper-case headers, three spaces apart. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = [columns.map((c) => c.header.toUpperCase()), ...rows.map((r) => columns.map((c) => String(c.value(r) ?? '')))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('   ').trimEnd()).join('\n');
}

export function render<T>(value: unknown, format: Format, rows: readonly T[], columns: readonly Column<T>[]): string {
  if (format === 'json') return JSON.stringify(value, null, 2);
  if (format === 'yaml') return stringify(value).trimEnd();
  return rows.length === 0 ? 'No resources found.' : table(rows, columns);
}

/** "3m", "2h", "5d" since an ISO time: the AGE column. */
export function age(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

export function shortRev(revision: string | undefined): string {
  return revision ? revision.replace(/^sha256:/, '').slice(0, 12) : '';
}
