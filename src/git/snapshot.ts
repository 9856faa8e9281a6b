/**
 * Snapshots of the working tree at send time: staged, unstaged and untracked files (.gitignore
 * respected), built in a temporary index so that the user's index, working tree and HEAD are untouched.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HandoffError } from '../core/errors';
import { runGit } from './exec';
import { ObjectWriter, readObjects, type TreeEntry } from './objects';
import type { Repo } from './repo';

/** Files that look like secrets are left out even when untracked and not ignored. */
const DEFAULT_SECRET_PATTERNS = ['.env*', '*.pem', '*.key', 'id_rsa*', 'id_ed25519*', 'id_ecdsa*'];

export interface Snapshot {
  /** The commit the snapshot is compared with (HEAD at send time). */
  base: string;
  /** Tree id of the snapshot. */
  tree: string;
  /** Unified diff base..snapshot. */
  patch: Buffer;
  /** Paths that changed between base and snapshot. */
  files: string[];
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

/**
 * Builds the snapshot tree and its patch against HEAD. One `git status` (which never writes the user's
 * index: --no-optional-locks) names every path whose index or working-tree content differs from HEAD; the
 * working-tree files among them are hashed by one `git hash-object` (filters and .gitattributes apply,
 * as for `git add`), and the new tree is HEAD's tree with those paths replaced, written here: the cost is
 * that of `git status` plus the change, not of the repository.
 */
export function snapshotWorktree(opts: { repo: Repo; exclude: string[]; patchFileLimit?: number }): Snapshot {
  const { repo } = opts;
  const top = repo.worktree;
  if (!top)
    throw new HandoffError(
      'bare_repository',
      'A bare repository has no working tree to attach. Run this in a worktree.',
    );
  const head = runGit(['rev-parse', '-q', 'HEAD^{commit}', 'HEAD^{tree}'], {
    cwd: top,
    allowFailure: true,
  });
  if (head.status !== 0) {
    throw new HandoffError(
      'no_commits',
      'This repository has no commits yet, so there is no base to diff against. Commit once, then send with --attach-diff (or send without it).',
    );
  }
  const [base, baseTree] = head.stdout.toString('utf8').trim().split('\n') as [string, string];
  const run = (args: string[], input?: string) => runGit(args, { cwd: top, input });

  const picomatch = require('picomatch') as typeof import('picomatch');
  const secret = picomatch(
    opts.exclude.map((p) => `**/${p}`),
    { dot: true },
  );
  const isSecret = (p: string) => secret(p.replace(/\/$/, '')) || secret(path.posix.basename(p.replace(/\/$/, '')));

  const changes = new Map<string, Change>();
  const excluded: string[] = [];
  /** Working-tree files to hash, with the mode they get. */
  const fromWorktree: { path: string; mode: string }[] = [];
  const fields = run([
    '--no-optional-locks',
    'status',
    '--porcelain=v2',
    '-z',
    '--untracked-files=all',
    '--no-renames',
    '--ignore-submodules=none',
  ])
    .stdout.toString('utf8')
    .split('\0');
  for (const rec of fields) {
    if (!rec) continue;
    if (rec.startsWith('? ')) {
      const p = rec.slice(2);
      // A nested repository or worktree (a handoff checkout, say) is listed as a directory: left out.
      if (p.endsWith('/')) continue;
      if (isSecret(p)) excluded.push(p);
      else fromWorktree.push({ path: p, mode: '' });
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
    if (isSecret(p)) {
      // Looks like a secret and differs from HEAD (staged or not): HEAD's version stays, which is already
      // in the repository's history; nothing newer is recorded.
      excluded.push(p);
    } else if (kind === '1' && y === '.') {
      changes.set(p, fromIndex()); // staged only: what the index holds
    } else if (mW === '000000') {
      changes.set(p, null); // deleted in the working tree
    } else if (mW === '160000') {
      // A submodule: the commit its checkout is at.
      const sub = runGit(['rev-parse', 'HEAD'], { cwd: path.join(top, p), allowFailure: true });
      changes.set(p, sub.status === 0 ? { mode: '160000', oid: sub.stdout.toString('utf8').trim() } : fromIndex());
    } else fromWorktree.push({ path: p, mode: mW });
  }

  // Working-tree content: symbolic links are their target; files go through git's filters.
  const writer = new ObjectWriter(repo.objectsDir, repo.shared ?? null);
  const files: { path: string; mode: string }[] = [];
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
    } else if (st.isFile() && f.path.includes('\n')) {
      // git hash-object --stdin-paths takes a path a line: such a name is hashed here (without filters).
      changes.set(f.path, {
        mode: st.mode & 0o111 ? '100755' : '100644',
        oid: writer.blob(fs.readFileSync(path.join(top, f.path))),
      });
    } else if (st.isFile()) {
      files.push({
        path: f.path,
        mode: f.mode && f.mode !== '120000' ? f.mode : st.mode & 0o111 ? '100755' : '100644',
      });
    }
  }
  if (files.length) {
    const oids = run(['hash-object', '-w', '--stdin-paths'], `${files.map((f) => f.path).join('\n')}\n`)
      .stdout.toString('utf8')
      .trim()
      .split('\n');
    files.forEach((f, i) => changes.set(f.path, { mode: f.mode, oid: oids[i]! }));
  }
  const tree = changes.size ? applyToTree(repo, writer, baseTree, changes) : baseTree;

  // Past core.bigFileThreshold git treats a file as binary: "Binary files differ", not its content.
  const limit = opts.patchFileLimit ?? DEFAULT_PATCH_FILE_LIMIT;
  // One diff-tree gives both the changed paths (--raw, first) and the patch.
  const out = run([
    '-c',
    `core.bigFileThreshold=${limit}`,
    'diff-tree',
    '-r',
    '-p',
    '--raw',
    '-z',
    '-M',
    '--no-color',
    '--no-ext-diff',
    '--no-textconv',
    '--full-index',
    base,
    tree,
  ]).stdout;
  const changed: string[] = [];
  let pos = 0;
  const next = () => {
    const nul = out.indexOf(0, pos);
    const token = out.toString('utf8', pos, nul < 0 ? out.length : nul);
    pos = nul < 0 ? out.length : nul + 1;
    return token;
  };
  // ":<mode> <mode> <oid> <oid> <status>\0<path>\0" (a rename or copy names two paths), then "\0" and the patch.
  while (pos < out.length && out[pos] === 0x3a) {
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
  return { base, tree, patch, files: changed, excluded: [...new Set(excluded)].sort() };
}

/**
 * A tree object with `edits` applied (a name set to a new entry, or removed), copying the bytes of every
 * entry not edited; null when an edit turns a file into a directory or back (the caller then sorts anew).
 */
function spliceTree(raw: Buffer, edits: Map<string, Change>): Buffer | null {
  const bytesOf = (name: string, e: { mode: string; oid: string }) =>
    Buffer.concat([Buffer.from(`${e.mode} ${name}\0`), Buffer.from(e.oid, 'hex')]);
  const keyOf = (name: string, dir: boolean) => Buffer.from(dir ? `${name}/` : name);
  const present = new Set<string>();
  for (let pos = 0; pos < raw.length;) {
    const sp = raw.indexOf(0x20, pos);
    const nul = raw.indexOf(0, sp);
    const name = raw.toString('utf8', sp + 1, nul);
    if (edits.has(name)) {
      const e = edits.get(name);
      const wasDir = sp - pos === 5 && raw.toString('latin1', pos, sp) === '40000';
      if (e && (e.mode === '40000') !== wasDir) return null;
      present.add(name);
    }
    pos = nul + 21;
  }
  // New names, in git's order, to be put where they belong.
  const inserts = [...edits]
    .filter(([name, e]) => e && !present.has(name))
    .map(([name, e]) => ({ name, e: e!, key: keyOf(name, e!.mode === '40000') }))
    .sort((a, b) => Buffer.compare(a.key, b.key));
  const parts: Buffer[] = [];
  let next = 0;
  let copyFrom = 0;
  for (let pos = 0; pos < raw.length;) {
    const sp = raw.indexOf(0x20, pos);
    const nul = raw.indexOf(0, sp);
    const end = nul + 21;
    if (next < inserts.length) {
      const dir = sp - pos === 5 && raw.toString('latin1', pos, sp) === '40000';
      const key = dir ? Buffer.concat([raw.subarray(sp + 1, nul), Buffer.from('/')]) : raw.subarray(sp + 1, nul);
      while (next < inserts.length && Buffer.compare(inserts[next]!.key, key) < 0) {
        parts.push(raw.subarray(copyFrom, pos), bytesOf(inserts[next]!.name, inserts[next]!.e));
        copyFrom = pos;
        next++;
      }
    }
    const name = present.size ? raw.toString('utf8', sp + 1, nul) : '';
    if (present.has(name)) {
      parts.push(raw.subarray(copyFrom, pos));
      const e = edits.get(name);
      if (e) parts.push(bytesOf(name, e));
      copyFrom = end;
    }
    pos = end;
  }
  parts.push(raw.subarray(copyFrom));
  for (; next < inserts.length; next++) parts.push(bytesOf(inserts[next]!.name, inserts[next]!.e));
  return Buffer.concat(parts);
}

/** Parses a tree object's entries. */
function parseTree(content: Buffer): TreeEntry[] {
  const out: TreeEntry[] = [];
  for (let pos = 0; pos < content.length;) {
    const sp = content.indexOf(0x20, pos);
    const nul = content.indexOf(0, sp);
    out.push({
      mode: content.toString('utf8', pos, sp) as TreeEntry['mode'],
      name: content.toString('utf8', sp + 1, nul),
      oid: content.toString('hex', nul + 1, nul + 21),
    });
    pos = nul + 21;
  }
  return out;
}

/**
 * `baseTree` with each path set to its change (or removed), written in-process: only the trees on the
 * changed paths are read (one `git cat-file`) and written again. Returns the new root tree's id.
 */
function applyToTree(repo: Repo, writer: ObjectWriter, baseTree: string, changes: Map<string, Change>): string {
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
  const trees = readObjects(
    repo,
    [...dirs.keys()].map((d) => (d ? `${baseTree}:${d}` : baseTree)),
  );
  const children = new Map<string, string[]>();
  for (const d of dirs.keys()) {
    if (!d) continue;
    const parent = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : '';
    children.set(parent, [...(children.get(parent) ?? []), d]);
  }
  const build = (dir: string): string | null => {
    const obj = trees.get(dir ? `${baseTree}:${dir}` : baseTree);
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
    const spliced = spliceTree(raw, edits);
    if (spliced) return spliced.length || !dir ? writer.write('tree', spliced) : null;
    const entries = new Map<string, TreeEntry>();
    for (const e of parseTree(raw)) entries.set(e.name, e);
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
  const updates: string[] = [];
  for (const f of files) {
    const obj = objects.get(`${tree}:${f}`);
    if (!obj || obj.type !== 'blob') continue;
    const next = rewrite(f, obj.content);
    if (!next || next.equals(obj.content)) continue;
    const mode = runGit(['ls-tree', '-z', tree, '--', f], { cwd: repo.cwd }).stdout.toString('utf8').split(' ')[0];
    updates.push(`${mode} ${writer.blob(next)}\t${f}`);
  }
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
  const usable = files.filter((f) => !/[\n\r]/.test(f));
  const objects = readObjects(
    repo,
    usable.map((f) => `${tree}:${f}`),
  );
  for (const f of usable) {
    const obj = objects.get(`${tree}:${f}`);
    if (obj && obj.type === 'blob') out.set(f, obj.content);
  }
  return out;
}
