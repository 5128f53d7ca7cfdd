import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Envelope, open, seal } from '../../../store/crypto/envelope.js';
import { LocalMasterKey } from '../../../store/crypto/local-master-key.js';
import { SecretDecryptionError } from '../../../store/errors.js';

const key = LocalMasterKey.fromBase64(LocalMasterKey.generate());

describe('envelope encryption', () => {
  it('round-trips text, with a fresh data key and iv per value', async () => {
    const value = 'kubeconfig: ✓ ünïcode\n';
    const a = await seal(key, value, 'ctx');
    const b = await seal(key, value, 'ctx');
    expect(await open(key, a, 'ctx')).toBe(value);
    expect(a.keyId).toBe(key.keyId);
    expect(a.iv.equals(b.iv)).toBe(false);
    expect(a.wrappedKey.equals(b.wrappedKey)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(Buffer.concat([a.ciphertext, a.wrappedKey]).toString('latin1')).not.toContain('kubeconfig');
    expect(await open(key, await seal(key, '', 'ctx'), 'ctx')).toBe('');
  });

  it('binds the value to its context', async () => {
    const sealed = await seal(key, 'v', '["environment/a","X"]');
    await expect(open(key, sealed, '["environment/b","X"]')).rejects.toBeInstanceOf(SecretDecryptionError);
  });

  it.each(['ciphertext', 'iv', 'tag', 'wrappedKey'] as const)('fails when %s is altered', async (field) => {
    const sealed = await seal(key, 'some value', 'ctx');
    const altered: Envelope = { ...sealed, [field]: Buffer.from(sealed[field]) };
    altered[field][0] = altered[field][0]! ^ 0x80;
    const error = await open(key, altered, 'ctx').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretDecryptionError);
    expect((error as Error).message).toMatch(/integrity check/);
    expect((error as Error).message).not.toContain('some value');
  });

  it('names both keys when the master key is another one', async () => {
    const other = LocalMasterKey.fromBase64(LocalMasterKey.generate());
    const sealed = await seal(key, 'v', 'ctx');
    await expect(open(other, sealed, 'ctx')).rejects.toThrow(`encrypted with master key ${key.keyId}, but the configured master key is ${other.keyId}`);
    // Same id but different key material (a forged id) still fails the integrity check.
    await expect(open(other, { ...sealed, keyId: other.keyId }, 'ctx')).rejects.toThrow(/data key failed its integrity check/);
  });
});

describe('LocalMasterKey', () => {
  it('accepts 32 bytes of base64 or base64url, with surrounding whitespace', () => {
    const raw = randomBytes(32);
    const a = LocalMasterKey.fromBase64(`${raw.toString('base64')}\n`);
    const b = LocalMasterKey.fromBase64(raw.toString('base64url'));
    expect(a.keyId).toMatch(/^local:[0-9a-f]{16}$/);
    expect(b.keyId).toBe(a.keyId);
    expect(a.keyId).not.toContain(raw.toString('hex').slice(0, 16));
  });

  it('explains a missing, malformed or short key without echoing it', () => {
    expect(() => LocalMasterKey.fromEnv({})).toThrow('FLOTILLA_MASTER_KEY is not set; generate one with: openssl rand -base64 32');
    expect(() => LocalMasterKey.fromBase64('   ')).toThrow(/is not set/);
    expect(() => LocalMasterKey.fromBase64('not base64 at all!')).toThrow(/FLOTILLA_MASTER_KEY is not valid base64/);
    const short = randomBytes(16).toString('base64');
    const error = (() => { try { LocalMasterKey.fromBase64(short); } catch (e) { return e as Error; } })();
    expect(error?.message).toMatch(/must decode to 32 bytes \(256 bits\), not 16/);
    expect(error?.message).not.toContain(short);
    expect(() => LocalMasterKey.fromBase64(randomBytes(48).toString('base64'), 'masterKey')).toThrow(/^masterKey must decode to 32 bytes/);
  });
});
