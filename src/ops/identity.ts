/**
 * Who is calling: HANDOFF_AGENT, then --as, then a detected agent runtime, then the git user
 * (docs/architecture.md, "Identity"). Names are validated here, before anything is written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../core/errors';
import { NAME_PATTERN, slugifyName, validateAgentName } from '../core/names';
import type { IdentityJson } from '../json/types';
import type { Context } from './context';

/**
 * Environment variables by which agent runtimes reveal themselves, in the order they are checked. A `weak`
 * marker is set also where the runtime does not run: Claude Code's IDE extensions set CLAUDECODE in their
 * integrated terminals, so Codex or Gemini CLI started from such a terminal carries it. A runtime found only
 * by a weak marker counts only where no other runtime's marker is found.
 */
export const RUNTIME_MARKERS: { runtime: string; vars: string[]; weak?: string[] }[] = [
  // Sources for each marker: docs/agents.md.
  {
    runtime: 'claude',
    vars: ['CLAUDE_CODE_CHILD_SESSION', 'CLAUDE_CODE_ENTRYPOINT', 'CLAUDECODE'],
    weak: ['CLAUDECODE'],
  },
  { runtime: 'codex', vars: ['CODEX_SANDBOX', 'CODEX_SANDBOX_NETWORK_DISABLED', 'CODEX_THREAD_ID'] },
  { runtime: 'gemini', vars: ['GEMINI_CLI'] },
  { runtime: 'copilot', vars: ['COPILOT_CLI', 'COPILOT_AGENT_SESSION_ID', 'COPILOT_AGENT', 'GITHUB_COPILOT_CLI'] },
  { runtime: 'cursor', vars: ['CURSOR_AGENT'] },
  { runtime: 'opencode', vars: ['OPENCODE'] },
  { runtime: 'aider', vars: ['AIDER_CHAT', 'AIDER_MODEL'] },
];

/**
 * Every agent runtime whose markers this environment carries (an agent started from another carries both),
 * in RUNTIME_MARKERS order; those found only by a weak marker only when no other is found.
 */
export function detectRuntimes(env: NodeJS.ProcessEnv): string[] {
  const { strong, weak } = runtimeMarkers(env);
  return strong.length ? strong : weak;
}

/** The runtimes this environment names by a strong marker, and those it names only by a weak one. */
export function runtimeMarkers(env: NodeJS.ProcessEnv): { strong: string[]; weak: string[] } {
  const set = (v: string) => env[v] !== undefined && env[v] !== '';
  const strong: string[] = [];
  const weak: string[] = [];
  for (const m of RUNTIME_MARKERS) {
    if (m.vars.some((v) => set(v) && !m.weak?.includes(v))) strong.push(m.runtime);
    else if (m.vars.some(set)) weak.push(m.runtime);
  }
  return { strong, weak };
}

/** The agent runtime this process runs under, or null. */
function detectRuntime(env: NodeJS.ProcessEnv): string | null {
  return detectRuntimes(env)[0] ?? null;
}

/**
 * The file, in this worktree's own git directory, that names the agent each runtime is in this worktree
 * (`handoff init --agent claude --name claude-ui`): a line "<runtime> <name>" each. Shell commands an agent
 * runs carry its runtime's marker (CLAUDECODE) but not the HANDOFF_AGENT of its MCP server and hooks.
 * The prepare-commit-msg hook reads it too.
 */
export const WORKTREE_NAMES = 'handoff-names';

/** This worktree's names by runtime (empty when none were given). */
export function worktreeNames(gitDir: string): Map<string, string> {
  const out = new Map<string, string>();
  let text = '';
  try {
    text = fs.readFileSync(path.join(gitDir, WORKTREE_NAMES), 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const [runtime, name] = line.trim().split(/\s+/);
    if (runtime && name && NAME_PATTERN.test(name) && !name.includes('..')) out.set(runtime, name);
  }
  return out;
}

/** Resolves the caller's identity; throws a UsageError when there is none or it is invalid. */
export function resolveIdentity(
  ctx: Pick<Context, 'env' | 'config'> & { repo?: Pick<Context['repo'], 'gitDir'> },
  opts: { as?: string } = {},
): IdentityJson {
  // The MCP server names the runtime of the client that started it (its environment may reveal none).
  const runtime = detectRuntime(ctx.env) ?? (ctx.env.HANDOFF_CLIENT_RUNTIME || null);
  // An invalid --as is reported as such, whatever else is set.
  if (opts.as !== undefined) validateAgentName(opts.as);
  const fromEnv = ctx.env.HANDOFF_AGENT;
  if (fromEnv !== undefined && fromEnv !== '') {
    try {
      validateAgentName(fromEnv);
    } catch (err) {
      throw new UsageError('invalid_name', `HANDOFF_AGENT is set to an invalid name. ${(err as Error).message}`);
    }
    if (opts.as !== undefined && opts.as !== fromEnv) {
      throw new UsageError(
        'identity_conflict',
        `HANDOFF_AGENT=${fromEnv} is set in the environment, so --as ${JSON.stringify(opts.as)} cannot be used. Unset HANDOFF_AGENT to act as someone else.`,
      );
    }
    return { name: fromEnv, runtime, via: ctx.env.HANDOFF_AGENT_FROM === 'mcp-client' ? 'mcp-client' : 'env' };
  }
  if (opts.as !== undefined) return { name: opts.as, runtime, via: 'flag' };
  if (runtime) {
    const named = ctx.repo ? worktreeNames(ctx.repo.gitDir).get(runtime) : undefined;
    return { name: named ?? runtime, runtime, via: 'runtime' };
  }
  const cfg = ctx.config();
  // git config lists system, global, then local values: the last one is the one git uses.
  const user = cfg.get('user.name')?.at(-1) ?? '';
  const email = cfg.get('user.email')?.at(-1) ?? '';
  const name = slugifyName(user) ?? slugifyName(email.split('@')[0] ?? '');
  if (name) return { name, runtime: null, via: 'git-user' };
  throw new UsageError(
    'no_identity',
    'handoff does not know who you are. Set HANDOFF_AGENT=<name> (what `handoff init` does for agents), pass --as <name>, or set git config user.name.',
  );
}
