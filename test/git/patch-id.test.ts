import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { patchIds, patchIdsOf, readCommitWithPatch, textPatchId } from '../../src/git/commits';
import { cleanEnv, git, makeRepo } from '../helpers/repo';

/** What git itself says: `git patch-id --stable` of the patch the post-commit hook reads. */
function gitPatchId(repo: string, commit: string): string | null {
  const patch = spawnSync(
    'git',
    ['diff-tree', '-p', '-M', '--root', '--no-color', '--no-ext-diff', '--no-textconv', '--first-parent', commit],
    { cwd: repo, env: cleanEnv() },
  ).stdout;
  const out = spawnSync('git', ['patch-id', '--stable'], { cwd: repo, env: cleanEnv(), input: patch }).stdout;
  return out.toString('utf8').split(' ')[0] || null;
}

const numbered = (n: number, at = 0) => Array.from({ length: n }, (_, i) => `line ${i + at}`).join('\n') + '\n';

describe('patch ids computed without git', () => {
  it('equal git patch-id --stable for text patches, and leave the rest to git', () => {
    const repo = makeRepo({ files: { 'a.txt': numbered(40), 'keep.txt': 'k1\nk2\n' } });
    const file = (name: string) => path.join(repo, name);
    const commits: { what: string; commit: string; here: boolean }[] = [];
    const commit = (what: string, here: boolean, change: () => void) => {
      change();
      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '--allow-empty', '-m', what);
      commits.push({ what, commit: git(repo, 'rev-parse', 'HEAD').trim(), here });
    };
    commit('two hunks in one file', true, () => {
      const lines = numbered(40).split('\n');
      lines[3] = 'changed near the top';
      lines[30] = 'changed near the end';
      fs.writeFileSync(file('a.txt'), lines.join('\n'));
    });
    commit('whitespace, tabs and carriage returns', true, () =>
      fs.writeFileSync(file('a.txt'), fs.readFileSync(file('a.txt'), 'utf8').replace('line 10\n', '\tline  10 \r\n')),
    );
    commit('three files: added, changed, deleted', true, () => {
      fs.writeFileSync(file('new.ts'), 'export const x = 1;\nexport const y = "é ü 漢字";\n');
      fs.appendFileSync(file('a.txt'), 'appended\n');
      fs.rmSync(file('keep.txt'));
    });
    commit('no newline at the end, on both sides', true, () => {
      fs.writeFileSync(file('nonl.txt'), 'first\nsecond\nthird');
    });
    commit('changing a file without a final newline', true, () => {
      fs.writeFileSync(file('nonl.txt'), 'first\nsecond changed\nthird still without');
    });
    commit('a hunk line that looks like a commit header', true, () =>
      fs.appendFileSync(file('a.txt'), `commit ${'a'.repeat(40)}\ndiff --git a/x b/x\n`),
    );
    commit('a one-line file (hunk header without counts)', false, () => fs.writeFileSync(file('one.txt'), 'one\n'));
    commit('an empty file added', false, () => fs.writeFileSync(file('empty.txt'), ''));
    commit('a mode change only', false, () => fs.chmodSync(file('a.txt'), 0o755));
    commit('a rename with an edit', false, () => {
      fs.renameSync(file('new.ts'), file('renamed.ts'));
      fs.appendFileSync(file('renamed.ts'), 'export const z = 3;\n');
    });
    commit('a binary file', false, () => fs.writeFileSync(file('bin.dat'), Buffer.from([0, 1, 2, 3, 0, 255, 254])));
    commit('bytes that are not UTF-8', false, () =>
      fs.writeFileSync(file('latin1.txt'), Buffer.concat([Buffer.from(numbered(5)), Buffer.from([0xe9, 0x0a])])),
    );
    commit('nothing (an empty commit)', true, () => undefined);

    for (const c of commits) {
      const read = readCommitWithPatch(repo, c.commit);
      const expected = gitPatchId(repo, c.commit);
      if (!read) {
        // diff-tree shows nothing of a commit without changes: there is no patch, and git gives no id.
        expect([c.what, expected]).toEqual(['nothing (an empty commit)', null]);
        expect(textPatchId('')).toBeNull();
        continue;
      }
      // Whether the id is computed here (not by git) is part of what is tested: a text patch must not
      // need git, anything git reads differently across versions must go to it.
      const here = textPatchId(read.patch);
      expect([c.what, here !== undefined]).toEqual([c.what, c.here]);
      if (here !== undefined) expect([c.what, here]).toEqual([c.what, expected]);
      expect([
        c.what,
        patchIds(repo, Buffer.concat([Buffer.from(`commit ${c.commit}\n`), read.patchBytes])).get(c.commit) ?? null,
      ]).toEqual([c.what, expected]);
    }
    // Several commits at once (a rebase's), some computed here and some by git: each equals git's.
    const all = patchIdsOf(
      repo,
      commits.map((c) => c.commit),
    );
    for (const c of commits) expect([c.what, all.get(c.commit) ?? null]).toEqual([c.what, gitPatchId(repo, c.commit)]);
    // No two of these different changes share an id.
    expect(new Set(commits.filter((c) => c.here).map((c) => gitPatchId(repo, c.commit))).size).toBe(
      commits.filter((c) => c.here).length,
    );
  });

  it('a patch id does not depend on the order of the files or on whitespace, as git', () => {
    const a = [
      'diff --git a/x b/x',
      'index 1111111..2222222 100644',
      '--- a/x',
      '+++ b/x',
      '@@ -1,2 +1,2 @@',
      ' same',
      '-old x',
      '+new x',
    ];
    const b = [
      'diff --git a/y b/y',
      'index 3333333..4444444 100644',
      '--- a/y',
      '+++ b/y',
      '@@ -7,2 +7,2 @@',
      ' other',
      '-old y',
      '+new y',
    ];
    const one = textPatchId([...a, ...b].join('\n') + '\n');
    expect(one).toMatch(/^[0-9a-f]{40}$/);
    expect(textPatchId([...b, ...a].join('\n') + '\n')).toBe(one);
    expect(textPatchId([...a, ...b].map((l) => l.replace('new x', 'new\tx ')).join('\n') + '\n')).toBe(one);
    expect(textPatchId([...a, ...b].map((l) => l.replace('new x', 'new y')).join('\n') + '\n')).not.toBe(one);
    // What git says of the same text.
    const repo = makeRepo();
    const viaGit = spawnSync('git', ['patch-id', '--stable'], {
      cwd: repo,
      env: cleanEnv(),
      input: `commit ${'c'.repeat(40)}\n${[...a, ...b].join('\n')}\n`,
    }).stdout.toString('utf8');
    expect(viaGit.split(' ')[0]).toBe(one);
    // A hunk shorter than its header says is not a patch git reads like this: git is asked.
    expect(textPatchId([...a.slice(0, 6), '+new x'].join('\n') + '\n')).toBeUndefined();
  });
});
