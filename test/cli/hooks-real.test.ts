/**
 * handoff's git hooks beside the hooks people already have: husky's generated directory, a global
 * core.hooksPath, hooks disabled, a tool that chains the hook back into itself, a hook that replaced
 * handoff's, the lines asked for in a committed hooks directory, and commits git itself would abort.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, git, makeRepo, ok, tmpDir } from '../helpers/repo';

function commit(repo: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync('git', ['commit', ...args], { cwd: repo, env: cleanEnv(env), encoding: 'utf8', timeout: 30_000 });
}
const exe = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode: 0o755 });
};

describe('hooks beside the ones a repository has', () => {
  it("husky (v9): nothing is written in its generated .husky/_; the lines go to the team's .husky/<hook>", () => {
    const repo = makeRepo();
    git(repo, 'config', 'core.hooksPath', '.husky/_');
    // husky 9's generated files: .husky/_/h runs .husky/<name of $0>.
    exe(
      path.join(repo, '.husky', '_', 'h'),
      '#!/usr/bin/env sh\n# husky\nn=$(basename "$0")\ns=$(dirname "$(dirname "$0")")/$n\n[ ! -f "$s" ] && exit 0\nsh -e "$s" "$@"\n',
    );
    exe(path.join(repo, '.husky', '_', 'pre-commit'), '#!/usr/bin/env sh\n. "$(dirname "$0")/h"\n');
    fs.writeFileSync(path.join(repo, '.husky', '_', '.gitignore'), '*');
    fs.writeFileSync(path.join(repo, '.husky', 'pre-commit'), 'echo lint failed; exit 1\n');
    const before = fs.readFileSync(path.join(repo, '.husky', '_', 'pre-commit'), 'utf8');
    const r = cli(repo, ['hooks', 'install', '--json']);
    expect([r.status, r.json.error.code]).toEqual([1, 'hooks_manual']);
    expect(r.json.error.details.manual[0]).toBe(
      '.husky/pre-commit: if command -v handoff >/dev/null 2>&1; then handoff hooks run pre-commit "$@" || exit $?; fi',
    );
    expect(fs.readFileSync(path.join(repo, '.husky', '_', 'pre-commit'), 'utf8')).toBe(before);
    expect(fs.readdirSync(path.join(repo, '.husky', '_')).some((f) => f.includes('handoff'))).toBe(false);
    // The team's hook still runs, and still refuses.
    fs.appendFileSync(path.join(repo, 'README.md'), 'x\n');
    const c = commit(repo, ['-qam', 'x']);
    expect([c.status, c.stdout + c.stderr]).toEqual([1, expect.stringContaining('lint failed')]);
    // The lines added as asked, to files without the executable bit (husky runs them through sh): healthy,
    // and the commit is attributed.
    expect(cli(repo, ['hooks', 'install']).stderr).toContain(
      `.husky/_ is husky's (it runs the hook files in ${path.join(repo, '.husky')}, which your team commits)`,
    );
    fs.writeFileSync(path.join(repo, '.husky', 'pre-commit'), '', { mode: 0o644 });
    for (const line of r.json.error.details.manual as string[]) {
      const [file, ...rest] = line.split(': ');
      fs.appendFileSync(path.join(repo, file!), `${rest.join(': ')}\n`, { mode: 0o644 });
      exe(path.join(repo, '.husky', '_', path.basename(file!)), '#!/usr/bin/env sh\n. "$(dirname "$0")/h"\n');
    }
    const status = ok(repo, ['hooks', 'status', '--json']).json;
    expect(status.husky).toBe(path.join(repo, '.husky'));
    expect(status.hooks.map((h: any) => [h.name, h.healthy, h.problem])).toEqual(
      status.hooks.map((h: any) => [h.name, true, null]),
    );
    expect(fs.statSync(path.join(repo, '.husky', 'pre-commit')).mode & 0o111).toBe(0);
    const bin = tmpDir('handoff-bin-');
    exe(path.join(bin, 'handoff'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
    const agent = commit(repo, ['-qam', 'by codex'], { HANDOFF_AGENT: 'codex', PATH: `${bin}:${process.env.PATH}` });
    expect(agent.status).toBe(0);
    expect(git(repo, 'log', '-1', '--format=%B')).toContain('Handoff-Agent: codex');
  });

  it('a hooks directory outside the repository (global core.hooksPath) or /dev/null is refused, nothing written', () => {
    const repo = makeRepo();
    const shared = tmpDir('handoff-global-hooks-');
    const r = cli(repo, ['hooks', 'install', '--json'], {
      env: { GIT_CONFIG_PARAMETERS: `'core.hookspath'='${shared}'` },
    });
    expect([r.status, r.json.error.code]).toEqual([1, 'hooks_shared']);
    // It says that the shared hooks stop running here once the repository has its own, and how to keep them.
    expect(r.json.error.message).toMatch(/no longer run here/);
    expect(fs.readdirSync(shared)).toEqual([]);
    // A dry run of init says so too, rather than promising to install them.
    const dry = cli(repo, ['init', '--agent', 'claude', '--dry-run'], {
      env: { GIT_CONFIG_PARAMETERS: `'core.hookspath'='${shared}'` },
    });
    expect(dry.stdout).not.toMatch(/would install +git hooks/);
    expect(dry.stdout).toMatch(/git hooks: git runs this repository's hooks from/);
    // init sets the agents up all the same, and says what to do about the hooks.
    const init = cli(repo, ['init', '--agent', 'claude', '--json'], {
      env: { GIT_CONFIG_PARAMETERS: `'core.hookspath'='${shared}'` },
    });
    expect(init.status).toBe(0);
    expect(init.json.manualSteps.some((m: string) => m.startsWith('git hooks: git runs'))).toBe(true);
    expect(fs.readdirSync(shared)).toEqual([]);
    git(repo, 'config', 'core.hooksPath', '/dev/null');
    const off = cli(repo, ['hooks', 'install', '--json']);
    expect([off.status, off.json.error.code]).toEqual([1, 'hooks_off']);
  });

  it("a hook that replaced handoff's is not put over the one handoff chained; a hook chained back into handoff's runs once", () => {
    const repo = makeRepo();
    const hooks = path.join(repo, '.git', 'hooks');
    // The team's hook, which calls the hook git runs again (as a migration-mode tool does): once each.
    exe(
      path.join(hooks, 'pre-commit'),
      '#!/bin/sh\necho ran >> "$(git rev-parse --git-dir)/ran"\nexec "$(dirname "$0")/pre-commit" "$@"\n',
    );
    ok(repo, ['hooks', 'install']);
    fs.appendFileSync(path.join(repo, 'README.md'), 'x\n');
    const c = commit(repo, ['-qam', 'x']);
    expect(c.status).toBe(0);
    expect(fs.readFileSync(path.join(repo, '.git', 'ran'), 'utf8')).toBe('ran\n');
    // Another tool puts its own hook where handoff's was: install refuses rather than lose the chained one.
    exe(path.join(hooks, 'pre-commit'), '#!/bin/sh\necho NEW\n');
    const r = cli(repo, ['hooks', 'install', '--json']);
    expect([r.status, r.json.error.code]).toEqual([1, 'hook_conflict']);
    expect(fs.readFileSync(path.join(hooks, 'pre-commit.handoff-chained'), 'utf8')).toContain('echo ran');
    expect(fs.readFileSync(path.join(hooks, 'pre-commit'), 'utf8')).toContain('NEW');
  });

  it('a kept hook that picks what to run from its own name (husky 4, yorkie) still runs as itself; other programs run as they are', () => {
    const repo = makeRepo();
    const hooks = path.join(repo, '.git', 'hooks');
    // husky 4's hooks: a two-line shell script that reads husky.sh beside it, which runs what package.json
    // lists under the name of the hook ($0).
    const husky4 = '#!/bin/sh\n. "$(dirname "$0")/husky.sh"\n';
    for (const name of ['pre-commit', 'post-commit']) exe(path.join(hooks, name), husky4);
    fs.writeFileSync(
      path.join(hooks, 'husky.sh'),
      'echo "$(basename "$0") in $(basename "$(dirname "$0")"): $*" >> "$(git rev-parse --git-dir)/ran"\n[ ! -e "$(git rev-parse --git-dir)/refuse" ]\n',
    );
    exe(
      path.join(hooks, 'prepare-commit-msg'),
      `#!${process.execPath}\nrequire('fs').appendFileSync(require('path').join(process.env.GIT_DIR || '.git', 'ran'), 'node ' + process.argv.length + '\\n');\n`,
    );
    ok(repo, ['hooks', 'install']);
    fs.appendFileSync(path.join(repo, 'README.md'), 'x\n');
    const c = commit(repo, ['-qam', 'x'], { HANDOFF_AGENT: 'codex' });
    expect(c.status, c.stderr).toBe(0);
    expect(
      fs
        .readFileSync(path.join(repo, '.git', 'ran'), 'utf8')
        .split('\n')
        .filter(Boolean),
    ).toEqual(['pre-commit in hooks: ', 'node 4', 'post-commit in hooks: ']);
    expect(ok(repo, ['log', '-n', '1', '--json']).json.commits[0].agent.name).toBe('codex');
    // Its exit status still decides: a refusing pre-commit stops the commit.
    fs.writeFileSync(path.join(repo, '.git', 'refuse'), '');
    fs.appendFileSync(path.join(repo, 'README.md'), 'y\n');
    expect(commit(repo, ['-qam', 'y'], { HANDOFF_AGENT: 'codex' }).status).not.toBe(0);
  });

  it('a relative core.hooksPath to a directory nobody commits: install warns that other worktrees run no hooks', () => {
    const repo = makeRepo();
    fs.writeFileSync(path.join(repo, '.gitignore'), '.hooks-local/\n');
    fs.mkdirSync(path.join(repo, '.hooks-local'));
    git(repo, 'config', 'core.hooksPath', '.hooks-local');
    const r = ok(repo, ['hooks', 'install']);
    expect(r.stderr).toMatch(/core.hooksPath is relative \(.hooks-local\).*other worktrees.*run no hooks/);
    // As it says: a linked worktree has no such directory, and following the advice fixes it.
    const wt = path.join(tmpDir('handoff-wt-'), 'w');
    git(repo, 'worktree', 'add', '-q', '-b', 'w', wt);
    fs.appendFileSync(path.join(wt, 'README.md'), 'x\n');
    commit(wt, ['-qam', 'x'], { HANDOFF_AGENT: 'codex' });
    expect(git(wt, 'log', '-1', '--format=%B')).not.toContain('Handoff-Agent');
    git(repo, 'config', 'core.hooksPath', path.join(fs.realpathSync(repo), '.hooks-local'));
    expect(ok(repo, ['hooks', 'install']).stderr).toBe('');
    fs.appendFileSync(path.join(wt, 'README.md'), 'y\n');
    commit(wt, ['-qam', 'y'], { HANDOFF_AGENT: 'codex' });
    expect(git(wt, 'log', '-1', '--format=%B')).toContain('Handoff-Agent: codex');
  });

  it("handoff's node in a hook skips NODE_EXTRA_CA_CERTS; the hook it keeps still gets it", () => {
    const repo = makeRepo();
    // The team's own post-commit, which handoff keeps and runs first, records what it was given.
    exe(
      path.join(repo, '.git', 'hooks', 'post-commit'),
      '#!/bin/sh\nprintf "%s" "$NODE_EXTRA_CA_CERTS" > "$(git rev-parse --git-dir)/seen"\n',
    );
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'codex' });
    fs.appendFileSync(path.join(repo, 'README.md'), 'x\n');
    // A bundle that does not exist: a node that loads it says so on stderr.
    const c = commit(repo, ['-qam', 'x'], { HANDOFF_AGENT: 'codex', NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' });
    expect(c.status).toBe(0);
    expect(c.stderr).not.toMatch(/extra certs/i);
    expect(fs.readFileSync(path.join(repo, '.git', 'seen'), 'utf8')).toBe('/nonexistent/ca.pem');
    // The commit was recorded by handoff's node.
    expect(ok(repo, ['log', '-n', '1', '--json']).json.commits[0].agent.name).toBe('codex');
  });

  it('the pre-commit framework installed after handoff runs its hook as .legacy: status sees it, uninstall takes it out', () => {
    const repo = makeRepo();
    const hooks = path.join(repo, '.git', 'hooks');
    // The team's own hook, then handoff's, then the framework's "migration mode": it moves the hook it finds
    // to <name>.legacy and runs that first.
    exe(path.join(hooks, 'prepare-commit-msg'), '#!/bin/sh\necho team >> "$(git rev-parse --git-dir)/ran"\n');
    ok(repo, ['hooks', 'install']);
    for (const name of ['pre-commit', 'prepare-commit-msg']) {
      fs.renameSync(path.join(hooks, name), path.join(hooks, `${name}.legacy`));
      exe(
        path.join(hooks, name),
        `#!/usr/bin/env bash\nHERE="$(cd "$(dirname "$0")" && pwd)"\nif [ -x "$HERE/${name}.legacy" ]; then "$HERE/${name}.legacy" "$@" || exit $?; fi\necho framework >> "$(git rev-parse --git-dir)/ran"\n`,
      );
    }
    const status = ok(repo, ['hooks', 'status', '--json']).json.hooks;
    expect(status.filter((h: any) => h.name === 'prepare-commit-msg').map((h: any) => [h.state, h.healthy])).toEqual([
      ['installed', true],
    ]);
    fs.appendFileSync(path.join(repo, 'README.md'), 'x\n');
    expect(commit(repo, ['-qam', 'x'], { HANDOFF_AGENT: 'codex' }).status).toBe(0);
    expect(git(repo, 'log', '-1', '--format=%B')).toContain('Handoff-Agent: codex');
    // Uninstall: handoff's part goes from .legacy, the team's hook goes back there, the framework's stays.
    ok(repo, ['hooks', 'uninstall']);
    expect(fs.readFileSync(path.join(hooks, 'prepare-commit-msg.legacy'), 'utf8')).toContain('echo team');
    expect(fs.existsSync(path.join(hooks, 'pre-commit.legacy'))).toBe(false);
    fs.rmSync(path.join(repo, '.git', 'ran'));
    fs.appendFileSync(path.join(repo, 'README.md'), 'y\n');
    expect(commit(repo, ['-qam', 'y'], { HANDOFF_AGENT: 'codex' }).status).toBe(0);
    expect(git(repo, 'log', '-1', '--format=%B')).not.toContain('Handoff-Agent');
    expect(fs.readFileSync(path.join(repo, '.git', 'ran'), 'utf8')).toBe('framework\nteam\nframework\n');
  });

  it('in a committed hooks directory, the lines asked for let a teammate without handoff commit; hooks run never fails on its own', () => {
    const repo = makeRepo();
    git(repo, 'config', 'core.hooksPath', 'githooks');
    const r = cli(repo, ['hooks', 'install', '--json']);
    expect(r.json.error.code).toBe('hooks_manual');
    for (const line of r.json.error.details.manual as string[]) {
      const [file, ...rest] = line.split(': ');
      exe(path.join(repo, file!), `#!/bin/sh\n${rest.join(': ')}\n`);
    }
    git(repo, 'add', 'githooks');
    // A PATH without handoff (git and sh only): the commit is made.
    const c = commit(repo, ['-qm', 'hooks'], { PATH: '/usr/bin:/bin', HANDOFF_AGENT: 'codex' });
    expect([c.status, c.stderr]).toEqual([0, '']);
    // handoff's own trouble in a hook (no temporary directory) lets the commit through.
    const run = spawnSync(process.execPath, [BIN, 'hooks', 'run', 'pre-commit'], {
      cwd: repo,
      env: cleanEnv({ TMPDIR: '/nonexistent-tmp', HANDOFF_AGENT: 'codex' }),
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    // Files another user put in the shared temporary directory are not run as chained hooks.
    const shared = tmpDir('handoff-shared-tmp-');
    const marker = path.join(shared, 'ran');
    for (const name of ['pre-commit', 'prepare-commit-msg']) {
      exe(
        path.join(shared, `${name}.handoff-chained`),
        `#!/bin/sh
echo ${name} >> '${marker}'
`,
      );
      fs.writeFileSync(path.join(shared, `handoff-hook-${process.pid}-${name}`), 'echo planted\n');
    }
    const msg = path.join(repo, '.git', 'COMMIT_EDITMSG');
    fs.writeFileSync(msg, 'a message\n');
    for (const args of [['pre-commit'], ['prepare-commit-msg', msg, 'message']]) {
      const r = spawnSync(process.execPath, [BIN, 'hooks', 'run', ...args], {
        cwd: repo,
        env: cleanEnv({ TMPDIR: shared, HANDOFF_AGENT: 'codex' }),
        encoding: 'utf8',
      });
      expect([args[0], r.status, r.stdout]).toEqual([args[0], 0, '']);
    }
    expect(fs.existsSync(marker)).toBe(false);
    // The hook itself ran: the message got its trailer.
    expect(fs.readFileSync(msg, 'utf8')).toContain('Handoff-Agent: codex');
    expect(
      fs.readdirSync(shared).filter((f) => f.startsWith('handoff-hook-') && !f.includes(String(process.pid))),
    ).toEqual([]);
  });

  it('commits git aborts stay aborted (an empty message, the editor left empty); a name that is not one is said', () => {
    const repo = makeRepo();
    ok(repo, ['hooks', 'install']);
    fs.appendFileSync(path.join(repo, 'README.md'), 'x\n');
    git(repo, 'add', 'README.md');
    const head = git(repo, 'rev-parse', 'HEAD');
    for (const args of [['-q', '-m', ''], ['-q']]) {
      const c = commit(repo, args, { HANDOFF_AGENT: 'claude', GIT_EDITOR: 'true' });
      expect([args.join(' '), c.status, c.stderr]).toEqual([
        args.join(' '),
        1,
        expect.stringContaining('empty commit message'),
      ]);
    }
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(head);
    const bad = commit(repo, ['-qm', 'w'], { HANDOFF_AGENT: 'Codex' });
    expect(bad.status).toBe(0);
    expect(bad.stderr).toContain('HANDOFF_AGENT=Codex is not an agent name');
    // An agent's message with trailers of its own: handoff's joins them.
    fs.appendFileSync(path.join(repo, 'README.md'), 'y\n');
    expect(commit(repo, ['-qam', 'co\n\nCo-authored-by: Bob <b@x>'], { HANDOFF_AGENT: 'claude' }).status).toBe(0);
    expect(git(repo, 'log', '-1', '--format=%(trailers:only,unfold)').trim().split('\n')).toEqual([
      'Co-authored-by: Bob <b@x>',
      'Handoff-Agent: claude',
    ]);
  });
});

describe('a lock a crashed git left on the chain ref', () => {
  it('a hooked commit spools (writing no object per retry) and names the lock; a send says which file to remove', () => {
    const repo = makeRepo();
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'claude' });
    const clone = fs.readFileSync(path.join(repo, '.git', 'handoff', 'clone-id'), 'utf8').trim();
    const lock = path.join(repo, '.git', 'refs', 'handoff', 'chains', `${clone}.lock`);
    fs.writeFileSync(lock, '');
    const loose = () => Number(/count: (\d+)/.exec(git(repo, 'count-objects', '-v'))![1]);
    const before = loose();
    fs.appendFileSync(path.join(repo, 'README.md'), 'x\n');
    const c = commit(repo, ['-qam', 'x'], { HANDOFF_AGENT: 'claude' });
    expect(c.status).toBe(0);
    expect(c.stderr).toContain(`${clone}.lock has been held`);
    expect(c.stderr).toContain('recorded by the next handoff command');
    // The commit's own objects and one event's: not one event per retry.
    expect(loose() - before).toBeLessThan(12);
    const s = cli(repo, ['send', 'codex', 'hi', '--create', '--json'], { agent: 'claude' });
    expect([s.status, s.json.error.code]).toEqual([1, 'chain_busy']);
    expect(s.json.error.message).toContain('remove that file');
    // Once it is gone, the next command records the commit.
    fs.rmSync(lock);
    ok(repo, ['inbox'], { agent: 'claude' });
    expect(ok(repo, ['log', '-n', '1', '--json']).json.commits[0].agent.name).toBe('claude');
  });
});
