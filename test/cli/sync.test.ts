import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cli, cliAsync, commonDir, git, ok } from '../helpers/repo';
import { team } from '../helpers/clones';

/** Clone A sent bob two messages; A and B both synced. */
function aliceSentTwoAndBothSynced() {
  const t = team();
  const a = t.clone('a');
  const b = t.clone('b');
  ok(a, ['join'], { agent: 'alice' });
  ok(a, ['send', 'bob', 'one', '--create'], { agent: 'alice' });
  ok(a, ['send', 'bob', 'two'], { agent: 'alice' });
  ok(a, ['sync']);
  ok(b, ['sync']);
  return { t, a, b };
}

const ids = (r: any) => r.json.messages.map((m: any) => m.id);

describe('sync through a bare remote', () => {
  it('send in A, sync, read in B, reply in B, sync, read in A', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    ok(a, ['join'], { agent: 'claude' });
    const id = ok(a, ['send', 'codex', 'from A', '--create', '--json'], { agent: 'claude' }).json.message.id;
    const s1 = ok(a, ['sync', '--json']).json;
    expect(s1.pushed).toBeTruthy();
    // B needs no identity to read the ledger.
    const s2 = ok(b, ['sync', '--json']).json;
    expect(s2.indexed).toBe(2);
    expect(ok(b, ['threads', '--json']).json.threads.map((x: any) => x.subject)).toEqual(['from A']);
    expect(ids(ok(b, ['inbox', '--json'], { agent: 'codex' }))).toEqual([id]);
    ok(b, ['read', id], { agent: 'codex' });
    const rid = ok(b, ['reply', id, 'from B', '--json'], { agent: 'codex' }).json.message.id;
    ok(b, ['sync']);
    ok(a, ['sync']);
    expect(ok(a, ['inbox', '--json'], { agent: 'claude' }).json.messages.map((m: any) => [m.id, m.body])).toEqual([
      [rid, 'from B'],
    ]);
    // The read receipt written in B reached A.
    expect(ok(a, ['show', id, '--json']).json.recipients[0].status).toBe('read');
    expect(ok(a, ['verify', '--json']).json).toMatchObject({ ok: true, chains: 2 });
    expect(ok(b, ['verify', '--json']).json).toMatchObject({ ok: true, chains: 2 });
    // Plain git on the remote shows both chains; no branch was touched.
    expect(git(t.remote, 'for-each-ref', '--format=%(refname)', 'refs/handoff/').split('\n')).toHaveLength(2);
    expect(git(t.remote, 'for-each-ref', '--format=%(refname)', 'refs/heads/')).toBe('refs/heads/main');
  });

  it('two clones sending concurrently converge to the same events in the same order, without merges', async () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    ok(a, ['join'], { agent: 'alice' });
    ok(b, ['join'], { agent: 'bob' });
    ok(a, ['sync']);
    ok(b, ['sync']);
    ok(a, ['sync']);
    const sends = (dir: string, who: string, to: string) =>
      Promise.all(Array.from({ length: 6 }, (_, i) => cliAsync(dir, ['send', to, `${who} ${i}`], { agent: who }).done));
    await Promise.all([sends(a, 'alice', 'bob'), sends(b, 'bob', 'alice')]);
    // Both sync at the same time, then once more each.
    await Promise.all([cliAsync(a, ['sync']).done, cliAsync(b, ['sync']).done]);
    ok(a, ['sync']);
    ok(b, ['sync']);
    ok(a, ['sync']);
    const order = (dir: string) =>
      ok(dir, ['threads', '--json', '--limit', '100']).json.threads.map((x: any) => x.thread);
    expect(order(a)).toHaveLength(12);
    expect(order(a)).toEqual(order(b));
    const inboxA = ok(a, ['inbox', '--all', '--json'], { agent: 'bob' }).json.messages.map((m: any) => m.id);
    const inboxB = ok(b, ['inbox', '--all', '--json'], { agent: 'bob' }).json.messages.map((m: any) => m.id);
    expect(inboxA).toEqual(inboxB);
    // No merge commits anywhere in the ledger: every chain commit has at most its chain parent (no diffs here).
    for (const ref of git(t.remote, 'for-each-ref', '--format=%(refname)', 'refs/handoff/').split('\n')) {
      expect(git(t.remote, 'rev-list', '--min-parents=2', ref)).toBe('');
    }
  });

  it('a reply sorts after what it answers even when the clones disagree by hours', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    const ahead = { HANDOFF_CLOCK_OFFSET_MS: String(3 * 3600 * 1000) };
    const behind = { HANDOFF_CLOCK_OFFSET_MS: String(-3 * 3600 * 1000) };
    ok(a, ['join'], { agent: 'alice', env: ahead });
    const q = ok(a, ['send', 'bob', 'question from the future', '--create', '--kind', 'question', '--json'], {
      agent: 'alice',
      env: ahead,
    }).json.message;
    ok(a, ['sync']);
    ok(b, ['sync']);
    const r = ok(b, ['reply', q.id, 'answer from the past', '--json'], { agent: 'bob', env: behind }).json.message;
    expect(Date.parse(r.ts)).toBeLessThan(Date.parse(q.ts));
    ok(b, ['sync']);
    ok(a, ['sync']);
    for (const dir of [a, b]) {
      expect(ok(dir, ['thread', q.id, '--json']).json.messages.map((m: any) => m.body)).toEqual([
        'question from the future',
        'answer from the past',
      ]);
    }
    // After a rebuild the order is the same: it is recorded in git, not computed from arrival.
    ok(b, ['rebuild']);
    expect(ok(b, ['thread', q.id, '--json']).json.messages.map((m: any) => m.body)).toEqual([
      'question from the future',
      'answer from the past',
    ]);
  });

  it('refuses a chain rewritten on the remote (exit 4, naming it), and verify fails', () => {
    const { t, b } = aliceSentTwoAndBothSynced();
    // Someone drops the last message from A's chain on the remote.
    const ref = git(t.remote, 'for-each-ref', '--format=%(refname)', 'refs/handoff/chains/');
    git(t.remote, 'update-ref', ref, `${ref}~1`);
    const chain = ref.split('/').pop()!;
    // ...and then appends a forged event on top, so that it looks like progress.
    const forged = git(t.remote, 'commit-tree', '-p', `${ref}`, '-m', 'forged', `${ref}^{tree}`);
    git(t.remote, 'update-ref', ref, forged);
    const r = cli(b, ['sync', '--json']);
    expect(r.status).toBe(4);
    expect(r.json.error.code).toBe('chain_rewritten');
    expect(r.json.error.message).toContain(chain);
    // B's copy of the chain is untouched and still verifies.
    expect(ok(b, ['verify', '--json']).json.ok).toBe(true);
    expect(ok(b, ['inbox', '--json'], { agent: 'bob' }).json.messages.map((m: any) => m.body)).toEqual(['one', 'two']);
    // The chain sync refused can be dropped without --force; once dropped, sync is clean.
    ok(b, ['sync', '--drop', chain]);
    expect(git(b, 'for-each-ref', ref)).toBe('');
    expect(ok(b, ['sync', '--json']).json.refused).toEqual([]);
  });

  it('a rewrite brought by plain git fetch after --setup can be dropped without --force; a stale copy cannot', () => {
    const { t, b } = aliceSentTwoAndBothSynced();
    ok(b, ['sync', '--setup']);
    const ref = git(t.remote, 'for-each-ref', '--format=%(refname)', 'refs/handoff/chains/');
    const chain = ref.split('/').pop()!;
    // Behind (stale): not a reason to drop.
    git(t.remote, 'update-ref', ref, `${ref}~1`);
    git(b, 'fetch', '-q');
    expect(cli(b, ['sync', '--drop', chain, '--json']).json.error.code).toBe('drop_needs_force');
    // Rewritten: a sibling of the local tip.
    const forged = git(t.remote, 'commit-tree', '-p', `${ref}`, '-m', 'forged', `${ref}^{tree}`);
    git(t.remote, 'update-ref', ref, forged);
    git(b, 'fetch', '-q');
    ok(b, ['sync', '--drop', chain]);
    expect(git(b, 'for-each-ref', `refs/handoff/chains/${chain}`)).toBe('');
  });

  it("a fresh clone detects a rewritten chain from another chain's witness", () => {
    const { t, a, b } = aliceSentTwoAndBothSynced();
    // B writes an event after seeing A's chain: it witnesses A's tip.
    ok(b, ['join'], { agent: 'bob' });
    ok(b, ['sync']);
    const aChain = fs.readFileSync(path.join(commonDir(a), 'handoff', 'clone-id'), 'utf8').trim();
    git(t.remote, 'update-ref', `refs/handoff/chains/${aChain}`, `refs/handoff/chains/${aChain}~1`);
    // C never saw A's old tip.
    const c = t.clone('c');
    const r = cli(c, ['sync', '--json']);
    expect(r.status).toBe(4);
    expect(r.json.error.message).toContain(aChain);
    const v = cli(c, ['verify', '--json']);
    expect(v.status).toBe(6);
    expect(
      v.json.error.details.problems.some(
        (p: any) => ['rewritten', 'missing_chain'].includes(p.code) && p.chain === aChain,
      ),
    ).toBe(true);
  });

  it('sync --setup makes plain git fetch and git push carry the ledger; --undo restores the config', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    const configBefore = git(a, 'config', '--local', '--list');
    const setup = ok(a, ['sync', '--setup', '--json']).json;
    expect(setup.added.map((x: any) => x.key)).toEqual([
      'remote.origin.fetch',
      'remote.origin.push',
      'remote.origin.push',
    ]);
    expect(ok(a, ['sync', '--setup', '--json']).json.added).toEqual([]);
    ok(b, ['sync', '--setup']);
    ok(a, ['join'], { agent: 'alice' });
    const id = ok(a, ['send', 'bob', 'via plain git', '--create', '--json'], { agent: 'alice' }).json.message.id;
    git(a, 'push', '-q');
    git(b, 'fetch', '-q');
    // Any command notices the fetched chain and indexes it.
    expect(ids(ok(b, ['inbox', '--json'], { agent: 'bob' }))).toEqual([id]);
    // git push still pushes the branch.
    fs.writeFileSync(path.join(a, 'x.txt'), 'x\n');
    git(a, 'add', 'x.txt');
    git(a, 'commit', '-q', '-m', 'x');
    git(a, 'push', '-q');
    expect(git(t.remote, 'rev-parse', 'main')).toBe(git(a, 'rev-parse', 'HEAD'));
    ok(a, ['sync', '--setup', '--undo']);
    expect(git(a, 'config', '--local', '--list')).toBe(configBefore);
    // The remote-tracking copies go with the setup (b still has its own).
    git(b, 'fetch', '-q');
    ok(b, ['sync', '--setup', '--undo']);
    expect(git(b, 'for-each-ref', 'refs/handoff/remotes/')).toBe('');
    expect(ids(ok(b, ['inbox', '--json'], { agent: 'bob' }))).toEqual([id]);
  });

  it("syncs with the checked-out branch's upstream remote, else origin: per worktree, detached too", () => {
    const t = team();
    const other = team();
    const a = t.clone('a');
    git(a, 'remote', 'add', 'Team', other.remote);
    git(a, 'fetch', '-q', 'Team');
    // main follows Team/main; a linked worktree on a branch of its own follows nothing.
    git(a, 'branch', '-q', '--set-upstream-to', 'Team/main', 'main');
    const wt = path.join(path.dirname(t.remote), 'wt');
    git(a, 'worktree', 'add', '-q', '-b', 'side', wt);
    ok(a, ['join'], { agent: 'alice' });
    const chains = (remote: string) => git(remote, 'for-each-ref', '--format=%(refname)', 'refs/handoff/chains/');
    expect(ok(a, ['sync', '--json']).json.remote).toBe('Team');
    expect([chains(other.remote) !== '', chains(t.remote)]).toEqual([true, '']);
    expect(ok(wt, ['sync', '--json']).json.remote).toBe('origin');
    expect(chains(t.remote)).toBe(chains(other.remote));
    // Detached, and with an upstream that is no remote (.): origin.
    git(wt, 'checkout', '-q', '--detach');
    expect(ok(wt, ['sync', '--json']).json.remote).toBe('origin');
    git(a, 'config', 'branch.main.remote', '.');
    expect(ok(a, ['sync', '--json']).json.remote).toBe('origin');
    // A config section named after a path is no remote for git ("cannot begin with '/'"), nor for sync.
    const elsewhere = team().remote;
    git(a, 'config', `remote.${elsewhere}.url`, other.remote);
    const named = cli(a, ['sync', elsewhere, '--json']);
    expect([named.status, named.json.error.code]).toEqual([3, 'unknown_remote']);
    git(a, 'config', 'branch.main.remote', elsewhere);
    expect(ok(a, ['sync', '--json']).json.remote).toBe('origin');
    expect(chains(elsewhere)).toBe('');
    // HEAD as git reads it: white space after "ref:" and at the end.
    git(a, 'config', 'branch.main.remote', 'Team');
    fs.writeFileSync(path.join(a, '.git', 'HEAD'), 'ref:  refs/heads/main \r\n');
    expect(ok(a, ['sync', '--json']).json.remote).toBe('Team');
  });

  it('an unreachable remote gives a clear error and changes nothing locally', () => {
    const t = team();
    const a = t.clone('a');
    ok(a, ['join'], { agent: 'alice' });
    const refs = git(a, 'for-each-ref');
    git(a, 'remote', 'set-url', 'origin', path.join(path.dirname(t.remote), 'gone.git'));
    const r = cli(a, ['sync', '--json']);
    expect(r.status).toBe(1);
    expect(r.json.error.code).toBe('remote_unreachable');
    expect(r.json.error.message).toMatch(/Nothing was changed locally/);
    expect(git(a, 'for-each-ref')).toBe(refs);
    expect(cli(a, ['sync', 'nosuch', '--json']).json.error.code).toBe('unknown_remote');
    // Over ssh, the cause is ssh's line before git's "fatal": it is in the message (as git fetch shows it).
    const ssh = path.join(path.dirname(t.remote), 'fake-ssh');
    fs.writeFileSync(
      ssh,
      '#!/bin/sh\necho "ssh: Could not resolve hostname git.example.invalid: Name or service not known" >&2\nexit 255\n',
      { mode: 0o755 },
    );
    git(a, 'config', 'core.sshCommand', ssh);
    git(a, 'remote', 'set-url', 'origin', 'ssh://git.example.invalid/team.git');
    const viaSsh = cli(a, ['sync', '--json']);
    expect(viaSsh.json.error.code).toBe('remote_unreachable');
    expect(viaSsh.json.error.message).toContain(
      'ssh: Could not resolve hostname git.example.invalid: Name or service not known fatal: Could not read from remote repository',
    );
    expect(git(a, 'for-each-ref')).toBe(refs);
  });

  it("a ref under chains/ that is not a clone id is ignored with a warning: every clone's sync goes on", () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    ok(a, ['join'], { agent: 'alice' });
    const id = ok(a, ['send', 'bob', 'before the junk', '--create', '--json'], { agent: 'alice' }).json.message.id;
    ok(a, ['sync']);
    // Anyone who can push can make such a ref; git accepts the name.
    git(a, 'push', '-q', 'origin', "main:refs/handoff/chains/junk'name");
    ok(a, ['send', 'bob', 'after the junk'], { agent: 'alice' });
    const sa = cli(a, ['sync', '--json']);
    expect(sa.status).toBe(0);
    expect(sa.json.pushed).toBeTruthy();
    expect(sa.json.refused).toEqual([{ chain: "junk'name", reason: 'not a clone id' }]);
    expect(sa.stderr).toContain(`git push origin --delete 'refs/handoff/chains/junk'\\''name'`);
    const sb = cli(b, ['sync', '--json']);
    expect(sb.status).toBe(0);
    expect(sb.json.indexed).toBe(3);
    expect(ids(ok(b, ['inbox', '--json'], { agent: 'bob' }))).toHaveLength(2);
    expect(ids(ok(b, ['inbox', '--json'], { agent: 'bob' }))).toContain(id);
    // Never taken: no local ref of that name, and verify is clean.
    expect(git(b, 'for-each-ref', '--format=%(refname)', 'refs/handoff/chains/')).not.toContain('junk');
    expect(ok(b, ['verify', '--json']).json.ok).toBe(true);
    // The printed command removes it, and the warning goes with it.
    spawnSync('sh', ['-c', "git push -q origin --delete 'refs/handoff/chains/junk'\\''name'"], { cwd: a });
    const again = cli(b, ['sync', '--json']);
    expect(again.json.refused).toEqual([]);
    expect(again.stderr).toBe('');
  });

  it('a sync with nothing new to push says so, and pushes nothing', () => {
    const t = team();
    const a = t.clone('a');
    ok(a, ['join'], { agent: 'alice' });
    expect(ok(a, ['sync', '--json']).json.pushed).toBeTruthy();
    const before = git(t.remote, 'for-each-ref');
    const second = ok(a, ['sync']);
    expect(second.stdout).toBe('origin: nothing new; nothing to push\n');
    expect(git(t.remote, 'for-each-ref')).toBe(before);
    // Once there is something, it is pushed again.
    ok(a, ['send', 'bob', 'more', '--create'], { agent: 'alice' });
    const third = ok(a, ['sync', '--json']).json;
    expect(third.pushed.tip).toBe(
      git(a, 'rev-parse', third.pushed.chain && `refs/handoff/chains/${third.pushed.chain}`),
    );
    expect(git(t.remote, 'rev-parse', `refs/handoff/chains/${third.pushed.chain}`)).toBe(third.pushed.tip);
  });

  it("syncs with the current branch's upstream remote (named with capitals), and follows a change of it at once", () => {
    const t = team();
    const a = t.clone('a');
    const other = path.join(path.dirname(t.remote), 'other.git');
    git(path.dirname(t.remote), 'init', '-q', '--bare', '-b', 'main', other);
    git(a, 'remote', 'add', 'Other', other);
    ok(a, ['join'], { agent: 'alice' });
    // main tracks origin (the clone's default): the first syncs go there, the second with the config remembered.
    expect(ok(a, ['sync', '--json']).json.remote).toBe('origin');
    ok(a, ['send', 'bob', 'one', '--create'], { agent: 'alice' });
    expect(ok(a, ['sync', '--json']).json.remote).toBe('origin');
    expect(git(other, 'for-each-ref', 'refs/handoff/')).toBe('');
    // The upstream changes: the very next sync goes to the new remote.
    git(a, 'config', 'branch.main.remote', 'Other');
    const s = ok(a, ['sync', '--json']).json;
    expect(s.remote).toBe('Other');
    expect(git(other, 'for-each-ref', '--format=%(refname)', 'refs/handoff/')).toMatch(/^refs\/handoff\/chains\//);
    // A ref prefix stored for a remote is read the same way.
    git(a, 'config', 'remote.Other.handoffRefPrefix', 'refs/heads/handoff-ledger/');
    ok(a, ['send', 'bob', 'two'], { agent: 'alice' });
    expect(ok(a, ['sync', '--json']).json.refPrefix).toBe('refs/heads/handoff-ledger/');
    expect(git(other, 'for-each-ref', '--format=%(refname)', 'refs/heads/handoff-ledger/')).toMatch(
      /^refs\/heads\/handoff-ledger\/chains\//,
    );
  });

  it('a remote that rejects hidden refs gets a suggestion, and --ref-prefix works there', () => {
    const t = team();
    const hook = path.join(t.remote, 'hooks', 'update');
    fs.writeFileSync(
      hook,
      '#!/bin/sh\ncase "$1" in refs/heads/*) exit 0;; *) echo "only branches here" >&2; exit 1;; esac\n',
      { mode: 0o755 },
    );
    const a = t.clone('a');
    const b = t.clone('b');
    ok(a, ['join'], { agent: 'alice' });
    ok(a, ['send', 'bob', 'over a branch namespace', '--create'], { agent: 'alice' });
    const r = cli(a, ['sync', '--json']);
    expect(r.status).toBe(1);
    expect(r.json.error.code).toBe('remote_rejects_refs');
    expect(r.json.error.message).toContain('--ref-prefix refs/heads/handoff-ledger/');
    ok(a, ['sync', '--ref-prefix', 'refs/heads/handoff-ledger/']);
    expect(git(t.remote, 'for-each-ref', '--format=%(refname)', 'refs/heads/handoff-ledger/')).toMatch(
      /^refs\/heads\/handoff-ledger\/chains\/[0-9A-Z]{26}$/,
    );
    ok(b, ['sync', '--setup', '--ref-prefix', 'refs/heads/handoff-ledger/']);
    ok(b, ['sync']);
    expect(ok(b, ['inbox', '--json'], { agent: 'bob' }).json.messages.map((m: any) => m.body)).toEqual([
      'over a branch namespace',
    ]);
    expect(cli(b, ['sync', '--ref-prefix', '../../etc', '--json']).json.error.code).toBe('bad_ref_prefix');
  });

  it('two syncs of one clone at once corrupt nothing and duplicate nothing', async () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    ok(a, ['join'], { agent: 'alice' });
    for (let i = 0; i < 5; i++) ok(a, ['send', 'bob', `m${i}`, '--create'], { agent: 'alice' });
    ok(a, ['sync']);
    const runs = await Promise.all([
      cliAsync(b, ['sync', '--json']).done,
      cliAsync(b, ['sync', '--json']).done,
      cliAsync(b, ['sync', '--json']).done,
    ]);
    for (const r of runs) expect(r.status).toBe(0);
    expect(ok(b, ['inbox', '--json'], { agent: 'bob' }).json.messages.map((m: any) => m.body)).toEqual([
      'm0',
      'm1',
      'm2',
      'm3',
      'm4',
    ]);
    expect(ok(b, ['verify', '--json']).json).toMatchObject({ ok: true, events: 6 });
    expect(git(b, 'for-each-ref', '--format=%(refname)', 'refs/handoff/incoming/')).toBe('');
  });
});

/**
 * Two clones of one remote: in a, lead has joined and synced; b's very first event is codex's send with an
 * attached diff (its base is the user's commit), then a plain send. b has not synced since.
 */
function firstEventWithDiff() {
  const t = team();
  const a = t.clone('a');
  const b = t.clone('b');
  ok(a, ['join'], { agent: 'lead' });
  ok(a, ['sync']);
  ok(b, ['sync']);
  fs.appendFileSync(path.join(b, 'README.md'), 'more\n');
  const first = ok(b, ['send', 'lead', 'please review', '--attach-diff', '--json'], { agent: 'codex' }).json.message;
  const second = ok(b, ['send', 'lead', 'plain follow-up', '--json'], { agent: 'codex' }).json.message;
  const own = fs.readFileSync(path.join(commonDir(b), 'handoff', 'clone-id'), 'utf8').trim();
  return { a, b, first, second, own };
}

describe('a clone whose first event carries a diff', () => {
  it('is received whole by another clone, and its chain walks back to its own first event only', () => {
    const { a, b, first, second, own } = firstEventWithDiff();
    expect(ok(b, ['verify', '--json']).json.ok).toBe(true);
    ok(b, ['sync']);
    const synced = cli(a, ['sync']);
    expect(synced.status).toBe(0);
    expect(synced.stderr).not.toMatch(/held back|quarantin/i);
    const inbox = ok(a, ['inbox', '--json'], { agent: 'lead' }).json;
    expect(inbox.messages.map((m: { id: string }) => m.id).sort()).toEqual([first.id, second.id].sort());
    expect(ok(a, ['verify', '--json']).json.ok).toBe(true);
    // Every commit of b's chain, walked by first parents, is an event: none is the user's.
    const commits = git(b, 'rev-list', '--first-parent', `refs/handoff/chains/${own}`).trim().split('\n');
    expect(commits).toHaveLength(3); // codex's register event, then the two sends
    for (const c of commits) expect(git(b, 'cat-file', '-t', `${c}:event.json`).trim()).toBe('blob');
    // The diff is there: its base is the second parent of the message's commit.
    const shown = ok(a, ['show', first.id, '--json'], { agent: 'lead' }).json;
    expect(JSON.stringify(shown)).toContain('README.md');
  });
});

describe('a chain written before chains began with an event without a diff', () => {
  it("starts at its first event: the user's commits before it are not taken for events", () => {
    const { a, b, first, second, own } = firstEventWithDiff();
    // The layout such a clone wrote: the message with the diff first, its base its only parent.
    const ref = `refs/handoff/chains/${own}`;
    const [p, m] = git(b, 'rev-list', '--first-parent', '-n', '2', ref).trim().split('\n') as [string, string];
    const base = git(b, 'rev-parse', `${m}^2`).trim();
    const commitAs = (commit: string, parent: string) => {
      const env = (k: string) => git(b, 'log', '-1', `--format=%${k}`, commit).trim();
      const r = spawnSync('git', ['commit-tree', `${commit}^{tree}`, '-p', parent, '-F', '-'], {
        cwd: b,
        input: git(b, 'log', '-1', '--format=%B', commit),
        encoding: 'utf8',
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: env('an'),
          GIT_AUTHOR_EMAIL: env('ae'),
          GIT_AUTHOR_DATE: env('aI'),
          GIT_COMMITTER_NAME: env('cn'),
          GIT_COMMITTER_EMAIL: env('ce'),
          GIT_COMMITTER_DATE: env('cI'),
        },
      });
      return r.stdout.trim();
    };
    const m2 = commitAs(m, base);
    const p2 = commitAs(p, m2);
    git(b, 'update-ref', ref, p2);
    git(b, 'push', '-q', '--force', 'origin', `${ref}:${ref}`);
    // A clone that never saw the chain reads it from its first event on, with the diff.
    const synced = cli(a, ['sync']);
    expect(synced.status, synced.stderr).toBe(0);
    expect(synced.stderr).not.toMatch(/held back/);
    const inbox = ok(a, ['inbox', '--json'], { agent: 'lead' }).json;
    expect(inbox.messages.map((x: { id: string }) => x.id).sort()).toEqual([first.id, second.id].sort());
    expect(JSON.stringify(ok(a, ['show', first.id, '--json'], { agent: 'lead' }).json)).toContain('README.md');
    expect(ok(a, ['verify', '--json']).json.ok).toBe(true);
    // So does a fresh clone's rebuild of everything.
    ok(a, ['rebuild']);
    expect(ok(a, ['verify', '--json']).json.ok).toBe(true);
  });
});

describe('a remote holding many chains', () => {
  it('a sync that brings nothing new reads no chain: no git log per chain the clone already has', () => {
    const t = team();
    const clones = Array.from({ length: 8 }, (_, i) => t.clone(`c${i}`));
    for (const [i, c] of clones.entries()) {
      ok(c, ['send', 'lead', `from c${i}`, '--create'], { agent: `agent${i}` });
      ok(c, ['sync']);
    }
    const a = clones[0]!;
    ok(a, ['sync']);
    expect(ok(a, ['inbox', '--json'], { agent: 'lead' }).json.messages).toHaveLength(8);
    const trace = path.join(path.dirname(a), 'trace.txt');
    ok(a, ['sync'], { env: { GIT_TRACE: trace } });
    const logs = fs
      .readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => /trace: (built-in|exec): git .*\blog\b/.test(l));
    expect(logs).toEqual([]);
  });
});

describe('a push that fails', () => {
  it('is reported with what the fetch brought, which is indexed, not as "nothing changed"', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    ok(a, ['send', 'bob', 'for bob', '--create'], { agent: 'alice' });
    ok(a, ['sync']);
    ok(b, ['send', 'alice', 'from bob', '--create'], { agent: 'bob' });
    git(b, 'config', 'remote.origin.pushurl', path.join(path.dirname(b), 'nowhere.git'));
    const r = cli(b, ['sync', '--json']);
    expect(r.status).not.toBe(0);
    expect(r.json.error.code).toBe('remote_unreachable');
    expect(r.json.error.message).not.toContain('Nothing was changed locally');
    expect(r.json.error.message).toMatch(
      /What the fetch brought is indexed here: 1 chain\(s\) moved, \d+ new event\(s\)/,
    );
    expect(r.json.error.details.indexed).toBeGreaterThan(0);
    expect(ok(b, ['inbox', '--json'], { agent: 'bob' }).json.messages.map((m: any) => m.body)).toEqual(['for bob']);
  });
});

describe('sync in a partial clone', () => {
  it("brings the events' own blobs in one fetch, not one fetch per object, and their messages are whole", () => {
    const t = team();
    git(t.remote, 'config', 'uploadpack.allowFilter', 'true');
    const a = t.clone('a');
    ok(a, ['join'], { agent: 'alice' });
    for (let i = 0; i < 12; i++) ok(a, ['send', 'bob', `message ${i}`, '--create'], { agent: 'alice' });
    ok(a, ['sync']);
    const b = path.join(path.dirname(t.remote), 'partial');
    git(path.dirname(t.remote), 'clone', '-q', '--filter=blob:none', `file://${t.remote}`, b);
    const packs = () => fs.readdirSync(path.join(b, '.git', 'objects', 'pack')).filter((f) => f.endsWith('.pack'));
    const before = packs().length;
    const trace = path.join(path.dirname(t.remote), 'trace');
    ok(b, ['sync'], { env: { GIT_TRACE: trace } });
    // The chains' fetch and one more for the events' blobs (git fetched each blob on its own: 24 more).
    expect(packs().length - before).toBeLessThanOrEqual(3);
    // Neither fetch starts git's automatic maintenance (handoff packs what they bring).
    const traced = fs.readFileSync(trace, 'utf8');
    expect(traced.match(/built-in: git fetch /g)?.length).toBe(2);
    expect(traced).not.toMatch(/built-in: git (maintenance|gc) /);
    const bodies = ok(b, ['inbox', '--json'], { agent: 'bob' }).json.messages.map((m: any) => m.body);
    expect(bodies).toEqual(Array.from({ length: 12 }, (_, i) => `message ${i}`));
    expect(ok(b, ['verify', '--json']).json.ok).toBe(true);
  });
});
