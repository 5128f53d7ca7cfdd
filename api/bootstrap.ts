// The first admin: with no live admin token in the catalog, one is made and its plaintext
// returned (the caller prints it once). Later starts return undefined.
import type { Catalog } from '../store/catalog.js';

export const BOOTSTRAP_TOKEN_NAME = 'bootstrap-admin';

export async function ensureBootstrapToken(catalog: Pick<Catalog, 'tokens' | 'audit'>): Promise<string | undefined> {
  const live = await catalog.tokens.list();
  if (live.some((t) => t.role === 'admin' && !t.tiers)) return undefined;
  // A revoked bootstrap token frees its name; a live non-admin one with that name does not.
  const name = live.some((t) => t.name === BOOTSTRAP_TOKEN_NAME) ? `${BOOTSTRAP_TOKEN_NAME}-${Date.now()}` : BOOTSTRAP_TOKEN_NAME;
  const { token, record } = await catalog.tokens.create({ name, role: 'admin', createdBy: 'system:bootstrap' });
  await catalog.audit.append({ actor: 'system:bootstrap', action: 'token.create', target: `token/${record.id}`, result: 'ok', details: { name, role: 'admin' } });
  return token;
}
