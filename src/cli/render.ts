/** Human output shared by commands. Everything that came from a message or a name goes through inert(). */
import { firstLine, inert } from '../core/text';
import type { AgentJson, MessageJson, RecipientJson } from '../json/types';
import type { Io } from './define';
import { paint } from './io';

function when(ts: string): string {
  return ts.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** One line per message, for inbox and thread listings. */
export function messageLine(io: Io, m: MessageJson): string {
  const unread = m.status === 'stored' ? paint(io, 'yellow', '●') : ' ';
  const pri = m.priority === 'urgent' ? paint(io, 'red', ' URGENT') : m.priority === 'low' ? paint(io, 'dim', ' low') : '';
  const diff = `${m.diff ? paint(io, 'cyan', ` [diff: ${m.diff.files} file${m.diff.files === 1 ? '' : 's'}]`) : ''}${m.noReply ? paint(io, 'dim', ' [no reply needed]') : ''}`;
  return `${unread} ${paint(io, 'dim', m.id)} ${paint(io, 'bold', inert(m.from))} → ${inert(m.to.join(','))} ${paint(io, 'magenta', m.kind)}${pri}${diff}  ${firstLine(m.body, 60)}`;
}

/** A message in full: header, body, and optionally its patch. */
export function messageBlock(io: Io, m: MessageJson, extra: { recipients?: RecipientJson[]; patch?: string | null } = {}): string[] {
  const lines = [
    `${paint(io, 'yellow', `message ${m.id}`)}`,
    `From:     ${inert(m.from)}`,
    `To:       ${inert(m.to.join(', '))}${m.address !== m.to.join(',') ? ` (${inert(m.address)})` : ''}`,
    `Date:     ${when(m.ts)}`,
    `Kind:     ${m.kind}${m.priority !== 'normal' ? ` (${m.priority})` : ''}${m.noReply ? ', no reply needed' : ''}`,
    `Thread:   ${m.thread}${m.replyTo ? `  (reply to ${m.replyTo})` : ''}`,
    `Commit:   ${m.commit}`,
  ];
  if (m.diff) {
    lines.push(`Diff:     ${m.diff.files} file(s) against ${m.diff.base.slice(0, 12)}, snapshot ${m.diff.snapshot.slice(0, 12)}`);
    if (m.diff.excluded.length) lines.push(`Left out: ${inert(m.diff.excluded.join(', '))} (look like secrets)`);
  }
  if (extra.recipients?.length) {
    lines.push(`Receipts: ${extra.recipients.map((r) => `${inert(r.agent)} ${statusWord(io, r.status)}`).join(', ')}`);
  }
  lines.push('', ...inert(m.body).split('\n').map((l) => `    ${l}`));
  if (extra.patch) lines.push('', ...patchLines(io, extra.patch));
  return lines;
}

function statusWord(io: Io, s: RecipientJson['status']): string {
  return s === 'acked' ? paint(io, 'green', 'acked') : s === 'read' ? paint(io, 'cyan', 'read') : paint(io, 'yellow', 'stored');
}

/** A unified diff, coloured like git's. */
export function patchLines(io: Io, patch: string): string[] {
  return inert(patch.replace(/\n$/, ''))
    .split('\n')
    .map((l) => {
      if (l.startsWith('+++') || l.startsWith('---') || l.startsWith('diff --git')) return paint(io, 'bold', l);
      if (l.startsWith('@@')) return paint(io, 'cyan', l);
      if (l.startsWith('+')) return paint(io, 'green', l);
      if (l.startsWith('-')) return paint(io, 'red', l);
      return l;
    });
}

/** One line per agent. */
export function agentLine(io: Io, a: AgentJson): string {
  const live = a.live ? paint(io, 'green', 'live') : paint(io, 'dim', a.status);
  const group = [a.team && `team=${a.team}`, a.role && `role=${a.role}`].filter(Boolean).join(' ');
  const seen = a.lastSeen ? `last seen ${when(a.lastSeen)}` : 'never seen';
  return `${paint(io, 'bold', inert(a.name).padEnd(16))} ${(a.runtime ?? '-').padEnd(9)} ${live.padEnd(io.color ? 17 : 8)} ${group ? `${group}  ` : ''}${seen}${a.unread ? `  ${a.unread} unread` : ''}`;
}
