/**
 * Git objects. Writing happens in-process (a loose object is a zlib-deflated "<type> <size>\0<data>"
 * named by its SHA-1), which costs no process start; reading goes through `git cat-file --batch`
 * because objects may be packed.
 */
import { deflateOptions, sha1Hex, zlibSmall, zlibStoredPieces } from '../core/digest';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { runGit, spawnGit, unlinkedTempFile } from './exec';
import type { Repo } from './repo';

export type ObjectType = 'blob' | 'tree' | 'commit';

export interface TreeEntry {
  mode: '100644' | '100755' | '40000' | '120000' | '160000';
  name: string;
  oid: string;
}

export interface Ident {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  when: number;
}

export interface CommitSpec {
  tree: string;
  parents: string[];
  author: Ident;
  committer: Ident;
  message: string;
}

/** The directory mode git uses under core.sharedRepository (group: g+rwx and setgid; all: also o+rx). */
function sharedDirMode(shared: string | null): number | null {
  if (!shared) return null;
  const v = shared.toLowerCase();
  if (v === 'false' || v === 'umask' || v === '0') return null;
  if (v === 'group' || v === 'true' || v === '1') return 0o2775;
  if (v === 'all' || v === 'world' || v === 'everybody' || v === '2') return 0o2777;
  if (/^0[0-7]{3}$/.test(v)) {
    const m = parseInt(v, 8);
    return 0o2000 | m | ((m & 0o444) >> 2); // x wherever r is set
  }
  return null;
}

/**
 * The mode git gives a file it writes under core.sharedRepository (its calc_shared_perm): the user's bits
 * copied to the group (group) or to everyone (all), write only where the user may write; an octal value
 * replaces the permission bits. Null when the repository is not shared (the umask decides, as for git).
 */
export function sharedFileMode(shared: string | null | (() => string | null) | undefined, mode: number): number | null {
  const v = (typeof shared === 'function' ? shared() : (shared ?? null))?.toLowerCase() ?? null;
  if (!v || v === 'false' || v === 'umask' || v === '0') return null;
  let tweak: number;
  let replace = false;
  if (v === 'group' || v === 'true' || v === '1') tweak = 0o660;
  else if (v === 'all' || v === 'world' || v === 'everybody' || v === '2') tweak = 0o664;
  else if (/^0[0-7]{3}$/.test(v)) {
    tweak = parseInt(v, 8);
    replace = true;
  } else return null;
  if (!(mode & 0o200)) tweak &= ~0o222;
  if (mode & 0o100) tweak |= (tweak & 0o444) >> 2;
  return replace ? (mode & ~0o777) | tweak : mode | tweak;
}

/** Gives `file`, just written, the mode a shared repository needs, from the one it got (nothing when not shared). */
export function shareFile(file: string, shared: string | null | (() => string | null) | undefined): void {
  const value = typeof shared === 'function' ? shared() : (shared ?? null);
  // Most repositories are not shared: no stat for them (this runs for every object and pack written).
  if (sharedFileMode(value, 0o600) === null) return;
  const m = sharedFileMode(value, fs.statSync(file).mode & 0o777);
  if (m !== null) fs.chmodSync(file, m);
}

/** mkdir -p that gives each directory it creates the shared mode (umask would otherwise take g+w away). */
export function makeSharedDir(dir: string, shared: string | null | (() => string | null) | undefined): void {
  if (fs.existsSync(dir)) return;
  const mode = sharedDirMode(typeof shared === 'function' ? shared() : (shared ?? null));
  if (mode === null) {
    fs.mkdirSync(dir, { recursive: true });
    return;
  }
  const missing: string[] = [];
  for (let d = dir; !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      fs.mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    fs.chmodSync(d, mode);
  }
}

/** Removes a file, if it is there (one unlink; fs.rmSync also stats it first). */
export function unlinkIfThere(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

let tmpCount = 0;
/** A name for a temporary file, unique within this process (the pid makes it unique between processes). */
export function tmpName(): string {
  tmpCount += 1;
  return `${tmpCount.toString(36)}_${Math.random().toString(36).slice(2, 10)}`;
}

/** The id an object would have, without writing it. */
export function hashObject(type: ObjectType, data: Buffer): { oid: string; raw: Buffer } {
  const raw = Buffer.concat([Buffer.from(`${type} ${data.length}\0`), data]);
  return { oid: sha1Hex(raw), raw };
}

/**
 * The ledger objects a process wrote as loose objects and has not packed yet, kept in memory so that it can
 * pack them itself (git/maintenance.ts packJournal) without `git pack-objects` reading them back.
 */
export interface Journal {
  objects: { oid: string; type: ObjectType; data: Buffer }[];
  bytes: number;
  seen: Set<string>;
}

const journals = new Map<string, Journal>();

/** This process's journal for an object directory. */
export function journalOf(objectsDir: string): Journal {
  let j = journals.get(objectsDir);
  if (!j) journals.set(objectsDir, (j = { objects: [], bytes: 0, seen: new Set() }));
  return j;
}

/** Forgets what a journal holds (its objects were packed, or are left loose for packIfMany). */
export function clearJournal(j: Journal): void {
  j.objects = [];
  j.bytes = 0;
  j.seen.clear();
}

/** Writes loose objects into a repository's object directory. */
export class ObjectWriter {
  /**
   * `shared`: core.sharedRepository as git reads it ('group', 'all', an octal mode, or null), so that
   * directories and objects handoff creates stay usable by the other users of a shared repository.
   * `journal`: where to note each object written, for this process to pack them itself later.
   */
  constructor(
    private readonly objectsDir: string,
    private readonly shared: (() => string | null) | null = null,
    private readonly journal: Journal | null = null,
  ) {}

  /**
   * Writes one object (if it is not there already) and returns its id. `unique`: the caller knows the
   * object is new (it holds a new event's id), so the check for an existing copy is skipped.
   */
  write(type: ObjectType, data: Buffer, unique = false): string {
    const { oid, raw } = hashObject(type, data);
    if (!unique && this.has(oid)) return oid;
    this.store(oid, type, data, zlibSmall(raw));
    return oid;
  }

  /**
   * Writes one object given as pieces of its content (a tree spliced from a larger one, say), framed as
   * stored deflate blocks: neither the content nor its compressed form is made as a buffer of its own.
   * For large objects written once and soon packed, where compressing and copying cost more than the
   * bytes saved on disk.
   */
  writePieces(type: ObjectType, pieces: Buffer[], unique = false): string {
    let size = 0;
    for (const p of pieces) size += p.length;
    const header = Buffer.from(`${type} ${size}\0`);
    const oid = sha1Hex(header, ...pieces);
    if (!unique && this.has(oid)) return oid;
    const framed = zlibStoredPieces([header, ...pieces]);
    this.place(oid, (tmp) => {
      const fd = fs.openSync(tmp, 'wx', 0o444);
      try {
        fs.writevSync(fd, framed);
      } finally {
        fs.closeSync(fd);
      }
    });
    if (this.journal && !this.journal.seen.has(oid)) {
      const data = Buffer.concat(pieces);
      this.journal.seen.add(oid);
      this.journal.objects.push({ oid, type, data });
      this.journal.bytes += data.length;
    }
    return oid;
  }

  /**
   * Whether the loose object `oid` is there already; if so, its time is made now, as git freshens an object it
   * would have written: a gc that prunes unreachable objects older than a date (gc.pruneExpire, two weeks)
   * then keeps it until a ref holds it. One it may not touch (another user's) counts as not there: written anew.
   */
  protected has(oid: string): boolean {
    // Asked first without an exception (the object is nearly always new): thrown errors cost at every write.
    const file = path.join(this.objectsDir, oid.slice(0, 2), oid.slice(2));
    if (!fs.existsSync(file)) return false;
    const now = new Date();
    try {
      fs.utimesSync(file, now, now);
      return true;
    } catch {
      return false;
    }
  }

  /** Writes an object's file from its deflated bytes (and notes it in the journal). */
  protected store(oid: string, type: ObjectType, data: Buffer, deflated: Buffer): void {
    this.place(oid, (tmp) => fs.writeFileSync(tmp, deflated, { mode: 0o444 }));
    if (this.journal && !this.journal.seen.has(oid)) {
      this.journal.seen.add(oid);
      this.journal.objects.push({ oid, type, data });
      this.journal.bytes += data.length;
    }
  }

  /** Puts the loose object `oid` in place: `write` makes a temporary file, renamed to the object's name. */
  private place(oid: string, write: (tmp: string) => void): void {
    const dir = path.join(this.objectsDir, oid.slice(0, 2));
    const file = path.join(dir, oid.slice(2));
    // The directory is made when the write finds it missing (git gc removes empty object directories, also
    // between our mkdir and our write: then it is made again).
    for (let attempt = 0; ; attempt++) {
      const tmp = path.join(dir, `tmp_obj_handoff_${process.pid}_${tmpName()}`);
      try {
        if (attempt > 0) makeSharedDir(dir, this.shared);
        write(tmp);
        shareFile(tmp, this.shared);
        // rename is atomic: readers see the whole object or none. An identical object may win the race; fine.
        fs.renameSync(tmp, file);
        return;
      } catch (err) {
        unlinkIfThere(tmp);
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 20) throw err;
      }
    }
  }

  /** Writes a blob. */
  blob(data: Buffer | string, unique = false): string {
    return this.write('blob', typeof data === 'string' ? Buffer.from(data, 'utf8') : data, unique);
  }

  /** Writes a tree from its entries, sorted the way git requires. */
  tree(entries: TreeEntry[], unique = false): string {
    // Each entry's sort key once (a directory sorts as "name/"), not a pair of buffers per comparison.
    const keyed = entries.map((e) => ({ e, key: Buffer.from(e.mode === '40000' ? `${e.name}/` : e.name) }));
    keyed.sort((a, b) => Buffer.compare(a.key, b.key));
    const parts: Buffer[] = [];
    for (const { e } of keyed) parts.push(Buffer.from(`${e.mode} ${e.name}\0`), Buffer.from(e.oid, 'hex'));
    return this.write('tree', Buffer.concat(parts), unique);
  }

  /** Writes a commit. */
  commit(spec: CommitSpec, unique = false): string {
    const lines = [`tree ${spec.tree}`];
    for (const p of spec.parents) lines.push(`parent ${p}`);
    lines.push(`author ${formatIdent(spec.author)}`, `committer ${formatIdent(spec.committer)}`, '', spec.message);
    return this.write('commit', Buffer.from(lines.join('\n'), 'utf8'), unique);
  }
}

function formatIdent(i: Ident): string {
  const clean = (s: string) => s.replace(/[<>\n]/g, '');
  return `${clean(i.name)} <${clean(i.email)}> ${Math.floor(i.when)} +0000`;
}

/**
 * An ObjectWriter that returns each id at once and compresses on libuv's threads while the caller goes on
 * (a large tree takes milliseconds to deflate); flush() writes the files, and must be awaited before
 * anything refers to the objects.
 */
export class DeferredObjectWriter extends ObjectWriter {
  private readonly queued = new Map<string, Promise<void>>();

  override write(type: ObjectType, data: Buffer, unique = false): string {
    const { oid, raw } = hashObject(type, data);
    if (this.queued.has(oid) || (!unique && this.has(oid))) return oid;
    const written = new Promise<Buffer>((resolve, reject) =>
      zlib.deflate(raw, deflateOptions(raw.length), (err, out) => (err ? reject(err) : resolve(out))),
    ).then((deflated) => this.store(oid, type, data, deflated));
    // A failure is reported by flush(); a writer never flushed (the caller failed first) writes nothing more.
    written.catch(() => undefined);
    this.queued.set(oid, written);
    return oid;
  }

  /** Waits until every object given so far is written. */
  async flush(): Promise<void> {
    await Promise.all(this.queued.values());
  }
}

/** Objects kept in memory to be written as one pack (git/pack-writer.ts): ObjectWriter's helpers, no files. */
export class MemoryObjectWriter extends ObjectWriter {
  readonly objects: { oid: string; type: ObjectType; data: Buffer }[] = [];
  private readonly seen = new Set<string>();

  constructor() {
    super('');
  }

  override write(type: ObjectType, data: Buffer): string {
    const { oid } = hashObject(type, data);
    if (!this.seen.has(oid)) {
      this.seen.add(oid);
      this.objects.push({ oid, type, data });
    }
    return oid;
  }

  override writePieces(type: ObjectType, pieces: Buffer[]): string {
    return this.write(type, Buffer.concat(pieces));
  }
}

export interface CatFileResult {
  oid: string;
  type: string;
  content: Buffer;
}

/** Reads many objects (`<oid>` or `<rev>:<path>`) in one `git cat-file --batch`; missing ones map to null. */
export function readObjects(repo: Repo, specs: string[]): Map<string, CatFileResult | null> {
  if (specs.length === 0) return new Map();
  // cat-file reads one name a line: `<rev>:<path>` whose path holds a newline is looked up by its object id.
  const asked = specs.map((s) => (/[\n\r]/.test(s) ? (entryOid(repo, s) ?? '0'.repeat(40)) : s));
  const res = runGit(['cat-file', '--batch', '--buffer'], { cwd: repo.cwd, input: batchInput(asked) });
  const byAsked = parseBatch(asked, res.stdout);
  return new Map(specs.map((s, i) => [s, byAsked.get(asked[i]!) ?? null]));
}

/** A path's entry in a tree, as `git ls-tree` gives it. */
export interface PathEntry {
  mode: string;
  oid: string;
}

/** The entries (mode and object id) at `paths` in a tree or commit, by path; a path that is not there is left out. */
export function treeEntries(repo: Repo, rev: string, paths: string[]): Map<string, PathEntry> {
  const out = new Map<string, PathEntry>();
  if (!paths.length || !/^[0-9a-f]{40,64}$/.test(rev)) return out;
  const res = runGit(['--literal-pathspecs', 'ls-tree', '-z', '--full-tree', rev, '--', ...paths], {
    cwd: repo.cwd,
    allowFailure: true,
  });
  if (res.status !== 0) return out;
  const wanted = new Set(paths);
  for (const rec of res.stdout.toString('utf8').split('\0')) {
    const tab = rec.indexOf('\t');
    if (tab < 0 || !wanted.has(rec.slice(tab + 1))) continue;
    const [mode, , oid] = rec.slice(0, tab).split(' ');
    out.set(rec.slice(tab + 1), { mode: mode!, oid: oid! });
  }
  return out;
}

/** The object id at `<rev>:<path>` (git ls-tree, which takes any path), or null when there is none. */
function entryOid(repo: Repo, spec: string): string | null {
  const colon = spec.indexOf(':');
  const rev = spec.slice(0, colon);
  const file = spec.slice(colon + 1);
  if (colon <= 0 || !/^[0-9a-f]{40,64}$/.test(rev) || !file) return null;
  const out = runGit(['--literal-pathspecs', 'ls-tree', '-z', '--full-tree', rev, '--', file], {
    cwd: repo.cwd,
    allowFailure: true,
  });
  if (out.status !== 0) return null;
  // "<mode> <type> <oid>\t<path>\0", for this path only (a pathspec may also list a directory above it).
  for (const rec of out.stdout.toString('utf8').split('\0')) {
    const tab = rec.indexOf('\t');
    if (tab > 0 && rec.slice(tab + 1) === file) return rec.slice(0, tab).split(' ')[2] ?? null;
  }
  return null;
}

/** The input of a `git cat-file --batch` for `specs` (a name holding a newline cannot be asked for). */
export function batchInput(specs: string[]): string {
  for (const s of specs) if (/[\n\r]/.test(s)) throw new Error(`object name contains a newline: ${JSON.stringify(s)}`);
  return specs.length ? `${specs.join('\n')}\n` : '';
}

/** The objects in the output of a `git cat-file --batch` given batchInput(specs), by spec. */
export function parseBatch(specs: string[], buf: Buffer): Map<string, CatFileResult | null> {
  const out = new Map<string, CatFileResult | null>();
  let pos = 0;
  for (const spec of specs) {
    const nl = buf.indexOf(10, pos);
    if (nl < 0) throw new Error('truncated output from git cat-file');
    const header = buf.toString('utf8', pos, nl);
    pos = nl + 1;
    if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
      out.set(spec, null);
      continue;
    }
    const [oid, type, sizeText] = header.split(' ');
    const size = Number(sizeText);
    out.set(spec, { oid: oid!, type: type!, content: buf.subarray(pos, pos + size) });
    pos += size + 1;
  }
  return out;
}

/**
 * Streams objects (`<oid>` or `<rev>:<path>`) from one `git cat-file --batch`, calling `onObject` for each
 * in order (null when missing); `onObject` returning false ends the stream there. git writes into an
 * unlinked temporary file that this process follows, so git never waits for the caller (a pipe would hold
 * 64 KiB and stop git while the caller works) and memory holds one chunk, not the output. `beforeWait`
 * runs whenever the stream is about to wait for git (and so lets other work of this process run): what
 * the caller does synchronously in between, such as a transaction, is never interleaved with other work.
 * An object's content is a view of the buffer git's output is read into, valid during the call only: a
 * caller that keeps it copies it.
 */
export async function streamObjects(
  repo: Repo,
  specs: string[] | { count: number; at: (i: number) => string },
  onObject: (spec: string, obj: CatFileResult | null) => boolean | void,
  opts: { beforeWait?: () => void } = {},
): Promise<void> {
  const count = Array.isArray(specs) ? specs.length : specs.count;
  const at = Array.isArray(specs) ? (i: number) => specs[i]! : specs.at;
  if (count === 0) return;
  // git reads the names from, and writes into, unlinked temporary files when they can be made, else pipes:
  // with files, neither side ever waits for the other.
  const fd = unlinkedTempFile('handoff-cat-file');
  let input = fd === null ? null : unlinkedTempFile('handoff-cat-file');
  /** The names, a chunk at a time (never all held as one string), up to any that git cannot take. */
  function* nameChunks(): Generator<string> {
    const CHUNK = 4096;
    for (let i = 0; i < count; i += CHUNK) {
      const names: string[] = [];
      for (let j = i; j < Math.min(count, i + CHUNK); j++) {
        const name = at(j);
        // A name with a newline ends the input there: the stream reports the objects it did not get.
        if (/[\n\r]/.test(name)) {
          if (names.length) yield `${names.join('\n')}\n`;
          return;
        }
        names.push(name);
      }
      yield `${names.join('\n')}\n`;
    }
  }
  let child: ReturnType<typeof spawnGit>;
  try {
    if (input !== null) {
      try {
        let offset = 0;
        for (const text of nameChunks()) {
          const b = Buffer.from(text, 'utf8');
          for (let w = 0; w < b.length;) w += fs.writeSync(input, b, w, b.length - w, offset + w);
          offset += b.length;
        }
      } catch (err) {
        // The file could not be written (a full disk): the names go through a pipe instead.
        fs.closeSync(input);
        input = null;
        if (!(err as NodeJS.ErrnoException).code) throw err;
      }
    }
    child = spawnGit(['cat-file', '--batch', '--buffer'], {
      cwd: repo.cwd,
      ...(fd !== null ? { stdout: fd } : {}),
      ...(input !== null ? { stdin: input } : {}),
    });
  } catch (err) {
    if (fd !== null) fs.closeSync(fd);
    throw err;
  } finally {
    if (input !== null) fs.closeSync(input);
  }
  let exitCode: number | null = null;
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve((exitCode = code ?? 1)));
  });
  exited.catch(() => undefined); // a git that could not start is reported where the stream waits for it
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  if (input === null && child.stdin) {
    const stdin = child.stdin;
    stdin.on('error', () => {
      /* git exited early: reported below */
    });
    void (async () => {
      for (const text of nameChunks()) {
        if (stdin.destroyed) return;
        if (!stdin.write(text)) await new Promise((r) => stdin.once('drain', r));
      }
      stdin.end();
    })().catch((err: Error) => stdin.destroy(err)); // a name that could not be made ends git's input there
  }
  let next = 0;
  let stopped = false;
  /** Hands out every whole object in `buf`; returns how many bytes that took. */
  const consume = (buf: Buffer): number => {
    let pos = 0;
    while (next < count) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0) break;
      const header = buf.toString('utf8', pos, nl);
      let obj: CatFileResult | null = null;
      if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
        pos = nl + 1;
      } else {
        const [oid, type, sizeText] = header.split(' ');
        const size = Number(sizeText);
        if (buf.length < nl + 1 + size + 1) break;
        // A view, not a copy: valid during the call only (see the header).
        obj = { oid: oid!, type: type!, content: buf.subarray(nl + 1, nl + 1 + size) };
        pos = nl + 1 + size + 1;
      }
      if (onObject(at(next++), obj) === false) {
        stopped = true;
        break;
      }
    }
    return pos;
  };
  const done = () => stopped || next >= count;
  let failed = false;
  try {
    if (fd === null) {
      if (!child.stdout) await exited; // git did not start: its error
      let buf: Buffer = Buffer.alloc(0);
      for await (const piece of child.stdout!) {
        buf = buf.length ? Buffer.concat([buf, piece as Buffer]) : (piece as Buffer);
        buf = buf.subarray(consume(buf));
        if (done()) break;
        opts.beforeWait?.();
      }
    } else {
      // What git wrote is followed in the file and handed out without yielding while there is more: the
      // stream waits (and lets other work run, after beforeWait) only when it has caught up with git. One
      // buffer is read into throughout (buffers made and dropped here would be freed only when it waits);
      // the part of an object not yet whole moves to its start.
      let buf = Buffer.alloc(1 << 20);
      let have = 0;
      for (let offset = 0; ;) {
        const finished = exitCode !== null; // taken before reading: then what git wrote is all there
        if (have === buf.length) {
          const bigger = Buffer.alloc(buf.length * 2); // an object larger than the buffer
          buf.copy(bigger, 0, 0, have);
          buf = bigger;
        }
        const n = fs.readSync(fd, buf, have, buf.length - have, offset);
        if (n === 0) {
          if (finished) break;
          opts.beforeWait?.();
          await new Promise((r) => setTimeout(r, 2));
          continue;
        }
        offset += n;
        have += n;
        const used = consume(buf.subarray(0, have));
        if (done()) break;
        buf.copy(buf, 0, used, have);
        have -= used;
      }
    }
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    try {
      // The caller's last work is ended as at any wait (a transaction committed), but not after a failure,
      // which the caller undoes.
      if (!failed) opts.beforeWait?.();
    } finally {
      // Stopped early or failed: git need not finish.
      if (exitCode === null && (stopped || next < count)) child.kill();
      await exited.catch(() => 1);
      if (fd !== null) fs.closeSync(fd);
    }
  }
  if (stopped) return;
  if (next < count) throw new Error(`git cat-file stopped after ${next} of ${count} objects: ${stderr.trim()}`);
  if (exitCode !== 0) throw new Error(`git cat-file failed: ${stderr.trim()}`);
}

/** Reads one object's content, or null when it does not exist. */
export function readObject(repo: Repo, spec: string): CatFileResult | null {
  return readObjects(repo, [spec]).get(spec) ?? null;
}
