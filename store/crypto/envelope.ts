// Envelope encryption: each value gets its own random data key, which the master key wraps.
// Rotating or moving the master key (to a KMS) re-wraps keys, never re-encrypts values.
import { randomBytes } from 'node:crypto';
import { SecretDecryptionError } from '../errors.js';
import { decrypt, encrypt, KEY_BYTES } from './aes-gcm.js';
import type { KeyWrapper } from './key-wrapper.js';

export interface Envelope {
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  wrappedKey: Buffer;
  keyId: string;
}

/**
 * `context` (the secret's scope and name) is authenticated with both the value and its data
 * key: a row copied under another name or scope fails to open.
 */
export async function seal(wrapper: KeyWrapper, plaintext: string, context: string): Promise<Envelope> {
  const dataKey = randomBytes(KEY_BYTES);
  try {
    const { ciphertext, iv, tag } = encrypt(dataKey, Buffer.from(plaintext, 'utf8'), valueAad(context));
    return { ciphertext, iv, tag, wrappedKey: await wrapper.wrap(dataKey, context), keyId: wrapper.keyId };
  } finally {
    dataKey.fill(0);
  }
}

export async function open(wrapper: KeyWrapper, envelope: Envelope, context: string): Promise<string> {
  const dataKey = await wrapper.unwrap(envelope.wrappedKey, context, envelope.keyId);
  try {
    return decrypt(dataKey, envelope, valueAad(context)).toString('utf8');
  } catch {
    throw new SecretDecryptionError('the value failed its integrity check (the stored row was altered)');
  } finally {
    dataKey.fill(0);
  }
}

function valueAad(context: string): string {
  return `flotilla-secret/v1\0${context}`;
}
