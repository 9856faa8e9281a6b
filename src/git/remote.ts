/** Remotes: which exist, and the fetch and push of ledger refs through them. */
import { runGit, runGitStreaming, type GitResult } from './exec';
import { readObjects } from './objects';
import { isPartialClone, type Repo } from './repo';

/** The configured remotes' names. */
export function listRemotes(cwd: string): string[] {
  return runGit(['remote'], { cwd }).stdout.toString('utf8').split('\n').filter(Boolean);
}

export interface TransferOptions {
  /** Receives git's progress (stderr) as it comes; asks git for progress when set. */
  onProgress?: (text: string) => void;
  /** More options for git (for example --atomic, --force-with-lease=...). */
  extraArgs?: string[];
}

/**
 * Fetches exactly `refspecs` from `remote` (negative refspecs "^ref" allowed): no tags, no FETCH_HEAD,
 * and an empty --refmap, so git updates no other ref through remote.<name>.fetch on the way.
 */
export function fetchRefspecs(
  cwd: string,
  remote: string,
  refspecs: string[],
  opts: TransferOptions = {},
): Promise<GitResult> {
  // No `git maintenance run --auto` after it: handoff packs what its fetches bring (git/maintenance.ts), and
  // a sync does not start the user's gc.
  const args = [
    'fetch',
    '--no-tags',
    '--no-write-fetch-head',
    '--no-auto-maintenance',
    '--refmap=',
    ...(opts.onProgress ? ['--progress'] : []),
  ];
  return runGitStreaming([...args, '--', remote, ...refspecs], { cwd, allowFailure: true, onStderr: opts.onProgress });
}

/** git's own reason for a failed fetch or push: its error lines, else its last lines, else its exit status. */
export function gitReason(stderr: string, status: number): string {
  const lines = stderr
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .filter((l) => l && !/^remote:\s*$/.test(l));
  const isError = (l: string) => /^(fatal|error):|^! |\[rejected\]|\[remote rejected\]/.test(l);
  const errors = lines.filter(isError);
  // The line before git's first error often holds the cause (ssh's "Could not resolve hostname", a host's
  // "Permission denied (publickey)" or "ERROR: Repository not found"): kept, unless it is progress.
  const first = lines.findIndex(isError);
  const before = first > 0 ? lines[first - 1]! : null;
  const cause =
    before && !/\d+%|^(From|To) |^remote: (Enumerating|Counting|Compressing|Total)/.test(before) ? [before] : [];
  const picked = (errors.length ? [...cause, ...errors.slice(-3)] : lines.slice(-3)).join(' ').replace(/\s+/g, ' ');
  return picked.replace(/\.$/, '') || `git gave no reason (exit status ${status})`;
}

/** Pushes `refspecs` to `remote`, without running the user's pre-push hook. */
export function pushRefspecs(
  cwd: string,
  remote: string,
  refspecs: string[],
  opts: TransferOptions = {},
): Promise<GitResult> {
  const args = ['push', '--no-verify', ...(opts.onProgress ? ['--progress'] : []), ...(opts.extraArgs ?? [])];
  return runGitStreaming([...args, '--', remote, ...refspecs], { cwd, allowFailure: true, onStderr: opts.onProgress });
}

/**
 * In a partial clone that has its trees (a `blob:` filter), fetches in one round trip the blobs the ledger's
 * readers need of the commits new since `have` up to `tips`: each event's event.json and body, which git would
 * otherwise fetch one lazy fetch at a time as indexing first reads them. The fetch asks for those objects by
 * id, as git's own fetch on demand does. Nothing happens in any other clone, and a failure changes nothing:
 * git then fetches them on demand, as before.
 */
export function prefetchEventBlobs(repo: Repo, remote: string, tips: string[], have: string[]): number {
  if (!tips.length || !isPartialClone(repo)) return 0;
  const config = (key: string) =>
    runGit(['config', '--get', key], { cwd: repo.cwd, allowFailure: true }).stdout.toString('utf8').trim();
  if (!config(`remote.${remote}.partialclonefilter`).startsWith('blob:')) return 0;
  const listed = runGit(['rev-list', ...tips, '--not', ...have, '--'], { cwd: repo.cwd, allowFailure: true });
  if (listed.status !== 0) return 0;
  const commits = listed.stdout.toString('utf8').split('\n').filter(Boolean);
  if (!commits.length) return 0;
  const trees = readObjects(
    repo,
    commits.map((c) => `${c}^{tree}`),
  );
  const wanted: string[] = [];
  for (const t of trees.values()) {
    if (!t || t.type !== 'tree') continue;
    // "<mode> <name>\0<binary id>" per entry.
    const buf = t.content;
    const idLength = 20;
    for (let at = 0; at < buf.length;) {
      const nul = buf.indexOf(0, at);
      if (nul < 0) break;
      const name = buf.toString('utf8', buf.indexOf(0x20, at) + 1, nul);
      if (name === 'event.json' || name === 'body') wanted.push(buf.toString('hex', nul + 1, nul + 1 + idLength));
      at = nul + 1 + idLength;
    }
  }
  if (!wanted.length) return 0;
  const res = runGit(
    [
      '-c',
      'fetch.negotiationAlgorithm=noop',
      'fetch',
      '--no-tags',
      '--no-write-fetch-head',
      '--no-auto-maintenance',
      '--recurse-submodules=no',
      '--filter=blob:none',
      '--stdin',
      '--',
      remote,
    ],
    { cwd: repo.cwd, allowFailure: true, input: `${wanted.join('\n')}\n` },
  );
  return res.status === 0 ? wanted.length : 0;
}
