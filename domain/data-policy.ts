// What a clone may copy of an environment's database, and how: the data mode, and the masking
// rules declared next to the database in the spec (table → column → transformer). Pure: the
// engine (providers/postgres) describes the source schema and samples, this file judges them.
//
// Fail closed (Replibyte's issue #269 is a rule that silently did not apply): a rule naming a
// table or column that does not exist, or one the column cannot hold, refuses the copy before
// anything is written; personal-looking columns without a rule are reported, and refused when strict.
import { z } from 'zod';

export const DATA_MODES = ['none', 'schema', 'snapshot', 'scrubbed'] as const;
export const DataMode = z.enum(DATA_MODES);
export type DataMode = z.infer<typeof DataMode>;

export const TRANSFORMER_NAMES = ['email', 'name', 'phone', 'redact', 'hash', 'null', 'keep'] as const;
export const Transformer = z.union([
  z.enum(TRANSFORMER_NAMES),
  z.strictObject({ fixed: z.string() }),
]);
export type Transformer = z.infer<typeof Transformer>;

/** `schema.table` or `table` (schema public). */
const TableName = z.string().min(1).max(127).regex(/^[^.\s]+(\.[^.\s]+)?$/, 'must be "table" or "schema.table"');
const ColumnName = z.string().min(1).max(63);

export const DataPolicy = z.strictObject({
  tables: z.record(TableName, z.record(ColumnName, Transformer)),
});
export type DataPolicy = z.infer<typeof DataPolicy>;

// --- the source schema, as the engine describes it -------------------------------------------

export interface ColumnDescription {
  name: string;
  /** format_type(): "character varying(120)", "text", "integer", "my_domain"… */
  type: string;
  /** The column holds strings (its type, or its domain's base type, is in PostgreSQL's string category). */
  textual: boolean;
  /** Characters, for varchar(n)/char(n) (also through a domain). */
  maxLength?: number;
  notNull: boolean;
  /** Part of a unique index or primary key. */
  unique: boolean;
}

export interface ForeignKeyDescription {
  /** Qualified names: "public.orders". */
  table: string;
  columns: string[];
  references: { table: string; columns: string[] };
}

export interface TableDescription {
  schema: string;
  name: string;
  columns: ColumnDescription[];
}

export interface SchemaDescription {
  tables: TableDescription[];
  foreignKeys: ForeignKeyDescription[];
}

/** Sampled non-null values per qualified column ("public.customers.email"), text form. */
export type ColumnSamples = Record<string, string[]>;

export interface PolicyProblem {
  /** Where in the policy: ["tables", "public.orders", "email"]. */
  path: string[];
  message: string;
}

export type PersonalKind = 'email' | 'phone' | 'name' | 'address' | 'birth-date' | 'identifier' | 'ip-address';

export interface PersonalColumn {
  /** "public.customers.email" */
  column: string;
  kind: PersonalKind;
  /** How it was found: by its name or by what its sampled values look like. */
  by: 'name' | 'content';
}

/** "orders" → "public.orders"; "audit.log" stays. */
export function qualifiedTable(name: string): string {
  return name.includes('.') ? name : `public.${name}`;
}

export function tableKey(t: { schema: string; name: string }): string {
  return `${t.schema}.${t.name}`;
}

/** The rules for each qualified table, with the policy's own spelling kept for problem paths. */
export function rulesByTable(policy: DataPolicy | undefined): Map<string, { as: string; columns: Record<string, Transformer> }> {
  const out = new Map<string, { as: string; columns: Record<string, Transformer> }>();
  for (const [as, columns] of Object.entries(policy?.tables ?? {})) out.set(qualifiedTable(as), { as, columns });
  return out;
}

// --- transformer outputs: what each can hold -------------------------------------------------

/**
 * Longest value each transformer writes (characters), so a varchar(n) too short for it is
 * refused up front instead of truncated: truncation would merge distinct values (breaking
 * unique constraints) or differ between two columns of one value (breaking joins).
 * providers/postgres/masking.ts produces them and its tests hold it to these bounds.
 */
export const TRANSFORMER_MAX_LENGTH = {
  email: 48,
  name: 40,
  phone: 19,
  redact: 10,
  hash: 64,
} as const;

export const REDACTED = '[redacted]';

/** A transformer as a stable string, for messages and for comparing the two ends of a foreign key. */
export function transformerLabel(t: Transformer): string {
  return typeof t === 'string' ? t : 'fixed';
}

function sameTransformer(a: Transformer, b: Transformer): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.fixed === b.fixed;
}

/** Problems of one rule against its column. */
function ruleProblems(t: Transformer, column: ColumnDescription, path: string[]): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const label = transformerLabel(t);
  if (t === 'keep') return problems;
  if (t === 'null') {
    if (column.notNull) problems.push({ path, message: `"null" cannot apply: column is NOT NULL` });
    return problems;
  }
  if (typeof t !== 'string') {
    if (column.unique) problems.push({ path, message: 'a fixed value cannot apply: column is part of a unique constraint (every row would collide)' });
    const length = [...t.fixed].length;
    if (column.maxLength !== undefined && length > column.maxLength) {
      problems.push({ path, message: `fixed value is ${length} characters; column ${column.type} holds ${column.maxLength}` });
    }
    return problems;
  }
  if (!column.textual) {
    problems.push({ path, message: `"${label}" writes text; column type ${column.type} is not a string type (use "null", "keep" or a fixed value)` });
    return problems;
  }
  if (t === 'redact' && column.unique) {
    problems.push({ path, message: '"redact" cannot apply: column is part of a unique constraint (every row would collide); use "hash", "email", "name" or "phone"' });
  }
  const needs = TRANSFORMER_MAX_LENGTH[t];
  if (column.maxLength !== undefined && column.maxLength < needs) {
    problems.push({ path, message: `"${label}" writes up to ${needs} characters; column ${column.type} holds ${column.maxLength} (widen it, or use another transformer)` });
  }
  return problems;
}

/**
 * Every problem of `policy` against the described schema: a missing table or column, a rule the
 * column cannot hold, or the two ends of a foreign key masked differently (the copy's
 * constraints would then fail, or worse, join the wrong rows).
 */
export function policyProblems(policy: DataPolicy, schema: SchemaDescription): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const tables = new Map(schema.tables.map((t) => [tableKey(t), t]));
  const rules = rulesByTable(policy);
  for (const [key, { as, columns }] of rules) {
    const table = tables.get(key);
    if (!table) {
      problems.push({ path: ['tables', as], message: `table "${key}" does not exist in the source database` });
      continue;
    }
    const byName = new Map(table.columns.map((c) => [c.name, c]));
    for (const [name, t] of Object.entries(columns)) {
      const column = byName.get(name);
      const path = ['tables', as, name];
      if (!column) problems.push({ path, message: `column "${name}" does not exist in table "${key}"` });
      else problems.push(...ruleProblems(t, column, path));
    }
  }
  const ruleOf = (table: string, column: string): Transformer => rules.get(table)?.columns[column] ?? 'keep';
  for (const fk of schema.foreignKeys) {
    fk.columns.forEach((column, i) => {
      const parentColumn = fk.references.columns[i]!;
      const child = ruleOf(fk.table, column);
      const parent = ruleOf(fk.references.table, parentColumn);
      if (child === 'null' || sameTransformer(child, parent)) return;
      problems.push({
        path: ['tables', rules.get(fk.table)?.as ?? fk.table, column],
        message: `${fk.table}.${column} references ${fk.references.table}.${parentColumn}: both need the same rule ` +
          `(now "${transformerLabel(child)}" and "${transformerLabel(parent)}"), or "null" on ${fk.table}.${column}`,
      });
    });
  }
  return problems;
}

// --- personal-looking columns ----------------------------------------------------------------

/** Words of an identifier: "customerEmail" → customer, email; "e_mail" → e, mail. */
function words(identifier: string): string[] {
  return identifier.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
}

/** Names around "name" that are not a person's. */
const NOT_A_PERSON = new Set([
  'product', 'file', 'host', 'hostname', 'table', 'schema', 'column', 'domain', 'company', 'brand', 'item', 'sku', 'app',
  'application', 'service', 'key', 'type', 'kind', 'category', 'tag', 'role', 'group', 'team', 'event', 'queue', 'topic',
  'bucket', 'class', 'model', 'plan', 'feature', 'job', 'task', 'project', 'org', 'organisation', 'organization', 'store',
  'shop', 'city', 'country', 'street', 'region', 'device', 'package', 'module', 'field', 'attribute', 'metric', 'index',
]);

const NAME_WORDS: [PersonalKind, RegExp][] = [
  ['email', /^(e?mail|emailaddress)$/],
  ['ip-address', /^(ip|ipaddress|ipaddr|ipv4|ipv6)$/],
  ['phone', /^(phone|phonenumber|mobile|cell|cellphone|tel|telephone|fax|msisdn)$/],
  ['name', /^(firstname|lastname|fullname|surname|forename|givenname|familyname|maidenname|middlename|username|nickname)$/],
  ['address', /^(address|addr|street|city|zip|zipcode|postcode|postalcode|postal)$/],
  ['birth-date', /^(birth|birthday|birthdate|dob|dateofbirth)$/],
  ['identifier', /^(ssn|passport|iban|nino|taxid|nationalid|socialsecurity|driverslicense|licence|license)$/],
];

/** What a column's name says about it, if anything personal. */
export function personalByName(column: string): PersonalKind | undefined {
  const w = words(column);
  // Joined neighbours too: e_mail → email, first_name → firstname, ip_address → ipaddress.
  const candidates = [...w, ...w.slice(1).map((x, i) => `${w[i]}${x}`)];
  // An "…address" that is an e-mail or IP address is that, not a postal one.
  for (const [kind, pattern] of NAME_WORDS) if (candidates.some((c) => pattern.test(c))) return kind;
  if (w.includes('name') && !w.some((x) => NOT_A_PERSON.has(x))) return 'name';
  return undefined;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/;
const PHONE = /^\+?[0-9][0-9 ().\-/]{5,22}[0-9]$/;

/** "+44 20 7946 0958", "(555) 010-4477", "+15550104477": phone-shaped; a bare 7-digit count is not. */
function looksLikePhone(value: string): boolean {
  if (!PHONE.test(value)) return false;
  const digits = value.replace(/[^0-9]/g, '').length;
  if (digits < 7 || digits > 15) return false;
  return value.startsWith('+') || /[ ().\-/]/.test(value) || digits >= 10;
}

/** What most of a column's sampled values look like, if personal. */
export function personalByContent(values: string[]): PersonalKind | undefined {
  const present = values.filter((v) => v.trim() !== '');
  if (present.length === 0) return undefined;
  const share = (test: (v: string) => boolean) => present.filter((v) => test(v.trim())).length / present.length;
  if (share((v) => EMAIL.test(v)) >= 0.5) return 'email';
  if (share(looksLikePhone) >= 0.5) return 'phone';
  return undefined;
}

/** Personal-looking columns, by name or sampled content, that the policy has no rule for. */
export function unruledPersonalColumns(policy: DataPolicy | undefined, schema: SchemaDescription, samples: ColumnSamples): PersonalColumn[] {
  const rules = rulesByTable(policy);
  const found: PersonalColumn[] = [];
  for (const table of schema.tables) {
    const key = tableKey(table);
    const ruled = rules.get(key)?.columns ?? {};
    for (const column of table.columns) {
      if (Object.hasOwn(ruled, column.name)) continue;
      const qualified = `${key}.${column.name}`;
      const byName = personalByName(column.name);
      if (byName) {
        found.push({ column: qualified, kind: byName, by: 'name' });
        continue;
      }
      const byContent = column.textual ? personalByContent(samples[qualified] ?? []) : undefined;
      if (byContent) found.push({ column: qualified, kind: byContent, by: 'content' });
    }
  }
  return found;
}

export interface DataPolicyVerdict {
  /** Why the copy may not run; empty when it may. */
  refused: PolicyProblem[];
  /** Personal-looking columns copied as they are (reported; a refusal too when strict). */
  unruledPersonal: PersonalColumn[];
}

/**
 * The one verdict on a `scrubbed` copy, before anything is copied. Without a policy there is
 * nothing to scrub with, so the copy is refused: scrubbed must never silently mean raw.
 */
export function dataPolicyVerdict(input: {
  policy: DataPolicy | undefined;
  schema: SchemaDescription;
  samples: ColumnSamples;
  strict: boolean;
}): DataPolicyVerdict {
  const { policy, schema, samples, strict } = input;
  const refused: PolicyProblem[] = [];
  if (!policy) refused.push({ path: [], message: 'the database declares no dataPolicy: a scrubbed copy needs one (rules per table and column)' });
  else refused.push(...policyProblems(policy, schema));
  const unruledPersonal = unruledPersonalColumns(policy, schema, samples);
  if (strict) {
    for (const p of unruledPersonal) {
      const [schemaName, table, column] = splitColumn(p.column);
      refused.push({
        path: ['tables', `${schemaName}.${table}`, column],
        message: `column ${p.column} looks personal (${p.kind}, by its ${p.by}) and has no rule; strict data policies need one ("keep" if it is not personal)`,
      });
    }
  }
  return { refused, unruledPersonal };
}

function splitColumn(qualified: string): [string, string, string] {
  const [schemaName = '', table = '', ...rest] = qualified.split('.');
  return [schemaName, table, rest.join('.')];
}

/** One line per problem, for a failure message (names only, never values). */
export function describeProblems(problems: PolicyProblem[]): string {
  return problems.map((p) => (p.path.length > 0 ? `${p.path.join('.')}: ${p.message}` : p.message)).join('; ');
}
