import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { addWorktree, chainEvents, cleanEnv, cli, commonDir, git, makeRepo, ok } from '../helpers/repo';
import { team } from '../helpers/clones';

/** git as an agent would run it: with HANDOFF_AGENT set (hooks see it). */
function gitAs(agent: string | undefined, cwd: string, ...args: string[]) {
  const r = spawnSync('git', args, {
    cwd,
    env: cleanEnv({ HANDOFF_AGENT: agent, GIT_EDITOR: 'true' }),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return { stdout: r.stdout.trim(), stderr: r.stderr };
}
const write = (dir: string, file: string, text: string) => fs.writeFileSync(path.join(dir, file), text);
/** Blame as [content, agent, first message id] per line. */
const blameOf = (dir: string, file: string) =>
  ok(dir, ['blame', file, '--json']).json.lines.map((l: any) => [
    l.content,
    l.agent ? (l.agent.human ? `human:${l.agent.name}` : l.agent.name) : null,
    l.messages[0]?.id ?? null,
  ]);

function setup() {
  const repo = makeRepo({ files: { 'f.txt': 'base\n' } });
  ok(repo, ['hooks', 'install']);
  ok(repo, ['join'], { agent: 'claude' });
  ok(repo, ['join'], { agent: 'codex' });
  const forClaude = ok(repo, ['send', 'claude', 'write the header', '--json'], { agent: 'lead' }).json.message.id;
  const forCodex = ok(repo, ['send', 'codex', 'write the footer', '--json'], { agent: 'lead' }).json.message.id;
  return { repo, forClaude, forCodex };
}

describe('attribution through git hooks', () => {
  it("merges: an agent's conflict resolution is its own; a person's merge is never credited to the merged agent", () => {
    const { repo, forCodex } = setup();
    write(repo, 'f.txt', 'l1\nl2\nl3\n');
    gitAs(undefined, repo, 'commit', '-qam', 'three lines');
    gitAs(undefined, repo, 'checkout', '-qb', 'cx');
    ok(repo, ['work-on', forCodex], { agent: 'codex' });
    write(repo, 'f.txt', 'l1\nCX\nl3\n');
    gitAs('codex', repo, 'commit', '-qam', 'cx');
    const cx = git(repo, 'rev-parse', 'HEAD');
    gitAs(undefined, repo, 'checkout', '-q', 'main');
    // A person's merge with no conflict: git gives it no line, and its first-parent patch is codex's.
    gitAs(undefined, repo, 'merge', '-q', '--no-ff', 'cx', '-m', 'merge cx');
    const merged = git(repo, 'rev-parse', 'HEAD');
    const log = ok(repo, ['log', '--json']).json.commits;
    // git runs post-merge, not post-commit, for it: the person who merged is named.
    expect(log.find((c: any) => c.commit === merged).agent).toEqual({ name: 'test-human', human: true });
    expect(ok(repo, ['log', '--agent', 'codex', '--json']).json.commits.map((c: any) => c.commit)).toEqual([cx]);
    expect(blameOf(repo, 'f.txt')[1]).toEqual(['CX', 'codex', forCodex]);
    // A conflict resolved by claude, committed with git's own message (--no-edit): claude's line.
    gitAs(undefined, repo, 'checkout', '-qb', 'other', `${merged}~1`);
    write(repo, 'f.txt', 'l1\nOTHER\nl3\n');
    gitAs(undefined, repo, 'commit', '-qam', 'other');
    const conflicted = spawnSync('git', ['merge', 'cx'], { cwd: repo, env: cleanEnv(), encoding: 'utf8' });
    expect(conflicted.status).not.toBe(0);
    write(repo, 'f.txt', 'l1\nRESOLVED\nl3\n');
    gitAs('claude', repo, 'add', 'f.txt');
    gitAs('claude', repo, 'commit', '-q', '--no-edit');
    const resolution = git(repo, 'rev-parse', 'HEAD');
    expect(git(repo, 'rev-list', '--parents', '-n', '1', 'HEAD').split(' ')).toHaveLength(3);
    expect(blameOf(repo, 'f.txt')[1]).toEqual(['RESOLVED', 'claude', null]);
    expect(ok(repo, ['log', '--json']).json.commits.find((c: any) => c.commit === resolution).agent.name).toBe(
      'claude',
    );
    const replayed = ok(repo, ['replay', '--json']).json.items.filter((i: any) => i.type === 'commit');
    expect(replayed.map((i: any) => i.commit)).toContain(resolution);
  });

  it('a merge git merge or git pull makes without stopping is recorded; a fast-forward records nothing', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    for (const c of [a, b]) ok(c, ['hooks', 'install']);
    // Hooks installed before post-merge existed: status names it and says what to run.
    fs.rmSync(path.join(b, '.git', 'hooks', 'post-merge'));
    const status = cli(b, ['hooks', 'status']);
    expect(status.stdout).toMatch(/post-merge\s+not installed/);
    expect(status.stderr).toContain("Run 'handoff hooks install'");
    ok(b, ['hooks', 'install']);
    expect(cli(b, ['hooks', 'status']).stderr).toBe('');
    // A commit of one new file (holding the commit's message) on the current branch, or on a new branch
    // left again for main; each returns the commit.
    const commitFile = (dir: string, agent: string | undefined, file: string, msg: string) => {
      write(dir, file, `${msg}\n`);
      gitAs(undefined, dir, 'add', file);
      gitAs(agent, dir, 'commit', '-qm', msg);
      return git(dir, 'rev-parse', 'HEAD');
    };
    const onBranch = (dir: string, branch: string, agent: string | undefined, file: string) => {
      gitAs(undefined, dir, 'checkout', '-qb', branch);
      const commit = commitFile(dir, agent, file, branch);
      gitAs(undefined, dir, 'checkout', '-q', 'main');
      return commit;
    };
    const attributions = (dir: string) => chainEvents(dir).filter((e) => e.event.type === 'attribution').length;
    // An agent merges a branch (no conflict): the merge commit is the agent's.
    onBranch(a, 'side', 'codex', 'side.txt');
    commitFile(a, undefined, 'main.txt', 'main');
    gitAs('claude', a, 'merge', '-q', '--no-edit', 'side');
    const merge = git(a, 'rev-parse', 'HEAD');
    expect(git(a, 'rev-list', '--parents', '-n', '1', 'HEAD').split(' ')).toHaveLength(3);
    expect(ok(a, ['log', '-n', '1', '--json']).json.commits[0]).toMatchObject({
      commit: merge,
      agent: { name: 'claude', human: false },
    });
    // git writes a merge's message without a final newline: the trailer still gets its own paragraph.
    expect(git(a, 'log', '-1', '--format=%s')).toBe("Merge branch 'side'");
    expect(git(a, 'log', '-1', '--format=%(trailers:key=Handoff-Agent,valueonly)')).toBe('claude');
    gitAs(undefined, a, 'push', '-q', 'origin', 'main');
    // b pulls: a fast-forward to a's merge, made elsewhere, is not b's; b records nothing.
    const before = attributions(b);
    gitAs('gemini', b, 'pull', '-q', '--no-rebase', 'origin', 'main');
    expect(git(b, 'rev-parse', 'HEAD')).toBe(merge);
    expect(attributions(b)).toBe(before);
    // A fast-forward merge of a local branch records nothing either: its commits keep their own agent.
    const ff = onBranch(b, 'ff', 'gemini', 'ff.txt');
    const counted = attributions(b);
    gitAs('codex', b, 'merge', '-q', 'ff');
    expect(git(b, 'rev-parse', 'HEAD')).toBe(ff);
    expect(attributions(b)).toBe(counted);
    expect(ok(b, ['log', '-n', '1', '--json']).json.commits[0].agent.name).toBe('gemini');
    // A merge someone made on top of what this clone has (a pull request merged on the host, say): the
    // pull fast-forwards to it, whose first parent is this clone's HEAD before. Recorded nowhere here.
    gitAs(undefined, b, 'push', '-q', 'origin', 'main');
    gitAs(undefined, a, 'pull', '-q', '--no-rebase', 'origin', 'main');
    onBranch(a, 'pr', 'codex', 'pr.txt');
    const hosted = spawnSync('git', ['merge', '-q', '--no-ff', 'pr', '-m', 'Merge pull request #7'], {
      cwd: a,
      env: cleanEnv({ HANDOFF_HOOKS: '0' }),
    });
    expect(hosted.status).toBe(0);
    const prMerge = git(a, 'rev-parse', 'HEAD');
    gitAs(undefined, a, 'push', '-q', 'origin', 'main');
    const beforePr = attributions(b);
    gitAs('gemini', b, 'pull', '-q', '--no-rebase', 'origin', 'main');
    expect(git(b, 'rev-parse', 'HEAD')).toBe(prMerge);
    expect(git(b, 'rev-parse', 'HEAD^1')).toBe(ff);
    expect(attributions(b)).toBe(beforePr);
    // A merge dated long ago (GIT_COMMITTER_DATE) made here is still its maker's.
    onBranch(b, 'old', undefined, 'old.txt');
    const dated = spawnSync('git', ['merge', '-q', '--no-ff', '--no-edit', 'old'], {
      cwd: b,
      env: cleanEnv({ HANDOFF_AGENT: 'claude', GIT_COMMITTER_DATE: '2020-01-01T00:00:00Z' }),
    });
    expect(dated.status).toBe(0);
    expect(ok(b, ['log', '-n', '1', '--json']).json.commits[0].agent).toEqual({ name: 'claude', human: false });
    // A pull that merges (both sides moved) makes a merge commit here: the person who pulled.
    commitFile(b, undefined, 'b.txt', 'b work');
    commitFile(a, undefined, 'a.txt', 'a work');
    gitAs(undefined, a, 'push', '-q', 'origin', 'main');
    gitAs(undefined, b, 'pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main');
    const pulled = git(b, 'rev-parse', 'HEAD');
    expect(git(b, 'rev-list', '--parents', '-n', '1', 'HEAD').split(' ')).toHaveLength(3);
    expect(ok(b, ['log', '-n', '1', '--json']).json.commits[0]).toMatchObject({
      commit: pulled,
      agent: { name: 'test-human', human: true },
    });
  });

  it("two agents in two worktrees commit to one file; blame names each line's agent and message", () => {
    const { repo, forClaude, forCodex } = setup();
    const wt = addWorktree(repo, 'codex-work');
    ok(repo, ['read', forClaude], { agent: 'claude' });
    ok(wt, ['read', forCodex], { agent: 'codex' });
    write(repo, 'f.txt', 'header by claude\nbase\n');
    gitAs('claude', repo, 'commit', '-qam', 'header');
    git(wt, 'merge', '-q', 'main');
    write(wt, 'f.txt', 'header by claude\nbase\nfooter by codex\n');
    gitAs('codex', wt, 'commit', '-qam', 'footer');
    git(repo, 'merge', '-q', '--ff-only', 'codex-work');
    expect(blameOf(repo, 'f.txt')).toEqual([
      ['header by claude', 'claude', forClaude],
      ['base', null, null],
      ['footer by codex', 'codex', forCodex],
    ]);
    // Reading a request is only a guess at what a commit answers: blame says so, and the commit carries no
    // Handoff-Message trailer (only its agent).
    expect(ok(repo, ['blame', 'f.txt', '--json']).json.lines.map((l: any) => l.link)).toEqual(['guess', null, 'guess']);
    expect(git(repo, 'log', '-1', '--format=%B')).toContain('Handoff-Agent: codex');
    expect(git(repo, 'log', '-1', '--format=%B')).not.toContain('Handoff-Message');
    // --why tells the story of a line.
    const why = ok(repo, ['blame', 'f.txt', '--why', '3', '--json']).json;
    expect(why.messages.map((m: any) => m.body)).toEqual(['write the footer']);
    expect(why.thread.map((m: any) => m.id)).toEqual([forCodex]);
    // log lists commits newest first with agent and handoff, and filters by agent.
    const logged = ok(repo, ['log', '--json']).json.commits;
    expect(logged.map((c: any) => [c.subject, c.agent?.name ?? null, c.messages.map((m: any) => m.id)])).toEqual([
      ['footer', 'codex', [forCodex]],
      ['header', 'claude', [forClaude]],
      ['initial', null, []],
    ]);
    expect(ok(repo, ['log', '--agent', 'claude', '--json']).json.commits.map((c: any) => c.subject)).toEqual([
      'header',
    ]);
  });

  it("a request claimed is the guess for the claimer's next commits, as one read is; a task name is not", () => {
    const { repo, forCodex } = setup();
    ok(repo, ['claim', forCodex.slice(-7)], { agent: 'codex' });
    expect(ok(repo, ['work-on', '--json'], { agent: 'codex' }).json).toMatchObject({ message: forCodex, mode: 'auto' });
    write(repo, 'f.txt', 'footer\n');
    gitAs('codex', repo, 'commit', '-qam', 'footer');
    expect(ok(repo, ['blame', 'f.txt', '--json']).json.lines[0]).toMatchObject({
      agent: { name: 'codex' },
      link: 'guess',
      messages: [expect.objectContaining({ id: forCodex })],
    });
    // A pin is not replaced by a claim's guess; a task name changes nothing.
    ok(repo, ['work-on', forCodex], { agent: 'codex' });
    const other = ok(repo, ['send', 'codex', 'another', '--json'], { agent: 'lead' }).json.message.id;
    ok(repo, ['claim', other], { agent: 'codex' });
    ok(repo, ['claim', 'deploy'], { agent: 'codex' });
    expect(ok(repo, ['work-on', '--json'], { agent: 'codex' }).json).toMatchObject({
      message: forCodex,
      mode: 'explicit',
    });
  });

  it('one agent name in two worktrees works on what each worktree pinned: trailer, attribution and work-on', () => {
    const { repo } = setup();
    const a = ok(repo, ['send', 'codex', 'task A', '--json'], { agent: 'lead' }).json.message.id;
    const b = ok(repo, ['send', 'codex', 'task B', '--json'], { agent: 'lead' }).json.message.id;
    const wt = addWorktree(repo, 'second');
    ok(repo, ['work-on', a.slice(-7)], { agent: 'codex' });
    ok(wt, ['work-on', b.slice(-7)], { agent: 'codex' });
    expect(ok(repo, ['work-on', '--json'], { agent: 'codex' }).json.message).toBe(a);
    expect(ok(wt, ['work-on', '--json'], { agent: 'codex' }).json.message).toBe(b);
    write(repo, 'fa.txt', 'a\n');
    gitAs('codex', repo, 'add', 'fa.txt');
    gitAs('codex', repo, 'commit', '-qm', 'work for A');
    write(wt, 'fb.txt', 'b\n');
    gitAs('codex', wt, 'add', 'fb.txt');
    gitAs('codex', wt, 'commit', '-qm', 'work for B');
    expect(git(repo, 'log', '-1', '--format=%(trailers:key=Handoff-Message,valueonly)', 'main')).toBe(a);
    expect(git(repo, 'log', '-1', '--format=%(trailers:key=Handoff-Message,valueonly)', 'second')).toBe(b);
    expect(blameOf(repo, 'fa.txt')).toEqual([['a', 'codex', a]]);
    expect(blameOf(wt, 'fb.txt')).toEqual([['b', 'codex', b]]);
    // Unpinned in one worktree, the other keeps its pin.
    ok(wt, ['work-on', '--none'], { agent: 'codex' });
    expect(ok(repo, ['work-on', '--json'], { agent: 'codex' }).json.message).toBe(a);
  });

  it('blame started before the bundle loads gives what blame started later gives: from a subdirectory of a worktree, with lines not committed', () => {
    const { repo, forCodex } = setup();
    const wt = addWorktree(repo, 'codex-sub');
    ok(wt, ['read', forCodex], { agent: 'codex' });
    fs.mkdirSync(path.join(wt, 'sub'));
    write(wt, 'sub/g.txt', 'one\ntwo\n');
    git(wt, 'add', '-A');
    gitAs('codex', wt, 'commit', '-qm', 'g');
    write(wt, 'sub/g.txt', 'one\ntwo\nthree, not committed\n');
    const cwd = path.join(wt, 'sub');
    // `blame <file>` (and --json, --no-pager) is started by bin/run.js; -L is not.
    const early = ok(cwd, ['blame', 'g.txt', '--json', '--no-pager']).json;
    const later = ok(cwd, ['blame', 'g.txt', '-L', '1,3', '--json']).json;
    expect(early.lines).toEqual(later.lines);
    expect(early.lines.map((l: any) => [l.content, l.agent?.name ?? null, l.messages[0]?.id ?? null])).toEqual([
      ['one', 'codex', forCodex],
      ['two', 'codex', forCodex],
      ['three, not committed', null, null],
    ]);
    // Its failures are reported as before: a path not in HEAD, from the same subdirectory.
    const missing = cli(cwd, ['blame', 'nope.txt', '--json']);
    expect([missing.status, missing.json.error.code]).toEqual([3, 'file_not_found']);
  });

  it('a human committing without an agent identity is recorded as the human; work-on pins or clears the message', () => {
    const { repo, forClaude, forCodex } = setup();
    write(repo, 'f.txt', 'by a human\n');
    gitAs(undefined, repo, 'commit', '-qam', 'human edit');
    expect(blameOf(repo, 'f.txt')).toEqual([['by a human', 'human:test-human', null]]);
    expect(git(repo, 'log', '-1', '--format=%B')).not.toContain('Handoff-Agent');
    ok(repo, ['read', forClaude], { agent: 'claude' });
    ok(repo, ['work-on', forCodex], { agent: 'claude' });
    ok(repo, ['read', forClaude], { agent: 'claude' }); // reading does not override an explicit choice
    write(repo, 'f.txt', 'pinned\n');
    gitAs('claude', repo, 'commit', '-qam', 'pinned');
    expect(blameOf(repo, 'f.txt')).toEqual([['pinned', 'claude', forCodex]]);
    ok(repo, ['work-on', '--none'], { agent: 'claude' });
    write(repo, 'f.txt', 'no handoff\n');
    gitAs('claude', repo, 'commit', '-qam', 'none');
    expect(blameOf(repo, 'f.txt')).toEqual([['no handoff', 'claude', null]]);
  });

  it('amend, rebase -i with reorder and squash, and cherry-pick keep the right agent and message', () => {
    const { repo, forClaude, forCodex } = setup();
    ok(repo, ['read', forClaude], { agent: 'claude' });
    ok(repo, ['read', forCodex], { agent: 'codex' });
    write(repo, 'a.txt', 'claude line 1\n');
    gitAs('claude', repo, 'add', 'a.txt');
    gitAs('claude', repo, 'commit', '-qm', 'claude a');
    write(repo, 'b.txt', 'codex line 1\n');
    gitAs('codex', repo, 'add', 'b.txt');
    gitAs('codex', repo, 'commit', '-qm', 'codex b');
    // Amend by the same agent (the hook sees post-rewrite amend).
    write(repo, 'b.txt', 'codex line 1\ncodex line 2\n');
    gitAs('codex', repo, 'commit', '-qa', '--amend', '--no-edit');
    write(repo, 'a.txt', 'claude line 1\nclaude line 2\n');
    gitAs('claude', repo, 'commit', '-qam', 'claude a2');
    expect(blameOf(repo, 'b.txt')).toEqual([
      ['codex line 1', 'codex', forCodex],
      ['codex line 2', 'codex', forCodex],
    ]);
    // A human reorders and squashes: "claude a2" moves before "codex b" and is squashed into "claude a".
    const todo =
      "sed -i -e '/claude a2/d' -e '/claude a$/a pick CLAUDE_A2' $1 && sed -i \"s/pick CLAUDE_A2/squash $(git rev-parse --short HEAD)/\" $1";
    const r = spawnSync('git', ['rebase', '-q', '-i', 'HEAD~3'], {
      cwd: repo,
      env: cleanEnv({ GIT_SEQUENCE_EDITOR: `sh -c '${todo.replace(/'/g, `'\\''`)}' --`, GIT_EDITOR: 'true' }),
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(git(repo, 'log', '--format=%s', '-3').split('\n')).toEqual(['codex b', 'claude a', 'initial']);
    expect(blameOf(repo, 'a.txt')).toEqual([
      ['claude line 1', 'claude', forClaude],
      ['claude line 2', 'claude', forClaude],
    ]);
    expect(blameOf(repo, 'b.txt')).toEqual([
      ['codex line 1', 'codex', forCodex],
      ['codex line 2', 'codex', forCodex],
    ]);
    // Squash two agents' commits into one: each line keeps its own agent.
    const r2 = spawnSync('git', ['rebase', '-q', '-i', 'HEAD~2'], {
      cwd: repo,
      env: cleanEnv({ GIT_SEQUENCE_EDITOR: "sed -i '2s/^pick/squash/'", GIT_EDITOR: 'true' }),
      encoding: 'utf8',
    });
    expect(r2.status, r2.stderr).toBe(0);
    expect(git(repo, 'rev-list', '--count', 'HEAD')).toBe('2');
    expect(blameOf(repo, 'a.txt').map((l: any) => l[1])).toEqual(['claude', 'claude']);
    expect(blameOf(repo, 'b.txt').map((l: any) => [l[1], l[2]])).toEqual([
      ['codex', forCodex],
      ['codex', forCodex],
    ]);
    // Cherry-pick by a human onto another branch keeps the agent from the trailers.
    git(repo, 'checkout', '-q', '-b', 'other', 'HEAD~1');
    write(repo, 'c.txt', 'codex on main\n');
    gitAs('codex', repo, 'checkout', '-q', 'main');
    write(repo, 'c.txt', 'codex on main\n');
    gitAs('codex', repo, 'add', 'c.txt');
    gitAs('codex', repo, 'commit', '-qm', 'codex c');
    const picked = git(repo, 'rev-parse', 'HEAD');
    git(repo, 'checkout', '-q', 'other');
    fs.rmSync(path.join(repo, 'c.txt'), { force: true });
    gitAs(undefined, repo, 'cherry-pick', picked);
    expect(blameOf(repo, 'c.txt')).toEqual([['codex on main', 'codex', forCodex]]);
  });

  it("an amend by another agent keeps each line's agent: the amended lines the first agent's, the new ones the amender's", () => {
    const { repo } = setup();
    write(repo, 'f.txt', 'base\none\n');
    gitAs('claude', repo, 'commit', '-qam', 'claude adds one');
    write(repo, 'f.txt', 'base\none\ntwo\n');
    gitAs('codex', repo, 'commit', '-qa', '--amend', '--no-edit');
    expect(git(repo, 'log', '-1', '--format=%(trailers:key=Handoff-Agent,valueonly)').trim()).toBe('codex');
    expect(blameOf(repo, 'f.txt').map((l: any) => [l[0], l[1]])).toEqual([
      ['base', null],
      ['one', 'claude'],
      ['two', 'codex'],
    ]);
    // Amended again, reworded, by a third agent: the earlier owners stay.
    ok(repo, ['join'], { agent: 'gemini' });
    write(repo, 'f.txt', 'base\none\ntwo\nthree\n');
    gitAs('gemini', repo, 'commit', '-qa', '--amend', '-m', 'reworded');
    expect(blameOf(repo, 'f.txt').map((l: any) => [l[0], l[1]])).toEqual([
      ['base', null],
      ['one', 'claude'],
      ['two', 'codex'],
      ['three', 'gemini'],
    ]);
    // The same agent amending its own commit changes nothing of that.
    write(repo, 'f.txt', 'base\none\ntwo\nthree\nfour\n');
    gitAs('gemini', repo, 'commit', '-qa', '--amend', '--no-edit');
    expect(blameOf(repo, 'f.txt').map((l: any) => l[1])).toEqual([null, 'claude', 'codex', 'gemini', 'gemini']);
  });

  it('an amend by another agent answers the handoff that agent works on, not the one the commit answered', () => {
    const { repo, forClaude, forCodex } = setup();
    ok(repo, ['work-on', forCodex], { agent: 'codex' });
    write(repo, 'f.txt', 'base\ncodex line\n');
    gitAs('codex', repo, 'commit', '-qam', 'codex works');
    ok(repo, ['work-on', forClaude], { agent: 'claude' });
    write(repo, 'f.txt', 'base\ncodex line\nclaude line\n');
    gitAs('claude', repo, 'commit', '-qa', '--amend', '--no-edit');
    expect(git(repo, 'log', '-1', '--format=%(trailers:key=Handoff-Message,valueonly)').trim()).toBe(forClaude);
    expect(blameOf(repo, 'f.txt')).toEqual([
      ['base', null, null],
      ['codex line', 'codex', forCodex],
      ['claude line', 'claude', forClaude],
    ]);
    // A person amending it keeps no agent's trailer: the lines keep theirs.
    write(repo, 'f.txt', 'base\ncodex line\nclaude line\nmine\n');
    gitAs(undefined, repo, 'commit', '-qa', '--amend', '--no-edit');
    expect(git(repo, 'log', '-1', '--format=%B')).not.toMatch(/Handoff-(Agent|Message)/);
    expect(blameOf(repo, 'f.txt').slice(1, 3)).toEqual([
      ['codex line', 'codex', forCodex],
      ['claude line', 'claude', forClaude],
    ]);
  });

  it("a conflict resolved in a rebase: the resolver's lines are the resolver's, the rest keep the commit's agent", () => {
    for (const resolver of ['gemini', undefined]) {
      const { repo, forClaude } = setup();
      write(repo, 'f.txt', Array.from({ length: 10 }, (_, i) => `${i + 1}`).join('\n') + '\n');
      gitAs(undefined, repo, 'commit', '-qam', 'ten lines');
      const edit = (dir: string, from: string, to: string) =>
        write(dir, 'f.txt', fs.readFileSync(path.join(dir, 'f.txt'), 'utf8').replace(`\n${from}\n`, `\n${to}\n`));
      gitAs(undefined, repo, 'checkout', '-qb', 'feat');
      ok(repo, ['work-on', forClaude], { agent: 'claude' });
      edit(repo, '3', 'three-claude');
      edit(repo, '8', 'eight-claude');
      gitAs('claude', repo, 'commit', '-qam', 'claude');
      gitAs(undefined, repo, 'checkout', '-q', 'main');
      edit(repo, '3', 'three-codex');
      gitAs('codex', repo, 'commit', '-qam', 'codex');
      gitAs(undefined, repo, 'checkout', '-q', 'feat');
      // The rebase stops at the conflict on line 3; the resolver writes a line of its own there.
      const stop = spawnSync('git', ['rebase', '-q', 'main'], {
        cwd: repo,
        env: cleanEnv({ HANDOFF_AGENT: resolver }),
        encoding: 'utf8',
      });
      expect(stop.status).not.toBe(0);
      write(
        repo,
        'f.txt',
        ['1', '2', 'three-resolved', '4', '5', '6', '7', 'eight-claude', '9', '10'].join('\n') + '\n',
      );
      git(repo, 'add', 'f.txt');
      gitAs(resolver, repo, 'rebase', '--continue');
      const who = resolver ?? 'human:test-human';
      expect(
        blameOf(repo, 'f.txt')
          .filter((l: unknown[]) => /-/.test(String(l[0])))
          .map((l: unknown[]) => l.slice(0, 2)),
      ).toEqual([
        ['three-resolved', who],
        ['eight-claude', 'claude'],
      ]);
      // The copy still answers claude's handoff, and log names both.
      const top = ok(repo, ['log', '-n', '1', '--json']).json.commits[0];
      expect(top.messages.map((m: any) => m.id)).toEqual([forClaude]);
      expect(top.agents).toEqual([{ name: 'claude', human: false }]);
      expect(ok(repo, ['verify', '--json']).json.ok).toBe(true);
    }
  });

  it("an amend made by hand at a rebase's stop is its maker's; the lines the commit had keep their agent", () => {
    for (const repick of [false, true]) {
      const { repo } = setup();
      write(repo, 'f.txt', Array.from({ length: 10 }, (_, i) => `${i + 1}`).join('\n') + '\n');
      gitAs(undefined, repo, 'commit', '-qam', 'ten lines');
      // With a commit dropped before it, the one edited is copied by the rebase before it stops there.
      if (repick) {
        write(repo, 'o.txt', 'other\n');
        git(repo, 'add', 'o.txt');
        gitAs(undefined, repo, 'commit', '-qm', 'other');
      }
      const edit = (from: string, to: string) =>
        write(repo, 'f.txt', fs.readFileSync(path.join(repo, 'f.txt'), 'utf8').replace(`\n${from}\n`, `\n${to}\n`));
      edit('2', 'two-codex');
      gitAs('codex', repo, 'commit', '-qam', 'c1');
      edit('8', 'eight-gemini');
      gitAs('gemini', repo, 'commit', '-qam', 'c2');
      const todo = repick ? "sed -i -e '1s/^pick/drop/' -e '2s/^pick/edit/'" : "sed -i '1s/^pick/edit/'";
      const stop = spawnSync('git', ['rebase', '-q', '-i', `HEAD~${repick ? 3 : 2}`], {
        cwd: repo,
        env: cleanEnv({ HANDOFF_AGENT: 'claude', GIT_SEQUENCE_EDITOR: todo, GIT_EDITOR: 'true' }),
        encoding: 'utf8',
      });
      expect(stop.status, stop.stderr).toBe(0);
      edit('5', 'five-claude');
      gitAs('claude', repo, 'commit', '-q', '--amend', '-a', '--no-edit');
      expect(git(repo, 'log', '-1', '--format=%(trailers:key=Handoff-Agent,valueonly)').trim()).toBe('claude');
      gitAs(undefined, repo, 'rebase', '--continue');
      expect(blameOf(repo, 'f.txt').map((l: unknown[]) => l.slice(0, 2))).toEqual([
        ['1', 'human:test-human'],
        ['two-codex', 'codex'],
        ['3', 'human:test-human'],
        ['4', 'human:test-human'],
        ['five-claude', 'claude'],
        ['6', 'human:test-human'],
        ['7', 'human:test-human'],
        ['eight-gemini', 'gemini'],
        ['9', 'human:test-human'],
        ['10', 'human:test-human'],
      ]);
      const log = ok(repo, ['log', '--json']).json.commits.map((c: any) => [c.subject, c.agent?.name ?? null]);
      expect(log.slice(0, 2)).toEqual([
        ['c2', 'gemini'],
        ['c1', 'claude'],
      ]);
      expect(ok(repo, ['verify', '--json']).json.ok).toBe(true);
    }
  });

  it('log names every agent of a squash, and --agent finds it under each of them', () => {
    const { repo, forClaude, forCodex } = setup();
    write(repo, 'f.txt', 'l1\nl2\nl3\nl4\nl5\n');
    gitAs(undefined, repo, 'commit', '-qam', 'five lines');
    ok(repo, ['work-on', forCodex], { agent: 'codex' });
    ok(repo, ['work-on', forClaude], { agent: 'claude' });
    write(repo, 'f.txt', 'l1\nCODEX\nl3\nl4\nl5\n');
    gitAs('codex', repo, 'commit', '-qam', 'codex one');
    write(repo, 'f.txt', 'l1\nCODEX\nl3\nCODEX2\nl5\n');
    gitAs('codex', repo, 'commit', '-qam', 'codex two');
    write(repo, 'f.txt', 'l1\nCODEX\nl3\nCODEX2\nCLAUDE\n');
    gitAs('claude', repo, 'commit', '-qam', 'claude one');
    const r = spawnSync('git', ['rebase', '-q', '-i', 'HEAD~3'], {
      cwd: repo,
      env: cleanEnv({ GIT_SEQUENCE_EDITOR: "sed -i '2,$s/^pick/squash/'", GIT_EDITOR: 'true' }),
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const squash = git(repo, 'rev-parse', 'HEAD').trim();
    const entry = ok(repo, ['log', '--json']).json.commits[0];
    expect(entry.commit).toBe(squash);
    expect(entry.agents).toEqual([
      { name: 'codex', human: false },
      { name: 'claude', human: false },
    ]);
    expect(entry.messages.map((m: any) => m.id).sort()).toEqual([forClaude, forCodex].sort());
    for (const agent of ['codex', 'claude'])
      expect(ok(repo, ['log', '--agent', agent, '--json']).json.commits.map((c: any) => c.commit)).toEqual([squash]);
    expect(ok(repo, ['log', '--no-pager']).stdout).toMatch(/codex, claude \(squash\)/);
    // One agent's commit is not a squash: no list.
    expect(ok(repo, ['log', '--json']).json.commits[1].agents).toBeUndefined();
  });

  it("a squash of one agent's commits made by another agent is the first one's, under --agent too", () => {
    const { repo, forCodex } = setup();
    gitAs(undefined, repo, 'checkout', '-qb', 'feat');
    ok(repo, ['work-on', forCodex], { agent: 'codex' });
    write(repo, 'g.txt', 'codex line\n');
    gitAs('codex', repo, 'add', 'g.txt');
    gitAs('codex', repo, 'commit', '-qm', 'codex work');
    gitAs(undefined, repo, 'checkout', '-q', 'main');
    gitAs('claude', repo, 'merge', '--squash', 'feat');
    gitAs('claude', repo, 'commit', '-qm', 'squash feat');
    const squash = git(repo, 'rev-parse', 'HEAD').trim();
    expect(ok(repo, ['blame', 'g.txt', '--json']).json.lines[0].agent?.name).toBe('codex');
    const entry = ok(repo, ['log', '--json']).json.commits[0];
    expect([entry.commit, entry.agents]).toEqual([squash, [{ name: 'codex', human: false }]]);
    expect(entry.messages.map((m: any) => m.id)).toEqual([forCodex]);
    expect(ok(repo, ['log', '--agent', 'codex', '--json']).json.commits.map((c: any) => c.commit)).toEqual([squash]);
    expect(ok(repo, ['log', '-n', '1', '--no-pager']).stdout).toMatch(/codex \(rewritten by claude\)/);
  });

  it("a squash in rebase -i where no hook ran keeps each line's agent, though its message ends with the last one's trailers", () => {
    const { repo, forClaude, forCodex } = setup();
    write(repo, 'f.txt', 'l1\nl2\nl3\nl4\n');
    gitAs(undefined, repo, 'commit', '-qam', 'four lines');
    gitAs(undefined, repo, 'checkout', '-qb', 'feat');
    ok(repo, ['work-on', forCodex], { agent: 'codex' });
    ok(repo, ['work-on', forClaude], { agent: 'claude' });
    write(repo, 'f.txt', 'l1\nCODEX\nl3\nl4\n');
    gitAs('codex', repo, 'commit', '-qam', 'codex line');
    write(repo, 'f.txt', 'l1\nCODEX\nl3\nCLAUDE\n');
    gitAs('claude', repo, 'commit', '-qam', 'claude line');
    // Squashed by someone whose clone has no hooks: git joins the two messages, trailers and all.
    ok(repo, ['hooks', 'uninstall']);
    const r = spawnSync('git', ['rebase', '-q', '-i', 'main'], {
      cwd: repo,
      env: cleanEnv({ GIT_SEQUENCE_EDITOR: "sed -i '2s/^pick/squash/'", GIT_EDITOR: 'true' }),
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(git(repo, 'rev-list', '--count', 'main..HEAD')).toBe('1');
    expect(git(repo, 'log', '-1', '--format=%(trailers:key=Handoff-Agent,valueonly)').trim()).toBe('claude');
    const traced = [
      ['CODEX', 'codex', forCodex],
      ['l3', 'human:test-human', null],
      ['CLAUDE', 'claude', forClaude],
    ];
    expect(blameOf(repo, 'f.txt').slice(1)).toEqual(traced);
    // What an earlier handoff cached of that commit (its last trailer) is read again, not kept.
    const db = new Database(path.join(commonDir(repo), 'handoff', 'ledger.db'));
    db.prepare("UPDATE commit_facts SET trailer_agent = 'claude'").run();
    db.prepare("DELETE FROM settings WHERE key = 'commit_facts_format'").run();
    db.close();
    expect(blameOf(repo, 'f.txt').slice(1)).toEqual(traced);
    // A message whose prose mentions a trailer is not a squash: its own trailer block names the agent.
    write(repo, 'f.txt', 'l1\nCODEX\nl3\nCLAUDE\nmore\n');
    gitAs(
      undefined,
      repo,
      'commit',
      '-qam',
      'mention',
      '-m',
      'The hook writes\nHandoff-Agent: someone\ninto commits.',
      '-m',
      'Handoff-Agent: codex',
    );
    expect(blameOf(repo, 'f.txt')[4]).toEqual(['more', 'codex', null]);
  });

  it('an amend by the same agent for another handoff (work-on since, or HANDOFF_MESSAGE) answers that one', () => {
    const { repo, forClaude, forCodex } = setup();
    const next = ok(repo, ['send', 'codex', 'and the index', '--json'], { agent: 'lead' }).json.message.id;
    ok(repo, ['work-on', forCodex], { agent: 'codex' });
    write(repo, 'f.txt', 'base\nfooter\n');
    gitAs('codex', repo, 'commit', '-qam', 'footer');
    ok(repo, ['work-on', next], { agent: 'codex' });
    write(repo, 'f.txt', 'base\nfooter\nindex\n');
    gitAs('codex', repo, 'commit', '-qa', '--amend', '--no-edit');
    const trailer = () => git(repo, 'log', '-1', '--format=%(trailers:key=Handoff-Message,valueonly)').trim();
    expect(trailer()).toBe(next);
    // HANDOFF_MESSAGE names the handoff over any pin.
    write(repo, 'f.txt', 'base\nfooter\nindex\nheader\n');
    const r = spawnSync('git', ['commit', '-qa', '--amend', '--no-edit'], {
      cwd: repo,
      env: cleanEnv({ HANDOFF_AGENT: 'codex', HANDOFF_MESSAGE: forClaude }),
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(trailer()).toBe(forClaude);
    expect(blameOf(repo, 'f.txt')).toEqual([
      ['base', null, null],
      ['footer', 'codex', forCodex],
      ['index', 'codex', next],
      ['header', 'codex', forClaude],
    ]);
    // Amended again with no other handoff named: it keeps the one it answers.
    ok(repo, ['work-on', '--auto'], { agent: 'codex' });
    gitAs('codex', repo, 'commit', '-q', '--amend', '--no-edit');
    expect(git(repo, 'log', '-1', '--format=%B')).toContain(`Handoff-Message: ${forClaude}`);
  });

  it('amends with -C, --fixup=amend:, by a person, moving a line, and of a file git quotes keep each line its agent', () => {
    const { repo } = setup();
    const agents = (file: string) => blameOf(repo, file).map((l: any) => [l[0], l[1]]);
    // -C with a sha (git passes the sha, not HEAD, to the hook).
    write(repo, 'f.txt', 'base\nclaude 1\n');
    gitAs('claude', repo, 'commit', '-qam', 'claude');
    write(repo, 'f.txt', 'base\nclaude 1\ncodex 2\n');
    gitAs('codex', repo, 'commit', '-qa', '--amend', '-C', git(repo, 'rev-parse', 'HEAD'));
    expect(agents('f.txt')).toEqual([
      ['base', null],
      ['claude 1', 'claude'],
      ['codex 2', 'codex'],
    ]);
    // A person amends: their line is theirs, the agents keep theirs.
    write(repo, 'f.txt', 'base\nclaude 1\ncodex 2\nperson 3\n');
    gitAs(undefined, repo, 'commit', '-qa', '--amend', '--no-edit');
    expect(agents('f.txt').map((l: any) => l[1])).toEqual([null, 'claude', 'codex', 'human:test-human']);
    // A line the amend moves to another file keeps its agent there.
    write(repo, 'f.txt', 'base\ncodex 2\nperson 3\n');
    write(repo, 'g.txt', 'claude 1\ngemini 4\n');
    gitAs('gemini', repo, 'add', 'g.txt');
    gitAs('gemini', repo, 'commit', '-qa', '--amend', '--no-edit');
    expect(agents('g.txt')).toEqual([
      ['claude 1', 'claude'],
      ['gemini 4', 'gemini'],
    ]);
    // --fixup=amend: by another agent, squashed in by a rebase: its line is its own.
    write(repo, 'g.txt', 'claude 1\ngemini 4\ncodex 5\n');
    gitAs('codex', repo, 'commit', '-qa', '--fixup=amend:HEAD');
    const r = spawnSync('git', ['rebase', '-q', '-i', '--autosquash', 'HEAD~2'], {
      cwd: repo,
      env: cleanEnv({ GIT_SEQUENCE_EDITOR: 'true', GIT_EDITOR: 'true' }),
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(agents('g.txt').map((l: any) => l[1])).toEqual(['claude', 'gemini', 'codex']);
    // A file name git quotes: blame reads it back unquoted.
    write(repo, 'ü.txt', 'claude ü\n');
    gitAs('claude', repo, 'add', 'ü.txt');
    gitAs('claude', repo, 'commit', '-qm', 'umlaut');
    write(repo, 'ü.txt', 'claude ü\ncodex ü\n');
    gitAs('codex', repo, 'commit', '-qa', '--amend', '--no-edit');
    expect(agents('ü.txt')).toEqual([
      ['claude ü', 'claude'],
      ['codex ü', 'codex'],
    ]);
  });

  it('a squash merge gives the same text added in two places to each agent, and follows a rename', () => {
    const { repo, forClaude, forCodex } = setup();
    write(repo, 'f.c', 'a() {\n}\n\nb() {\n}\n');
    write(repo, 'old.txt', 'l1\nl2\nl3\nl4\nl5\n');
    gitAs(undefined, repo, 'add', '.');
    gitAs(undefined, repo, 'commit', '-qm', 'base');
    gitAs(undefined, repo, 'checkout', '-qb', 'feat');
    ok(repo, ['work-on', forCodex], { agent: 'codex' });
    write(repo, 'f.c', 'a() {\n  return 0;\n}\n\nb() {\n}\n');
    write(repo, 'old.txt', 'l1\nTWO\nl3\nl4\nl5\n');
    gitAs('codex', repo, 'commit', '-qam', 'a returns 0, line two');
    ok(repo, ['work-on', forClaude], { agent: 'claude' });
    write(repo, 'f.c', 'a() {\n  return 0;\n}\n\nb() {\n  return 0;\n}\n');
    gitAs('claude', repo, 'mv', 'old.txt', 'new.txt');
    write(repo, 'new.txt', 'l1\nTWO\nl3\nl4\nFIVE\n');
    gitAs('claude', repo, 'commit', '-qam', 'b returns 0, renamed');
    gitAs(undefined, repo, 'checkout', '-q', 'main');
    gitAs(undefined, repo, 'merge', '-q', '--squash', 'feat');
    gitAs(undefined, repo, 'commit', '-qm', 'squash feat');
    const byLine = (file: string) => blameOf(repo, file).map((l: any) => [l[0], l[1], l[2]]);
    expect(byLine('f.c')[1]).toEqual(['  return 0;', 'codex', forCodex]);
    expect(byLine('f.c')[5]).toEqual(['  return 0;', 'claude', forClaude]);
    expect(byLine('new.txt')[1]).toEqual(['TWO', 'codex', forCodex]);
    expect(byLine('new.txt')[4]).toEqual(['FIVE', 'claude', forClaude]);
  });

  it('a cherry-pick of a commit squashed by rebase -i keeps each line its agent and handoff', () => {
    const { repo, forClaude, forCodex } = setup();
    write(repo, 'f.txt', 'l1\nl2\nl3\nl4\nl5\nl6\n');
    gitAs(undefined, repo, 'commit', '-qam', 'six lines');
    gitAs(undefined, repo, 'checkout', '-qb', 'feat');
    ok(repo, ['work-on', forCodex], { agent: 'codex' });
    write(repo, 'f.txt', 'l1\nL2\nl3\nl4\nl5\nl6\n');
    gitAs('codex', repo, 'commit', '-qam', 'two');
    ok(repo, ['work-on', forClaude], { agent: 'claude' });
    write(repo, 'f.txt', 'l1\nL2\nl3\nL4\nl5\nl6\n');
    gitAs('claude', repo, 'commit', '-qam', 'four');
    ok(repo, ['work-on', '--none'], { agent: 'codex' });
    write(repo, 'f.txt', 'l1\nL2\nl3\nL4\nl5\nL6\n');
    gitAs('codex', repo, 'commit', '-qam', 'six');
    const squash = spawnSync('git', ['rebase', '-q', '-i', 'main'], {
      cwd: repo,
      env: cleanEnv({ GIT_SEQUENCE_EDITOR: "sed -i '2s/^pick/squash/;3s/^pick/fixup/'", GIT_EDITOR: 'true' }),
      encoding: 'utf8',
    });
    expect(squash.status, squash.stderr).toBe(0);
    const expected = [
      ['l1', 'human:test-human', null],
      ['L2', 'codex', forCodex],
      ['l3', 'human:test-human', null],
      ['L4', 'claude', forClaude],
      ['l5', 'human:test-human', null],
      ['L6', 'codex', null],
    ];
    expect(blameOf(repo, 'f.txt')).toEqual(expected);
    gitAs(undefined, repo, 'checkout', '-q', 'main');
    gitAs(undefined, repo, 'cherry-pick', 'feat');
    expect(blameOf(repo, 'f.txt')).toEqual(expected);
  });

  it('a squash merge made where no hook ran re-links through trailers and patch ids', () => {
    const { repo, forCodex } = setup();
    ok(repo, ['read', forCodex], { agent: 'codex' });
    git(repo, 'checkout', '-q', '-b', 'feature');
    write(repo, 'g.txt', 'feature line\n');
    gitAs('codex', repo, 'add', 'g.txt');
    gitAs('codex', repo, 'commit', '-qm', 'feature');
    git(repo, 'checkout', '-q', 'main');
    // The host squash-merges without hooks; its message drops the trailers, the patch stays the same.
    const env = cleanEnv({ HANDOFF_HOOKS: '0' });
    spawnSync('git', ['merge', '-q', '--squash', 'feature'], { cwd: repo, env });
    spawnSync('git', ['-c', 'core.hooksPath=/dev/null', 'commit', '-qm', 'Feature (#12)'], { cwd: repo, env });
    expect(ok(repo, ['blame', 'g.txt', '--json']).json.lines[0]).toMatchObject({
      agent: { name: 'codex' },
      via: 'patch-id',
    });
    // A rebase on another machine keeps trailers: re-linked through them.
    const pick = git(
      repo,
      'commit-tree',
      '-p',
      'HEAD',
      '-m',
      `redo\n\nHandoff-Agent: codex\nHandoff-Message: ${forCodex}`,
      'HEAD^{tree}',
    );
    git(repo, 'update-ref', 'refs/heads/main', pick);
    const logged = ok(repo, ['log', '-n', '2', '--json']).json.commits;
    expect(logged.map((c: any) => [c.subject, c.agent?.name, c.via])).toEqual([
      ['redo', 'codex', 'trailer'],
      ['Feature (#12)', 'codex', 'patch-id'],
    ]);
  });

  it('an existing hook and a husky setup keep working, and uninstall restores them exactly', () => {
    const repo = makeRepo();
    const hooks = path.join(repo, '.git', 'hooks');
    fs.writeFileSync(
      path.join(hooks, 'post-commit'),
      '#!/bin/sh\necho ran >> "$(git rev-parse --git-dir)/mine.log"\n',
      { mode: 0o755 },
    );
    fs.writeFileSync(path.join(hooks, 'prepare-commit-msg'), '#!/bin/sh\ngrep -q forbidden "$1" && exit 1\nexit 0\n', {
      mode: 0o700,
    });
    const before = ['post-commit', 'prepare-commit-msg'].map((h) => [
      fs.readFileSync(path.join(hooks, h), 'utf8'),
      fs.statSync(path.join(hooks, h)).mode,
    ]);
    ok(repo, ['hooks', 'install']);
    expect(ok(repo, ['hooks', 'install', '--json']).json.hooks.map((h: any) => h.state)).toEqual([
      'unchanged',
      'unchanged',
      'unchanged',
      'unchanged',
      'unchanged',
    ]);
    const status = ok(repo, ['hooks', 'status', '--json']).json;
    // The help names every hook install writes.
    const help = ok(repo, ['hooks', 'install', '--help']).stdout.replace(/\s+/g, ' ');
    for (const h of status.hooks) expect(help, h.name).toContain(` ${h.name} (`);
    expect(status.hooks.map((h: any) => [h.name, h.healthy, h.chained])).toEqual([
      ['pre-commit', true, false],
      ['prepare-commit-msg', true, true],
      ['post-commit', true, true],
      ['post-merge', true, false],
      ['post-rewrite', true, false],
    ]);
    write(repo, 'x.txt', 'x\n');
    gitAs('codex', repo, 'add', 'x.txt');
    gitAs('codex', repo, 'commit', '-qm', 'ok');
    expect(fs.readFileSync(path.join(repo, '.git', 'mine.log'), 'utf8')).toBe('ran\n');
    expect(ok(repo, ['log', '-n', '1', '--json']).json.commits[0].agent.name).toBe('codex');
    // The chained hook's failure still stops the commit.
    write(repo, 'x.txt', 'y\n');
    const refused = spawnSync('git', ['commit', '-qam', 'forbidden'], {
      cwd: repo,
      env: cleanEnv({ HANDOFF_AGENT: 'codex' }),
    });
    expect(refused.status).not.toBe(0);
    ok(repo, ['hooks', 'uninstall']);
    expect(
      ['post-commit', 'prepare-commit-msg'].map((h) => [
        fs.readFileSync(path.join(hooks, h), 'utf8'),
        fs.statSync(path.join(hooks, h)).mode,
      ]),
    ).toEqual(before);
    expect(fs.existsSync(path.join(hooks, 'post-rewrite'))).toBe(false);

    // core.hooksPath pointing into the repository, at a directory git ignores (not husky's: test/cli/hooks-real.test.ts).
    const h2 = makeRepo();
    fs.mkdirSync(path.join(h2, '.hooks', 'local'), { recursive: true });
    fs.writeFileSync(path.join(h2, '.hooks', 'local', '.gitignore'), '*\n');
    fs.writeFileSync(
      path.join(h2, '.hooks', 'local', 'post-commit'),
      '#!/bin/sh\necho husky >> "$(git rev-parse --git-dir)/husky.log"\n',
      { mode: 0o755 },
    );
    git(h2, 'config', 'core.hooksPath', '.hooks/local');
    expect(ok(h2, ['hooks', 'install', '--json']).json.dir).toBe(path.join(fs.realpathSync(h2), '.hooks', 'local'));
    write(h2, 'y.txt', 'y\n');
    gitAs('gemini', h2, 'add', 'y.txt');
    gitAs('gemini', h2, 'commit', '-qm', 'with husky');
    expect(fs.readFileSync(path.join(h2, '.git', 'husky.log'), 'utf8')).toBe('husky\n');
    expect(ok(h2, ['log', '-n', '1', '--json']).json.commits[0].agent.name).toBe('gemini');
  });

  it('file names with spaces and non-ASCII letters are recorded as git names them, and found by search, replay and blame', () => {
    const { repo } = setup();
    fs.mkdirSync(path.join(repo, 'my dir'));
    write(repo, 'my dir/a b.txt', 'spaced\n');
    write(repo, 'café.txt', 'accented\n');
    write(repo, 'tab\there.txt', 'quoted by git\n');
    gitAs('codex', repo, 'add', '-A');
    gitAs('codex', repo, 'commit', '-qm', 'odd names');
    const tip = git(repo, 'for-each-ref', '--format=%(objectname)', 'refs/handoff/chains/');
    const event = JSON.parse(git(repo, 'cat-file', '-p', `${tip}:event.json`));
    expect(Object.keys(event.files).sort()).toEqual(['café.txt', 'my dir/a b.txt', 'tab\there.txt']);
    const found = ok(repo, ['search', 'café', '--kind', 'commit', '--json']).json;
    expect(found.hits.map((h: any) => [h.kind, h.author])).toEqual([['commit', 'codex']]);
    expect(found.hits[0].snippet).toContain('my dir/a b.txt tab\there.txt');
    for (const f of ['café.txt', 'my dir/a b.txt', 'tab\there.txt']) {
      expect(blameOf(repo, f)[0][1]).toBe('codex');
      expect(ok(repo, ['replay', '--path', f, '--json']).json.items.length).toBeGreaterThan(0);
    }
  });

  it('search names what became of a commit it finds: rebased into another, or reset away', () => {
    const { repo } = setup();
    gitAs(undefined, repo, 'checkout', '-qb', 'topic');
    write(repo, 't.txt', 't\n');
    gitAs('codex', repo, 'add', 't.txt');
    gitAs('codex', repo, 'commit', '-qm', 'zanzibar feature');
    const old = git(repo, 'rev-parse', 'HEAD').trim();
    gitAs(undefined, repo, 'checkout', '-q', 'main');
    write(repo, 'm.txt', 'm\n');
    gitAs('claude', repo, 'add', 'm.txt');
    gitAs('claude', repo, 'commit', '-qm', 'main moves');
    gitAs(undefined, repo, 'checkout', '-q', 'topic');
    gitAs('codex', repo, 'rebase', '-q', 'main');
    const rebased = git(repo, 'rev-parse', 'HEAD').trim();
    write(repo, 'z.txt', 'z\n');
    gitAs('codex', repo, 'add', 'z.txt');
    gitAs('codex', repo, 'commit', '-qm', 'zanzibar two');
    const gone = git(repo, 'rev-parse', 'HEAD').trim();
    git(repo, 'reset', '-q', '--hard', 'HEAD~1');
    const hits = ok(repo, ['search', 'zanzibar', '--kind', 'commit', '--json']).json.hits;
    const byId = new Map(hits.map((h: any) => [h.id, h]));
    expect(byId.get(old)).toMatchObject({ rewrittenAs: [rebased] });
    expect((byId.get(old) as any).discarded).toBeUndefined();
    expect(byId.get(gone)).toMatchObject({ discarded: true });
    // The id it names is the commit the branch holds, and feeds review, log and blame as any other.
    expect(ok(repo, ['log', '-n', '1', '--json']).json.commits[0].commit).toBe(rebased);
    const text = ok(repo, ['search', 'zanzibar']).stdout;
    expect(text).toContain(`(now ${rebased.slice(0, 10)})`);
    expect(text).toContain('(discarded)');
    // A commit still on its branch says neither.
    expect(ok(repo, ['search', 'moves', '--kind', 'commit', '--json']).json.hits[0]).not.toHaveProperty('rewrittenAs');
  });

  it('a commit succeeds with the ledger database deleted or unusable', () => {
    const { repo } = setup();
    const db = path.join(commonDir(repo), 'handoff', 'ledger.db');
    for (const s of ['', '-wal', '-shm']) fs.rmSync(db + s, { force: true });
    write(repo, 'f.txt', 'one\n');
    gitAs('codex', repo, 'commit', '-qam', 'after delete');
    expect(ok(repo, ['log', '-n', '1', '--json']).json.commits[0].agent.name).toBe('codex');
    // Now make it unusable: a directory where the file should be.
    for (const s of ['', '-wal', '-shm']) fs.rmSync(db + s, { force: true, recursive: true });
    fs.mkdirSync(db);
    write(repo, 'f.txt', 'two\n');
    const r = gitAs('codex', repo, 'commit', '-qam', 'with a broken ledger');
    expect(r.stderr).toMatch(/^handoff: /m);
    expect(git(repo, 'log', '-1', '--format=%s')).toBe('with a broken ledger');
    // And when handoff itself is gone.
    fs.rmSync(db, { recursive: true });
    const hook = path.join(repo, '.git', 'hooks', 'post-commit');
    fs.writeFileSync(hook, fs.readFileSync(hook, 'utf8').replaceAll('dist/hook.js', 'dist/gone.js'));
    write(repo, 'f.txt', 'three\n');
    const r2 = gitAs('codex', repo, 'commit', '-qam', 'handoff missing');
    expect(r2.stderr).toMatch(/hook skipped/);
    const hooks = ok(repo, ['hooks', 'status', '--json']).json.hooks;
    expect(hooks.find((h: { name: string }) => h.name === 'post-commit').healthy).toBe(false);
  });

  it('attribution syncs to another clone and blame there gives the same answer', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    ok(a, ['hooks', 'install']);
    const id = ok(a, ['send', 'codex', 'please edit', '--create', '--json'], { agent: 'lead' }).json.message.id;
    ok(a, ['read', id], { agent: 'codex' });
    write(a, 'README.md', '# team\nedited by codex\n');
    gitAs('codex', a, 'commit', '-qam', 'edit');
    git(a, 'push', '-q', 'origin', 'HEAD:main');
    ok(a, ['sync']);
    git(b, 'pull', '-q');
    ok(b, ['sync']);
    expect(blameOf(b, 'README.md')).toEqual(blameOf(a, 'README.md'));
    expect(blameOf(b, 'README.md')[1]).toEqual(['edited by codex', 'codex', id]);
    expect(ok(b, ['blame', 'README.md', '--json']).json.lines[1].via).toBe('hook');
  });
});

describe('HANDOFF_MESSAGE as people type it', () => {
  it('a lowercase id links the commit; one that is no id is said, and the commit keeps the link a reply made', () => {
    const { repo, forClaude } = setup();
    write(repo, 'f.txt', 'one\n');
    gitAs('claude', repo, 'commit', '-qam', 'c0');
    // claude replies with a diff: its next commits answer that request.
    write(repo, 'f.txt', 'one\ntwo\n');
    ok(repo, ['reply', forClaude, 'done', '--attach-diff'], { agent: 'claude' });
    const c1 = spawnSync('git', ['commit', '-qam', 'c1'], {
      cwd: repo,
      env: cleanEnv({ HANDOFF_AGENT: 'claude', HANDOFF_MESSAGE: 'garbage' }),
      encoding: 'utf8',
    });
    expect(c1.status).toBe(0);
    expect(c1.stderr).toContain('HANDOFF_MESSAGE is not a full message id');
    expect(git(repo, 'log', '-1', '--format=%(trailers:key=Handoff-Message,valueonly)')).toBe(forClaude);
    write(repo, 'f.txt', 'one\ntwo\nthree\n');
    const c2 = spawnSync('git', ['commit', '-qam', 'c2'], {
      cwd: repo,
      env: cleanEnv({ HANDOFF_AGENT: 'claude', HANDOFF_MESSAGE: forClaude.toLowerCase() }),
      encoding: 'utf8',
    });
    expect([c2.status, c2.stderr]).toEqual([0, expect.not.stringContaining('HANDOFF_MESSAGE')]);
    expect(git(repo, 'log', '-1', '--format=%(trailers:key=Handoff-Message,valueonly)')).toBe(forClaude);
    expect(blameOf(repo, 'f.txt')[2]).toEqual(['three', 'claude', forClaude]);
  });
});
