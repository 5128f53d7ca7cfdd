// Typed catalog errors. Messages name the object (kind and name) but never carry SQL, driver
// messages or stored values: the API shows them to clients and logs keep them.

export class StoreError extends Error {
  override readonly name: string = 'StoreError';
  constructor(message: string, readonly code: string = 'store') {
    super(message);
  }
}

/** A duplicate name, a stale optimistic update or a reference that blocks a change (→ 409). */
export class ConflictError extends StoreError {
  override readonly name = 'ConflictError';
  constructor(message: string) {
    super(message, 'conflict');
  }
}

/** The named object does not exist (→ 404). */
export class NotFoundError extends StoreError {
  override readonly name = 'NotFoundError';
  constructor(readonly kind: string, readonly key: string) {
    super(`${kind} "${key}" not found`, 'not-found');
  }
}

/** Input the store refuses on its own account, e.g. a malformed cursor (→ 400). */
export class InvalidInputError extends StoreError {
  override readonly name = 'InvalidInputError';
  constructor(message: string) {
    super(message, 'invalid');
  }
}

/** A secret cannot be decrypted: wrong master key, or its row was altered. */
export class SecretDecryptionError extends StoreError {
  override readonly name = 'SecretDecryptionError';
  constructor(message: string) {
    super(message, 'secret-decryption');
  }
}

/** The master key is missing or malformed. */
export class MasterKeyError extends StoreError {
  override readonly name = 'MasterKeyError';
  constructor(message: string) {
    super(message, 'master-key');
  }
}

export type DriverFailure = 'unique' | 'foreign-key' | 'other';

/** Classifies a better-sqlite3 or pg error by its code alone. */
export function classifyDriverError(error: unknown): DriverFailure {
  const code = driverCode(error);
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return 'unique';
  if (code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'foreign-key';
  return 'other';
}

function driverCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

export interface Translations {
  unique?: () => StoreError;
  foreignKey?: () => StoreError;
}

/**
 * Runs a catalog call and replaces driver errors by typed ones. Unmapped driver errors become
 * a StoreError naming the call and the driver's code only: their messages can quote values.
 */
export async function guard<T>(what: string, fn: () => Promise<T>, translations: Translations = {}): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof StoreError) throw error;
    const kind = classifyDriverError(error);
    if (kind === 'unique' && translations.unique) throw translations.unique();
    if (kind === 'foreign-key' && translations.foreignKey) throw translations.foreignKey();
    if (kind === 'unique') throw new ConflictError(`${what}: already exists`);
    if (kind === 'foreign-key') throw new ConflictError(`${what}: refers to, or is referred to by, another object`);
    // Zod validation errors and programming errors are not driver errors: let them through.
    if (!isDriverError(error)) throw error;
    throw new StoreError(`catalog: ${what} failed (${driverCode(error) ?? 'database error'})`);
  }
}

function isDriverError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = driverCode(error);
  // better-sqlite3 raises SqliteError (SQLITE_*); pg raises DatabaseError (SQLSTATE, 5 chars)
  // or connection errors (ECONNREFUSED, …).
  return error.name === 'SqliteError' || error.name === 'DatabaseError' || (code !== undefined && /^(SQLITE_|E[A-Z]+$|[0-9A-Z]{5}$)/.test(code));
}
