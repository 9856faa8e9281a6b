/**
 * A chain's commits as the long-walk listings give them (read newest first, as git walks, and turned
 * round) are exactly what `git rev-list --reverse` gives, with each commit's tree and parents.
 */
import { describe, expect, it } from 'vitest';
import { listChainCommits, listChainCommitsStreamed } from '../../src/git/ledger-format';
import { findRepo } from '../../src/git/repo';
import { chainCommitsWithSignatures } from '../../src/git/signatures';
import { git, makeRepo, ok } from '../helpers/repo';
import { writer } from '../helpers/writers';

describe('chain listings read as git walks', () => {
  it('give the commits of a 300-event chain oldest first, whole and from a commit on, with trees', async () => {
    const dir = makeRepo();
    ok(dir, ['join'], { agent: 'b' });
    const w = await writer(dir, ['a', 'b', '300', 'm']);
    expect(w.acked).toHaveLength(300);
    const repo = findRepo(dir);
    const ref = git(dir, 'for-each-ref', '--format=%(refname)', 'refs/handoff/chains/').trim().split('\n');
    expect(ref).toHaveLength(1);
    const tip = git(dir, 'rev-parse', ref[0]!).trim();
    const byGit = git(dir, 'rev-list', '--reverse', '--first-parent', '--parents', tip)
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    expect(byGit.length).toBe(301); // the join, and the 300 sends
    const stop = byGit[100]![0]!;

    for (const from of [null, stop]) {
      const want = from ? byGit.slice(101) : byGit;
      const streamed = await listChainCommitsStreamed(repo, tip, from);
      expect(streamed).toEqual(listChainCommits(repo, tip, from));
      expect(streamed.map((c) => [c.commit, ...c.parents])).toEqual(want);
      expect(streamed[0]!.parent).toBe(from);

      const signed = await chainCommitsWithSignatures(repo, tip, from);
      expect(signed.map((c) => [c.commit, ...c.parents])).toEqual(want);
      expect(signed.every((c) => c.sig.status === 'unsigned')).toBe(true);
      // Each commit's tree, as git names it.
      const trees = git(dir, 'log', '--reverse', '--first-parent', '--format=%T', tip, ...(from ? [`^${from}`] : []))
        .trim()
        .split('\n');
      expect(signed.map((c) => c.tree)).toEqual(trees);
      // A commit that is the next one's parent is the same string (one per id, for 100,000-event chains).
      expect(signed.slice(1).every((c, i) => c.parent === signed[i]!.commit)).toBe(true);
    }
  });
});
