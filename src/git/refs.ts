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

/** Every ref under `prefix` (for example "refs/handoff/") with the commit it points to. */
export function readRefs(repo: Repo, prefix: string): Map<string, string> {
  const refs = new Map<string, string>();
  try {
    const packed = fs.readFileSync(path.join(repo.commonDir, 'packed-refs'), 'utf8');
    for (const line of packed.split('\n')) {
      if (line.length < 42 || line[0] === '#' || line[0] === '^') continue;
      const name = line.slice(41);
      if (name.startsWith(prefix) && OID.test(line.slice(0, 40))) refs.set(name, line.slice(0, 40));
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
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
          continue; // removed between readdir and read: a concurrent pack-refs; the packed value stands.
        }
        if (OID.test(text)) refs.set(child, text);
      }
    }
  };
  walk(prefix.replace(/\/$/, ''));
  return refs;
}

/** The commit a ref points to, or null. */
export function readRef(repo: Repo, ref: string): string | null {
  const dir = ref.slice(0, ref.lastIndexOf('/') + 1);
  return readRefs(repo, dir).get(ref) ?? null;
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
