// API tokens. Only a SHA-256 of each token is stored: the token is random (256 bits), so a
// fast hash is enough, and a stolen catalog yields nothing that authenticates.
import { createHash, randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import { Tier } from '../domain/environment.js';
import { fromJsonOrUndefined, nowIso, orUndefined, toJson } from './columns.js';
import { ConflictError, guard, InvalidInputError, NotFoundError } from './errors.js';
import { newId } from './ids.js';
import type { TokensTable } from './schema.js';
import type { CatalogDb } from './transaction.js';

export const ROLES = ['viewer', 'operator', 'release-manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const TOKEN_PREFIX = 'flt_';
/** last_used_at is a hint, not a log: write it at most this often per token. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
  /** When set, the token acts only on environments of these tiers. */
  tiers?: Tier[];
}

export interface TokenRecord {
  id: string;
  name: string;
  role: Role;
  tiers?: Tier[];
  createdBy?: string;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

export interface NewToken {
  name: string;
  role: Role;
  tiers?: Tier[];
  createdBy?: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export class TokenRepository {
  constructor(private readonly db: CatalogDb) {}

  /** Returns the plaintext token once; it cannot be recovered later. */
  async create(input: NewToken): Promise<{ token: string; record: TokenRecord }> {
    if (!(ROLES as readonly string[]).includes(input.role)) throw new InvalidInputError(`unknown role "${input.role}"`);
    const tiers = input.tiers === undefined ? undefined : [...new Set(input.tiers.map((t) => Tier.parse(t)))];
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const row: Selectable<TokensTable> = {
      id: newId(),
      name: input.name,
      token_hash: hashToken(token),
      role: input.role,
      tiers: tiers === undefined ? null : toJson(tiers),
      created_by: input.createdBy ?? null,
      created_at: nowIso(),
      last_used_at: null,
      revoked_at: null,
    };
    await guard('create token', () => this.db.insertInto('tokens').values(row).execute(), {
      unique: () => new ConflictError(`a token named "${input.name}" already exists`),
    });
    return { token, record: toRecord(row) };
  }

  /** The principal a live token stands for, or undefined for an unknown or revoked one. */
  async verify(token: string): Promise<Principal | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const row = await guard('verify token', () =>
      this.db.selectFrom('tokens').selectAll().where('token_hash', '=', hashToken(token)).where('revoked_at', 'is', null).executeTakeFirst());
    if (!row) return undefined;
    const now = Date.now();
    if (row.last_used_at === null || now - Date.parse(row.last_used_at) >= LAST_USED_RESOLUTION_MS) {
      const at = new Date(now).toISOString();
      await guard('verify token', () => this.db.updateTable('tokens').set({ last_used_at: at }).where('id', '=', row.id).execute());
    }
    const principal: Principal = { tokenId: row.id, name: row.name, role: row.role as Role };
    const tiers = fromJsonOrUndefined<Tier[]>(row.tiers);
    if (tiers) principal.tiers = tiers;
    return principal;
  }

  /** Revokes a token; revoking a revoked token keeps its first revocation time. */
  async revoke(id: string): Promise<TokenRecord> {
    await guard('revoke token', () =>
      this.db.updateTable('tokens').set({ revoked_at: nowIso() }).where('id', '=', id).where('revoked_at', 'is', null).execute());
    return this.require(id);
  }

  async get(id: string): Promise<TokenRecord | undefined> {
    const row = await guard('get token', () => this.db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst());
    return row && toRecord(row);
  }

  async require(id: string): Promise<TokenRecord> {
    const token = await this.get(id);
    if (!token) throw new NotFoundError('token', id);
    return token;
  }

  async list(options: { includeRevoked?: boolean } = {}): Promise<TokenRecord[]> {
    const rows = await guard('list tokens', () => {
      let query = this.db.selectFrom('tokens').selectAll().orderBy('created_at').orderBy('id');
      if (!options.includeRevoked) query = query.where('revoked_at', 'is', null);
      return query.execute();
    });
    return rows.map(toRecord);
  }
}

// The hash stays inside this module: records never carry it.
function toRecord(row: Selectable<TokensTable>): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    role: row.role as Role,
    tiers: fromJsonOrUndefined(row.tiers),
    createdBy: orUndefined(row.created_by),
    createdAt: row.created_at,
    lastUsedAt: orUndefined(row.last_used_at),
    revokedAt: orUndefined(row.revoked_at),
  };
}
