/** Installing, removing and checking handoff's git hooks (templates in the repository's hooks/ folder). */
import fs from 'node:fs';
import path from 'node:path';
import { HandoffError } from '../core/errors';
import { hookState, hooksDir, installHook, uninstallHook } from '../git/hooks';
import type { Context } from './context';
import { RUNTIME_MARKERS } from './identity';

export const HOOK_NAMES = ['prepare-commit-msg', 'post-commit', 'post-rewrite'] as const;

export interface HooksJson {
  dir: string;
  hooks: { name: string; state: string; chained: boolean; healthy: boolean; problem: string | null }[];
}

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
  const dir = hooksDir(ctx.repo);
  const results = HOOK_NAMES.map((name) => ({ name, state: installHook(dir, name, render(paths, name)) }));
  const status = hooksStatus(ctx, paths);
  return { dir, hooks: status.hooks.map((h) => ({ ...h, state: results.find((r) => r.name === h.name)!.state })) };
}

/** Removes the hooks and restores what they chained. */
export function uninstallHooks(ctx: Context): HooksJson {
  const dir = hooksDir(ctx.repo);
  return { dir, hooks: HOOK_NAMES.map((name) => ({ name, state: uninstallHook(dir, name), chained: false, healthy: true, problem: null })) };
}

/** What is installed and whether each hook can run. */
export function hooksStatus(ctx: Context, paths: HookPaths): HooksJson {
  const dir = hooksDir(ctx.repo);
  return {
    dir,
    hooks: HOOK_NAMES.map((name) => {
      const s = hookState(dir, name);
      let problem: string | null = null;
      if (!s.installed) problem = s.foreign ? 'another hook is installed (handoff is not)' : 'not installed';
      else if (!s.executable) problem = 'not executable';
      else if (s.content !== render(paths, name)) {
        const target = /'([^']*dist\/hook\.js)'/.exec(s.content ?? '')?.[1];
        problem = target && !fs.existsSync(target) ? `points to ${target}, which is gone; run 'handoff hooks install'` : "installed by another handoff version; run 'handoff hooks install'";
      }
      return { name, state: s.installed ? 'installed' : s.foreign ? 'foreign' : 'absent', chained: s.chained, healthy: problem === null, problem };
    }),
  };
}

/** Checks that the hook templates and the hook entry exist where handoff runs from. */
export function checkHookPaths(paths: HookPaths): void {
  for (const f of [path.join(paths.root, 'dist', 'hook.js'), ...HOOK_NAMES.map((n) => path.join(paths.root, 'hooks', n))]) {
    if (!fs.existsSync(f)) throw new HandoffError('hooks_missing', `${f} is missing from this handoff installation. Run 'npm run build' in ${paths.root}.`);
  }
}
