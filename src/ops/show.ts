/** Looking at messages: one with its diff and receipts, a thread, the list of threads. */
import { readPatch } from '../git/ledger-format';
import { commitSignatures } from '../git/signatures';
import { eventJson } from '../ledger/events';
import type { MessageEvent } from '../core/events';
import { listThreads, recipientsOf, repliesTo, threadMessages, getMessage } from '../ledger/messages';
import type { ShowJson, ThreadJson, ThreadSummaryJson } from '../json/types';
import type { Context } from './context';
import { taskStates } from './tasks';
import { findMessage, requireKnownAgent } from './lookup';
import { messageJson, recipientJson } from './views';

/** A message with its per-recipient status, its replies and its attached patch. */
export function show(ctx: Context, input: { id: string }): ShowJson {
  const row = findMessage(ctx, input.id);
  const task = taskStates(ctx, [row]).get(row.id);
  const event = JSON.parse(eventJson(ctx.db, row.id) ?? '{}') as Partial<MessageEvent>;
  return {
    ...(event.secrets ? { secrets: event.secrets } : {}),
    message: messageJson(row),
    ...(task ? { task } : {}),
    recipients: recipientsOf(ctx.db, row.id).map(recipientJson),
    replies: repliesTo(ctx.db, row.id).map(messageJson),
    patch: row.diff_tree ? readPatch(ctx.repo, row.commit_id) : null,
    signature: commitSignatures(ctx.repo, [row.commit_id]).get(row.commit_id) ?? {
      status: 'unverifiable',
      key: null,
      signer: null,
    },
  };
}

/** Every message of the thread a message belongs to. */
export function thread(ctx: Context, input: { id: string }): ThreadJson {
  const row = findMessage(ctx, input.id);
  return { thread: row.thread, messages: threadMessages(ctx.db, row.thread).map(messageJson) };
}

/** Threads, most recently active first. */
export function threads(ctx: Context, input: { agent?: string; limit?: number }): ThreadSummaryJson[] {
  if (input.agent !== undefined) requireKnownAgent(ctx, input.agent, '--agent');
  return listThreads(ctx.db, { agent: input.agent, limit: input.limit === 0 ? -1 : (input.limit ?? 50) }).map((t) => {
    const root = getMessage(ctx.db, t.thread);
    return {
      thread: t.thread,
      subject: root ? (root.body.split('\n', 1)[0] ?? '') : '',
      startedBy: root?.sender ?? null,
      messages: t.messages,
      participants: t.participants.split(','),
      firstAt: t.first_ts,
      lastAt: t.last_ts,
    };
  });
}
