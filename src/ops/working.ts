/**
 * Which handoff an agent is working on, kept in <git common dir>/handoff/working/<agent> so that the
 * prepare-commit-msg hook (plain shell) can read it. Line 1: a message id or "none"; line 2: how it was
 * set ("explicit" by work-on, "auto" by reading a message).
 */
import fs from 'node:fs';
import path from 'node:path';
import { validateAgentName } from '../core/names';
import { isEventId } from '../core/events';
import type { Context } from './context';

export interface WorkingOn {
  message: string | null;
  mode: 'explicit' | 'auto' | 'none';
}

const fileFor = (ctx: Pick<Context, 'dataDir'>, agent: string) => path.join(ctx.dataDir, 'working', validateAgentName(agent));

/** What `agent` is working on (HANDOFF_MESSAGE in the environment wins). */
export function workingOn(ctx: Pick<Context, 'dataDir' | 'env'>, agent: string): WorkingOn {
  const fromEnv = ctx.env.HANDOFF_MESSAGE;
  if (fromEnv && isEventId(fromEnv)) return { message: fromEnv, mode: 'explicit' };
  try {
    const [first, mode] = fs.readFileSync(fileFor(ctx, agent), 'utf8').split('\n');
    if (first === 'none') return { message: null, mode: 'none' };
    if (isEventId(first)) return { message: first!, mode: mode === 'explicit' ? 'explicit' : 'auto' };
  } catch {
    /* nothing recorded */
  }
  return { message: null, mode: 'auto' };
}

/** Records what `agent` works on; an automatic update never overrides an explicit choice. */
export function setWorkingOn(ctx: Pick<Context, 'dataDir' | 'env'>, agent: string, next: WorkingOn): void {
  const file = fileFor(ctx, agent);
  if (next.mode === 'auto') {
    const current = workingOn({ ...ctx, env: {} }, agent);
    if (current.mode !== 'auto') return;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}`;
  fs.writeFileSync(tmp, next.mode === 'none' ? 'none\nexplicit\n' : `${next.message}\n${next.mode}\n`);
  fs.renameSync(tmp, file);
}

/** Forgets an explicit choice: back to "the newest message read". */
export function clearWorkingOn(ctx: Pick<Context, 'dataDir'>, agent: string): void {
  fs.rmSync(fileFor(ctx, agent), { force: true });
}
