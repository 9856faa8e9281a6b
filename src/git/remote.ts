/** Remotes: which exist, and the fetch and push of ledger refs through them. */
import { runGit, runGitStreaming, type GitResult } from './exec';

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
  const args = ['fetch', '--no-tags', '--no-write-fetch-head', '--refmap=', ...(opts.onProgress ? ['--progress'] : [])];
  return runGitStreaming([...args, '--', remote, ...refspecs], { cwd, allowFailure: true, onStderr: opts.onProgress });
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
