/**
 * Reaching agents and keeping them from talking in circles: the loop guard (a notice when two agents
 * exchange many messages quickly) and the optional tmux doorbell (a fixed short line typed into the
 * recipient's pane, never the message body, repeats coalesced).
 */
import { spawnSync } from 'node:child_process';
import { exchangedSince, getDoorbell, markRung, setDoorbell } from '../ledger/messages';
import type { MessageJson } from '../json/types';
import type { Context } from './context';

/** The loop guard's threshold: git config handoff.loopGuard "<messages>/<seconds>" (default 10/600, "off" disables). */
export function loopGuard(ctx: Pick<Context, 'config'>): { count: number; seconds: number } | null {
  const raw = ctx.config().get('handoff.loopguard')?.at(-1) ?? '10/600';
  if (/^(off|false|0)$/i.test(raw.trim())) return null;
  const m = /^(\d+)\s*\/\s*(\d+)$/.exec(raw.trim());
  return m ? { count: Number(m[1]), seconds: Number(m[2]) } : { count: 10, seconds: 600 };
}

/** Notices for `me` about the senders of `messages` it is exchanging with too fast. */
export function loopNotices(ctx: Context, me: string, messages: MessageJson[]): string[] {
  if (!messages.some((m) => m.from !== me)) return [];
  const guard = loopGuard(ctx);
  if (!guard) return [];
  const since = ctx.now().getTime() - guard.seconds * 1000;
  const out: string[] = [];
  for (const other of new Set(messages.map((m) => m.from).filter((f) => f !== me))) {
    const n = exchangedSince(ctx.db, me, other, since);
    if (n >= guard.count) {
      out.push(
        `You and ${other} exchanged ${n} messages in the last ${Math.round(guard.seconds / 60)} minutes. Consider stopping to ask a human, or answer with --no-reply to end the loop.`,
      );
    }
  }
  return out;
}

/** Remembers the tmux pane this process runs in for `agent` (when inside tmux). */
export function registerPane(ctx: Context, agent: string): void {
  const pane = ctx.env.TMUX_PANE;
  if (ctx.env.TMUX && pane && /^%\d+$/.test(pane)) setDoorbell(ctx.db, agent, pane);
}

export const DOORBELL_LINE = 'You have a new handoff message: run handoff inbox';
const COALESCE_MS = 30_000;

/** Rings the recipients' doorbells when git config handoff.doorbell is true; returns who was rung. */
export function ringDoorbells(ctx: Context, recipients: string[]): string[] {
  const on = ctx.config().get('handoff.doorbell')?.at(-1);
  if (!on || !/^(true|yes|on|1)$/i.test(on)) return [];
  const rung: string[] = [];
  const now = Date.now();
  for (const agent of recipients) {
    const bell = getDoorbell(ctx.db, agent);
    if (!bell || !/^%\d+$/.test(bell.pane) || now - bell.last_rung < COALESCE_MS) continue;
    const typed = spawnSync('tmux', ['send-keys', '-t', bell.pane, '-l', DOORBELL_LINE], { stdio: 'ignore' });
    if (typed.status !== 0) continue;
    spawnSync('tmux', ['send-keys', '-t', bell.pane, 'Enter'], { stdio: 'ignore' });
    markRung(ctx.db, agent, now);
    rung.push(agent);
  }
  return rung;
}
