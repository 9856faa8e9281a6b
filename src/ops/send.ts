/** Sending a message: check everything, snapshot the worktree if asked, append the event. */
import { ConflictError, HandoffError, UsageError } from '../core/errors';
import { isEventId, type MessageEvent, type MessageKind, type Priority } from '../core/events';
import {
  readSnapshotFiles,
  rewriteSnapshotFiles,
  secretPatterns,
  snapshotWorktree,
  startWorktreeStatus,
  type Snapshot,
} from '../git/snapshot';
import { compileSecretPatterns, occurrences, redact, scanBody, scanFile, scanPatch } from './secrets';

/** Changed files larger than this are not scanned whole (8 MiB). */
const MAX_SCANNED_FILE = 8 * 1024 * 1024;
import { getMessage } from '../ledger/messages';
import type { BackgroundGit } from '../git/exec';
import type { SendJson } from '../json/types';
import { appendEvent } from './append';
import { watchGc } from '../git/maintenance';
import { checkBody } from './body';
import { inertLine } from '../core/text';
import { requireWritable, type Context } from './context';
import { reservedByOthers } from './reservations';
import { setWorkingOn } from './working';
import { WORK_KINDS } from './inbox';
import { resolveIdentity } from './identity';
import { findMessage, resolveAddress } from './lookup';
import { messageJson } from './views';
import { waitForReadOrReply } from './wait';
import { ringDoorbells } from './wakeups';

export interface SendInput {
  /** The message id to use (a ULID): sending again with the same id sends it once (an idempotency key). */
  id?: string;
  to: string;
  body: string | Buffer;
  as?: string;
  kind?: MessageKind;
  priority?: Priority;
  thread?: string;
  replyTo?: string;
  /** Told what --wait-for waits for (the CLI says it on a terminal). */
  onWaiting?: (what: string) => void;
  /** With waitFor: told the message's id once it is written, before the wait (which may be cut short). */
  onSent?: (id: string) => void;
  attachDiff?: boolean;
  /** With attachDiff: the `git status` the caller started already (startWorktreeStatus). */
  worktreeStatus?: BackgroundGit;
  create?: boolean;
  waitFor?: 'read' | 'reply';
  timeoutSeconds?: number;
  noReply?: boolean;
  /** Store the message with each secret found replaced by a marker (recorded in the event). */
  redact?: boolean;
  /** Store secrets found as they are (recorded in the event). */
  allowSecret?: boolean;
}

/**
 * Scans the body and the attached patch for secrets before anything is written: a finding refuses the
 * send (secret_found, exit 2), unless the caller asked to redact (each secret becomes a marker, in the
 * body, the patch and the snapshot's files) or to allow it; either is recorded in the event.
 */
async function guardSecrets(
  ctx: Context,
  body: string,
  snap: Snapshot | undefined,
  input: Pick<SendInput, 'redact' | 'allowSecret'>,
): Promise<{ body: string; snap: Snapshot | undefined; secrets?: MessageEvent['secrets'] }> {
  const patterns = compileSecretPatterns(ctx.config().get('handoff.secretpatterns') ?? []);
  const inBody = await scanBody(body, patterns);
  const patchText = snap ? snap.patch.toString('utf8') : '';
  const { findings: inPatch, binary } = snap
    ? await scanPatch(patchText, patterns)
    : { findings: [], binary: new Set<string>() };
  // Changed files the patch shows as binary (by .gitattributes, or past handoff.patchFileLimit) are
  // scanned whole, unless they really are binary.
  const inFiles: Awaited<ReturnType<typeof scanFile>> = [];
  if (snap) {
    for (const [file, content] of readSnapshotFiles(ctx.repo, snap.tree, [...binary])) {
      if (content.length > MAX_SCANNED_FILE || content.subarray(0, 8000).includes(0)) continue;
      inFiles.push(...(await scanFile(file, content.toString('utf8'), patterns)));
    }
  }
  const found = [...inBody, ...inPatch, ...inFiles];
  if (!found.length) return { body, snap };
  const notes = found.map((f) => ({ kind: f.kind, where: f.where, line: f.line }));
  if (input.redact) {
    let next = snap;
    if (snap && (inPatch.length || inFiles.length)) {
      // Every occurrence of each secret, in every changed file of the snapshot, and the patch's lines.
      const secrets = [...inPatch, ...inFiles].map((f) => ({ secret: f.secret, kind: f.kind }));
      const tree = rewriteSnapshotFiles(ctx.repo, snap.tree, snap.files, (_file, content) => {
        const text = content.toString('utf8');
        const hits = occurrences(text, secrets);
        return hits.length ? Buffer.from(redact(text, hits), 'utf8') : null;
      });
      next = { ...snap, tree, patch: Buffer.from(redact(patchText, inPatch, '+'), 'utf8') };
    }
    return { body: redact(body, inBody), snap: next, secrets: { action: 'redacted', found: notes } };
  }
  if (input.allowSecret) return { body, snap, secrets: { action: 'allowed', found: notes } };
  const list = notes
    .slice(0, 10)
    .map((n) => `${n.kind} in ${n.where === 'body' ? 'the body' : n.where}, line ${n.line}`);
  throw new UsageError(
    'secret_found',
    `Not sent: ${found.length === 1 ? 'a secret was' : `${found.length} secrets were`} found (${list.join('; ')}${found.length > 10 ? '; ...' : ''}). Nothing was recorded${snap ? " (the snapshot's files stay in git's object store, unreachable and never pushed, until git gc prunes them, as the working tree holds them anyway)" : ''}. Remove ${found.length === 1 ? 'it' : 'them'}, send with --redact to store the message with ${found.length === 1 ? 'it' : 'each'} replaced by a marker, or with --allow-secret to store ${found.length === 1 ? 'it' : 'them'} as ${found.length === 1 ? 'it is' : 'they are'} (both are recorded in the event). A secret that reached a shared ledger must be rotated: the ledger is append-only.`,
    { found: notes },
  );
}

/** The request a reply answers: the message itself when it asks for work, else the nearest one up its thread. */
function requestBehind(ctx: Context, id: string): string | null {
  for (
    let cur = getMessage(ctx.db, id), hops = 0;
    cur && hops < 100;
    cur = cur.reply_to ? getMessage(ctx.db, cur.reply_to) : undefined, hops++
  ) {
    if (WORK_KINDS.has(cur.kind)) return cur.id;
  }
  return null;
}

/** Starting the snapshot's `git status` early (see SendInput.worktreeStatus). */
export { startWorktreeStatus };

/** Sends a message and returns it (after waiting, when waitFor is given). */
export async function send(ctx: Context, input: SendInput): Promise<SendJson> {
  requireWritable(ctx, 'send a message');
  const me = resolveIdentity(ctx, { as: input.as });
  let body = checkBody(ctx, input.body);
  let thread: string | undefined;
  let replyTo: string | null = null;
  if (input.replyTo) {
    const parent = findMessage(ctx, input.replyTo);
    replyTo = parent.id;
    thread = parent.thread;
  }
  if (input.thread) {
    const t = findMessage(ctx, input.thread);
    if (thread && thread !== t.thread)
      throw new UsageError('thread_mismatch', `--reply-to ${replyTo} is in thread ${thread}, not ${t.thread}.`);
    thread = t.thread;
  }
  const target = resolveAddress(ctx, input.to, { sender: me.name, create: input.create });
  if (input.waitFor && target.to.length === 0) throw new UsageError('no_recipient', 'Nobody to wait for.');
  let snap: Snapshot | undefined;
  // A git gc run while the snapshot is written may remove its objects before the event holds them:
  // appendEvent checks them if one ran since this look.
  const gcWatch = input.attachDiff ? watchGc(ctx.repo) : undefined;
  if (input.attachDiff) {
    const limit = Number(ctx.config().get('handoff.patchfilelimit')?.at(-1) ?? NaN);
    snap = await snapshotWorktree({
      repo: ctx.repo,
      status: input.worktreeStatus,
      exclude: secretPatterns(ctx.config().get('handoff.snapshotexclude') ?? []),
      patchFileLimit: Number.isFinite(limit) && limit > 0 ? limit : undefined,
      autocrlf: ctx.config().get('core.autocrlf')?.at(-1),
      fileMode: ctx.config().get('core.filemode')?.at(-1),
    });
  }
  const guarded = await guardSecrets(ctx, body, snap, input);
  body = guarded.body;
  snap = guarded.snap;
  // A ULID is 128 bits: its first character is 0-7 (a larger one is past the year 10889).
  if (input.id !== undefined && !(isEventId(input.id.toUpperCase()) && input.id[0]! <= '7'))
    throw new UsageError(
      'bad_id',
      `--id ${JSON.stringify(input.id)} is not a ULID (26 characters of 0-9 and A-Z without I, L, O, U, the first 0-7).`,
    );
  const id = input.id?.toUpperCase() ?? ctx.newId();
  // A retry with --id of a send that was written: the same message is not sent twice. Asked here, and again
  // under the write lock, where a retry that overlaps the first try (both past this point) meets it.
  const sentBefore = (): SendJson | null => {
    const existing = getMessage(ctx.db, id);
    if (existing) {
      // Sent before (a retry after a reported failure): the same message is not sent twice.
      const target = resolveAddress(ctx, input.to, { sender: me.name, create: true });
      const same =
        existing.sender === me.name &&
        existing.body === body &&
        existing.kind === (input.kind ?? 'request') &&
        existing.recipients === target.to.join(',') &&
        (input.replyTo === undefined || existing.reply_to === findMessage(ctx, input.replyTo).id);
      if (same) return { message: messageJson(existing), alreadySent: true };
      throw new ConflictError(
        'id_taken',
        `Message id ${id} is already used by another message. Leave out --id, or give a new one.`,
      );
    }
    return null;
  };
  if (input.id !== undefined) {
    const before = sentBefore();
    if (before) return before;
  }
  let appended: { event: MessageEvent };
  let raced: SendJson | null = null;
  const ALREADY = Symbol('already written');
  try {
    appended = appendEvent<MessageEvent>(
      ctx,
      me,
      () => {
        if (input.id !== undefined && getMessage(ctx.db, id)) {
          raced = sentBefore();
          throw ALREADY;
        }
        return {
          id,
          type: 'message',
          address: target.address,
          to: target.to,
          kind: input.kind ?? 'request',
          priority: input.priority ?? 'normal',
          thread: thread ?? id,
          reply_to: replyTo,
          body_bytes: Buffer.byteLength(body, 'utf8'),
          ...(input.noReply ? { no_reply: true } : {}),
          ...(guarded.secrets ? { secrets: guarded.secrets } : {}),
          diff: snap
            ? {
                base: snap.base,
                snapshot: snap.tree,
                files: snap.changes,
                excluded: snap.excluded,
                paths: snap.files.slice(0, 1000),
              }
            : null,
        };
      },
      snap ? { body, patch: snap.patch, snapshotTree: snap.tree, base: snap.base } : { body },
      { gcWatch },
    );
  } catch (err) {
    if (err === ALREADY && raced) return raced;
    // Signing failed before any commit was made, or the chain's ref stayed locked: nothing was written.
    if (
      err instanceof HandoffError &&
      ['sign_failed', 'chain_busy', 'id_taken', 'snapshot_pruned', 'bare_repository'].includes(err.code)
    )
      throw err;
    // The git write may have happened before the failure (a full disk, a kill): say so, with the id to retry with.
    const why = err instanceof Error ? err.message : String(err);
    const failed = new HandoffError(
      'send_failed',
      `The send of ${id} failed (${why}). It may have been written; run the same send again with --id ${id} to make sure it is delivered exactly once.`,
      { id },
    );
    failed.cause = err;
    throw failed;
  }
  const { event } = appended;
  // Replying to a request with a diff says what the next commits answer (unless work-on said otherwise).
  if (replyTo && snap) {
    const request = requestBehind(ctx, replyTo);
    if (request) setWorkingOn(ctx, me.name, { message: request, mode: 'reply' });
  }
  const message = messageJson(getMessage(ctx.db, event.id)!);
  ringDoorbells(ctx, event.to);
  const reserved = snap ? reservedByOthers(ctx, me.name, snap.files) : [];
  const secretNotice = guarded.secrets
    ? `${guarded.secrets.found.length} secret(s) ${guarded.secrets.action === 'redacted' ? 'replaced by markers' : 'stored as they are (--allow-secret)'}: ${guarded.secrets.found
        .slice(0, 5)
        .map((f) => `${f.kind} in ${f.where === 'body' ? 'the body' : f.where}:${f.line}`)
        .join(', ')}${guarded.secrets.found.length > 5 ? ', ...' : ''}.`
    : null;
  const notices = [
    ...(secretNotice ? [secretNotice] : []),
    ...(snap && snap.files.length === 0
      ? ['--attach-diff: the working tree matches HEAD, so the attached diff is empty (its base is HEAD).']
      : []),
    ...(snap?.dirtySubmodules.length
      ? [
          `--attach-diff: ${snap.dirtySubmodules.map((p) => inertLine(p)).join(', ')} ${snap.dirtySubmodules.length === 1 ? 'has' : 'have'} changes not committed in the submodule; the diff records the commit ${snap.dirtySubmodules.length === 1 ? 'it is' : 'each is'} at, not those changes.`,
        ]
      : []),
    ...(reserved.length
      ? [
          `the attached diff touches ${reserved.length === 1 ? 'a path' : `${reserved.length} paths`} reserved by others: ${reserved
            .slice(0, 5)
            .map(
              (r) =>
                `${inertLine(r.file)} (${r.reservation.agent}${r.reservation.reason ? `: ${inertLine(r.reservation.reason)}` : ''})`,
            )
            .join(', ')}${reserved.length > 5 ? ', ...' : ''}.`,
        ]
      : []),
  ];
  if (!input.waitFor) return { message, ...(notices.length ? { notices } : {}) };
  input.onSent?.(message.id);
  const waited = await waitForReadOrReply(ctx, {
    message: event.id,
    for: input.waitFor,
    timeoutSeconds: input.timeoutSeconds ?? 300,
    onWaiting: input.onWaiting,
  });
  return { message, waited, ...(notices.length ? { notices } : {}) };
}
