// The leak scan: every file of a leak folder (test/support/leak-registry.ts describes it) searched
// for every canary — the plaintext of each secret and credential the tests set — as written, JSON-
// and URL-escaped, and base64-encoded (at any alignment, standard and URL alphabets). Workflow
// histories (the temporal CLI's JSON) are searched after their payloads are decrypted with the
// tier's key ring and their data decoded from base64; every other file (SQLite catalogs, the
// Temporal server's database, process output, API responses) as raw bytes.
//
// A report names each hit by the canary's label and a hash of it, and where it was found, never
// by the value. One pass over every byte, whatever the number of canaries (Rabin–Karp on 8-byte
// windows), so a tier's worth of files takes seconds.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Payload } from '@temporalio/common';
import { readKeyRingFile } from '../../temporal/key-ring.js';
import { AesGcmPayloadCodec, ENCODING_ENCRYPTED } from '../../temporal/payload-codec.js';
import { CANARIES_FILE, KEY_RING_FILE } from '../support/leak-registry.js';

export interface Canary {
  /** Where it came from (never the value). */
  labels: string[];
  value: string;
}

export interface Hit {
  label: string;
  /** sha256 prefix of the value, to tell canaries with one label apart. */
  hash: string;
  /** How it was written where found: plaintext, JSON-escaped, base64, … */
  form: string;
  /** File (relative to the leak folder) and place in it: a history's payload path, a line, a byte offset. */
  where: string;
}

export interface ScanReport {
  canaries: number;
  registrations: number;
  /** Registrations by the tests (not by global set-up: the fleet's credentials, the payload keys). */
  byTests: number;
  /** Values set that were too short or uniform to search for (their labels). */
  unsearchable: string[];
  needles: number;
  histories: number;
  events: number;
  payloads: number;
  decrypted: number;
  files: { kind: FileKind; count: number; bytes: number; lines: number }[];
  bytes: number;
  hits: Hit[];
  /** Problems that make the scan incomplete (an undecryptable payload, an unreadable history). */
  errors: string[];
  /** Why the scan proves nothing (no canaries, no histories), when it does not. */
  vacuous: string[];
  ms: number;
}

type FileKind = 'history' | 'catalog' | 'temporal-db' | 'log' | 'response' | 'other';

const WINDOW = 8;
const BASE = 0x01000193;
let BASE_POW = 1;
for (let i = 0; i < WINDOW - 1; i++) BASE_POW = Math.imul(BASE_POW, BASE);
const FILTER_BITS = 22;

/** Many needles (each at least 8 bytes) in one pass over a haystack. */
export class MultiSearch {
  readonly #buckets = new Map<number, number[]>();
  readonly #filter = new Uint8Array(1 << (FILTER_BITS - 3));

  constructor(readonly needles: readonly Buffer[]) {
    needles.forEach((n, i) => {
      if (n.length < WINDOW) throw new Error(`needle ${i} is shorter than ${WINDOW} bytes`);
      const h = hashWindow(n, 0);
      const bucket = this.#buckets.get(h);
      if (bucket) bucket.push(i);
      else this.#buckets.set(h, [i]);
      const slot = h >>> (32 - FILTER_BITS);
      this.#filter[slot >>> 3]! |= 1 << (slot & 7);
    });
  }

  /** Every (needle, offset) found. */
  find(hay: Buffer): { needle: number; offset: number }[] {
    const found: { needle: number; offset: number }[] = [];
    if (hay.length < WINDOW || this.needles.length === 0) return found;
    const filter = this.#filter;
    let h = hashWindow(hay, 0);
    const last = hay.length - WINDOW;
    for (let i = 0; ; i++) {
      const slot = h >>> (32 - FILTER_BITS);
      if (filter[slot >>> 3]! & (1 << (slot & 7))) {
        for (const n of this.#buckets.get(h) ?? []) {
          const needle = this.needles[n]!;
          if (i + needle.length <= hay.length && needle.compare(hay, i, i + needle.length) === 0) found.push({ needle: n, offset: i });
        }
      }
      if (i === last) break;
      h = (Math.imul((h - Math.imul(hay[i]!, BASE_POW)) | 0, BASE) + hay[i + WINDOW]!) | 0;
    }
    return found;
  }
}

function hashWindow(b: Buffer, at: number): number {
  let h = 0;
  for (let k = 0; k < WINDOW; k++) h = (Math.imul(h, BASE) + b[at + k]!) | 0;
  return h;
}

/** The base64 text that encodes `value` wherever it sits in a longer encoded byte string: the characters that depend on its bytes only, for each of the three alignments. */
export function base64Cores(value: Buffer): string[] {
  const cores: string[] = [];
  for (const pad of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(pad), value]).toString('base64');
    const start = [0, 2, 3][pad]!;
    const end = Math.floor((pad + value.length) / 3) * 4;
    if (end - start >= WINDOW) cores.push(encoded.slice(start, end));
  }
  return cores;
}

/** The ways a value may be written where it leaks: each a needle. */
export function formsOf(value: string): { form: string; bytes: Buffer }[] {
  const forms = new Map<string, string>();
  const add = (form: string, text: string) => {
    if (!forms.has(text) && Buffer.byteLength(text) >= WINDOW) forms.set(text, form);
  };
  add('plaintext', value);
  const escaped = JSON.stringify(value).slice(1, -1);
  add('JSON-escaped', escaped);
  // A JSON body kept as a string inside a JSON record (responses/*.jsonl) is escaped twice.
  add('JSON-escaped twice', JSON.stringify(escaped).slice(1, -1));
  add('URL-encoded', encodeURIComponent(value));
  for (const core of base64Cores(Buffer.from(value, 'utf8'))) {
    add('base64', core);
    add('base64url', core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...forms].map(([text, form]) => ({ form, bytes: Buffer.from(text, 'utf8') }));
}

export const hashOf = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 10);

/** The canaries of a leak folder (deduplicated by value), and the labels of values that could not be canaries. */
export function readCanaries(dir: string): { canaries: Canary[]; registrations: number; byTests: number; unsearchable: string[] } {
  const file = join(dir, CANARIES_FILE);
  const byValue = new Map<string, Canary>();
  const unsearchable: string[] = [];
  let registrations = 0;
  let byTests = 0;
  if (!existsSync(file)) return { canaries: [], registrations, byTests, unsearchable };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    registrations++;
    const entry = JSON.parse(line) as { label: string; value?: string; unsearchable?: string; bySetup?: boolean };
    if (entry.value === undefined) {
      unsearchable.push(entry.label);
      continue;
    }
    if (!entry.bySetup) byTests++;
    const known = byValue.get(entry.value);
    if (known) {
      if (!known.labels.includes(entry.label)) known.labels.push(entry.label);
    } else byValue.set(entry.value, { labels: [entry.label], value: entry.value });
  }
  return { canaries: [...byValue.values()], registrations, byTests, unsearchable };
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const isPayload = (v: unknown): v is JsonPayload =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
  && typeof (v as JsonPayload).metadata === 'object' && typeof (v as JsonPayload).metadata?.encoding === 'string';

const fromB64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64');

/**
 * A history's haystacks: every payload's data (decrypted when encrypted, decoded from base64) and
 * metadata, each with its path, and the history's other fields (as JSON, payloads left out).
 */
export async function historyPieces(history: unknown, codec: AesGcmPayloadCodec | undefined): Promise<{ pieces: { where: string; bytes: Buffer }[]; events: number; payloads: number; decrypted: number; errors: string[] }> {
  const pieces: { where: string; bytes: Buffer }[] = [];
  const errors: string[] = [];
  let payloads = 0;
  let decrypted = 0;
  const payloadPiece = async (p: JsonPayload, path: string) => {
    payloads++;
    let payload: Payload = {
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, fromB64(v)])),
      data: fromB64(p.data),
    };
    const encoding = Buffer.from(payload.metadata!.encoding ?? []).toString('utf8');
    if (encoding === ENCODING_ENCRYPTED) {
      if (!codec) {
        errors.push(`${path}: an encrypted payload, and no key ring to decrypt it`);
        return;
      }
      try {
        [payload] = await codec.decode([payload]) as [Payload];
        decrypted++;
      } catch (error) {
        errors.push(`${path}: ${(error as Error).message}`);
        return;
      }
    }
    pieces.push({ where: `${path} (payload data${encoding === ENCODING_ENCRYPTED ? ', decrypted' : ''})`, bytes: Buffer.from(payload.data ?? []) });
    const metadata = Object.entries(payload.metadata ?? {}).map(([k, v]) => `${k}=${Buffer.from(v ?? []).toString('utf8')}`).join('\n');
    pieces.push({ where: `${path} (payload metadata)`, bytes: Buffer.from(metadata) });
  };
  const walk = async (v: unknown, path: string): Promise<unknown> => {
    if (isPayload(v)) {
      await payloadPiece(v, path);
      return '[payload]';
    }
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (const [i, x] of v.entries()) out.push(await walk(x, `${path}.${i}`));
      return out;
    }
    if (typeof v === 'object' && v !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = await walk(x, path ? `${path}.${k}` : k);
      return out;
    }
    return v;
  };
  const rest = await walk(history, '');
  pieces.push({ where: '(fields outside payloads)', bytes: Buffer.from(JSON.stringify(rest)) });
  const events = (history as { events?: unknown[] } | null)?.events?.length ?? 0;
  return { pieces, events, payloads, decrypted, errors };
}

function kindOf(path: string): FileKind {
  const top = path.split(sep)[0];
  if (top === 'histories' && path.endsWith('.json')) return 'history';
  if (top === 'catalogs') return 'catalog';
  if (top === 'temporal') return 'temporal-db';
  if (top === 'logs') return 'log';
  if (top === 'responses') return 'response';
  return 'other';
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(full);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

const countLines = (b: Buffer) => {
  let n = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  return n + (b.length && b[b.length - 1] !== 10 ? 1 : 0);
};

const lineAt = (b: Buffer, offset: number) => countLines(b.subarray(0, offset + 1));

/** Scans a leak folder: every file but control/. */
export async function scanLeakDir(dir: string, options: { requireHistories?: boolean; codec?: AesGcmPayloadCodec } = {}): Promise<ScanReport> {
  const started = Date.now();
  const { canaries, registrations, byTests, unsearchable } = readCanaries(dir);
  const needles: { canary: Canary; form: string }[] = [];
  const bytesOf: Buffer[] = [];
  for (const canary of canaries) {
    for (const { form, bytes } of formsOf(canary.value)) {
      needles.push({ canary, form });
      bytesOf.push(bytes);
    }
  }
  const search = new MultiSearch(bytesOf);
  const keyFile = join(dir, KEY_RING_FILE);
  const codec = options.codec ?? (existsSync(keyFile) ? new AesGcmPayloadCodec(readKeyRingFile(keyFile)) : undefined);

  const report: ScanReport = {
    canaries: canaries.length, registrations, byTests, unsearchable, needles: needles.length,
    histories: 0, events: 0, payloads: 0, decrypted: 0, files: [], bytes: 0, hits: [], errors: [], vacuous: [], ms: 0,
  };
  const seen = new Set<string>();
  const hit = (n: number, where: string) => {
    const { canary, form } = needles[n]!;
    const key = `${canary.value}\0${form}\0${where}`;
    if (seen.has(key)) return;
    seen.add(key);
    report.hits.push({ label: canary.labels.join(' | '), hash: hashOf(canary.value), form, where });
  };
  const totals = new Map<FileKind, { kind: FileKind; count: number; bytes: number; lines: number }>();

  for (const file of filesUnder(dir)) {
    const rel = relative(dir, file);
    if (rel.split(sep)[0] === 'control') continue;
    const kind = kindOf(rel);
    const bytes = readFileSync(file);
    const total = totals.get(kind) ?? { kind, count: 0, bytes: 0, lines: 0 };
    totals.set(kind, total);
    total.count++;
    total.bytes += bytes.length;
    report.bytes += bytes.length;
    if (kind === 'log' || kind === 'response') total.lines += countLines(bytes);
    if (kind === 'history') {
      let history: unknown;
      try {
        history = JSON.parse(bytes.toString('utf8'));
      } catch (error) {
        report.errors.push(`${rel}: not JSON (${(error as Error).message})`);
        continue;
      }
      report.histories++;
      const { pieces, events, payloads, decrypted, errors } = await historyPieces(history, codec);
      report.events += events;
      report.payloads += payloads;
      report.decrypted += decrypted;
      report.errors.push(...errors.map((e) => `${rel}: ${e}`));
      for (const piece of pieces) for (const { needle } of search.find(piece.bytes)) hit(needle, `${rel} ${piece.where}`);
      continue;
    }
    const text = kind === 'log' || kind === 'response';
    for (const { needle, offset } of search.find(bytes)) hit(needle, `${rel} ${text ? `line ${lineAt(bytes, offset)}` : `byte ${offset}`}`);
  }
  report.files = [...totals.values()];
  if (canaries.length === 0) report.vacuous.push('no canaries were registered');
  if (options.requireHistories && byTests === 0) report.vacuous.push('no test registered a secret');
  if (options.requireHistories && report.histories === 0) report.vacuous.push('no workflow histories were scanned');
  report.ms = Date.now() - started;
  return report;
}

export const passed = (r: ScanReport) => r.hits.length === 0 && r.errors.length === 0 && r.vacuous.length === 0;

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** The report as lines for a terminal: numbers, then every hit, error and reason it proves nothing. */
export function formatReport(r: ScanReport): string {
  const lines = [
    `canaries: ${r.canaries} secrets and credentials (${r.registrations} registrations, ${r.byTests} by the tests), searched as ${r.needles} needles (plaintext, JSON- and URL-escaped, base64)`,
    `histories: ${r.histories} workflow histories, ${r.events} events, ${r.payloads} payloads (${r.decrypted} decrypted)`,
    ...r.files.map((f) => `${f.kind} files: ${f.count}, ${mb(f.bytes)}${f.lines ? `, ${f.lines} lines` : ''}`),
    `scanned ${mb(r.bytes)} in ${(r.ms / 1000).toFixed(1)}s`,
  ];
  if (r.unsearchable.length) {
    const labels = [...new Set(r.unsearchable)];
    lines.push(`not searchable (too short or uniform, not canaries): ${r.unsearchable.length} values: ${labels.slice(0, 8).join('; ')}${labels.length > 8 ? `; … ${labels.length - 8} more labels` : ''}`);
  }
  lines.push(`hits: ${r.hits.length}`);
  for (const h of r.hits.slice(0, 100)) lines.push(`  HIT ${h.label} [sha256 ${h.hash}] as ${h.form} in ${h.where}`);
  if (r.hits.length > 100) lines.push(`  … ${r.hits.length - 100} more hits`);
  for (const e of r.errors.slice(0, 50)) lines.push(`  ERROR ${e}`);
  for (const v of r.vacuous) lines.push(`  VACUOUS ${v}: the scan proves nothing`);
  lines.push(passed(r) ? 'leak scan passed: zero hits' : 'leak scan FAILED');
  return lines.map((l) => `[leak-scan] ${l}`).join('\n');
}
