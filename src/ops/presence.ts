/** Marking this process as a live one for an agent (mcp servers, waits), and forgetting it. */
import os from 'node:os';
import { processStartToken } from '../core/proc';
import { addPresence as add, removePresence as remove } from '../ledger/presence';
import type { Context } from './context';

/** Records this process as live for `agent`. */
export function addPresence(ctx: Context, agent: string, command: string): void {
  add(ctx.db, { agent, host: os.hostname(), pid: process.pid, command, started_at: ctx.now().toISOString(), proc_start: processStartToken(process.pid) });
}

/** Forgets this process for `agent`. */
export function removePresence(ctx: Context, agent: string): void {
  try {
    remove(ctx.db, agent, os.hostname(), process.pid);
  } catch {
    /* stale rows are dropped by 'agents' */
  }
}
