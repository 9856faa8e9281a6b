import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { addWorktree, cleanEnv, cli, git, makeRepo, ok, tmpDir } from '../helpers/repo';

const PARSER = [
  'export function parse(s: string) {',
  '  return s.split(",");',
  '}',
  '',
  'export const A = 1;',
  'export const B = 2;',
  '',
].join('\n');

function commitAs(agent: string, repo: string, msg: string) {
  const r = spawnSync('git', ['commit', '-qam', msg], {
    cwd: repo,
    env: cleanEnv({ HANDOFF_AGENT: agent }),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
}

/** Three handoffs: one landed exactly, one edited before committing, one never committed. */
function scenario() {
  const repo = makeRepo({ files: { 'src/parser.ts': PARSER, 'src/other.ts': 'export const x = 1;\n' } });
  ok(repo, ['hooks', 'install']);
  ok(repo, ['join'], { agent: 'lead' });
  ok(repo, ['join'], { agent: 'codex' });
  const w = (text: string) => fs.writeFileSync(path.join(repo, 'src/parser.ts'), text);

  // 1. Landed exactly as sent.
  w(PARSER.replace('  return s.split(",");', '  if (!s) return [];\n  return s.split(",");'));
  const exact = ok(
    repo,
    ['send', 'lead', 'empty input handled', '--attach-diff', '--kind', 'review_request', '--json'],
    { agent: 'codex' },
  ).json.message.id;
  ok(repo, ['work-on', exact], { agent: 'codex' });
  commitAs('codex', repo, 'empty input');

  // 2. Sent, then edited before committing; also touches a file the handoff did not mention.
  const before2 = fs.readFileSync(path.join(repo, 'src/parser.ts'), 'utf8');
  w(before2.replace('export const A = 1;', 'export const A = 10;'));
  const edited = ok(repo, ['send', 'lead', 'A is now 10', '--attach-diff', '--json'], { agent: 'codex' }).json.message
    .id;
  w(before2.replace('export const A = 1;', 'export const A = 11;'));
  fs.writeFileSync(path.join(repo, 'src/other.ts'), 'export const x = 2;\n');
  ok(repo, ['work-on', edited], { agent: 'codex' });
  commitAs('codex', repo, 'A');

  // 3. Sent but never committed.
  const before3 = fs.readFileSync(path.join(repo, 'src/parser.ts'), 'utf8');
  w(before3.replace('export const B = 2;', 'export const B = 20;'));
  const never = ok(repo, ['send', 'lead', 'B is now 20', '--attach-diff', '--json'], { agent: 'codex' }).json.message
    .id;
  git(repo, 'checkout', '--', 'src/parser.ts');
  return { repo, exact, edited, never };
}

/** The scenario, with the never-committed handoff then committed as sent by codex on a branch `feat`. */
function neverLandsOnFeat() {
  const { repo, never } = scenario();
  ok(repo, ['work-on', never], { agent: 'codex' });
  git(repo, 'checkout', '-q', '-b', 'feat');
  const p = path.join(repo, 'src/parser.ts');
  fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replace('export const B = 2;', 'export const B = 20;'));
  commitAs('codex', repo, 'B as sent');
  return { repo, never, p };
}

describe('review', () => {
  it('classifies a handoff that landed exactly, one changed before commit, and one never committed', () => {
    const { repo, exact, edited, never } = scenario();
    const r1 = ok(repo, ['review', exact, '--json']).json;
    expect(r1.summary).toEqual({ landed: 1, changed: 0, not_landed: 0 });
    expect(r1.landed.commits).toHaveLength(1);
    const r2 = ok(repo, ['review', edited, '--json']).json;
    expect(r2.summary).toEqual({ landed: 0, changed: 1, not_landed: 0 });
    expect(r2.hunks[0].difference).toContain('-export const A = 10;');
    expect(r2.hunks[0].difference).toContain('+export const A = 11;');
    expect(r2.unmentioned).toEqual(['src/other.ts']);
    const r3 = ok(repo, ['review', never, '--json']).json;
    expect(r3.summary).toEqual({ landed: 0, changed: 0, not_landed: 1 });
    expect(r3.landed.commits).toEqual([]);
    // A range works too: the whole history since the first commit contains the first two.
    const first = git(repo, 'rev-list', '--max-parents=0', 'HEAD');
    expect(ok(repo, ['review', exact, '--range', `${first}..HEAD`, '--json']).json.summary.landed).toBe(1);
    expect(ok(repo, ['review', never, '--range', `${first}..HEAD`, '--json']).json.summary.not_landed).toBe(1);
    const human = ok(repo, ['review', edited]).stdout;
    expect(human).toMatch(/landed changed +src\/parser.ts/);
    expect(human).toContain('Changed but not in the handoff: src/other.ts');
  });

  it('two agents on two branches, then a merge: judged at the merge, none left out', () => {
    const repo = makeRepo({ files: { 'f.txt': 'a\nb\nc\nd\ne\nf\ng\nh\n' } });
    ok(repo, ['hooks', 'install']);
    for (const a of ['codex', 'gemini']) ok(repo, ['join'], { agent: a });
    fs.writeFileSync(path.join(repo, 'f.txt'), 'A\nb\nc\nd\ne\nf\ng\nH\n');
    const id = ok(repo, ['send', 'codex,gemini', 'A and H', '--kind', 'request', '--attach-diff', '--json'], {
      agent: 'claude',
    }).json.message.id;
    git(repo, 'checkout', '-q', '--', '.');
    const side = addWorktree(repo, 'side');
    const commitIn = (dir: string, agent: string, text: string) => {
      fs.writeFileSync(path.join(dir, 'f.txt'), text);
      ok(dir, ['work-on', id], { agent });
      const env = cleanEnv({ HANDOFF_AGENT: agent });
      expect(spawnSync('git', ['commit', '-qam', agent], { cwd: dir, env }).status).toBe(0);
    };
    commitIn(repo, 'codex', 'A\nb\nc\nd\ne\nf\ng\nh\n');
    commitIn(side, 'gemini', 'a\nb\nc\nd\ne\nf\ng\nH\n');
    const geminis = git(side, 'rev-parse', 'HEAD');
    // Each line moves on after its handoff commit, by people, before the merge.
    for (const [dir, name] of [
      [repo, 'main.txt'],
      [side, 'side.txt'],
    ] as const) {
      fs.writeFileSync(path.join(dir, name), 'x\n');
      git(dir, 'add', name);
      git(dir, 'commit', '-qm', `later ${name}`);
    }
    const before = ok(repo, ['review', id, '--json']).json;
    expect(before.landed.elsewhere).toEqual([geminis]);
    git(repo, 'merge', '-q', '--no-edit', 'side');
    const merge = git(repo, 'rev-parse', 'HEAD');
    fs.writeFileSync(path.join(repo, 'after.txt'), 'y\n');
    git(repo, 'add', 'after.txt');
    git(repo, 'commit', '-qm', 'after the merge');
    const after = ok(repo, ['review', id, '--json']).json;
    expect(after.landed.at).toBe(merge);
    expect(after.landed.elsewhere).toEqual([]);
    expect(after.landed.commits).toHaveLength(2);
    expect(after.summary).toEqual({ landed: 1, changed: 0, not_landed: 0 });
    expect(ok(repo, ['review', id]).stdout).toContain('(the commit on this branch that brought them all in)');
  });

  it('a commit rebased and then pruned by git gc is judged as what it became', () => {
    const repo = makeRepo({ files: { 'f.txt': 'a\nb\nc\n' } });
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'codex' });
    fs.writeFileSync(path.join(repo, 'f.txt'), 'a\nb\nc\nd\n');
    const id = ok(repo, ['send', 'codex', 'add d', '--kind', 'request', '--attach-diff', '--json'], {
      agent: 'claude',
    }).json.message.id;
    ok(repo, ['work-on', id], { agent: 'codex' });
    const env = cleanEnv({ HANDOFF_AGENT: 'codex' });
    expect(spawnSync('git', ['commit', '-qam', 'add d'], { cwd: repo, env }).status).toBe(0);
    fs.writeFileSync(path.join(repo, 'o.txt'), 'x\n');
    git(repo, 'add', 'o.txt');
    git(repo, 'commit', '-qm', 'other');
    // Swap the two commits: the handoff's commit is rewritten, and the old one pruned.
    const swap = path.join(tmpDir('handoff-seq-'), 'swap.sh');
    fs.writeFileSync(swap, '#!/bin/sh\ngrep ^pick "$1" > "$1.p"; { sed -n 2p "$1.p"; sed -n 1p "$1.p"; } > "$1"\n', {
      mode: 0o755,
    });
    const rebased = spawnSync('git', ['rebase', '-q', '-i', 'HEAD~2'], {
      cwd: repo,
      env: { ...env, GIT_SEQUENCE_EDITOR: swap },
    });
    expect(rebased.status).toBe(0);
    const before = ok(repo, ['review', id, '--json']).json;
    git(repo, 'reflog', 'expire', '--expire=now', '--all');
    git(repo, 'gc', '-q', '--prune=now');
    const after = ok(repo, ['review', id, '--json']).json;
    expect(after.summary).toEqual({ landed: 1, changed: 0, not_landed: 0 });
    expect(after.landed.commits).toEqual(before.landed.commits);
    expect(after.landed.commits).toEqual([git(repo, 'rev-parse', 'HEAD')]);
    // And after a rebuild from git.
    ok(repo, ['rebuild']);
    expect(ok(repo, ['review', id, '--json']).json.summary).toEqual({ landed: 1, changed: 0, not_landed: 0 });
  });

  it('follows a file renamed after the handoff landed, in the commits judged and at HEAD', () => {
    const repo = makeRepo({ files: { 'f.txt': 'a\nb\nc\n', 'h.txt': 'x\ny\nz\n' } });
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'codex' });
    fs.writeFileSync(path.join(repo, 'f.txt'), 'a\nb\nc\nd\n');
    fs.writeFileSync(path.join(repo, 'h.txt'), 'x\ny\nz\nw\n');
    const id = ok(repo, ['send', 'codex', 'add d and w', '--kind', 'request', '--attach-diff', '--json'], {
      agent: 'claude',
    }).json.message.id;
    ok(repo, ['work-on', id], { agent: 'codex' });
    const commit = (msg: string) =>
      expect(
        spawnSync('git', ['commit', '-qam', msg], { cwd: repo, env: cleanEnv({ HANDOFF_AGENT: 'codex' }) }).status,
      ).toBe(0);
    commit('add d and w');
    // codex, still on the handoff, renames f.txt: judged at that commit.
    git(repo, 'mv', 'f.txt', 'g.txt');
    commit('rename');
    const r = ok(repo, ['review', id, '--json']).json;
    expect(r.summary).toEqual({ landed: 2, changed: 0, not_landed: 0 });
    expect(r.unmentioned).toEqual([]);
    // A person renames h.txt afterwards: at HEAD it still stands.
    git(repo, 'mv', 'h.txt', 'k.txt');
    git(repo, 'commit', '-qm', 'rename h');
    const again = ok(repo, ['review', id, '--json']).json;
    expect(again.hunks.map((h: any) => [h.file, h.status, h.atHead])).toEqual([
      ['f.txt', 'landed', null],
      ['h.txt', 'landed', null],
    ]);
  });

  it('judges a binary file and a mode change by what landed: as sent, changed, or not at all', () => {
    const repo = makeRepo();
    fs.writeFileSync(path.join(repo, 'b.bin'), Buffer.from([0, 1]));
    fs.writeFileSync(path.join(repo, 'c.bin'), Buffer.from([0, 1]));
    fs.writeFileSync(path.join(repo, 'run.sh'), 'echo\n');
    fs.writeFileSync(path.join(repo, 'go.sh'), 'echo\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'files');
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'codex' });
    fs.writeFileSync(path.join(repo, 'b.bin'), Buffer.from([0, 2, 83]));
    fs.writeFileSync(path.join(repo, 'c.bin'), Buffer.from([0, 2, 83]));
    fs.chmodSync(path.join(repo, 'run.sh'), 0o755);
    fs.chmodSync(path.join(repo, 'go.sh'), 0o755);
    const id = ok(repo, ['send', 'codex', 'new bins, chmod', '--kind', 'request', '--attach-diff', '--json'], {
      agent: 'claude',
    }).json.message.id;
    // What lands: b.bin as sent, c.bin otherwise, go.sh made executable, run.sh left as it was.
    fs.writeFileSync(path.join(repo, 'c.bin'), Buffer.from([0, 3, 79]));
    fs.chmodSync(path.join(repo, 'run.sh'), 0o644);
    ok(repo, ['work-on', id], { agent: 'codex' });
    const c = spawnSync('git', ['commit', '-qam', 'bins'], { cwd: repo, env: cleanEnv({ HANDOFF_AGENT: 'codex' }) });
    expect(c.status).toBe(0);
    const r = ok(repo, ['review', id, '--json']).json;
    expect(Object.fromEntries(r.hunks.map((h: any) => [h.file, h.status]))).toEqual({
      'b.bin': 'landed',
      'c.bin': 'changed',
      'go.sh': 'landed',
      'run.sh': 'not_landed',
    });
    // At HEAD, b.bin reverted since: said so.
    fs.writeFileSync(path.join(repo, 'b.bin'), Buffer.from([0, 1]));
    git(repo, 'commit', '-qam', 'revert b');
    const again = ok(repo, ['review', id, '--json']).json.hunks.find((h: any) => h.file === 'b.bin');
    expect([again.status, again.atHead]).toEqual(['landed', 'not_landed']);
  });

  it('judges files whose names hold a newline, a tab or quotes, and prints each name on one line', () => {
    const repo = makeRepo();
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'codex' });
    const names = ['new\nline.txt', 'tab\there.txt', 'say "hi".txt', 'dir\nname/inner.txt'];
    fs.mkdirSync(path.join(repo, 'dir\nname'));
    for (const n of names) fs.writeFileSync(path.join(repo, n), `content of ${JSON.stringify(n)}\n`);
    const id = ok(repo, ['send', 'codex', 'add them', '--kind', 'request', '--attach-diff', '--json'], {
      agent: 'claude',
    }).json.message.id;
    ok(repo, ['work-on', id], { agent: 'codex' });
    git(repo, 'add', '-A');
    spawnSync('git', ['commit', '-qm', 'add them'], { cwd: repo, env: cleanEnv({ HANDOFF_AGENT: 'codex' }) });
    const r = ok(repo, ['review', id, '--json']).json;
    expect(r.summary).toEqual({ landed: 4, changed: 0, not_landed: 0 });
    expect(r.hunks.map((h: any) => h.file).sort()).toEqual([...names].sort());
    const human = ok(repo, ['review', id]).stdout.split('\n');
    for (const shown of ['new\\nline.txt', 'tab\\there.txt', 'dir\\nname/inner.txt'])
      expect(human.some((l) => l.startsWith('landed as sent') && l.includes(shown))).toBe(true);
    // A file changed before the commit is judged changed, newline and all.
    fs.appendFileSync(path.join(repo, 'new\nline.txt'), 'more\n');
    const edit = ok(repo, ['send', 'codex', 'one more line', '--kind', 'request', '--attach-diff', '--json'], {
      agent: 'claude',
    }).json.message.id;
    fs.appendFileSync(path.join(repo, 'new\nline.txt'), 'and another\n');
    ok(repo, ['work-on', edit], { agent: 'codex' });
    spawnSync('git', ['commit', '-qam', 'edit'], { cwd: repo, env: cleanEnv({ HANDOFF_AGENT: 'codex' }) });
    expect(ok(repo, ['review', edit, '--json']).json.summary).toEqual({ landed: 0, changed: 1, not_landed: 0 });
    const replay = ok(repo, ['replay', '--no-pager']).stdout;
    expect(replay).toContain('new\\nline.txt +1 -0');
  });

  it('says how a landed hunk stands at HEAD when HEAD has moved on: reverted, then edited', () => {
    const { repo, exact } = scenario();
    const before = ok(repo, ['review', exact, '--json']).json;
    expect(before.hunks.map((h: any) => [h.status, h.atHead])).toEqual([['landed', null]]);
    git(repo, 'revert', '--no-edit', git(repo, 'log', '--format=%H', '--grep=empty input', '-n', '1'));
    const reverted = ok(repo, ['review', exact, '--json']).json;
    expect(reverted.landed.at).toBe(before.landed.at);
    expect(reverted.hunks.map((h: any) => [h.status, h.atHead])).toEqual([['landed', 'not_landed']]);
    expect(ok(repo, ['review', exact]).stdout).toContain('(at HEAD since: not landed)');
    // Back, as sent: nothing to say.
    git(repo, 'revert', '--no-edit', 'HEAD');
    expect(ok(repo, ['review', exact, '--json']).json.hunks.map((h: any) => h.atHead)).toEqual([null]);
  });

  it('judges the history of the commit it compares with: a commit for the handoff on an unmerged branch is left out, and named', () => {
    const { repo, edited } = scenario();
    const wt = addWorktree(repo, 'side');
    fs.writeFileSync(path.join(wt, 'experiment.ts'), 'export const e = 1;\n');
    git(wt, 'add', 'experiment.ts');
    commitAs('codex', wt, 'experiment'); // codex still works on the edited handoff
    const side = git(wt, 'rev-parse', 'HEAD');
    // main goes on too, so the two have diverged.
    fs.writeFileSync(path.join(repo, 'src/other.ts'), 'export const x = 3;\n');
    commitAs('codex', repo, 'other again');
    const r = ok(repo, ['review', edited, '--json']).json;
    expect(r.landed.at).toBe(git(repo, 'rev-parse', 'HEAD'));
    expect(r.landed.elsewhere).toEqual([side]);
    expect(r.landed.commits).not.toContain(side);
    expect(r.unmentioned).toEqual(['src/other.ts']);
    expect(ok(repo, ['review', edited]).stdout).toContain(`left out, on other branches: ${side.slice(0, 10)}`);
  });

  it('a commit amended after it answered the handoff is judged as its amended form, from any branch', () => {
    const { repo, never, p } = neverLandsOnFeat();
    const first = git(repo, 'rev-parse', 'HEAD');
    fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replace('export const B = 20;', 'export const B = 21;'));
    const amend = spawnSync('git', ['commit', '-qa', '--amend', '--no-edit'], {
      cwd: repo,
      env: cleanEnv({ HANDOFF_AGENT: 'codex' }),
      encoding: 'utf8',
    });
    expect(amend.status, amend.stderr).toBe(0);
    const amended = git(repo, 'rev-parse', 'HEAD');
    for (const branch of ['feat', 'main']) {
      git(repo, 'checkout', '-q', branch);
      const r = ok(repo, ['review', never, '--json']).json;
      expect([branch, r.landed.at, r.summary]).toEqual([branch, amended, { landed: 0, changed: 1, not_landed: 0 }]);
      expect(r.landed.commits).not.toContain(first);
      expect(r.landed.elsewhere).toEqual([]);
    }
  });

  it('a commit rebased, reworded by a person, then squash-merged is judged as what it became each time', () => {
    const { repo, never } = neverLandsOnFeat();
    const judged = () => ok(repo, ['review', never, '--json']).json;
    expect(judged().summary).toEqual({ landed: 1, changed: 0, not_landed: 0 });
    // main moves on; feat is rebased onto it (by a person: no agent).
    git(repo, 'checkout', '-q', 'main');
    fs.writeFileSync(path.join(repo, 'README.md'), 'main moved\n');
    git(repo, 'add', 'README.md');
    commitAs('claude', repo, 'main moves');
    git(repo, 'checkout', '-q', 'feat');
    git(repo, 'rebase', '-q', 'main');
    let r = judged();
    expect([r.landed.at, r.summary]).toEqual([
      git(repo, 'rev-parse', 'HEAD'),
      { landed: 1, changed: 0, not_landed: 0 },
    ]);
    // replay names what the commit became.
    const original = ok(repo, ['replay', '--json']).json.items.find(
      (i: any) => i.type === 'commit' && i.subject === 'B as sent' && i.rewrittenInto.length,
    );
    expect(original.rewrittenInto).toEqual([git(repo, 'rev-parse', 'HEAD')]);
    expect(ok(repo, ['replay', '--no-pager']).stdout).toContain(
      `${original.commit.slice(0, 10)} by codex: B as sent  answers`,
    );
    expect(ok(repo, ['replay', '--no-pager']).stdout).toContain(
      `(since rewritten as ${git(repo, 'rev-parse', 'HEAD').slice(0, 10)})`,
    );
    // A person rewords it.
    git(repo, 'commit', '-q', '--amend', '-m', 'B, as sent');
    r = judged();
    expect([r.landed.at, r.summary]).toEqual([
      git(repo, 'rev-parse', 'HEAD'),
      { landed: 1, changed: 0, not_landed: 0 },
    ]);
    expect(r.landed.onHead).toBe(true);
    // From main, before the merge: judged at feat's commit, and said to be on another branch only.
    const onFeat = git(repo, 'rev-parse', 'HEAD');
    git(repo, 'checkout', '-q', 'main');
    r = judged();
    expect([r.landed.at, r.landed.onHead]).toEqual([onFeat, false]);
    expect(ok(repo, ['review', never]).stdout).toContain(
      `judged at ${onFeat.slice(0, 10)} (on another branch: this branch does not contain it)`,
    );
    // Squash-merged into main.
    git(repo, 'merge', '-q', '--squash', 'feat');
    git(repo, 'commit', '-qm', 'squash feat');
    r = judged();
    expect([r.landed.at, r.summary]).toEqual([
      git(repo, 'rev-parse', 'HEAD'),
      { landed: 1, changed: 0, not_landed: 0 },
    ]);
  });

  it('judges a hunk where its own context stands: the same lines elsewhere in the file do not count', () => {
    const lines = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `${from + i}`).join('\n') + '\n';
    const A = 'function a(x) {\n  if (!x) return null;\n  console.log(x);\n  return x;\n}\n';
    const B = 'function b(y) {\n  console.log(y);\n  return y;\n}\n';
    const C = 'function c(z) {\n  const w = z;\n  return w;\n}\n';
    const base = A + lines(15) + B + lines(15, 16) + '\n' + C;
    const repo = makeRepo({ files: { 'f.js': base } });
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'lead' });
    const f = path.join(repo, 'f.js');
    /** Sends `sent` as a handoff, then commits `landed` for it; returns the review's hunk statuses. */
    const judge = (sent: string, landed: string) => {
      fs.writeFileSync(f, sent);
      const id = ok(repo, ['send', 'lead', 'for review', '--attach-diff', '--json'], { agent: 'codex' }).json.message
        .id;
      ok(repo, ['work-on', id], { agent: 'codex' });
      fs.writeFileSync(f, landed);
      commitAs('codex', repo, 'for the handoff');
      const r = ok(repo, ['review', id, '--json']).json;
      git(repo, 'reset', '-q', '--hard', 'HEAD~1');
      return r.hunks.map((h: any) => h.status);
    };
    const unrelated = base.replace('}\n1\n', '}\none\n');
    // An added line that a() already has: not landed when b() did not get it.
    const guardB = base.replace('function b(y) {\n', 'function b(y) {\n  if (!x) return null;\n');
    expect(judge(guardB, unrelated)).toEqual(['not_landed']);
    expect(judge(guardB, guardB)).toEqual(['landed']);
    // A removed line that a() keeps: landed when b() lost it.
    const noLogInB = base.replace('  console.log(y);\n', '');
    expect(judge(noLogInB, noLogInB)).toEqual(['landed']);
    expect(judge(noLogInB, unrelated)).toEqual(['not_landed']);
    // A hunk at the end of the file whose trailing context ("}") closes b() too.
    const inlineW = base.replace('  const w = z;\n  return w;\n', '  return z;\n');
    expect(judge(inlineW, unrelated)).toEqual(['not_landed']);
    expect(judge(inlineW, inlineW)).toEqual(['landed']);
  });

  it("the sender's own verdict reaches who worked on the handoff: the agents whose commits answer it, else its recipients", () => {
    const repo = makeRepo({ files: { 'a.txt': 'base\n' } });
    ok(repo, ['hooks', 'install']);
    for (const a of ['claude', 'codex', 'gemini']) ok(repo, ['join'], { agent: a });
    // claude hands a change to codex and gemini, with the diff it wants; codex commits part of it.
    fs.writeFileSync(path.join(repo, 'a.txt'), 'BASE\n');
    const id = ok(repo, ['send', 'codex,gemini', 'change a.txt', '--attach-diff', '--json'], { agent: 'claude' }).json
      .message.id;
    git(repo, 'checkout', '--', 'a.txt');
    fs.writeFileSync(path.join(repo, 'a.txt'), 'other\n');
    ok(repo, ['work-on', id], { agent: 'codex' });
    commitAs('codex', repo, 'codex partial');
    const r = ok(repo, ['review', id.slice(-7), '--request-changes', '-m', 'not what I sent'], { agent: 'claude' });
    expect(r.stdout).toContain('codex will find it in their inbox');
    const got = ok(repo, ['inbox', '--json'], { agent: 'codex' }).json.messages;
    expect(got.map((m: any) => [m.kind, m.body, m.replyTo]).sort()).toEqual([
      ['request', 'change a.txt', null],
      ['review_response', '[request changes] not what I sent', id],
    ]);
    // gemini committed nothing for it: not told; nor is claude, its author.
    expect(ok(repo, ['inbox', '--json'], { agent: 'gemini' }).json.messages.map((m: any) => m.id)).toEqual([id]);
    expect(ok(repo, ['inbox', '--json'], { agent: 'claude' }).json.messages).toEqual([]);
    // Nothing committed for a handoff: its recipients are told.
    fs.writeFileSync(path.join(repo, 'a.txt'), 'third\n');
    const idle = ok(repo, ['send', 'gemini', 'try this', '--attach-diff', '--json'], { agent: 'claude' }).json.message
      .id;
    git(repo, 'checkout', '--', 'a.txt');
    const c = ok(repo, ['review', idle, '--comment', '-m', 'any news?', '--json'], { agent: 'claude' }).json;
    expect(c.verdict.to).toEqual(['gemini']);
  });

  it("verdicts reach the author's inbox, show in --list, and sync like every event", () => {
    const { repo, exact, edited, never } = scenario();
    const bad = spawnSync(
      process.execPath,
      [path.resolve(__dirname, '../../bin/run.js'), 'review', edited, '--request-changes', '--json'],
      { cwd: repo, env: cleanEnv({ HANDOFF_AGENT: 'lead' }), encoding: 'utf8' },
    );
    expect(bad.status).toBe(2);
    ok(repo, ['review', exact, '--approve', '-m', 'ship it'], { agent: 'lead' });
    ok(repo, ['review', edited, '--request-changes', '-m', 'A must be 10'], { agent: 'lead' });
    const inbox = ok(repo, ['inbox', '--json'], { agent: 'codex' }).json.messages;
    expect(inbox.map((m: any) => [m.kind, m.body, m.replyTo])).toEqual([
      ['review_response', '[request changes] A must be 10', edited],
      ['review_response', '[approve] ship it', exact],
    ]);
    const list = ok(repo, ['review', '--list', '--json']).json.reviews;
    expect(list.map((x: any) => [x.message, x.state])).toEqual([
      [never, 'open'],
      [edited, 'request_changes'],
      [exact, 'approve'],
    ]);
    expect(ok(repo, ['review', exact, '--json']).json.verdicts).toEqual([
      expect.objectContaining({ reviewer: 'lead', verdict: 'approve' }),
    ]);
    // A later comment does not undo a decision; the text table prints short ids.
    ok(repo, ['review', edited, '--comment', '-m', 'typo in the test name'], { agent: 'lead' });
    ok(repo, ['review', never, '--comment', '-m', 'looking'], { agent: 'lead' });
    expect(ok(repo, ['review', '--list', '--json']).json.reviews.map((x: any) => [x.message, x.state])).toEqual([
      [never, 'comment'],
      [edited, 'request_changes'],
      [exact, 'approve'],
    ]);
    const table = ok(repo, ['review', '--list']).stdout;
    expect(table).toContain(` ${edited.slice(-7)} `);
    expect(table).not.toContain(edited);
    // Verdicts live in git: they survive a rebuild.
    ok(repo, ['rebuild']);
    expect(ok(repo, ['review', '--list', '--json']).json.reviews.map((x: any) => x.state)).toEqual([
      'comment',
      'request_changes',
      'approve',
    ]);
  });
});

describe('replay', () => {
  it('--html does not write over a file that is not a replay page; without script the filters are hidden and times stay whole', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    ok(repo, ['send', 'codex', 'hello'], { agent: 'claude' });
    const notes = path.join(tmpDir(), 'notes.txt');
    fs.writeFileSync(notes, 'my notes\n');
    const r = cli(repo, ['replay', '--html', notes, '--json']);
    expect([r.status, r.json.error.code]).toEqual([1, 'cannot_write_file']);
    expect(fs.readFileSync(notes, 'utf8')).toBe('my notes\n');
    // A page replay wrote before is written again.
    const page = path.join(path.dirname(notes), 'replay.html');
    ok(repo, ['replay', '--html', page]);
    ok(repo, ['send', 'codex', 'second'], { agent: 'claude' });
    ok(repo, ['replay', '--html', page]);
    const html = fs.readFileSync(page, 'utf8');
    expect(html).toContain('second');
    // The filters work only with script: hidden until it runs (it marks the page js-on).
    expect(html).toContain('html:not(.js-on) .js{display:none}');
    expect(html.match(/<label class="js">/g)).toHaveLength(2);
    expect(html).toContain("document.documentElement.className+=' js-on'");
  });

  it('interleaves messages, diffs and attributed commits in order, and filters', () => {
    const { repo, exact, edited } = scenario();
    const r = ok(repo, ['replay', '--json']).json;
    const kinds = r.items.map((i: any) => (i.type === 'message' ? `m:${i.message.body}` : `c:${i.subject}`));
    expect(kinds.filter((k: string) => !k.startsWith('c:initial'))).toEqual([
      'm:empty input handled',
      'c:empty input',
      'm:A is now 10',
      'c:A',
      'm:B is now 20',
    ]);
    const commitA = r.items.find((i: any) => i.type === 'commit' && i.subject === 'A');
    expect(commitA.answers).toEqual([edited]);
    // Commit stats count what git counts: additions and deletions.
    expect(commitA.stat).toEqual([
      { file: 'src/other.ts', added: 1, removed: 1 },
      { file: 'src/parser.ts', added: 1, removed: 1 },
    ]);
    expect(commitA.link).toBe('pinned');
    expect(r.items.find((i: any) => i.type === 'message' && i.message.id === exact).stat).toEqual([
      { file: 'src/parser.ts', added: 1, removed: 0 },
    ]);
    // Filters: a thread, an agent, a path.
    expect(ok(repo, ['replay', exact, '--json']).json.items.map((i: any) => i.type)).toEqual(['message', 'commit']);
    ok(repo, ['send', 'lead', 'unrelated'], { agent: 'gemini' });
    expect(ok(repo, ['replay', '--agent', 'gemini', '--json']).json.items.map((i: any) => i.message.body)).toEqual([
      'unrelated',
    ]);
    expect(ok(repo, ['replay', '--agent', 'codex', '--json']).json.items).toHaveLength(5);
    expect(
      ok(repo, ['replay', '--path', 'src/other.ts', '--json']).json.items.map((i: any) => i.subject ?? i.message.body),
    ).toEqual(['A']);
    // A path is taken as git takes it, from the current directory; one outside, or a bad name, is refused.
    const sub = path.join(repo, 'src');
    const fromSub = (args: string[]) =>
      ok(sub, ['replay', ...args, '--json']).json.items.map((i: any) => i.subject ?? i.message.body);
    expect(fromSub(['--path', 'other.ts'])).toEqual(['A']);
    expect(fromSub(['--path', './other.ts/'])).toEqual(['A']);
    expect(fromSub(['--path', '../src/other.ts'])).toEqual(['A']);
    expect(fromSub(['--path', ':/src/other.ts'])).toEqual(['A']);
    // A glob matches as it does in reservations.
    expect(fromSub(['--path', 'oth*.ts'])).toEqual(['A']);
    expect(fromSub(['--path', ':/src/o*'])).toEqual(['A']);
    expect(fromSub(['--path', ':/docs/*'])).toEqual([]);
    expect(fromSub(['--path', '..'])).toEqual(fromSub([]));
    expect(cli(repo, ['replay', '--path', '../x', '--json']).json.error.code).toBe('bad_path');
    expect(cli(repo, ['replay', '--agent', '../x', '--json']).json.error.code).toBe('invalid_name');
    expect(ok(repo, ['replay', '--since', '2999-01-01', '--json']).json.items).toEqual([]);
    // Terminal output when piped has no colour, and shows diffs in full on request.
    const full = ok(repo, ['replay', '--diff', 'full']).stdout;
    expect(full).not.toContain('\u001b[');
    expect(full).toContain('+export const A = 10;');
    expect(full).toMatch(/● commit [0-9a-f]{10} by codex: A {2}answers/);
  });

  it('writes a self-contained HTML page that a real browser renders, filters, and that runs no injected code', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'victim' });
    ok(repo, ['join'], { agent: 'other' });
    const evil = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> & "quotes"';
    fs.writeFileSync(path.join(repo, 'README.md'), `# test\n${evil}\n`);
    ok(repo, ['send', 'victim', evil, '--attach-diff'], { agent: 'attacker' });
    ok(repo, ['send', 'other', 'a plain message'], { agent: 'victim' });
    ok(repo, ['send', 'victim', 'a third message'], { agent: 'other' });
    const file = path.join(tmpDir(), 'replay.html');
    expect(ok(repo, ['replay', '--html', file]).stdout).toMatch(/wrote .*replay.html \(3 items\)/);
    const html = fs.readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<script>window/);
    expect(html).not.toMatch(/<img src=x/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain('&lt;script&gt;window.__pwned = 1&lt;/script&gt;');

    const exe = '/usr/bin/chromium';
    if (!fs.existsSync(exe)) {
      console.warn('Skipping the browser part: /usr/bin/chromium is not installed (apt-get install chromium).');
      return;
    }
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: exe,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const pageObj = await browser.newPage();
      const requests: string[] = [];
      pageObj.on('request', (r) => {
        if (!r.url().startsWith('file:')) requests.push(r.url());
      });
      await pageObj.goto(`file://${file}`);
      await pageObj.screenshot({ path: path.join(path.dirname(file), 'replay.png'), fullPage: true });
      expect(fs.statSync(path.join(path.dirname(file), 'replay.png')).size).toBeGreaterThan(1000);
      // Every message is listed, the injected markup shows as text and ran nothing.
      expect(await pageObj.locator('article.message').count()).toBe(3);
      expect(await pageObj.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await pageObj.locator('article.message .body').first().textContent()).toBe(evil);
      expect(await pageObj.locator('article img').count()).toBe(0);
      // The agent filter hides what does not involve the agent.
      await pageObj.selectOption('#f-agent', 'attacker');
      expect(await pageObj.locator('article.message:not(.hidden)').count()).toBe(1);
      expect(await pageObj.locator('#shown').textContent()).toBe('1');
      await pageObj.selectOption('#f-agent', '');
      expect(await pageObj.locator('article.message:not(.hidden)').count()).toBe(3);
      // Permalinks: each message has an anchor.
      const id = await pageObj.locator('article.message').first().getAttribute('id');
      expect(id).toMatch(/^m-[0-9A-Z]{26}$/);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('the page reads like a pull request conversation, at 1400 px and at 420 px, without horizontal scrolling', async () => {
    const exe = '/usr/bin/chromium';
    if (!fs.existsSync(exe)) {
      console.warn('Skipping: /usr/bin/chromium is not installed (apt-get install chromium).');
      return;
    }
    const { repo } = scenario();
    ok(repo, ['join'], { agent: 'lead' });
    const long = `export const VERY_LONG_NAME_${'X'.repeat(300)} = 1;`;
    fs.writeFileSync(path.join(repo, 'src/other.ts'), `${long}\n`);
    const req = ok(
      repo,
      [
        'send',
        'codex',
        `Please take this over: ${'a-very-long-word-'.repeat(20)}`,
        '--attach-diff',
        '--kind',
        'review_request',
        '--json',
      ],
      { agent: 'lead' },
    ).json.message;
    ok(repo, ['read', req.id], { agent: 'codex' });
    const answer = ok(repo, ['reply', req.id, 'on it', '--json'], { agent: 'codex' }).json.message;
    ok(repo, ['reply', answer.id, 'thanks', '--json'], { agent: 'lead' });
    ok(repo, ['review', req.id, '--approve', '-m', 'fine'], { agent: 'lead' });
    const file = path.join(tmpDir(), 'replay.html');
    ok(repo, ['replay', '--html', file]);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: exe,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      for (const width of [1400, 420]) {
        const page = await browser.newPage({ viewport: { width, height: 900 } });
        await page.goto(`file://${file}`);
        const shot = path.join(path.dirname(file), `replay-${width}.png`);
        await page.screenshot({ path: shot, fullPage: true });
        expect(fs.statSync(shot).size).toBeGreaterThan(1000);
        // No horizontal scrolling of the page itself (long code scrolls inside its own box).
        const overflow = await page.evaluate(
          () =>
            (globalThis as any).document.documentElement.scrollWidth -
            (globalThis as any).document.documentElement.clientWidth,
        );
        expect(overflow, `at ${width} px`).toBeLessThanOrEqual(0);
        // Replies are nested under what they answer, two levels deep.
        expect(await page.locator(`#m-${req.id} > .replies > #m-${answer.id}`).count()).toBe(1);
        expect(await page.locator(`#m-${answer.id} > .replies > article.message`).count()).toBe(1);
        // The thread filter names threads by subject.
        const labels = await page.locator('#f-thread option').allTextContents();
        expect(labels.some((l) => l.startsWith('Please take this over'))).toBe(true);
        expect(labels.some((l) => /^[0-9A-Z]{20,}$/.test(l))).toBe(false);
        // Receipts and the verdict are on the card.
        const meta = await page.locator(`#m-${req.id} > .own > .meta`).textContent();
        expect(meta).toContain('read · codex');
        expect(meta).toContain('approve · lead');
        // Per-file diff headers and line numbers.
        await page.locator(`#m-${req.id} > .own > details.diff > summary`).click();
        expect(await page.locator(`#m-${req.id} .file .fh code`).allTextContents()).toContain('src/other.ts');
        const numbers = (await page.locator(`#m-${req.id} .file td.ln`).allTextContents()).filter((t) =>
          /^\d+$/.test(t),
        );
        expect(numbers.length).toBeGreaterThan(0);
        // Relative times, the exact time on hover.
        const t = page.locator(`#m-${req.id} > header time`);
        expect(await t.getAttribute('title')).toBe(req.ts);
        expect(await t.textContent()).toMatch(/just now|\d+s ago|\d+m ago/);
        // A permalink does not land under the sticky header.
        await page.goto(`file://${file}#m-${answer.id}`);
        await page.waitForTimeout(100);
        const gap = await page.evaluate(
          (id) =>
            (globalThis as any).document.getElementById(id)!.getBoundingClientRect().top -
            (globalThis as any).document.querySelector('header.top')!.getBoundingClientRect().bottom,
          `m-${answer.id}`,
        );
        expect(gap).toBeGreaterThanOrEqual(0);
        // Filtering by the thread keeps the nested conversation.
        await page.selectOption('#f-thread', req.thread);
        expect(await page.locator(`#m-${answer.id}:not(.hidden)`).count()).toBe(1);
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });
});
