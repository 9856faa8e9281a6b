/**
 * The hooks' spool: a commit must never wait on handoff. When the post-commit hook cannot get the SQLite
 * write lock within a moment (another process holds it), it writes what it knows to
 * <git common dir>/handoff/spool/ and lets the commit finish; the next handoff command records it.
 */
import { randomHex } from '../core/random';
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from './context';
import { recordCommit } from './attribution';
import { resolveCommit } from '../git/history';

interface SpoolEntry {
  hook: 'post-commit';
  commit: string;
  /** The identity-bearing environment of the commit (HANDOFF_*, agent runtime markers). */
  env: Record<string, string>;
}

const dirOf = (ctx: Pick<Context, 'dataDir'>) => path.join(ctx.dataDir, 'spool');

/** The environment variables that decide who made a commit (HANDOFF_*, agent runtime markers). */
const IDENTITY_VAR = /^(HANDOFF_|CLAUDECODE$|CLAUDE_CODE_|CODEX_|GEMINI_CLI$|COPILOT_|CURSOR_AGENT$|OPENCODE$|AIDER_)/;

function identityEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && IDENTITY_VAR.test(k)) out[k] = v;
  return out;
}

/** Leaves HEAD's commit for the next command to record. */
export function spoolHead(ctx: Context): string | null {
  const commit = resolveCommit(ctx.repo.cwd, 'HEAD');
  return commit ? spoolCommit(ctx, commit) : null;
}

/** Leaves a commit for the next command to record (written atomically). */
function spoolCommit(ctx: Pick<Context, 'dataDir' | 'env'>, commit: string): string {
  const dir = dirOf(ctx);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const entry: SpoolEntry = { hook: 'post-commit', commit, env: identityEnv(ctx.env) };
  const name = `${Date.now()}-${process.pid}-${randomHex(3)}.json`;
  const tmp = path.join(dir, `.${name}`);
  fs.writeFileSync(tmp, JSON.stringify(entry), { mode: 0o600 });
  fs.renameSync(tmp, path.join(dir, name));
  return path.join(dir, name);
}

/** Records every spooled commit (oldest first); an entry is removed only once it is recorded. */
export function drainSpool(ctx: Context): number {
  let names: string[];
  try {
    names = fs
      .readdirSync(dirOf(ctx))
      .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
      .sort();
  } catch {
    return 0;
  }
  let done = 0;
  for (const name of names) {
    const file = path.join(dirOf(ctx), name);
    let entry: SpoolEntry;
    try {
      entry = JSON.parse(fs.readFileSync(file, 'utf8')) as SpoolEntry;
    } catch {
      continue; // taken by another process meanwhile
    }
    if (entry.hook !== 'post-commit' || !/^[0-9a-f]{40}$/.test(entry.commit)) {
      fs.rmSync(file, { force: true });
      continue;
    }
    // Who made the commit is what its environment said then: the draining process's own markers (an agent
    // running the next command) say nothing of it.
    const env = ctx.env;
    ctx.env = {
      ...Object.fromEntries(Object.entries(env).filter(([k]) => !IDENTITY_VAR.test(k))),
      ...entry.env,
    };
    try {
      recordCommit(ctx, { rev: entry.commit });
      fs.rmSync(file, { force: true });
      done++;
    } catch {
      break; // busy again, or git trouble: the entry stays for the next command
    } finally {
      ctx.env = env;
    }
  }
  return done;
}
