// The first admin: on a catalog that has never had a token, one is made and its plaintext
// handed to the operator once. Never again after that — not even when every admin token has
// been revoked (re-minting would hand admin to whoever restarts the API process).
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Catalog } from '../store/catalog.js';
import { ConflictError } from '../store/errors.js';
import { TOKEN_TTL } from '../store/tokens.js';

export const BOOTSTRAP_TOKEN_NAME = 'bootstrap-admin';

/** A new unscoped admin token when the catalog has never had any token, else undefined. */
export async function ensureBootstrapToken(catalog: Pick<Catalog, 'tokens' | 'audit'>): Promise<string | undefined> {
  if ((await catalog.tokens.list({ includeRevoked: true })).length > 0) return undefined;
  // The longest life a token may have: it is the way in until its holder makes others.
  let created;
  try {
    created = await catalog.tokens.create({ name: BOOTSTRAP_TOKEN_NAME, role: 'admin', createdBy: 'system:bootstrap', ttlDays: TOKEN_TTL.maxDays });
  } catch (error) {
    // Another API process on the same catalog minted it a moment ago (its name is unique): it hands it over.
    if (error instanceof ConflictError) return undefined;
    throw error;
  }
  const { token, record } = created;
  await catalog.audit.append({ actor: 'system:bootstrap', action: 'token.create', target: `token/${record.id}`, result: 'ok', details: { name: BOOTSTRAP_TOKEN_NAME, role: 'admin' } });
  return token;
}

/**
 * Hands the token over once, never through the log: to the terminal when there is one, else
 * into a file only its owner can read (0600), whose path is what gets printed.
 */
export function deliverBootstrapToken(token: string, options: { terminal: boolean; file: string; write: (text: string) => void; loginHint: string }): void {
  if (options.terminal) {
    options.write(`\nFirst admin token (shown once; store it now):\n\n  ${token}\n\n${options.loginHint}\n\n`);
    return;
  }
  mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
  writeFileSync(options.file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(options.file, 0o600);
  options.write(`First admin token written to ${options.file} (mode 0600; read it once, then delete the file).\n`);
}
