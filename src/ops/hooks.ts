/** Installing, removing and checking handoff's git hooks (templates in the repository's hooks/ folder). */
import { shellWord } from '../core/text';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HandoffError } from '../core/errors';
import { hookState, hooksDir, installHook, isIgnored, movedToLegacy, uninstallHook } from '../git/hooks';
import { configGet } from '../git/config';
import { requireWritable, type Context } from './context';
import { RUNTIME_MARKERS } from './identity';
import type { HooksJson } from '../json/setup';

export const HOOK_NAMES = ['pre-commit', 'prepare-commit-msg', 'post-commit', 'post-merge', 'post-rewrite'] as const;

export interface HookPaths {
  /** handoff's package root (holds hooks/ and dist/hook.js). */
  root: string;
  node: string;
}

/** Quoted always: the hook scripts' paths stay byte for byte what install compares. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Shell lines that set $agent from the agent runtime markers (the same table, and order, as identity.ts's
 * detectRuntimes): every runtime's own markers first, then the weak ones.
 */
function runtimeDetection(): string {
  const test = (vars: string[]) => vars.map((v) => `[ -n "\${${v}:-}" ]`).join(' || ');
  const strong = RUNTIME_MARKERS.map((m) => ({ m, vars: m.vars.filter((v) => !m.weak?.includes(v)) }));
  const weak = RUNTIME_MARKERS.filter((m) => m.weak?.length).map((m) => ({ m, vars: m.weak! }));
  return [...strong, ...weak]
    .filter((x) => x.vars.length)
    .map(({ m, vars }, i) => `    ${i === 0 ? 'if' : 'elif'} ${test(vars)}; then agent=${m.runtime}`)
    .concat(['    fi'])
    .join('\n');
}

function render(paths: HookPaths, name: string): string {
  const template = fs.readFileSync(path.join(paths.root, 'hooks', name), 'utf8');
  const hookJs = path.join(paths.root, 'dist', 'hook.js');
  return template
    .replace('@RUNTIME_DETECT@', runtimeDetection())
    .replaceAll('"@NODE@"', shellQuote(paths.node))
    .replaceAll('"@HOOK_JS@"', shellQuote(hookJs))
    .replaceAll('@HOOK_JS@', hookJs.replace(/[`"$\\]/g, ''));
}

/** Installs the hooks (idempotent). */
export function installHooks(ctx: Context, paths: HookPaths): HooksJson {
  requireWritable(ctx, 'install hooks');
  // Nobody commits in a bare repository (a remote): hooks there would never run.
  if (!ctx.repo.worktree)
    throw new HandoffError(
      'bare_repository',
      'This is a bare repository (a remote?): nobody commits here, so its hooks would never run. Install the hooks in each clone.',
    );
  const dir = hooksDir(ctx.repo);
  refuseForeignHooksDir(ctx, dir);
  const shared = committableHooks(ctx, dir);
  const husky = huskyScripts(dir);
  // husky (v9) writes .husky/_ itself and runs .husky/<hook>, which the team commits: the line goes there.
  if (husky) return { ...manualSetup(ctx, dir, husky, (name) => `husky runs ${path.join(husky, name)}`), husky };
  // Never modify a file the team commits, nor put this machine's paths into one.
  if (shared.length) return manualSetup(ctx, dir, dir, (name) => `${path.join(dir, name)} can be committed`);
  const results = HOOK_NAMES.map((name) => ({ name, state: installHook(dir, name, render(paths, name)) }));
  // git reads a relative core.hooksPath from the top of each worktree: a directory nobody commits is in
  // this worktree only, and the others run no hooks.
  const configured = configGet(ctx.repo.cwd, 'core.hooksPath');
  if (configured && !path.isAbsolute(configured) && !configured.startsWith('~'))
    ctx.warn(
      `core.hooksPath is relative (${configured}): git looks for it at the top of each worktree, and other worktrees of this clone have no such directory, so they run no hooks. Make it absolute: git config core.hooksPath ${shellWord(dir)}`,
    );
  const status = hooksStatus(ctx, paths);
  return { dir, hooks: status.hooks.map((h) => ({ ...h, state: results.find((r) => r.name === h.name)!.state })) };
}

/**
 * Runs one of handoff's git hooks in this process's repository, for a hook file the team keeps (husky):
 * `handoff hooks run <name> "$@"`. prepare-commit-msg and pre-commit run their shell scripts; the others
 * the hook entry. Never fails because of handoff: the status is 0, except 1 when pre-commit refuses a commit
 * on purpose (handoff.reservations=block).
 */
export function runHook(paths: HookPaths, name: string, args: string[]): number {
  try {
    return runHookOnce(paths, name, args);
  } catch (err) {
    // handoff's own trouble (no temporary directory, say) never fails the commit.
    process.stderr.write(`handoff: the ${name} hook could not run (the commit goes on): ${(err as Error).message}\n`);
    return 0;
  }
}

function runHookOnce(paths: HookPaths, name: string, args: string[]): number {
  if (!(HOOK_NAMES as readonly string[]).includes(name)) return 0;
  if (name === 'prepare-commit-msg' || name === 'pre-commit') {
    // In a directory of its own, made for this run (mode 0700): no other user can put a file there in its
    // place, nor a `<hook>.handoff-chained` beside it for the script to run (it runs one from its own directory).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-hook-'));
    const script = path.join(dir, name);
    try {
      fs.writeFileSync(script, render(paths, name), { mode: 0o700, flag: 'wx' });
      const res = spawnSync('sh', [script, ...args], { stdio: 'inherit' });
      return name === 'pre-commit' && res.status === 1 ? 1 : 0;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  spawnSync(paths.node, [path.join(paths.root, 'dist', 'hook.js'), name, ...args], { stdio: 'inherit' });
  return 0;
}

/** Install's answer where the lines are added by hand to the hook files in `scripts` (nothing written). */
function manualSetup(ctx: Context, dir: string, scripts: string, why: (name: string) => string): HooksJson {
  return {
    dir,
    hooks: HOOK_NAMES.map((name) => ({
      name,
      state: 'manual',
      chained: false,
      healthy: false,
      problem: `${why(name)}; add the line below to it`,
    })),
    manual: manualLines(ctx, scripts),
  };
}

/**
 * Refuses a hooks directory that is not this repository's own: hooks disabled (core.hooksPath=/dev/null), or a
 * directory outside the repository (a global core.hooksPath), where handoff's hooks would run for every
 * repository that uses it, and `uninstall` here would remove them for all.
 */
/** What `installHooks` would refuse about this repository's hooks directory (for a dry run); throws as it would. */
export function checkHooksDir(ctx: Context): void {
  if (!ctx.repo.worktree)
    throw new HandoffError('bare_repository', 'This is a bare repository (a remote?): its hooks would never run.');
  refuseForeignHooksDir(ctx, hooksDir(ctx.repo));
}

function refuseForeignHooksDir(ctx: Context, dir: string): void {
  let isDir = true;
  try {
    isDir = !fs.existsSync(dir) || fs.statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir)
    throw new HandoffError(
      'hooks_off',
      `git runs no hooks here: core.hooksPath is ${dir}, which is not a directory. Point it at one (git config core.hooksPath .git/hooks) to install handoff's hooks.`,
    );
  if ([ctx.repo.commonDir, ctx.repo.gitDir, ctx.repo.worktree].some((p) => p && isInside(dir, p))) return;
  throw new HandoffError(
    'hooks_shared',
    `git runs this repository's hooks from ${dir} (core.hooksPath), outside the repository: hooks installed there would run for every repository that uses that directory. Either add 'handoff hooks run <name> "$@"' to the hooks there yourself, or give this repository its own: copy those hooks into .git/hooks first (cp ${shellWord(dir)}/* .git/hooks/), since once core.hooksPath names .git/hooks they no longer run here; then git config core.hooksPath .git/hooks and handoff hooks install, which keeps them and runs them first.`,
  );
}

/** Where husky (v9) keeps the hook scripts it runs, when `dir` is the directory husky generates (.husky/_). */
function huskyScripts(dir: string): string | null {
  if (path.basename(dir) !== '_') return null;
  try {
    const h = fs.readFileSync(path.join(dir, 'h'), 'utf8');
    return /husky/i.test(h) || /dirname "\$\(dirname "\$0"\)"/.test(h) ? path.dirname(dir) : null;
  } catch {
    return path.basename(path.dirname(dir)) === '.husky' ? path.dirname(dir) : null;
  }
}

/** Whether `dir` is `parent` or under it. */
function isInside(dir: string, parent: string): boolean {
  const r = path.relative(parent, dir);
  return !r.startsWith('..') && !path.isAbsolute(r);
}

/** Hook files in `dir` that `git add` would pick up: the directory is in the working tree and not ignored. */
function committableHooks(ctx: Context, dir: string): string[] {
  const top = ctx.repo.worktree;
  if (!top) return [];
  // .git/hooks (or a linked worktree's git dir) is never committed.
  if (isInside(dir, ctx.repo.commonDir) || isInside(dir, ctx.repo.gitDir) || !isInside(dir, top)) return [];
  const rel = path.relative(top, dir);
  return HOOK_NAMES.map((n) => path.join(rel, n)).filter((f) => !isIgnored(ctx.repo, f));
}

/** Removes the hooks and restores what they chained. */
export function uninstallHooks(ctx: Context): HooksJson {
  requireWritable(ctx, 'remove hooks');
  // What init noted of hooks installed by hand before it no longer holds.
  fs.rmSync(hooksBeforeInit(ctx), { force: true });
  const dir = hooksDir(ctx.repo);
  return {
    dir,
    hooks: HOOK_NAMES.map((name) => ({
      name,
      state: uninstallHook(dir, name),
      chained: false,
      healthy: true,
      problem: null,
    })),
  };
}

/**
 * The lines to add by hand to hook files the team commits (where install changes nothing). Guarded: a teammate
 * without handoff on PATH commits as before.
 */
function manualLines(ctx: Context, dir: string): string[] {
  return HOOK_NAMES.map(
    (name) =>
      `${path.relative(ctx.repo.worktree ?? dir, path.join(dir, name))}: if command -v handoff >/dev/null 2>&1; then handoff hooks run ${name} "$@" || exit $?; fi`,
  );
}

/** Why handoff writes nothing in a hooks directory it gave manual lines for, as a clause about the directory. */
export function manualWhere(r: HooksJson): string {
  return r.husky
    ? `${r.dir} is husky's (it runs the hook files in ${r.husky}, which your team commits)`
    : `${r.dir} is part of the working tree (committed with the project)`;
}

/** What is installed and whether each hook can run. */
export function hooksStatus(ctx: Context, paths: HookPaths): HooksJson {
  const dir = hooksDir(ctx.repo);
  const husky = huskyScripts(dir);
  const shared = husky !== null || committableHooks(ctx, dir).length > 0;
  return {
    dir,
    // Where the hooks are committed, what is missing is added by hand, as install says.
    ...(shared ? { manual: manualLines(ctx, husky ?? dir) } : {}),
    ...(husky ? { husky } : {}),
    hooks: HOOK_NAMES.map((name) => {
      // husky runs the team's .husky/<name>; handoff's line belongs there.
      const s = hookState(husky ?? dir, name);
      let problem: string | null = null;
      // A hook file the team keeps (husky), with the line 'hooks install' asks for.
      const line = s.foreign ? handoffLine(s.content ?? '', name) : null;
      if (line !== null) {
        let manual: string | null = null;
        // husky runs its hook files through sh: they need no executable bit.
        if (!s.executable && !husky) manual = 'not executable';
        // git passes the hook's arguments (prepare-commit-msg: the message file); the line must pass them on.
        else if (!/"\$@"/.test(line))
          manual = `the line does not pass the hook's arguments: handoff hooks run ${name} "$@"`;
        else if (/^\s*(exec\s+)?handoff\s/.test(line) && !/command -v handoff/.test(line) && !onPath('handoff'))
          manual = "runs 'handoff', which is not on PATH here (npm link, or name handoff's full path)";
        return { name, state: 'manual', chained: false, healthy: manual === null, problem: manual };
      }
      // Installed after handoff, the pre-commit framework moved handoff's hook to <name>.legacy and runs it.
      if (!husky && s.foreign && movedToLegacy(dir, name)) {
        const legacy = hookState(dir, `${name}.legacy`);
        const stale = legacy.content !== render(paths, name) || !legacy.executable;
        return {
          name,
          state: 'installed',
          chained: s.chained,
          healthy: !stale,
          problem: stale
            ? `run as ${name}.legacy by the hook there, from another handoff version; run 'handoff hooks install'`
            : null,
        };
      }
      if (husky && !s.installed) problem = `not in ${path.join(husky, name)}: add the line 'hooks install' gives`;
      else if (!s.installed) problem = s.foreign ? 'another hook is installed (handoff is not)' : 'not installed';
      else if (!s.executable) problem = 'not executable';
      else if (s.content !== render(paths, name)) {
        const target = /'([^']*dist\/hook\.js)'/.exec(s.content ?? '')?.[1];
        problem =
          target && !fs.existsSync(target)
            ? `points to ${target}, which is gone; run 'handoff hooks install'`
            : "installed by another handoff version; run 'handoff hooks install'";
      }
      return {
        name,
        state: s.installed ? 'installed' : s.foreign ? 'foreign' : 'absent',
        chained: s.chained,
        healthy: problem === null,
        problem,
      };
    }),
  };
}

/** The line of a hook script that runs `handoff hooks run <name>` (not commented out), or null. */
function handoffLine(script: string, name: string): string | null {
  return (
    script
      .split('\n')
      .find(
        (line) =>
          !/^\s*#/.test(line) && line.includes('handoff') && new RegExp(`\\bhooks\\s+run\\s+${name}\\b`).test(line),
      ) ?? null
  );
}

/** Whether `command` is an executable file in a directory of PATH. */
export function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir || '.', command), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Checks that the hook templates and the hook entry exist where handoff runs from. */
export function checkHookPaths(paths: HookPaths): void {
  for (const f of [
    path.join(paths.root, 'dist', 'hook.js'),
    ...HOOK_NAMES.map((n) => path.join(paths.root, 'hooks', n)),
  ]) {
    if (!fs.existsSync(f))
      throw new HandoffError(
        'hooks_missing',
        `${f} is missing from this handoff installation. Run 'npm run build' in ${paths.root}.`,
      );
  }
}

/**
 * Marks that the first init found the git hooks (shared by every worktree) installed by hand, so that init's
 * undo leaves them: <git common dir>/handoff/hooks-before-init (uninstalling the hooks removes it).
 */
export function hooksBeforeInit(ctx: Context): string {
  return path.join(ctx.dataDir, 'hooks-before-init');
}
