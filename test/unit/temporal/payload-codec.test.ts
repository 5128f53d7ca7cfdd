// The payload codec and its key ring. Expected values are written out or computed here by hand
// (the protobuf bytes of a payload, the AES-GCM layout), not taken from the code under test.
import { createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Payload } from '@temporalio/common';
import { decodeFromPayloadsAtIndex, encodeToPayload } from '@temporalio/common/lib/internal-non-workflow/codec-helpers.js';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/data-converter-helpers.js';
import { afterAll, describe, expect, it } from 'vitest';
import { dataConverterFromEnv, flotillaDataConverter } from '../../../temporal/data-converter.js';
import { keyRingFromEnv, PayloadKeyRing, PayloadKeysError, readKeyRingFile } from '../../../temporal/key-ring.js';
import { AesGcmPayloadCodec, PayloadDecryptionError } from '../../../temporal/payload-codec.js';
import { runPayloadKeysCommand } from '../../../temporal/payload-keys.js';

const KEY_A = Buffer.alloc(32, 0xa1);
const KEY_B = Buffer.alloc(32, 0xb2);
const ring = (active: string, keys: Record<string, Buffer>) =>
  PayloadKeyRing.fromJson({ active, keys: Object.fromEntries(Object.entries(keys).map(([id, k]) => [id, k.toString('base64')])) });

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
const metadataText = (p: Payload) => Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, text(v)]));
/** What the SDK's JSON converter makes of a value: encoding json/plain, the JSON as data. */
const jsonPayload = (json: string): Payload => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(json) });

const SECRETLESS_INPUT = '{"environment":"shop-prod-eu","requestedBy":"ana"}';

describe('AesGcmPayloadCodec', () => {
  const codec = new AesGcmPayloadCodec(ring('k-a', { 'k-a': KEY_A }));

  it('round-trips payloads: metadata and data come back exactly', async () => {
    const originals = [jsonPayload(SECRETLESS_INPUT), { metadata: { encoding: Buffer.from('binary/null') } }, { metadata: { encoding: Buffer.from('binary/plain') }, data: randomBytes(300) }];
    const decoded = await codec.decode(await codec.encode(originals));
    expect(decoded.map(metadataText)).toEqual([{ encoding: 'json/plain' }, { encoding: 'binary/null' }, { encoding: 'binary/plain' }]);
    expect(decoded.map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('hex'))).toEqual(originals.map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('hex')));
  });

  it('writes encoding binary/encrypted and the key id, and nothing else, in the metadata', async () => {
    const [encrypted] = await codec.encode([jsonPayload(SECRETLESS_INPUT)]);
    expect(metadataText(encrypted!)).toEqual({ encoding: 'binary/encrypted', 'encryption-key-id': 'k-a' });
  });

  it('stores IV ‖ AES-256-GCM(protobuf Payload) ‖ tag, the key id as additional data (decrypted here by hand)', async () => {
    const [encrypted] = await codec.encode([jsonPayload('"x"')]);
    const data = Buffer.from(encrypted!.data!);
    // Payload{metadata: {"encoding": "json/plain"}, data: "\"x\""} in protobuf, by hand:
    // field 1 (map entry, 22 bytes: key "encoding", value "json/plain"), then field 2 (3 bytes).
    const expected = Buffer.concat([
      Buffer.from([0x0a, 22, 0x0a, 8]), Buffer.from('encoding'), Buffer.from([0x12, 10]), Buffer.from('json/plain'),
      Buffer.from([0x12, 3]), Buffer.from('"x"'),
    ]);
    expect(data.length).toBe(12 + expected.length + 16);
    const decipher = createDecipheriv('aes-256-gcm', KEY_A, data.subarray(0, 12));
    decipher.setAAD(Buffer.from('flotilla-payload/v1\0k-a'));
    decipher.setAuthTag(data.subarray(data.length - 16));
    expect(Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]).toString('hex')).toBe(expected.toString('hex'));
  });

  it('uses a fresh IV per payload: the same payload twice gives two different ciphertexts', async () => {
    const [a, b] = await codec.encode([jsonPayload(SECRETLESS_INPUT), jsonPayload(SECRETLESS_INPUT)]);
    expect(Buffer.from(a!.data!).subarray(0, 12).equals(Buffer.from(b!.data!).subarray(0, 12))).toBe(false);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('leaves no plaintext in the ciphertext (neither the value, its encoding, nor base64 of either)', async () => {
    const [encrypted] = await codec.encode([jsonPayload(SECRETLESS_INPUT)]);
    const stored = Buffer.from(encrypted!.data!);
    for (const needle of ['shop-prod-eu', 'json/plain', 'requestedBy']) {
      expect(stored.includes(Buffer.from(needle))).toBe(false);
      expect(stored.toString('base64')).not.toContain(Buffer.from(needle).toString('base64').slice(0, 12));
    }
  });

  it('passes payloads that are not binary/encrypted through untouched (old histories, recorded replays)', async () => {
    const plain = [jsonPayload(SECRETLESS_INPUT), { metadata: { encoding: Buffer.from('binary/null') } }, { data: Buffer.from('no metadata') }];
    const decoded = await codec.decode(plain);
    expect(decoded).toHaveLength(3);
    decoded.forEach((p, i) => expect(p).toBe(plain[i]));
  });

  it('refuses a payload under an unknown key, naming the key id and the setting', async () => {
    const [fromB] = await new AesGcmPayloadCodec(ring('k-b', { 'k-b': KEY_B })).encode([jsonPayload(SECRETLESS_INPUT)]);
    const error = await codec.decode([fromB!]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadDecryptionError);
    expect((error as PayloadDecryptionError).keyId).toBe('k-b');
    expect((error as Error).message).toMatch(/key "k-b", which is not in this process's payload key ring \(it has k-a\); add that key to FLOTILLA_PAYLOAD_KEYS/);
  });

  it.each(['toString', '__proto__', 'constructor'])('treats the key id %s as unknown (no prototype lookups)', async (id) => {
    const [encrypted] = await codec.encode([jsonPayload('1')]);
    const forged = { ...encrypted!, metadata: { ...encrypted!.metadata, 'encryption-key-id': Buffer.from(id) } };
    await expect(codec.decode([forged])).rejects.toThrow(`key "${id}", which is not in`);
  });

  it('refuses an encrypted payload that names no key', async () => {
    const [encrypted] = await codec.encode([jsonPayload('1')]);
    await expect(codec.decode([{ metadata: { encoding: encrypted!.metadata!.encoding! }, data: encrypted!.data! }])).rejects.toThrow(/names no key/);
  });

  it.each([
    ['the IV', (d: Buffer) => void (d[0]! ^= 1)],
    ['the ciphertext', (d: Buffer) => void (d[14]! ^= 1)],
    ['the tag', (d: Buffer) => void (d[d.length - 1]! ^= 1)],
  ])('fails when %s is altered (GCM authentication)', async (_what, alter) => {
    const [encrypted] = await codec.encode([jsonPayload(SECRETLESS_INPUT)]);
    const data = Buffer.from(encrypted!.data!);
    alter(data);
    const error = await codec.decode([{ ...encrypted!, data }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadDecryptionError);
    expect((error as Error).message).toBe('payload encrypted with key "k-a" failed its integrity check (altered, or a different key under that id)');
  });

  it('fails when the key id is swapped for another key of the ring, and when the data is truncated', async () => {
    const both = new AesGcmPayloadCodec(ring('k-a', { 'k-a': KEY_A, 'k-b': KEY_B }));
    const [encrypted] = await both.encode([jsonPayload(SECRETLESS_INPUT)]);
    await expect(both.decode([{ ...encrypted!, metadata: { ...encrypted!.metadata, 'encryption-key-id': Buffer.from('k-b') } }])).rejects.toThrow(/key "k-b" failed its integrity check/);
    await expect(both.decode([{ ...encrypted!, data: Buffer.from(encrypted!.data!).subarray(0, 20) }])).rejects.toThrow(/key "k-a" is truncated \(20 bytes\)/);
  });

  it('fails with a key of the same id but other bytes', async () => {
    const [encrypted] = await new AesGcmPayloadCodec(ring('k-a', { 'k-a': KEY_B })).encode([jsonPayload('1')]);
    await expect(codec.decode([encrypted!])).rejects.toThrow(/key "k-a" failed its integrity check/);
  });
});

describe('rotation', () => {
  it('after a new key becomes active, new payloads use it and payloads under the old key still decode', async () => {
    const before = new AesGcmPayloadCodec(ring('k-old', { 'k-old': KEY_A }));
    const [old] = await before.encode([jsonPayload('"written before"')]);
    const rotated = new AesGcmPayloadCodec(PayloadKeyRing.fromJson(before.keys.toJSON()).withNewKey({ id: 'k-new', activate: true }));
    const [fresh] = await rotated.encode([jsonPayload('"written after"')]);
    expect(metadataText(fresh!)['encryption-key-id']).toBe('k-new');
    expect((await rotated.decode([old!, fresh!])).map((p) => text(p.data))).toEqual(['"written before"', '"written after"']);
    // A process that has not got the new key yet cannot read the new payloads: roll keys out before activating them.
    await expect(before.decode([fresh!])).rejects.toThrow(/key "k-new", which is not in/);
  });

  it('add (decrypt only), then activate: in between, the old key still encrypts and the new one already decrypts', async () => {
    const added = ring('k-old', { 'k-old': KEY_A }).withNewKey({ id: 'k-next' });
    expect(added.active).toBe('k-old');
    const activated = added.withActive('k-next');
    const [fromActivated] = await new AesGcmPayloadCodec(activated).encode([jsonPayload('1')]);
    expect(text((await new AesGcmPayloadCodec(added).decode([fromActivated!]))[0]!.data)).toBe('1');
    expect(() => activated.without('k-next')).toThrow(/is the active key/);
    expect(activated.without('k-old').ids).toEqual(['k-next']);
  });

  describe('the payload-keys command over a key-ring file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-payload-keys-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('init makes a 0600 file of one key; rotate adds one and activates it; old payloads still decode from the file', async () => {
      const file = join(dir, 'keys.json');
      expect(runPayloadKeysCommand(['init', '--file', file, '--id', 'k-first'])).toBe(`created ${file} with active key k-first`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const stored = JSON.parse(readFileSync(file, 'utf8')) as { active: string; keys: Record<string, string> };
      expect(stored.active).toBe('k-first');
      expect(Buffer.from(stored.keys['k-first']!, 'base64')).toHaveLength(32);
      const [old] = await new AesGcmPayloadCodec(readKeyRingFile(file)).encode([jsonPayload('"before rotation"')]);

      expect(runPayloadKeysCommand(['rotate', '--id', 'k-second'], { FLOTILLA_PAYLOAD_KEYS: file })).toMatch(/^added key k-second and made it active/);
      expect(runPayloadKeysCommand(['list', '--file', file])).toBe('k-first\nk-second (active)');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const after = new AesGcmPayloadCodec(readKeyRingFile(file));
      const [fresh] = await after.encode([jsonPayload('1')]);
      expect(metadataText(fresh!)['encryption-key-id']).toBe('k-second');
      expect(text((await after.decode([old!]))[0]!.data)).toBe('"before rotation"');
      expect(() => runPayloadKeysCommand(['init', '--file', file])).toThrow(/exists already/);
      // Key bytes never reach the command's output.
      expect(runPayloadKeysCommand(['list', '--file', file])).not.toContain(stored.keys['k-first']!);
    });
  });
});

describe('the key ring and FLOTILLA_PAYLOAD_KEYS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-payload-ring-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const secretB64 = KEY_A.toString('base64');

  it('is required: without it there is no data converter, and the error says how to make one', () => {
    expect(() => dataConverterFromEnv({})).toThrow(PayloadKeysError);
    expect(() => dataConverterFromEnv({})).toThrow(/FLOTILLA_PAYLOAD_KEYS is not set: .*npx tsx temporal\/payload-keys\.ts init/);
  });

  it('reads a file path or inline JSON', () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify({ active: 'k1', keys: { k1: secretB64 } }), { mode: 0o600 });
    expect(keyRingFromEnv({ FLOTILLA_PAYLOAD_KEYS: file }).ids).toEqual(['k1']);
    expect(keyRingFromEnv({ FLOTILLA_PAYLOAD_KEYS: JSON.stringify({ active: 'k2', keys: { k2: secretB64 } }) }).active).toBe('k2');
  });

  it('refuses a file that group or others may read', () => {
    const file = join(dir, 'open.json');
    writeFileSync(file, JSON.stringify({ active: 'k1', keys: { k1: secretB64 } }), { mode: 0o644 });
    expect(() => keyRingFromEnv({ FLOTILLA_PAYLOAD_KEYS: file })).toThrow(`payload key ring ${file} has mode 0644: group and others must not read it (chmod 600 ${file})`);
    expect(() => keyRingFromEnv({ FLOTILLA_PAYLOAD_KEYS: join(dir, 'missing.json') })).toThrow(/cannot read payload key ring .*missing\.json: ENOENT/);
  });

  it.each([
    [{ active: 'k1', keys: { k1: Buffer.alloc(16).toString('base64') } }, /keys\.k1: must decode to 32 bytes/],
    [{ active: 'k1', keys: { k1: 'not base64!' } }, /keys\.k1: must be base64/],
    [{ active: 'k2', keys: { k1: secretB64 } }, /the active key "k2" is not among its keys \(k1\)/],
    [{ active: 'toString', keys: { k1: secretB64 } }, /the active key "toString" is not among its keys/],
    [{ active: 'k1', keys: { 'bad id!': secretB64 } }, /must be a key id/],
    [{ active: 'k1', keys: { k1: secretB64 }, extra: 1 }, /Unrecognized key/i],
  ])('refuses a malformed ring %j, and never echoes key bytes', (json, message) => {
    const error = (() => {
      try {
        PayloadKeyRing.fromJson(json);
      } catch (e) {
        return e as Error;
      }
      throw new Error('accepted');
    })();
    expect(error).toBeInstanceOf(PayloadKeysError);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(secretB64);
  });
});

describe('the data converter', () => {
  it("is the SDK's default converter then the codec: a value goes in encrypted and comes out as it was", async () => {
    const converter = loadDataConverter(flotillaDataConverter(ring('k-a', { 'k-a': KEY_A })));
    const payload = await encodeToPayload(converter, { environment: 'shop-prod-eu', replicas: 3 });
    expect(metadataText(payload)).toEqual({ encoding: 'binary/encrypted', 'encryption-key-id': 'k-a' });
    expect(Buffer.from(payload.data!).includes(Buffer.from('shop-prod-eu'))).toBe(false);
    expect(await decodeFromPayloadsAtIndex(converter, 0, [payload])).toEqual({ environment: 'shop-prod-eu', replicas: 3 });
  });
});
