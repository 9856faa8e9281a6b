/**
 * The hidden-ref ledger format: the one module that knows how an event becomes a commit and back.
 * docs/ledger-format.md describes the same thing for readers without handoff.
 *
 * Format history (bump LEDGER_FORMAT with a line here on every change):
 *   1 - one commit per event on refs/handoff/chains/<clone-id>; tree: event.json, body?, patch?,
 *       snapshot/?; first parent = previous event, second parent = the diff's base commit.
 */
import path from 'node:path';
import { canonicalJson, parseEvent, type LedgerEvent, type MessageEvent } from '../core/events';
import { firstLine } from '../core/text';
import { HandoffError } from '../core/errors';
import { runGit, runGitStreaming } from './exec';
import { ObjectWriter, readObjects, streamObjects, type Journal, type TreeEntry } from './objects';
import { WindowObjectWriter, type PackWindow } from './pack-writer';
import { CommitLineParser, LineSplitter } from './commit-lines';
import { lastWrittenRef, readRef, readRefs, writeRefLocked } from './refs';
import { writeSignedCommit } from './signatures';
import type { Repo } from './repo';

const LEDGER_FORMAT = 1;
export const LEDGER_NAMESPACE = 'refs/handoff/';
export const CHAIN_PREFIX = 'refs/handoff/chains/';
const CLONE_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** The ref holding a clone's chain; refuses anything that is not a clone id. */
export function chainRef(cloneId: string): string {
  if (!CLONE_ID.test(cloneId)) throw new HandoffError('bad_clone_id', `Not a clone id: ${JSON.stringify(cloneId)}.`);
  return `${CHAIN_PREFIX}${cloneId}`;
}

/** The tips of every chain in the repository, by clone id (refs with other names are ignored). */
export function readChainTips(repo: Repo): Map<string, string> {
  return chainTipsIn(readRefs(repo, CHAIN_PREFIX));
}

/** The chain tips among `refs` (ref to commit, as readRefs gives them), by clone id. */
export function chainTipsIn(refs: Map<string, string>): Map<string, string> {
  const tips = new Map<string, string>();
  for (const [ref, oid] of refs) {
    if (!ref.startsWith(CHAIN_PREFIX)) continue;
    const id = ref.slice(CHAIN_PREFIX.length);
    if (CLONE_ID.test(id)) tips.set(id, oid);
  }
  return tips;
}

/**
 * Where plain `git fetch` puts a remote's chains after `sync --setup`: refs/handoff/remotes/<remote>/chains/.
 * git updates and prunes these copies; handoff moves its own chain refs forward from them (ops/index-chains.ts).
 */
export const TRACKING_PREFIX = 'refs/handoff/remotes/';
export function trackingPrefix(remote: string): string {
  return `${TRACKING_PREFIX}${remote}/chains/`;
}
const TRACKED = /^refs\/handoff\/remotes\/(.+)\/chains\/([0-9A-HJKMNP-TV-Z]{26})$/;

/** The remote-tracking copies of chains among `refs`: chain id and tip, per remote. */
export function trackedTipsIn(refs: Map<string, string>): { remote: string; chain: string; tip: string }[] {
  const out: { remote: string; chain: string; tip: string }[] = [];
  for (const [ref, tip] of refs) {
    const m = TRACKED.exec(ref);
    if (m) out.push({ remote: m[1]!, chain: m[2]!, tip });
  }
  return out;
}

/** What goes into an event's commit besides event.json. */
export interface EventPayload {
  body?: string;
  patch?: Buffer;
  /** Tree id of the working-tree snapshot. */
  snapshotTree?: string;
  /** Base commit of the snapshot, kept reachable as the second parent. */
  base?: string;
}

/** The readable first line of an event's commit message. */
function summaryLine(event: LedgerEvent, body?: string): string {
  switch (event.type) {
    case 'message': {
      const to = event.address.startsWith('@') || event.address === 'all' ? event.address : event.to.join(',');
      return `message ${event.author.name} -> ${to}: ${firstLine(body ?? '', 60) || '(empty)'}`;
    }
    case 'agent':
      return `agent ${event.action} ${event.name}${event.team ? ` team=${event.team}` : ''}${event.role ? ` role=${event.role}` : ''}`;
    case 'receipt':
      return `receipt ${event.status} by ${event.author.name}: ${event.messages.length} message(s)`;
    case 'attribution':
      return `attribution ${event.commit.slice(0, 12)} -> ${event.human ? 'human ' : ''}${event.agent}${event.messages.length ? ` for ${event.messages.join(',')}` : ''}`;
    case 'rewrite':
      return `rewrite (${event.kind}) ${event.pairs.length} commit(s)`;
    case 'verdict':
      return `verdict ${event.verdict} by ${event.author.name} on ${event.message}${body ? `: ${firstLine(body, 50)}` : ''}`;
    case 'claim':
      return `claim ${event.action} ${event.key} by ${event.author.name}${event.from ? ` from ${event.from}` : ''}`;
    case 'task':
      return `task ${event.state} ${event.message} by ${event.author.name}${body ? `: ${firstLine(body, 50)}` : ''}`;
    case 'reservation':
      return `reservation ${event.action} by ${event.author.name}: ${event.patterns.join(' ').slice(0, 60)}`;
  }
}

function commitMessage(event: LedgerEvent, body?: string): string {
  const trailers = [`Handoff-Event: ${event.type}`, `Handoff-Id: ${event.id}`, `Handoff-Agent: ${event.author.name}`];
  if (event.type === 'message') trailers.push(`Handoff-Thread: ${event.thread}`);
  trailers.push(`Handoff-Format: ${LEDGER_FORMAT}`);
  return `${summaryLine(event, body)}\n\n${trailers.join('\n')}\n`;
}

/** Writes the objects of one event and returns the tree id (no ref is touched). */
function writeEventTree(writer: ObjectWriter, event: LedgerEvent, payload: EventPayload): string {
  // The event names its own id and time, so its blob, tree and commit are new objects.
  const json = canonicalJson(event);
  // What this clone writes, every reader must take: an event its own parser would refuse would hold back
  // the chain, in this clone and every other, from there on.
  try {
    parseEvent(json);
  } catch (err) {
    throw new HandoffError(
      'event_refused',
      `handoff would write an event that its readers refuse (${(err as Error).message}); nothing was written.`,
    );
  }
  const entries: TreeEntry[] = [{ mode: '100644', name: 'event.json', oid: writer.blob(`${json}\n`, true) }];
  if (payload.body !== undefined) entries.push({ mode: '100644', name: 'body', oid: writer.blob(payload.body) });
  if (payload.patch !== undefined) entries.push({ mode: '100644', name: 'patch', oid: writer.blob(payload.patch) });
  if (payload.snapshotTree) entries.push({ mode: '40000', name: 'snapshot', oid: payload.snapshotTree });
  return writer.tree(entries, true);
}

export interface AppendResult {
  commit: string;
  parent: string | null;
}

/**
 * Appends one event to a clone's chain: `prepare` builds the event on the current tip, the commit is
 * written, and the ref moves by compare-and-swap under git's ref lock. When the ref moved meanwhile,
 * `prepare` runs again on the new tip (so the event's time and clock always follow its parent's).
 * Callers serialise their own appends to one chain (handoff holds its SQLite write lock).
 */
export function appendToChain(
  repo: Repo,
  cloneId: string,
  prepare: (parent: string | null) => { event: LedgerEvent; payload: EventPayload },
  opts: { sign?: boolean; journal?: Journal | null; window?: PackWindow | null } = {},
): AppendResult & { event: LedgerEvent; sealed: boolean } {
  const ref = chainRef(cloneId);
  // A signed commit is made by git, which must read its tree: those objects go loose.
  const writer =
    opts.window && !opts.sign
      ? new WindowObjectWriter(repo.objectsDir, repo.shared ?? null, opts.window)
      : new ObjectWriter(repo.objectsDir, repo.shared ?? null, opts.journal ?? null);
  let sealed = false;
  // How long a lock on the ref may stand before the append gives up (git's own ref updates take moments).
  const lockDeadline = Date.now() + LOCK_WAIT_MS;
  for (let attempt = 0; attempt < 1000; attempt++) {
    // The tip this process wrote last, else the ref as it is; the write below checks it under the lock.
    const parent = (attempt === 0 ? lastWrittenRef(repo, ref) : null) ?? readRef(repo, ref);
    const { event, payload } = prepare(parent);
    const tree = writeEventTree(writer, event, payload);
    const ident = {
      name: event.author.name,
      email: `${event.author.name}@handoff.invalid`,
      when: Date.parse(event.ts) / 1000,
    };
    const parents = parent ? [parent] : [];
    if (payload.base) parents.push(payload.base);
    const spec = { tree, parents, author: ident, committer: ident, message: commitMessage(event, payload.body) };
    // Signed commits go through git (and its signing program); unsigned ones are written here, in-process.
    const commit = opts.sign ? writeSignedCommit(repo, spec) : writer.commit(spec, true);
    if (writer instanceof WindowObjectWriter) sealed = writer.publish() || sealed;
    let outcome = writeRefLocked(repo, ref, commit, parent);
    // A git process holds the ref's lock: the same commit is tried again (no new objects) while the ref
    // stays where it was, until the lock goes or the wait runs out.
    for (let wait = 0; outcome === 'locked' && (readRef(repo, ref) ?? null) === parent; wait++) {
      if (Date.now() > lockDeadline)
        throw new HandoffError(
          'chain_busy',
          `Could not append to ${ref}: ${path.join(repo.commonDir, `${ref}.lock`)} has been held for over ${LOCK_WAIT_MS / 1000} s. If no git command is running in this repository, a crashed one left it: remove that file, then try again.`,
        );
      Atomics.wait(
        new Int32Array(new SharedArrayBuffer(4)),
        0,
        0,
        Math.min(50, 1 + wait * 5) * (0.5 + Math.random() / 2),
      );
      outcome = writeRefLocked(repo, ref, commit, parent);
    }
    if (outcome === 'ok') return { commit, parent, event, sealed };
    // The ref moved: back off a little (jittered) and rebuild on the new tip.
    const ms = Math.min(50, 1 + attempt * 2) * Math.random();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  }
  throw new HandoffError('chain_busy', `Could not append to ${ref}: too many concurrent writers. Try again.`);
}

/** How long an append waits for a lock a git process holds on its chain's ref. */
const LOCK_WAIT_MS = 3000;

/** One event read back from git. */
export interface ChainEvent {
  commit: string;
  parent: string | null;
  event: LedgerEvent;
  body: string | null;
  /** event.json as committed, without its final newline (what the index stores: see applyEvent). */
  json: string;
}

type ChainRow = { commit: string; parent: string | null; parents: string[] };

/** Rows of `git rev-list --first-parent --parents` output, parsed as it is pushed (both listings below). */
function chainRows(): { rows: ChainRow[]; lines: LineSplitter } {
  const rows: ChainRow[] = [];
  const ids = new CommitLineParser();
  const lines = new LineSplitter((buf, at, end) => {
    const { commit, parents } = ids.ids(buf, at, end);
    rows.push({ commit, parent: parents[0] ?? null, parents });
  });
  return { rows, lines };
}

/** The commits of a chain from `tip` back to (not including) `stop`, oldest first, with their parents. */
export function listChainCommits(repo: Repo, tip: string, stop: string | null): ChainRow[] {
  const args = ['rev-list', '--first-parent', '--reverse', '--parents', tip];
  if (stop) args.push(`^${stop}`);
  const { rows, lines } = chainRows();
  lines.push(runGit(args, { cwd: repo.cwd }).stdout);
  lines.end();
  return stop ? rows : fromFirstEvent(repo, rows);
}

/**
 * listChainCommits for a long walk, without holding up this process: git lists newest first, as it walks
 * (with --reverse it would walk the whole chain before printing a line), the lines are parsed as they come,
 * and the list is turned round.
 */
export async function listChainCommitsStreamed(repo: Repo, tip: string, stop: string | null): Promise<ChainRow[]> {
  const args = ['rev-list', '--first-parent', '--parents', tip];
  if (stop) args.push(`^${stop}`);
  const { rows, lines } = chainRows();
  await runGitStreaming(args, { cwd: repo.cwd, onStdout: (chunk) => lines.push(chunk) });
  lines.end();
  rows.reverse();
  return stop ? rows : fromFirstEvent(repo, rows);
}

/**
 * A walk from a chain's tip to its root (oldest first), from the chain's first event on. Until handoff
 * started every chain with an event without a diff, a clone whose first event carried one wrote it with the
 * diff's base (the user's commit) as its only parent, and the first-parent walk went on into the user's
 * history. Such a walk starts at the oldest commit after which every commit holds an event, when that
 * commit's event is a message whose diff's base is its only parent; it becomes the chain's first (no
 * parent). Any other walk is returned as it is, and judged as before. Costs one `git cat-file` when the
 * walk's first commit is an event.
 */
export function fromFirstEvent<T extends { commit: string; parent: string | null; parents: string[] }>(
  repo: Repo,
  rows: T[],
): T[] {
  if (rows.length < 2 || holdsEvent(repo, rows[0]!.commit)) return rows;
  const found = runGit(['cat-file', '--batch-check'], {
    cwd: repo.cwd,
    input: `${rows.map((r) => `${r.commit}:event.json`).join('\n')}\n`,
  })
    .stdout.toString('utf8')
    .trim()
    .split('\n')
    .map((l) => !l.endsWith(' missing'));
  const k = found.lastIndexOf(false) + 1;
  const first = rows[k];
  if (!first || first.parents.length !== 1) return rows;
  const event = readEventAt(repo, first.commit);
  if (event?.type !== 'message' || event.diff?.base !== first.parents[0]) return rows;
  return [{ ...first, parent: null }, ...rows.slice(k + 1)];
}

/** Whether `commit` holds an event. */
function holdsEvent(repo: Repo, commit: string): boolean {
  return runGit(['cat-file', '-e', `${commit}:event.json`], { cwd: repo.cwd, allowFailure: true }).status === 0;
}

/** A chain commit whose event could not be read or failed its checks. */
export interface BadChainCommit {
  commit: string;
  reason: string;
}

/** Reads and checks the events of the given chain commits (one cat-file process for all of them). */
export function readChainEvents(
  repo: Repo,
  commits: { commit: string; parent: string | null }[],
  opts: { bodies?: boolean } = {},
): { events: ChainEvent[]; bad: BadChainCommit[] } {
  const specs: string[] = [];
  const bodies = opts.bodies !== false;
  for (const c of commits) {
    specs.push(`${c.commit}:event.json`);
    if (bodies) specs.push(`${c.commit}:body`);
  }
  const objects = readObjects(repo, specs);
  const events: ChainEvent[] = [];
  const bad: BadChainCommit[] = [];
  for (const c of commits) {
    const json = objects.get(`${c.commit}:event.json`);
    if (!json) {
      bad.push({ commit: c.commit, reason: 'no event.json' });
      continue;
    }
    try {
      const text = json.content.toString('utf8');
      const event = parseEvent(text);
      const body = objects.get(`${c.commit}:body`);
      const wrongSize = body && bodySizeProblem(event, body.content);
      if (wrongSize) {
        bad.push({ commit: c.commit, reason: wrongSize });
        continue;
      }
      events.push({
        commit: c.commit,
        parent: c.parent,
        event,
        body: body ? body.content.toString('utf8') : null,
        json: withoutFinalNewline(text),
      });
    } catch (err) {
      bad.push({ commit: c.commit, reason: (err as Error).message });
    }
  }
  return { events, bad };
}

/**
 * Streams the events of the given chain commits in order (with their bodies when `bodies` is set) from one
 * `git cat-file`: `onEvent` gets each event, or the reason it is unreadable, as git produces it, and
 * returning false stops the stream there.
 */
export async function streamChainEvents(
  repo: Repo,
  commits: { commit: string; parent: string | null; tree?: string }[],
  onEvent: (
    c: { commit: string; parent: string | null },
    event: LedgerEvent | null,
    reason: string | null,
    body: string | null,
    /** event.json as committed, without its final newline (when the event parsed). */
    json: string | null,
  ) => boolean | void,
  opts: { bodies?: boolean; beforeWait?: () => void } = {},
): Promise<void> {
  const per = opts.bodies ? 2 : 1;
  const specs = {
    count: commits.length * per,
    // By tree where the listing gave it: git then reads no commit to find the file.
    at: (i: number) => {
      const c = commits[Math.floor(i / per)]!;
      return `${c.tree || c.commit}:${i % per === 0 ? 'event.json' : 'body'}`;
    },
  };
  let i = 0;
  let event: LedgerEvent | null = null;
  let reason: string | null = null;
  let json: string | null = null;
  await streamObjects(
    repo,
    specs,
    (_spec, obj) => {
      const part = i++ % per;
      const c = commits[Math.floor((i - 1) / per)]!;
      if (part === 0) {
        event = null;
        reason = null;
        json = null;
        if (!obj) reason = 'no event.json';
        else
          try {
            const text = obj.content.toString('utf8');
            event = parseEvent(text);
            json = withoutFinalNewline(text);
          } catch (err) {
            reason = (err as Error).message;
          }
        if (per === 2) return true;
        return onEvent(c, event, reason, null, json) !== false;
      }
      // A body that is not the size its event says (a forger's 40 MB under body_bytes 1) is refused here,
      // before it is decoded: the event holds its chain back like any bad event.
      const wrongSize = event && obj && bodySizeProblem(event, obj.content);
      if (wrongSize) return onEvent(c, null, wrongSize, null, null) !== false;
      return onEvent(c, event, reason, obj ? obj.content.toString('utf8') : null, json) !== false;
    },
    { beforeWait: opts.beforeWait },
  );
}

/** Why a body cannot be the event's (its size is not the one the event says), or null. */
function bodySizeProblem(event: LedgerEvent, body: Buffer): string | null {
  const said = (event as { body_bytes?: number }).body_bytes;
  return said !== undefined && body.length !== said ? `body is ${body.length} bytes, its event says ${said}` : null;
}

const withoutFinalNewline = (text: string) => (text.endsWith('\n') ? text.slice(0, -1) : text);

/** The event committed as `commit`, or null when it cannot be read. */
export function readEventAt(repo: Repo, commit: string): LedgerEvent | null {
  return readChainEvents(repo, [{ commit, parent: null }]).events[0]?.event ?? null;
}

/** The unified diff attached to a message event, or null. */
export function readPatch(repo: Repo, commit: string): string | null {
  const obj = readObjects(repo, [`${commit}:patch`]).get(`${commit}:patch`);
  return obj ? obj.content.toString('utf8') : null;
}

export type { MessageEvent };

/** True when `commit` exists here and is an event of `chain` (its event.json says so). */
/** Which of `commits` are events of `chain` (one `git cat-file` for all of them). */
export function chainCommitsAmong(repo: Repo, chain: string, commits: string[]): Set<string> {
  const wanted = [...new Set(commits.filter((c) => /^[0-9a-f]{40}$/.test(c)))];
  const objects = readObjects(
    repo,
    wanted.map((c) => `${c}:event.json`),
  );
  const out = new Set<string>();
  for (const c of wanted) {
    const obj = objects.get(`${c}:event.json`);
    if (!obj) continue;
    try {
      if ((JSON.parse(obj.content.toString('utf8')) as { clone?: unknown }).clone === chain) out.add(c);
    } catch {
      /* not an event */
    }
  }
  return out;
}

export function isChainCommit(repo: Repo, chain: string, commit: string): boolean {
  return chainCommitsAmong(repo, chain, [commit]).has(commit);
}
