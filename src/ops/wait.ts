/**
 * Blocking until something happens in the ledger, without busy polling: the process watches the SQLite
 * ledger's directory (every local write touches its WAL) and the chain refs (fetches move them) through the
 * OS's file notification, and re-checks only when one of them changes. A slow safety re-check covers
 * file systems that do not notify.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NotFoundError, TimeoutError, UsageError } from '../core/errors';
import { validateName } from '../core/names';
import { quoted } from '../core/text';
import { getAgent } from '../ledger/agents';
import { hasAttributionsBy } from '../ledger/attributions';
import { CHAIN_PREFIX } from '../git/ledger-format';
import { inboxFor, recipientsOf, repliesTo } from '../ledger/messages';
import type { MessageJson, RecipientJson, WaitJson } from '../json/types';
import type { Context } from './context';
import { resolveIdentity } from './identity';
import { indexChains } from './index-chains';
import { markRead, takeUnread } from './inbox';
import { endDelivery } from './deliveries';
import { addPresence, removePresence } from './presence';
import { loopNotices } from './wakeups';
import { nearNames } from './stranger';
import { messageJson, recipientJson, withinBodyBudget } from './views';

const SAFETY_RECHECK_MS = 2000;

/**
 * Resolves with the first non-undefined result of `check`, re-run whenever the ledger may have changed;
 * undefined when `timeoutMs` pass or `signal` aborts (a client that gave up, a closed connection).
 */
export function waitForChange<T>(
  ctx: Context,
  check: () => T | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<T | undefined> {
  if (signal?.aborted) return Promise.resolve(undefined);
  const first = check();
  if (first !== undefined || timeoutMs <= 0) return Promise.resolve(first);
  return new Promise((resolve) => {
    const watchers: fs.FSWatcher[] = [];
    let timer: NodeJS.Timeout | undefined;
    // Set once below, after finish() (which clears it) exists.
    // eslint-disable-next-line prefer-const
    let safety: NodeJS.Timeout | undefined;
    let pending: NodeJS.Timeout | undefined;
    // Once settled, nothing may touch the ledger again: the caller closes the database right after, and a
    // file notification already queued would otherwise run a re-check on a closed connection.
    let settled = false;
    const finish = (value: T | undefined) => {
      if (settled) return;
      settled = true;
      for (const w of watchers) w.close();
      clearTimeout(timer);
      clearInterval(safety);
      clearTimeout(pending);
      signal?.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onAbort = () => finish(undefined);
    signal?.addEventListener('abort', onAbort);
    const recheck = () => {
      pending = undefined;
      if (settled) return;
      try {
        indexChains(ctx);
        const v = check();
        if (v !== undefined) finish(v);
      } catch (err) {
        // A busy database or a half-moved ref: the next notification or the safety re-check tries again.
        ctx.warn(`while waiting: ${(err as Error).message}`);
      }
    };
    const schedule = () => {
      if (!pending && !settled) pending = setTimeout(recheck, 5);
    };
    const chainsDir = path.join(ctx.repo.commonDir, CHAIN_PREFIX);
    try {
      fs.mkdirSync(chainsDir, { recursive: true });
    } catch {
      /* the safety re-check still works */
    }
    for (const dir of [ctx.dataDir, chainsDir, ctx.repo.commonDir]) {
      try {
        watchers.push(fs.watch(dir, { persistent: true }, schedule));
      } catch {
        /* not watchable: rely on the safety re-check */
      }
    }
    safety = setInterval(recheck, SAFETY_RECHECK_MS);
    // A timer holds at most 2^31 - 1 ms (about 24.8 days; node fires a longer one at once): a longer wait
    // re-arms it until the deadline. Infinity never times out.
    const deadline = Date.now() + Math.max(0, timeoutMs);
    const arm = () => {
      const left = deadline - Date.now();
      timer = left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(() => finish(undefined), left);
    };
    if (timeoutMs !== Infinity) arm();
  });
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Records this process as a live one for `agent` while `fn` runs. */
async function withPresence<T>(ctx: Context, agent: string, command: string, fn: () => Promise<T>): Promise<T> {
  addPresence(ctx, agent, command);
  try {
    return await fn();
  } finally {
    removePresence(ctx, agent);
  }
}

export interface WaitInput {
  as?: string;
  timeoutSeconds?: number;
  from?: string;
  kind?: string;
  /** Leave the messages unread. */
  peek?: boolean;
  /** Told what is being waited for, once, when there is nothing yet (the CLI says it on a terminal). */
  onWaiting?: (what: string) => void;
  /** Stops the wait (it then ends as a timeout, and nothing is marked read). */
  signal?: AbortSignal;
  /** Messages not to return (another answer carries them), asked at each look. */
  exclude?: () => Set<string>;
  /**
   * Told the ids the moment this wait takes them (before it returns): another wait or read of the same
   * process, running at once, then leaves them to this one (through its `exclude`).
   */
  onTake?: (ids: string[]) => void;
  /** The bodies returned at most, as JSON text (withinBodyBudget); the rest wait for the next call. */
  maxBodyBytes?: number;
  /**
   * Take what is returned for delivery (ops/deliveries.ts): a message another reader of the agent is
   * delivering is not returned. The caller ends the delivery (endDelivery) once it marked them read.
   */
  take?: boolean;
}

/** Waits for unread messages for the caller and returns them (marked read unless peek). */
export async function waitForMessages(ctx: Context, input: WaitInput): Promise<WaitJson> {
  const me = resolveIdentity(ctx, { as: input.as });
  if (input.timeoutSeconds !== undefined && (!Number.isInteger(input.timeoutSeconds) || input.timeoutSeconds < 0))
    throw new UsageError('usage', `--timeout ${input.timeoutSeconds}: give a whole number of seconds, 0 or more.`);
  // A name as inbox --from takes it. One close to a known agent's is a typo, which would wait forever;
  // another may be an agent that has not joined yet, waited for as such.
  let notJoined = false;
  if (input.from !== undefined) {
    validateName(input.from, 'agent name');
    if (!getAgent(ctx.db, input.from) && !hasAttributionsBy(ctx.db, input.from)) {
      const near = nearNames(ctx, input.from);
      if (near.length)
        throw new NotFoundError(
          'unknown_agent',
          `--from: no agent named ${quoted(input.from)}; did you mean ${near
            .slice(0, 3)
            .map((n) => quoted(n))
            .join(' or ')}?`,
        );
      notJoined = true;
    }
  }
  // 0: look once and do not wait (exit 5 when nothing is there).
  const timeoutMs = input.timeoutSeconds === undefined ? Infinity : input.timeoutSeconds * 1000;
  let told = false;
  /** Unread messages that did not fit in the answer (maxBodyBytes), at the look that returned. */
  let left = 0;
  const rows = await withPresence(ctx, me.name, 'wait', () =>
    waitForChange(
      ctx,
      () => {
        const skip = input.exclude?.();
        const all = inboxFor(ctx.db, { agent: me.name, includeRead: false, from: input.from, kind: input.kind });
        const r = skip?.size ? all.filter((m) => !skip.has(m.id)) : all;
        const fit = r.length && input.maxBodyBytes !== undefined ? withinBodyBudget(r, input.maxBodyBytes) : r;
        const mine = input.take ? takeUnread(ctx, me, fit) : fit;
        if (input.take && mine.length) input.onTake?.(mine.map((m) => m.id));
        left = r.length - fit.length;
        if (mine.length) return mine;
        if (!told && input.onWaiting) {
          told = true;
          const filter = [
            input.from && `from ${input.from}${notJoined ? ' (who has not joined yet)' : ''}`,
            input.kind && `of kind ${input.kind}`,
          ]
            .filter(Boolean)
            .join(' ');
          input.onWaiting(
            `waiting for a message to ${me.name}${filter ? ` ${filter}` : ''}${input.timeoutSeconds ? ` (up to ${input.timeoutSeconds}s)` : ''}; Ctrl-C stops`,
          );
        }
        return undefined;
      },
      timeoutMs,
      input.signal,
    ),
  );
  if (input.signal?.aborted) {
    if (rows && input.take)
      endDelivery(
        ctx,
        me.name,
        rows.map((m) => m.id),
      );
    throw new TimeoutError('cancelled', `The wait for ${me.name} was cancelled; no message was marked read.`);
  }
  if (!rows) {
    throw new TimeoutError('timeout', `No message arrived for ${me.name} within ${input.timeoutSeconds}s.`);
  }
  const messages = rows.map(messageJson);
  // What this wait marks (now, or once delivered: taken) is said as read.
  if (!input.peek || input.take) for (const m of messages) if (m.status === 'stored') m.status = 'read';
  if (!input.peek)
    markRead(
      ctx,
      me,
      messages.map((m) => m.id),
    );
  const notices = loopNotices(ctx, me.name, messages);
  if (left)
    notices.push(
      `${left} more unread message${left === 1 ? '' : 's'} did not fit in this answer (about 2 MB of text at most) and stay unread: wait or read them next.`,
    );
  return { agent: me.name, notices, messages };
}

/** Waits until every recipient has read a message, or until someone replies to it. */
export async function waitForReadOrReply(
  ctx: Context,
  opts: { message: string; for: 'read' | 'reply'; timeoutSeconds: number; onWaiting?: (what: string) => void },
): Promise<{ for: 'read' | 'reply'; recipients?: RecipientJson[]; reply?: MessageJson }> {
  type Outcome = { for: 'read' | 'reply'; recipients?: RecipientJson[]; reply?: MessageJson };
  const check: () => Outcome | undefined =
    opts.for === 'read'
      ? () => {
          const r = recipientsOf(ctx.db, opts.message);
          return r.length > 0 && r.every((x) => x.status >= 1)
            ? { for: 'read' as const, recipients: r.map(recipientJson) }
            : undefined;
        }
      : () => {
          const replies = repliesTo(ctx.db, opts.message);
          return replies.length ? { for: 'reply' as const, reply: messageJson(replies[0]!) } : undefined;
        };
  opts.onWaiting?.(
    `sent ${opts.message}; waiting until it is ${opts.for === 'read' ? 'read by every recipient' : 'answered'} (up to ${opts.timeoutSeconds}s); Ctrl-C stops waiting, the message stays sent`,
  );
  const result = await waitForChange(ctx, check, opts.timeoutSeconds * 1000);
  if (!result) {
    const what = opts.for === 'read' ? 'read by every recipient' : 'answered';
    throw new TimeoutError(
      'timeout',
      `Message ${opts.message} was sent, but was not ${what} within ${opts.timeoutSeconds}s.`,
      {
        message: opts.message,
        recipients: recipientsOf(ctx.db, opts.message).map(recipientJson),
      },
    );
  }
  return result;
}
