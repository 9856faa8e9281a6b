/**
 * SHA-1 and zlib's stored format without node's crypto and zlib modules, which cost a command about 2 ms
 * each to load: a send hashes and compresses a few objects of a few hundred bytes. Larger inputs go to
 * node's own (loaded then).
 */

/** Inputs up to this size are hashed here (JavaScript SHA-1 runs at about 150 MB/s; node's at 1 GB/s). */
const SMALL = 16 * 1024;

const w = new Int32Array(80);

/** The SHA-1 of the concatenated parts, as 40 hex digits. */
export function sha1Hex(...parts: Buffer[]): string {
  let total = 0;
  for (const p of parts) total += p.length;
  if (total > SMALL) {
    const h = (require('node:crypto') as typeof import('node:crypto')).createHash('sha1');
    for (const p of parts) h.update(p);
    return h.digest('hex');
  }
  // The message, a 1 bit, zeros, and its length in bits (64-bit big-endian), in 64-byte blocks.
  const padded = Buffer.alloc(((total + 8) >> 6) * 64 + 64);
  let at = 0;
  for (const p of parts) at += p.copy(padded, at);
  padded[total] = 0x80;
  padded.writeUInt32BE(Math.floor(total / 0x20000000), padded.length - 8);
  padded.writeUInt32BE((total * 8) >>> 0, padded.length - 4);
  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  // Written for V8's interpreter, where a command's few hashes run: no calls and no branches per round.
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0, j = off; i < 16; i++, j += 4)
      w[i] = (padded[j]! << 24) | (padded[j + 1]! << 16) | (padded[j + 2]! << 8) | padded[j + 3]!;
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    let t: number;
    for (let i = 0; i < 20; i++) {
      t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (let i = 20; i < 40; i++) {
      t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (let i = 40; i < 60; i++) {
      t = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e - 0x70e44324 + w[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (let i = 60; i < 80; i++) {
      t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e - 0x359d3e2a + w[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  const out = Buffer.alloc(20);
  out.writeInt32BE(h0, 0);
  out.writeInt32BE(h1, 4);
  out.writeInt32BE(h2, 8);
  out.writeInt32BE(h3, 12);
  out.writeInt32BE(h4, 16);
  return out.toString('hex');
}

/**
 * `parts` (read as one input) as a zlib stream of stored deflate blocks, given as the pieces to write one
 * after another: the input's bytes are not copied, only framed (a large object written this way costs no
 * compression and no second buffer of its size).
 */
export function zlibStoredPieces(parts: Buffer[]): Buffer[] {
  let total = 0;
  for (const p of parts) total += p.length;
  const out: Buffer[] = [Buffer.from([0x78, 0x01])];
  let part = 0;
  let off = 0;
  for (let left = total; ;) {
    const len = Math.min(0xffff, left);
    const head = Buffer.alloc(5);
    head[0] = left === len ? 1 : 0; // BFINAL on the last block, BTYPE 00
    head.writeUInt16LE(len, 1);
    head.writeUInt16LE(~len & 0xffff, 3);
    out.push(head);
    for (let need = len; need > 0;) {
      const p = parts[part]!;
      const take = Math.min(need, p.length - off);
      if (take > 0) out.push(p.subarray(off, off + take));
      off += take;
      need -= take;
      if (off === p.length) {
        part++;
        off = 0;
      }
    }
    left -= len;
    if (left === 0) break;
  }
  // Adler-32, reduced every 5,552 bytes (the most before the sums could pass 2^32).
  let a = 1;
  let b = 0;
  for (const p of parts)
    for (let i = 0; i < p.length;) {
      const end = Math.min(p.length, i + 5552);
      for (; i < end; i++) {
        a += p[i]!;
        b += a;
      }
      a %= 65521;
      b %= 65521;
    }
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(((b << 16) | a) >>> 0, 0);
  out.push(sum);
  return out;
}

/**
 * `data` as a zlib stream (RFC 1950) of stored deflate blocks (RFC 1951, type 00): what git reads like any
 * other loose object. Larger inputs are compressed by node's zlib at level 1, as git writes them.
 */
export function zlibSmall(data: Buffer): Buffer {
  if (data.length > SMALL)
    return (require('node:zlib') as typeof import('node:zlib')).deflateSync(data, deflateOptions(data.length));
  return Buffer.concat(zlibStoredPieces([data]));
}

/**
 * zlib's options for deflating `size` bytes at level 1 (as git writes objects): a window and hash table no
 * larger than the input needs. zlib's defaults (a 32 KiB window, memLevel 8) make every stream set up
 * about 256 KiB, which cost 0.4 ms a stream for objects of a few hundred bytes (60 us with these); the
 * output is the same zlib format, which any inflater reads (its header names the smaller window).
 */
export function deflateOptions(size: number): { level: number; windowBits: number; memLevel: number } {
  // The window must hold the input and zlib's lookahead (262 bytes); 9 to 15 bits are allowed.
  const windowBits = Math.min(15, Math.max(9, Math.ceil(Math.log2(size + 262))));
  return { level: 1, windowBits, memLevel: Math.min(8, Math.max(1, windowBits - 7)) };
}
