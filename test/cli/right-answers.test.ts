import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { addWorktree, cleanEnv, cliAsync, commonDir, git, makeRepo, ok } from '../helpers/repo';

const PARSER = ['export function parse(s: string) {', '  return s.split(",");', '}', ''].join('\n');

/** git commit -am as an agent, at a fixed date (agents make several commits in one second). */
function commitAt(agent: string, cwd: string, msg: string, date: string) {
  const r = spawnSync('git', ['commit', '-qam', msg], {
    cwd,
    env: cleanEnv({ HANDOFF_AGENT: agent, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return r;
}

describe('review orders commits by history, not by date', () => {
  for (const [label, d1, d2] of [
    ['in the same second', '2026-01-01T10:00:00Z', '2026-01-01T10:00:00Z'],
    ['when the later commit has an earlier date', '2026-01-01T10:00:05Z', '2026-01-01T10:00:00Z'],
  ] as const) {
    it(`two commits ${label}: the second one, which changed the code, is what landed`, () => {
      const repo = makeRepo({ files: { 'src/parser.ts': PARSER } });
      ok(repo, ['hooks', 'install']);
      ok(repo, ['join'], { agent: 'lead' });
      ok(repo, ['join'], { agent: 'codex' });
      const file = path.join(repo, 'src/parser.ts');
      fs.writeFileSync(file, PARSER.replace('  return s.split(",");', '  if (!s) return [];\n  return s.split(",");'));
      const id = ok(repo, ['send', 'lead', 'empty input', '--attach-diff', '--json'], { agent: 'codex' }).json.message
        .id;
      ok(repo, ['work-on', id], { agent: 'codex' });
      commitAt('codex', repo, 'empty input', d1);
      fs.writeFileSync(
        file,
        PARSER.replace('  return s.split(",");', '  if (s === "") return [];\n  return s.split(",");'),
      );
      commitAt('codex', repo, 'tweak', d2);
      const head = git(repo, 'rev-parse', 'HEAD');
      const r = ok(repo, ['review', id, '--json']).json;
      expect(r.landed.at).toBe(head);
      expect(r.summary).toEqual({ landed: 0, changed: 1, not_landed: 0 });
      expect(r.hunks[0].difference).toContain('+  if (s === "") return [];');
      // Reverting the tweak makes it land as sent again, with no empty "changed".
      fs.writeFileSync(file, PARSER.replace('  return s.split(",");', '  if (!s) return [];\n  return s.split(",");'));
      commitAt('codex', repo, 'revert tweak', d2);
      const again = ok(repo, ['review', id, '--json']).json;
      expect(again.landed.at).toBe(git(repo, 'rev-parse', 'HEAD'));
      expect(again.summary).toEqual({ landed: 1, changed: 0, not_landed: 0 });
    });
  }

  it("commits on two worktrees' diverged branches: the tip on the current branch is what landed", () => {
    const repo = makeRepo({ files: { 'src/parser.ts': PARSER } });
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'lead' });
    const file = path.join(repo, 'src/parser.ts');
    fs.writeFileSync(file, PARSER.replace('  return s.split(",");', '  return s.split(";");'));
    const id = ok(repo, ['send', 'lead', 'semicolons', '--attach-diff', '--json'], { agent: 'codex' }).json.message.id;
    git(repo, 'stash', '-q');
    const wt = addWorktree(repo, 'side');
    ok(wt, ['work-on', id], { agent: 'codex' });
    fs.writeFileSync(
      path.join(wt, 'src/parser.ts'),
      PARSER.replace('  return s.split(",");', '  return s.split("|");'),
    );
    commitAt('codex', wt, 'pipes on side', '2026-01-01T10:00:09Z');
    git(repo, 'stash', 'pop', '-q');
    commitAt('codex', repo, 'semicolons on main', '2026-01-01T10:00:00Z');
    const r = ok(repo, ['review', id, '--json']).json;
    expect(r.landed.at).toBe(git(repo, 'rev-parse', 'HEAD'));
    expect(r.summary.landed).toBe(1);
    const fromSide = ok(wt, ['review', id, '--json']).json;
    expect(fromSide.landed.at).toBe(git(wt, 'rev-parse', 'HEAD'));
    expect(fromSide.summary.changed).toBe(1);
  });
});

describe('identity of humans', () => {
  it("a repository's own user.name wins over the global one", () => {
    const repo = makeRepo();
    git(repo, 'config', 'user.name', 'Repo Person');
    const me = ok(repo, ['whoami', '--json']).json;
    expect(me.name).toBe('repo-person');
    expect(me.via).toBe('git-user');
    // Accents go with their letter and apostrophes join, as a person would spell the name in ASCII.
    for (const [user, name] of [
      ["Ölaf O'Brien", 'olaf-obrien'],
      ['José Núñez', 'jose-nunez'],
      ['Zoë D’Arcy', 'zoe-darcy'],
    ]) {
      git(repo, 'config', 'user.name', user!);
      expect(ok(repo, ['whoami', '--json']).json.name).toBe(name);
    }
  });
});

describe('which handoff a commit answers', () => {
  function setup() {
    const repo = makeRepo({ files: { 'f.txt': 'base\n' } });
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'lead' });
    ok(repo, ['join'], { agent: 'codex' });
    ok(repo, ['join'], { agent: 'claude' });
    return repo;
  }
  const commit = (repo: string, agent: string, text: string) => {
    fs.writeFileSync(path.join(repo, 'f.txt'), text);
    return commitAt(agent, repo, text.trim(), '2026-01-01T10:00:00Z');
  };
  const top = (repo: string) => ok(repo, ['log', '-n', '1', '--json']).json.commits[0];

  it("a cherry-pick of another agent's commit is not linked to what that agent read since", () => {
    const repo = setup();
    git(repo, 'checkout', '-q', '-b', 'side');
    commit(repo, 'claude', 'side work\n');
    git(repo, 'checkout', '-q', 'main');
    const req = ok(repo, ['send', 'claude', 'please do X', '--kind', 'request', '--json'], { agent: 'lead' }).json
      .message.id;
    ok(repo, ['read', req], { agent: 'claude' });
    const r = spawnSync('git', ['cherry-pick', 'side'], {
      cwd: repo,
      env: cleanEnv({ HANDOFF_AGENT: 'codex' }),
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const c = top(repo);
    // The copy keeps its author's name (as a rebase does), and answers nothing it did not answer.
    expect([c.agent.name, c.messages]).toEqual(['claude', []]);
    expect(r.stderr).not.toContain('a guess');
  });

  it('an unrelated ping read after a request does not steal the link; the guess is recorded and said as one', () => {
    const repo = setup();
    const req = ok(repo, ['send', 'codex', 'rewrite the parser', '--json'], { agent: 'lead' }).json.message.id;
    const ping = ok(repo, ['send', 'codex', 'lunch?', '--kind', 'status', '--json'], { agent: 'claude' }).json.message
      .id;
    ok(repo, ['read', '--all'], { agent: 'codex' });
    const r = commit(repo, 'codex', 'parser v2\n');
    const c = top(repo);
    expect(c.messages.map((m: any) => m.id)).toEqual([req]);
    expect(c.messages.map((m: any) => m.id)).not.toContain(ping);
    expect(c.link).toBe('guess');
    // The commit's output says which handoff it was linked to, and that it is a guess.
    const short = ok(repo, ['inbox', '--all', '--json'], { agent: 'codex' }).json.messages.find(
      (m: any) => m.id === req,
    ).shortId;
    expect(r.stderr).toContain(`answering ${short} "rewrite the parser" from lead: a guess`);
    // The human blame marks the guessed id with "?".
    expect(ok(repo, ['blame', 'f.txt']).stdout).toContain(`${short}? rewrite the parser`);
  });

  it('replying to a request with a diff ties the next commits to it, in a trailer, over a newer request read', () => {
    const repo = setup();
    const req = ok(repo, ['send', 'codex', 'rewrite the parser', '--json'], { agent: 'lead' }).json.message.id;
    ok(repo, ['read', req], { agent: 'codex' });
    fs.writeFileSync(path.join(repo, 'f.txt'), 'parser v2\n');
    ok(repo, ['reply', req, 'here is my plan', '--attach-diff'], { agent: 'codex' });
    const other = ok(repo, ['send', 'codex', 'also fix the docs', '--json'], { agent: 'claude' }).json.message.id;
    ok(repo, ['read', other], { agent: 'codex' });
    const r = commit(repo, 'codex', 'parser v2\n');
    const c = top(repo);
    expect([c.messages[0].id, c.link]).toEqual([req, 'reply']);
    expect(git(repo, 'log', '-1', '--format=%B')).toContain(`Handoff-Message: ${req}`);
    expect(r.stderr).toMatch(/answering \w+ "rewrite the parser" from lead \(codex replied to it with a diff\)/);
    // Once codex says it is done, the reply no longer ties the next commits to it.
    ok(repo, ['done', req, '-m', 'landed'], { agent: 'codex' });
    commit(repo, 'codex', 'parser v3\n');
    expect(top(repo).messages.map((m: { id: string }) => m.id)).not.toContain(req);
    expect(git(repo, 'log', '-1', '--format=%B')).not.toContain('Handoff-Message:');
    // work-on pins another one, which wins over the reply.
    ok(repo, ['work-on', other], { agent: 'codex' });
    commit(repo, 'codex', 'docs\n');
    expect([top(repo).messages[0].id, top(repo).link]).toEqual([other, 'pinned']);
  });
});

describe("squash merges keep each line's agent", () => {
  /** A feature branch where claude and codex each add a line (in the same second), then main moves on. */
  function branch() {
    const repo = makeRepo({ files: { 'f.txt': 'base\n' } });
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'lead' });
    const forClaude = ok(repo, ['send', 'claude', 'add the header', '--create', '--json'], { agent: 'lead' }).json
      .message.id;
    const forCodex = ok(repo, ['send', 'codex', 'add the footer', '--create', '--json'], { agent: 'lead' }).json.message
      .id;
    ok(repo, ['work-on', forClaude], { agent: 'claude' });
    ok(repo, ['work-on', forCodex], { agent: 'codex' });
    git(repo, 'checkout', '-q', '-b', 'feature');
    fs.writeFileSync(path.join(repo, 'f.txt'), 'header by claude\nbase\n');
    commitAt('claude', repo, 'header', '2026-01-01T10:00:00Z');
    fs.writeFileSync(path.join(repo, 'f.txt'), 'header by claude\nbase\nfooter by codex\n');
    commitAt('codex', repo, 'footer', '2026-01-01T10:00:00Z');
    git(repo, 'checkout', '-q', 'main');
    fs.writeFileSync(path.join(repo, 'other.txt'), 'x\n');
    git(repo, 'add', 'other.txt');
    git(repo, 'commit', '-qm', 'meanwhile on main');
    return { repo, forClaude, forCodex };
  }
  const lines = (repo: string) =>
    ok(repo, ['blame', 'f.txt', '--json']).json.lines.map((l: any) => [
      l.content,
      l.agent?.name ?? null,
      l.messages[0]?.id ?? null,
    ]);

  it("git merge --squash committed with git's default message, by a human with the hooks", () => {
    const { repo, forClaude, forCodex } = branch();
    git(repo, 'merge', '-q', '--squash', 'feature');
    const r = spawnSync('git', ['commit', '-q', '--no-edit'], {
      cwd: repo,
      env: cleanEnv({ GIT_EDITOR: 'true' }),
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(git(repo, 'log', '-1', '--format=%s')).toBe('Squashed commit of the following:');
    expect(lines(repo)).toEqual([
      ['header by claude', 'claude', forClaude],
      ['base', null, null],
      ['footer by codex', 'codex', forCodex],
    ]);
  });

  it('git merge --squash with an edited message, by a human with the hooks', () => {
    const { repo, forClaude, forCodex } = branch();
    git(repo, 'merge', '-q', '--squash', 'feature');
    const r = spawnSync('git', ['commit', '-q', '-m', 'Header and footer'], {
      cwd: repo,
      env: cleanEnv(),
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(lines(repo)).toEqual([
      ['header by claude', 'claude', forClaude],
      ['base', null, null],
      ['footer by codex', 'codex', forCodex],
    ]);
  });

  it('a host-style squash (no hooks, edited message, branch deleted) re-links each line by content', () => {
    const { repo, forClaude, forCodex } = branch();
    const env = cleanEnv({ HANDOFF_HOOKS: '0' });
    spawnSync('git', ['merge', '-q', '--squash', 'feature'], { cwd: repo, env });
    const r = spawnSync('git', ['-c', 'core.hooksPath=/dev/null', 'commit', '-qm', 'Header and footer (#12)'], {
      cwd: repo,
      env,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    git(repo, 'branch', '-q', '-D', 'feature');
    const json = ok(repo, ['blame', 'f.txt', '--json']).json.lines;
    expect(json.map((l: any) => [l.content, l.agent?.name ?? null, l.messages[0]?.id ?? null])).toEqual([
      ['header by claude', 'claude', forClaude],
      ['base', null, null],
      ['footer by codex', 'codex', forCodex],
    ]);
    expect(json[0].via).toBe('content');
    // The main branch's own, unrelated commits are not re-linked to anything.
    expect(
      ok(repo, ['log', '--json']).json.commits.find((c: any) => c.subject === 'meanwhile on main').agent,
    ).toMatchObject({ human: true });
  });

  it('two agents made the same change in the same second: a squash without hooks goes to the branch it names', () => {
    for (const squashed of ['claude', 'codex']) {
      const repo = makeRepo({ files: { 'f.txt': 'a\nb\nc\n' } });
      ok(repo, ['hooks', 'install']);
      // Each in its own worktree and branch; the one squashed committed first, so "the newest" would be wrong.
      const order = squashed === 'claude' ? ['claude', 'codex'] : ['codex', 'claude'];
      for (const agent of order) {
        const wt = addWorktree(repo, `${agent}-br`);
        fs.writeFileSync(path.join(wt, 'f.txt'), 'a\nB\nc\n');
        commitAt(agent, wt, 'fix b', '2027-01-15T08:00:00Z');
      }
      const env = cleanEnv({ HANDOFF_HOOKS: '0' });
      spawnSync('git', ['merge', '-q', '--squash', `${squashed}-br`], { cwd: repo, env });
      const r = spawnSync('git', ['-c', 'core.hooksPath=/dev/null', 'commit', '-q', '--no-edit'], {
        cwd: repo,
        env: { ...env, GIT_EDITOR: 'true' },
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      const line = ok(repo, ['blame', 'f.txt', '-L', '2,2', '--json']).json.lines[0];
      expect([line.content, line.agent?.name]).toEqual(['B', squashed]);
    }
  });
});

describe('liveness survives PID reuse', () => {
  it('an agent whose process died is not live when an unrelated process now has its pid', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const waiting = cliAsync(repo, ['wait', '--timeout', '60'], { agent: 'codex' });
    const live = () => ok(repo, ['agents', '--json']).json.agents.find((a: any) => a.name === 'codex')?.live;
    for (let i = 0; i < 200 && !live(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(live()).toBe(true);
    waiting.kill('SIGKILL');
    await waiting.done;
    // Hand the dead process's presence row to a live, unrelated process (what the kernel does when it
    // reuses a pid): same agent, same recorded start time, a running pid.
    const other = spawn('sleep', ['30']);
    try {
      const db = new Database(path.join(commonDir(repo), 'handoff', 'ledger.db'));
      const n = db.prepare('UPDATE presence SET pid = ? WHERE agent = ?').run(other.pid, 'codex').changes;
      db.close();
      expect(n).toBe(1);
      expect(live()).toBe(false);
    } finally {
      other.kill('SIGKILL');
    }
  });
});
