/**
 * blame, review, log and replay on histories as people make them: an empty handoff, hunks without context,
 * a final newline, commits thrown away, names ending in spaces, abandoned agent work, a commit recorded
 * late from the spool, a message not synced yet, and hostile names in the HTML replay.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { cleanEnv, cli, commonDir, git, makeRepo, ok, tmpDir } from '../helpers/repo';
import { team } from '../helpers/clones';

function commitAs(agent: string | null, repo: string, msg: string, env: Record<string, string> = {}) {
  const r = spawnSync('git', ['commit', '-qam', msg], {
    cwd: repo,
    env: cleanEnv({ ...(agent ? { HANDOFF_AGENT: agent } : {}), ...env }),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return git(repo, 'rev-parse', 'HEAD');
}

/** A repository with hooks, claude and codex joined, and the given files committed. */
function start(files: Record<string, string>) {
  const repo = makeRepo({ files });
  ok(repo, ['hooks', 'install']);
  ok(repo, ['join'], { agent: 'claude' });
  ok(repo, ['join'], { agent: 'codex' });
  return repo;
}
const write = (repo: string, f: string, text: string) => fs.writeFileSync(path.join(repo, f), text);
const statuses = (r: any) => r.hunks.map((h: any) => [h.file, h.status]);

describe('review judges what landed', () => {
  it('an empty attached diff is nothing to compare, and a verdict on it is recorded', () => {
    const repo = start({ 'f.txt': 'a\nb\n' });
    const m = ok(repo, ['send', 'codex', 'change b', '--json'], { agent: 'claude' }).json.message.id;
    ok(repo, ['work-on', m], { agent: 'codex' });
    write(repo, 'f.txt', 'a\nB\n');
    commitAs('codex', repo, 'B');
    // The tree is clean: the diff attached to the reply is empty.
    const r = ok(repo, ['reply', m, 'done, tests pass', '--attach-diff', '--json'], { agent: 'codex' }).json.message.id;
    expect(ok(repo, ['review', r, '--json']).json.hunks).toEqual([]);
    expect(ok(repo, ['review', r]).stdout).toContain('The attached diff is empty');
    ok(repo, ['review', r, '--approve', '-m', 'ok'], { agent: 'claude' });
    expect(ok(repo, ['review', r, '--json']).json.verdicts.map((v: any) => [v.reviewer, v.verdict])).toEqual([
      ['claude', 'approve'],
    ]);
  });

  it('hunks without context, a final newline, a commit thrown away and a name ending in a space', () => {
    const repo = start({
      'cfg.txt': 'first\nmiddle\nlast\n',
      'eof.txt': 'one\ntwo',
      'notes ': 'a\nb\nc\n',
      'o.txt': '1\n',
    });
    write(repo, 'cfg.txt', 'FIRST\nmiddle\nLAST\n');
    write(repo, 'eof.txt', 'one\ntwo\n');
    write(repo, 'notes ', 'a\nB\nc\n');
    const m = ok(repo, ['send', 'codex', 'three changes', '--attach-diff', '--json'], { agent: 'claude' }).json.message
      .id;
    git(repo, 'checkout', '-q', '--', '.');
    ok(repo, ['work-on', m], { agent: 'codex' });
    // Only the file named with a trailing space lands, with another file.
    write(repo, 'notes ', 'a\nB\nc\n');
    write(repo, 'o.txt', '2\n');
    commitAs('codex', repo, 'notes and o');
    const r = ok(repo, ['review', m, '--json']).json;
    expect(statuses(r).sort()).toEqual([
      ['cfg.txt', 'not_landed'],
      ['eof.txt', 'not_landed'],
      ['notes ', 'landed'],
    ]);
    expect(r.unmentioned).toEqual(['o.txt']);
    // Now all of it lands, in a commit that reset --hard then throws away: nothing landed.
    write(repo, 'cfg.txt', 'FIRST\nmiddle\nLAST\n');
    write(repo, 'eof.txt', 'one\ntwo\n');
    commitAs('codex', repo, 'the rest');
    expect(statuses(ok(repo, ['review', m, '--json']).json).map((x: string[]) => x[1])).toEqual([
      'landed',
      'landed',
      'landed',
    ]);
    git(repo, 'reset', '-q', '--hard', 'HEAD~2');
    const gone = ok(repo, ['review', m, '--json']).json;
    expect([gone.landed.commits, statuses(gone).map((x: string[]) => x[1])]).toEqual([
      [],
      ['not_landed', 'not_landed', 'not_landed'],
    ]);
  });
});

describe('review and replay say what they show', () => {
  it('a landed-changed hunk shows its difference with both sides named; replay --diff none shows no stats', () => {
    const repo = start({ 'f.txt': 'a\nb\nc\nd\ne\n' });
    write(repo, 'f.txt', 'a\nb\nC\nd\ne\n');
    const m = ok(repo, ['send', 'codex', 'c', '--attach-diff', '--json'], { agent: 'claude' }).json.message.id;
    ok(repo, ['work-on', m], { agent: 'codex' });
    write(repo, 'f.txt', 'a\nb\nC!\nd\ne\n');
    commitAs('codex', repo, 'C!');
    const h = ok(repo, ['review', m, '--json']).json.hunks[0];
    expect(h.status).toBe('changed');
    expect(h.difference.split('\n').slice(0, 2)).toEqual(['--- sent', '+++ landed']);
    const items = ok(repo, ['replay', '--diff', 'none', '--json']).json.items;
    expect(items.filter((i: any) => i.type === 'commit').map((i: any) => i.stat)).toEqual([[]]);
    expect(items.filter((i: any) => i.type === 'message').map((i: any) => i.stat)).toEqual([null]);
  });
});

describe('blame and log name the right agent and message', () => {
  it("a person's commit that shares a line with an agent's abandoned branch is not the agent's", () => {
    const repo = start({ 'main.c': 'int main() {\n}\n' });
    const m = ok(repo, ['send', 'codex', 'try an approach', '--json'], { agent: 'claude' }).json.message.id;
    git(repo, 'checkout', '-q', '-b', 'exp');
    ok(repo, ['work-on', m], { agent: 'codex' });
    write(repo, 'main.c', 'int main() {\n    int x = 1;\n    return 0;\n}\n');
    commitAs('codex', repo, 'exp');
    git(repo, 'checkout', '-q', 'main');
    git(repo, 'branch', '-qD', 'exp');
    write(repo, 'main.c', 'int main() {\n    puts("hi");\n    return 0;\n}\n');
    spawnSync('git', ['-c', 'core.hooksPath=/dev/null', 'commit', '-qam', 'print hi'], { cwd: repo, env: cleanEnv() });
    const lines = ok(repo, ['blame', 'main.c', '--json']).json.lines;
    expect(lines.map((l: any) => [l.agent?.name ?? null, l.messages.length])).toEqual([
      [null, 0],
      [null, 0],
      [null, 0],
      [null, 0],
    ]);
  });

  it("a commit recorded late from the spool is its maker's, not the next command's runtime", () => {
    const repo = start({ 'f.txt': 'a\n' });
    // The ledger is busy while a person commits: the hook leaves the commit for the next command.
    const db = new Database(path.join(commonDir(repo), 'handoff', 'ledger.db'));
    db.pragma('busy_timeout = 100');
    db.exec('BEGIN IMMEDIATE');
    write(repo, 'f.txt', 'a\nb\n');
    const c = commitAs(null, repo, 'human commit');
    db.exec('COMMIT');
    db.close();
    expect(
      fs.readdirSync(path.join(commonDir(repo), 'handoff', 'spool')).filter((n) => n.endsWith('.json')),
    ).toHaveLength(1);
    // The next command runs under Claude Code (its marker set): the commit is still the person's.
    ok(repo, ['inbox'], { env: { CLAUDECODE: '1' } });
    const entry = ok(repo, ['log', '-n', '1', '--json']).json.commits[0];
    expect([entry.commit, entry.agent]).toEqual([c, { name: 'test-human', human: true }]);
  });

  it('a message a commit names that is not in this clone yet is named, and --why says so', () => {
    const repo = start({ 'f.txt': 'a\n' });
    const m = ok(repo, ['send', 'codex', 'add b', '--json'], { agent: 'claude' }).json.message.id;
    ok(repo, ['work-on', m], { agent: 'codex' });
    write(repo, 'f.txt', 'a\nb\n');
    commitAs('codex', repo, 'b');
    const clone = tmpDir('handoff-clone-');
    git(clone, 'clone', '-q', repo, '.');
    const line = ok(clone, ['blame', 'f.txt', '--json']).json.lines[1];
    expect([line.agent.name, line.messages]).toEqual([
      'codex',
      [{ id: m, from: '', kind: '', subject: '', missing: true }],
    ]);
    const why = ok(clone, ['blame', 'f.txt', '--why', '2']);
    expect(why.stdout).toContain(`This commit answers ${m}, which is not in this clone: not synced yet`);
    expect(ok(clone, ['blame', 'f.txt']).stdout).toContain('(not synced here)');
  });

  it("log --agent -n counts that agent's commits; replay --path lists removals, deletions and merges", () => {
    const repo = start({ 'f.txt': 'a\nb\nc\n', 'g.txt': 'z\n' });
    write(repo, 'f.txt', 'a\nc\n');
    const removal = commitAs('codex', repo, 'remove b');
    for (let i = 0; i < 3; i++) {
      write(repo, 'h.txt', `${i}\n`);
      git(repo, 'add', 'h.txt');
      commitAs('claude', repo, `claude ${i}`);
    }
    git(repo, 'rm', '-q', 'g.txt');
    const deletion = commitAs('codex', repo, 'delete g');
    expect(ok(repo, ['log', '--agent', 'codex', '-n', '1', '--json']).json.commits.map((e: any) => e.commit)).toEqual([
      deletion,
    ]);
    expect(ok(repo, ['log', '--agent', 'codex', '-n', '2', '--json']).json.commits.map((e: any) => e.commit)).toEqual([
      deletion,
      removal,
    ]);
    const commitsOf = (p: string) =>
      ok(repo, ['replay', '--path', p, '--json'])
        .json.items.filter((i: any) => i.type === 'commit')
        .map((i: any) => i.commit);
    expect(commitsOf('f.txt')).toEqual([removal]);
    expect(commitsOf('g.txt')).toEqual([deletion]);
  });
});

describe('the HTML replay', () => {
  it('shows bidirectional controls in names and bodies as escapes, as the terminal does', () => {
    const repo = start({ 'base.txt': 'x\n' });
    const name = 'invoice\u202efdp.exe';
    write(repo, name, 'hi\n');
    ok(repo, ['send', 'codex', 'ok \u202eexe.fdp\u202c', '--attach-diff'], { agent: 'claude' });
    const out = path.join(tmpDir('handoff-html-'), 'r.html');
    ok(repo, ['replay', '--html', out]);
    const html = fs.readFileSync(out, 'utf8');
    expect(html).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    expect(html).toContain('invoice\\u202efdp.exe');
    expect(html).toContain('ok \\u202eexe.fdp\\u202c');
  });
});

describe('answers across worktrees and clones', () => {
  it('review counts a commit made on a detached HEAD in another worktree, from either worktree', () => {
    const repo = start({ 'f.txt': 'a\nb\nc\n' });
    const w2 = path.join(tmpDir('handoff-wt-'), 'w2');
    git(repo, 'worktree', 'add', '-q', '--detach', w2);
    write(w2, 'f.txt', 'a\nB\nc\n');
    const m = ok(w2, ['send', 'codex', 'b', '--attach-diff', '--json'], { agent: 'claude' }).json.message.id;
    git(w2, 'checkout', '-q', '--', '.');
    ok(w2, ['work-on', m], { agent: 'codex' });
    write(w2, 'f.txt', 'a\nB\nc\n');
    commitAs('codex', w2, 'B');
    for (const dir of [w2, repo]) {
      const r = ok(dir, ['review', m, '--json']).json;
      expect([r.landed.discarded, statuses(r)]).toEqual([[], [['f.txt', 'landed']]]);
    }
  });

  it('blame --why of a guessed link to a message this clone no longer has (its chain dropped)', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    ok(b, ['hooks', 'install']);
    ok(b, ['join'], { agent: 'codex' });
    ok(b, ['sync']);
    ok(a, ['sync']);
    const q = ok(a, ['send', 'codex', 'and c', '--json'], { agent: 'claude' }).json.message.id;
    ok(a, ['sync']);
    ok(b, ['sync']);
    // Read, not pinned: codex's next commit answers q by a guess.
    ok(b, ['read', q], { agent: 'codex' });
    fs.writeFileSync(path.join(b, 'README.md'), '# team\nc\n');
    commitAs('codex', b, 'C');
    const chainA = fs.readFileSync(path.join(commonDir(a), 'handoff', 'clone-id'), 'utf8').trim();
    ok(b, ['sync', '--drop', chainA, '--force']);
    const why = ok(b, ['blame', 'README.md', '--why', '2']);
    expect(why.stdout).toContain(`This commit answers ${q}, which is not in this clone`);
    expect(why.stdout).toContain('is a guess');
  });
});

describe('an attached diff counts files as git does', () => {
  it('a rename is one file changed, though both its names are searchable', () => {
    const repo = start({ 'old-name.txt': 'one\ntwo\nthree\nfour\nfive\n', 'keep.txt': 'k\n' });
    git(repo, 'mv', 'old-name.txt', 'new-name.txt');
    write(repo, 'keep.txt', 'k2\n');
    const sent = ok(repo, ['send', 'codex', 'moved it', '--attach-diff', '--json'], { agent: 'claude' }).json;
    expect(sent.message.diff.files).toBe(2);
    const inbox = ok(repo, ['inbox'], { agent: 'codex' }).stdout;
    expect(inbox).toContain('[diff: 2 files]');
    // Both of the rename's names find the message.
    for (const name of ['old-name', 'new-name'])
      expect(ok(repo, ['search', name, '--json']).json.hits.map((h: any) => h.id)).toEqual([sent.message.id]);
    // Committed as sent, the rename is judged as one: landed, and named a rename.
    ok(repo, ['work-on', sent.message.id], { agent: 'codex' });
    commitAs('codex', repo, 'move');
    const hunks = ok(repo, ['review', sent.message.id, '--json']).json.hunks;
    expect(hunks.map((h: any) => [h.file, h.header, h.status])).toEqual([
      ['keep.txt', '@@ -1,1 +1,1 @@', 'landed'],
      ['new-name.txt', '(renamed from old-name.txt)', 'landed'],
    ]);
  });
});

describe('a submodule in the handoff', () => {
  it("a submodule's new commit, committed as sent, landed; review names it a submodule commit", () => {
    const lib = makeRepo({ files: { 'lib.txt': 'one\n' } });
    const repo = start({ 'top.txt': 'top\n' });
    git(repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', lib, 'sub');
    git(repo, 'commit', '-qm', 'add sub');
    // A new commit in the submodule, and a change beside it.
    fs.writeFileSync(path.join(repo, 'sub', 'lib.txt'), 'two\n');
    git(path.join(repo, 'sub'), 'commit', '-qam', 'two');
    write(repo, 'top.txt', 'top\nmore\n');
    // And a change not committed in the submodule: not in the diff, which says so.
    fs.writeFileSync(path.join(repo, 'sub', 'lib.txt'), 'three\n');
    const sent = ok(repo, ['send', 'codex', 'bump the pointer', '--attach-diff', '--json'], { agent: 'claude' }).json;
    expect(sent.notices).toEqual([
      '--attach-diff: sub has changes not committed in the submodule; the diff records the commit it is at, not those changes.',
    ]);
    const id = sent.message.id;
    ok(repo, ['work-on', id], { agent: 'codex' });
    git(repo, 'add', 'sub', 'top.txt');
    commitAs('codex', repo, 'bump');
    const r = ok(repo, ['review', id, '--json']).json;
    expect(r.hunks.map((h: any) => [h.file, h.header, h.status])).toEqual([
      ['top.txt', '@@ -1,1 +1,2 @@', 'landed'],
      ['sub', '(submodule commit)', 'landed'],
    ]);
  });
});

describe('blame where the file is not in the working tree', () => {
  it("blames HEAD's copy outside a sparse checkout's cone, names a submodule, and takes a name starting with a dash", () => {
    const repo = start({ 'docs/d.md': 'doc line\n', 'src/a.ts': 'a\n', '-dash.txt': 'dash\n' });
    git(repo, 'sparse-checkout', 'set', 'src');
    expect(fs.existsSync(path.join(repo, 'docs', 'd.md'))).toBe(false);
    const b = ok(repo, ['blame', 'docs/d.md', '--json']).json;
    expect([b.file, b.lines.map((l: any) => l.content)]).toEqual(['docs/d.md', ['doc line']]);
    git(repo, 'sparse-checkout', 'disable');
    expect(ok(repo, ['blame', '--json', '--', '-dash.txt']).json.lines.map((l: any) => l.content)).toEqual(['dash']);
    const lib = makeRepo({ files: { 'lib.txt': 'one\n' } });
    git(repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', lib, 'sub');
    git(repo, 'commit', '-qm', 'add sub');
    const r = cli(repo, ['blame', 'sub/lib.txt', '--json']);
    expect([r.status, r.json.error.code, r.json.error.message]).toEqual([
      2,
      'bad_path',
      'sub/lib.txt is inside the submodule sub, whose history is its own: run blame in sub.',
    ]);
  });
});

describe('a partial clone', () => {
  it('log works offline where the patches of old commits would need blobs the clone does not have', () => {
    const origin = makeRepo({ files: { 'f.txt': 'l0\n' } });
    git(origin, 'config', 'uploadpack.allowFilter', 'true');
    for (let i = 1; i < 4; i++) {
      fs.writeFileSync(path.join(origin, 'f.txt'), `l${i}\n`);
      git(origin, 'commit', '-qam', `c${i}`);
    }
    const clone = path.join(tmpDir(), 'partial');
    git(path.dirname(clone), 'clone', '-q', '--filter=blob:none', `file://${origin}`, clone);
    // The remote goes away (offline).
    fs.renameSync(origin, `${origin}-away`);
    const r = ok(clone, ['log', '--json']).json;
    expect(r.commits.map((c: any) => c.subject)).toEqual(['c3', 'c2', 'c1', 'initial']);
  });
});

describe('two agents in two worktrees, and work that landed where no hook ran', () => {
  /** Agent a in the main worktree, b in worktree `b` on branch b; a sends b a diff and puts its tree back. */
  function pair(files: Record<string, string>, change: (repo: string) => void, body: string) {
    const repo = start(files);
    ok(repo, ['join'], { agent: 'a' });
    const wt = path.join(tmpDir('handoff-wt-'), 'b');
    git(repo, 'worktree', 'add', '-q', '-b', 'b', wt);
    ok(wt, ['join'], { agent: 'b' });
    change(repo);
    const id = ok(repo, ['send', 'b', body, '--attach-diff', '--json'], { agent: 'a' }).json.message.id;
    git(repo, 'checkout', '-q', '--', '.');
    git(repo, 'clean', '-qfd');
    ok(wt, ['work-on', id], { agent: 'b' });
    return { repo, wt, id };
  }
  const ten = 'one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n';
  const upper = (repo: string, word: string) =>
    write(
      repo,
      'f.txt',
      fs.readFileSync(path.join(repo, 'f.txt'), 'utf8').replace(`\n${word}\n`, `\n${word.toUpperCase()}\n`),
    );
  const hookless = (cwd: string, ...args: string[]) => {
    const r = spawnSync('git', ['-c', 'core.hooksPath=/dev/null', ...args], {
      cwd,
      env: cleanEnv({ GIT_EDITOR: 'true' }),
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(r.stderr);
  };

  it('review judges a copy made by a rebase without hooks, and a host squash merge once the branch is gone', () => {
    const { repo, wt, id } = pair({ 'f.txt': ten, 'g.txt': 'x\n' }, (r) => upper(r, 'three'), 'uppercase three');
    write(repo, 'g.txt', 'z\n');
    commitAs(null, repo, 'a person, on main');
    upper(wt, 'three');
    const original = commitAs('b', wt, 'THREE');
    hookless(wt, 'rebase', '-q', 'main');
    const copy = git(wt, 'rev-parse', 'HEAD');
    expect(copy).not.toBe(original);
    const r = ok(wt, ['review', id, '--json']).json;
    expect(r.landed.at).toBe(copy);
    expect(r.landed.relinked).toEqual([copy]);
    expect(statuses(r)).toEqual([['f.txt', 'landed']]);
    expect(ok(wt, ['review', id]).stdout).toMatch(/1 of them no hook recorded/);
    // On main: the host squashes branch b (no hook runs), then the branch and its worktree are deleted.
    hookless(repo, 'merge', '-q', '--squash', 'b');
    hookless(repo, 'commit', '-qm', 'Uppercase three (#1)');
    const squash = git(repo, 'rev-parse', 'HEAD');
    git(repo, 'worktree', 'remove', '--force', wt);
    git(repo, 'branch', '-q', '-D', 'b');
    const s = ok(repo, ['review', id, '--json']).json;
    expect(s.landed.at).toBe(squash);
    expect(s.landed.onHead).toBe(true);
    expect(s.summary).toEqual({ landed: 1, changed: 0, not_landed: 0 });
  });

  it("a file the judged commits never touched is not landed, whatever someone else's commit put there", () => {
    const { repo, wt, id } = pair(
      { 'f.txt': ten, 'g.txt': 'x\n' },
      (r) => {
        upper(r, 'three');
        write(r, 'g.txt', 'y\n');
      },
      'uppercase three; g.txt becomes y',
    );
    write(repo, 'g.txt', 'a person rewrote it\n');
    commitAs(null, repo, 'unrelated g.txt change');
    upper(wt, 'three');
    commitAs('b', wt, 'THREE');
    git(wt, 'rebase', '-q', 'main');
    const r = ok(wt, ['review', id, '--json']).json;
    expect(statuses(r)).toEqual([
      ['f.txt', 'landed'],
      ['g.txt', 'not_landed'],
    ]);
    expect(r.hunks[1].difference).toBeNull();
    expect(statuses(ok(wt, ['review', id, '--range', 'main..b', '--json']).json)).toEqual([
      ['f.txt', 'landed'],
      ['g.txt', 'not_landed'],
    ]);
  });

  it('a new file is judged whole: lines added before or after it are a change, and the header is as git writes it', () => {
    for (const [landed, diff] of [
      ['EVIL\nalpha\nbeta\ngamma\n', '+EVIL'],
      ['alpha\nbeta\ngamma\nDROP TABLE users;\n', '+DROP TABLE users;'],
      ['alpha\nEVIL\nbeta\ngamma\n', '+EVIL'],
    ] as const) {
      const { wt, id } = pair({ 'f.txt': 'f\n' }, (r) => write(r, 'new.txt', 'alpha\nbeta\ngamma\n'), 'add new.txt');
      write(wt, 'new.txt', landed);
      git(wt, 'add', 'new.txt');
      commitAs('b', wt, 'new.txt');
      const r = ok(wt, ['review', id, '--json']).json;
      expect(r.hunks.map((h: any) => [h.file, h.header, h.status])).toEqual([
        ['new.txt', '@@ -0,0 +1,3 @@', 'changed'],
      ]);
      const lines = r.hunks[0].difference.split('\n');
      expect(lines).toContain(diff);
      // Nothing sent is missing: no line of it is shown as removed.
      expect(lines.filter((l: string) => l.startsWith('-') && !l.startsWith('---'))).toEqual([]);
    }
  });

  it('a revert since: the count at HEAD says nothing is there any more', () => {
    const { wt, id } = pair({ 'f.txt': ten }, (r) => upper(r, 'three'), 'uppercase three');
    upper(wt, 'three');
    commitAs('b', wt, 'THREE');
    gitAs(wt, 'revert', '--no-edit', 'HEAD');
    const r = ok(wt, ['review', id, '--json']).json;
    expect(r.summary).toEqual({ landed: 1, changed: 0, not_landed: 0 });
    expect(r.atHead).toEqual({
      commit: git(wt, 'rev-parse', 'HEAD'),
      summary: { landed: 0, changed: 0, not_landed: 1 },
    });
    expect(ok(wt, ['review', id]).stdout).toContain('since: 0 as sent, 0 changed, 1 not there');
  });

  it("a person's squash of an agent's commit: log, log --agent and replay agree on who made it and what it answers", () => {
    const { repo, wt, id } = pair({ 'f.txt': ten }, (r) => upper(r, 'three'), 'uppercase three');
    upper(wt, 'three');
    commitAs('b', wt, 'THREE');
    gitAs(repo, 'merge', '-q', '--squash', 'b');
    const squash = commitAs(null, repo, 'squash b');
    const entry = ok(repo, ['log', '-n', '1', '--json']).json.commits[0];
    expect([entry.commit, entry.agent, entry.agents]).toEqual([
      squash,
      { name: 'test-human', human: true },
      [{ name: 'b', human: false }],
    ]);
    expect(ok(repo, ['log', '-n', '1']).stdout).toMatch(/b \(rewritten by human: test-human\)/);
    for (const who of ['test-human', 'b'])
      expect(ok(repo, ['log', '--agent', who, '--json']).json.commits.map((c: any) => c.commit)).toContain(squash);
    const item = ok(repo, ['replay', '--json']).json.items.find((i: any) => i.commit === squash);
    expect([item.agent, item.squashOf, item.answers]).toEqual(['test-human', [{ name: 'b', human: false }], [id]]);
    expect(ok(repo, ['replay', '--no-pager']).stdout).toMatch(
      /by b \(rewritten by human: test-human\): squash b {2}answers/,
    );
  });

  it('replay marks work reset away as discarded, as search does; blame --why on an uncommitted line says so', () => {
    const { wt } = pair({ 'f.txt': ten }, (r) => upper(r, 'three'), 'uppercase three');
    upper(wt, 'three');
    const wrong = commitAs('b', wt, 'wrong attempt');
    git(wt, 'reset', '-q', '--hard', 'HEAD~1');
    const item = ok(wt, ['replay', '--json']).json.items.find((i: any) => i.commit === wrong);
    expect(item.discarded).toBe(true);
    expect(ok(wt, ['replay', '--no-pager']).stdout).toMatch(/wrong attempt .*\(discarded: no branch holds it\)/);
    expect(ok(wt, ['search', 'wrong', '--json']).json.hits.find((h: any) => h.id === wrong).discarded).toBe(true);
    // A commit still on a branch is not discarded.
    upper(wt, 'five');
    const kept = commitAs('b', wt, 'kept');
    expect(ok(wt, ['replay', '--json']).json.items.find((i: any) => i.commit === kept).discarded).toBeUndefined();
    fs.appendFileSync(path.join(wt, 'f.txt'), 'uncommitted\n');
    const why = ok(wt, ['blame', 'f.txt', '--why', '11']).stdout;
    expect(why).toContain('Not committed yet');
    expect(why).not.toMatch(/0{40}/);
  });
});

function gitAs(cwd: string, ...args: string[]) {
  const r = spawnSync('git', args, { cwd, env: cleanEnv({ GIT_EDITOR: 'true' }), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
}
