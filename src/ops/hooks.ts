/** Installing, removing and checking handoff's git hooks (templates in the repository's hooks/ folder). */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HandoffError } from '../core/errors';
import { hookState, hooksDir, installHook, isIgnored, uninstallHook } from '../git/hooks';
import { requireWritable, type Context } from './context';
import { RUNTIME_MARKERS } from './identity';
import type { HooksJson } from '../json/setup';

export const HOOK_NAMES = ['pre-commit', 'prepare-commit-msg', 'post-commit', 'post-merge', 'post-rewrite'] as const;

export interface HookPaths {
  /** handoff's package root (holds hooks/ and dist/hook.js). */
  root: string;
  node: string;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Shell lines that set $agent from the agent runtime markers (the same table identity.ts uses). */
function runtimeDetection(): string {
  return RUNTIME_MARKERS.map((m, i) => {
    const test = m.vars.map((v) => `[ -n "\${${v}:-}" ]`).join(' || ');
    return `    ${i === 0 ? 'if' : 'elif'} ${test}; then agent=${m.runtime}`;
  })
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
  const dir = hooksDir(ctx.repo);
  const shared = committableHooks(ctx, dir);
  if (shared.length) {
    // Never modify a file the team commits, nor put this machine's paths into one.
    return {
      dir,
      hooks: HOOK_NAMES.map((name) => ({
        name,
        state: 'manual',
        chained: false,
        healthy: false,
        problem: `${path.join(dir, name)} can be committed; add the line below to it`,
      })),
      manual: manualLines(ctx, dir),
    };
  }
  const results = HOOK_NAMES.map((name) => ({ name, state: installHook(dir, name, render(paths, name)) }));
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
  if (!(HOOK_NAMES as readonly string[]).includes(name)) return 0;
  if (name === 'prepare-commit-msg' || name === 'pre-commit') {
    const tmp = path.join(os.tmpdir(), `handoff-hook-${process.pid}-${name}`);
    fs.writeFileSync(tmp, render(paths, name), { mode: 0o700 });
    try {
      const res = spawnSync('sh', [tmp, ...args], { stdio: 'inherit' });
      return name === 'pre-commit' && res.status === 1 ? 1 : 0;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  spawnSync(paths.node, [path.join(paths.root, 'dist', 'hook.js'), name, ...args], { stdio: 'inherit' });
  return 0;
}

/** Hook files in `dir` that `git add` would pick up: the directory is in the working tree and not ignored. */
function committableHooks(ctx: Context, dir: string): string[] {
  const top = ctx.repo.worktree;
  if (!top) return [];
  const inside = (parent: string) => {
    const r = path.relative(parent, dir);
    return !r.startsWith('..') && !path.isAbsolute(r);
  };
  // .git/hooks (or a linked worktree's git dir) is never committed.
  if (inside(ctx.repo.commonDir) || inside(ctx.repo.gitDir)) return [];
  const rel = path.relative(top, dir);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return [];
  return HOOK_NAMES.map((n) => path.join(rel, n)).filter((f) => !isIgnored(ctx.repo, f));
}

/** Removes the hooks and restores what they chained. */
export function uninstallHooks(ctx: Context): HooksJson {
  requireWritable(ctx, 'remove hooks');
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

/** The lines to add by hand to hook files the team commits (where install changes nothing). */
function manualLines(ctx: Context, dir: string): string[] {
  return HOOK_NAMES.map(
    (name) => `${path.relative(ctx.repo.worktree ?? dir, path.join(dir, name))}: handoff hooks run ${name} "$@"`,
  );
}

/** What is installed and whether each hook can run. */
export function hooksStatus(ctx: Context, paths: HookPaths): HooksJson {
  const dir = hooksDir(ctx.repo);
  const shared = committableHooks(ctx, dir).length > 0;
  return {
    dir,
    // Where the hooks are committed, what is missing is added by hand, as install says.
    ...(shared ? { manual: manualLines(ctx, dir) } : {}),
    hooks: HOOK_NAMES.map((name) => {
      const s = hookState(dir, name);
      let problem: string | null = null;
      // A hook file the team keeps (husky), with the line 'hooks install' asks for.
      const line = s.foreign ? handoffLine(s.content ?? '', name) : null;
      if (line !== null) {
        let manual: string | null = null;
        if (!s.executable) manual = 'not executable';
        // git passes the hook's arguments (prepare-commit-msg: the message file); the line must pass them on.
        else if (!/"\$@"/.test(line))
          manual = `the line does not pass the hook's arguments: handoff hooks run ${name} "$@"`;
        else if (/^\s*(exec\s+)?handoff\s/.test(line) && !onPath('handoff'))
          manual = "runs 'handoff', which is not on PATH here (npm link, or name handoff's full path)";
        return { name, state: 'manual', chained: false, healthy: manual === null, problem: manual };
      }
      if (!s.installed) problem = s.foreign ? 'another hook is installed (handoff is not)' : 'not installed';
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
function onPath(command: string): boolean {
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
