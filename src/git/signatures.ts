/**
 * Signed chains: with `git config handoff.sign true` this clone's chain commits are signed the way git
 * signs commits (`git commit-tree -S`, so gpg.format, user.signingKey and gpg.ssh.program apply as they
 * do for the user's own commits), and signatures are checked the way `git log --show-signature` checks
 * them (gpg.ssh.allowedSignersFile for SSH keys, the keyring for OpenPGP).
 */
import { HandoffError } from '../core/errors';
import { CommitLineParser, LineSplitter } from './commit-lines';
import { runGit, runGitStreaming } from './exec';
import type { CommitSpec } from './objects';
import type { Repo } from './repo';

/**
 * What git says of a commit's signature: good (a known signer), unknown_key (valid, but the key is not
 * among the allowed signers), bad (does not verify: the commit was altered or re-signed), unsigned, or
 * unverifiable (git cannot check it here: no allowed signers file, an expired or revoked key, ...).
 */
export type SignatureStatus = 'good' | 'unknown_key' | 'bad' | 'unsigned' | 'unverifiable';

export interface CommitSignature {
  status: SignatureStatus;
  /** The key's fingerprint (SSH) or id (OpenPGP), when signed. */
  key: string | null;
  /** Who the allowed signers (or the keyring) say the key belongs to, when known. */
  signer: string | null;
}

const STATUS: Record<string, SignatureStatus> = {
  G: 'good',
  U: 'unknown_key',
  B: 'bad',
  R: 'bad', // a revoked key
  N: 'unsigned',
  E: 'unverifiable',
  X: 'unverifiable', // an expired signature
  Y: 'unverifiable', // made by an expired key
};

/** Writes a commit signed with the user's git signing set-up and returns its id. */
export function writeSignedCommit(repo: Repo, spec: CommitSpec): string {
  const args = ['commit-tree', '-S', spec.tree];
  for (const p of spec.parents) args.push('-p', p);
  const clean = (s: string) => s.replace(/[<>\n]/g, '');
  const res = runGit(args, {
    cwd: repo.cwd,
    input: spec.message,
    allowFailure: true,
    env: {
      GIT_AUTHOR_NAME: clean(spec.author.name),
      GIT_AUTHOR_EMAIL: clean(spec.author.email),
      GIT_AUTHOR_DATE: `@${Math.floor(spec.author.when)} +0000`,
      GIT_COMMITTER_NAME: clean(spec.committer.name),
      GIT_COMMITTER_EMAIL: clean(spec.committer.email),
      GIT_COMMITTER_DATE: `@${Math.floor(spec.committer.when)} +0000`,
    },
  });
  if (res.status !== 0)
    throw new HandoffError(
      'sign_failed',
      `Could not sign the ledger commit (git config handoff.sign is true): ${res.stderr.trim() || `git commit-tree exited ${res.status}`}. Check gpg.format and user.signingKey (git config), or turn signing off with 'git config handoff.sign false'.`,
    );
  return res.stdout.toString('utf8').trim();
}

// The tree comes before the signature fields, which are the signer's words.
const FORMAT = '%H %P%x1f%T%x1f%G?%x1f%GK%x1f%GS';

const signersConfigured = new WeakMap<Repo, boolean>();

/** Whether git knows whose SSH keys are whose (gpg.ssh.allowedSignersFile). */
export function allowedSignersConfigured(repo: Repo): boolean {
  let known = signersConfigured.get(repo);
  if (known === undefined) {
    let value = repo.configValue?.('gpg.ssh.allowedsignersfile');
    if (value === undefined) {
      const res = runGit(['config', '--get', 'gpg.ssh.allowedSignersFile'], { cwd: repo.cwd, allowFailure: true });
      value = res.status === 0 ? res.stdout.toString('utf8') : null;
    }
    known = !!value && value.trim() !== '';
    signersConfigured.set(repo, known);
  }
  return known;
}

/**
 * Arguments that make git check SSH signatures even where no allowed signers file is configured (git
 * then reports a signed commit as unsigned): against an empty list, a valid signature is one by an
 * unknown key, and an altered commit is bad.
 */
function checkArgs(repo: Repo): string[] {
  return allowedSignersConfigured(repo) ? [] : ['-c', 'gpg.ssh.allowedSignersFile=/dev/null'];
}

/** The one object every unsigned commit shares (a chain of 100,000 needs no 100,000 of them). */
const UNSIGNED: CommitSignature = Object.freeze({ status: 'unsigned', key: null, signer: null });

function parseLine(line: string): { commit: string; parents: string[]; tree: string; sig: CommitSignature } {
  const [ids, tree, g, key, signer] = line.split('\x1f');
  const [commit, ...parents] = ids!.split(' ').filter(Boolean);
  return { commit: commit!, parents, tree: tree ?? '', sig: parseSig(g, key, signer) };
}

function parseSig(g: string | undefined, key: string | undefined, signer: string | undefined): CommitSignature {
  return g === 'N' && !key && !signer
    ? UNSIGNED
    : { status: STATUS[g ?? ''] ?? 'unverifiable', key: key || null, signer: signer || null };
}

/** One commit of a chain as `git log` lists it. */
export interface SignedChainCommit {
  commit: string;
  /** The first parent (null for a chain's first commit). */
  parent: string | null;
  /** Every parent, first included. */
  parents: string[];
  /** The commit's tree: its event is read as `<tree>:event.json`, without git reading the commit again. */
  tree: string;
  sig: CommitSignature;
}

/**
 * A chain's commits from `tip` back to (not including) `stop`, oldest first, each with its parents and
 * its signature, in one `git log` (which starts the signature program only for signed commits).
 *
 * Parsed from git's bytes with little per commit (a chain may hold 100,000): each id is one string
 * (git/commit-lines.ts), and unsigned commits share one object.
 * git lists newest first, as it walks (with --reverse it would walk the whole chain before printing a
 * line), so parsing goes on while git walks; the list is turned round at the end.
 */
export async function chainCommitsWithSignatures(
  repo: Repo,
  tip: string,
  stop: string | null,
): Promise<SignedChainCommit[]> {
  const args = [...checkArgs(repo), 'log', '--no-show-signature', '--first-parent', `--format=${FORMAT}`, tip];
  if (stop) args.push(`^${stop}`);
  args.push('--');
  const rows: SignedChainCommit[] = [];
  const ids = new CommitLineParser();
  const lines = new LineSplitter((buf, at, end) => {
    const us = buf.indexOf(0x1f, at);
    if (us < 0 || us > end) {
      const r = parseLine(buf.toString('utf8', at, end));
      rows.push({ ...r, parent: r.parents[0] ?? null });
      return;
    }
    const { commit, parents } = ids.ids(buf, at, us);
    let us2 = buf.indexOf(0x1f, us + 1);
    if (us2 < 0 || us2 > end) us2 = end;
    const tree = buf.toString('latin1', us + 1, us2);
    const [g, key, signer] = buf.toString('utf8', Math.min(us2 + 1, end), end).split('\x1f');
    rows.push({ commit, parent: parents[0] ?? null, parents, tree, sig: parseSig(g, key, signer) });
  });
  // Streamed: the output of a long chain is parsed as it comes, never held whole.
  await runGitStreaming(args, { cwd: repo.cwd, onStdout: (chunk) => lines.push(chunk) });
  lines.end();
  return rows.reverse();
}

/** The signatures of the given commits (any order; one `git log --no-walk`). */
export function commitSignatures(repo: Repo, commits: string[]): Map<string, CommitSignature> {
  const out = new Map<string, CommitSignature>();
  const ids = [...new Set(commits.filter((c) => /^[0-9a-f]{40}$/.test(c)))];
  if (!ids.length) return out;
  const res = runGit(
    [...checkArgs(repo), 'log', '--no-show-signature', '--no-walk=unsorted', '--stdin', `--format=${FORMAT}`],
    {
      cwd: repo.cwd,
      input: `${ids.join('\n')}\n`,
      allowFailure: true,
    },
  );
  for (const line of res.stdout.toString('utf8').split('\n')) {
    if (!line) continue;
    const r = parseLine(line);
    out.set(r.commit, r.sig);
  }
  return out;
}
