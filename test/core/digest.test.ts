import crypto from 'node:crypto';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { deflateOptions, sha1Hex, zlibSmall, zlibStoredPieces } from '../../src/core/digest';
import { randomFill, randomHex } from '../../src/core/random';
import { ObjectWriter } from '../../src/git/objects';
import { makeRepo } from '../helpers/repo';

const sizes = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 1000, 4095, 16383, 16384, 16385, 70000, 200000];

describe('SHA-1 and stored zlib without node crypto and zlib', () => {
  it('the SHA-1 of every size around the block edges, split or whole, is the one node computes', () => {
    for (const n of [...sizes, ...Array.from({ length: 200 }, () => Math.floor(Math.random() * 20000))]) {
      const data = crypto.randomBytes(n);
      const want = crypto.createHash('sha1').update(data).digest('hex');
      expect(sha1Hex(data), `size ${n}`).toBe(want);
      const cut = Math.floor(n / 3);
      expect(sha1Hex(data.subarray(0, cut), data.subarray(cut)), `size ${n} in two`).toBe(want);
    }
    // Known answers (FIPS 180 examples).
    expect(sha1Hex(Buffer.from('abc'))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(sha1Hex(Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe(
      '84983e441c3bd26ebaae4aa1f95129e5e54670f1',
    );
  });

  it('deflate options sized to the input give streams that inflate whole, with a window no larger than needed', () => {
    for (const n of [...sizes, 65535, 1 << 20]) {
      const data = Buffer.from(Array.from({ length: n }, (_, k) => (k % 251) ^ (k >> 9)));
      const opts = deflateOptions(n);
      const out = zlib.deflateSync(data, opts);
      expect(zlib.inflateSync(out).equals(data), `size ${n}`).toBe(true);
      // The header's window (CINFO + 8 bits) holds the input, within zlib's 9 to 15.
      const windowBits = (out[0]! >> 4) + 8;
      expect(windowBits, `size ${n}`).toBeLessThanOrEqual(15);
      expect(2 ** windowBits, `size ${n}`).toBeGreaterThanOrEqual(Math.min(n, 1 << 15));
      expect([opts.level, opts.memLevel >= 1 && opts.memLevel <= 8]).toEqual([1, true]);
    }
    expect(deflateOptions(60).windowBits).toBe(9);
    expect(deflateOptions(1 << 20).windowBits).toBe(15);
  });

  it('stored zlib streams inflate to their input, and git reads objects written so (fsck --strict clean)', () => {
    for (const n of [...sizes, 65535, 65536, 131071]) {
      const data = crypto.randomBytes(n);
      expect(zlib.inflateSync(zlibSmall(data)).equals(data), `size ${n}`).toBe(true);
    }
    const repo = makeRepo();
    const w = new ObjectWriter(path.join(repo, '.git', 'objects'));
    const texts = sizes.map((n) => 'x'.repeat(n));
    const blobs = texts.map((t) => w.blob(t));
    blobs.forEach((oid, i) => {
      const byGit = spawnSync('git', ['hash-object', '--stdin'], { cwd: repo, input: texts[i], encoding: 'utf8' });
      expect(byGit.stdout.trim(), `size ${texts[i]!.length}`).toBe(oid);
      const r = spawnSync('git', ['cat-file', 'blob', oid], { cwd: repo, maxBuffer: 1 << 24 });
      expect(r.status).toBe(0);
      expect(r.stdout.toString()).toBe(texts[i]);
    });
    expect(spawnSync('git', ['fsck', '--strict', '--no-progress'], { cwd: repo }).status).toBe(0);
  });

  it('objects written from pieces (stored blocks, not copied) inflate to their input, and git reads them', () => {
    // Piece edges on and around the 65,535-byte block edges, empty pieces, one piece and many.
    for (const n of [0, 1, 65534, 65535, 65536, 131070, 131071, 200000]) {
      const data = crypto.randomBytes(n);
      const cuts = [0, Math.floor(n / 3), Math.min(n, 65535), Math.min(n, 65536), n].sort((a, b) => a - b);
      const pieces = cuts.slice(1).map((c, i) => data.subarray(cuts[i]!, c));
      const framed = Buffer.concat(zlibStoredPieces(pieces));
      expect(zlib.inflateSync(framed).equals(data), `size ${n}`).toBe(true);
      // Every piece of input is framed as it is: the output is the input plus 5 bytes a block, 2 and 4.
      expect(framed.length, `size ${n}`).toBe(n + 6 + 5 * Math.max(1, Math.ceil(n / 65535)));
      expect(Buffer.concat(zlibStoredPieces([data])).equals(framed), `size ${n} whole`).toBe(true);
    }
    const repo = makeRepo();
    const w = new ObjectWriter(path.join(repo, '.git', 'objects'));
    for (const n of [0, 70000, 300000]) {
      const data = crypto.randomBytes(n);
      const oid = w.writePieces('blob', [data.subarray(0, 7), Buffer.alloc(0), data.subarray(7)]);
      const byGit = spawnSync('git', ['hash-object', '--stdin'], { cwd: repo, input: data, encoding: 'utf8' });
      expect(oid, `size ${n}`).toBe(byGit.stdout.trim());
      const r = spawnSync('git', ['cat-file', 'blob', oid], { cwd: repo, maxBuffer: 1 << 24 });
      expect(r.stdout.equals(data), `size ${n}`).toBe(true);
    }
    expect(spawnSync('git', ['fsck', '--strict', '--no-progress'], { cwd: repo }).status).toBe(0);
  });

  it('random bytes come from the system: distinct, and spread over every value', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) seen.add(randomHex(8));
    expect(seen.size).toBe(1000);
    const counts = new Array<number>(256).fill(0);
    for (const b of randomFill(Buffer.alloc(256 * 200))) counts[b]!++;
    expect(Math.min(...counts)).toBeGreaterThan(100);
    expect(Math.max(...counts)).toBeLessThan(320);
  });
});
