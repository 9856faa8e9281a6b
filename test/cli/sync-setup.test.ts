import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cli, git, ok } from '../helpers/repo';
import { team } from '../helpers/clones';

const bodies = (dir: string, agent: string) =>
  ok(dir, ['inbox', '--all', '--json'], { agent })
    .json.messages.map((m: any) => m.body)
    .sort();

/** A clone's id (its chain's name). */
const readId = (dir: string) => fs.readFileSync(path.join(dir, '.git', 'handoff', 'clone-id'), 'utf8').trim();

describe('sync after sync --setup', () => {
  it('setup -> send -> sync works, and so does every later send -> sync', () => {
    const t = team();
    const a = t.clone('a');
    ok(a, ['join'], { agent: 'alice' });
    ok(a, ['sync', '--setup']);
    for (let i = 0; i < 3; i++) {
      ok(a, ['send', 'bob', `m${i}`, '--create'], { agent: 'alice' });
      const r = cli(a, ['sync', '--json']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.json.pushed.tip).toBe(git(a, 'rev-parse', `refs/handoff/chains/${r.json.pushed.chain}`));
    }
    // The remote holds this clone's newest tip.
    const own = git(a, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/handoff/chains/');
    const [ref, tip] = own.split(' ');
    expect(git(t.remote, 'rev-parse', ref!)).toBe(tip);
  });

  it('setup -> send -> git push -> sync, and send -> git fetch -> sync, in both clones', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    ok(a, ['sync', '--setup']);
    ok(b, ['sync', '--setup']);
    ok(a, ['send', 'bob', 'via git push', '--create'], { agent: 'alice' });
    git(a, 'push', '-q');
    ok(a, ['send', 'bob', 'after push'], { agent: 'alice' });
    ok(a, ['sync']);
    git(b, 'fetch', '-q');
    ok(b, ['send', 'alice', 'from b'], { agent: 'bob' });
    ok(b, ['sync']);
    git(a, 'fetch', '-q');
    ok(a, ['sync']);
    expect(bodies(b, 'bob')).toEqual(['after push', 'via git push']);
    expect(bodies(a, 'alice')).toEqual(['from b']);
    expect(ok(a, ['verify', '--json']).json.ok).toBe(true);
  });

  it('two clones alternating sends and syncs for 10 rounds, one with setup and one without, lose nothing', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    ok(a, ['sync', '--setup']);
    ok(a, ['join'], { agent: 'alice' });
    ok(b, ['join'], { agent: 'bob' });
    ok(a, ['sync']);
    ok(b, ['sync']);
    ok(a, ['sync']);
    for (let i = 0; i < 10; i++) {
      ok(a, ['send', 'bob', `a${i}`], { agent: 'alice' });
      if (i % 3 === 0) git(a, 'push', '-q');
      const ra = cli(a, ['sync']);
      expect(ra.status, `round ${i} in a: ${ra.stderr}`).toBe(0);
      ok(b, ['send', 'alice', `b${i}`], { agent: 'bob' });
      const rb = cli(b, ['sync']);
      expect(rb.status, `round ${i} in b: ${rb.stderr}`).toBe(0);
      if (i % 4 === 1) git(a, 'fetch', '-q');
    }
    ok(a, ['sync']);
    const want = (p: string) => Array.from({ length: 10 }, (_, i) => `${p}${i}`).sort();
    expect(bodies(b, 'bob')).toEqual(want('a'));
    expect(bodies(a, 'alice')).toEqual(want('b'));
  });

  it('plain git fetch brings new messages to the next command, and git fetch --prune deletes no chain', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    // A second remote that only b pushes to: its chain reaches a through it, not through origin.
    const backup = path.join(path.dirname(t.remote), 'backup.git');
    git(path.dirname(t.remote), 'init', '-q', '--bare', '-b', 'main', backup);
    for (const c of [a, b]) git(c, 'remote', 'add', 'backup', backup);
    for (const c of [a, b]) for (const r of ['origin', 'backup']) ok(c, ['sync', '--setup', r]);
    expect(git(a, 'config', '--get-all', 'remote.backup.fetch').split('\n')).toEqual([
      '+refs/heads/*:refs/remotes/backup/*',
      '+refs/handoff/chains/*:refs/handoff/remotes/backup/chains/*',
    ]);
    ok(b, ['send', 'alice', 'through backup only', '--create'], { agent: 'bob' });
    ok(b, ['sync', 'backup']);
    git(a, 'fetch', '-q', 'backup'); // plain git fetch: the next command takes the chain
    expect(bodies(a, 'alice')).toEqual(['through backup only']);
    const chainB = readId(b);
    expect(git(a, 'rev-parse', `refs/handoff/chains/${chainB}`)).toBe(
      git(b, 'rev-parse', `refs/handoff/chains/${chainB}`),
    );

    // origin does not hold b's chain: pruning against origin (by flag or by fetch.prune) keeps it.
    ok(a, ['send', 'bob', 'unpushed', '--create'], { agent: 'alice' });
    git(a, 'fetch', '-q', '--prune', 'origin');
    git(a, '-c', 'fetch.prune=true', 'fetch', '-q', '--all');
    expect(git(a, 'for-each-ref', '--format=%(refname)', `refs/handoff/chains/${chainB}`)).not.toBe('');
    ok(a, ['verify']);
    expect(bodies(a, 'alice')).toEqual(['through backup only']);

    // A remote that loses a chain (deleted there) takes nothing from this clone; nor does one rewound.
    ok(b, ['send', 'alice', 'second', '--create'], { agent: 'bob' });
    ok(b, ['sync', 'backup']);
    git(a, 'fetch', '-q', 'backup');
    expect(bodies(a, 'alice')).toEqual(['second', 'through backup only']);
    const tip = git(a, 'rev-parse', `refs/handoff/chains/${chainB}`);
    git(backup, 'update-ref', `refs/handoff/chains/${chainB}`, `${tip}~1`);
    git(a, 'fetch', '-q', '--prune', 'backup');
    expect(git(a, 'rev-parse', `refs/handoff/remotes/backup/chains/${chainB}`)).toBe(git(a, 'rev-parse', `${tip}~1`));
    expect(bodies(a, 'alice')).toEqual(['second', 'through backup only']);
    expect(git(a, 'rev-parse', `refs/handoff/chains/${chainB}`)).toBe(tip);
    git(backup, 'update-ref', '-d', `refs/handoff/chains/${chainB}`);
    git(a, 'fetch', '-q', '--prune', 'backup');
    expect(git(a, 'rev-parse', `refs/handoff/chains/${chainB}`)).toBe(tip);
    ok(a, ['verify']);
    expect(bodies(a, 'alice')).toEqual(['second', 'through backup only']);
  });

  it('a copy that is stale, rewritten or dropped never moves a chain', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    ok(a, ['sync', '--setup']);
    ok(b, ['send', 'alice', 'zero', '--create'], { agent: 'bob' });
    ok(b, ['send', 'alice', 'one'], { agent: 'bob' });
    ok(b, ['sync']);
    const chainB = readId(b);
    const ref = `refs/handoff/chains/${chainB}`;
    git(a, 'fetch', '-q');
    expect(bodies(a, 'alice')).toEqual(['one', 'zero']);
    const one = git(a, 'rev-parse', ref);

    // The remote's chain rewritten (a sibling of the tip): left out, named once, not asked of git again.
    const forged = git(t.remote, 'commit-tree', '-p', `${one}~1`, '-m', 'forged', `${one}^{tree}`);
    git(t.remote, 'update-ref', ref, forged);
    git(a, 'fetch', '-q');
    const first = cli(a, ['inbox', '--json'], { agent: 'alice' });
    expect(first.stderr).toContain(`origin's copy of chain ${chainB}`);
    const trace = path.join(path.dirname(t.remote), 'trace-a');
    const traced = spawnSync(process.execPath, [BIN, 'inbox'], {
      cwd: a,
      env: { ...process.env, HANDOFF_AGENT: 'alice', GIT_TRACE: trace },
      encoding: 'utf8',
    });
    expect(traced.stderr).not.toContain("origin's copy");
    expect(fs.readFileSync(trace, 'utf8')).not.toContain('git merge-base');
    expect(git(a, 'rev-parse', ref)).toBe(one);

    // The local ref lost (as an older setup's prune lost it), the copy behind what was indexed: not taken.
    git(t.remote, 'update-ref', ref, `${one}~1`);
    git(a, 'fetch', '-q');
    git(a, 'update-ref', '-d', ref);
    ok(a, ['inbox'], { agent: 'alice' });
    expect(git(a, 'for-each-ref', ref)).toBe('');
    // verify says how to put it back, and that puts it back.
    const v = cli(a, ['verify', '--json']);
    expect(v.status).toBe(6);
    const missing = v.json.error.details.problems.find((p: any) => p.code === 'missing_chain' && p.chain === chainB);
    expect(missing.message).toContain(`'git update-ref ${ref} ${one}'`);
    git(a, 'update-ref', ref, one);
    expect(ok(a, ['verify', '--json']).json.ok).toBe(true);
    expect(bodies(a, 'alice')).toEqual(['one', 'zero']);

    // Dropped: its copies go, and one fetched again is never taken. A healthy chain takes --force (its
    // messages go with it); a chain never seen is refused, and --force alone means nothing.
    git(t.remote, 'update-ref', ref, one);
    const healthy = cli(a, ['sync', '--drop', chainB, '--json']);
    expect([healthy.status, healthy.json.error.code]).toEqual([2, 'drop_needs_force']);
    expect(healthy.json.error.message).toContain(`handoff sync --drop ${chainB} --force`);
    expect(spawnSync('git', ['config', '--get-all', 'handoff.dropChain'], { cwd: a }).status).toBe(1);
    expect(bodies(a, 'alice')).toEqual(['one', 'zero']);
    const unseen = cli(a, ['sync', '--drop', '01HZZZZZZZZZZZZZZZZZZZZZZZ', '--json']);
    expect([unseen.status, unseen.json.error.code]).toEqual([3, 'unknown_chain']);
    expect(cli(a, ['sync', '--force', '--json']).json.error.code).toBe('force_needs_drop');
    // Given in lower case, as a message id may be.
    const dropped = ok(a, ['sync', '--drop', chainB.toLowerCase(), '--force']);
    expect(dropped.stdout).toContain(
      `To take it back: git config --unset handoff.dropChain ${chainB}, then handoff sync.`,
    );
    expect(git(a, 'for-each-ref', `refs/handoff/remotes/origin/chains/${chainB}`)).toBe('');
    git(a, 'fetch', '-q');
    expect(git(a, 'rev-parse', `refs/handoff/remotes/origin/chains/${chainB}`)).toBe(one);
    ok(a, ['inbox'], { agent: 'alice' });
    expect(git(a, 'for-each-ref', ref)).toBe('');
  });

  it('a copy merely behind stays no reason to drop the chain, also after a rebuild indexed the ledger anew', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    ok(b, ['send', 'alice', 'one', '--create'], { agent: 'bob' });
    ok(b, ['sync']);
    ok(a, ['sync', '--setup']);
    git(a, 'fetch', '-q');
    const chainB = fs.readFileSync(path.join(b, '.git', 'handoff', 'clone-id'), 'utf8').trim();
    const copy = `refs/handoff/remotes/origin/chains/${chainB}`;
    const behind = git(a, 'rev-parse', copy);
    // bob sends again and a's sync takes it straight into its chain: the copy (fetched before) is behind.
    ok(b, ['send', 'alice', 'two'], { agent: 'bob' });
    ok(b, ['sync']);
    ok(a, ['sync', '--no-push']);
    git(a, 'update-ref', copy, behind);
    const drop = () => cli(a, ['sync', '--drop', chainB, '--json']);
    expect(drop().json.error.code).toBe('drop_needs_force');
    // A rebuild indexes from nothing: the copy behind is not recorded as refused, nor said to be.
    const rebuilt = ok(a, ['rebuild']);
    expect(rebuilt.stderr).not.toContain("origin's copy");
    ok(a, ['inbox'], { agent: 'alice' });
    expect(fs.existsSync(path.join(a, '.git', 'handoff', 'tracked-refused'))).toBe(false);
    // And a record left by a version that wrote one does not make it droppable either.
    fs.writeFileSync(path.join(a, '.git', 'handoff', 'tracked-refused'), `${chainB} ${behind}\n`);
    const again = drop();
    expect([again.status, again.json.error.code]).toEqual([2, 'drop_needs_force']);
    expect(git(a, 'for-each-ref', `refs/handoff/chains/${chainB}`)).not.toBe('');
    expect(bodies(a, 'alice').sort()).toEqual(['one', 'two']);
  });

  it('a copy missing a tip another chain witnessed is not taken; requireSigned and drop leave copies to sync, quietly', () => {
    const t = team();
    const a = t.clone('a');
    const c = t.clone('c');
    const d = t.clone('d');
    ok(a, ['send', 'bob', 'one', '--create'], { agent: 'alice' });
    ok(a, ['send', 'bob', 'two'], { agent: 'alice' });
    ok(a, ['sync']);
    const chainA = readId(a);
    const ref = `refs/handoff/chains/${chainA}`;
    ok(c, ['sync']);
    ok(c, ['send', 'alice', 'carol saw alice', '--create'], { agent: 'carol' }); // witnesses alice's tip
    ok(c, ['sync']);
    ok(d, ['sync', '--setup']);
    git(d, 'fetch', '-q');
    ok(d, ['inbox'], { agent: 'dave' });
    // Alice's chain unknown to d but for carol's witness of it; then rewritten on the remote.
    git(d, 'update-ref', '-d', ref);
    git(d, 'update-ref', '-d', `refs/handoff/remotes/origin/chains/${chainA}`);
    ok(d, ['rebuild']);
    const tip = git(t.remote, 'rev-parse', ref);
    git(
      t.remote,
      'update-ref',
      ref,
      git(t.remote, 'commit-tree', '-p', `${tip}~1`, '-m', 'rewritten', `${tip}^{tree}`),
    );
    git(d, 'fetch', '-q');
    expect(cli(d, ['inbox'], { agent: 'dave' }).stderr).toContain(`origin's copy of chain ${chainA}`);
    expect(git(d, 'for-each-ref', ref)).toBe('');
    expect(cli(d, ['sync']).status).toBe(4);

    git(t.remote, 'update-ref', ref, tip); // the remote put right

    // Under handoff.requireSigned plain fetch takes nothing: said once, then no git process per command.
    // What the command printed, and git's trace of the processes it started.
    const traceFile = path.join(path.dirname(t.remote), 'trace-c');
    const traced = (dir: string) => {
      fs.rmSync(traceFile, { force: true });
      const r = spawnSync(process.execPath, [BIN, 'inbox'], {
        cwd: dir,
        env: { ...process.env, HANDOFF_AGENT: 'carol', GIT_TRACE: traceFile },
        encoding: 'utf8',
      });
      return r.stderr + (fs.existsSync(traceFile) ? fs.readFileSync(traceFile, 'utf8') : '');
    };
    ok(a, ['send', 'bob', 'three'], { agent: 'alice' });
    ok(a, ['sync']);
    ok(c, ['sync', '--setup']);
    git(c, 'config', 'handoff.requireSigned', 'true');
    git(c, 'fetch', '-q');
    const before = git(c, 'rev-parse', ref);
    const first = traced(c);
    expect(first).toContain('handoff.requireSigned is set');
    expect(first).toMatch(/trace: built-in: git config -z --get-regexp/);
    const second = traced(c);
    expect(second).not.toContain('requireSigned');
    expect(second).not.toMatch(/trace: (exec|built-in): git (config|merge-base)/);
    expect(git(c, 'rev-parse', ref)).toBe(before);
    git(c, 'config', '--unset', 'handoff.requireSigned');

    // A dropped chain's copy, fetched again with new events: never taken, and asked of git once.
    ok(c, ['sync', '--drop', chainA, '--force']);
    ok(a, ['send', 'bob', 'four'], { agent: 'alice' });
    ok(a, ['sync']);
    git(c, 'fetch', '-q');
    expect(traced(c)).toMatch(/trace: built-in: git config -z --get-regexp/); // asked once
    expect(traced(c)).not.toMatch(/trace: (exec|built-in): git config/);
    expect(git(c, 'for-each-ref', ref)).toBe('');
  });

  it('setup again replaces what an older setup added (chains fetched straight into refs/handoff/chains/)', () => {
    const t = team();
    const a = t.clone('a');
    ok(a, ['join'], { agent: 'alice' });
    const own = readId(a);
    // What an older setup added, recorded as it recorded it.
    const older = ['refs/handoff/chains/*:refs/handoff/chains/*', `^refs/handoff/chains/${own}`];
    for (const v of older) {
      git(a, 'config', '--add', 'remote.origin.fetch', v);
      git(a, 'config', '--add', 'remote.origin.handoffSetup', `remote.origin.fetch\t${v}`);
    }
    // Every command says so (from the remembered settings), until setup is run again.
    for (const args of [['sync'], ['inbox']]) {
      const warned = cli(a, args, { agent: 'alice' });
      expect(warned.status, warned.stderr).toBe(0);
      expect(warned.stderr).toContain("git fetch --prune' deletes those origin does not hold");
    }
    const set = cli(a, ['sync', '--setup', '--json']);
    expect(set.stderr).not.toContain('older');
    const r = set.json;
    expect(r.removed.map((x: any) => x.value).sort()).toEqual([...older].sort());
    expect(git(a, 'config', '--get-all', 'remote.origin.fetch').split('\n')).toEqual([
      '+refs/heads/*:refs/remotes/origin/*',
      '+refs/handoff/chains/*:refs/handoff/remotes/origin/chains/*',
    ]);
    expect(cli(a, ['sync']).stderr).not.toContain('older');
    expect(cli(a, ['inbox'], { agent: 'alice' }).stderr).not.toContain('older');
    // Set up again with another prefix: one fetch refspec into the copies, and plain git fetch works.
    ok(a, ['sync', '--setup', '--ref-prefix', 'refs/heads/handoff-ledger/']);
    expect(git(a, 'config', '--get-all', 'remote.origin.fetch').split('\n')).toEqual([
      '+refs/heads/*:refs/remotes/origin/*',
      '+refs/heads/handoff-ledger/chains/*:refs/handoff/remotes/origin/chains/*',
    ]);
    ok(a, ['sync']);
    git(a, 'fetch', '-q');
    // Undone, the prefix reported is the one sync now uses, from the main worktree and detached alike.
    git(a, 'checkout', '-q', '--detach');
    expect(ok(a, ['sync', '--setup', '--undo', '--json']).json.refPrefix).toBe('refs/handoff/');
    expect(git(a, 'config', '--get-all', 'remote.origin.fetch')).toBe('+refs/heads/*:refs/remotes/origin/*');
  });

  it('a remote renamed after setup: every command says so, setup again moves the copies, undo removes all; a removed remote leaves no copies', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    ok(a, ['sync', '--setup']);
    ok(b, ['send', 'alice', 'before the rename', '--create'], { agent: 'bob' });
    ok(b, ['sync']);
    git(a, 'fetch', '-q');
    const chainB = readId(b);
    expect(git(a, 'for-each-ref', '--format=%(refname)', 'refs/handoff/remotes/')).toBe(
      `refs/handoff/remotes/origin/chains/${chainB}`,
    );
    // git moves the section (the records too) but not a refspec of this form, nor these copies.
    git(a, 'remote', 'rename', 'origin', 'upstream');
    for (const args of [['inbox'], ['sync', 'upstream']]) {
      const r = cli(a, args, { agent: 'alice' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain("remote upstream was renamed from origin after 'sync --setup'");
      expect(r.stderr).toContain("Run 'handoff sync --setup upstream' again");
    }
    expect(bodies(a, 'alice')).toEqual(['before the rename']);
    const set = ok(a, ['sync', '--setup', 'upstream', '--json']).json;
    expect(set.removed).toEqual([
      { key: 'remote.upstream.fetch', value: '+refs/handoff/chains/*:refs/handoff/remotes/origin/chains/*' },
    ]);
    expect(set.added).toEqual([
      { key: 'remote.upstream.fetch', value: '+refs/handoff/chains/*:refs/handoff/remotes/upstream/chains/*' },
    ]);
    expect(
      git(a, 'config', '--get-all', 'remote.upstream.handoffSetup')
        .split('\n')
        .every((v) => v.startsWith('remote.upstream.')),
    ).toBe(true);
    // The old name's copies are gone; plain git fetch makes the new name's, and the next command takes them.
    expect(git(a, 'for-each-ref', 'refs/handoff/remotes/origin/')).toBe('');
    const quiet = cli(a, ['inbox'], { agent: 'alice' });
    expect(quiet.stderr).not.toContain('renamed');
    ok(b, ['send', 'alice', 'after the rename'], { agent: 'bob' });
    ok(b, ['sync']);
    git(a, 'fetch', '-q');
    expect(git(a, 'rev-parse', `refs/handoff/remotes/upstream/chains/${chainB}`)).toBe(
      git(b, 'rev-parse', `refs/handoff/chains/${chainB}`),
    );
    expect(bodies(a, 'alice')).toEqual(['after the rename', 'before the rename']);
    // Renamed again, then undone without setting up again: everything setup added goes.
    git(a, 'remote', 'rename', 'upstream', 'origin');
    const undo = ok(a, ['sync', '--setup', '--undo', '--json']).json;
    expect(undo.removed.map((x: any) => x.key).sort()).toEqual([
      'remote.origin.fetch',
      'remote.origin.push',
      'remote.origin.push',
    ]);
    expect(git(a, 'config', '--get-all', 'remote.origin.fetch')).toBe('+refs/heads/*:refs/remotes/origin/*');
    expect(spawnSync('git', ['config', '--get-all', 'remote.origin.push'], { cwd: a }).status).toBe(1);
    expect(spawnSync('git', ['config', '--get-all', 'remote.origin.handoffSetup'], { cwd: a }).status).toBe(1);
    expect(git(a, 'for-each-ref', 'refs/handoff/remotes/')).toBe('');
    // A remote removed with its setup in place: git leaves the copies, the next sync deletes them.
    ok(a, ['sync', '--setup']);
    git(a, 'remote', 'add', 'backup', t.remote);
    ok(a, ['sync', '--setup', 'backup']);
    git(a, 'fetch', '-q', '--all');
    expect(git(a, 'for-each-ref', '--format=%(refname)', 'refs/handoff/remotes/backup/')).not.toBe('');
    git(a, 'remote', 'remove', 'backup');
    expect(git(a, 'for-each-ref', '--format=%(refname)', 'refs/handoff/remotes/backup/')).not.toBe('');
    ok(a, ['sync']);
    expect(git(a, 'for-each-ref', 'refs/handoff/remotes/backup/')).toBe('');
    expect(git(a, 'for-each-ref', '--format=%(refname)', 'refs/handoff/remotes/origin/')).toBe(
      `refs/handoff/remotes/origin/chains/${chainB}`,
    );
    expect(ok(a, ['verify', '--json']).json.ok).toBe(true);
  });

  it('leaves plain git push alone where a push refspec would change which branch it updates', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    // A branch that tracks main under another name, pushed with push.default upstream.
    git(a, 'checkout', '-q', '-b', 'work', '--track', 'origin/main');
    git(a, 'config', 'push.default', 'upstream');
    const setup = ok(a, ['sync', '--setup', '--json']).json;
    expect(setup.added.map((x: any) => x.key)).not.toContain('remote.origin.push');
    expect(setup.notes.join(' ')).toContain(
      "'git push' is left as it is (branch work pushes to a branch of another name)",
    );
    expect(spawnSync('git', ['config', '--get-all', 'remote.origin.push'], { cwd: a }).status).toBe(1);
    git(a, 'commit', '-q', '--allow-empty', '-m', 'on work');
    git(a, 'push', '-q');
    // git push did what it did before: main moved, no branch named work appeared.
    expect(git(t.remote, 'rev-parse', 'main')).toBe(git(a, 'rev-parse', 'HEAD'));
    expect(git(t.remote, 'for-each-ref', '--format=%(refname)', 'refs/heads/')).toBe('refs/heads/main');
    // The ledger still travels, through handoff sync.
    ok(a, ['send', 'bob', 'through sync', '--create'], { agent: 'alice' });
    ok(a, ['sync']);
    ok(b, ['sync']);
    expect(bodies(b, 'bob')).toEqual(['through sync']);
    // Under the default (simple) and same-named branches, set-up keeps git push pushing the current branch.
    const c = t.clone('c');
    const plain = ok(c, ['sync', '--setup', '--json']).json;
    expect(plain.added.filter((x: any) => x.key === 'remote.origin.push').map((x: any) => x.value)[0]).toBe('HEAD');
  });

  it("a failed fetch says git's reason and what to do", () => {
    const t = team();
    const a = t.clone('a');
    git(a, 'remote', 'add', 'gone', '/nonexistent/remote.git');
    const r = cli(a, ['sync', 'gone', '--json']);
    expect(r.status).toBe(1);
    expect(r.json.error.message).toMatch(/does not appear to be a git repository/);
    expect(r.json.error.message).toMatch(/check the remote's URL/);
    expect(r.json.error.message).not.toMatch(/: \./);
  });
});
