/** Task outcomes: done, failed or blocked, told to the request's sender; and the list of requests with their state. */
import { NotFoundError, UsageError } from '../core/errors';
import type { TaskEvent, TaskState } from '../core/events';
import type { HolderJson, OutcomeJson, TaskJson, TaskStateJson, TasksJson } from '../json/coordination';
import { claimEventsOf, foldClaims, latestOutcomeOf, latestOutcomes, type TaskEventRow } from '../ledger/coordination';
import { listWork } from '../ledger/messages';
import { appendEvent } from './append';
import { checkBody } from './body';
import { refuseSecrets } from './secrets';
import { activity, holderJson, releaseLocal, releaseWhereDecided } from './claims';
import { recordRead, WORK_KINDS } from './inbox';
import type { Context } from './context';
import { resolveIdentity } from './identity';
import { findMessage } from './lookup';
import { clearWorkingOn, workingOn } from './working';

/** Records the outcome of a request and releases its claim if the caller holds it. */
export async function recordOutcome(
  ctx: Context,
  input: { id: string; state: TaskState; body?: string; as?: string },
): Promise<OutcomeJson> {
  const me = resolveIdentity(ctx, { as: input.as });
  const m = findMessage(ctx, input.id);
  if (!WORK_KINDS.has(m.kind))
    throw new UsageError(
      'not_a_request',
      `${m.id} is ${/^[aeiou]/.test(m.kind) ? 'an' : 'a'} ${m.kind}, not a request: outcomes are recorded on requests, review requests and todos.`,
    );
  const holder = foldClaims(claimEventsOf(ctx.db, m.id), activity(ctx)).holder;
  const recipients = m.recipients ? m.recipients.split(',') : [];
  if (!recipients.includes(me.name) && holder?.agent !== me.name && m.sender !== me.name)
    throw new NotFoundError(
      'not_a_recipient',
      `${me.name} was not sent ${m.id} and does not hold its claim, so it cannot record its outcome.`,
    );
  if (input.state !== 'done' && !input.body?.trim())
    throw new UsageError(
      'empty_body',
      `Say why with -m (handoff ${input.state === 'failed' ? 'fail' : 'block'} <id> -m "...").`,
    );
  const body = input.body?.trim() ? checkBody(ctx, input.body) : '';
  // A new outcome replaces the last one (a correction is allowed), said out loud.
  const before = latestOutcomeOf(ctx.db, m.id);
  if (before && before.state !== input.state)
    ctx.warn(`${m.id} was recorded ${before.state} by ${before.agent} at ${before.ts}; it is ${input.state} now.`);
  else if (before)
    ctx.warn(
      `${m.id} was already recorded ${before.state} by ${before.agent} at ${before.ts}; this outcome is recorded too, and told again.`,
    );
  if (body) await refuseSecrets(ctx.config(), body, 'the note');
  // Everyone concerned but the caller: the sender, or, when the sender records it (a request withdrawn or
  // closed), its recipients; and whoever holds the claim.
  const concerned = [m.sender, ...(m.sender === me.name ? recipients : []), ...(holder ? [holder.agent] : [])];
  const others = [...new Set(concerned)].filter((a) => a !== me.name);
  const to = others.length ? others : [me.name];
  const { event } = appendEvent<TaskEvent>(
    ctx,
    me,
    {
      type: 'task',
      state: input.state,
      message: m.id,
      thread: m.thread,
      to,
      body_bytes: Buffer.byteLength(body, 'utf8'),
    },
    { body },
  );
  // Recording its outcome is having read it: it leaves the inbox, and no hook or wait hands it out again.
  recordRead(ctx, me, [m.id]);
  const released = releaseLocal(ctx, me, m.id, true).released;
  // Its commits are over: a link made by replying to it with a diff no longer goes to the next ones (a
  // pin made with work-on stays until changed).
  const working = workingOn({ ...ctx, env: {} }, me.name);
  if (working.message === m.id && working.mode !== 'explicit') clearWorkingOn(ctx, me.name);
  // A claim the remote decided (claim --remote) is released there too, or other agents stay locked out.
  if (released && holder) await releaseWhereDecided(ctx, me, m.id, holder);
  return { message: m.id, state: input.state, to, event: event.id, released };
}

/** Requests (request, review_request, todo) with their state: open, claimed, reclaimable, done, failed, blocked. */
export function tasks(
  ctx: Context,
  input: { open?: boolean; failed?: boolean; mine?: boolean; as?: string; limit?: number },
): TasksJson {
  const me = input.mine ? resolveIdentity(ctx, { as: input.as }).name : null;
  const outcomes = latestOutcomes(ctx.db);
  const out: TaskJson[] = [];
  for (const m of listWork(ctx.db)) {
    const { state, claim, outcome: o } = taskOf(ctx, m.id, outcomes);
    const to = m.recipients ? m.recipients.split(',') : [];
    if (me && !to.includes(me) && claim?.agent !== me && m.sender !== me) continue;
    if (input.open && !['open', 'claimed', 'reclaimable'].includes(state)) continue;
    if (input.failed && state !== 'failed') continue;
    out.push({
      id: m.id,
      from: m.sender,
      to,
      kind: m.kind,
      subject: m.body.split('\n', 1)[0]!.slice(0, 100),
      ts: m.ts,
      state,
      claim,
      outcome: o ? { state: o.state, by: o.agent, ts: o.ts, event: o.id } : null,
    });
  }
  return { tasks: input.limit ? out.slice(-input.limit) : out };
}

/** A request's state: its outcome if one was recorded, else whether (and how) it is claimed. */
function taskOf(
  ctx: Context,
  id: string,
  outcomes: Map<string, TaskEventRow>,
): {
  state: TaskJson['state'];
  claim: HolderJson | null;
  /** The latest outcome recorded; `current`, the one that decides the state (none when a later claim does). */
  outcome: TaskEventRow | undefined;
  current: TaskEventRow | undefined;
} {
  const fold = foldClaims(claimEventsOf(ctx.db, id), activity(ctx)).holder;
  const claim = fold ? holderJson(ctx, fold) : null;
  const outcome = outcomes.get(id);
  const gone = claim?.liveness === 'gone' || claim?.liveness === 'expired';
  // A request that failed or was blocked is taken up again by a claim made after that outcome (by the
  // ledger's causal order, as the latest outcome is: clocks of two clones may disagree).
  const current =
    outcome && !(outcome.state !== 'done' && fold && claim && fold.sinceClock > outcome.clock) ? outcome : undefined;
  const state = current ? current.state : claim ? (gone ? 'reclaimable' : 'claimed') : 'open';
  return { state, claim, outcome, current };
}

/**
 * The task state of each of these messages that is a request (request, review_request, todo), computed
 * together (one read of the outcomes): for show and replay.
 */
export function taskStates(ctx: Context, messages: { id: string; kind: string }[]): Map<string, TaskStateJson> {
  const out = new Map<string, TaskStateJson>();
  const work = messages.filter((m) => WORK_KINDS.has(m.kind));
  if (work.length === 0) return out;
  const outcomes = latestOutcomes(ctx.db);
  for (const m of work) {
    const t = taskOf(ctx, m.id, outcomes);
    out.set(m.id, { state: t.state, by: t.current?.agent ?? t.claim?.agent ?? null });
  }
  return out;
}
