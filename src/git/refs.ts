/**
 * Refs. Reading the ledger's refs happens in-process (loose files plus packed-refs, as git's files
 * backend stores them) because every command does it; updating always goes through `git update-ref`
 * with the expected old value, which is git's own compare-and-swap.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runGit } from './exec';
import type { Repo } from './repo';

const ZERO = '0000000000000000000000000000000000000000';
const OID = /^[0-9a-f]{40}$/;

/**
 * Every ref under `prefix` (for example "refs/handoff/") with the commit it points to. Read in git's
 * order: loose refs first, then packed-refs for the names that have no loose file. `git pack-refs` writes
 * packed-refs before it deletes the loose files, so this order never returns an older value than the
 * one a ref had when the read started (the other order can, while pack-refs runs).
 */
export function readRefs(repo: Repo, prefix: string): Map<string, string> {
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
  walk(prefix.replace(/\/$/, ''));
  try {
    const packed = fs.readFileSync(path.join(repo.commonDir, 'packed-refs'), 'utf8');
    for (const line of packed.split('\n')) {
      if (line.length < 42 || line[0] === '#' || line[0] === '^') continue;
      const name = line.slice(41);
      if (name.startsWith(prefix) && !refs.has(name) && OID.test(line.slice(0, 40))) refs.set(name, line.slice(0, 40));
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return refs;
}

/** The commit a ref points to, or null. */
export function readRef(repo: Repo, ref: string): string | null {
  const dir = ref.slice(0, ref.lastIndexOf('/') + 1);
  return readRefs(repo, dir).get(ref) ?? null;
}

export type RefWrite = 'ok' | 'stale' | 'locked';

/**
 * Moves `ref` from `expected` to `next` in-process, with git's own lock-file protocol (create
 * `<ref>.lock` exclusively, check the current value, write, rename over the ref), so it interoperates
 * with every git process. 'stale': the ref holds something else. 'locked': someone holds the lock; a
 * lock older than `staleLockMs` is left by a dead process and is removed (callers must serialise their
 * own writers, as handoff does with its SQLite write transaction, so that no live writer of theirs holds it).
 */
export function writeRefLocked(repo: Repo, ref: string, next: string, expected: string | null, staleLockMs = 2000): RefWrite {
  const file = path.join(repo.commonDir, ref);
  const lock = `${file}.lock`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let fd: number;
  try {
    fd = fs.openSync(lock, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    try {
      if (Date.now() - fs.statSync(lock).mtimeMs > staleLockMs) fs.rmSync(lock, { force: true });
    } catch {
      /* gone meanwhile */
    }
    return 'locked';
  }
  try {
    if ((readRef(repo, ref) ?? null) !== expected) {
      fs.closeSync(fd);
      fs.rmSync(lock, { force: true });
      return 'stale';
    }
    fs.writeSync(fd, `${next}\n`);
    fs.closeSync(fd);
    fs.renameSync(lock, file);
    return 'ok';
  } catch (err) {
    fs.rmSync(lock, { force: true });
    throw err;
  }
}

/**
 * Moves `ref` from `expected` (null: must not exist) to `next`. Returns false, changing nothing, when
 * the ref holds something else or another process holds its lock; the caller rebuilds and retries.
 */
export function compareAndSwapRef(repo: Repo, ref: string, next: string, expected: string | null): boolean {
  const res = runGit(['update-ref', '--no-deref', ref, next, expected ?? ZERO], { cwd: repo.cwd, allowFailure: true });
  if (res.status === 0) return true;
  if (/cannot lock ref|is at .* but expected|reference already exists|Unable to create .*\.lock/i.test(res.stderr)) return false;
  throw new Error(`git update-ref ${ref} failed: ${res.stderr.trim()}`);
}
