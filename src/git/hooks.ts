/**
 * Installing git hooks beside whatever is there: the hooks directory honours core.hooksPath (husky,
 * lefthook), an existing hook of the same name is kept as `<name>.handoff-chained` and run first, and
 * uninstall puts it back exactly (rename keeps content and mode).
 */
import fs from 'node:fs';
import path from 'node:path';
import { HandoffError } from '../core/errors';
import { runGit } from './exec';
import type { Repo } from './repo';

const HOOK_MARK = '# handoff hook:';
const CHAINED = '.handoff-chained';
const LEGACY = '.legacy';

/** True when `file` (relative to the worktree) is ignored by git, so that it is never committed. */
export function isIgnored(repo: Repo, file: string): boolean {
  return (
    runGit(['check-ignore', '-q', '--no-index', '--', file], { cwd: repo.worktree ?? repo.cwd, allowFailure: true })
      .status === 0
  );
}

/** The directory git runs hooks from for this repository. */
export function hooksDir(repo: Repo): string {
  return runGit(['rev-parse', '--path-format=absolute', '--git-path', 'hooks'], { cwd: repo.cwd })
    .stdout.toString('utf8')
    .trim();
}

export interface HookState {
  name: string;
  path: string;
  installed: boolean;
  chained: boolean;
  /** Another hook is there that is not handoff's (before install). */
  foreign: boolean;
  executable: boolean;
  content: string | null;
}

/** What is installed for one hook name. */
export function hookState(dir: string, name: string): HookState {
  const file = path.join(dir, name);
  let content: string | null = null;
  let executable = false;
  try {
    content = fs.readFileSync(file, 'utf8');
    executable = (fs.statSync(file).mode & 0o111) !== 0;
  } catch {
    content = null;
  }
  const installed = content !== null && content.includes(HOOK_MARK);
  return {
    name,
    path: file,
    installed,
    chained: fs.existsSync(file + CHAINED),
    foreign: content !== null && !installed,
    executable,
    content,
  };
}

/**
 * Whether handoff's hook `name` sits as `<name>.legacy`, where the pre-commit framework moved it when it was
 * installed after handoff (its "migration mode" runs that file first): handoff's hook runs from there.
 */
export function movedToLegacy(dir: string, name: string): boolean {
  try {
    return fs.readFileSync(path.join(dir, `${name}${LEGACY}`), 'utf8').includes(HOOK_MARK);
  } catch {
    return false;
  }
}

/** Writes handoff's hook `name`, keeping an existing foreign hook as the chained one. Returns what it did. */
export function installHook(dir: string, name: string, script: string): 'installed' | 'updated' | 'unchanged' {
  fs.mkdirSync(dir, { recursive: true });
  const state = hookState(dir, name);
  if (state.installed && state.content === script && state.executable) return 'unchanged';
  // The pre-commit framework runs handoff's hook as <name>.legacy: it is brought up to date there.
  if (state.foreign && !state.chained && movedToLegacy(dir, name)) {
    const legacy = state.path + LEGACY;
    if (fs.readFileSync(legacy, 'utf8') === script && (fs.statSync(legacy).mode & 0o111) !== 0) return 'unchanged';
    const tmp = `${legacy}.handoff-tmp`;
    fs.writeFileSync(tmp, script, { mode: 0o755 });
    fs.renameSync(tmp, legacy);
    return 'updated';
  }
  // A hook that took handoff's place while the one handoff chained is still kept: neither is overwritten.
  if (state.foreign && state.chained)
    throw new HandoffError(
      'hook_conflict',
      `${state.path} is another tool's hook (it replaced handoff's), and ${state.path + CHAINED} still holds the hook handoff chained before it. handoff overwrites neither: merge them into one (or move one away), then run 'handoff hooks install' again.`,
    );
  if (state.foreign) fs.renameSync(state.path, state.path + CHAINED);
  const tmp = `${state.path}.handoff-tmp`;
  fs.writeFileSync(tmp, script, { mode: 0o755 });
  fs.renameSync(tmp, state.path);
  return state.installed ? 'updated' : 'installed';
}

/** Removes handoff's hook `name` and puts back the one it chained, if any. */
export function uninstallHook(dir: string, name: string): 'removed' | 'restored' | 'absent' {
  const state = hookState(dir, name);
  if (!state.installed && movedToLegacy(dir, name)) {
    // Run by the pre-commit framework as <name>.legacy: the hook handoff chained goes back there, where it ran
    // before handoff's.
    fs.rmSync(state.path + LEGACY, { force: true });
    if (!state.chained) return 'removed';
    fs.renameSync(state.path + CHAINED, state.path + LEGACY);
    return 'restored';
  }
  if (!state.installed) return 'absent';
  fs.rmSync(state.path, { force: true });
  if (state.chained) {
    fs.renameSync(state.path + CHAINED, state.path);
    return 'restored';
  }
  return 'removed';
}
