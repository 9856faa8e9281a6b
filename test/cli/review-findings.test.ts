/** Regressions for what an outside review of the first hour found. */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cleanEnv, cli, git, makeRepo, ok, tmpDir } from '../helpers/repo';
import { team } from '../helpers/clones';

const gitAs = (agent: string | undefined, cwd: string, ...args: string[]) => {
  const r = spawnSync('git', args, {
    cwd,
    env: cleanEnv({ HANDOFF_AGENT: agent, GIT_EDITOR: 'true' }),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r;
};

/** A repository with hooks and a branch `feat` where codex adds a line at the top and claude one at the end. */
function featureBranch(): string {
  const repo = makeRepo({ files: { 'f.txt': 'base\n' } });
  ok(repo, ['hooks', 'install']);
  git(repo, 'checkout', '-q', '-b', 'feat');
  fs.writeFileSync(path.join(repo, 'f.txt'), 'codex top\nbase\n');
  gitAs('codex', repo, 'commit', '-qam', 'top');
  fs.writeFileSync(path.join(repo, 'f.txt'), 'codex top\nbase\nclaude line\n');
  gitAs('claude', repo, 'commit', '-qam', 'line');
  git(repo, 'checkout', '-q', 'main');
  return repo;
}

describe('what an outside review found', () => {
  it('after sync --setup, plain git push works in a clone that has written nothing yet', () => {
    const t = team();
    const b = t.clone('b');
    ok(b, ['sync', '--setup']);
    git(b, 'commit', '-q', '--allow-empty', '-m', 'x');
    const r = spawnSync('git', ['push', '-q'], { cwd: b, env: cleanEnv(), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    ok(b, ['send', 'alice', 'now there is a chain', '--create'], { agent: 'bob' });
    git(b, 'push', '-q');
    expect(git(t.remote, 'for-each-ref', '--format=%(refname)', 'refs/handoff/chains/')).toMatch(
      /^refs\/handoff\/chains\/[0-9A-Z]{26}$/,
    );
    // sync --undo alone is refused (it belongs to --setup), and changes nothing.
    const u = cli(b, ['sync', '--undo', '--json']);
    expect(u.status).toBe(2);
    expect(u.json.error.message).toMatch(/--setup --undo/);
  });

  it('a reply with a diff to a status line links the next commits to the request behind it', () => {
    const repo = makeRepo({ files: { 'a.txt': 'a\n' } });
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'codex' });
    const req = ok(repo, ['send', 'codex', 'make b', '--json'], { agent: 'lead' }).json.message.id;
    const ack = ok(repo, ['reply', req, 'on it'], { agent: 'codex' });
    expect(ack.status).toBe(0);
    const status = ok(repo, ['send', 'codex', 'fyi CI green', '--kind', 'status', '--reply-to', req, '--json'], {
      agent: 'lead',
    }).json.message.id;
    fs.writeFileSync(path.join(repo, 'a.txt'), 'b\n');
    ok(repo, ['reply', status, 'wip', '--attach-diff'], { agent: 'codex' });
    gitAs('codex', repo, 'commit', '-qam', 'b');
    const c = ok(repo, ['log', '-n', '1', '--json']).json.commits[0];
    expect([c.messages[0].id, c.link]).toEqual([req, 'reply']);
  });

  it("a squash merge keeps each line's agent after it is amended", () => {
    const repo = featureBranch();
    git(repo, 'merge', '-q', '--squash', 'feat');
    gitAs('codex', repo, 'commit', '-qm', 'squash');
    gitAs('codex', repo, 'commit', '--amend', '-qm', 'reworded');
    const agents = ok(repo, ['blame', 'f.txt', '--json']).json.lines.map((l: any) => [
      l.content,
      l.agent?.name ?? null,
    ]);
    expect(agents).toEqual([
      ['codex top', 'codex'],
      ['base', null],
      ['claude line', 'claude'],
    ]);
  });

  it('interleaved broadcasts are not a back-and-forth; read --all guesses the newest request, not the most urgent', () => {
    const repo = makeRepo();
    git(repo, 'config', 'handoff.loopGuard', '4/600');
    for (const n of ['claude', 'codex', 'gemini']) ok(repo, ['join'], { agent: n });
    for (let i = 0; i < 6; i++) {
      ok(repo, ['send', 'all', `progress c${i}`, '--kind', 'status'], { agent: 'claude' });
      ok(repo, ['send', 'all', `progress x${i}`, '--kind', 'status'], { agent: 'codex' });
    }
    expect(ok(repo, ['inbox', '--json'], { agent: 'claude' }).json.notices).toEqual([]);
    const older = ok(repo, ['send', 'gemini', 'older request', '--json'], { agent: 'claude' }).json.message.id;
    const newer = ok(repo, ['send', 'gemini', 'newer', '--json'], { agent: 'codex' }).json.message.id;
    ok(repo, ['send', 'gemini', 'urgent but oldest?', '--priority', 'urgent'], { agent: 'claude' });
    expect(older).not.toBe(newer);
    ok(repo, ['read', '--all'], { agent: 'gemini' });
    const w = ok(repo, ['work-on', '--json'], { agent: 'gemini' }).json;
    expect(ok(repo, ['show', w.message, '--json']).json.message.body).toBe('urgent but oldest?');
  });

  it('file names git quotes (non-ASCII, quotes, spaces) show as themselves in replay', () => {
    const repo = makeRepo();
    for (const f of ['naïve.txt', 'sp ace.txt', 'z"q.txt']) fs.writeFileSync(path.join(repo, f), 'x\n');
    ok(repo, ['send', 'bob', 'files', '--attach-diff', '--create'], { agent: 'lead' });
    const stat = ok(repo, ['replay', '--json'])
      .json.items[0].stat.map((s: any) => s.file)
      .sort();
    expect(stat).toEqual(['naïve.txt', 'sp ace.txt', 'z"q.txt']);
    const file = path.join(tmpDir(), 'r.html');
    ok(repo, ['replay', '--html', file]);
    const html = fs.readFileSync(file, 'utf8');
    expect(html).toContain('<code>naïve.txt</code>');
    expect(html).toContain('<code>z&quot;q.txt</code>');
    expect(html).not.toContain('\\303');
  });

  it('--json before the command, refs with dots in review --range, and ids printed with a "?"', () => {
    const repo = makeRepo({ files: { 'f.txt': 'a\n' } });
    const j = cli(repo, ['--json', 'inbx']);
    expect(j.status).toBe(2);
    expect(j.json.error.details.suggestions).toContain('inbox');
    git(repo, 'tag', 'v1.0');
    fs.writeFileSync(path.join(repo, 'f.txt'), 'b\n');
    const id = ok(repo, ['send', 'bob', 'b', '--attach-diff', '--create', '--json'], { agent: 'lead' }).json.message;
    git(repo, 'commit', '-qam', 'b');
    git(repo, 'tag', 'v2.0');
    expect(ok(repo, ['review', id.id, '--range', 'v1.0..v2.0', '--json']).json.summary.landed).toBe(1);
    expect(ok(repo, ['review', id.id, '--range', 'v1.0..', '--json']).json.summary.landed).toBe(1);
    expect(ok(repo, ['show', `${id.shortId}?`, '--json']).json.message.id).toBe(id.id);
  });

  it("a commit's rename shows as one file renamed, in replay's stat, full diff and page, and --path finds it by either name", () => {
    const repo = makeRepo({ files: { 'old.txt': Array.from({ length: 30 }, (_, i) => `${i + 1}`).join('\n') + '\n' } });
    ok(repo, ['hooks', 'install']);
    fs.mkdirSync(path.join(repo, 'dir ü'));
    git(repo, 'mv', 'old.txt', 'dir ü/new 2.txt');
    const moved = path.join(repo, 'dir ü', 'new 2.txt');
    fs.writeFileSync(moved, fs.readFileSync(moved, 'utf8').replace('\n5\n', '\nfive\n'));
    gitAs('gemini', repo, 'commit', '-qam', 'mv');
    const item = ok(repo, ['replay', '--json']).json.items.find((i: any) => i.type === 'commit');
    expect(item.stat).toEqual([{ file: 'dir ü/new 2.txt', from: 'old.txt', added: 1, removed: 1 }]);
    expect(ok(repo, ['replay', '--no-pager']).stdout).toContain('old.txt -> dir ü/new 2.txt +1 -1');
    const full = ok(repo, ['replay', '--diff', 'full', '--no-pager']).stdout;
    expect(full).toContain('rename to dir ü/new 2.txt');
    expect(full).not.toContain('\\303');
    for (const p of ['old.txt', 'dir ü/new 2.txt'])
      expect(ok(repo, ['replay', '--path', p, '--json']).json.items.map((i: any) => i.type)).toEqual(['commit']);
    const file = path.join(tmpDir(), 'r.html');
    ok(repo, ['replay', '--html', file]);
    expect(fs.readFileSync(file, 'utf8')).toContain('<code>old.txt → dir ü/new 2.txt</code>');
  });
});

describe('a squash merge picked elsewhere', () => {
  it("a cherry-pick of a squash keeps each line's agent", () => {
    const repo = featureBranch();
    git(repo, 'checkout', '-q', '-b', 'pr');
    git(repo, 'merge', '-q', '--squash', 'feat');
    gitAs('codex', repo, 'commit', '-qm', 'squash');
    const squash = git(repo, 'rev-parse', 'HEAD');
    git(repo, 'checkout', '-q', 'main');
    gitAs('codex', repo, 'cherry-pick', squash);
    expect(
      ok(repo, ['blame', 'f.txt', '--json']).json.lines.map((l: any) => [l.content, l.agent?.name ?? null]),
    ).toEqual([
      ['codex top', 'codex'],
      ['base', null],
      ['claude line', 'claude'],
    ]);
  });
});

describe('review where a rewrite was undone, and hunks at the ends of a file', () => {
  const lines = Array.from({ length: 20 }, (_, i) => `l${i + 1}`).join('\n') + '\n';
  /** A repository with hooks, codex joined, and a handoff from claude of `edit` applied to f.txt. */
  function handoff(edit: (text: string) => string) {
    const repo = makeRepo({ files: { 'f.txt': lines } });
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'codex' });
    const file = path.join(repo, 'f.txt');
    fs.writeFileSync(file, edit(lines));
    const id = ok(repo, ['send', 'codex', 'these lines', '--attach-diff', '--json'], { agent: 'claude' }).json.message
      .id;
    git(repo, 'checkout', '-q', '--', 'f.txt');
    ok(repo, ['work-on', id], { agent: 'codex' });
    return { repo, id, file };
  }
  const summary = (repo: string, id: string) => {
    const r = ok(repo, ['review', id, '--json']).json;
    return { summary: r.summary, statuses: r.hunks.map((h: any) => h.status), discarded: r.landed.discarded };
  };

  it('an amend or a rebase undone by reset: the commit the branch holds again is judged', () => {
    const { repo, id, file } = handoff((t) => t.replace('l5\n', 'L5\n'));
    fs.writeFileSync(file, lines.replace('l5\n', 'L5\n'));
    gitAs('codex', repo, 'commit', '-qam', 'L5');
    // The rewrites reset away are named as discarded; what is judged is the commit the branch holds.
    const landed = { summary: { landed: 1, changed: 0, not_landed: 0 }, statuses: ['landed'] };
    expect(summary(repo, id)).toMatchObject({ ...landed, discarded: [] });
    gitAs('codex', repo, 'commit', '-q', '--amend', '-m', 'L5 reworded');
    git(repo, 'reset', '-q', '--hard', 'HEAD@{1}');
    expect(summary(repo, id)).toMatchObject(landed);
    // Rebased (a new base under it), then the rebase undone.
    const mine = git(repo, 'rev-parse', 'HEAD');
    git(repo, 'checkout', '-q', '-b', 'other', 'HEAD~1');
    fs.writeFileSync(path.join(repo, 'g.txt'), 'g\n');
    git(repo, 'add', 'g.txt');
    gitAs(undefined, repo, 'commit', '-qm', 'g');
    git(repo, 'checkout', '-q', 'main');
    gitAs('codex', repo, 'rebase', '-q', 'other');
    expect(git(repo, 'rev-parse', 'HEAD')).not.toBe(mine);
    git(repo, 'reset', '-q', '--hard', 'ORIG_HEAD');
    git(repo, 'branch', '-q', '-D', 'other');
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(mine);
    expect(summary(repo, id)).toMatchObject(landed);
    // Reset away altogether: not judged, and named.
    git(repo, 'reset', '-q', '--hard', 'HEAD~1');
    const gone = summary(repo, id);
    expect(gone.statuses).toEqual(['not_landed']);
    expect(gone.discarded.length).toBeGreaterThan(0);
  });

  it('a hunk on the first or last line that did not land is not landed, whatever was added beyond it', () => {
    const sent = lines.replace(/^l1$/m, 'L1').replace('l10\n', 'L10\n').replace('l20\n', 'L20\n');
    const { repo, id, file } = handoff(() => sent);
    // Only the middle line lands, with a header above the first line and a footer below the last.
    fs.writeFileSync(file, `// header\n${lines.replace('l10\n', 'L10\n')}// footer\n`);
    gitAs('codex', repo, 'commit', '-qam', 'middle only');
    expect(summary(repo, id).statuses).toEqual(['not_landed', 'landed', 'not_landed']);
    // All three as sent.
    fs.writeFileSync(file, sent);
    gitAs('codex', repo, 'commit', '-qam', 'the rest');
    expect(summary(repo, id).statuses).toEqual(['landed', 'landed', 'landed']);
    // A header and a footer landed beside the changed ends: those ends landed changed (the file's ends are
    // their context, as a line added inside a hunk changes it).
    fs.writeFileSync(file, `// header\n${sent}// footer\n`);
    gitAs('codex', repo, 'commit', '-qam', 'ends');
    expect(summary(repo, id).statuses).toEqual(['changed', 'landed', 'changed']);
    // The first line landed otherwise: changed.
    fs.writeFileSync(file, sent.replace('L1\n', 'L1 (better)\n'));
    gitAs('codex', repo, 'commit', '-qam', 'better');
    expect(summary(repo, id).statuses).toEqual(['changed', 'landed', 'landed']);
  });

  it('an edit of a first line that landed is landed, though the same lines recur further down the file', () => {
    const section = '[section]\nenabled = false\ntimeout = 30\nretries = 3\n';
    const text = `${section}mode = a\nx1\nx2\nx3\nx4\n${section}`;
    const repo = makeRepo({ files: { 'conf.ini': text } });
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'codex' });
    const file = path.join(repo, 'conf.ini');
    const renamed = text.replace('[section]', '[main]');
    fs.writeFileSync(file, renamed);
    const id = ok(repo, ['send', 'codex', 'rename the first section', '--attach-diff', '--json'], { agent: 'claude' })
      .json.message.id;
    ok(repo, ['work-on', id], { agent: 'codex' });
    gitAs('codex', repo, 'commit', '-qam', 'renamed');
    expect(summary(repo, id).statuses).toEqual(['landed']);
  });

  it('a first or last line not edited is not landed, and one edited is landed, though a block was added near it', () => {
    const base = 'function a() {\n  return 1;\n}\n\nfunction b() {\n  return 1;\n}\n\nmodule.exports = { a, b };\n';
    const fnC = 'function c() {\n  return 1;\n}\n\n';
    const repo = makeRepo({ files: { 'm.js': base, 'f.txt': 'old first\n}\n' } });
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'codex' });
    const m = path.join(repo, 'm.js');
    const f = path.join(repo, 'f.txt');
    fs.writeFileSync(m, base.replace('{ a, b }', '{ a, b, version: 2 }'));
    fs.writeFileSync(f, 'new first\n}\n');
    const id = ok(repo, ['send', 'codex', 'export the version; rename the first', '--attach-diff', '--json'], {
      agent: 'claude',
    }).json.message.id;
    git(repo, 'checkout', '-q', '--', '.');
    ok(repo, ['work-on', id], { agent: 'codex' });
    const statuses = () => {
      const r = ok(repo, ['review', id, '--json']).json;
      return Object.fromEntries(r.hunks.map((h: any) => [h.file, h.status]));
    };
    // A function added above the last line, another above the first; neither edit made.
    fs.writeFileSync(m, base.replace('module.exports', `${fnC}module.exports`));
    fs.writeFileSync(f, 'function h() {\n}\nold first\n}\n');
    gitAs('codex', repo, 'commit', '-qam', 'added functions only');
    expect(statuses()).toEqual({ 'm.js': 'not_landed', 'f.txt': 'not_landed' });
    // Now the edits too.
    fs.writeFileSync(
      m,
      base.replace('module.exports', `${fnC}module.exports`).replace('{ a, b }', '{ a, b, version: 2 }'),
    );
    fs.writeFileSync(f, 'new first\n}\nfunction h() {\n}\n');
    gitAs('codex', repo, 'commit', '-qam', 'and the edits');
    expect(statuses()).toEqual({ 'm.js': 'landed', 'f.txt': 'landed' });
  });
});

describe('review of a handoff no commit is attributed to', () => {
  it("the sender's own commit of its diff is judged at HEAD: landed as sent; one never committed is not landed", () => {
    const repo = makeRepo({ files: { 'parser.ts': '1\n2\n3\n4\n5\n' } });
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'codex' });
    // The README's flow: claude hands its change over with the diff, then commits it itself.
    fs.writeFileSync(path.join(repo, 'parser.ts'), '1\n2\nthree\n4\n5\n');
    const sent = ok(repo, ['send', 'codex', 'parser done, please review', '--attach-diff', '--json'], {
      agent: 'claude',
    }).json.message.id as string;
    gitAs('claude', repo, 'commit', '-qam', 'parser');
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    const r = ok(repo, ['review', sent, '--json'], { agent: 'codex' }).json;
    expect(r.landed).toMatchObject({ commits: [], at: head, byHead: true });
    expect(r.summary).toEqual({ landed: 1, changed: 0, not_landed: 0 });
    expect(ok(repo, ['review', sent], { agent: 'codex' }).stdout).toMatch(
      /against HEAD \([0-9a-f]{10}\): no commit is attributed to this handoff[^\n]*\n1 landed as sent, 0 landed changed, 0 not landed/,
    );
    // A second handoff, never committed, while HEAD moves on with other work: not landed, at HEAD.
    fs.writeFileSync(path.join(repo, 'parser.ts'), '1\n2\nthree\nfour\n5\n');
    const other = ok(repo, ['send', 'codex', 'and line 4', '--attach-diff', '--json'], { agent: 'claude' }).json.message
      .id as string;
    git(repo, 'checkout', '-q', '--', 'parser.ts');
    fs.writeFileSync(path.join(repo, 'notes.md'), 'n\n');
    git(repo, 'add', 'notes.md');
    gitAs(undefined, repo, 'commit', '-qm', 'notes');
    const never = ok(repo, ['review', other, '--json'], { agent: 'codex' }).json;
    expect([never.landed.byHead, never.summary]).toEqual([true, { landed: 0, changed: 0, not_landed: 1 }]);
    // A range is judged as given, not as HEAD.
    const ranged = ok(repo, ['review', sent, '--range', 'HEAD~1..HEAD', '--json'], { agent: 'codex' }).json;
    expect([ranged.landed.byHead, ranged.landed.range]).toEqual([undefined, 'HEAD~1..HEAD']);
  });
});

describe('--attach-diff and checkout in unusual repositories', () => {
  it('a changed or new file whose name is not UTF-8 is refused by name, nothing written; an orphan branch is said as such', () => {
    const repo = makeRepo({ files: { 'ok.txt': '1\n' } });
    ok(repo, ['join'], { agent: 'codex' });
    const bad = Buffer.concat([Buffer.from(path.join(repo, 'a')), Buffer.from([0xff]), Buffer.from('.txt')]);
    fs.writeFileSync(bad, 'new\n');
    const before = git(repo, 'for-each-ref', 'refs/handoff');
    const r = cli(repo, ['send', 'codex', 'hi', '--attach-diff', '--json'], { agent: 'claude' });
    expect([r.status, r.json.error.code]).toEqual([2, 'path_not_utf8']);
    expect(r.json.error.message).toContain('"a\\377.txt"');
    expect(git(repo, 'for-each-ref', 'refs/handoff')).toBe(before);
    fs.rmSync(bad);
    git(repo, 'checkout', '-q', '--orphan', 'fresh');
    const orphan = cli(repo, ['send', 'codex', 'hi', '--attach-diff', '--json'], { agent: 'claude' });
    expect(orphan.json.error.code).toBe('no_commits');
    expect(orphan.json.error.message).toMatch(/a branch with no commits/);
  });

  it('the snapshot holds what git add would store: carriage returns an auto conversion leaves alone, core.fileMode false', () => {
    const repo = makeRepo({ files: { 'keep.txt': 'a\r\nb\r\n', 'forced.txt': 'a\r\n', 'lf.txt': 'a\n' } });
    fs.writeFileSync(path.join(repo, '.gitattributes'), '* text=auto\nforced.txt text\n');
    git(repo, 'add', '.gitattributes');
    git(repo, 'commit', '-qm', 'attributes');
    ok(repo, ['join'], { agent: 'codex' });
    fs.appendFileSync(path.join(repo, 'keep.txt'), 'c\r\n');
    fs.appendFileSync(path.join(repo, 'forced.txt'), 'b\r\n');
    fs.appendFileSync(path.join(repo, 'lf.txt'), 'b\r\n');
    fs.writeFileSync(path.join(repo, 'run.sh'), 'echo\n', { mode: 0o755 });
    git(repo, 'config', 'core.fileMode', 'false');
    // What git add stores, in a copy of the index (the user's stays as it is).
    const index = path.join(tmpDir(), 'index');
    fs.copyFileSync(path.join(repo, '.git', 'index'), index);
    const env = { ...cleanEnv(), GIT_INDEX_FILE: index };
    spawnSync('git', ['add', 'keep.txt', 'forced.txt', 'lf.txt', 'run.sh'], { cwd: repo, env });
    const staged = spawnSync('git', ['ls-files', '-s', 'keep.txt', 'forced.txt', 'lf.txt', 'run.sh'], {
      cwd: repo,
      env,
      encoding: 'utf8',
    }).stdout;
    const indexBefore = fs.readFileSync(path.join(repo, '.git', 'index'));
    const id = ok(repo, ['send', 'codex', 'eol', '--attach-diff', '--json'], { agent: 'claude' }).json.message.diff
      .snapshot;
    const inSnapshot = git(repo, 'ls-tree', id, 'keep.txt', 'forced.txt', 'lf.txt', 'run.sh');
    const entries = (text: string, re: RegExp) =>
      text
        .trim()
        .split('\n')
        .map((l) => re.exec(l)!.slice(1).join(' '))
        .sort();
    expect(entries(inSnapshot, /^(\d+) blob ([0-9a-f]+)\t(.*)$/)).toEqual(
      entries(staged, /^(\d+) ([0-9a-f]+) 0\t(.*)$/),
    );
    // The file whose index copy has carriage returns kept them; the one converted lost them.
    expect(git(repo, 'cat-file', 'blob', `${id}:keep.txt`)).toBe('a\r\nb\r\nc'); // (trimmed)
    expect(git(repo, 'cat-file', 'blob', `${id}:lf.txt`)).toBe('a\nb');
    expect(fs.readFileSync(path.join(repo, '.git', 'index')).equals(indexBefore)).toBe(true);
  });

  it("checkout gives the whole snapshot in a sparse checkout, refuses a directory inside any worktree (also '..x'), and --clean leaves the user's worktrees alone", () => {
    const repo = makeRepo({ files: { 'a/x': '1\n', 'b/y': '1\n' } });
    ok(repo, ['join'], { agent: 'codex' });
    fs.appendFileSync(path.join(repo, 'a/x'), '2\n');
    fs.appendFileSync(path.join(repo, 'b/y'), '2\n');
    git(repo, 'sparse-checkout', 'set', 'a');
    const id = ok(repo, ['send', 'codex', 'both', '--attach-diff', '--json'], { agent: 'claude' }).json.message.id;
    const out = path.join(tmpDir(), 'co');
    ok(repo, ['checkout', id, out], { agent: 'codex' });
    expect(fs.readFileSync(path.join(out, 'b/y'), 'utf8')).toBe('1\n2\n');
    expect(fs.readFileSync(path.join(out, 'a/x'), 'utf8')).toBe('1\n2\n');
    // The user's own worktree, elsewhere, with a commit only it holds, its directory moved away for now.
    const mine = path.join(tmpDir(), 'mine');
    git(repo, 'worktree', 'add', '-q', '--detach', mine);
    const dotted = cli(repo, ['checkout', id, './..snap', '--json'], { agent: 'codex' });
    expect(dotted.json.error.code).toBe('dir_inside_worktree');
    const inOther = cli(repo, ['checkout', id, path.join(mine, 'sub'), '--json'], { agent: 'codex' });
    expect(inOther.json.error.code).toBe('dir_inside_worktree');
    fs.renameSync(mine, `${mine}.away`);
    fs.rmSync(out, { recursive: true, force: true });
    const cleaned = ok(repo, ['checkout', '--clean', '--json'], { agent: 'codex' }).json;
    expect(cleaned.removed).toEqual([out]);
    const listed = git(repo, 'worktree', 'list', '--porcelain');
    expect(listed).toContain(`worktree ${mine}\n`);
    expect(listed).not.toContain(`worktree ${out}\n`);
    // The main worktree stays sparse.
    expect(git(repo, 'sparse-checkout', 'list').trim()).toBe('a');
  });
});
