/**
 * Reaching agents and keeping them from talking in circles: the loop guard (a notice when two agents
 * exchange many messages quickly) and the optional tmux doorbell (a fixed short line typed into the
 * recipient's pane, never the message body, repeats coalesced).
 */
import { spawnSync } from 'node:child_process';
import {
  exchangeHistory,
  getDoorbell,
  lastLoopNotice,
  markRung,
  noteLoopNotice,
  setDoorbell,
} from '../ledger/messages';
import type { MessageJson } from '../json/types';
import type { Context } from './context';
import { giveOnce } from './notices';

/** The loop guard's threshold: git config handoff.loopGuard "<messages>/<seconds>" (default 10/600, "off" disables). */
export function loopGuard(ctx: Pick<Context, 'config'>): { count: number; seconds: number } | null {
  const raw = ctx.config().get('handoff.loopguard')?.at(-1) ?? '10/600';
  if (/^(off|false|0)$/i.test(raw.trim())) return null;
  const m = /^(\d+)\s*\/\s*(\d+)$/.exec(raw.trim());
  return m ? { count: Number(m[1]), seconds: Number(m[2]) } : { count: 10, seconds: 600 };
}

/**
 * Notices for `me` about senders of `messages` it is going back and forth with too fast: at least `count`
 * messages in the window that alternate between the two (a one-way stream, such as broadcasts or status
 * lines, is not a loop). Said once per episode: an episode ends when the two fall silent for a window.
 */
export function loopNotices(ctx: Context, me: string, messages: Pick<MessageJson, 'from'>[]): string[] {
  const out: string[] = [];
  for (const other of new Set(messages.map((m) => m.from).filter((f) => f !== me))) {
    const loop = loopWith(ctx, me, other);
    if (!loop) continue;
    if (
      !giveOnce(
        ctx,
        () => loop.told,
        () => noteLoopNotice(ctx.db, me, other, loop.newest),
      )
    )
      continue;
    out.push(
      `You and ${other} have exchanged ${loop.count} messages in the last ${Math.round(loop.seconds / 60)} minutes, going back and forth ${loop.turns} times. If you are going in circles, stop and ask a human; answer with --no-reply to end the exchange. (Said once for this exchange.)`,
    );
  }
  return out;
}

/**
 * Whether `me` and `other` are going back and forth too fast now (the loop guard's test), and whether `me`
 * was told of this episode already; null when they are not (or the guard is off).
 */
export function loopWith(
  ctx: Context,
  me: string,
  other: string,
): { count: number; turns: number; seconds: number; newest: number; told: boolean } | null {
  const guard = loopGuard(ctx);
  if (!guard || other === me) return null;
  const windowMs = guard.seconds * 1000;
  const since = ctx.now().getTime() - windowMs;
  const history = exchangeHistory(ctx.db, me, other, 1000);
  const recent = history.filter((h) => h.clock >= since);
  if (recent.length < guard.count) return null;
  let turns = 0;
  for (let i = 1; i < recent.length; i++) if (recent[i]!.sender !== recent[i - 1]!.sender) turns++;
  // Back and forth: each side sent about half, and the direction changed often (a few in a row are fine).
  const mine = recent.filter((h) => h.sender === me).length;
  if (Math.min(mine, recent.length - mine) < Math.floor(guard.count / 2) || turns < Math.ceil((guard.count - 1) / 2))
    return null;
  let episodeStart = history[0]!.clock;
  for (let i = 1; i < history.length && history[i - 1]!.clock - history[i]!.clock < windowMs; i++)
    episodeStart = history[i]!.clock;
  const told = lastLoopNotice(ctx.db, me, other);
  return {
    count: recent.length,
    turns,
    seconds: guard.seconds,
    newest: history[0]!.clock,
    told: told !== null && told >= episodeStart,
  };
}

/** Remembers the tmux pane this process runs in for `agent` (when inside tmux). */
export function registerPane(ctx: Context, agent: string): void {
  const pane = ctx.env.TMUX_PANE;
  if (ctx.env.TMUX && pane && /^%\d+$/.test(pane)) setDoorbell(ctx.db, agent, pane);
}

const DOORBELL_LINE = 'You have a new handoff message: run handoff inbox';
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
