// Codecs between domain values and portable columns (JSON as text, time as ISO-8601 text).
import { InvalidInputError } from './errors.js';

export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

export function fromJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

export function fromJsonOrUndefined<T>(text: string | null): T | undefined {
  return text === null ? undefined : fromJson<T>(text);
}

export function nowIso(): string {
  return new Date().toISOString();
}

/** Normalises a caller's time to the one text form that sorts correctly: UTC, milliseconds, Z. */
export function toIso(at: string | Date): string {
  const date = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(date.getTime())) throw new InvalidInputError('not a valid timestamp');
  return date.toISOString();
}

export function orUndefined<T>(value: T | null): T | undefined {
  return value === null ? undefined : value;
}
