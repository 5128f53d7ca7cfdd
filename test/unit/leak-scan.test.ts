// The leak scan (test/leak-scan/scan.ts) finds a registered secret wherever and however the
// integration tier could leave it, names it without showing it, and refuses to pass when it
// proves nothing. Each leak here is written by hand, in the form a real one would take.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PayloadKeyRing, writeKeyRingFile } from '../../temporal/key-ring.js';
import { AesGcmPayloadCodec } from '../../temporal/payload-codec.js';
import { CANARIES_FILE, KEY_RING_FILE, registerSecret, UnsearchableSecretError } from '../support/leak-registry.js';
import { formatReport, MultiSearch, passed, scanLeakDir } from '../leak-scan/scan.js';

const SECRET = 'sk_live_51HbQ7cK2uVwXy9';
const OTHER = 'orders-db-password-7f3a9c';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function leakFolder(canaries: string[]): string {
  dir = mkdtempSync(join(tmpdir(), 'leak-scan-test-'));
  mkdirSync(join(dir, 'control'), { recursive: true });
  writeFileSync(join(dir, CANARIES_FILE), canaries.map((value, i) => `${JSON.stringify({ label: `canary ${i}`, value })}\n`).join(''));
  return dir;
}

function put(relative: string, content: string | Buffer) {
  mkdirSync(join(dir, relative, '..'), { recursive: true });
  writeFileSync(join(dir, relative), content);
}

/** A history as `temporal workflow show -o json --no-json-shorthand-payloads` writes it. */
function history(payload: { metadata: Record<string, Uint8Array>; data: Uint8Array }) {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  return JSON.stringify({
    events: [{
      eventId: '1',
      eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
      workflowExecutionStartedEventAttributes: {
        input: { payloads: [{ metadata: Object.fromEntries(Object.entries(payload.metadata).map(([k, v]) => [k, b64(v)])), data: b64(payload.data) }] },
      },
    }],
  });
}

const jsonPayload = (value: unknown) => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value)) });

describe('the leak scan', () => {
  it('finds a secret written as plaintext in a process log, and names the file and line, never the value', async () => {
    leakFolder([SECRET, OTHER]);
    put('logs/worker-1.log', `starting\nconnected with ${SECRET}\n`);
    const report = await scanLeakDir(dir);
    expect(report.hits).toHaveLength(1);
    expect(report.hits[0]).toMatchObject({ label: 'canary 0', form: 'plaintext', where: 'logs/worker-1.log line 2' });
    expect(passed(report)).toBe(false);
    expect(formatReport(report)).not.toContain(SECRET);
    expect(formatReport(report)).toContain('leak scan FAILED');
  });

  it('finds a secret JSON-escaped in a log line, escaped twice in a recorded API response, and URL-encoded', async () => {
    const quoted = 'pa"ss\\word/with?odd&chars';
    leakFolder([quoted]);
    put('logs/api.log', `${JSON.stringify({ level: 30, msg: 'x', value: quoted })}\n`);
    // As test/support/leak-registry.ts records a response: the body, a JSON string, inside a JSON line.
    put('responses/api-1.jsonl', `${JSON.stringify({ status: 200, body: JSON.stringify({ value: quoted }) })}\n`);
    put('logs/cli.log', `GET /v1/x?q=${encodeURIComponent(quoted)}\n`);
    const report = await scanLeakDir(dir);
    expect(report.hits.map((h) => [h.form, h.where]).sort()).toEqual([
      ['JSON-escaped twice', 'responses/api-1.jsonl line 1'],
      ['JSON-escaped', 'logs/api.log line 1'],
      ['URL-encoded', 'logs/cli.log line 1'],
    ]);
  });

  it('finds a secret base64-encoded inside a longer value, at each of the three alignments', async () => {
    leakFolder([SECRET]);
    for (const prefix of ['', 'a', 'ab']) {
      put(`logs/b64-${prefix.length}.log`, `token: ${Buffer.from(`${prefix}user:${SECRET}:tail`).toString('base64')}\n`);
    }
    const report = await scanLeakDir(dir);
    expect(report.hits.map((h) => h.where).sort()).toEqual(['logs/b64-0.log line 1', 'logs/b64-1.log line 1', 'logs/b64-2.log line 1']);
    expect(new Set(report.hits.map((h) => h.form))).toEqual(new Set(['base64']));
  });

  it('finds a secret in a SQLite file as raw bytes, with the byte offset', async () => {
    leakFolder([OTHER]);
    put('catalogs/c1/catalog.db', Buffer.concat([Buffer.alloc(100, 7), Buffer.from(OTHER), Buffer.alloc(10)]));
    const report = await scanLeakDir(dir);
    expect(report.hits).toEqual([expect.objectContaining({ form: 'plaintext', where: 'catalogs/c1/catalog.db byte 100' })]);
  });

  it('decrypts a history\'s encrypted payloads with the tier\'s key ring and finds a secret inside', async () => {
    leakFolder([SECRET]);
    const ring = PayloadKeyRing.generate();
    writeKeyRingFile(join(dir, KEY_RING_FILE), ring);
    const [encrypted] = await new AesGcmPayloadCodec(ring).encode([jsonPayload({ stripeKey: SECRET })]);
    // Encrypted, the secret is nowhere in the file's bytes: only decryption can find it.
    const text = history(encrypted as { metadata: Record<string, Uint8Array>; data: Uint8Array });
    expect(text).not.toContain(SECRET);
    put('histories/deploy-x~run.json', text);
    const report = await scanLeakDir(dir);
    expect(report).toMatchObject({ histories: 1, events: 1, payloads: 1, decrypted: 1 });
    expect(report.hits).toEqual([expect.objectContaining({ form: 'plaintext', where: expect.stringContaining('histories/deploy-x~run.json events.0.') })]);
    expect(report.hits[0]!.where).toContain('decrypted');
  });

  it('passes a clean folder with a clean encrypted history, and counts what it read', async () => {
    leakFolder([SECRET, OTHER]);
    const ring = PayloadKeyRing.generate();
    writeKeyRingFile(join(dir, KEY_RING_FILE), ring);
    const [encrypted] = await new AesGcmPayloadCodec(ring).encode([jsonPayload({ environment: 'shop-prod', secrets: ['STRIPE_KEY'] })]);
    put('histories/h~1.json', history(encrypted as { metadata: Record<string, Uint8Array>; data: Uint8Array }));
    put('logs/worker.log', 'all good\n');
    const report = await scanLeakDir(dir, { requireHistories: true });
    expect(report.hits).toEqual([]);
    expect(report.errors).toEqual([]);
    expect(report).toMatchObject({ canaries: 2, histories: 1, decrypted: 1 });
    expect(passed(report)).toBe(true);
    expect(formatReport(report)).toContain('leak scan passed: zero hits');
  });

  it('fails when a history holds an encrypted payload it cannot decrypt (the scan would be incomplete)', async () => {
    leakFolder([SECRET]);
    writeKeyRingFile(join(dir, KEY_RING_FILE), PayloadKeyRing.generate());
    const [encrypted] = await new AesGcmPayloadCodec(PayloadKeyRing.generate()).encode([jsonPayload({ x: 1 })]);
    put('histories/h~1.json', history(encrypted as { metadata: Record<string, Uint8Array>; data: Uint8Array }));
    const report = await scanLeakDir(dir);
    expect(report.errors).toHaveLength(1);
    expect(passed(report)).toBe(false);
  });

  it('fails as vacuous with no canaries, or (when histories are required) with no history', async () => {
    leakFolder([]);
    put('logs/worker.log', 'nothing\n');
    const empty = await scanLeakDir(dir);
    expect(empty.vacuous).toEqual(['no canaries were registered']);
    expect(passed(empty)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
    leakFolder([SECRET]);
    const noHistories = await scanLeakDir(dir, { requireHistories: true });
    expect(noHistories.vacuous).toContain('no workflow histories were scanned');
    expect(passed(noHistories)).toBe(false);
  });

  it('never scans its own control files (where the canaries are kept)', async () => {
    leakFolder([SECRET]);
    const report = await scanLeakDir(dir);
    expect(report.hits).toEqual([]);
  });

  it('refuses to register a value too short or too uniform to search for, naming the label and not the value', () => {
    expect(() => registerSecret('tiny password', 'abc12')).toThrow(UnsearchableSecretError);
    expect(() => registerSecret('uniform', 'aaaaaaaaaaaa')).toThrow(/uniform.*fewer than 5 distinct/);
    try {
      registerSecret('digits', '1234567890');
    } catch (error) {
      expect((error as Error).message).not.toContain('1234567890');
    }
  });

  it('finds many needles in one pass, at the right offsets, and only exact matches', () => {
    const needles = ['alpha-123456', 'beta-abcdefgh', 'gamma-zzz-000'].map((s) => Buffer.from(s));
    const hay = Buffer.from('xxalpha-123456yy beta-abcdefg gamma-zzz-000 alpha-123456');
    expect(new MultiSearch(needles).find(hay)).toEqual([
      { needle: 0, offset: 2 },
      { needle: 2, offset: 30 },
      { needle: 0, offset: 44 },
    ]);
  });
});
