// A master key held in process memory, from FLOTILLA_MASTER_KEY (32 bytes, base64).
import { createHash, randomBytes } from 'node:crypto';
import { MasterKeyError, SecretDecryptionError } from '../errors.js';
import { decrypt, encrypt, KEY_BYTES, pack, unpack } from './aes-gcm.js';
import type { KeyWrapper } from './key-wrapper.js';

export const MASTER_KEY_ENV = 'FLOTILLA_MASTER_KEY';
const HOW_TO = 'generate one with: openssl rand -base64 32';

export class LocalMasterKey implements KeyWrapper {
  readonly keyId: string;
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
    // A fingerprint, not the key: tells a wrong key apart from tampered data.
    this.keyId = `local:${createHash('sha256').update('flotilla-master-key-id\0').update(key).digest('hex').slice(0, 16)}`;
  }

  /** Validates and decodes a base64 master key; errors never echo the value. */
  static fromBase64(encoded: string | undefined, source = MASTER_KEY_ENV): LocalMasterKey {
    const text = encoded?.trim() ?? '';
    if (text === '') throw new MasterKeyError(`${source} is not set; ${HOW_TO}`);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) && !/^[A-Za-z0-9_-]+={0,2}$/.test(text)) {
      throw new MasterKeyError(`${source} is not valid base64; ${HOW_TO}`);
    }
    const key = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
    if (key.length !== KEY_BYTES) {
      throw new MasterKeyError(`${source} must decode to ${KEY_BYTES} bytes (256 bits), not ${key.length}; ${HOW_TO}`);
    }
    return new LocalMasterKey(key);
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env): LocalMasterKey {
    return LocalMasterKey.fromBase64(env[MASTER_KEY_ENV]);
  }

  /** A fresh random key in the form FLOTILLA_MASTER_KEY takes. */
  static generate(): string {
    return randomBytes(KEY_BYTES).toString('base64');
  }

  wrap(dataKey: Buffer, context: string): Promise<Buffer> {
    return Promise.resolve(pack(encrypt(this.#key, dataKey, wrapAad(context))));
  }

  unwrap(wrappedKey: Buffer, context: string, keyId: string): Promise<Buffer> {
    if (keyId !== this.keyId) {
      throw new SecretDecryptionError(`encrypted with master key ${keyId}, but the configured master key is ${this.keyId}`);
    }
    try {
      return Promise.resolve(decrypt(this.#key, unpack(wrappedKey), wrapAad(context)));
    } catch {
      throw new SecretDecryptionError('the data key failed its integrity check (the stored row was altered)');
    }
  }
}

function wrapAad(context: string): string {
  return `flotilla-data-key/v1\0${context}`;
}
