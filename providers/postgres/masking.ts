// The transformers of a data policy, applied to one value. Keyed HMAC-SHA256 over the source
// value: the same value becomes the same fake value in every table and column (joins, foreign
// keys and unique constraints hold) and nobody without the key can map a fake value back.
// Outputs never depend on the column, for the same reason; their longest lengths are
// TRANSFORMER_MAX_LENGTH (domain/data-policy.ts), which validation holds columns to.
import { REDACTED, type Transformer } from '../../domain/data-policy.js';
import { HmacSha256 } from './hmac.js';

const FIRST = [
  'Ada', 'Alan', 'Alice', 'Amara', 'Anna', 'Arjun', 'Ben', 'Bruno', 'Carla', 'Chen', 'Chloe', 'Clara', 'Dana', 'David', 'Diego',
  'Elena', 'Emil', 'Emma', 'Ethan', 'Eva', 'Farah', 'Felix', 'Grace', 'Hana', 'Hugo', 'Ines', 'Ivan', 'Jonas', 'Julia', 'Kai',
  'Karin', 'Leila', 'Leo', 'Lina', 'Luca', 'Maria', 'Marta', 'Mateo', 'Maya', 'Mila', 'Nadia', 'Nina', 'Noah', 'Olga', 'Omar',
  'Oscar', 'Paula', 'Pedro', 'Priya', 'Rosa', 'Ruth', 'Sami', 'Sara', 'Sofia', 'Tariq', 'Theo', 'Tomas', 'Una', 'Vera', 'Victor',
  'Wen', 'Yara', 'Yusuf', 'Zoe',
] as const;
const LAST = [
  'Abbott', 'Alvarez', 'Bauer', 'Berg', 'Brandt', 'Castro', 'Chen', 'Costa', 'Dahl', 'Diaz', 'Dubois', 'Eriksen', 'Fischer', 'Garcia',
  'Haas', 'Hansen', 'Ito', 'Jansen', 'Kaur', 'Keller', 'Khan', 'Kim', 'Koch', 'Kowalski', 'Lang', 'Larsen', 'Lopez', 'Martin',
  'Meyer', 'Moreau', 'Mori', 'Nakamura', 'Novak', 'Okafor', 'Olsen', 'Ortiz', 'Park', 'Patel', 'Perez', 'Petrov', 'Quinn', 'Rossi',
  'Roth', 'Santos', 'Sato', 'Schmidt', 'Silva', 'Singh', 'Sousa', 'Stone', 'Tanaka', 'Torres', 'Vargas', 'Vogel', 'Walsh', 'Weber',
  'Wolf', 'Wong', 'Yamada', 'Young', 'Zhang', 'Ziegler', 'Zimmer', 'Zorn',
] as const;
const CONSONANTS = 'bdfgklmnprstvwz';
const VOWELS = 'aeio';
const SUFFIX_SYLLABLES = 7;

const FIRST_LOWER = FIRST.map((n) => n.toLowerCase());
const LAST_LOWER = LAST.map((n) => n.toLowerCase());
const KINDS = ['email', 'name', 'phone', 'hash'] as const;
type MacKind = (typeof KINDS)[number];
/** What goes before the value in the HMAC: the kind separates the transformers (an e-mail's hash says nothing about its fake e-mail). */
const PREFIX = Object.fromEntries(KINDS.map((k) => [k, new TextEncoder().encode(`${k}\0`)])) as Record<MacKind, Uint8Array>;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export class Masker {
  readonly #hmac: HmacSha256;

  constructor(key: Buffer) {
    if (key.length < 16) throw new Error('the masking key must be at least 16 bytes');
    this.#hmac = new HmacSha256(key);
  }

  /** The transformed value; null stays null. */
  apply(transformer: Transformer, value: string | null): string | null {
    if (transformer === 'null' || value === null) return null;
    if (transformer === 'keep') return value;
    if (typeof transformer !== 'string') return transformer.fixed;
    if (transformer === 'redact') return REDACTED;
    return format(transformer, this.#hmac.mac(PREFIX[transformer], value));
  }

  /**
   * The same as apply() for a value given as its UTF-8 bytes (`data[start, end)`; null: NULL),
   * without decoding it: what the binary COPY scrubber uses.
   */
  applyBytes(transformer: Transformer, data: Uint8Array | null, start: number, end: number): string | null {
    if (transformer === 'null' || data === null) return null;
    if (transformer === 'keep') return Buffer.from(data.buffer, data.byteOffset + start, end - start).toString('utf8');
    if (typeof transformer !== 'string') return transformer.fixed;
    if (transformer === 'redact') return REDACTED;
    return format(transformer, this.#hmac.macBytes(PREFIX[transformer], data, start, end));
  }

  email(value: string): string {
    return this.apply('email', value)!;
  }

  name(value: string): string {
    return this.apply('name', value)!;
  }

  phone(value: string): string {
    return this.apply('phone', value)!;
  }
}

function format(kind: MacKind, mac: Uint8Array): string {
  switch (kind) {
    case 'email': return email(mac);
    case 'name': return name(mac);
    case 'phone': return phone(mac);
    case 'hash': return hex(mac, 0, 32);
  }
}

function hex(bytes: Uint8Array, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += HEX[bytes[i]!]!;
  return out;
}

/** `first.last.<48 bits hex>@example.invalid`: realistic, never deliverable (RFC 2606), ~60 bits. */
function email(mac: Uint8Array): string {
  return `${FIRST_LOWER[mac[0]! % FIRST.length]!}.${LAST_LOWER[mac[1]! % LAST.length]!}.${hex(mac, 2, 8)}@example.invalid`;
}

/**
 * `First Last-Suffix`: a person's name with a pronounceable double-barrelled part, ~54 bits,
 * so a unique column stays unique and the same person keeps one name everywhere.
 */
function name(mac: Uint8Array): string {
  let suffix = '';
  for (let i = 0; i < SUFFIX_SYLLABLES; i++) {
    const b = mac[2 + i]!;
    const consonant = CONSONANTS[(b >> 2) % CONSONANTS.length]!;
    suffix += (i === 0 ? consonant.toUpperCase() : consonant) + VOWELS[b & 3]!;
  }
  return `${FIRST[mac[0]! % FIRST.length]!} ${LAST[mac[1]! % LAST.length]!}-${suffix}`;
}

/** `+999` (an unassigned country code) and 15 digits. */
function phone(mac: Uint8Array): string {
  // 64 bits as two 32-bit halves, reduced mod 10^15 without BigInt: hi·2^32 + lo.
  const hi = ((mac[0]! << 24) | (mac[1]! << 16) | (mac[2]! << 8) | mac[3]!) >>> 0;
  const lo = ((mac[4]! << 24) | (mac[5]! << 16) | (mac[6]! << 8) | mac[7]!) >>> 0;
  const n = (BigInt(hi) * 4294967296n + BigInt(lo)) % 1_000_000_000_000_000n;
  return `+999${n.toString().padStart(15, '0')}`;
}
