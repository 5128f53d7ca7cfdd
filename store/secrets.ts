// Secrets, encrypted at rest (see crypto/envelope.ts). Values leave this module only through
// get/require; errors and listings carry scope and name, never a value.
import type { Selectable } from 'kysely';
import { nowIso } from './columns.js';
import { open, seal } from './crypto/envelope.js';
import type { KeyWrapper } from './crypto/key-wrapper.js';
import { guard, InvalidInputError, NotFoundError, SecretDecryptionError } from './errors.js';
import type { SecretsTable } from './schema.js';
import type { CatalogDb } from './transaction.js';

/** Where cluster kubeconfigs and other fleet-wide secrets live. */
export const GLOBAL_SCOPE = 'global';

export function environmentScope(environment: string): string {
  return `environment/${environment}`;
}

/** The secrets a schedule gives each of its runs' clones (never in the schedule's own arguments). */
export function scheduleScope(schedule: string): string {
  return `schedule/${schedule}`;
}

export interface SecretInfo {
  name: string;
  /** Also the secret's version: it changes exactly when the value does. */
  updatedAt: string;
}

export class SecretRepository {
  constructor(private readonly db: CatalogDb, private readonly keys: KeyWrapper) {}

  /**
   * Creates or replaces a secret; each write uses a fresh data key. Writing the value it
   * already has changes nothing, so its version (updatedAt) moves only when the value does:
   * pods restart on a new version, not on a repeated write.
   */
  async put(scope: string, name: string, value: string): Promise<void> {
    checkScope(scope);
    if (name === '') throw new InvalidInputError('secret name must not be empty');
    if ((await this.get(scope, name)) === value) return;
    const sealed = await seal(this.keys, value, context(scope, name));
    const at = nowIso();
    const columns = {
      ciphertext: sealed.ciphertext.toString('base64'),
      iv: sealed.iv.toString('base64'),
      tag: sealed.tag.toString('base64'),
      wrapped_key: sealed.wrappedKey.toString('base64'),
      key_id: sealed.keyId,
      updated_at: at,
    };
    await guard(`store secret "${name}"`, () => this.db.insertInto('secrets')
      .values({ scope, name, created_at: at, ...columns })
      .onConflict((oc) => oc.columns(['scope', 'name']).doUpdateSet(columns))
      .execute());
  }

  async get(scope: string, name: string): Promise<string | undefined> {
    const row = await guard(`read secret "${name}"`, () =>
      this.db.selectFrom('secrets').selectAll().where('scope', '=', scope).where('name', '=', name).executeTakeFirst());
    return row && this.decrypt(row);
  }

  async require(scope: string, name: string): Promise<string> {
    const value = await this.get(scope, name);
    if (value === undefined) throw new NotFoundError('secret', `${scope}/${name}`);
    return value;
  }

  /** Names (and change times) only. */
  async list(scope: string): Promise<SecretInfo[]> {
    const rows = await guard('list secrets', () =>
      this.db.selectFrom('secrets').select(['name', 'updated_at']).where('scope', '=', scope).orderBy('name').execute());
    return rows.map((r) => ({ name: r.name, updatedAt: r.updated_at }));
  }

  async remove(scope: string, name: string): Promise<boolean> {
    const result = await guard(`remove secret "${name}"`, () =>
      this.db.deleteFrom('secrets').where('scope', '=', scope).where('name', '=', name).executeTakeFirst());
    return result.numDeletedRows > 0n;
  }

  private async decrypt(row: Selectable<SecretsTable>): Promise<string> {
    try {
      return await open(this.keys, {
        ciphertext: Buffer.from(row.ciphertext, 'base64'),
        iv: Buffer.from(row.iv, 'base64'),
        tag: Buffer.from(row.tag, 'base64'),
        wrappedKey: Buffer.from(row.wrapped_key, 'base64'),
        keyId: row.key_id,
      }, context(row.scope, row.name));
    } catch (error) {
      const reason = error instanceof SecretDecryptionError ? error.message : 'the key service refused to unwrap its data key';
      throw new SecretDecryptionError(`cannot decrypt secret "${row.name}" in scope "${row.scope}": ${reason}`);
    }
  }
}

function checkScope(scope: string): void {
  if (scope !== GLOBAL_SCOPE && !/^(environment|schedule)\/[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(scope)) {
    throw new InvalidInputError(`secret scope must be "${GLOBAL_SCOPE}", "environment/<name>" or "schedule/<name>"`);
  }
}

/** Bound into both ciphertexts: a row moved to another scope or name no longer opens. */
function context(scope: string, name: string): string {
  return JSON.stringify([scope, name]);
}
