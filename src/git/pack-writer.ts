/**
 * Writing a pack from objects held in memory: what a long-running writer does with the ledger objects it
 * wrote itself, instead of starting `git pack-objects` to read their loose copies back. Format: git's
 * Documentation/gitformat-pack.txt (pack version 2, every object whole, no deltas; index version 2).
 */
import fs from 'node:fs';
import path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import zlib from 'node:zlib';
import { deflateOptions, sha1Hex, zlibSmall, zlibStoredPieces } from '../core/digest';
import { hashObject, makeSharedDir, ObjectWriter, shareFile, tmpName, unlinkIfThere, type ObjectType } from './objects';

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

/** One object as a pack holds it: its entry (header and deflated data) and the entry's CRC-32. */
interface PackEntry {
  oid: string;
  /** The id's 20 bytes. */
  raw: Buffer;
  bytes: Buffer;
  crc: number;
  /** An entry stored (not deflated) keeps its object until it is deflated on another thread. */
  object?: PackObject;
}

function encodeEntry(o: PackObject, compress = true): PackEntry {
  const data = compress ? zlib.deflateSync(o.data, deflateOptions(o.data.length)) : zlibSmall(o.data);
  const bytes = Buffer.concat([entryHeader(o.type, o.data.length), data]);
  return { oid: o.oid, raw: Buffer.from(o.oid, 'hex'), bytes, crc: crc32(bytes), ...(compress ? {} : { object: o }) };
}

/**
 * Deflates stored entries on a worker thread, for a pack window: creating a zlib stream per small object
 * costs the writing thread about 10 us, more than the write itself saves. Work is handed over when the
 * small pack is merged into the large one, and the results are taken (polled, never waited for) at the
 * next publishes, so the large pack's later copies are compressed. A worker that cannot start leaves the
 * entries stored. The worker never keeps the process alive.
 */
class Deflater {
  private port: MessagePort | null = null;
  private failed = false;
  private nextId = 1;
  private readonly pending = new Map<number, PackEntry[]>();

  submit(entries: PackEntry[]): void {
    const todo = entries.filter((e) => e.object);
    if (!todo.length || !this.start()) return;
    const id = this.nextId++;
    this.pending.set(id, todo);
    this.port!.postMessage({ id, items: todo.map((e) => e.object!.data) });
  }

  /** Applies every result that has arrived; returns the change in the entries' total size. */
  poll(): number {
    let delta = 0;
    while (this.port && this.pending.size) {
      const got = receiveMessageOnPort(this.port) as { message: { id: number; out: Uint8Array[] } } | undefined;
      if (!got) break;
      const entries = this.pending.get(got.message.id);
      this.pending.delete(got.message.id);
      entries?.forEach((e, i) => {
        const o = e.object;
        const out = got.message.out[i];
        if (!o || !out) return;
        const bytes = Buffer.concat([entryHeader(o.type, o.data.length), out]);
        e.object = undefined;
        if (bytes.length >= e.bytes.length) return;
        delta += bytes.length - e.bytes.length;
        e.bytes = bytes;
        e.crc = crc32(bytes);
      });
    }
    return delta;
  }

  private start(): boolean {
    if (this.port) return true;
    if (this.failed) return false;
    try {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(
        `const { workerData } = require('node:worker_threads');
         const zlib = require('node:zlib');
         const options = ${deflateOptions.toString()};
         workerData.port.on('message', ({ id, items }) => {
           const out = items.map((d) => zlib.deflateSync(d, options(d.length)));
           workerData.port.postMessage({ id, out }, out.map((b) => b.buffer));
         });`,
        { eval: true, workerData: { port: port2 }, transferList: [port2] },
      );
      worker.on('error', () => {
        this.failed = true;
        this.port = null;
      });
      worker.unref();
      this.port = port1;
      return true;
    } catch {
      this.failed = true;
      return false;
    }
  }
}

/**
 * Writes `objects` (distinct ids) as one pack with its index into `objectsDir/pack`, and returns the pack's
 * name (`pack-<checksum>`). The pack is renamed into place before its index, as git does, so a reader
 * that finds the index finds the pack.
 */
export function writePack(
  objectsDir: string,
  objects: PackObject[],
  shared: (() => string | null) | null,
  opts: { stored?: boolean } = {},
): string {
  return installPack(
    objectsDir,
    // Stored (not deflated) for a pack that lives a moment (a patch's scratch pack): small objects are
    // then written at once, not each through a zlib stream.
    objects.map((o) => (opts.stored ? storedEntry(o) : encodeEntry(o))),
    shared,
  );
}

/** An object as a pack entry in zlib's stored blocks (RFC 1951, type 00). */
function storedEntry(o: PackObject): PackEntry {
  const bytes = Buffer.concat([entryHeader(o.type, o.data.length), ...zlibStoredPieces([o.data])]);
  return { oid: o.oid, raw: Buffer.from(o.oid, 'hex'), bytes, crc: crc32(bytes) };
}

/** Pack directories this process has made sure of (a window publishes at every append: no stat each time). */
const packDirs = new Set<string>();

function installPack(objectsDir: string, objects: PackEntry[], shared: (() => string | null) | null): string {
  const packDir = path.join(objectsDir, 'pack');
  if (!packDirs.has(packDir)) {
    makeSharedDir(packDir, shared);
    packDirs.add(packDir);
  }
  let size = 12;
  for (const o of objects) size += o.bytes.length;
  if (size > 0x7fffffff) throw new Error('a pack written from memory must stay under 2 GiB');
  // The pack: header, entries, then the SHA-1 of both.
  const pack = Buffer.allocUnsafe(size + 20);
  pack.write('PACK', 0, 'ascii');
  pack.writeUInt32BE(2, 4);
  pack.writeUInt32BE(objects.length, 8);
  const entries: { e: PackEntry; offset: number }[] = [];
  let offset = 12;
  for (const o of objects) {
    entries.push({ e: o, offset });
    o.bytes.copy(pack, offset);
    offset += o.bytes.length;
  }
  // SHA-1 in JavaScript for a small pack (node's crypto module costs a command milliseconds to load).
  const packSum = Buffer.from(sha1Hex(pack.subarray(0, size)), 'hex');
  packSum.copy(pack, size);

  // The index (version 2): fan-out, sorted ids, CRCs, offsets, the pack's checksum, then its own.
  entries.sort((a, b) => (a.e.oid < b.e.oid ? -1 : a.e.oid > b.e.oid ? 1 : 0));
  const n = entries.length;
  const idxSize = 8 + 256 * 4 + n * 28 + 20;
  const idx = Buffer.allocUnsafe(idxSize + 20);
  idx.writeUInt32BE(0xff744f63, 0); // "\377tOc"
  idx.writeUInt32BE(2, 4);
  const fanout = new Uint32Array(256);
  for (const { e } of entries) fanout[e.raw[0]!]! += 1;
  let at = 8;
  let total = 0;
  for (let i = 0; i < 256; i++) {
    total += fanout[i]!;
    idx.writeUInt32BE(total, at);
    at += 4;
  }
  for (const { e } of entries) {
    e.raw.copy(idx, at);
    at += 20;
  }
  for (const { e } of entries) {
    idx.writeUInt32BE(e.crc, at);
    at += 4;
  }
  for (const { offset: o } of entries) {
    idx.writeUInt32BE(o, at);
    at += 4;
  }
  packSum.copy(idx, at);
  Buffer.from(sha1Hex(idx.subarray(0, idxSize)), 'hex').copy(idx, idxSize);
  const full = idx;

  const name = `pack-${packSum.toString('hex')}`;
  // The temporary names end in neither .pack nor .idx: git takes any "*.idx" in this directory for a pack's
  // index, and one half-written by a process killed here made every git command complain until it was swept.
  const tmp = path.join(packDir, `tmp_handoff_${process.pid}_${tmpName()}`);
  try {
    fs.writeFileSync(`${tmp}_pack`, pack, { mode: 0o444 });
    fs.writeFileSync(`${tmp}_idx`, full, { mode: 0o444 });
    shareFile(`${tmp}_pack`, shared);
    shareFile(`${tmp}_idx`, shared);
    fs.renameSync(`${tmp}_pack`, path.join(packDir, `${name}.pack`));
    fs.renameSync(`${tmp}_idx`, path.join(packDir, `${name}.idx`));
  } catch (err) {
    unlinkIfThere(`${tmp}_pack`);
    unlinkIfThere(`${tmp}_idx`);
    // The directory went (removed by hand since this process made sure of it): made again, once.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && packDirs.delete(packDir))
      return installPack(objectsDir, objects, shared);
    throw err;
  }
  return name;
}

/** Objects up to this size go into a window's packs as they are (zlib's stored blocks): deflating costs more than it saves. */
const STORED_MAX = 512;

/** The small pack is merged into the large one at this many objects (about 32 events). */
const SMALL_OBJECTS = 128;
/** The large pack is sealed (left as it is, and a new one started) at this many objects or bytes. */
const LARGE_OBJECTS = 2048;
const LARGE_BYTES = 8 * 1024 * 1024;

/** A pack this process wrote, with what it holds. */
interface WindowPack {
  entries: PackEntry[];
  bytes: number;
  name: string | null;
}

/**
 * A long-running writer's objects, made visible as packs instead of loose files. The window has two packs:
 * each publish rewrites the small one with every object it held plus the new ones, and removes the old copy;
 * once the small one is full, its objects are written into the large one the same way. A full large pack is
 * sealed: left in place, for git's repack to roll together with the others (git/maintenance.ts). So a process
 * appending thousands of events creates two files per event in one directory, not four loose objects spread
 * over the object directories and removed again when packed, and starts no git process to pack them. A
 * process that dies leaves at most its two packs and copies of them; a repack merges those like any other.
 */
export class PackWindow {
  private readonly small: WindowPack = { entries: [], bytes: 0, name: null };
  private readonly large: WindowPack = { entries: [], bytes: 0, name: null };
  private readonly seen = new Set<string>();
  private added = 0;
  private readonly deflater = new Deflater();

  constructor(private readonly objectsDir: string) {}

  has(oid: string): boolean {
    return this.seen.has(oid);
  }

  add(o: PackObject): void {
    if (this.seen.has(o.oid)) return;
    this.seen.add(o.oid);
    const e = encodeEntry(o, o.data.length > STORED_MAX);
    this.small.entries.push(e);
    this.small.bytes += e.bytes.length;
    this.added += 1;
  }

  /**
   * Makes every object added so far readable by git. Returns true when the large pack was full and has been
   * sealed (so the caller may roll packs together).
   */
  publish(shared: (() => string | null) | null): boolean {
    if (this.added === 0) return false;
    this.added = 0;
    if (this.small.entries.length < SMALL_OBJECTS) {
      this.rewrite(this.small, shared);
      return false;
    }
    this.large.bytes += this.deflater.poll();
    for (const e of this.small.entries) this.large.entries.push(e);
    this.large.bytes += this.small.bytes;
    this.rewrite(this.large, shared);
    this.deflater.submit(this.small.entries);
    this.forget(this.small);
    if (this.large.entries.length < LARGE_OBJECTS && this.large.bytes < LARGE_BYTES) return false;
    this.large.entries = [];
    this.large.bytes = 0;
    this.large.name = null;
    this.seen.clear();
    return true;
  }

  /** Writes `pack` anew with all it holds, then removes its previous copy. */
  private rewrite(pack: WindowPack, shared: (() => string | null) | null): void {
    const previous = pack.name;
    pack.name = installPack(this.objectsDir, pack.entries, shared);
    if (previous !== pack.name) removePack(this.objectsDir, previous);
  }

  /** Empties `pack` (its objects are in the large one now) and removes its file. */
  private forget(pack: WindowPack): void {
    removePack(this.objectsDir, pack.name);
    pack.entries = [];
    pack.bytes = 0;
    pack.name = null;
  }
}

/**
 * Removes a pack this process wrote and no longer needs: the index first, so a reader that lists packs no
 * longer finds it, while one that has it open reads on. A pack already gone (merged by a repack) is fine; one
 * that cannot be removed is left for a repack (its objects are in another pack too).
 */
function removePack(objectsDir: string, name: string | null): void {
  if (!name) return;
  const base = path.join(objectsDir, 'pack', name);
  try {
    unlinkIfThere(`${base}.idx`);
    unlinkIfThere(`${base}.pack`);
  } catch {
    /* see above */
  }
}

const windows = new Map<string, PackWindow>();

/** This process's pack window for an object directory. */
export function packWindowOf(objectsDir: string): PackWindow {
  let w = windows.get(objectsDir);
  if (!w) windows.set(objectsDir, (w = new PackWindow(objectsDir)));
  return w;
}

/** An ObjectWriter whose objects go to a pack window; publish() makes them readable. */
export class WindowObjectWriter extends ObjectWriter {
  constructor(
    objectsDir: string,
    private readonly sharedMode: (() => string | null) | null,
    private readonly window: PackWindow,
  ) {
    super(objectsDir, sharedMode);
  }

  /** Written like any other object of the window (not loose, as ObjectWriter.writePieces would). */
  override writePieces(type: ObjectType, pieces: Buffer[], unique = false): string {
    return this.write(type, Buffer.concat(pieces), unique);
  }

  /**
   * An object the window already holds is not added again. One that is loose or in another pack may be: a
   * second copy in a pack is harmless (a repack keeps one), and looking for the loose file cost each append
   * a stat.
   */
  override write(type: ObjectType, data: Buffer, unique = false): string {
    const { oid } = hashObject(type, data);
    if (unique || !this.window.has(oid)) this.window.add({ oid, type, data });
    return oid;
  }

  /** See PackWindow.publish. */
  publish(): boolean {
    return this.window.publish(this.sharedMode);
  }
}
