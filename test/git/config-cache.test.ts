import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configMatchingCached } from '../../src/git/config-cache';
import { findRepo } from '../../src/git/repo';
import { addWorktree, cleanEnv, cli, git, makeRepo, ok, tmpDir } from '../helpers/repo';

const cliRun = (cwd: string, args: string[], env: Record<string, string | undefined>) =>
  cli(cwd, args, { agent: 'lead', env });

const PATTERN = /^(handoff\.|user\.(name|email)$)/;

/** Moves a file's mtime into the past, so the cache does not treat it as just changed. */
function age(file: string): void {
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(file, old, old);
}

describe('the config cache', () => {
  // runGit passes process.env to git: the test's home and settings go there for the duration.
  let saved: NodeJS.ProcessEnv;
  beforeEach(() => {
    saved = { ...process.env };
    for (const k of Object.keys(process.env)) delete process.env[k];
    Object.assign(process.env, cleanEnv());
  });
  afterEach(() => {
    for (const k of Object.keys(process.env)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  const setup = () => {
    const dir = makeRepo();
    const repo = findRepo(dir);
    const cache = path.join(tmpDir(), 'config-cache.json');
    return { dir, repo, cache, local: path.join(repo.commonDir, 'config') };
  };
  const read = (s: ReturnType<typeof setup>, env: NodeJS.ProcessEnv = process.env) =>
    Object.fromEntries(configMatchingCached(s.repo, PATTERN, s.cache, env));

  it('answers from the file while nothing changed, and from git after any config file changes', () => {
    const s = setup();
    git(s.dir, 'config', 'handoff.maxBodyBytes', '1000');
    git(s.dir, 'config', '--add', 'handoff.multi', 'one');
    git(s.dir, 'config', '--add', 'handoff.multi', 'two');
    age(s.local);
    age(path.join(process.env.HOME!, '.gitconfig'));
    const first = read(s);
    expect(first['handoff.maxbodybytes']).toEqual(['1000']);
    expect(first['handoff.multi']).toEqual(['one', 'two']);
    expect(first['user.name']).toEqual(['Test Human']);
    expect(fs.existsSync(s.cache)).toBe(true);

    // The second read comes from the file: a value planted there (with the same signatures) is returned.
    const data = JSON.parse(fs.readFileSync(s.cache, 'utf8'));
    data.values = data.values.map(([k, v]: [string, string[]]) => [k, k === 'handoff.maxbodybytes' ? ['planted'] : v]);
    fs.writeFileSync(s.cache, JSON.stringify(data));
    expect(read(s)['handoff.maxbodybytes']).toEqual(['planted']);

    // An edit that keeps size and mtime still moves the ctime: git is asked again.
    const stat = fs.statSync(s.local);
    fs.writeFileSync(s.local, fs.readFileSync(s.local, 'utf8').replace('1000', '2000'));
    fs.utimesSync(s.local, stat.atime, stat.mtime);
    expect(read(s)['handoff.maxbodybytes']).toEqual(['2000']);

    // The global file, the XDG file that did not exist, and the worktree file count too.
    const home = process.env.HOME!;
    fs.mkdirSync(path.join(home, '.config', 'git'), { recursive: true });
    const xdg = path.join(home, '.config', 'git', 'config');
    try {
      fs.writeFileSync(xdg, '[handoff]\n\tsign = true\n');
      expect(read(s)['handoff.sign']).toEqual(['true']);
    } finally {
      fs.rmSync(xdg, { force: true });
    }
    expect(read(s)['handoff.sign']).toBeUndefined();
  });

  it('is not trusted for a file changed in the last 100 ms (2 s at whole seconds), nor where config includes other files', () => {
    const s = setup();
    git(s.dir, 'config', 'handoff.nudge', 'off');
    // Just written: read through git, nothing remembered.
    expect(read(s)['handoff.nudge']).toEqual(['off']);
    expect(fs.existsSync(s.cache)).toBe(false);
    // A whole-second mtime 1 s ago may come from a file system that keeps only seconds: not remembered.
    const second = Math.floor(Date.now() / 1000) * 1000;
    fs.utimesSync(s.local, new Date(second - 1000), new Date(second - 1000));
    const got = read(s)['handoff.nudge'];
    const cached = fs.existsSync(s.cache);
    // Checked when the read ended inside those 2 s (a slow machine may cross them while git runs).
    if (Date.now() - (second - 1000) < 2000) {
      expect(got).toEqual(['off']);
      expect(cached).toBe(false);
    }
    fs.rmSync(s.cache, { force: true });
    // 300 ms ago with a sub-second part: remembered.
    const past = new Date(Date.now() - 300);
    past.setMilliseconds(past.getMilliseconds() % 1000 === 0 ? 1 : past.getMilliseconds());
    fs.utimesSync(s.local, past, past);
    expect(read(s)['handoff.nudge']).toEqual(['off']);
    expect(fs.existsSync(s.cache)).toBe(true);
    fs.rmSync(s.cache);

    const extra = path.join(tmpDir(), 'extra.gitconfig');
    fs.writeFileSync(extra, '[handoff]\n\tloopGuard = 5\n');
    git(s.dir, 'config', 'include.path', extra);
    age(s.local);
    age(extra);
    expect(read(s)['handoff.loopguard']).toEqual(['5']);
    expect(fs.existsSync(s.cache)).toBe(false);
    // The included file changes: the next read sees it, since nothing was cached.
    fs.writeFileSync(extra, '[handoff]\n\tloopGuard = 7\n');
    expect(read(s)['handoff.loopguard']).toEqual(['7']);

    // An include git finds where a line-start check would not: after a BOM, after another header on the
    // same line, pointing at a file that does not exist yet.
    const later = path.join(tmpDir(), 'later.gitconfig');
    git(s.dir, 'config', '--unset-all', 'include.path');
    const global = path.join(process.env.HOME!, '.gitconfig');
    const saved = fs.readFileSync(global, 'utf8');
    for (const text of [
      `\ufeff[include]\n\tpath = ${later}\n${saved}`,
      `${saved}[core] [include]\n\tpath = ${later}\n`,
    ]) {
      try {
        fs.writeFileSync(global, text);
        age(global);
        age(s.local);
        fs.rmSync(s.cache, { force: true });
        expect(read(s)['handoff.maxbodybytes']).toBeUndefined();
        expect(read(s)['user.name']).toEqual(['Test Human']);
        expect(fs.existsSync(s.cache)).toBe(false);
        fs.writeFileSync(later, '[handoff]\n\tmaxBodyBytes = 10\n');
        expect(read(s)['handoff.maxbodybytes']).toEqual(['10']);
      } finally {
        fs.writeFileSync(global, saved);
        fs.rmSync(later, { force: true });
      }
    }
  });

  it('asks git every time when settings come from the environment (git -c), and keys the cache by the files chosen', () => {
    const s = setup();
    git(s.dir, 'config', 'handoff.nudge', 'off');
    age(s.local);
    age(path.join(process.env.HOME!, '.gitconfig'));
    expect(read(s)['handoff.nudge']).toEqual(['off']);
    expect(fs.existsSync(s.cache)).toBe(true);
    const viaEnv = {
      ...process.env,
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'handoff.nudge',
      GIT_CONFIG_VALUE_0: 'on',
    };
    Object.assign(process.env, viaEnv);
    expect(read(s, viaEnv)['handoff.nudge']).toEqual(['off', 'on']);
    for (const k of ['GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0']) delete process.env[k];

    // Another global file: the cached answer (made with the usual one) is not used.
    const other = path.join(tmpDir(), 'global');
    fs.writeFileSync(other, '[user]\n\tname = Someone Else\n');
    age(other);
    process.env.GIT_CONFIG_GLOBAL = other;
    expect(read(s)['user.name']).toEqual(['Someone Else']);
    delete process.env.GIT_CONFIG_GLOBAL;
    expect(read(s)['user.name']).toEqual(['Test Human']);
  });

  it('a HOME that is a file (where git looks cannot be stated) is read around, through the CLI, and not remembered', () => {
    const repo = makeRepo();
    const home = path.join(tmpDir(), 'not-a-directory');
    fs.writeFileSync(home, 'a file');
    const env = { HOME: home, XDG_CONFIG_HOME: undefined };
    ok(repo, ['join'], { agent: 'codex', env });
    git(repo, 'config', 'handoff.maxBodyBytes', '10');
    const r = cliRun(repo, ['send', 'codex', 'longer than ten bytes'], env);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/10 bytes|too long|limit/i);
    const cached = fs.readdirSync(path.join(repo, '.git', 'handoff')).filter((n) => n.startsWith('config-cache-'));
    expect(cached).toEqual([]);
  });

  it('keeps each worktree apart: config.worktree values are per worktree, through the CLI', () => {
    const main = makeRepo();
    git(main, 'config', 'extensions.worktreeConfig', 'true');
    const wt = addWorktree(main, 'feature');
    git(wt, 'config', '--worktree', 'handoff.maxBodyBytes', '10');
    const common = findRepo(main).commonDir;
    for (const f of [path.join(common, 'config'), path.join(findRepo(wt).gitDir, 'config.worktree')]) age(f);
    age(path.join(process.env.HOME!, '.gitconfig'));
    ok(main, ['join', '--as', 'claude']);
    ok(wt, ['join', '--as', 'codex']);
    const long = 'x'.repeat(50);
    for (let round = 0; round < 2; round++) {
      // In the worktree the limit is 10 bytes; in the main worktree the default holds. Twice: the second
      // round answers from the cache files the first one wrote.
      expect(ok(main, ['send', 'codex', long, '--as', 'claude']).stdout).toMatch(/^[0-9A-Z]{26}\n$/);
      const refused = (() => {
        try {
          ok(wt, ['send', 'claude', long, '--as', 'codex']);
          return null;
        } catch (err) {
          return String(err);
        }
      })();
      expect(refused).toMatch(/10/);
    }
    const caches = fs.readdirSync(path.join(common, 'handoff')).filter((f) => f.startsWith('config-cache-'));
    expect(caches).toHaveLength(2);
  });
});
