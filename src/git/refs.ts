/**
 * Refs. Reading the ledger's refs happens in-process (loose files plus packed-refs, as git's files
 * backend stores them) because every command does it; updating always goes through `git update-ref`
 * with the expected old value, which is git's own compare-and-swap.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ownStartName, processAlive, processStartToken, startNameGone } from '../core/proc';
import { runGit } from './exec';
import { makeSharedDir, shareFile, tmpName, unlinkIfThere } from './objects';
import { writeFileAtomic } from '../core/files';
import type { Repo } from './repo';

const ZERO = '0000000000000000000000000000000000000000';
const OID = /^[0-9a-f]{40}$/;

/** The refs under `prefix` whose history contains any of `commits` (one git call). */
export function refsContainingAny(repo: Repo, commits: string[], prefix: string): string[] {
  const valid = commits.filter((c) => /^[0-9a-f]{40,64}$/.test(c));
  const out = new Set<string>();
  // A thousand at a time: the command line stays short however many there are.
  for (let i = 0; i < valid.length; i += 1000) {
    const some = valid.slice(i, i + 1000).map((c) => `--contains=${c}`);
    const r = runGit(['for-each-ref', ...some, '--format=%(refname)', prefix], { cwd: repo.cwd, allowFailure: true });
    if (r.status === 0) for (const ref of r.stdout.toString('utf8').split('\n')) if (ref) out.add(ref);
  }
  return [...out];
}

/** Every commit reachable from `refs` (full ref names, as for-each-ref gives them; one git call). */
export function commitsReachableFrom(repo: Repo, refs: string[]): Set<string> {
  const names = refs.filter((r) => r.startsWith('refs/'));
  if (names.length === 0) return new Set();
  // On stdin, however many; a ref gone meanwhile (another sync's staging) is skipped, not fatal.
  const r = runGit(['rev-list', '--ignore-missing', '--stdin'], {
    cwd: repo.cwd,
    input: `${names.join('\n')}\n`,
    allowFailure: true,
  });
  return new Set(r.status === 0 ? r.stdout.toString('utf8').split('\n').filter(Boolean) : []);
}

/**
 * Every ref under `prefix` (for example "refs/handoff/"; or under any of several) with the commit it points to. Read in git's
 * order: loose refs first, then packed-refs for the names that have no loose file. `git pack-refs` writes
 * packed-refs before it deletes the loose files, so this order never returns an older value than the
 * one a ref had when the read started (the other order can, while pack-refs runs).
 */
export function readRefs(repo: Repo, prefix: string | string[]): Map<string, string> {
  const prefixes = typeof prefix === 'string' ? [prefix] : prefix;
  const refs = new Map<string, string>();
  const walk = (rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(repo.commonDir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(child);
      else if (e.isFile() && !e.name.endsWith('.lock')) {
        let text: string;
        try {
          text = fs.readFileSync(path.join(repo.commonDir, child), 'utf8').trim();
        } catch {
          continue; // removed between readdir and read by a concurrent pack-refs: packed-refs has it.
        }
        if (OID.test(text)) refs.set(child, text);
      }
    }
  };
  for (const p of prefixes) walk(p.replace(/\/$/, ''));
  try {
    const packed = fs.readFileSync(path.join(repo.commonDir, 'packed-refs'), 'utf8');
    for (const line of packed.split('\n')) {
      if (line.length < 42 || line[0] === '#' || line[0] === '^') continue;
      const name = line.slice(41);
      if (prefixes.some((p) => name.startsWith(p)) && !refs.has(name) && OID.test(line.slice(0, 40)))
        refs.set(name, line.slice(0, 40));
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return refs;
}

/** The commit a ref points to, or null: its loose file, else packed-refs (git's order, as above). */
export function readRef(repo: Repo, ref: string): string | null {
  try {
    const text = fs.readFileSync(path.join(repo.commonDir, ref), 'utf8').trim();
    return OID.test(text) ? text : null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') throw err;
  }
  let packed: string;
  try {
    packed = fs.readFileSync(path.join(repo.commonDir, 'packed-refs'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const at = packed.indexOf(` ${ref}\n`);
  if (at < 40) return null;
  const oid = packed.slice(at - 40, at);
  return OID.test(oid) && (at === 40 || packed[at - 41] === '\n') ? oid : null;
}

export type RefWrite = 'ok' | 'stale' | 'locked';

/**
 * Moves `ref` from `expected` to `next` in-process, with git's own lock-file protocol (create
 * `<ref>.lock` exclusively, check the current value, write, rename over the ref), so it interoperates
 * with every git process. 'stale': the ref holds something else. 'locked': someone holds the lock.
 *
 * handoff's lock is born holding its owner ("handoff-owner <pid> <process start>"): it is hard-linked
 * into place from a file already written, so there is no moment when it exists unmarked. Only a lock so
 * marked whose owner is provably gone (killed mid-write) is removed; any other lock belongs to git (a
 * transaction, pack-refs) and is never touched.
 */
export function writeRefLocked(repo: Repo, ref: string, next: string, expected: string | null): RefWrite {
  const file = path.join(repo.commonDir, ref);
  const lock = `${file}.lock`;
  // Scratch files live outside the refs directory, where git would read them as refs.
  const scratch = scratchDir(repo.commonDir);
  // Directories are made once per process, and again whenever a write finds one gone.
  if (!madeDirs.has(file)) {
    makeSharedDir(path.dirname(file), repo.shared);
    fs.mkdirSync(scratch, { recursive: true });
    madeDirs.add(file);
  }
  // The mark is written once per process and linked into place as the lock at each write.
  const mark = ownMark(scratch);
  try {
    fs.linkSync(mark, lock);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // .git/handoff on another file system than the refs (a symbolic link): scratch files go beside the refs
    // from now on (once: the directory chosen then is on their file system).
    if (code === 'EXDEV' && !crossDevice.has(repo.commonDir)) {
      crossDevice.add(repo.commonDir);
      madeDirs.delete(file);
      return writeRefLocked(repo, ref, next, expected);
    }
    // git pack-refs removes empty ref directories, also between our mkdir and our write: try again.
    if (code === 'ENOENT') {
      madeDirs.delete(file);
      // The ref's directory went (pack-refs), or the mark itself did: only then is a new one made.
      if (!fs.existsSync(mark)) marks.delete(scratch);
      return 'locked';
    }
    if (code !== 'EEXIST') throw err;
    removeIfOwnerGone(lock);
    return 'locked';
  }
  try {
    if ((readRef(repo, ref) ?? null) !== expected) {
      unlinkIfThere(lock);
      return 'stale';
    }
    // The new value goes in through its own file, renamed over the ref while the lock (still naming its
    // owner) is held; then the lock goes. A writer killed at any point leaves a lock that says whose it is.
    renameValueOver(scratch, file, `${next}\n`, repo.shared);
    unlinkIfThere(lock);
    lastWritten.set(file, next);
    return 'ok';
  } catch (err) {
    unlinkIfThere(lock);
    throw err;
  }
}

/** The two value files ("slots") of each ref this process has written more than once, and the one to use next. */
const slots = new Map<string, { files: [string, string]; next: 0 | 1; sizes: [number, number] }>();

/**
 * Puts `text` in place as the ref file `file`, by renaming a file that holds it over the ref. The first
 * time a process writes a ref, that is a new file. From the second, it is one of two files kept for the ref
 * and used in turn, rewritten in place: the one not renamed over the ref last time, so never the ref
 * itself. It is hard-linked under a new name, which is renamed over the ref, so the slot stays.
 *
 * Why: ext4 (auto_da_alloc) writes a new file's data out at once when it is renamed over another, which
 * made that rename 100-280 us, the costliest step of an append (a quarter of an in-process send). A slot's
 * block is allocated from its first write-out on, and rewriting it in place allocates nothing, so its
 * rename writes nothing out (about 20 us for all three steps).
 *
 * A slot linked from anywhere else too (a copy of .git made with hard links) is never rewritten: it is
 * left to that copy and a new one made. Slots are named like value files ("ref-value-<pid>-<start>-..."):
 * removed at exit, and by removeDeadMarks when their process was killed. A slot that is the ref keeps the
 * ref when it is removed (a hard link).
 */
function renameValueOver(scratch: string, file: string, text: string, shared: Repo['shared']): void {
  const name = () => path.join(scratch, `ref-value-${process.pid}-${ownStartName()}-${tmpName()}`);
  // A shared repository's refs are readable (and writable) by the group, as git makes them.
  const share = (f: string) => shared && shareFile(f, shared);
  if (!lastWritten.has(file)) {
    const value = name();
    fs.writeFileSync(value, text);
    share(value);
    fs.renameSync(value, file);
    return;
  }
  let s = slots.get(file);
  if (!s || !s.files[0].startsWith(scratch)) {
    s = { files: [name(), name()], next: 0, sizes: [-1, -1] };
    slots.set(file, s);
    removeAtExit();
  }
  const slot = s.files[s.next];
  let fd: number | null = null;
  try {
    fd = fs.openSync(slot, 'r+');
    // Linked from somewhere else too (a copy of .git made with hard links, cp -al): that copy's ref must
    // keep its value, so this slot is left to it and a new one made.
    if (fs.fstatSync(fd).nlink > 1) {
      fs.closeSync(fd);
      fd = null;
      fs.unlinkSync(slot);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (fd === null) {
    fd = fs.openSync(slot, 'w');
    s.sizes[s.next] = 0;
    share(slot);
  }
  try {
    const data = Buffer.from(text);
    fs.writeSync(fd, data, 0, data.length, 0);
    // A value of another length than the slot's last (SHA-1 and SHA-256 ids differ) must not leave a tail.
    if (s.sizes[s.next] !== data.length) fs.ftruncateSync(fd, data.length);
    s.sizes[s.next] = data.length;
  } finally {
    fs.closeSync(fd);
  }
  const alias = name();
  fs.linkSync(slot, alias);
  try {
    fs.renameSync(alias, file);
  } catch (err) {
    unlinkIfThere(alias);
    throw err;
  }
  s.next = s.next === 0 ? 1 : 0;
}

const OWNER = 'handoff-owner';
const MARK_PREFIX = 'ref-lock-';
/** Where scratch files go when .git/handoff is on another file system than .git/refs (see scratchDir). */
const CROSS_DEVICE_SCRATCH = 'handoff-refs-scratch';
/** Common directories whose .git/handoff turned out to be on another file system than their refs. */
const crossDevice = new Set<string>();

/**
 * The directory of a ref write's scratch files (the lock's mark, the new value): they are linked and renamed
 * into the refs directory, so they must be on its file system. .git/handoff is, unless it was made a
 * symbolic link to somewhere else (a faster disk, say): then .git/handoff-refs-scratch.
 */
function scratchDir(commonDir: string): string {
  return path.join(commonDir, crossDevice.has(commonDir) ? CROSS_DEVICE_SCRATCH : 'handoff');
}
/** The refs whose directories this process has made, and its mark file in each scratch directory. */
const madeDirs = new Set<string>();
const marks = new Map<string, string>();
let removingMarks = false;

/** Removes this process's marks and slots when it exits (one killed by a signal leaves them for removeDeadMarks). */
function removeAtExit(): void {
  if (removingMarks) return;
  process.once('exit', () => {
    marks.forEach((m) => unlinkIfThere(m));
    slots.forEach((s) => s.files.forEach((f) => unlinkIfThere(f)));
  });
  removingMarks = true;
}
/** What this process last wrote to each ref (a guess at the tip, which writeRefLocked checks under the lock). */
const lastWritten = new Map<string, string>();

/** The value this process last wrote to `ref`, if it wrote it (it may have moved since). */
export function lastWrittenRef(repo: Repo, ref: string): string | null {
  return lastWritten.get(path.join(repo.commonDir, ref)) ?? null;
}

/** This process's mark file in `scratch` ("handoff-owner <pid> <process start>"), made at first use. */
function ownMark(scratch: string): string {
  let mark = marks.get(scratch);
  if (mark) return mark;
  mark = path.join(scratch, `${MARK_PREFIX}${process.pid}-${ownStartName()}-${tmpName()}`);
  // Whole or not at all: a mark emptied by a kill could not say whose it is.
  writeFileAtomic(mark, `${OWNER} ${process.pid} ${processStartToken(process.pid) ?? '-'}\n`, 0o644);
  removeAtExit();
  marks.set(scratch, mark);
  return mark;
}

/**
 * Removes the scratch files of processes that no longer run (killed before their exit could remove them):
 * lock marks, ref values written but not yet renamed into place, and chain ref locks a killed writer held
 * (git gc would otherwise say it cannot lock those refs).
 */
export function removeDeadMarks(commonDir: string): void {
  const chains = path.join(commonDir, 'refs', 'handoff', 'chains');
  try {
    for (const name of fs.readdirSync(chains)) if (name.endsWith('.lock')) removeIfOwnerGone(path.join(chains, name));
  } catch {
    /* no chains yet */
  }
  for (const dir of ['handoff', CROSS_DEVICE_SCRATCH]) removeDeadMarksIn(path.join(commonDir, dir));
}

/** removeDeadMarks in one scratch directory. */
function removeDeadMarksIn(scratch: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(scratch);
  } catch {
    return;
  }
  for (const name of names) {
    // "ref-value-<pid>-<start>-..." and "ref-lock-<pid>-<start>-..." (older ones have no <start>).
    const named = /^ref-(lock|value)-(\d+)-(?:(t[A-Za-z0-9.]+)-)?/.exec(name);
    if (!named) continue;
    const byName = () => startNameGone(Number(named[2]), named[3] ?? null);
    if (named[1] === 'value') {
      if (byName()) unlinkIfThere(path.join(scratch, name));
      continue;
    }
    let text = '';
    try {
      text = fs.readFileSync(path.join(scratch, name), 'utf8');
    } catch {
      continue;
    }
    const [tag, pid, token] = text.trim().split(' ');
    // A mark that says whose it is is judged by that; one left empty (by a kill) by its name.
    const gone =
      tag === OWNER ? !processAlive(Number(pid), token && token !== '-' ? token : null) : text === '' && byName();
    if (gone) unlinkIfThere(path.join(scratch, name));
  }
}

/** Removes a lock handoff marked whose owner process no longer runs. */
function removeIfOwnerGone(lock: string): void {
  let text = '';
  try {
    text = fs.readFileSync(lock, 'utf8');
  } catch {
    return; // gone meanwhile
  }
  const [tag, pid, token] = text.trim().split(' ');
  if (tag !== OWNER) return;
  if (!processAlive(Number(pid), token && token !== '-' ? token : null)) unlinkIfThere(lock);
}

/**
 * Moves `ref` from `expected` (null: must not exist) to `next`. Returns false, changing nothing, when
 * the ref holds something else or another process holds its lock; the caller rebuilds and retries.
 */
export function compareAndSwapRef(repo: Repo, ref: string, next: string, expected: string | null): boolean {
  const res = runGit(['update-ref', '--no-deref', ref, next, expected ?? ZERO], { cwd: repo.cwd, allowFailure: true });
  if (res.status === 0) return true;
  if (/cannot lock ref|is at .* but expected|reference already exists|Unable to create .*\.lock/i.test(res.stderr))
    return false;
  throw new Error(`git update-ref ${ref} failed: ${res.stderr.trim()}`);
}

/** Deletes refs (each as it is, with no check of its value); missing ones are no error. */
export function deleteRefs(cwd: string, refs: string[]): void {
  if (refs.length === 0) return;
  runGit(['update-ref', '--stdin'], { cwd, input: refs.map((r) => `delete ${r}\n`).join(''), allowFailure: true });
}

/** Whether git accepts `name` as a ref name. */
export function isValidRefName(cwd: string, name: string): boolean {
  return runGit(['check-ref-format', name], { cwd, allowFailure: true }).status === 0;
}
