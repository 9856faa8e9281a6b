/** Human output shared by commands. Everything that came from a message or a name goes through inert(). */
import { firstLine, inert, inertLine } from '../core/text';
import type { AgentJson, MessageJson, RecipientJson, SignatureJson } from '../json/types';
import type { Io } from './io';
import { paint } from './io';

/**
 * Times: relative in tables ("5m ago", the exact time is in --json and 'show'), ISO 8601 everywhere else.
 * HANDOFF_NOW (an ISO time) fixes "now" for reproducible output.
 */
export function ago(ts: string | null, now = nowMs()): string {
  if (!ts) return '-';
  const t = Date.parse(ts);
  if (!Number.isFinite(t)) return ts;
  const s = Math.round((now - t) / 1000);
  if (s < 0) return 'in the future';
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  if (s < 30 * 86400) return `${Math.floor(s / 86400)}d ago`;
  return ts.slice(0, 10);
}

function nowMs(): number {
  const fixed = process.env.HANDOFF_NOW ? Date.parse(process.env.HANDOFF_NOW) : NaN;
  return Number.isFinite(fixed) ? fixed : Date.now();
}

const ANSI = /\u001b\[[0-9;]*m/g;
const visible = (s: string) => s.replace(ANSI, '').length;

/**
 * Aligned columns. The header line is printed only to a terminal (a script reading the output gets rows
 * alone); the last column is never padded.
 */
export function table(io: Io, headers: string[], rows: string[][]): string[] {
  const withHeaders = io.headers ?? io.tty;
  const widths = headers.map((h, i) => Math.max(withHeaders ? h.length : 0, ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(Math.max(0, widths[i]! - visible(c)))))
      .join('  ')
      .trimEnd();
  const out = rows.map(line);
  if (withHeaders && rows.length) out.unshift(paint(io, 'dim', line(headers)));
  return out;
}

/** Messages as a table, for inbox, thread and show's replies. */
export function messageTable(io: Io, messages: MessageJson[]): string[] {
  return table(
    io,
    [' ', 'ID', 'FROM', 'TO', 'KIND', 'WHEN', 'SUBJECT'],
    messages.map((m) => {
      const unread = m.status === 'stored' ? paint(io, 'yellow', '●') : ' ';
      const pri =
        m.priority === 'urgent' ? paint(io, 'red', 'URGENT ') : m.priority === 'low' ? paint(io, 'dim', 'low ') : '';
      const tags = `${m.diff ? paint(io, 'cyan', ` [diff: ${m.diff.files} file${m.diff.files === 1 ? '' : 's'}]`) : ''}${m.noReply ? paint(io, 'dim', ' [no reply needed]') : ''}`;
      return [
        unread,
        paint(io, 'dim', m.shortId),
        paint(io, 'bold', inert(m.from)),
        inert(m.to.join(',')),
        paint(io, 'magenta', m.kind),
        ago(m.ts),
        `${pri}${firstLine(m.body, 60)}${tags}`,
      ];
    }),
  );
}

/** A message in full: header, body, and optionally its patch. */
export function messageBlock(
  io: Io,
  m: MessageJson,
  extra: {
    recipients?: RecipientJson[];
    patch?: string | null;
    signature?: SignatureJson;
    secrets?: { action: 'redacted' | 'allowed'; found: { kind: string; where: string; line: number }[] };
  } = {},
): string[] {
  const lines = [
    `${paint(io, 'yellow', `message ${m.id}`)}  (short: ${m.shortId})`,
    `From:     ${inertLine(m.from)}`,
    `To:       ${inertLine(m.to.join(', '))}${m.address !== m.to.join(',') ? ` (${inertLine(m.address)})` : ''}`,
    `Date:     ${m.ts}`,
    `Kind:     ${m.kind}${m.priority !== 'normal' ? ` (${m.priority})` : ''}${m.noReply ? ', no reply needed' : ''}`,
    `Thread:   ${m.thread}${m.replyTo ? `  (reply to ${m.replyTo})` : ''}`,
    `Commit:   ${m.commit}`,
  ];
  if (m.diff) {
    lines.push(
      `Diff:     ${m.diff.files} file(s) against ${m.diff.base.slice(0, 12)}, snapshot ${m.diff.snapshot.slice(0, 12)}`,
    );
    if (m.diff.excluded.length) lines.push(`Left out: ${inertLine(m.diff.excluded.join(', '))} (look like secrets)`);
  }
  if (extra.signature) lines.push(`Signed:   ${signatureWords(io, extra.signature)}`);
  if (extra.secrets)
    lines.push(
      `Secrets:  ${extra.secrets.found.length} ${extra.secrets.action === 'redacted' ? 'redacted' : paint(io, 'red', 'kept by --allow-secret')}: ${extra.secrets.found
        .slice(0, 5)
        .map((f) => `${inertLine(f.kind)} in ${f.where === 'body' ? 'the body' : inertLine(f.where)}:${f.line}`)
        .join(', ')}${extra.secrets.found.length > 5 ? ', ...' : ''}`,
    );
  if (extra.recipients?.length) {
    lines.push(`Receipts: ${extra.recipients.map((r) => `${inert(r.agent)} ${statusWord(io, r.status)}`).join(', ')}`);
  }
  lines.push(
    '',
    ...inert(m.body)
      .split('\n')
      .map((l) => `    ${l}`),
  );
  if (extra.patch) lines.push('', ...patchLines(io, extra.patch));
  return lines;
}

function statusWord(io: Io, s: RecipientJson['status']): string {
  return s === 'acked'
    ? paint(io, 'green', 'acked')
    : s === 'read'
      ? paint(io, 'cyan', 'read')
      : paint(io, 'yellow', 'stored');
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

/** Agents as a table. */
/** A signature in words: who signed, or why it does not count. */
export function signatureWords(io: Io, s: SignatureJson): string {
  const key = s.key ? ` (${inert(s.key)})` : '';
  switch (s.status) {
    case 'good':
      return paint(io, 'green', `${inert(s.signer ?? 'an allowed signer')}${key}`);
    case 'unknown_key':
      return paint(io, 'yellow', `by a key not among the allowed signers${key}`);
    case 'bad':
      return paint(io, 'red', `BAD signature${key}`);
    case 'unverifiable':
      return paint(io, 'yellow', `signed, not checkable here${key}`);
    default:
      return 'no';
  }
}

export function agentTable(io: Io, agents: AgentJson[]): string[] {
  // The SIGNED column appears once any agent's events are signed.
  const signed = agents.some((a) => a.signature && a.signature.status !== 'unsigned');
  return table(
    io,
    ['NAME', 'RUNTIME', 'STATE', 'TEAM', 'ROLE', 'LAST SEEN', 'UNREAD', ...(signed ? ['SIGNED'] : []), 'NOTE'],
    agents.map((a) => [
      paint(io, 'bold', inert(a.name)),
      inert(a.runtime ?? '-'),
      a.status !== 'active'
        ? paint(io, 'dim', a.status)
        : a.presence === 'live'
          ? paint(io, 'green', 'live')
          : a.presence === 'idle'
            ? paint(io, 'yellow', 'idle')
            : paint(io, 'dim', 'gone'),
      inert(a.team ?? '-'),
      inert(a.role ?? '-'),
      a.lastSeen ? ago(a.lastSeen) : 'never',
      a.unread ? String(a.unread) : '-',
      ...(signed
        ? [
            a.signature?.status === 'good'
              ? inert(a.signature.signer ?? 'yes')
              : a.signature
                ? { unknown_key: 'unknown key', bad: 'BAD', unsigned: 'no', unverifiable: 'unchecked' }[
                    a.signature.status
                  ]
                : '-',
          ]
        : []),
      inertLine(a.note ?? ''),
    ]),
  );
}

/** One agent in a sentence (join, leave). */
export function agentSentence(a: AgentJson): string {
  const group = [a.team && `team ${inert(a.team)}`, a.role && `role ${inert(a.role)}`].filter(Boolean).join(', ');
  return `${inert(a.name)}${a.runtime ? ` (${inert(a.runtime)})` : ''}${group ? `, ${group}` : ''}${a.unread ? `, ${a.unread} unread` : ''}`;
}
