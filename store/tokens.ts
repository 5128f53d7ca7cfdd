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

/** Owners and token names nobody can take: Flotilla's own actors. */
export function isReservedName(name: string): boolean {
  const n = name.trim().toLowerCase();
  return n === 'anonymous' || n === 'system' || n.startsWith('system:') || n === 'unknown';
}

/** Tokens live this long unless asked otherwise (days), and never longer than the maximum. */
export const TOKEN_TTL = { defaultDays: 90, maxDays: 365 } as const;

export interface Principal {
  tokenId: string;
  /** The token's own name. */
  tokenName: string;
  /** Who the token stands for: the identity four eyes and the audit log compare. */
  name: string;
  role: Role;
  /** When set, the token acts only on environments of these tiers. */
  tiers?: Tier[];
}

export interface TokenRecord {
  id: string;
  name: string;
  /** Who it stands for (defaults to its name). */
  owner: string;
  role: Role;
  tiers?: Tier[];
  createdBy?: string;
  createdAt: string;
  expiresAt?: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

export interface NewToken {
  name: string;
  /** Who it stands for; the token's name when left out. */
  owner?: string;
  role: Role;
  tiers?: Tier[];
  createdBy?: string;
  /** Days until it expires (default TOKEN_TTL.defaultDays, at most TOKEN_TTL.maxDays). */
  ttlDays?: number;
  /** Flotilla's own tokens (the bootstrap admin) may use reserved names. */
  system?: boolean;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export class TokenRepository {
  constructor(private readonly db: CatalogDb) {}

  /** Returns the plaintext token once; it cannot be recovered later. */
  async create(input: NewToken): Promise<{ token: string; record: TokenRecord }> {
    if (!(ROLES as readonly string[]).includes(input.role)) throw new InvalidInputError(`unknown role "${input.role}"`);
    const owner = input.owner ?? input.name;
    if (!input.system && (isReservedName(input.name) || isReservedName(owner))) {
      throw new InvalidInputError(`"${isReservedName(input.name) ? input.name : owner}" is reserved for Flotilla itself`);
    }
    const ttlDays = input.ttlDays ?? TOKEN_TTL.defaultDays;
    if (!(ttlDays > 0 && ttlDays <= TOKEN_TTL.maxDays)) throw new InvalidInputError(`a token lives between 1 and ${TOKEN_TTL.maxDays} days`);
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
      owner,
      expires_at: new Date(Date.now() + ttlDays * 86_400_000).toISOString(),
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
    if (row.expires_at !== null && Date.parse(row.expires_at) <= now) return undefined;
    if (row.last_used_at === null || now - Date.parse(row.last_used_at) >= LAST_USED_RESOLUTION_MS) {
      const at = new Date(now).toISOString();
      await guard('verify token', () => this.db.updateTable('tokens').set({ last_used_at: at }).where('id', '=', row.id).execute());
    }
    const principal: Principal = { tokenId: row.id, tokenName: row.name, name: row.owner ?? row.name, role: row.role as Role };
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
    owner: row.owner ?? row.name,
    role: row.role as Role,
    tiers: fromJsonOrUndefined(row.tiers),
    createdBy: orUndefined(row.created_by),
    createdAt: row.created_at,
    expiresAt: orUndefined(row.expires_at),
    lastUsedAt: orUndefined(row.last_used_at),
    revokedAt: orUndefined(row.revoked_at),
  };
}
