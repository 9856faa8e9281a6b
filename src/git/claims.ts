/**
 * Claims arbitrated by a remote: one ref per key, refs/handoff/claims/<key>, pointing at a commit whose
 * tree holds claim.json. Taking, renewing and releasing a claim is a push of a new commit with
 * `--force-with-lease=<ref>:<the value read>` (empty: the ref must not exist), so of several clones pushing
 * at once exactly one succeeds; the others read the winner. See docs/ledger-format.md, "Claims".
 */
import crypto from 'node:crypto';
import { HandoffError } from '../core/errors';
import { runGit } from './exec';
import { LEDGER_NAMESPACE } from './ledger-format';
import { ObjectWriter, readObject } from './objects';
import { gitReason, pushRefspecs, fetchRefspecs } from './remote';
import { deleteRefs } from './refs';
import type { Repo } from './repo';

export const CLAIM_PREFIX = `${LEDGER_NAMESPACE}claims/`;

/** What claim.json holds. */
export interface RemoteClaimRecord {
  key: string;
  state: 'held' | 'released';
  agent: string;
  clone: string;
  since: string;
  expires: string;
  host: string;
  pid: number;
  start: string | null;
}

function isRecord(v: unknown, key: string): v is RemoteClaimRecord {
  const r = v as RemoteClaimRecord;
  return (
    !!r &&
    typeof r === 'object' &&
    r.key === key &&
    (r.state === 'held' || r.state === 'released') &&
    typeof r.agent === 'string' &&
    typeof r.since === 'string' &&
    typeof r.expires === 'string' &&
    Number.isFinite(Date.parse(r.expires))
  );
}

/**
 * The remote's current record for `key` and the commit it sits in, or null when the remote has none. The
 * key must be validated (a name or an id) before it gets here.
 */
export async function readRemoteClaim(
  repo: Repo,
  remote: string,
  key: string,
): Promise<{ oid: string; record: RemoteClaimRecord } | null> {
  const ref = `${CLAIM_PREFIX}${key}`;
  const staging = `${LEDGER_NAMESPACE}incoming-claims/${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const res = await fetchRefspecs(repo.cwd, remote, [`+${ref}:${staging}`]);
  try {
    if (res.status !== 0) {
      if (/couldn't find remote ref|no such ref/i.test(res.stderr)) return null;
      throw new HandoffError('remote_failed', `git fetch from ${remote} failed: ${gitReason(res.stderr, res.status)}.`);
    }
    const oid = runGit(['rev-parse', '--verify', '-q', `${staging}^{commit}`], { cwd: repo.cwd, allowFailure: true })
      .stdout.toString('utf8')
      .trim();
    if (!oid) return null;
    const blob = readObject(repo, `${oid}:claim.json`);
    let record: unknown = null;
    try {
      record = JSON.parse(blob?.content.toString('utf8') ?? 'null');
    } catch {
      record = null;
    }
    // An unreadable record is treated as released: whoever pushes next replaces it (still by compare-and-swap).
    if (!isRecord(record, key))
      record = {
        key,
        state: 'released',
        agent: '',
        clone: '',
        since: '',
        expires: new Date(0).toISOString(),
        host: '',
        pid: 0,
        start: null,
      };
    return { oid, record: record as RemoteClaimRecord };
  } finally {
    deleteRefs(repo.cwd, [staging]);
  }
}

/**
 * Writes `record` as the next commit of the key's claim ref and pushes it, succeeding only if the remote's
 * ref still holds `expected` (null: it must not exist). Returns false when another push won.
 */
export async function casRemoteClaim(
  repo: Repo,
  remote: string,
  key: string,
  record: RemoteClaimRecord,
  expected: string | null,
): Promise<boolean> {
  const ref = `${CLAIM_PREFIX}${key}`;
  const writer = new ObjectWriter(repo.objectsDir, repo.shared ?? null);
  const blob = writer.blob(`${JSON.stringify(record, null, 2)}\n`);
  const tree = writer.tree([{ mode: '100644', name: 'claim.json', oid: blob }]);
  const ident = {
    name: record.agent || 'handoff',
    email: `${record.agent || 'handoff'}@handoff.invalid`,
    when: Math.floor(Date.now() / 1000),
  };
  const commit = writer.commit({
    tree,
    parents: expected ? [expected] : [],
    author: ident,
    committer: ident,
    message: `claim ${record.state} ${key} by ${record.agent}\n\nHandoff-Claim: ${key}\n`,
  });
  const res = await pushRefspecs(repo.cwd, remote, [`${commit}:${ref}`], {
    extraArgs: ['--atomic', `--force-with-lease=${ref}:${expected ?? ''}`],
  });
  if (res.status === 0) return true;
  if (
    /stale info|rejected|fetch first|non-fast-forward|already exists|cannot lock ref|failed to update/i.test(res.stderr)
  )
    return false;
  throw new HandoffError('remote_failed', `git push to ${remote} failed: ${res.stderr.trim().split('\n').pop()}`);
}
