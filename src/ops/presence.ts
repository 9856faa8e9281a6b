/**
 * Marking this process as a live one for an agent (mcp servers, waits), and forgetting it. One process may
 * be live for an agent for several reasons at once (an MCP server running a wait): the row stays until the
 * last of them ends.
 */
import os from 'node:os';
import { processStartToken } from '../core/proc';
import { removeDeadMarks } from '../git/refs';
import { addPresence as add, removePresence as remove } from '../ledger/presence';
import type { Context } from './context';

const holds = new Map<string, number>();

/**
 * Records this process as live for `agent` (counted: every add needs its remove). A long-lived writer (an
 * MCP server) first removes the lock marks and ref values writers killed with `kill -9` left behind.
 */
export function addPresence(ctx: Context, agent: string, command: string): void {
  if (command === 'mcp' && !ctx.readOnly) removeDeadMarks(ctx.repo.commonDir);
  holds.set(agent, (holds.get(agent) ?? 0) + 1);
  add(ctx.db, {
    agent,
    host: os.hostname(),
    pid: process.pid,
    command,
    started_at: ctx.now().toISOString(),
    proc_start: processStartToken(process.pid),
  });
}

/** Forgets this process for `agent` once nothing else in it holds the agent live. */
export function removePresence(ctx: Context, agent: string): void {
  const left = (holds.get(agent) ?? 1) - 1;
  if (left > 0) {
    holds.set(agent, left);
    return;
  }
  holds.delete(agent);
  try {
    if (ctx.db.open) remove(ctx.db, agent, os.hostname(), process.pid);
  } catch {
    /* stale rows are dropped by 'agents' */
  }
}
