// The payload codec: every Temporal payload Flotilla writes (workflow and activity inputs and
// results, signals, updates, queries, heartbeats, memos) is encrypted before it leaves the
// process, so the Temporal server, its database and its backups hold ciphertext only. A second
// line of defence: secrets never travel in payloads at all (activities read them from the
// catalog by reference).
//
// Format, as in Temporal's encryption samples: the whole original Payload (metadata and data)
// protobuf-encoded, sealed with AES-256-GCM (a random 96-bit IV per payload, 128-bit tag, the
// key id as additional data), stored as IV ‖ ciphertext ‖ tag in a payload whose metadata is
// `encoding: binary/encrypted` and `encryption-key-id: <id>`.
//
// Decoding leaves every payload that is not `binary/encrypted` as it is: histories recorded
// before encryption (and the replay tests' recorded histories) still read. An encrypted payload
// under a key the ring does not hold, or one that was altered, fails with an error naming the
// key id. What is NOT encrypted: failure messages and stack traces (Temporal keeps them beside
// the payloads; activities keep secrets out of error messages), search attributes, and ids
// (workflow ids, task queues).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { PayloadKeyRing } from './key-ring.js';

export const ENCODING_ENCRYPTED = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ProtoPayload = proto.temporal.api.common.v1.Payload;

/** An encrypted payload that cannot be decrypted: unknown key, altered, or malformed. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
  constructor(message: string, readonly keyId?: string) {
    super(message);
  }
}

const utf8 = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);
const aad = (keyId: string) => Buffer.from(`flotilla-payload/v1\0${keyId}`, 'utf8');

/** Whether a payload is one this codec wrote (its metadata says `binary/encrypted`). */
export function isEncrypted(payload: Payload): boolean {
  return utf8(payload.metadata?.[METADATA_ENCODING_KEY]) === ENCODING_ENCRYPTED;
}

/** The key id an encrypted payload names, if any. */
export function keyIdOf(payload: Payload): string | undefined {
  return utf8(payload.metadata?.[METADATA_KEY_ID]);
}

export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(readonly keys: PayloadKeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.keys.active;
    const key = this.keys.key(keyId)!;
    return payloads.map((payload) => {
      const plaintext = ProtoPayload.encode(payload).finish();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad(keyId));
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: Buffer.from(ENCODING_ENCRYPTED),
          [METADATA_KEY_ID]: Buffer.from(keyId),
        },
        data: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isEncrypted(payload) ? this.#decrypt(payload) : payload));
  }

  #decrypt(payload: Payload): Payload {
    const keyId = keyIdOf(payload);
    if (!keyId) throw new PayloadDecryptionError(`an encrypted payload names no key (its metadata has no "${METADATA_KEY_ID}")`);
    const key = this.keys.key(keyId); // a Map: "toString" or "__proto__" find nothing
    if (!key) {
      throw new PayloadDecryptionError(
        `payload encrypted with key "${keyId}", which is not in this process's payload key ring (it has ${this.keys.ids.join(', ')}); add that key to FLOTILLA_PAYLOAD_KEYS`,
        keyId,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(`payload encrypted with key "${keyId}" is truncated (${data.length} bytes)`, keyId);
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(keyId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      plaintext = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(`payload encrypted with key "${keyId}" failed its integrity check (altered, or a different key under that id)`, keyId);
    }
    const decoded = ProtoPayload.decode(plaintext);
    return {
      metadata: decoded.metadata,
      data: decoded.data,
      ...(decoded.externalPayloads.length > 0 ? { externalPayloads: decoded.externalPayloads } : {}),
    };
  }
}
