// The bootstrap admin token (issue 10, finding 8): minted only on a catalog that never had a
// token, handed over once — to a terminal, or into a 0600 file whose path is printed — and
// never written anywhere else.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deliverBootstrapToken, ensureBootstrapToken } from '../../../api/bootstrap.js';
import { openCatalog } from '../../../store/catalog.js';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-bootstrap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bootstrap token', () => {
  it('is minted once on an empty catalog, and never again — not after it is revoked either', async () => {
    const catalog = await openCatalog({ url: 'sqlite::memory:', masterKey: randomBytes(32).toString('base64') });
    try {
      const first = await ensureBootstrapToken(catalog);
      expect(first).toMatch(/^flt_/);
      expect(await ensureBootstrapToken(catalog)).toBeUndefined();
      const [record] = await catalog.tokens.list();
      expect(record).toMatchObject({ role: 'admin', createdBy: 'system:bootstrap' });
      await catalog.tokens.revoke(record!.id);
      expect(await ensureBootstrapToken(catalog)).toBeUndefined();
      expect(await catalog.tokens.list()).toEqual([]);
    } finally {
      await catalog.close();
    }
  });

  it('two API processes starting at once on an empty catalog: one mints the token, the other starts without one', async () => {
    const catalog = await openCatalog({ url: 'sqlite::memory:', masterKey: randomBytes(32).toString('base64') });
    try {
      const both = await Promise.all([ensureBootstrapToken(catalog), ensureBootstrapToken(catalog)]);
      expect(both.filter((t) => t !== undefined)).toHaveLength(1);
      expect(await catalog.tokens.list()).toHaveLength(1);
    } finally {
      await catalog.close();
    }
  });

  it('without a terminal it goes into a file only its owner can read; what is printed names the file, not the token', () => {
    const file = join(dir, 'nested', 'bootstrap-token');
    const printed: string[] = [];
    deliverBootstrapToken('flt_secret-bootstrap', { terminal: false, file, write: (t) => printed.push(t), loginHint: 'flotilla login' });
    expect(readFileSync(file, 'utf8')).toBe('flt_secret-bootstrap\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(printed.join('')).toContain(file);
    expect(printed.join('')).not.toContain('flt_secret-bootstrap');
    // An existing file is never overwritten.
    expect(() => deliverBootstrapToken('flt_other', { terminal: false, file, write: () => {}, loginHint: '' })).toThrow();
    expect(readFileSync(file, 'utf8')).toBe('flt_secret-bootstrap\n');
  });

  it('on a terminal it is printed once, and no file is written', () => {
    const file = join(dir, 'unused');
    const printed: string[] = [];
    deliverBootstrapToken('flt_on-terminal', { terminal: true, file, write: (t) => printed.push(t), loginHint: 'flotilla login' });
    expect(printed.join('')).toContain('flt_on-terminal');
    expect(() => statSync(file)).toThrow();
  });
});
