/**
 * git config, remembered between commands: the keys handoff reads are listed by one `git config --list`,
 * then kept in a small file next to the ledger for as long as none of the files git could read them from
 * has changed. Reading the file and stating five config files costs well under a millisecond; spawning git
 * costs about three, on every command.
 *
 * The cache is used only where it cannot be stale in a way this check misses:
 * - settings given in the environment (git -c, GIT_CONFIG_COUNT, GIT_CONFIG) mean git is asked every time;
 *   GIT_CONFIG_GLOBAL, GIT_CONFIG_SYSTEM and GIT_CONFIG_NOSYSTEM choose the files, so they are in the key;
 * - a config file with an [include] or [includeIf] section is never cached (its targets, and conditions on
 *   the branch or path, are git's to evaluate);
 * - every file is compared by size, inode, mtime and ctime (an edit that puts the mtime back still moves
 *   the ctime), and a file modified in the last 100 ms (two seconds where its mtime is a whole second) is
 *   not cached yet (a second edit within the file system's timestamp granularity could keep all four);
 * - the key holds the worktree's git directory, HOME, XDG_CONFIG_HOME and PATH (another git may read
 *   another system file).
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../core/files';
import { runGit } from './exec';
import type { Repo } from './repo';

const CACHE_FORMAT = 2;
/**
 * A config file changed more recently than this is read through git, not cached: two edits within the file
 * system's timestamp granularity can leave the same mtime. Where timestamps have a sub-second part the
 * granularity is a kernel tick (at most 10 ms); a whole-second mtime may come from a file system that keeps
 * seconds, or two (FAT).
 */
const RACY_MS = 100;
const RACY_COARSE_MS = 2000;

interface CacheFile {
  format: number;
  key: string;
  files: [string, string][];
  values: [string, string[]][];
}

/**
 * Every config key matching `pattern` (tested against the key as git prints it: section and name in lower
 * case) with its values in git's order, from the cache file `cacheFile` when it is current, else from git
 * (and the cache is written for the next command). `cacheFile` null: always ask git.
 */
export function configMatchingCached(
  repo: Repo,
  pattern: RegExp,
  cacheFile: string | null,
  env: NodeJS.ProcessEnv = process.env,
): Map<string, string[]> {
  const home = env.HOME;
  if (!cacheFile || !home || ['GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_COUNT', 'GIT_CONFIG'].some((k) => env[k])) {
    return readThroughGit(repo, pattern).values;
  }
  const chosen = ['GIT_CONFIG_GLOBAL', 'GIT_CONFIG_SYSTEM', 'GIT_CONFIG_NOSYSTEM'].map((k) => env[k] ?? null);
  const key = JSON.stringify([
    repo.gitDir,
    repo.commonDir,
    home,
    env.XDG_CONFIG_HOME ?? '',
    env.PATH ?? '',
    ...chosen,
    pattern.source,
  ]);
  const cached = readCache(cacheFile, key);
  if (cached) return cached;
  // The places git looks, stated before git reads them: a change made meanwhile shows next time.
  const xdg = env.XDG_CONFIG_HOME
    ? path.join(env.XDG_CONFIG_HOME, 'git', 'config')
    : path.join(home, '.config', 'git', 'config');
  const candidates = [
    ...[env.GIT_CONFIG_SYSTEM || '/etc/gitconfig'],
    ...(env.GIT_CONFIG_GLOBAL ? [env.GIT_CONFIG_GLOBAL] : [xdg, path.join(home, '.gitconfig')]),
    path.join(repo.commonDir, 'config'),
    path.join(repo.gitDir, 'config.worktree'),
  ].map((f) => path.resolve(repo.cwd, f));
  const sigs = new Map(candidates.map((f) => [f, signature(f)]));
  const { values, origins } = readThroughGit(repo, pattern);
  for (const f of origins) if (!sigs.has(f)) sigs.set(f, signature(f));
  if (cacheable(sigs)) writeCache(cacheFile, { format: CACHE_FORMAT, key, files: [...sigs], values: [...values] });
  return values;
}

/** The matching keys and every file git read, from one `git config --list`. */
function readThroughGit(repo: Repo, pattern: RegExp): { values: Map<string, string[]>; origins: Set<string> } {
  const res = runGit(['config', '-z', '--show-origin', '--list'], { cwd: repo.cwd, allowFailure: true });
  const values = new Map<string, string[]>();
  const origins = new Set<string>();
  if (res.status !== 0) return { values, origins };
  const items = res.stdout.toString('utf8').split('\0');
  // -z --show-origin: "<origin>\0<key>\n<value>\0" per entry (no newline: a key without a value).
  for (let i = 0; i + 1 < items.length; i += 2) {
    const origin = items[i]!;
    const item = items[i + 1]!;
    if (origin.startsWith('file:')) origins.add(path.resolve(repo.cwd, origin.slice(5)));
    else origins.add(`\0${origin}`); // not a file (command line, blob): never cached
    const nl = item.indexOf('\n');
    const k = normalKey(nl < 0 ? item : item.slice(0, nl));
    if (!pattern.test(k)) continue;
    const list = values.get(k) ?? [];
    list.push(nl < 0 ? '' : item.slice(nl + 1));
    values.set(k, list);
  }
  return { values, origins };
}

/** A file's identity and state, or "-" when it does not exist. */
function signature(file: string): string {
  if (file.startsWith('\0')) return 'not-a-file';
  let st: fs.BigIntStats | undefined;
  try {
    st = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  } catch (err) {
    // Not statable (a HOME that is a file, a directory this user cannot enter): git reads around it, and
    // what it read is not remembered (see cacheable).
    return `!${(err as NodeJS.ErrnoException).code ?? 'error'}`;
  }
  if (!st) return '-';
  return `${st.size}:${st.ino}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** Whether what git read may be remembered: only plain files, none just changed, none including others. */
function cacheable(sigs: Map<string, string>): boolean {
  const now = Date.now();
  for (const [file, sig] of sigs) {
    if (sig === 'not-a-file' || sig.startsWith('!')) return false;
    if (sig === '-') continue;
    // Every write moves the mtime (and the ctime with it); a file can keep its mtime through two edits only
    // where both fall within the file system's timestamp granularity.
    const mtimeNs = BigInt(sig.split(':')[2]!);
    const racy = mtimeNs % 1_000_000_000n === 0n ? RACY_COARSE_MS : RACY_MS;
    if (now - Number(mtimeNs / 1_000_000n) < racy) return false;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return false;
    }
    // Anywhere, not only at a line's start: git also takes a section header after a BOM or another header.
    if (/\[[ \t]*include/i.test(text)) return false;
  }
  return true;
}

function readCache(file: string, key: string): Map<string, string[]> | null {
  let data: CacheFile;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8')) as CacheFile;
  } catch {
    return null;
  }
  if (data?.format !== CACHE_FORMAT || data.key !== key || !Array.isArray(data.files) || !Array.isArray(data.values))
    return null;
  for (const entry of data.files) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || signature(entry[0]) !== entry[1]) return null;
  }
  const ok = (v: unknown): v is [string, string[]] =>
    Array.isArray(v) && typeof v[0] === 'string' && Array.isArray(v[1]) && v[1].every((x) => typeof x === 'string');
  return data.values.every(ok) ? new Map(data.values) : null;
}

/** Written whole; a cache that cannot be written is skipped. */
function writeCache(file: string, data: CacheFile): void {
  try {
    writeFileAtomic(file, JSON.stringify(data));
  } catch {
    /* a read-only data directory: git is asked next time too */
  }
}

/**
 * A key as git compares it: section and variable name in lower case, the subsection between them (a remote's
 * or a branch's name) as it is, for it is case-sensitive.
 */
export function normalKey(key: string): string {
  const first = key.indexOf('.');
  const last = key.lastIndexOf('.');
  if (first < 0 || first === last) return key.toLowerCase();
  return `${key.slice(0, first).toLowerCase()}${key.slice(first, last)}${key.slice(last).toLowerCase()}`;
}
