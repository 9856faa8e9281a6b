/**
 * Snapshots of the working tree at send time: staged, unstaged and untracked files (.gitignore
 * respected), built in a temporary index so that the user's index, working tree and HEAD are untouched.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isUtf8 } from 'node:buffer';
import { HandoffError, UsageError } from '../core/errors';
import {
  backgroundGit,
  takeEarlyGit,
  runGit,
  runGitStreaming,
  startGit,
  type BackgroundGit,
  type GitResult,
  type PendingGit,
} from './exec';
import {
  batchInput,
  DeferredObjectWriter,
  MemoryObjectWriter,
  ObjectWriter,
  parseBatch,
  readObjects,
  treeEntries,
  type CatFileResult,
  type TreeEntry,
} from './objects';
import { writePack } from './pack-writer';
import { isPartialClone, type Repo } from './repo';
import { ownStartName, startNameGone } from '../core/proc';

/** Files that look like secrets are left out even when untracked and not ignored. */
const DEFAULT_SECRET_PATTERNS = ['.env*', '*.pem', '*.key', 'id_rsa*', 'id_ed25519*', 'id_ecdsa*'];

export interface Snapshot {
  /** The commit the snapshot is compared with (HEAD at send time). */
  base: string;
  /** Tree id of the snapshot. */
  tree: string;
  /** Unified diff base..snapshot. */
  patch: Buffer;
  /** Paths that changed between base and snapshot (a rename names both its paths). */
  files: string[];
  /** How many files changed (a rename is one). */
  changes: number;
  /** Submodules with changes not committed in them: the snapshot holds the commit each is at, not those. */
  dirtySubmodules: string[];
  /** Paths left out because they look like secrets (their working-tree content was not recorded). */
  excluded: string[];
}

/** Patterns to exclude: the defaults plus the values of `git config handoff.snapshotExclude` given. */
export function secretPatterns(extra: string[]): string[] {
  return [...DEFAULT_SECRET_PATTERNS, ...extra.map((s) => s.trim()).filter(Boolean)];
}

/** Files larger than this are recorded in the snapshot but summarised in the patch (handoff.patchFileLimit). */
const DEFAULT_PATCH_FILE_LIMIT = 1024 * 1024;

/** A path's new content in the snapshot, or null when it is gone. */
type Change = { mode: string; oid: string } | null;

/** What snapshotWorktree asks of `git status`. */
const STATUS_ARGS = [
  '--no-optional-locks',
  'status',
  '--porcelain=v2',
  '-z',
  '--untracked-files=all',
  '--no-renames',
  '--ignore-submodules=none',
];

/**
 * Starts the `git status` a snapshot of the worktree at `cwd` reads, so that it runs while the caller opens
 * the ledger: in a large repository it is most of the snapshot's cost. Null when git fails (the snapshot
 * then runs it itself, and reports what is wrong).
 */
export function startWorktreeStatus(cwd: string): BackgroundGit {
  // Started by bin/run.js before the bundle loaded: used when it is the status this would start.
  const early = takeEarlyGit('handoff.worktreeStatus', STATUS_ARGS, cwd);
  if (early) return { result: early.result.then((r) => (r?.status === 0 ? r.stdout : null)), hold: early.ref };
  return backgroundGit(STATUS_ARGS, cwd);
}

/**
 * Builds the snapshot tree and its patch against HEAD. One `git status` (which never writes the user's
 * index: --no-optional-locks) names every path whose index or working-tree content differs from HEAD; the
 * working-tree files among them are hashed by one `git hash-object` (filters and .gitattributes apply,
 * as for `git add`), and the new tree is HEAD's tree with those paths replaced, written here: the cost is
 * that of `git status` plus the change, not of the repository.
 *
 * `status`: the output of startWorktreeStatus, when the caller started it (porcelain paths are relative
 * to the top of the worktree, wherever in it git ran).
 */
export async function snapshotWorktree(opts: {
  repo: Repo;
  exclude: string[];
  patchFileLimit?: number;
  status?: BackgroundGit;
  /** core.autocrlf and core.fileMode as git config gives them (unset: undefined). */
  autocrlf?: string;
  fileMode?: string;
}): Promise<Snapshot> {
  const { repo } = opts;
  const top = repo.worktree;
  if (!top)
    throw new HandoffError(
      'bare_repository',
      'A bare repository has no working tree to attach. Run this in a worktree.',
    );
  // While git status runs: HEAD is read, and the two git processes that read the change are started, to be
  // given their input once status has named what changed.
  const headRead = runGitStreaming(['rev-parse', '-q', 'HEAD^{commit}', 'HEAD^{tree}'], {
    cwd: top,
    allowFailure: true,
  });
  const started: Started = {
    headRead,
    hasher: startGit(['hash-object', '-w', '--stdin-paths'], { cwd: top }),
    // One reader: a second one (each reading half of the trees) was measured slower on two cores, where
    // starting a process while git status runs costs more than git's reading.
    reader: startGit(['cat-file', '--batch', '--buffer'], { cwd: top, outputToFile: true }),
    // In a partial clone, blobs fetched on demand would land in the temporary object directory: the patch is
    // then made in place.
    differ: isPartialClone(repo) ? null : startDiff(repo, top, opts.patchFileLimit),
  };
  try {
    return await snapshotWith(repo, top, opts, started);
  } finally {
    // Processes not given work end at the end of their (empty) input.
    void started.hasher.finish('');
    void started.reader.finish('');
    started.differ?.done();
  }
}

/** What snapshotWorktree starts while `git status` runs. */
interface Started {
  headRead: Promise<GitResult>;
  hasher: PendingGit;
  reader: PendingGit;
  differ: ReturnType<typeof startDiff> | null;
}

async function snapshotWith(
  repo: Repo,
  top: string,
  opts: { exclude: string[]; patchFileLimit?: number; status?: BackgroundGit; autocrlf?: string; fileMode?: string },
  started: Started,
): Promise<Snapshot> {
  const { headRead, hasher, reader, differ } = started;
  const picomatch = require('picomatch') as typeof import('picomatch');
  const secret = picomatch(
    opts.exclude.map((p) => `**/${p}`),
    { dot: true },
  );
  const isSecret = (p: string) => secret(p.replace(/\/$/, '')) || secret(path.posix.basename(p.replace(/\/$/, '')));
  opts.status?.hold();
  const status = opts.status ? await opts.status.result : null;
  const head = await headRead;
  if (head.status !== 0) {
    throw new HandoffError(
      'no_commits',
      'HEAD names no commit yet (a new repository, or a branch with no commits), so there is no base to diff against. Commit once on this branch, then send with --attach-diff (or send without it).',
    );
  }
  const [base, baseTree] = head.stdout.toString('utf8').trim().split('\n') as [string, string];
  const run = (args: string[], input?: string) => runGit(args, { cwd: top, input });

  const changes = new Map<string, Change>();
  // What HEAD holds at each path status names (its "mH" and "hH"; nothing for an untracked path): the
  // patch needs no more, so it is made while HEAD's trees are read and the snapshot's written. An unmerged
  // path's record gives no HEAD entry: the patch then waits for the trees (applyToTree's `before`).
  const headAt = new Map<string, Change>();
  let headKnown = true;
  const excluded: string[] = [];
  const dirtySubmodules: string[] = [];
  /** Working-tree files to hash, with the mode they get. */
  const fromWorktree: { path: string; mode: string; indexOid?: string }[] = [];
  const statusOut = status ?? run(STATUS_ARGS).stdout;
  // Paths are read as UTF-8 from here on: a name that is not would become another file (or none).
  if (!isUtf8(statusOut)) throw notUtf8(statusOut);
  const fields = statusOut.toString('utf8').split('\0');
  for (const rec of fields) {
    if (!rec) continue;
    if (rec.startsWith('? ')) {
      const p = rec.slice(2);
      // A nested repository or worktree (a handoff checkout, say) is listed as a directory: left out.
      if (p.endsWith('/')) continue;
      if (isSecret(p)) excluded.push(p);
      else fromWorktree.push({ path: p, mode: '' });
      // Untracked, so not in the index; HEAD may still hold it (`git rm --cached`: its "1 D." record came first).
      if (!headAt.has(p)) headAt.set(p, null);
      continue;
    }
    // "1 XY sub mH mI mW hH hI path" (changed), "u XY sub m1 m2 m3 mW h1 h2 h3 path" (unmerged).
    const kind = rec[0];
    if (kind !== '1' && kind !== 'u') continue;
    const parts = rec.split(' ');
    const nFields = kind === '1' ? 8 : 10;
    const p = parts.slice(nFields).join(' ');
    const y = parts[1]![1]!;
    const mW = kind === '1' ? parts[5]! : parts[6]!;
    const mI = kind === '1' ? parts[4]! : '000000';
    const hI = kind === '1' ? parts[7]! : '';
    const fromIndex = (): Change => (mI === '000000' ? null : { mode: mI, oid: hI });
    if (kind === '1') headAt.set(p, parts[3] === '000000' ? null : { mode: parts[3]!, oid: parts[6]! });
    else headKnown = false;
    if (isSecret(p)) {
      // Looks like a secret and differs from HEAD (staged or not): HEAD's version stays, which is already
      // in the repository's history; nothing newer is recorded.
      excluded.push(p);
    } else if (kind === '1' && y === '.') {
      changes.set(p, fromIndex()); // staged only: what the index holds
    } else if (mW === '000000') {
      changes.set(p, null); // deleted in the working tree
    } else if (mW === '160000') {
      // A submodule: the commit its checkout is at (changes not committed in it are not recorded: said).
      const state = parts[2] ?? '';
      if (state[0] === 'S' && (state[2] === 'M' || state[3] === 'U')) dirtySubmodules.push(p);
      const sub = runGit(['rev-parse', 'HEAD'], { cwd: path.join(top, p), allowFailure: true });
      changes.set(p, sub.status === 0 ? { mode: '160000', oid: sub.stdout.toString('utf8').trim() } : fromIndex());
    } else fromWorktree.push({ path: p, mode: mW, indexOid: kind === '1' && mI !== '000000' ? hI : undefined });
  }

  // HEAD's trees on the changed paths, read while the changed files are hashed.
  const specs = treeSpecs(baseTree, [...changes.keys(), ...fromWorktree.map((f) => f.path)]);
  const treesRead = reader.finish(batchInput(specs)).then((r) => parseBatch(specs, r.stdout));
  treesRead.catch(() => undefined); // not awaited when nothing changed
  // Working-tree content: symbolic links are their target; files go through git's filters.
  const writer = new DeferredObjectWriter(repo.objectsDir, repo.shared ?? null);
  const files: { path: string; mode: string }[] = [];
  /** Tracked files that hold a carriage return: their line endings may need what git add does (rawBlobs). */
  const withCr: { path: string; mode: string; indexOid: string; content: Buffer }[] = [];
  // git trusts the executable bit unless core.fileMode is false.
  const fileMode = !/^(false|no|off|0)$/i.test(opts.fileMode?.trim() ?? '');
  for (const f of fromWorktree) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(path.join(top, f.path));
    } catch {
      changes.set(f.path, null); // gone since status looked
      continue;
    }
    if (st.isSymbolicLink()) {
      changes.set(f.path, { mode: '120000', oid: writer.blob(fs.readlinkSync(path.join(top, f.path))) });
    } else if (st.isFile()) {
      // A new file's mode is its executable bit, unless core.fileMode is false (then 100644, as git add).
      let mode = f.mode && f.mode !== '120000' ? f.mode : '100644';
      if (!(f.mode && f.mode !== '120000') && st.mode & 0o111 && fileMode) mode = '100755';
      if (f.indexOid && st.size <= CR_CHECK_MAX_BYTES) {
        const content = readIfCr(path.join(top, f.path));
        if (content) {
          withCr.push({ path: f.path, mode, indexOid: f.indexOid, content });
          continue;
        }
      }
      files.push({ path: f.path, mode });
    }
  }
  // git add leaves a file's carriage returns alone where its line endings are converted only "auto" and the
  // index's copy has one already; git hash-object reads no index, so it would convert them: such a file is
  // written as it is here, and any other goes to git's filters with the rest.
  const raw = rawBlobs(repo, top, withCr, opts.autocrlf);
  for (const f of withCr) {
    if (raw.has(f.path)) changes.set(f.path, { mode: f.mode, oid: writer.blob(f.content) });
    else files.push({ path: f.path, mode: f.mode });
  }
  if (files.length) {
    // A path per line; a name with a newline or a carriage return, or one that starts with a quote, is quoted.
    const oids = (await hasher.finish(`${files.map((f) => stdinPath(f.path)).join('\n')}\n`)).stdout
      .toString('utf8')
      .trim()
      .split('\n');
    files.forEach((f, i) => changes.set(f.path, { mode: f.mode, oid: oids[i]! }));
  }
  // The patch from status's record of HEAD, started before the snapshot's trees are built (git makes it
  // while this process builds them). Symbolic links' blobs are written first: diff-tree reads them.
  const headSide = new Map([...changes.keys()].map((p) => [p, headAt.get(p) ?? null]));
  if (changes.size && differ && headKnown) await writer.flush();
  const early = changes.size && differ && headKnown ? differ.diff(headSide, changes) : null;
  early?.catch(() => undefined); // awaited below, after the trees
  const before = new Map<string, Change>();
  const tree = changes.size
    ? applyToTree(
        await treesRead,
        (oid) => readObjects(repo, [oid]).get(oid) ?? null,
        writer,
        baseTree,
        changes,
        before,
      )
    : baseTree;
  let out: Buffer;
  // HEAD as its trees hold it must be what status said (HEAD may have moved while status ran): if not, the
  // patch is made again between HEAD and the snapshot's tree.
  const sameHead = (a: Change | undefined, b: Change | undefined) => a?.mode === b?.mode && a?.oid === b?.oid;
  const earlyHolds = early !== null && [...before].every(([p, e]) => sameHead(e, headSide.get(p)));
  if (!changes.size) out = Buffer.alloc(0);
  else if (early && earlyHolds) out = await early;
  else if (early) {
    await early.catch(() => undefined);
    await writer.flush();
    out = diffTrees(repo, top, base, tree, opts.patchFileLimit);
  } else if (differ) out = await differ.diff(before, changes);
  else {
    await writer.flush();
    out = diffTrees(repo, top, base, tree, opts.patchFileLimit);
  }
  await writer.flush();
  const changed: string[] = [];
  let pos = 0;
  const next = () => {
    const nul = out.indexOf(0, pos);
    const token = out.toString('utf8', pos, nul < 0 ? out.length : nul);
    pos = nul < 0 ? out.length : nul + 1;
    return token;
  };
  // ":<mode> <mode> <oid> <oid> <status>\0<path>\0" (a rename or copy names two paths), then "\0" and the patch.
  let count = 0;
  while (pos < out.length && out[pos] === 0x3a) {
    count++;
    const status = next().split(' ').pop() ?? '';
    const first = next();
    if (status.startsWith('R') || status.startsWith('C')) {
      const second = next();
      if (status.startsWith('R')) changed.push(first);
      changed.push(second);
    } else changed.push(first);
  }
  if (pos < out.length && out[pos] === 0) pos++;
  const patch = out.subarray(pos);
  return {
    base,
    tree,
    patch,
    files: changed,
    changes: count,
    excluded: [...new Set(excluded)].sort(),
    dirtySubmodules,
  };
}

/** `git diff-tree` for a patch and its changed paths (--raw, first), between two trees given or on stdin. */
function diffArgs(patchFileLimit: number | undefined, trees: [string, string] | 'stdin'): string[] {
  // Past core.bigFileThreshold git treats a file as binary: "Binary files differ", not its content.
  const limit = patchFileLimit ?? DEFAULT_PATCH_FILE_LIMIT;
  return [
    '-c',
    `core.bigFileThreshold=${limit}`,
    'diff-tree',
    ...(trees === 'stdin' ? ['--stdin'] : []),
    '-r',
    '-p',
    '--raw',
    '-z',
    '-M',
    '--no-color',
    '--no-ext-diff',
    '--no-textconv',
    '--full-index',
    ...(trees === 'stdin' ? [] : trees),
  ];
}

/** One `git diff-tree --raw -p -z` between two trees (or commits) of the repository. */
function diffTrees(repo: Repo, top: string, from: string, to: string, patchFileLimit: number | undefined): Buffer {
  return runGit(diffArgs(patchFileLimit, [from, to]), { cwd: top }).stdout;
}

/**
 * A new temporary object directory for a patch, in the repository (`.git/handoff/diff-tmp`, named after
 * this process and its start). Those of processes that no longer run (killed, interrupted) are removed
 * first.
 */
function scratchDir(repo: Repo): string {
  const dir = path.join(repo.commonDir, 'handoff', 'diff-tmp');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of fs.readdirSync(dir)) {
    const owner = /^(\d+)-(t[A-Za-z0-9.]*)-/.exec(name);
    if (!owner || !startNameGone(Number(owner[1]), owner[2]!)) continue;
    try {
      fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    } catch {
      /* another user's, in a shared repository: theirs to remove */
    }
  }
  return fs.mkdtempSync(path.join(dir, `${process.pid}-${ownStartName()}-`));
}

/**
 * `git diff-tree -p --raw` between HEAD and the snapshot, made between two small trees that hold only the
 * changed paths (HEAD's versions, and the snapshot's): every other path is the same in both, so the output
 * is the same, without git reading the large directories again. The small trees go to one pack in a
 * temporary object directory (the repository's objects reachable as its alternate), removed by `done`.
 * The diff-tree is started at once and reads the two trees from stdin (git looks for packs again when an
 * object is not found, so the pack may come later).
 */
function startDiff(repo: Repo, top: string, patchFileLimit: number | undefined) {
  const scratch = scratchDir(repo);
  // git splits this list on ':' unless an entry is quoted (as a C string); alternates already set in
  // the environment (a hook's quarantine, say) stay.
  const alternates = [quoteAlternate(repo.objectsDir), process.env.GIT_ALTERNATE_OBJECT_DIRECTORIES]
    .filter(Boolean)
    .join(':');
  const differ = startGit(diffArgs(patchFileLimit, 'stdin'), {
    cwd: top,
    env: { GIT_OBJECT_DIRECTORY: scratch, GIT_ALTERNATE_OBJECT_DIRECTORIES: alternates },
  });
  return {
    async diff(before: Map<string, Change>, after: Map<string, Change>): Promise<Buffer> {
      const writer = new MemoryObjectWriter();
      const from = writePaths(writer, before);
      const to = writePaths(writer, after);
      writePack(scratch, writer.objects, null, { stored: true });
      const out = (await differ.finish(`${from} ${to}\n`)).stdout;
      // --stdin echoes the line it read first.
      const echo = `${from} ${to}\n`;
      if (out.toString('latin1', 0, echo.length) !== echo) throw new Error('unexpected output from git diff-tree');
      return out.subarray(echo.length);
    },
    done(): void {
      void differ.finish('');
      fs.rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** An object directory as an entry of GIT_ALTERNATE_OBJECT_DIRECTORIES (quoted where it must be). */
function quoteAlternate(dir: string): string {
  return /[:"\\\x00-\x1f]/.test(dir) ? cQuote(dir) : dir;
}

/** A C-style quoted string, as git reads one where a path may hold any byte (`"a\\012b"`). */
function cQuote(s: string): string {
  const c = s.replace(/[\\"\x00-\x1f\x7f]/g, (ch) =>
    ch === '\\' || ch === '"' ? `\\${ch}` : `\\${ch.charCodeAt(0).toString(8).padStart(3, '0')}`,
  );
  return `"${c}"`;
}

/** A path as a line of `git hash-object --stdin-paths`: quoted when it starts with a quote or holds a control character. */
function stdinPath(p: string): string {
  return /^"|[\x00-\x1f\x7f]/.test(p) ? cQuote(p) : p;
}

/** Writes the trees that hold exactly `entries` (path to entry; null entries are left out); returns the root. */
function writePaths(writer: ObjectWriter, entries: Map<string, Change>): string {
  type Dir = Map<string, Dir | { mode: string; oid: string }>;
  const root: Dir = new Map();
  for (const [p, e] of entries) {
    if (!e) continue;
    const parts = p.split('/');
    let dir = root;
    for (const name of parts.slice(0, -1)) {
      let next = dir.get(name);
      if (!(next instanceof Map)) dir.set(name, (next = new Map()));
      dir = next;
    }
    dir.set(parts.at(-1)!, e);
  }
  const write = (dir: Dir): string =>
    writer.tree(
      [...dir].map(([name, v]) =>
        v instanceof Map
          ? { mode: '40000' as const, name, oid: write(v) }
          : { mode: v.mode as TreeEntry['mode'], name, oid: v.oid },
      ),
    );
  return write(root);
}

/**
 * The entries of a tree object, found without parsing each into strings ("<mode> <name>\0<20-byte id>"):
 * one search for the NUL per entry, then binary search by git's order (a directory sorts as "name/").
 */
class TreeIndex {
  readonly starts: number[] = [];
  readonly names: number[] = [];
  readonly nuls: number[] = [];
  /** False when the bytes are not a well-formed tree. */
  readonly ok: boolean = true;

  constructor(readonly raw: Buffer) {
    for (let pos = 0; pos < raw.length;) {
      // Modes are "40000" or "100644"-like: the space is found without a call; names are short, and
      // scanned for their NUL here rather than through a native call per entry.
      const sp = raw[pos + 6] === 0x20 ? pos + 6 : raw[pos + 5] === 0x20 ? pos + 5 : raw.indexOf(0x20, pos);
      let nul = sp < 0 ? -1 : sp + 1;
      if (nul >= 0) {
        while (nul < raw.length && raw[nul] !== 0) nul++;
        if (nul === raw.length) nul = -1;
      }
      if (sp < 0 || nul < 0 || nul + 21 > raw.length) {
        this.ok = false;
        return;
      }
      this.starts.push(pos);
      this.names.push(sp + 1);
      this.nuls.push(nul);
      pos = nul + 21;
    }
  }

  get length(): number {
    return this.starts.length;
  }

  isDir(i: number): boolean {
    const at = this.starts[i]!;
    const len = this.names[i]! - at;
    // "40000 ", or "040000 " as some tools write it (git fsck warns, but reads it as a directory).
    return (len === 6 && this.raw[at] === 0x34) || (len === 7 && this.raw[at] === 0x30 && this.raw[at + 1] === 0x34);
  }

  /** Entry i's mode and id. */
  entry(i: number): { mode: string; oid: string } {
    return {
      mode: this.raw.toString('latin1', this.starts[i]!, this.names[i]! - 1),
      oid: this.raw.toString('hex', this.nuls[i]! + 1, this.nuls[i]! + 21),
    };
  }

  /** The sign of (entry i's sort key - key). */
  compareAt(i: number, key: Buffer): number {
    const ns = this.names[i]!;
    const len = this.nuls[i]! - ns;
    const m = Math.min(len, key.length);
    const c = this.raw.compare(key, 0, m, ns, ns + m);
    if (c !== 0) return c;
    const elen = len + (this.isDir(i) ? 1 : 0);
    if (m < key.length && elen > m) return 0x2f - key[m]! || elen - key.length;
    return elen - key.length;
  }

  /** The first entry whose key is not below `key`. */
  lowerBound(key: Buffer): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.compareAt(mid, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Entry i's name. */
  name(i: number): string {
    return this.raw.toString('utf8', this.names[i]!, this.nuls[i]!);
  }

  /** Where the entry `name` (a directory when `dir`) is, or would go, and its sort key. */
  locate(name: string, dir: boolean): { at: number; found: boolean; key: Buffer } {
    const key = Buffer.from(dir ? `${name}/` : name);
    const at = this.lowerBound(key);
    return { at, found: at < this.length && this.compareAt(at, key) === 0, key };
  }
}

/**
 * A tree object with `edits` applied (a name set to a new entry, or removed), as the pieces to write one
 * after another: the runs of entries not edited are slices of the old tree, not copies. Null when an edit
 * turns a file into a directory or back (the caller then sorts anew).
 */
function spliceTree(tree: TreeIndex, edits: Map<string, Change>): Buffer[] | null {
  if (!tree.ok) return null;
  const { raw, starts, nuls } = tree;
  const bytesOf = (name: string, e: { mode: string; oid: string }) =>
    Buffer.concat([Buffer.from(`${e.mode} ${name}\0`), Buffer.from(e.oid, 'hex')]);
  // Each edit: the entry it replaces or removes, or the place where it goes in.
  const ops: { at: number; replace: boolean; bytes: Buffer | null; key: Buffer }[] = [];
  for (const [name, e] of edits) {
    const here = tree.locate(name, e ? e.mode === '40000' : false);
    if (here.found) {
      ops.push({ at: here.at, replace: true, bytes: e ? bytesOf(name, e) : null, key: here.key });
      continue;
    }
    // The name is there as the other kind (a file becoming a directory, or back): not a splice.
    const other = tree.locate(name, e ? e.mode !== '40000' : true);
    if (other.found) {
      if (e) return null;
      ops.push({ at: other.at, replace: true, bytes: null, key: other.key });
      continue;
    }
    if (e) ops.push({ at: here.at, replace: false, bytes: bytesOf(name, e), key: here.key });
  }
  // In tree order; new entries go before the entry found at their place, in the order of their keys.
  ops.sort((a, b) => a.at - b.at || Number(a.replace) - Number(b.replace) || Buffer.compare(a.key, b.key));
  const parts: Buffer[] = [];
  let copyFrom = 0;
  for (const op of ops) {
    const at = op.at < starts.length ? starts[op.at]! : raw.length;
    parts.push(raw.subarray(copyFrom, at));
    if (op.bytes) parts.push(op.bytes);
    copyFrom = op.replace ? nuls[op.at]! + 21 : at;
  }
  parts.push(raw.subarray(copyFrom));
  return parts.filter((p) => p.length > 0);
}

/** The trees to read for changes at `paths`: `baseTree` and each directory on the way to a path (see below). */
function treeSpecs(baseTree: string, paths: string[]): string[] {
  const dirs = new Set<string>(['']);
  for (const p of paths)
    for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) {
      const d = p.slice(0, i);
      // A line of cat-file's input cannot name a directory with a newline: applyToTree finds it by its parent.
      if (!/[\n\r]/.test(d)) dirs.add(d);
    }
  return [...dirs].map((d) => (d ? `${baseTree}:${d}` : baseTree));
}

/**
 * `baseTree` with each path set to its change (or removed), written in-process: only the trees on the
 * changed paths are read (one `git cat-file`) and written again. Returns the new root tree's id.
 */
function applyToTree(
  trees: Map<string, CatFileResult | null>,
  readById: (oid: string) => CatFileResult | null,
  writer: ObjectWriter,
  baseTree: string,
  changes: Map<string, Change>,
  before: Map<string, Change>,
): string {
  // Every directory on a changed path, and the changes directly in each.
  const dirs = new Map<string, Map<string, Change>>([['', new Map()]]);
  for (const [p, change] of changes) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) dirs.set(d, new Map());
    }
    dirs.get(parts.slice(0, -1).join('/'))!.set(parts.at(-1)!, change);
  }
  const children = new Map<string, string[]>();
  for (const d of dirs.keys()) {
    if (!d) continue;
    const parent = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : '';
    children.set(parent, [...(children.get(parent) ?? []), d]);
  }
  // HEAD's tree at `dir`: read by path (treeSpecs), or else found through its parent's entry.
  const treeOf = (dir: string): CatFileResult | null => {
    const spec = dir ? `${baseTree}:${dir}` : baseTree;
    if (trees.has(spec) || !dir) return trees.get(spec) ?? null;
    let found: CatFileResult | null = null;
    const slash = dir.lastIndexOf('/');
    const parent = treeOf(slash < 0 ? '' : dir.slice(0, slash));
    if (parent?.type === 'tree') {
      const index = new TreeIndex(parent.content);
      const here = index.ok ? index.locate(dir.slice(slash + 1), true) : null;
      if (here?.found && index.isDir(here.at)) found = readById(index.entry(here.at).oid);
    }
    trees.set(spec, found);
    return found;
  };
  const build = (dir: string): string | null => {
    const obj = treeOf(dir);
    const raw = obj && obj.type === 'tree' ? obj.content : Buffer.alloc(0);
    // This directory's edits: its changed files, then its changed subdirectories.
    const edits = new Map<string, Change>(dirs.get(dir)!);
    for (const child of children.get(dir) ?? []) {
      const name = child.slice(child.lastIndexOf('/') + 1);
      const oid = build(child);
      if (oid) edits.set(name, { mode: '40000', oid });
      else if (!edits.get(name)) edits.set(name, null);
    }
    // Most of a large directory is unchanged: its bytes are copied, and only the edited entries are new.
    const index = new TreeIndex(raw);
    // What HEAD held at each changed path (for the patch, which needs no more than these).
    for (const name of dirs.get(dir)!.keys()) {
      const here = index.ok ? index.locate(name, false) : null;
      before.set(dir ? `${dir}/${name}` : name, here?.found ? index.entry(here.at) : null);
    }
    const spliced = spliceTree(index, edits);
    // Written from the pieces: a large directory's tree is neither copied nor compressed (objects.ts).
    if (spliced) return spliced.length || !dir ? writer.writePieces('tree', spliced) : null;
    const entries = new Map<string, TreeEntry>();
    for (let i = 0; i < index.length; i++) {
      const name = index.name(i);
      entries.set(name, { ...(index.entry(i) as { mode: TreeEntry['mode']; oid: string }), name });
    }
    for (const [name, change] of edits) {
      if (change) entries.set(name, { mode: change.mode as TreeEntry['mode'], name, oid: change.oid });
      else entries.delete(name);
    }
    return entries.size || !dir ? writer.tree([...entries.values()]) : null;
  };
  return build('')!;
}

/**
 * A copy of a snapshot with `rewrite` applied to the content of the given files (for redacting secrets):
 * the files are read from the snapshot tree, rewritten, and a new tree is written through a temporary
 * index. Returns the new tree id (the old one when nothing changed). The user's index is not touched.
 */
export function rewriteSnapshotFiles(
  repo: Repo,
  tree: string,
  files: string[],
  rewrite: (file: string, content: Buffer) => Buffer | null,
): string {
  const specs = files.map((f) => `${tree}:${f}`);
  const objects = readObjects(repo, specs);
  const writer = new ObjectWriter(repo.objectsDir, repo.shared ?? null);
  const rewritten: { file: string; oid: string }[] = [];
  for (const f of files) {
    const obj = objects.get(`${tree}:${f}`);
    if (!obj || obj.type !== 'blob') continue;
    const next = rewrite(f, obj.content);
    if (!next || next.equals(obj.content)) continue;
    rewritten.push({ file: f, oid: writer.blob(next) });
  }
  // Each file keeps its mode (paths from the top, wherever in the worktree this runs).
  const modes = treeEntries(
    repo,
    tree,
    rewritten.map((r) => r.file),
  );
  const updates = rewritten.map((r) => `${modes.get(r.file)?.mode ?? '100644'} ${r.oid}\t${r.file}`);
  if (!updates.length) return tree;
  const tmpIndex = path.join(os.tmpdir(), `handoff-index-${process.pid}-${crypto.randomBytes(6).toString('hex')}`);
  const env = { GIT_INDEX_FILE: tmpIndex };
  try {
    runGit(['read-tree', tree], { cwd: repo.cwd, env });
    runGit(['update-index', '-z', '--index-info'], { cwd: repo.cwd, env, input: `${updates.join('\0')}\0` });
    return runGit(['write-tree'], { cwd: repo.cwd, env }).stdout.toString('utf8').trim();
  } finally {
    fs.rmSync(tmpIndex, { force: true });
  }
}

/** The content of some files of a snapshot tree (files that are not there are left out). */
export function readSnapshotFiles(repo: Repo, tree: string, files: string[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const objects = readObjects(
    repo,
    files.map((f) => `${tree}:${f}`),
  );
  for (const f of files) {
    const obj = objects.get(`${tree}:${f}`);
    if (obj && obj.type === 'blob') out.set(f, obj.content);
  }
  return out;
}

/** The refusal of a snapshot whose status names paths that are not UTF-8 (named with octal escapes, as git quotes them). */
function notUtf8(out: Buffer): UsageError {
  const bad: string[] = [];
  let pos = 0;
  while (pos < out.length) {
    let nul = out.indexOf(0, pos);
    if (nul < 0) nul = out.length;
    const rec = out.subarray(pos, nul);
    if (!isUtf8(rec)) {
      // The path is the record's last field ("? path", "1 XY ... path"): the bytes after its last space
      // before the bad byte at the latest, quoted whole.
      const text = rec.toString('latin1');
      const name = text.startsWith('? ')
        ? text.slice(2)
        : text
            .split(' ')
            .slice(text[0] === 'u' ? 10 : 8)
            .join(' ');
      bad.push(
        `"${[...Buffer.from(name, 'latin1')]
          .map((b) =>
            b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c
              ? String.fromCharCode(b)
              : `\\${b.toString(8).padStart(3, '0')}`,
          )
          .join('')}"`,
      );
    }
    pos = nul + 1;
  }
  return new UsageError(
    'path_not_utf8',
    `--attach-diff cannot record ${bad.length === 1 ? 'a file whose name is' : `${bad.length} files whose names are`} not UTF-8: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ` and ${bad.length - 5} more` : ''}. Rename ${bad.length === 1 ? 'it' : 'them'} (or add ${bad.length === 1 ? 'it' : 'them'} to .gitignore if untracked), or send without --attach-diff.`,
    { paths: bad },
  );
}

/** The largest tracked file read for carriage returns (one larger is left to git's filters as it is). */
const CR_CHECK_MAX_BYTES = 8 << 20;

/** A file's content if it holds a carriage return. */
function readIfCr(file: string): Buffer | null {
  try {
    const content = fs.readFileSync(file);
    return content.includes(13) ? content : null;
  } catch {
    return null;
  }
}

/**
 * Of `files` (tracked, holding a carriage return), those git add would store as they are: their end-of-line
 * conversion is "auto" (text=auto, or eol or core.autocrlf with text unset), no other filter applies (filter,
 * ident, working-tree-encoding), and the index's copy holds a carriage return (git's "safer autocrlf").
 */
function rawBlobs(
  repo: Repo,
  top: string,
  files: { path: string; indexOid: string }[],
  autocrlfSetting: string | undefined,
): Set<string> {
  const out = new Set<string>();
  if (!files.length) return out;
  const attrs = ['text', 'eol', 'filter', 'ident', 'working-tree-encoding'];
  const res = runGit(['check-attr', '-z', '--stdin', ...attrs], {
    cwd: top,
    input: files.map((f) => `${f.path}\0`).join(''),
    allowFailure: true,
  });
  if (res.status !== 0) return out;
  const byPath = new Map<string, Record<string, string>>();
  const fields = res.stdout.toString('utf8').split('\0');
  for (let i = 0; i + 2 < fields.length; i += 3) {
    const rec = byPath.get(fields[i]!) ?? {};
    rec[fields[i + 1]!] = fields[i + 2]!;
    byPath.set(fields[i]!, rec);
  }
  const autocrlf = ['true', 'yes', 'on', '1', 'input'].includes((autocrlfSetting ?? '').trim().toLowerCase());
  const candidates = files.filter((f) => {
    const a = byPath.get(f.path);
    if (!a) return false;
    if (['filter', 'ident', 'working-tree-encoding'].some((k) => a[k] !== 'unspecified' && a[k] !== 'unset'))
      return false;
    const eolSet = a.eol === 'lf' || a.eol === 'crlf';
    if (a.text === 'auto') return true;
    if (a.text !== 'unspecified') return false;
    return eolSet || autocrlf;
  });
  if (!candidates.length) return out;
  const blobs = readObjects(
    repo,
    candidates.map((f) => f.indexOid),
  );
  for (const f of candidates) if (blobs.get(f.indexOid)?.content.includes(13)) out.add(f.path);
  return out;
}
