/**
 * Wraps and unwraps data keys with a master key that never leaves its holder: a local key from
 * config today, a cloud KMS later. `context` is authenticated with the wrapped key (a KMS's
 * "encryption context"), so a wrapped key only unwraps for the secret it was made for.
 */
export interface KeyWrapper {
  /** Names the master key; stored beside each secret so the right key can be chosen. */
  readonly keyId: string;
  wrap(dataKey: Buffer, context: string): Promise<Buffer>;
  /** `keyId` is the id stored with the secret; a wrapper refuses ids it does not hold. */
  unwrap(wrappedKey: Buffer, context: string, keyId: string): Promise<Buffer>;
}
