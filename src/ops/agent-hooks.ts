/**
 * What an agent's own hooks (Claude Code's SessionStart and Stop, written by `init`) ask handoff: at session
 * start, who the agent is and what waits for it; at the end of a turn, whether new messages arrived, so the
 * agent reads them before it stops. At most one nudge per message, and never for another runtime: a hook
 * file one agent reads may be run by another (Copilot CLI and Cursor run Claude Code's hooks).
 */
import fs from 'node:fs';
import path from 'node:path';
import { processStartToken } from '../core/proc';
import { firstLine, inert } from '../core/text';
import { shortId } from '../core/ids';
import { writeTx } from '../ledger/db';
import { confirmNudges, dropPendingNudges, inboxFor, takeNewNudges } from '../ledger/messages';
import type { Context } from './context';
import { resolveIdentity, runtimeMarkers } from './identity';
import { claimNotices } from './claims';
import { reservationNotices } from './reservations';
import { waitForChange } from './wait';
import { loopNotices, loopWith } from './wakeups';
import type { AgentHookJson } from '../json/setup';

export type AgentHookEvent = 'session-start' | 'stop' | 'idle-wait';

/**
 * The runtime that runs this hook: Cursor's input carries cursor_version; environment markers name the
 * others. Claude Code sets CLAUDECODE=1 for hook commands (docs/agents.md), so a hook written for Claude
 * Code that runs without it runs elsewhere (Copilot CLI, VS Code and Cursor read Claude Code's hooks).
 */
function runningUnder(ctx: Context, input: Record<string, unknown>): string | null {
  if ('cursor_version' in input || 'workspace_roots' in input) return 'cursor';
  const meant = ctx.env.HANDOFF_RUNTIME || null;
  const { strong, weak } = runtimeMarkers(ctx.env);
  // Only a weak marker (CLAUDECODE, which Claude Code's IDE extensions set in their terminals, so Codex or
  // Gemini CLI started there carries it) does not outweigh the runtime whose own hook file this came from.
  if (meant && !strong.length && weak.length) return meant;
  const found = strong.length ? strong : weak;
  // Another runtime's marker next to ours (one agent started from another's shell) is not ours to answer.
  const other = found.find((r) => r !== meant);
  if (other) return other;
  if (found.length) return found[0]!;
  return ctx.env.HANDOFF_RUNTIME === 'claude' ? 'an agent that is not Claude Code (CLAUDECODE is not set)' : null;
}

/**
 * The end-of-turn answer in each runtime's documented shape: Claude Code, Codex and Copilot CLI continue on
 * {"decision": "block", "reason"}; Gemini CLI's AfterAgent on {"decision": "deny", "reason"}; Cursor's stop
 * hook submits {"followup_message"}; VS Code wants it inside hookSpecificOutput; opencode's plugin reads
 * the Claude shape.
 */
function continueWith(runtime: string | null, reason: string): Record<string, unknown> {
  if (runtime === 'gemini') return { decision: 'deny', reason };
  if (runtime === 'cursor') return { followup_message: reason };
  // VS Code reads the same hook files as Copilot CLI and documents the decision inside hookSpecificOutput.
  if (runtime === 'copilot')
    return { decision: 'block', reason, hookSpecificOutput: { hookEventName: 'Stop', decision: 'block', reason } };
  return { decision: 'block', reason };
}

/** How long a background idle-wait lasts (below the hook's 3600 s timeout that init writes). */
const IDLE_WAIT_MS = 3500_000;

/**
 * The background half of the Stop hook (async + asyncRewake): waits until a message arrives that the agent
 * was not told about, then returns the text that wakes the idle session (the hook exits 2 with it). One
 * waiter per agent: a newer one (the next turn's) replaces it.
 */
export async function idleWait(
  ctx: Context,
  input: { stdin: string; timeoutMs?: number },
): Promise<{ wake: string | null; skipped: string | null }> {
  const first = agentHookPrecheck(ctx, input.stdin);
  if (first) return { wake: null, skipped: first };
  const me = resolveIdentity(ctx);
  const lock = path.join(ctx.dataDir, `idle-wait-${me.name}`);
  const token = `${process.pid} ${processStartToken(process.pid) ?? ''}`;
  fs.writeFileSync(lock, token);
  try {
    const fresh = await waitForChange(
      ctx,
      () => {
        let holder = '';
        try {
          holder = fs.readFileSync(lock, 'utf8');
        } catch {
          /* removed: stop */
        }
        if (holder !== token) return [] as string[];
        const unread = inboxFor(ctx.db, { agent: me.name, includeRead: false }).map((m) => m.id);
        const got = writeTx(ctx.db, () => takeNewNudges(ctx.db, me.name, unread, ctx.now().getTime()));
        return got.length ? got : undefined;
      },
      input.timeoutMs ?? IDLE_WAIT_MS,
    );
    if (!fresh || fresh.length === 0)
      return { wake: null, skipped: fresh ? 'a newer waiter took over' : 'no message came' };
    const rows = inboxFor(ctx.db, { agent: me.name, includeRead: false }).filter((m) => fresh.includes(m.id));
    const lines = rows
      .slice(0, 10)
      .map((m) => `- ${shortId(m.id)} from ${inert(m.sender)} (${m.kind}): ${firstLine(m.body, 80)}`);
    const text = [
      `New handoff message${rows.length === 1 ? '' : 's'} for ${me.name}:`,
      ...lines,
      `Read with \`handoff read <id>\` and act on ${rows.length === 1 ? 'it' : 'them'}.`,
    ];
    return { wake: text.join('\n'), skipped: null };
  } finally {
    try {
      if (fs.readFileSync(lock, 'utf8') === token) fs.rmSync(lock, { force: true });
    } catch {
      /* gone */
    }
  }
}

/**
 * The JSON object an agent gives its hook on stdin, or {} when there is none usable. A UTF-8 byte order mark
 * before it (Cursor on Windows writes one) is not part of the JSON.
 */
function hookPayload(stdin: string): Record<string, unknown> {
  const text = stdin.replace(/^\uFEFF/, '').trim();
  try {
    const parsed = text ? (JSON.parse(text) as unknown) : {};
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    /* no usable input: the event alone is acted on */
  }
  return {};
}

/** Why this hook should do nothing (written for another runtime, nudges off), or null. */
function agentHookPrecheck(ctx: Context, stdin: string): string | null {
  const payload = hookPayload(stdin);
  const meant = ctx.env.HANDOFF_RUNTIME || null;
  const actual = runningUnder(ctx, payload);
  if (meant && actual && actual !== meant)
    return `this hook was written for ${meant} but runs under ${actual}; it speaks for nobody`;
  if (/^(off|false|0)$/i.test(ctx.config().get('handoff.nudge')?.at(-1) ?? '')) return 'handoff.nudge is off';
  return null;
}

/** Answers one agent hook event (session-start, stop). */
export function agentHook(
  ctx: Context,
  input: { event: Exclude<AgentHookEvent, 'idle-wait'>; stdin: string },
): AgentHookJson {
  const payload = hookPayload(input.stdin);
  const skip = agentHookPrecheck(ctx, input.stdin);
  if (skip) return { output: null, skipped: skip, nudged: [] };
  // Cursor runs its stop hook also when the user stopped the agent or the turn failed ("aborted", "error"):
  // a followup_message would start a new turn against the user's wish.
  const fromCursor = 'cursor_version' in payload || 'workspace_roots' in payload;
  if (input.event === 'stop' && fromCursor && typeof payload.status === 'string' && payload.status !== 'completed')
    return { output: null, skipped: `the turn ended as ${JSON.stringify(payload.status)}, not completed`, nudged: [] };
  const me = resolveIdentity(ctx);
  const unread = inboxFor(ctx.db, { agent: me.name, includeRead: false });
  const list = (ids: string[]) =>
    unread
      .filter((m) => ids.includes(m.id))
      .slice(0, 10)
      .map(
        (m) =>
          `- ${shortId(m.id)} from ${inert(m.sender)} (${m.kind}${m.priority === 'urgent' ? ', urgent' : ''}): ${firstLine(m.body, 80)}`,
      )
      .join('\n');
  if (input.event === 'session-start') {
    // Copilot CLI does not read this output (below): its notices wait for the first Stop.
    const notices = ctx.env.HANDOFF_RUNTIME === 'copilot' ? [] : coordinationNotices(ctx, me.name);
    const text = `${
      unread.length
        ? `You are "${me.name}" in handoff. ${unread.length} unread message${unread.length === 1 ? '' : 's'}:\n${list(unread.map((m) => m.id))}\nRead them with \`handoff read <id>\` (or the handoff MCP tool "read") before you start.`
        : `You are "${me.name}" in handoff. No unread messages; \`handoff inbox\` checks again.`
    }${notices.map((n) => `\n${n}`).join('')}`;
    // Told at session start counts as told: the Stop hook nudges only about what came later. Copilot CLI
    // does not read a sessionStart hook's output (docs/agents.md): there the first Stop tells.
    return {
      output: { hookSpecificOutput: { hookEventName: 'SessionStart', additionalContext: text } },
      skipped: null,
      nudged:
        ctx.env.HANDOFF_RUNTIME !== 'copilot'
          ? takePending(
              ctx,
              me.name,
              unread.map((m) => m.id),
            )
          : [],
    };
  }
  // Two agents whose Stop hooks keep each other's turns going: once the loop guard has told this one that
  // they are going back and forth (below, in the reason), a turn that a Stop hook already continued
  // (stop_hook_active, as Claude Code and Gemini CLI document it) ends. The messages stay unread for the
  // next turn a human starts, or the next session.
  const senders = [...new Set(unread.map((m) => m.sender))];
  if (payload.stop_hook_active === true && senders.length) {
    const loops = senders.map((s) => loopWith(ctx, me.name, s));
    if (loops.every((l) => l?.told))
      return {
        output: null,
        skipped: `going back and forth with ${senders.join(', ')} (the loop guard told you); letting the turn end, the messages stay unread`,
        nudged: [],
      };
  }
  // Taken now, so that a hook running beside this one (idle-wait) does not tell them too, and recorded once
  // the output has reached the agent (recordNudges): a hook whose output was lost tells again later.
  const fresh = takePending(
    ctx,
    me.name,
    unread.map((m) => m.id),
  );
  // A claim lost or taken over, or an exclusive reservation that an earlier one outweighs: said once, here as
  // in inbox, so that an agent that learns of handoff through its hooks stops working on what is not its.
  const notices = coordinationNotices(ctx, me.name);
  if (fresh.length === 0 && notices.length === 0)
    return {
      output: null,
      skipped: payload.stop_hook_active ? 'already nudged; letting the turn end' : 'no new messages',
      nudged: [],
    };
  const told = fresh.length
    ? `${fresh.length} new handoff message${fresh.length === 1 ? '' : 's'} for you (${me.name}) arrived:\n${list(fresh)}\nRead ${fresh.length === 1 ? 'it' : 'them'} with \`handoff read <id>\` and act on ${fresh.length === 1 ? 'it' : 'them'}, or say why not, before you stop.`
    : null;
  // The loop guard's notice goes with the messages that continue the loop, as inbox, read and wait give it.
  const loops = loopNotices(
    ctx,
    me.name,
    unread.filter((m) => fresh.includes(m.id)).map((m) => ({ from: m.sender })),
  );
  const reason = [
    told,
    ...loops.map((n) => `handoff (${me.name}): ${n}`),
    ...notices.map((n) => `handoff (${me.name}): ${n}`),
  ]
    .filter(Boolean)
    .join('\n');
  return { output: continueWith(ctx.env.HANDOFF_RUNTIME || null, reason), skipped: null, nudged: fresh };
}

/** The once-only notices about `agent`'s claims and reservations (ops/claims.ts, ops/reservations.ts). */
function coordinationNotices(ctx: Context, agent: string): string[] {
  return [...claimNotices(ctx, agent), ...reservationNotices(ctx, agent)];
}

/** When this process took nudges pending (one hook runs per process): what releaseNudges gives back. */
let takenAt = 0;

/** The nudges of `ids` not taken yet, taken for output still to be written (see takeNewNudges). */
function takePending(ctx: Context, agent: string, ids: string[]): string[] {
  if (!ids.length) return [];
  takenAt = ctx.now().getTime();
  return writeTx(ctx.db, () => takeNewNudges(ctx.db, agent, ids, takenAt, true));
}

/**
 * Gives back nudges taken pending whose output was never written: called synchronously as the process ends
 * early (a closed pipe), in the context the hook ran in.
 */
export function releaseNudges(ctx: Context, ids: string[]): void {
  try {
    const me = resolveIdentity(ctx);
    writeTx(ctx.db, () => dropPendingNudges(ctx.db, me.name, ids, takenAt));
  } catch {
    /* at worst they are told again once the pending time has passed */
  }
}

/** Records that the agent was told of `ids` (an agent hook's output, once written): each is told once. */
export function recordNudges(ctx: Context, ids: string[]): void {
  if (!ids.length) return;
  const me = resolveIdentity(ctx);
  writeTx(ctx.db, () => confirmNudges(ctx.db, me.name, ids, ctx.now().getTime()));
}
