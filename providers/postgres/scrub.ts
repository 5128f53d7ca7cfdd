// The scrubbers: COPY rows in, the same rows out with the ruled columns transformed, and
// everything else passed through as it came. Synchronous cores (push a chunk, get what is
// complete), wrapped in a Transform.
// A malformed or partial row fails the copy: a table with rules is never written untransformed.
import { Transform, type TransformCallback } from 'node:stream';
import type { Transformer } from '../../domain/data-policy.js';
import { decodeField, encodeField } from './copy-text.js';
import { ScrubError } from './errors.js';
import type { Masker } from './masking.js';

const NEWLINE = 0x0a;

export interface Scrubber {
  /** The rewritten complete rows of what came so far (a partial row waits for the next chunk). */
  push(chunk: Buffer): Buffer | undefined;
  /** Throws when the stream ended inside a row. */
  end(): void;
}

function checkRules(columns: number, rules: Map<number, Transformer>, table: string): void {
  if (rules.size === 0) throw new ScrubError(`table ${table}: a scrubber without rules`);
  for (const index of rules.keys()) if (index < 0 || index >= columns) throw new ScrubError(`table ${table}: rule for a column outside the copy`);
}

/** Transformers whose output never holds a tab, newline, carriage return or backslash. */
const PLAIN_OUTPUT = new Set<Transformer>(['email', 'name', 'phone', 'hash', 'redact']);

/**
 * Rewrites COPY text rows, applying `rules` (column index → transformer). A row with the wrong
 * number of fields, or a partial last row, fails the stream: a table with rules is never
 * written untransformed.
 */
export class TextScrubber implements Scrubber {
  #carry: Buffer | undefined;
  readonly #indexes: number[];
  readonly #transformers: Transformer[];

  constructor(private readonly columns: number, rules: Map<number, Transformer>, private readonly masker: Masker, private readonly table: string) {
    checkRules(columns, rules, table);
    this.#indexes = [...rules.keys()];
    this.#transformers = [...rules.values()];
  }

  push(chunk: Buffer): Buffer | undefined {
    const data = this.#carry ? Buffer.concat([this.#carry, chunk]) : chunk;
    const end = data.lastIndexOf(NEWLINE);
    if (end < 0) {
      this.#carry = data;
      return undefined;
    }
    // Cut at a newline byte: it never sits inside a UTF-8 sequence.
    this.#carry = end + 1 < data.length ? Buffer.from(data.subarray(end + 1)) : undefined;
    const lines = data.toString('utf8', 0, end).split('\n');
    for (let i = 0; i < lines.length; i++) lines[i] = this.#row(lines[i]!);
    return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  }

  end(): void {
    if (this.#carry && this.#carry.length > 0) throw new ScrubError(`table ${this.table}: the source ended inside a row`);
  }

  #row(line: string): string {
    const fields = line.split('\t');
    if (fields.length !== this.columns) {
      throw new ScrubError(`table ${this.table}: a row has ${fields.length} fields, expected ${this.columns}; refusing to copy it`);
    }
    for (let k = 0; k < this.#indexes.length; k++) {
      const i = this.#indexes[k]!;
      const t = this.#transformers[k]!;
      const masked = this.masker.apply(t, decodeField(fields[i]!));
      fields[i] = masked !== null && PLAIN_OUTPUT.has(t) ? masked : encodeField(masked);
    }
    return fields.join('\t');
  }
}

/**
 * The binary COPY twin of ScrubStream, for tables whose ruled columns are all strings (their
 * binary form is their UTF-8 text): fields are length-prefixed, so a row is walked without
 * parsing the columns left alone, and the server skips text conversions on both ends.
 */
export class BinaryScrubber implements Scrubber {
  #carry: Buffer | undefined;
  #headerDone = false;
  #ended = false;
  readonly #rules: (Transformer | undefined)[];
  #out = Buffer.allocUnsafe(64 * 1024);
  #at = 0;
  /** Start of the bytes of this chunk not yet written out. */
  #from = 0;

  constructor(private readonly columns: number, rules: Map<number, Transformer>, private readonly masker: Masker, private readonly table: string) {
    checkRules(columns, rules, table);
    this.#rules = Array.from({ length: columns }, (_, i) => rules.get(i));
  }

  push(chunk: Buffer): Buffer | undefined {
    const data = this.#carry ? Buffer.concat([this.#carry, chunk]) : chunk;
    this.#at = 0;
    this.#from = 0;
    const used = this.#tuples(data);
    this.#copy(data, this.#from, used);
    this.#carry = used < data.length ? Buffer.from(data.subarray(used)) : undefined;
    // A copy: #out is reused for the next chunk.
    return this.#at > 0 ? Buffer.from(this.#out.subarray(0, this.#at)) : undefined;
  }

  end(): void {
    if (!this.#ended || (this.#carry && this.#carry.length > 0)) throw new ScrubError(`table ${this.table}: the source ended inside a row`);
  }

  #room(n: number): void {
    if (this.#at + n <= this.#out.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.#out.length * 2, this.#at + n));
    this.#out.copy(bigger, 0, 0, this.#at);
    this.#out = bigger;
  }

  #copy(data: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    this.#room(n);
    const out = this.#out;
    if (n > 48) data.copy(out, this.#at, from, to);
    else for (let i = from, j = this.#at; i < to; i++, j++) out[j] = data[i]!;
    this.#at += n;
  }

  /** A field: its length and UTF-8 bytes (ASCII written by hand: most masked values are short). */
  #write(rule: Transformer, value: string | null): void {
    if (value === null) {
      this.#room(4);
      this.#out.writeInt32BE(-1, this.#at);
      this.#at += 4;
      return;
    }
    this.#room(4 + value.length * 3);
    const out = this.#out;
    let written: number;
    if (PLAIN_OUTPUT.has(rule)) {
      // These transformers write ASCII only.
      for (let i = 0, j = this.#at + 4; i < value.length; i++, j++) out[j] = value.charCodeAt(i);
      written = value.length;
    } else {
      written = out.write(value, this.#at + 4, 'utf8');
    }
    out.writeInt32BE(written, this.#at);
    this.#at += 4 + written;
  }

  /** Rewrites every complete tuple of `data` into the output; returns how many bytes it used. */
  #tuples(data: Buffer): number {
    let i = 0;
    if (!this.#headerDone) {
      if (data.length < 19) return 0;
      const extension = data.readUInt32BE(15);
      if (data.length < 19 + extension) return 0;
      if (data.toString('latin1', 0, 5) !== 'PGCOP') throw new ScrubError(`table ${this.table}: not a binary COPY stream`);
      i = 19 + extension;
      this.#headerDone = true;
    }
    while (i + 2 <= data.length) {
      const fields = data.readInt16BE(i);
      if (fields === -1) {
        this.#ended = true;
        return i + 2;
      }
      if (fields !== this.columns) throw new ScrubError(`table ${this.table}: a row has ${fields} fields, expected ${this.columns}; refusing to copy it`);
      // Check the whole tuple is here before writing any of it.
      let end = i + 2;
      for (let f = 0; f < fields; f++) {
        if (end + 4 > data.length) return i;
        const length = data.readInt32BE(end);
        end += 4 + (length > 0 ? length : 0);
      }
      if (end > data.length) return i;
      let at = i + 2;
      for (let f = 0; f < fields; f++) {
        const length = data.readInt32BE(at);
        const next = at + 4 + (length > 0 ? length : 0);
        const rule = this.#rules[f];
        if (rule !== undefined) {
          // Everything since the last masked field (other fields, other rows) in one copy.
          this.#copy(data, this.#from, at);
          this.#from = next;
          this.#write(rule, this.masker.applyBytes(rule, length < 0 ? null : data, at + 4, next));
        }
        at = next;
      }
      i = end;
    }
    return i;
  }
}


/** A scrubber on this thread, as a Transform (back-pressure flows through it). */
export class ScrubTransform extends Transform {
  constructor(private readonly scrubber: Scrubber) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      callback(null, this.scrubber.push(chunk));
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.scrubber.end();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}

/** COPY text rows through a TextScrubber on this thread. */
export class ScrubStream extends ScrubTransform {
  constructor(columns: number, rules: Map<number, Transformer>, masker: Masker, table: string) {
    super(new TextScrubber(columns, rules, masker, table));
  }
}

/** Binary COPY tuples through a BinaryScrubber on this thread. */
export class BinaryScrubStream extends ScrubTransform {
  constructor(columns: number, rules: Map<number, Transformer>, masker: Masker, table: string) {
    super(new BinaryScrubber(columns, rules, masker, table));
  }
}
