/**
 * Which handoff an agent is working on, kept where the prepare-commit-msg hook (plain shell) can read it:
 * per worktree in <worktree's git dir>/handoff-working/<agent> (what `git rev-parse --git-path
 * handoff-working` names), and as the agent's last choice anywhere in <git common dir>/handoff/working/<agent>,
 * which a worktree where the agent chose nothing goes by. So one agent name working in two worktrees (two
 * sessions of one runtime) works on what each chose, and one agent that moves to another worktree takes its
 * choice along. Line 1: a message id or "none"; line 2: how it was set: "explicit" (work-on), "reply" (the
 * agent replied to that request with a diff), or "auto" (the newest request it read: only a guess, so commits
 * get no trailer and their attribution says so).
 */
import fs from 'node:fs';
import path from 'node:path';
import { validateAgentName } from '../core/names';
import { writeFileAtomic } from '../core/files';
import { isEventId } from '../core/events';
import type { Context } from './context';
import type { Link } from '../json/types';
import { newestReadRequests } from '../ledger/messages';
import { claimEventsOf, foldClaims, latestOutcomeOf } from '../ledger/coordination';
import { activity, liveness } from './claims';

export interface WorkingOn {
  message: string | null;
  mode: 'explicit' | 'reply' | 'auto' | 'none';
}

/** The link a working-on state gives a commit. */
export function linkOf(w: WorkingOn): Link | null {
  if (!w.message) return null;
  return w.mode === 'explicit' ? 'pinned' : w.mode === 'reply' ? 'reply' : 'guess';
}

const RANK: Record<WorkingOn['mode'], number> = { auto: 0, reply: 1, explicit: 2, none: 2 };

type Where = { repo: Pick<Context['repo'], 'gitDir'>; dataDir: string };

/** This worktree's file for `agent`, and the agent's last choice anywhere. */
const filesFor = (ctx: Where, agent: string): [string, string] => {
  const name = validateAgentName(agent);
  return [path.join(ctx.repo.gitDir, 'handoff-working', name), path.join(ctx.dataDir, 'working', name)];
};

function readWorking(file: string): WorkingOn | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const [first, mode] = text.split('\n');
  if (first === 'none') return { message: null, mode: 'none' };
  if (isEventId(first)) return { message: first!, mode: mode === 'explicit' || mode === 'reply' ? mode : 'auto' };
  return null;
}

/** What `agent` is working on here (HANDOFF_MESSAGE in the environment wins). */
export function workingOn(ctx: Where & Pick<Context, 'env'>, agent: string): WorkingOn {
  const fromEnv = ctx.env.HANDOFF_MESSAGE?.toUpperCase();
  if (fromEnv && isEventId(fromEnv)) return { message: fromEnv, mode: 'explicit' };
  const [here, anywhere] = filesFor(ctx, agent);
  return readWorking(here) ?? readWorking(anywhere) ?? { message: null, mode: 'auto' };
}

/** Records what `agent` works on; a weaker update (a read, a reply) never overrides a stronger choice (work-on). */
export function setWorkingOn(ctx: Where & Pick<Context, 'env'>, agent: string, next: WorkingOn): void {
  if (next.mode !== 'explicit' && next.mode !== 'none') {
    const current = workingOn({ ...ctx, env: {} }, agent);
    if (RANK[current.mode] > RANK[next.mode]) return;
  }
  const text = next.mode === 'none' ? 'none\nexplicit\n' : `${next.message}\n${next.mode}\n`;
  for (const file of filesFor(ctx, agent)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, text, 0o644);
  }
}

/** Forgets an explicit choice: back to "the newest message read". */
export function clearWorkingOn(ctx: Where, agent: string): void {
  for (const file of filesFor(ctx, agent)) fs.rmSync(file, { force: true });
}

/**
 * Back to the guess (work-on --auto): the newest request `agent` read that is still its to work on (not done;
 * not failed or blocked by it; not held by another live agent), or nothing.
 */
export function guessWorkingOn(ctx: Context, agent: string): void {
  clearWorkingOn(ctx, agent);
  const guess = newestReadRequests(ctx.db, agent).find((id) => {
    const outcome = latestOutcomeOf(ctx.db, id);
    if (outcome && outcome.agent === agent && outcome.state !== 'done') return false;
    const holder = foldClaims(claimEventsOf(ctx.db, id), activity(ctx)).holder;
    if (!holder || holder.agent === agent) return true;
    const state = liveness(ctx, holder);
    return state === 'gone' || state === 'expired';
  });
  if (guess) setWorkingOn(ctx, agent, { message: guess, mode: 'auto' });
}
