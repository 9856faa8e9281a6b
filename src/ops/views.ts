/** Turning ledger rows into the --json shapes (rows never reach output directly). */
import { shortId } from '../core/ids';
import type { AgentRow } from '../ledger/agents';
import { STATUS_NAMES, type InboxRow, type MessageRow, type RecipientRow } from '../ledger/messages';
import type { AgentJson, MessageJson, RecipientJson } from '../json/types';

/**
 * What a body costs on an MCP answer's line: its JSON text inside the answer's text (JSON once more), and
 * once as JSON in structuredContent (control characters cost 6 and 7 bytes each, others about 1 and 1).
 */
export function bodyLineCost(body: string): number {
  const json = JSON.stringify(body);
  return Buffer.byteLength(json) * 2 + (json.match(/\\/g)?.length ?? 0);
}

/**
 * The first of `rows` whose bodies' line cost (bodyLineCost) fits in `maxBytes` together (the first always,
 * whatever its size): what one answer to a client that reads a bounded line carries.
 */
export function withinBodyBudget<T extends { body: string }>(rows: T[], maxBytes: number): T[] {
  let used = 0;
  let n = 0;
  for (const r of rows) {
    used += bodyLineCost(r.body);
    if (n > 0 && used > maxBytes) break;
    n++;
  }
  return n === rows.length ? rows : rows.slice(0, n);
}

/** A message row as printed. */
export function messageJson(row: MessageRow | InboxRow): MessageJson {
  const out: MessageJson = {
    id: row.id,
    shortId: shortId(row.id),
    thread: row.thread,
    replyTo: row.reply_to,
    from: row.sender,
    to: row.recipients ? row.recipients.split(',') : [],
    address: row.address,
    kind: row.kind,
    priority: row.priority,
    ts: row.ts,
    body: row.body,
    commit: row.commit_id,
    diff:
      row.diff_base && row.diff_tree
        ? {
            base: row.diff_base,
            snapshot: row.diff_tree,
            files: row.diff_files ?? 0,
            excluded: JSON.parse(row.excluded ?? '[]') as string[],
          }
        : null,
    noReply: !!row.no_reply,
  };
  if ('status' in row && typeof row.status === 'number') out.status = STATUS_NAMES[row.status] ?? 'stored';
  return out;
}

/** A recipient row as printed. */
export function recipientJson(r: RecipientRow): RecipientJson {
  return { agent: r.agent, status: STATUS_NAMES[r.status] ?? 'stored', readAt: r.read_at, ackedAt: r.acked_at };
}

/** How long after its last event an agent with no running process counts as idle rather than gone. */
const IDLE_MS = 15 * 60 * 1000;

/** An agent row as printed. */
export function agentJson(a: AgentRow, extra: { live: boolean; unread: number }): AgentJson {
  return {
    name: a.name,
    runtime: a.runtime,
    team: a.team,
    role: a.role,
    status: a.status,
    joinedAt: a.joined_at,
    lastSeen: a.last_seen,
    live: extra.live,
    presence: extra.live ? 'live' : a.last_seen && Date.now() - Date.parse(a.last_seen) < IDLE_MS ? 'idle' : 'gone',
    note: a.note ?? null,
    unread: extra.unread,
  };
}
