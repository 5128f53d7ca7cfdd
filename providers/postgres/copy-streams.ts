// The meter between a source COPY TO (or a scrubber, scrub.ts) and a target COPY FROM: rows,
// bytes and a SHA-256 of exactly what the target received. A Transform: back-pressure flows
// through it, and it holds nothing but a few bytes of a field length across chunks.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

const NEWLINE = 0x0a;

export interface MeterReading {
  rows: number;
  bytes: number;
}

/**
 * Counts rows and bytes and hashes what passes. Text rows end in "\n"; binary COPY is walked
 * tuple by tuple (header, then per tuple a field count and length-prefixed fields).
 */
export class CopyMeter extends Transform {
  rows = 0;
  bytes = 0;
  readonly #hash: Hash = createHash('sha256');
  // binary walk state
  #stage: 'header' | 'extension' | 'count' | 'length' | 'data' | 'trailer' = 'header';
  #skip = 0;
  readonly #scratch = Buffer.alloc(19);
  #filled = 0;
  #fieldsLeft = 0;

  constructor(private readonly format: 'text' | 'binary', private readonly onChunk?: (reading: MeterReading) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.#hash.update(chunk);
    if (this.format === 'text') {
      for (let i = chunk.indexOf(NEWLINE); i >= 0; i = chunk.indexOf(NEWLINE, i + 1)) this.rows++;
    } else {
      try {
        this.#walk(chunk);
      } catch (error) {
        return callback(error as Error);
      }
    }
    this.onChunk?.({ rows: this.rows, bytes: this.bytes });
    callback(null, chunk);
  }

  /** Hex SHA-256 of every byte that passed; call once, after the end. */
  digest(): string {
    return this.#hash.digest('hex');
  }

  /** Reads `n` bytes into the scratch buffer across chunks; true when complete. */
  #fill(chunk: Buffer, at: { i: number }, n: number): boolean {
    const take = Math.min(n - this.#filled, chunk.length - at.i);
    chunk.copy(this.#scratch, this.#filled, at.i, at.i + take);
    this.#filled += take;
    at.i += take;
    if (this.#filled < n) return false;
    this.#filled = 0;
    return true;
  }

  #walk(chunk: Buffer): void {
    const at = { i: 0 };
    const length = chunk.length;
    while (at.i < length) {
      // Fast path: whole tuples and fields inside this chunk, read in place.
      if (this.#filled === 0) {
        let i = at.i;
        for (;;) {
          if (this.#stage === 'count' && i + 2 <= length) {
            const fields = chunk.readInt16BE(i);
            i += 2;
            if (fields === -1) {
              this.#stage = 'trailer';
              break;
            }
            this.rows++;
            this.#fieldsLeft = fields;
            if (fields > 0) this.#stage = 'length';
          } else if (this.#stage === 'length' && i + 4 <= length) {
            const field = chunk.readInt32BE(i);
            i += 4;
            if (field > 0) {
              if (i + field <= length) i += field;
              else {
                this.#skip = field - (length - i);
                i = length;
                this.#stage = 'data';
                break;
              }
            }
            if (--this.#fieldsLeft === 0) this.#stage = 'count';
          } else break;
        }
        at.i = i;
        if (at.i >= length) return;
      }
      switch (this.#stage) {
        case 'header':
          // 11-byte signature, 4 bytes of flags, 4 bytes of extension length
          if (!this.#fill(chunk, at, 19)) return;
          if (this.#scratch.toString('latin1', 0, 5) !== 'PGCOP') throw new Error('not a binary COPY stream');
          this.#skip = this.#scratch.readUInt32BE(15);
          this.#stage = this.#skip > 0 ? 'extension' : 'count';
          break;
        case 'extension':
        case 'data': {
          const take = Math.min(this.#skip, length - at.i);
          at.i += take;
          this.#skip -= take;
          if (this.#skip > 0) return;
          if (this.#stage === 'extension') this.#stage = 'count';
          else this.#stage = --this.#fieldsLeft > 0 ? 'length' : 'count';
          break;
        }
        case 'count': {
          if (!this.#fill(chunk, at, 2)) return;
          const fields = this.#scratch.readInt16BE(0);
          if (fields === -1) {
            this.#stage = 'trailer';
            break;
          }
          this.rows++;
          this.#fieldsLeft = fields;
          this.#stage = fields > 0 ? 'length' : 'count';
          break;
        }
        case 'length': {
          if (!this.#fill(chunk, at, 4)) return;
          const field = this.#scratch.readInt32BE(0);
          if (field <= 0) {
            // NULL (-1) or empty: no data bytes
            this.#stage = --this.#fieldsLeft > 0 ? 'length' : 'count';
          } else {
            this.#skip = field;
            this.#stage = 'data';
          }
          break;
        }
        case 'trailer':
          at.i = length;
          break;
      }
    }
  }
}
