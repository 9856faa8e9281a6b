/** Writing an event: git first (the source of truth), then SQLite in one transaction. */
import { EVENT_FORMAT_VERSION, type EventDraft, type LedgerEvent } from '../core/events';
import type { IdentityJson } from '../json/types';
import { appendToChain, type EventPayload } from '../git/ledger-format';
import { applyEvent } from '../ledger/apply';
import { writeTx } from '../ledger/db';
import { advanceKnownTip } from '../ledger/events';
import type { Context } from './context';

export interface Appended<E extends LedgerEvent = LedgerEvent> {
  event: E;
  commit: string;
}

/**
 * Appends an event by `author` to this clone's chain and indexes it. Once this returns, the event is in
 * both stores; if the process dies after the git step, the next command indexes it from the chain.
 */
export function appendEvent<E extends LedgerEvent>(
  ctx: Context,
  author: IdentityJson,
  draft: EventDraft & { id?: string },
  payload: EventPayload = {},
): Appended<E> {
  const event = {
    v: EVENT_FORMAT_VERSION,
    id: draft.id ?? ctx.newId(),
    ts: ctx.now().toISOString(),
    clone: ctx.cloneId,
    author: { name: author.name, runtime: author.runtime, via: author.via },
    ...draft,
  } as unknown as E;
  const { commit, parent } = appendToChain(ctx.repo, ctx.cloneId, event, payload);
  writeTx(ctx.db, () => {
    applyEvent(ctx.db, { chain: ctx.cloneId, commit, parent, event, body: payload.body ?? null });
    advanceKnownTip(ctx.db, ctx.cloneId, event.ts);
  });
  return { event, commit };
}
