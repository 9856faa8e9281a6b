/** Replying: same thread, reply-to set, addressed to the sender (or, for one's own message, its recipients). */
import type { MessageKind, Priority } from '../core/events';
import type { SendJson } from '../json/types';
import type { BackgroundGit } from '../git/exec';
import type { Context } from './context';
import { resolveIdentity } from './identity';
import { recordRead } from './inbox';
import { findMessage } from './lookup';
import { send } from './send';

const REPLY_KIND: Record<string, MessageKind> = {
  question: 'answer',
  review_request: 'review_response',
  request: 'status',
};

export interface ReplyInput {
  id: string;
  body: string | Buffer;
  as?: string;
  kind?: MessageKind;
  priority?: Priority;
  attachDiff?: boolean;
  /** With attachDiff: the `git status` the caller started already (see SendInput.worktreeStatus). */
  worktreeStatus?: BackgroundGit;
  waitFor?: 'read' | 'reply';
  timeoutSeconds?: number;
  noReply?: boolean;
  redact?: boolean;
  allowSecret?: boolean;
  onWaiting?: (what: string) => void;
  onSent?: (id: string) => void;
}

/** Replies to a message. */
export async function reply(ctx: Context, input: ReplyInput): Promise<SendJson> {
  const me = resolveIdentity(ctx, { as: input.as });
  const parent = findMessage(ctx, input.id);
  const to = parent.sender === me.name ? parent.recipients : parent.sender;
  // A message answered was read: its receipt goes to the sender once the reply is written (before a wait).
  const read = () => recordRead(ctx, me, [parent.id]);
  const sent = await send(ctx, {
    to,
    body: input.body,
    as: input.as,
    kind: input.kind ?? REPLY_KIND[parent.kind] ?? 'answer',
    priority: input.priority ?? (parent.priority as Priority),
    replyTo: parent.id,
    attachDiff: input.attachDiff,
    worktreeStatus: input.worktreeStatus,
    create: true,
    waitFor: input.waitFor,
    timeoutSeconds: input.timeoutSeconds,
    noReply: input.noReply,
    redact: input.redact,
    allowSecret: input.allowSecret,
    onWaiting: input.onWaiting,
    onSent: (id) => {
      read();
      input.onSent?.(id);
    },
  });
  if (!input.waitFor) read();
  return sent;
}
