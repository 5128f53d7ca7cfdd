// Keyset pagination over (time, id), newest first: stable while rows are appended.
import { InvalidInputError } from './errors.js';

export interface Page<T> {
  items: T[];
  /** Pass back to get the next (older) page; absent on the last page. */
  nextCursor?: string;
}

export interface Position {
  at: string;
  id: string;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([position.at, position.id])).toString('base64url');
}

export function decodeCursor(cursor: string): Position {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return { at: value[0], id: value[1] };
    }
  } catch {
    // Fall through to the one error below.
  }
  throw new InvalidInputError('invalid cursor');
}

export function clampLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidInputError('limit must be a positive integer');
  return Math.min(limit, MAX_LIMIT);
}

/** Given limit + 1 rows, returns the page and the cursor of its last row when more exist. */
export function toPage<T>(rows: T[], limit: number, position: (row: T) => Position): Page<T> {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(position(items[items.length - 1]!)) };
}
