/** Writing an event: git first (the source of truth), then SQLite in one transaction. */
import { EVENT_FORMAT_VERSION, MAX_NAMES, type EventDraft, type LedgerEvent } from '../core/events';
import { configTrue } from '../core/text';
import type { IdentityJson } from '../json/types';
import { appendToChain, chainRef, readEventAt, type EventPayload } from '../git/ledger-format';
import { compareAndSwapRef, readRef } from '../git/refs';
import { missingObjectsOf, objectTypes } from '../git/history';
import { HandoffError } from '../core/errors';
import type { GcWatch } from '../git/maintenance';
import { gcMayHaveRun, watchGc, packIfMany, packJournal, packsInUse, waitForRunningGc } from '../git/maintenance';
import { journalOf } from '../git/objects';
import { packWindowOf } from '../git/pack-writer';
import { applyEvent } from '../ledger/apply';
import { writeTx } from '../ledger/db';
import { advanceKnownTip, clockOfCommit, knownTips, lastWitnessedBy } from '../ledger/events';
import { requireWritable, type Context } from './context';
import { strangerNotice } from './stranger';

export interface Appended<E extends LedgerEvent = LedgerEvent> {
  event: E;
  commit: string;
}

/** The longest a send waits for a git gc to end before it checks that the snapshot's objects are all there. */
const GC_WAIT_MS = 8000;

/** Appends a process makes with loose objects before it writes its objects as packs. */
const LOOSE_APPENDS = 3;
let appendsHere = 0;

/**
 * Databases of processes that go on appending (a server, the library), whose SQLite no longer syncs its
 * checkpoints: waiting for the disk there was 13% of an in-process send (1,140/s against 1,320/s in turn,
 * 5,000 sends). What this risks is only what a power loss or an OS crash can take: the last events of the
 * index, or a damaged file, which handoff sets aside and rebuilds from git (it is an index of the chains,
 * which are written first; git does not sync the objects it writes either, unless core.fsync says so). A
 * process that dies keeps everything: its writes are in the kernel's hands.
 */
const unsynced = new WeakSet<object>();

/**
 * Appends an event by `author` to this clone's chain and indexes it. Once this returns, the event is in
 * both stores; if the process dies after the git step, the next command indexes it from the chain.
 */
export function appendEvent<E extends LedgerEvent>(
  ctx: Context,
  author: IdentityJson,
  draftOrDecide: (EventDraft & { id?: string }) | (() => EventDraft & { id?: string }),
  payload: EventPayload = {},
  checks: {
    /** Taken before the payload's snapshot was written (ops/send.ts): if a git gc ran since, its objects are checked. */
    gcWatch?: GcWatch;
  } = {},
): Appended<E> {
  requireWritable(ctx, 'write to the ledger');
  // A bare repository is a remote (or a mirror): a chain written there would be fetched by every clone as
  // an agent's, though no agent works there.
  if (!ctx.repo.worktree)
    throw new HandoffError(
      'bare_repository',
      'This is a bare repository (a remote?): agents write to the ledger from a clone with a working tree. Run the command in a clone; read-only commands (inbox, verify, log) work here.',
    );
  // The first event of a name close to a known agent's: most likely a mistyped HANDOFF_AGENT, under which
  // claims, reservations and messages would go astray (and which would be sent `all` from now on).
  const stranger = strangerNotice(ctx, author.name);
  if (stranger) ctx.warn(stranger);
  let draft: EventDraft & { id?: string } = typeof draftOrDecide === 'function' ? ({} as EventDraft) : draftOrDecide;
  let id = draft.id ?? '';
  const prepareWith =
    (
      made: () => { draft: EventDraft; id: string; payload: EventPayload },
    ): ((parent: string | null) => { event: LedgerEvent; payload: EventPayload }) =>
    (parent) => {
      const next = made();
      // Witnesses: the other chains' tips this clone has indexed, where they changed since this chain said.
      const said = lastWitnessedBy(ctx.db, ctx.cloneId);
      const seen: Record<string, string> = {};
      // At most MAX_NAMES (readers refuse more): the rest are said by the next event.
      let witnessed = 0;
      for (const [chain, tip] of knownTips(ctx.db))
        if (chain !== ctx.cloneId && said.get(chain) !== tip && witnessed++ < MAX_NAMES) seen[chain] = tip;
      const seenClock = Math.max(0, ...Object.values(seen).map((c) => clockOfCommit(ctx.db, c) ?? 0));
      const now = ctx.now();
      let parentClock = 0;
      if (parent) parentClock = clockOfCommit(ctx.db, parent) ?? readEventAt(ctx.repo, parent)?.clock ?? 0;
      const event = {
        v: EVENT_FORMAT_VERSION,
        id: next.id,
        ts: now.toISOString(),
        clock: Math.max(now.getTime(), parentClock + 1, seenClock + 1),
        clone: ctx.cloneId,
        author: { name: author.name, runtime: author.runtime, via: author.via },
        ...(Object.keys(seen).length ? { seen } : {}),
        ...next.draft,
      } as unknown as E;
      return { event, payload: next.payload };
    };
  const prepare = prepareWith(() => ({ draft, id, payload }));
  // The SQLite write lock serialises this clone's writers (the kernel drops it if the process dies);
  // git is written first inside it, so a crash before COMMIT leaves the event in git for the next command.
  // A process that goes on appending writes its objects as packs from the start (git/pack-writer.ts).
  const window =
    ctx.maintenance && ++appendsHere > LOOSE_APPENDS && !packsInUse(ctx.repo, ctx.dataDir)
      ? packWindowOf(ctx.repo.objectsDir)
      : null;
  // (Not inside a caller's transaction, where SQLite refuses it: then at the next append.)
  if (window && !unsynced.has(ctx.db) && !ctx.db.inTransaction) {
    ctx.db.pragma('synchronous = OFF');
    unsynced.add(ctx.db);
  }
  let sealed = false;
  const appended = writeTx(ctx.db, () => {
    // A draft given as a function is decided here, holding the write lock: what it reads cannot change
    // before the event is written (claims rely on this; it may throw to write nothing).
    if (typeof draftOrDecide === 'function') draft = draftOrDecide();
    id = draft.id ?? ctx.newId();
    const opts = {
      sign: configTrue(ctx.config().get('handoff.sign')?.at(-1)),
      // A process that packs remembers what it wrote, to pack its own objects from memory.
      journal: ctx.maintenance ? journalOf(ctx.repo.objectsDir) : null,
      window,
    };
    // This clone's chain ref gone (deleted by hand, or pruned by a fetch), though SQLite indexed events of
    // it: put back at the last one, never a new first commit, which every other clone would take for a
    // rewrite, and which would leave the events before it out of every rebuild.
    const ownRef = chainRef(ctx.cloneId);
    if (readRef(ctx.repo, ownRef) === null) {
      const known = knownTips(ctx.db).get(ctx.cloneId);
      if (
        known &&
        objectTypes(ctx.repo.cwd, [known])[0] === 'commit' &&
        compareAndSwapRef(ctx.repo, ownRef, known, null)
      )
        ctx.warn(
          `This clone's chain ref ${ownRef} was missing; it is put back at the last event this clone indexed (${known.slice(0, 12)}).`,
        );
    }
    if (payload.base && readRef(ctx.repo, ownRef) === null) {
      // A chain's first commit has no parent on the chain, so a snapshot's base would be its first parent
      // and the chain would seem to go on into the user's history: the chain starts with the author's
      // register event instead (idempotent wherever it is indexed).
      const root: EventDraft = {
        type: 'agent',
        action: 'register',
        name: author.name,
        team: null,
        role: null,
        runtime: author.runtime,
      };
      const rootId = ctx.newId();
      const first = appendToChain(
        ctx.repo,
        ctx.cloneId,
        prepareWith(() => ({ draft: root, id: rootId, payload: {} })),
        opts,
      );
      sealed = first.sealed;
      applyEvent(ctx.db, {
        chain: ctx.cloneId,
        commit: first.commit,
        parent: first.parent,
        event: first.event,
        body: null,
      });
    }
    // A git gc that ran while the snapshot was written, before the event held it, may have removed its
    // objects. Whether one did shows (its gc.pid, or its repack in the pack directory) up to here; one that
    // starts from here on reads the moved ref. Asked before the event is written, which may itself add a pack.
    const gcRan = !!checks.gcWatch && !!payload.snapshotTree && gcMayHaveRun(ctx.repo, checks.gcWatch);
    const written = appendToChain(ctx.repo, ctx.cloneId, prepare, opts);
    const { commit, parent, event } = written;
    // If one did, the objects are checked once the gc running when the ref moved has ended (it may still be
    // removing what it found unreachable when it started; waited for at most GC_WAIT_MS, under the write
    // lock, so well within the other writers' busy timeout). Missing objects: the event is taken back (the
    // ref moved back, SQLite not written), so that no event names objects that are gone (which would also
    // stop every later git gc), and the send fails saying so.
    if (gcRan || (checks.gcWatch && payload.snapshotTree && watchGc(ctx.repo).gc)) {
      waitForRunningGc(ctx.repo, GC_WAIT_MS);
      const missing = missingObjectsOf(
        ctx.repo.cwd,
        commit,
        [parent, payload.base].filter((c): c is string => !!c),
      );
      if (missing.length) {
        compareAndSwapRef(ctx.repo, ownRef, parent ?? '0'.repeat(40), commit);
        throw new HandoffError(
          'snapshot_pruned',
          `git gc removed ${missing.length} of the snapshot's objects while the message was written (a gc with --prune=now ran at the same time, which git warns is unsafe beside other writers). Nothing was sent; send it again.`,
          { missing: missing.slice(0, 20) },
        );
      }
    }
    sealed = written.sealed || sealed;
    applyEvent(ctx.db, { chain: ctx.cloneId, commit, parent, event, body: payload.body ?? null });
    advanceKnownTip(ctx.db, ctx.cloneId, event.ts);
    return { event: event as E, commit };
  });
  // Outside the write lock: pack this process's objects, then anyone's loose ones, once there are many
  // (git/maintenance.ts).
  if (ctx.maintenance) {
    packJournal(ctx.repo, ctx.dataDir);
    packIfMany(ctx.repo, ctx.dataDir, false, sealed);
  }
  return appended;
}
