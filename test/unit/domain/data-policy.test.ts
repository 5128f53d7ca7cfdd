import { createHash, createHmac } from 'node:crypto';
import type { Transform } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  type DataPolicy, dataPolicyVerdict, personalByContent, personalByName, TRANSFORMER_MAX_LENGTH, type ColumnDescription,
  type SchemaDescription, type Transformer,
} from '../../../domain/data-policy.js';
import { AppSpec } from '../../../domain/environment.js';
import { CopyMeter } from '../../../providers/postgres/copy-streams.js';
import { BinaryScrubStream, ScrubStream } from '../../../providers/postgres/scrub.js';
import { decodeField, encodeField } from '../../../providers/postgres/copy-text.js';
import { HmacSha256 } from '../../../providers/postgres/hmac.js';
import { Masker } from '../../../providers/postgres/masking.js';

const text = (name: string, extra: Partial<ColumnDescription> = {}): ColumnDescription => ({ name, type: 'text', textual: true, notNull: false, unique: false, ...extra });
const int = (name: string, extra: Partial<ColumnDescription> = {}): ColumnDescription => ({ name, type: 'integer', textual: false, notNull: true, unique: false, ...extra });

const schema: SchemaDescription = {
  tables: [
    { schema: 'public', name: 'customers', columns: [int('id', { unique: true }), text('email', { unique: true, type: 'character varying(255)', maxLength: 255 }), text('full_name'), text('phone'), text('notes')] },
    { schema: 'public', name: 'orders', columns: [int('id', { unique: true }), int('customer_id'), text('customer_email'), text('status', { notNull: true })] },
    { schema: 'audit', name: 'log', columns: [int('id'), text('message')] },
  ],
  foreignKeys: [
    { table: 'public.orders', columns: ['customer_id'], references: { table: 'public.customers', columns: ['id'] } },
    { table: 'public.orders', columns: ['customer_email'], references: { table: 'public.customers', columns: ['email'] } },
  ],
};

const fullPolicy: DataPolicy = {
  tables: {
    customers: { email: 'email', full_name: 'name', phone: 'phone', notes: 'redact' },
    'public.orders': { customer_email: 'email' },
  },
};

describe('dataPolicyVerdict', () => {
  it('accepts a policy that rules every personal column (schema-qualified or not)', () => {
    expect(dataPolicyVerdict({ policy: fullPolicy, schema, samples: {}, strict: true })).toEqual({ refused: [], unruledPersonal: [] });
  });

  it('refuses a rule naming a missing table, with its path', () => {
    const policy = { tables: { ...fullPolicy.tables, invoices: { email: 'email' as const } } };
    const { refused } = dataPolicyVerdict({ policy, schema, samples: {}, strict: false });
    expect(refused).toEqual([{ path: ['tables', 'invoices'], message: expect.stringContaining('table "public.invoices" does not exist') }]);
  });

  it('refuses a rule naming a missing column, with its path', () => {
    const policy = { tables: { ...fullPolicy.tables, customers: { ...fullPolicy.tables.customers, e_mail: 'email' as const } } };
    const { refused } = dataPolicyVerdict({ policy, schema, samples: {}, strict: false });
    expect(refused).toEqual([{ path: ['tables', 'customers', 'e_mail'], message: expect.stringContaining('column "e_mail" does not exist') }]);
  });

  it('refuses a scrubbed copy without any policy', () => {
    expect(dataPolicyVerdict({ policy: undefined, schema, samples: {}, strict: false }).refused).toEqual([
      { path: [], message: expect.stringContaining('no dataPolicy') },
    ]);
  });

  it('reports unruled personal columns without refusing when not strict', () => {
    const policy = { tables: { customers: { email: 'email' as const }, orders: { customer_email: 'email' as const } } };
    const verdict = dataPolicyVerdict({ policy, schema, samples: {}, strict: false });
    expect(verdict.refused).toEqual([]);
    expect(verdict.unruledPersonal).toEqual([
      { column: 'public.customers.full_name', kind: 'name', by: 'name' },
      { column: 'public.customers.phone', kind: 'phone', by: 'name' },
    ]);
  });

  it('refuses unruled personal columns when strict, naming each', () => {
    const policy = { tables: { customers: { email: 'email' as const }, orders: { customer_email: 'email' as const } } };
    const { refused } = dataPolicyVerdict({ policy, schema, samples: {}, strict: true });
    expect(refused.map((p) => p.path)).toEqual([['tables', 'public.customers', 'full_name'], ['tables', 'public.customers', 'phone']]);
  });

  it('finds personal columns by content when the name says nothing', () => {
    const samples = {
      'audit.log.message': ['ana@example.com', 'bo@example.org', 'cy@example.net'],
      'public.customers.notes': ['+44 20 7946 0958', '(555) 010-4477', '+15550104477'],
      'public.orders.status': ['paid', 'open', 'paid'],
    };
    const policy = { tables: { customers: { email: 'email' as const, full_name: 'name' as const, phone: 'phone' as const }, orders: { customer_email: 'email' as const } } };
    expect(dataPolicyVerdict({ policy, schema, samples, strict: false }).unruledPersonal).toEqual([
      { column: 'public.customers.notes', kind: 'phone', by: 'content' },
      { column: 'audit.log.message', kind: 'email', by: 'content' },
    ]);
  });

  it('refuses the two ends of a foreign key masked differently', () => {
    const policy = { tables: { customers: fullPolicy.tables.customers! } };
    const { refused } = dataPolicyVerdict({ policy, schema, samples: {}, strict: false });
    expect(refused).toEqual([{ path: ['tables', 'public.orders', 'customer_email'], message: expect.stringContaining('both need the same rule') }]);
  });

  it('refuses rules the column cannot hold: type, length, NOT NULL, unique', () => {
    const narrow: SchemaDescription = {
      tables: [{
        schema: 'public', name: 't', columns: [
          int('n'), text('short_email', { type: 'character varying(20)', maxLength: 20 }), text('code', { notNull: true }),
          text('login', { unique: true }), text('tag', { type: 'character varying(3)', maxLength: 3 }),
        ],
      }],
      foreignKeys: [],
    };
    const policy: DataPolicy = { tables: { t: { n: 'hash', short_email: 'email', code: 'null', login: 'redact', tag: { fixed: 'abcd' } } } };
    const { refused } = dataPolicyVerdict({ policy, schema: narrow, samples: {}, strict: false });
    expect(refused.map((p) => p.path[2])).toEqual(['n', 'short_email', 'code', 'login', 'tag']);
    expect(refused[1]!.message).toContain(`up to ${TRANSFORMER_MAX_LENGTH.email} characters`);
  });
});

describe('personal column detection', () => {
  it.each([
    ['email', 'email'], ['e_mail', 'email'], ['customerEmail', 'email'], ['mobile', 'phone'], ['phone_number', 'phone'],
    ['first_name', 'name'], ['lastName', 'name'], ['surname', 'name'], ['name', 'name'], ['street', 'address'],
    ['zip', 'address'], ['postcode', 'address'], ['date_of_birth', 'birth-date'], ['dob', 'birth-date'], ['ssn', 'identifier'],
    ['iban', 'identifier'], ['ip_address', 'ip-address'],
  ])('%s is %s', (column, kind) => {
    expect(personalByName(column)).toBe(kind);
  });

  it.each(['id', 'product_name', 'status', 'created_at', 'amount', 'table_name'])('%s is not personal', (column) => {
    expect(personalByName(column)).toBeUndefined();
  });

  it('reads content by majority, and a bare number is no phone', () => {
    expect(personalByContent(['a@b.io', 'c@d.io', 'nope'])).toBe('email');
    expect(personalByContent(['1234567', '7654321'])).toBeUndefined();
    expect(personalByContent([])).toBeUndefined();
  });
});

describe('Masker', () => {
  const masker = new Masker(Buffer.alloc(32, 7));
  const other = new Masker(Buffer.alloc(32, 8));

  it('maps a value the same way every time, whatever table or column it is in', () => {
    // Two Masker instances with one key stand for two columns' streams.
    const again = new Masker(Buffer.alloc(32, 7));
    for (const t of ['email', 'name', 'phone', 'hash'] as const) {
      expect(masker.apply(t, 'ana@example.com')).toBe(again.apply(t, 'ana@example.com'));
    }
  });

  it('maps different values to different outputs, and another key to other outputs', () => {
    for (const t of ['email', 'name', 'phone', 'hash'] as const) {
      const outputs = new Set(Array.from({ length: 2000 }, (_, i) => masker.apply(t, `person-${i}@example.com`)));
      expect(outputs.size).toBe(2000);
      expect(other.apply(t, 'person-1@example.com')).not.toBe(masker.apply(t, 'person-1@example.com'));
    }
  });

  it('never returns the source value, and stays within the declared lengths', () => {
    for (let i = 0; i < 500; i++) {
      const value = `Ana María Núñez-${i} <ana${i}@example.com> +44 20 7946 ${String(i).padStart(4, '0')}`;
      for (const t of ['email', 'name', 'phone', 'hash', 'redact'] as const) {
        const out = masker.apply(t, value)!;
        expect(out).not.toBe(value);
        expect(out.length).toBeLessThanOrEqual(TRANSFORMER_MAX_LENGTH[t]);
      }
    }
  });

  it('keeps NULL null for every transformer, and null/keep/fixed do what they say', () => {
    for (const t of ['email', 'name', 'phone', 'hash', 'redact', 'keep', 'null', { fixed: 'x' }] as const) expect(masker.apply(t, null)).toBeNull();
    expect(masker.apply('null', 'ana')).toBeNull();
    expect(masker.apply('keep', 'ana')).toBe('ana');
    expect(masker.apply({ fixed: 'n/a' }, 'ana')).toBe('n/a');
    expect(masker.apply('redact', 'ana')).toBe('[redacted]');
  });

  it('writes realistic shapes: an undeliverable e-mail, a capitalised name, a phone number, a hex HMAC', () => {
    expect(masker.apply('email', 'ana@example.com')).toMatch(/^[a-z]+\.[a-z]+\.[0-9a-f]{12}@example\.invalid$/);
    expect(masker.apply('name', 'Ana Núñez')).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+-[A-Z][a-z]{13}$/);
    expect(masker.apply('phone', '+44 20 7946 0958')).toMatch(/^\+999[0-9]{15}$/);
    expect(masker.apply('hash', 'x')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('COPY text fields', () => {
  it('decodes escapes and NULL, and encodes back', () => {
    expect(decodeField('\\N')).toBeNull();
    expect(decodeField('a\\tb\\nc\\\\d')).toBe('a\tb\nc\\d');
    expect(decodeField('\\303\\251')).toBe('é');
    expect(decodeField('\\x41')).toBe('A');
    expect(encodeField(null)).toBe('\\N');
    expect(encodeField('a\tb\nc\\d\r')).toBe('a\\tb\\nc\\\\d\\r');
  });
});

describe('Database.dataPolicy', () => {
  const base = { services: [{ name: 'web', image: 'ghcr.io/acme/web:1' }] };
  it('is optional with no default: a parsed spec without it gains no key (so its revision id stays)', () => {
    const without = AppSpec.parse({ ...base, databases: [{ name: 'db', mode: 'container', engine: 'postgres', version: '16' }] });
    expect(without.databases[0]).not.toHaveProperty('dataPolicy');
  });

  it('is validated on both database kinds', () => {
    const spec = AppSpec.safeParse({
      ...base, secrets: ['DB_URL'],
      databases: [
        { name: 'a', mode: 'container', engine: 'postgres', version: '16', dataPolicy: { tables: { customers: { email: 'email', code: { fixed: 'x' } } } } },
        { name: 'b', mode: 'external', engine: 'postgres', connectionSecret: 'DB_URL', dataPolicy: { tables: { t: { c: 'scramble' } } } },
      ],
    });
    expect(spec.success).toBe(false);
    expect(spec.error?.issues.map((i) => i.path.join('.'))).toEqual(['databases.1.dataPolicy.tables.t.c']);
  });
});

describe('HmacSha256', () => {
  it('equals node:crypto HMAC-SHA256 for keys and messages of every size around the block boundaries', () => {
    for (const keyLength of [16, 32, 63, 64, 65, 130]) {
      const key = Buffer.from(Array.from({ length: keyLength }, (_, i) => (i * 37 + keyLength) & 0xff));
      const hmac = new HmacSha256(key);
      for (let n = 0; n < 200; n++) {
        const value = `${'é'.repeat(n % 5)}${'x'.repeat(n)}`;
        const prefix = Buffer.from('email\0');
        const expected = createHmac('sha256', key).update(Buffer.concat([prefix, Buffer.from(value)])).digest('hex');
        expect(Buffer.from(hmac.mac(prefix, value)).toString('hex'), `key ${keyLength}, value ${n}`).toBe(expected);
        const bytes = Buffer.from(`..${value}..`);
        expect(Buffer.from(hmac.macBytes(prefix, bytes, 2, bytes.length - 2)).toString('hex')).toBe(expected);
      }
    }
  });

  it('masks bytes exactly as it masks their text', () => {
    const masker = new Masker(Buffer.alloc(32, 9));
    for (const value of ['ana@example.com', 'Zoë O\'Brien', '+44 20 7946 0958', '']) {
      const bytes = Buffer.from(value);
      for (const t of ['email', 'name', 'phone', 'hash', 'redact', 'keep', 'null', { fixed: 'x' }] as const) {
        expect(masker.applyBytes(t, bytes, 0, bytes.length)).toBe(masker.apply(t, value));
      }
    }
  });
});

/** A binary COPY stream as PostgreSQL writes it: signature, flags, no extension, tuples, trailer. */
function binaryCopy(rows: (string | null)[][]): Buffer {
  const parts = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)];
  for (const row of rows) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(row.length);
    parts.push(count);
    for (const field of row) {
      const length = Buffer.alloc(4);
      length.writeInt32BE(field === null ? -1 : Buffer.byteLength(field));
      parts.push(length);
      if (field !== null) parts.push(Buffer.from(field));
    }
  }
  const trailer = Buffer.alloc(2);
  trailer.writeInt16BE(-1);
  parts.push(trailer);
  return Buffer.concat(parts);
}

/** Pushes `data` through `stream` in chunks of `size` bytes; returns the output. */
async function through(stream: Transform, data: Buffer, size: number): Promise<Buffer> {
  const out: Buffer[] = [];
  stream.on('data', (d: Buffer) => out.push(d));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  for (let i = 0; i < data.length; i += size) stream.write(data.subarray(i, i + size));
  stream.end();
  await done;
  return Buffer.concat(out);
}

describe('COPY streams', () => {
  const rows = [['1', 'ana@example.com', 'Ana'], ['2', null, ''], ['3', 'bo@example.org', 'Bø Ñ']];
  const masker = new Masker(Buffer.alloc(32, 3));

  it('the meter counts binary rows and hashes the bytes, whatever the chunking', async () => {
    const data = binaryCopy(rows);
    for (const size of [1, 2, 3, 5, 7, 19, 64, data.length]) {
      const meter = new CopyMeter('binary');
      expect((await through(meter, data, size)).equals(data)).toBe(true);
      expect(meter.rows, `chunks of ${size}`).toBe(3);
      expect(meter.digest()).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });

  it('the binary scrubber masks the ruled columns only, whatever the chunking', async () => {
    const expected = binaryCopy(rows.map(([id, email, name]) => [id!, masker.apply('email', email!), masker.apply('null', name!)]));
    for (const size of [1, 3, 8, 21, 4096]) {
      const scrub = new BinaryScrubStream(3, new Map<number, Transformer>([[1, 'email'], [2, 'null']]), masker, 'public.t');
      expect((await through(scrub, binaryCopy(rows), size)).equals(expected), `chunks of ${size}`).toBe(true);
    }
  });

  it('the text scrubber masks the ruled columns, keeps escapes right, and refuses a malformed row', async () => {
    const text = Buffer.from('1\tana@example.com\tA\\tB\n2\t\\N\tx\\\\y\n');
    const scrub = new ScrubStream(3, new Map<number, Transformer>([[1, 'email'], [2, { fixed: 'a\tb' }]]), masker, 'public.t');
    const out = (await through(scrub, text, 5)).toString();
    expect(out).toBe(`1\t${masker.apply('email', 'ana@example.com')}\ta\\tb\n2\t\\N\ta\\tb\n`);
    await expect(through(new ScrubStream(3, new Map([[1, 'email']]), masker, 'public.t'), Buffer.from('1\tx\n'), 4)).rejects.toThrow(/2 fields, expected 3/);
    await expect(through(new BinaryScrubStream(3, new Map([[1, 'email']]), masker, 'public.t'), binaryCopy([['1', 'x']]), 4)).rejects.toThrow(/2 fields, expected 3/);
  });
});
