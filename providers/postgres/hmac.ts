// HMAC-SHA256 for many short messages. Node's createHmac costs ~4 µs a call, almost all of it
// object set-up, which made masking the bottleneck of a scrubbed copy (one call per value). This
// is the same function (RFC 2104 over FIPS 180-4; the unit tests hold it to createHmac), with the
// key's inner and outer blocks hashed once, so a value under 55 bytes costs two compressions.
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

const W = new Int32Array(64);

function compress(state: Int32Array, block: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++) {
    const j = at + i * 4;
    W[i] = (block[j]! << 24) | (block[j + 1]! << 16) | (block[j + 2]! << 8) | block[j + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15]!;
    const w2 = W[i - 2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = state[0]!, b = state[1]!, c = state[2]!, d = state[3]!, e = state[4]!, f = state[5]!, g = state[6]!, h = state[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0; state[1] = (state[1]! + b) | 0; state[2] = (state[2]! + c) | 0; state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0; state[5] = (state[5]! + f) | 0; state[6] = (state[6]! + g) | 0; state[7] = (state[7]! + h) | 0;
}

/** Hashes `length` bytes of `data` after `prefixBlocks` 64-byte blocks already folded into `state`. */
function finish(state: Int32Array, data: Uint8Array, length: number, prefixBlocks: number, pad: Uint8Array): void {
  let at = 0;
  for (; at + 64 <= length; at += 64) compress(state, data, at);
  const rest = length - at;
  pad.fill(0);
  pad.set(data.subarray(at, length), 0);
  pad[rest] = 0x80;
  const blocks = rest + 9 > 64 ? 2 : 1;
  const bits = (prefixBlocks * 64 + length) * 8;
  const end = blocks * 64;
  // Message length in bits, big-endian, in the last 8 bytes (the high word stays 0 below 512 MB).
  pad[end - 5] = (bits / 2 ** 32) & 0xff;
  pad[end - 4] = (bits >>> 24) & 0xff; pad[end - 3] = (bits >>> 16) & 0xff; pad[end - 2] = (bits >>> 8) & 0xff; pad[end - 1] = bits & 0xff;
  compress(state, pad, 0);
  if (blocks === 2) compress(state, pad, 64);
}

export class HmacSha256 {
  readonly #inner = new Int32Array(8);
  readonly #outer = new Int32Array(8);
  readonly #state = new Int32Array(8);
  readonly #pad = new Uint8Array(128);
  readonly #digest = new Uint8Array(32);
  #message = new Uint8Array(256);

  constructor(key: Uint8Array) {
    let k = key;
    if (k.length > 64) {
      const s = IV.slice();
      finish(s, k, k.length, 0, new Uint8Array(128));
      k = toBytes(s);
    }
    const block = new Uint8Array(64);
    for (const [target, byte] of [[this.#inner, 0x36], [this.#outer, 0x5c]] as const) {
      for (let i = 0; i < 64; i++) block[i] = (k[i] ?? 0) ^ byte;
      target.set(IV);
      compress(target, block, 0);
    }
  }

  /** HMAC-SHA256(key, prefix ‖ utf8(value)); the returned buffer is reused by the next call. */
  mac(prefix: Uint8Array, value: string): Uint8Array {
    this.#reserve(prefix.length + value.length * 3);
    this.#message.set(prefix, 0);
    const length = prefix.length + ENCODER.encodeInto(value, this.#message.subarray(prefix.length)).written;
    return this.#sign(length);
  }

  /** HMAC-SHA256(key, prefix ‖ data[start, end)); the returned buffer is reused by the next call. */
  macBytes(prefix: Uint8Array, data: Uint8Array, start: number, end: number): Uint8Array {
    const length = prefix.length + end - start;
    this.#reserve(length);
    const message = this.#message;
    message.set(prefix, 0);
    if (end - start > 32) message.set(data.subarray(start, end), prefix.length);
    else for (let i = start, j = prefix.length; i < end; i++, j++) message[j] = data[i]!;
    return this.#sign(length);
  }

  #reserve(bytes: number): void {
    if (this.#message.length < bytes) this.#message = new Uint8Array(Math.max(bytes, this.#message.length * 2));
  }

  #sign(length: number): Uint8Array {
    this.#state.set(this.#inner);
    finish(this.#state, this.#message, length, 1, this.#pad);
    writeBytes(this.#state, this.#digest);
    this.#state.set(this.#outer);
    finish(this.#state, this.#digest, 32, 1, this.#pad);
    writeBytes(this.#state, this.#digest);
    return this.#digest;
  }
}

const ENCODER = new TextEncoder();

function writeBytes(state: Int32Array, out: Uint8Array): void {
  for (let i = 0; i < 8; i++) {
    const v = state[i]!;
    out[i * 4] = v >>> 24; out[i * 4 + 1] = (v >>> 16) & 0xff; out[i * 4 + 2] = (v >>> 8) & 0xff; out[i * 4 + 3] = v & 0xff;
  }
}

function toBytes(state: Int32Array): Uint8Array {
  const out = new Uint8Array(32);
  writeBytes(state, out);
  return out;
}
