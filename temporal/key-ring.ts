// The payload key ring: the AES-256 keys that encrypt every Temporal payload (see
// payload-codec.ts). One key is active and encrypts; the others only decrypt, so that histories
// written before a rotation still read.
//
// Where it comes from: FLOTILLA_PAYLOAD_KEYS, the path of a JSON file (mode 0600, refused when
// group or others may read it), or the JSON itself when the value starts with `{` (for
// containers whose secret store injects environment variables):
//
//   { "active": "k-20250301-3f9a1c", "keys": { "k-20250301-3f9a1c": "<32 random bytes, base64>", "k-20241101-0b7e22": "…" } }
//
// Errors name the file, the key id and what is wrong, never a key's bytes.
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

export const PAYLOAD_KEYS_ENV = 'FLOTILLA_PAYLOAD_KEYS';
export const PAYLOAD_KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const HOW_TO_CREATE = 'create one with: npx tsx temporal/payload-keys.ts init --file <path> (then set FLOTILLA_PAYLOAD_KEYS=<path>)';

/** The key ring is missing, unreadable or malformed. */
export class PayloadKeysError extends Error {
  override readonly name = 'PayloadKeysError';
}

const KEY_ID_MESSAGE = 'must be a key id (letters, digits, . _ : -; at most 64)';
const KeyRingFile = z.strictObject({
  active: z.string().regex(KEY_ID, KEY_ID_MESSAGE),
  keys: z.record(
    z.string(),
    z.string().regex(BASE64, 'must be base64').refine((v) => Buffer.from(v, 'base64').length === PAYLOAD_KEY_BYTES, `must decode to ${PAYLOAD_KEY_BYTES} bytes (AES-256)`),
  ).superRefine((keys, ctx) => {
    for (const id of Object.keys(keys)) if (!KEY_ID.test(id)) ctx.addIssue({ code: 'custom', path: [id], message: KEY_ID_MESSAGE });
  }),
});
export type KeyRingJson = z.infer<typeof KeyRingFile>;

export class PayloadKeyRing {
  readonly #keys: ReadonlyMap<string, Buffer>;

  private constructor(readonly active: string, keys: Map<string, Buffer>) {
    this.#keys = keys;
  }

  /** Validates a key ring's JSON form; `source` names where it came from in errors. */
  static fromJson(value: unknown, source = PAYLOAD_KEYS_ENV): PayloadKeyRing {
    const parsed = KeyRingFile.safeParse(value);
    if (!parsed.success) {
      // Paths and messages only: zod's issues never carry the input here, but say so explicitly.
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`).join('; ');
      throw new PayloadKeysError(`${source} is not a valid payload key ring: ${problems}`);
    }
    const { active, keys } = parsed.data;
    if (!Object.prototype.hasOwnProperty.call(keys, active)) {
      throw new PayloadKeysError(`${source}: the active key "${active}" is not among its keys (${Object.keys(keys).join(', ') || 'none'})`);
    }
    return new PayloadKeyRing(active, new Map(Object.entries(keys).map(([id, b64]) => [id, Buffer.from(b64, 'base64')])));
  }

  /** A fresh ring of one new key. */
  static generate(id = newKeyId()): PayloadKeyRing {
    return new PayloadKeyRing(id, new Map([[id, randomBytes(PAYLOAD_KEY_BYTES)]]));
  }

  get ids(): string[] {
    return [...this.#keys.keys()];
  }

  /** The key with this id, or undefined. */
  key(id: string): Buffer | undefined {
    return this.#keys.get(id);
  }

  /** This ring plus a new random key (decrypt-only unless `activate`). */
  withNewKey(options: { id?: string; activate?: boolean } = {}): PayloadKeyRing {
    const id = options.id ?? newKeyId();
    if (!KEY_ID.test(id)) throw new PayloadKeysError(`"${id}" is not a valid key id: ${KEY_ID_MESSAGE}`);
    if (this.#keys.has(id)) throw new PayloadKeysError(`the key ring already has a key "${id}"`);
    const keys = new Map(this.#keys);
    keys.set(id, randomBytes(PAYLOAD_KEY_BYTES));
    return new PayloadKeyRing(options.activate ? id : this.active, keys);
  }

  /** This ring with `id` (already in it) as the active key. */
  withActive(id: string): PayloadKeyRing {
    if (!this.#keys.has(id)) throw new PayloadKeysError(`no key "${id}" in the key ring (${this.ids.join(', ')})`);
    return new PayloadKeyRing(id, new Map(this.#keys));
  }

  /** This ring without `id`: payloads encrypted under it can no longer be read. Never the active key. */
  without(id: string): PayloadKeyRing {
    if (id === this.active) throw new PayloadKeysError(`"${id}" is the active key; activate another one first`);
    if (!this.#keys.has(id)) throw new PayloadKeysError(`no key "${id}" in the key ring (${this.ids.join(', ')})`);
    const keys = new Map(this.#keys);
    keys.delete(id);
    return new PayloadKeyRing(this.active, keys);
  }

  toJSON(): KeyRingJson {
    return { active: this.active, keys: Object.fromEntries([...this.#keys].map(([id, key]) => [id, key.toString('base64')])) };
  }
}

/** `k-YYYYMMDD-xxxxxx`: sortable by creation day, unique by its random tail. */
export function newKeyId(now = new Date()): string {
  return `k-${now.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`;
}

/** Reads a key-ring file; refuses one that group or others may read. */
export function readKeyRingFile(path: string): PayloadKeyRing {
  let text: string;
  try {
    const mode = statSync(path).mode & 0o777;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new PayloadKeysError(`payload key ring ${path} has mode 0${mode.toString(8)}: group and others must not read it (chmod 600 ${path})`);
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof PayloadKeysError) throw error;
    throw new PayloadKeysError(`cannot read payload key ring ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PayloadKeysError(`payload key ring ${path} is not JSON`);
  }
  return PayloadKeyRing.fromJson(json, `payload key ring ${path}`);
}

/** Writes a key ring (mode 0600) through a temporary file, so a reader never sees half of one. */
export function writeKeyRingFile(path: string, ring: PayloadKeyRing): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(ring.toJSON(), null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

/**
 * The key ring FLOTILLA_PAYLOAD_KEYS names (a file path, or inline JSON); throws
 * PayloadKeysError when it is not set: no process encrypts with a made-up key.
 */
export function keyRingFromEnv(env: NodeJS.ProcessEnv = process.env): PayloadKeyRing {
  const value = env[PAYLOAD_KEYS_ENV]?.trim();
  if (!value) throw new PayloadKeysError(`${PAYLOAD_KEYS_ENV} is not set: every Temporal payload is encrypted, and this process has no key; ${HOW_TO_CREATE}`);
  if (value.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      throw new PayloadKeysError(`${PAYLOAD_KEYS_ENV} starts with "{" but is not JSON`);
    }
    return PayloadKeyRing.fromJson(json, PAYLOAD_KEYS_ENV);
  }
  return readKeyRingFile(value);
}
