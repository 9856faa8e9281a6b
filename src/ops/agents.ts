/** Agents: join, leave, the list with liveness, and who the caller is. */
import { commitSignatures } from '../git/signatures';
import { newestCommitByAuthor } from '../ledger/events';
import os from 'node:os';
import { processAlive } from '../core/proc';
import { NotFoundError, UsageError } from '../core/errors';
import { validateName } from '../core/names';
import type { AgentEvent } from '../core/events';
import { getAgent, listAgents } from '../ledger/agents';
import { unreadCount } from '../ledger/messages';
import { listPresence, removePresence } from '../ledger/presence';
import type { AgentJson, JoinJson, WhoamiJson } from '../json/types';
import { appendEvent } from './append';
import type { Context } from './context';
import { resolveIdentity } from './identity';
import { agentJson } from './views';
import { registerPane } from './wakeups';
import { refuseSecrets } from './secrets';

/** Agents with a live local process, dropping records of processes that are gone. */
function liveAgents(ctx: Context): Set<string> {
  const host = os.hostname();
  const live = new Set<string>();
  for (const p of listPresence(ctx.db)) {
    if (p.host !== host) continue;
    // A pid alone is not a process: after the agent's process died, an unrelated one may get its pid.
    if (processAlive(p.pid, p.proc_start)) live.add(p.agent);
    else removePresence(ctx.db, p.agent, p.host, p.pid);
  }
  return live;
}

function describe(ctx: Context, name: string, live: Set<string>): AgentJson {
  return agentJson(getAgent(ctx.db, name)!, { live: live.has(name), unread: unreadCount(ctx.db, name) });
}

/** Joins (or re-joins with a new team or role); writes nothing when already joined the same way. */
export function join(ctx: Context, input: { as?: string; team?: string; role?: string }): JoinJson {
  const me = resolveIdentity(ctx, { as: input.as });
  const existing = getAgent(ctx.db, me.name);
  // A flag not given keeps what the agent had (joining again, or after leave); an empty one clears it.
  const group = (given: string | undefined, had: string | null | undefined, what: string) =>
    given === undefined ? (had ?? null) : given === '' ? null : validateGroup(given, what);
  const team = group(input.team, existing?.team, 'team name');
  const role = group(input.role, existing?.role, 'role name');
  registerPane(ctx, me.name);
  const same =
    existing && existing.status === 'active' && existing.joined_at && existing.team === team && existing.role === role;
  if (!same)
    appendEvent<AgentEvent>(ctx, me, { type: 'agent', action: 'join', name: me.name, team, role, runtime: me.runtime });
  return { agent: describe(ctx, me.name, liveAgents(ctx)), changed: !same };
}

/** Leaves: the agent stays known (its messages wait for it) but is no longer reached by @team or all. */
export function leave(ctx: Context, input: { as?: string }): JoinJson {
  const me = resolveIdentity(ctx, { as: input.as });
  const existing = getAgent(ctx.db, me.name);
  if (!existing) throw new NotFoundError('unknown_agent', `${me.name} has not joined, so there is nothing to leave.`);
  const changed = existing.status !== 'left';
  if (changed)
    appendEvent<AgentEvent>(ctx, me, {
      type: 'agent',
      action: 'leave',
      name: me.name,
      team: existing.team,
      role: existing.role,
      runtime: me.runtime,
    });
  return { agent: describe(ctx, me.name, liveAgents(ctx)), changed };
}

/** Every known agent with team, role, last activity, liveness and unread count. */
export function agents(ctx: Context): AgentJson[] {
  const live = liveAgents(ctx);
  // Whether each agent's newest event is signed, and by whom (one git log for all of them).
  const newest = newestCommitByAuthor(ctx.db);
  const sigs = commitSignatures(ctx.repo, [...newest.values()]);
  return listAgents(ctx.db).map((a) => {
    const commit = newest.get(a.name);
    return {
      ...agentJson(a, { live: live.has(a.name), unread: unreadCount(ctx.db, a.name) }),
      signature: commit ? (sigs.get(commit) ?? null) : null,
    };
  });
}

/** The caller's identity, how it was found, and its standing in the ledger. */
export function whoami(ctx: Context, input: { as?: string }): WhoamiJson {
  const me = resolveIdentity(ctx, { as: input.as });
  const row = getAgent(ctx.db, me.name);
  return {
    ...me,
    joined: !!row && row.status === 'active' && !!row.joined_at,
    team: row?.team ?? null,
    role: row?.role ?? null,
    unread: unreadCount(ctx.db, me.name),
    clone: ctx.cloneId,
  };
}

/** The caller's status note, as others see it in `handoff agents` (nothing is written). */
export function showStatus(
  ctx: Context,
  input: { as?: string },
): { agent: string; note: string | null; changed: false } {
  const me = resolveIdentity(ctx, { as: input.as });
  return { agent: me.name, note: getAgent(ctx.db, me.name)?.note || null, changed: false };
}

/** Sets (or, with an empty note, clears) the calling agent's status note. */
export async function setStatus(
  ctx: Context,
  input: { note: string; as?: string },
): Promise<{ agent: string; note: string | null; changed: boolean }> {
  const me = resolveIdentity(ctx, { as: input.as });
  const note = input.note.trim();
  if (note.length > 500) throw new UsageError('body_too_large', 'A status note holds at most 500 characters.');
  // The note goes to every clone and stays in the ledger's history: a secret in it is refused, as in a message.
  if (note) await refuseSecrets(ctx.config(), note, 'the status note');
  const existing = getAgent(ctx.db, me.name);
  // The note it has already (or none, cleared again): nothing to write.
  if (existing && (existing.note ?? '') === note) return { agent: me.name, note: note || null, changed: false };
  appendEvent<AgentEvent>(ctx, me, {
    type: 'agent',
    action: 'status',
    name: me.name,
    team: existing?.team ?? null,
    role: existing?.role ?? null,
    runtime: me.runtime,
    note,
  });
  return { agent: me.name, note: note || null, changed: true };
}

/** A team or role name: an agent name that "all" and "me" (which mean something else after @) are not. */
function validateGroup(name: string, what: string): string {
  validateName(name, what);
  if (name === 'all' || name === 'me')
    throw new UsageError('invalid_name', `"${name}" cannot be a ${what}: it has a meaning of its own. Choose another.`);
  return name;
}
