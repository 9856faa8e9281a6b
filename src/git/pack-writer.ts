/**
 * Writing a pack from objects held in memory: what a long-running writer does with the ledger objects it
 * wrote itself, instead of starting `git pack-objects` to read their loose copies back. Format: git's
 * Documentation/gitformat-pack.txt (pack version 2, every object whole, no deltas; index version 2).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { makeSharedDir, tmpName, type ObjectType } from './objects';

export interface PackObject {
  oid: string;
  type: ObjectType;
  data: Buffer;
}

const TYPE_CODE: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3 };

let crcTable: Uint32Array | null = null;
/** CRC-32 (the zlib polynomial), as the pack index records it for each entry. */
function crc32(buf: Buffer): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = crcTable[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** An entry's header: type and size, the size in 4 bits and then 7 bits per byte, low bits first. */
function entryHeader(type: ObjectType, size: number): Buffer {
  const bytes: number[] = [];
  let byte = (TYPE_CODE[type] << 4) | (size & 0x0f);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes.push(byte | 0x80);
    byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  bytes.push(byte);
  return Buffer.from(bytes);
}

/**
 * Writes `objects` (distinct ids) as one pack with its index into `objectsDir/pack`, and returns the pack's
 * name (`pack-<checksum>`). The pack is renamed into place before its index, as git does, so a reader
 * that finds the index finds the pack.
 */
export function writePack(objectsDir: string, objects: PackObject[], shared: (() => string | null) | null): string {
  const packDir = path.join(objectsDir, 'pack');
  makeSharedDir(packDir, shared);
  const head = Buffer.alloc(12);
  head.write('PACK', 0, 'ascii');
  head.writeUInt32BE(2, 4);
  head.writeUInt32BE(objects.length, 8);
  const parts: Buffer[] = [head];
  const entries: { oid: string; crc: number; offset: number }[] = [];
  let offset = head.length;
  for (const o of objects) {
    const entry = Buffer.concat([entryHeader(o.type, o.data.length), zlib.deflateSync(o.data, { level: 1 })]);
    entries.push({ oid: o.oid, crc: crc32(entry), offset });
    parts.push(entry);
    offset += entry.length;
  }
  if (offset > 0x7fffffff) throw new Error('a pack written from memory must stay under 2 GiB');
  const body = Buffer.concat(parts);
  const packSum = crypto.createHash('sha1').update(body).digest();
  const pack = Buffer.concat([body, packSum]);

  entries.sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
  const n = entries.length;
  const idx = Buffer.alloc(8 + 256 * 4 + n * 20 + n * 4 + n * 4 + 20);
  idx.writeUInt32BE(0xff744f63, 0); // "\377tOc"
  idx.writeUInt32BE(2, 4);
  const fanout = new Array<number>(256).fill(0);
  for (const e of entries) fanout[parseInt(e.oid.slice(0, 2), 16)]! += 1;
  let at = 8;
  let total = 0;
  for (let i = 0; i < 256; i++) {
    total += fanout[i]!;
    idx.writeUInt32BE(total, at);
    at += 4;
  }
  for (const e of entries) {
    idx.write(e.oid, at, 'hex');
    at += 20;
  }
  for (const e of entries) {
    idx.writeUInt32BE(e.crc, at);
    at += 4;
  }
  for (const e of entries) {
    idx.writeUInt32BE(e.offset, at);
    at += 4;
  }
  packSum.copy(idx, at);
  at += 20;
  const full = Buffer.concat([idx.subarray(0, at), crypto.createHash('sha1').update(idx.subarray(0, at)).digest()]);

  const name = `pack-${packSum.toString('hex')}`;
  const tmp = path.join(packDir, `tmp_handoff_${process.pid}_${tmpName()}`);
  try {
    fs.writeFileSync(`${tmp}.pack`, pack, { mode: 0o444 });
    fs.writeFileSync(`${tmp}.idx`, full, { mode: 0o444 });
    fs.renameSync(`${tmp}.pack`, path.join(packDir, `${name}.pack`));
    fs.renameSync(`${tmp}.idx`, path.join(packDir, `${name}.idx`));
  } finally {
    fs.rmSync(`${tmp}.pack`, { force: true });
    fs.rmSync(`${tmp}.idx`, { force: true });
  }
  return name;
}
