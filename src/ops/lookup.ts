/** Finding things users name on the command line: message ids (or unique prefixes) and recipients. */
import { NotFoundError, UsageError } from '../core/errors';
import { validateName } from '../core/names';
import { agentsInGroup, getAgent, listAgents } from '../ledger/agents';
import { findMessageIds, findMessageIdsBySuffix, getMessage, type MessageRow } from '../ledger/messages';
import { SHORT_ID_MIN } from '../core/ids';
import { MAX_ADDRESS, MAX_NAMES } from '../core/events';
import { firstLine, inert, quoted } from '../core/text';
import type { Context } from './context';
export { strangerNotice } from './stranger';
import { resolveCommit } from '../git/history';
import { listRemotes } from '../git/remote';
import { hasAttributionsBy } from '../ledger/attributions';
import { claimKeys } from '../ledger/coordination';
import { eventJson, knownTips } from '../ledger/events';

/**
 * The message with this id: the full id, the short id printed in tables (its last 7 or more characters),
 * or a unique prefix of 6 or more characters; case-insensitive. An ambiguous id lists what it matches.
 */
export function findMessage(ctx: Context, given: string): MessageRow {
  // Tables mark a guessed link with a trailing "?" (blame, log): the id is what comes before it.
  const id = given.trim().replace(/\?$/, '').toUpperCase();
  if (!/^[0-9A-HJKMNP-TV-Z]{6,26}$/.test(id)) {
    notACommit(ctx, given);
    notATask(ctx, given);
    throw new UsageError(
      'bad_id',
      `${quoted(given)} is not a message id. Give the id a command printed (the short form of 7 or more characters works, as does a unique prefix); see 'handoff inbox --all'.`,
    );
  }
  const exact = id.length === 26 ? getMessage(ctx.db, id) : undefined;
  if (exact) return exact;
  const bySuffix = id.length >= SHORT_ID_MIN ? findMessageIdsBySuffix(ctx.db, id, 10) : [];
  const byPrefix = findMessageIds(ctx.db, id, 10);
  const ids = [...new Set([...bySuffix, ...byPrefix])];
  // Each lookup stops at 10: past that, the count is a floor.
  const count = bySuffix.length === 10 || byPrefix.length === 10 ? `${ids.length} or more` : `${ids.length}`;
  if (ids.length === 1) return getMessage(ctx.db, ids[0]!)!;
  if (ids.length > 1) {
    const list = ids.slice(0, 5).map((x) => {
      const m = getMessage(ctx.db, x)!;
      return `${x} (${inert(m.sender)}, ${m.ts.slice(0, 16).replace('T', ' ')}: ${firstLine(m.body, 40)})`;
    });
    throw new UsageError(
      'ambiguous_id',
      `${id} matches ${count} messages: ${list.join('; ')}${ids.length > 5 ? '; ...' : ''}. Give more characters, or the full id.`,
      { matches: ids },
    );
  }
  notACommit(ctx, given);
  notAnEvent(ctx, id);
  notATask(ctx, given);
  throw new NotFoundError(
    'message_not_found',
    `No message ${id}. Run 'handoff sync' if it was sent from another clone, or 'handoff inbox --all' to list messages.`,
  );
}

/** A commit id (what log and blame print first) given where a message id goes: says what it is. */
function notACommit(ctx: Context, given: string): void {
  const hex = given.trim().toLowerCase();
  const commit = /^[0-9a-f]{7,40}$/.test(hex) ? resolveCommit(ctx.repo.cwd, hex) : null;
  if (commit)
    throw new NotFoundError(
      'message_not_found',
      `${hex} is a commit, not a message. 'handoff log' lists commits with their agents and handoffs, 'handoff blame <file> --why <line>' tells a line's story, and 'handoff review <message id>' compares a handoff with what landed.`,
      { commit },
    );
}

/** The id of an event that is not a message, or of a chain (what claim, done, sync and verify print): says what it is. */
function notAnEvent(ctx: Context, id: string): void {
  if (id.length !== 26) return;
  const json = eventJson(ctx.db, id);
  if (json) {
    const e = JSON.parse(json) as { type: string; author?: { name?: string }; ts?: string; message?: string };
    const about = typeof e.message === 'string' && getMessage(ctx.db, e.message) ? e.message : null;
    const hint =
      e.type === 'claim'
        ? "'handoff claims' lists claims and their holders"
        : e.type === 'reservation'
          ? "'handoff reservations' lists standing reservations"
          : about
            ? `it is about message ${about}: 'handoff show ${about}'`
            : "'handoff log' and 'handoff replay' show the ledger's events";
    throw new NotFoundError(
      'message_not_found',
      `${id} is ${/^[aeiou]/.test(e.type) ? 'an' : 'a'} ${inert(e.type)} event by ${inert(e.author?.name ?? '?')} (${(e.ts ?? '').slice(0, 16).replace('T', ' ')}), not a message; ${hint}.`,
      { event: id, type: e.type, ...(about ? { message: about } : {}) },
    );
  }
  if (knownTips(ctx.db).has(id))
    throw new NotFoundError(
      'message_not_found',
      `${id} is a chain (the ledger of one clone), not a message. 'handoff verify' checks chains, and 'handoff sync --drop ${id}' removes one that a sync refused.`,
      { chain: id },
    );
}

/** A task name (what claim and claims print) given where a message id goes: says what it is. */
function notATask(ctx: Context, given: string): void {
  const key = given.trim();
  if (!key || !claimKeys(ctx.db).includes(key)) return;
  throw new NotFoundError(
    'message_not_found',
    `${quoted(key)} is a task name (a claim's key), not a message id. done, block, fail, reply and show take the id of a request; 'handoff release ${key}' gives up the claim on it.`,
    { task: key },
  );
}

export interface ResolvedAddress {
  address: string;
  to: string[];
  /** Names that will be registered by this message (offline mailboxes created with --create). */
  created: string[];
}

/** Resolves `agent`, `@team`, `@role` or `all` to recipient names; unknown names need `create`. */
export function resolveAddress(
  ctx: Context,
  address: string,
  opts: { sender: string; create?: boolean },
): ResolvedAddress {
  const raw = address.trim();
  if (raw === 'all') {
    const to = listAgents(ctx.db)
      .filter((a) => a.status !== 'left' && a.name !== opts.sender)
      .map((a) => a.name);
    if (to.length === 0)
      throw new NotFoundError(
        'no_recipients',
        "No other agents are known yet, so 'all' reaches nobody. Agents appear when they run 'handoff join'.",
      );
    return withinLimits({ address: 'all', to, created: [] });
  }
  if (raw.startsWith('@')) {
    const group = validateName(raw.slice(1), 'team or role');
    const members = agentsInGroup(ctx.db, group).map((a) => a.name);
    const to = members.filter((n) => n !== opts.sender);
    if (to.length === 0 && members.length)
      throw new NotFoundError(
        'no_recipients',
        `${opts.sender} is the only agent in @${group}, so the message would reach nobody else. Send it to an agent by name.`,
      );
    if (to.length === 0)
      throw new NotFoundError(
        'unknown_group',
        `No agent has team or role "${group}". Agents join one with 'handoff join --team ${group}' or '--role ${group}'.`,
      );
    return withinLimits({ address: `@${group}`, to, created: [] });
  }
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw new UsageError('no_recipient', 'Say who the message is for: an agent name, @team, @role or all.');
  const created: string[] = [];
  for (const name of names) {
    validateName(name, 'recipient name');
    if (name === 'me')
      throw new UsageError(
        'bad_recipient',
        `"me" is not an agent name. To send to yourself, use your own name: handoff send ${opts.sender} ...`,
      );
    if (name === 'all')
      throw new UsageError('bad_recipient', '"all" cannot be combined with other recipients: send to all alone.');
    if (!getAgent(ctx.db, name)) {
      if (!opts.create) {
        const known = listAgents(ctx.db).map((a) => a.name);
        const hint = known.length
          ? ` Known agents: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', ...' : ''}.`
          : '';
        throw new NotFoundError(
          'unknown_recipient',
          `No agent named "${name}".${hint} To leave a message for an agent that has not joined yet, add --create.`,
        );
      }
      created.push(name);
    }
  }
  return withinLimits({ address: names.join(','), to: [...new Set(names)], created });
}

/**
 * Refuses a filter (--agent, --from, --to) that names no agent this ledger knows of, neither one that
 * joined or wrote nor one commits are attributed to: a typo would otherwise read as "nothing yet".
 */
export function requireKnownAgent(ctx: Context, name: string, flag: string): void {
  validateName(name, 'agent name');
  if (getAgent(ctx.db, name) || hasAttributionsBy(ctx.db, name)) return;
  const known = listAgents(ctx.db).map((a) => a.name);
  const hint = known.length
    ? ` Known agents: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', ...' : ''}.`
    : '';
  throw new NotFoundError('unknown_agent', `${flag}: no agent named ${quoted(name)}.${hint}`);
}

/**
 * A resolved address as an event can carry it: at most MAX_NAMES recipients (readers refuse more), and an
 * address of at most MAX_ADDRESS characters (a long list of names is shortened there: "a,b,c +12 more";
 * the recipients themselves are all in `to`).
 */
function withinLimits<T extends { address: string; to: string[] }>(r: T): T {
  if (r.to.length > MAX_NAMES)
    throw new UsageError(
      'too_many_recipients',
      `${r.address.length > MAX_ADDRESS ? `${r.address.slice(0, MAX_ADDRESS)}...` : r.address} names ${r.to.length} agents; one message reaches at most ${MAX_NAMES}. Send to a @team or @role.`,
    );
  if (r.address.length <= MAX_ADDRESS) return r;
  const names = r.address.split(',');
  const shortened = (kept: number) => `${names.slice(0, kept).join(',')} +${names.length - kept} more`;
  let kept = 0;
  while (shortened(kept + 1).length <= MAX_ADDRESS) kept++;
  return { ...r, address: shortened(kept) };
}

/**
 * A remote given by name (sync, claim --remote): one of this repository's (git remote), never a URL or a
 * path, which would reach git as such and be recorded in the ledger.
 */
export function requireRemote(ctx: Context, remote: string): string {
  const remotes = listRemotes(ctx.repo.cwd);
  if (!remotes.includes(remote))
    throw new NotFoundError(
      'unknown_remote',
      `No remote named ${quoted(remote)}. Configured remotes: ${remotes.join(', ') || '(none)'}. Add one with 'git remote add'.`,
    );
  return remote;
}
