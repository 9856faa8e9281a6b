/**
 * The events of the ledger, in one place. Every event is one commit on a clone's chain (see
 * docs/ledger-format.md) and one row in SQLite. Events read from git are untrusted (they may come from
 * another clone through a remote), so parseEvent checks every field before anything uses it.
 */
import { HandoffError } from './errors';
import { NAME_PATTERN } from './names';

/** The event format version written into event.json. v1: the first format. */
export const EVENT_FORMAT_VERSION = 1;

export const EVENT_TYPES = [
  'agent',
  'message',
  'receipt',
  'attribution',
  'rewrite',
  'verdict',
  'claim',
  'task',
  'reservation',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const MESSAGE_KINDS = [
  'request',
  'review_request',
  'review_response',
  'question',
  'answer',
  'decision',
  'status',
  'todo',
  'note',
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export const PRIORITIES = ['urgent', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** How an identity was found, in the order they are tried. */
export type IdentitySource = 'env' | 'flag' | 'runtime' | 'git-user';

/** Who wrote an event. */
export interface EventAuthor {
  name: string;
  runtime: string | null;
  via: IdentitySource;
}

interface EventBase {
  v: number;
  id: string;
  type: EventType;
  ts: string;
  clone: string;
  author: EventAuthor;
  /**
   * Hybrid logical clock in milliseconds: max(ts, previous event's clock + 1, every witnessed event's
   * clock + 1). Readers order events by (clock, id), which is causal even when machines' clocks disagree.
   */
  clock: number;
  /** Tips of other chains this clone had indexed when it wrote the event, where they changed. */
  seen?: Record<string, string>;
}

export interface AgentEvent extends EventBase {
  type: 'agent';
  action: 'join' | 'leave' | 'register' | 'status';
  name: string;
  team: string | null;
  role: string | null;
  runtime: string | null;
  /** status: what the agent says it is doing (empty clears it). */
  note?: string;
}

/** One secret found in a message: its kind and where (body, or a file of the diff) with the line. */
export interface SecretNote {
  kind: string;
  where: string;
  line: number;
}

export interface MessageEvent extends EventBase {
  type: 'message';
  /** The address as written: an agent name, @team, @role or all. */
  address: string;
  /** The agents it was delivered to, resolved when it was sent. */
  to: string[];
  kind: MessageKind;
  priority: Priority;
  thread: string;
  reply_to: string | null;
  body_bytes: number;
  /** The sender needs no answer (loop guard). */
  no_reply?: boolean;
  /** Secrets found at send time: replaced by markers (redacted), or kept by explicit override (allowed). */
  secrets?: { action: 'redacted' | 'allowed'; found: SecretNote[] };
  /** Present when a diff was attached. */
  diff: null | {
    base: string;
    snapshot: string;
    files: number;
    excluded: string[];
    /** The changed paths (at most 1,000), for search and reservation checks. */
    paths?: string[];
  };
}

export interface ReceiptEvent extends EventBase {
  type: 'receipt';
  status: 'read' | 'acked';
  messages: string[];
}

/** Added line ranges per file: [first line, number of lines] in the commit's version of the file. */
export type LineRanges = Record<string, [number, number][]>;

export interface AttributionEvent extends EventBase {
  type: 'attribution';
  commit: string;
  tree: string;
  parents: string[];
  patch_id: string | null;
  /** The agent the commit is attributed to (from its Handoff-Agent trailer, else the committing identity). */
  agent: string;
  /** True when the committer had no agent identity (a human, named after git user.name). */
  human: boolean;
  /** The handoff(s) the commit answers. */
  messages: string[];
  /** How sure the link to `messages` is (absent in events written before links were recorded: pinned). */
  link?: 'pinned' | 'reply' | 'guess';
  files: LineRanges;
  /** The commit's subject line (for search; absent in older events). */
  subject?: string;
}

export interface RewriteEvent extends EventBase {
  type: 'rewrite';
  kind: 'amend' | 'rebase' | 'relink';
  /** Old commit -> new commit (a squash maps several old commits to one new one). */
  pairs: { old: string; new: string }[];
  /** For new commits made from several old ones: which old commit each added line range came from. */
  lines?: Record<string, Record<string, [number, number, string][]>>;
}

const VERDICTS = ['approve', 'request_changes', 'comment'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** A review of a handoff; it also reaches the handoff's author as a message (its body is the comment). */
export interface VerdictEvent extends EventBase {
  type: 'verdict';
  verdict: Verdict;
  /** The handoff reviewed. */
  message: string;
  thread: string;
  /** Who gets it in their inbox: the author of the handoff. */
  to: string[];
  /** The newest landed commit reviewed, if any. */
  reviewed_commit: string | null;
  body_bytes: number;
}

/** The process that holds a claim or reservation: its host, pid and start token (see core/proc.ts). */
export interface Holder {
  host: string;
  pid: number;
  start: string | null;
}

export const CLAIM_ACTIONS = ['claim', 'renew', 'release', 'reclaim'] as const;

/** A claim on a key (a task name or a message id): taken, renewed, released, or taken over from a holder that is gone. */
export interface ClaimEvent extends EventBase {
  type: 'claim';
  action: (typeof CLAIM_ACTIONS)[number];
  key: string;
  /** claim, renew, reclaim: when the lease runs out unless renewed. */
  expires?: string;
  ttl_ms?: number;
  holder?: Holder;
  /** reclaim: whose claim was taken, and why it could be. */
  from?: string;
  reason?: 'gone' | 'expired';
  /** claim --remote: the remote whose ref arbitrated the claim. */
  remote?: string;
}

export const TASK_STATES = ['done', 'failed', 'blocked'] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** The outcome of a request; it also reaches the request's sender as a message (its body is the evidence or reason). */
export interface TaskEvent extends EventBase {
  type: 'task';
  state: TaskState;
  message: string;
  thread: string;
  to: string[];
  body_bytes: number;
}

/** Paths an agent means to change (globs), exclusively or not, until released or expired. */
export interface ReservationEvent extends EventBase {
  type: 'reservation';
  action: 'reserve' | 'release';
  patterns: string[];
  exclusive?: boolean;
  expires?: string;
  holder?: Holder;
  reason?: string;
}

export type LedgerEvent =
  | AgentEvent
  | MessageEvent
  | ReceiptEvent
  | AttributionEvent
  | RewriteEvent
  | VerdictEvent
  | ClaimEvent
  | TaskEvent
  | ReservationEvent;

/** Distributive Omit, so that each event type keeps its own fields. */
export type EventDraft = LedgerEvent extends infer E
  ? E extends LedgerEvent
    ? Omit<E, 'v' | 'id' | 'ts' | 'clone' | 'author' | 'seen' | 'clock'>
    : never
  : never;

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const OID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

/** True for a well-formed event or message id (a ULID). */
export function isEventId(s: unknown): s is string {
  return typeof s === 'string' && ULID.test(s);
}

/** True for a full git object id. */
function isObjectId(s: unknown): s is string {
  return typeof s === 'string' && OID.test(s);
}

/** Serialises an event with sorted keys and no spaces, so the same event always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  // Parsed canonical JSON already has its keys in order: sort only when they are not.
  for (let i = 1; i < keys.length; i++)
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      break;
    }
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

class BadEvent extends HandoffError {
  constructor(why: string) {
    super('bad_event', `Malformed ledger event: ${why}.`);
  }
}

function need(cond: unknown, why: string): asserts cond {
  if (!cond) throw new BadEvent(why);
}

/**
 * How far an event's clock may run ahead of its own timestamp. The clock only runs ahead when a clone
 * witnesses another whose clock is ahead, so this bounds the clock skew between clones that handoff
 * accepts; a clock beyond it (say 2^53-1) would make every later event unusable.
 */
const MAX_CLOCK_LEAD_MS = 7 * 24 * 3600 * 1000;

const isName = (s: unknown): s is string => typeof s === 'string' && NAME_PATTERN.test(s) && !s.includes('..');
const isCount = (n: unknown, max: number) => Number.isSafeInteger(n) && (n as number) >= 0 && (n as number) <= max;
const isPath = (s: unknown) => typeof s === 'string' && s.length > 0 && s.length <= 4096 && !s.includes('\0');
const isList = (v: unknown, max: number, each: (x: unknown) => boolean) =>
  Array.isArray(v) && v.length <= max && v.every(each);
const VIAS = ['env', 'flag', 'runtime', 'mcp-client', 'git-user'];
const isNullableName = (s: unknown) => s === null || isName(s);
const isShortText = (s: unknown) => s === null || (typeof s === 'string' && s.length <= 200);
const isTime = (s: unknown) => typeof s === 'string' && ISO.test(s) && Number.isFinite(Date.parse(s));
/** A claim key: a task name (as names are) or a message id. */
export const isKey = (s: unknown): s is string => isName(s) || isEventId(s);
const isHolder = (h: unknown) =>
  !!h &&
  typeof h === 'object' &&
  !Array.isArray(h) &&
  typeof (h as Holder).host === 'string' &&
  (h as Holder).host.length <= 255 &&
  Number.isSafeInteger((h as Holder).pid) &&
  (h as Holder).pid > 0 &&
  ((h as Holder).start === null || (typeof (h as Holder).start === 'string' && (h as Holder).start!.length <= 200));

/** The most recipients, and witnessed chains, one event may name (readers refuse more). */
export const MAX_NAMES = 10_000;
/** The longest address (what the sender typed: "a,b", "@team", "all") an event may carry. */
export const MAX_ADDRESS = 100;

/** Parses and checks event.json text from git; throws a HandoffError('bad_event') when anything is off. */
export function parseEvent(text: string): LedgerEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BadEvent('event.json is not JSON');
  }
  need(raw && typeof raw === 'object' && !Array.isArray(raw), 'not an object');
  const e = raw as Record<string, unknown>;
  need(typeof e.v === 'number' && e.v >= 1, 'missing format version');
  need(
    e.v <= EVENT_FORMAT_VERSION,
    `format version ${String(e.v)} is newer than this handoff understands; upgrade handoff`,
  );
  need(isEventId(e.id), 'bad id');
  need(typeof e.ts === 'string' && ISO.test(e.ts) && Number.isFinite(Date.parse(e.ts)), 'bad timestamp');
  need(typeof e.clone === 'string' && ULID.test(e.clone), 'bad clone id');
  const ts = Date.parse(e.ts as string);
  need(Number.isSafeInteger(e.clock) && (e.clock as number) >= ts, 'bad clock');
  need(
    (e.clock as number) - ts <= MAX_CLOCK_LEAD_MS,
    `clock ${String(e.clock)} is more than 7 days ahead of the event's own time`,
  );
  const a = e.author as Record<string, unknown> | undefined;
  need(
    a &&
      typeof a === 'object' &&
      !Array.isArray(a) &&
      isName(a.name) &&
      isShortText(a.runtime) &&
      VIAS.includes(a.via as string),
    'bad author',
  );
  if (e.seen !== undefined) {
    need(
      e.seen && typeof e.seen === 'object' && !Array.isArray(e.seen) && Object.keys(e.seen).length <= MAX_NAMES,
      'bad seen',
    );
    for (const [k, val] of Object.entries(e.seen as Record<string, unknown>))
      need(ULID.test(k) && isObjectId(val), 'bad seen entry');
  }
  switch (e.type) {
    case 'agent':
      need(['join', 'leave', 'register', 'status'].includes(e.action as string), 'bad agent action');
      need(e.note === undefined || (typeof e.note === 'string' && e.note.length <= 500), 'bad agent note');
      need(
        isName(e.name) && isNullableName(e.team) && isNullableName(e.role) && isShortText(e.runtime),
        'bad agent fields',
      );
      break;
    case 'message': {
      need(typeof e.address === 'string' && e.address.length <= MAX_ADDRESS, 'bad address');
      need(isList(e.to, 10_000, isName), 'bad recipients');
      need((MESSAGE_KINDS as readonly string[]).includes(e.kind as string), 'bad kind');
      need((PRIORITIES as readonly string[]).includes(e.priority as string), 'bad priority');
      need(isEventId(e.thread) && (e.reply_to === null || isEventId(e.reply_to)), 'bad thread');
      need(isCount(e.body_bytes, 64 * 1024 * 1024), 'bad body size');
      need(e.no_reply === undefined || typeof e.no_reply === 'boolean', 'bad no_reply');
      const sec = e.secrets as Record<string, unknown> | undefined;
      need(
        sec === undefined ||
          (sec &&
            typeof sec === 'object' &&
            (sec.action === 'redacted' || sec.action === 'allowed') &&
            isList(
              sec.found,
              10_000,
              (f: unknown) =>
                !!f &&
                typeof f === 'object' &&
                typeof (f as SecretNote).kind === 'string' &&
                (f as SecretNote).kind.length <= 200 &&
                typeof (f as SecretNote).where === 'string' &&
                (f as SecretNote).where.length <= 4096 &&
                isCount((f as SecretNote).line, 1e9),
            )),
        'bad secrets',
      );
      const d = e.diff as Record<string, unknown> | null;
      need(
        d === null ||
          (d &&
            typeof d === 'object' &&
            !Array.isArray(d) &&
            isObjectId(d.base) &&
            isObjectId(d.snapshot) &&
            isCount(d.files, 10_000_000) &&
            isList(d.excluded, 100_000, isPath) &&
            (d.paths === undefined || isList(d.paths, 1000, isPath))),
        'bad diff',
      );
      break;
    }
    case 'receipt':
      need(e.status === 'read' || e.status === 'acked', 'bad receipt status');
      need(isList(e.messages, 100_000, isEventId) && (e.messages as unknown[]).length > 0, 'bad receipt messages');
      break;
    case 'attribution': {
      need(isObjectId(e.commit) && isObjectId(e.tree) && isList(e.parents, 1000, isObjectId), 'bad attribution commit');
      need(e.patch_id === null || isObjectId(e.patch_id), 'bad patch id');
      need(isName(e.agent) && typeof e.human === 'boolean', 'bad attribution agent');
      need(isList(e.messages, 1000, isEventId), 'bad attribution messages');
      need(isRanges(e.files), 'bad attribution lines');
      need(e.subject === undefined || isShortText(e.subject), 'bad attribution subject');
      need(
        e.link === undefined || e.link === 'pinned' || e.link === 'reply' || e.link === 'guess',
        'bad attribution link',
      );
      break;
    }
    case 'verdict':
      need((VERDICTS as readonly string[]).includes(e.verdict as string), 'bad verdict');
      need(isEventId(e.message) && isEventId(e.thread), 'bad verdict message');
      need(isList(e.to, 10_000, isName), 'bad verdict recipients');
      need(e.reviewed_commit === null || isObjectId(e.reviewed_commit), 'bad reviewed commit');
      need(isCount(e.body_bytes, 64 * 1024 * 1024), 'bad body size');
      break;
    case 'rewrite':
      need(['amend', 'rebase', 'relink'].includes(e.kind as string), 'bad rewrite kind');
      need(
        isList(
          e.pairs,
          100_000,
          (p) =>
            !!p &&
            typeof p === 'object' &&
            isObjectId((p as { old: unknown }).old) &&
            isObjectId((p as { new: unknown }).new),
        ),
        'bad rewrite pairs',
      );
      need(
        e.lines === undefined ||
          (!!e.lines &&
            typeof e.lines === 'object' &&
            !Array.isArray(e.lines) &&
            Object.entries(e.lines as Record<string, unknown>).every(
              ([c, files]) =>
                isObjectId(c) &&
                !!files &&
                typeof files === 'object' &&
                !Array.isArray(files) &&
                Object.entries(files as Record<string, unknown>).every(
                  ([f, ranges]) =>
                    isPath(f) &&
                    isList(
                      ranges,
                      1_000_000,
                      (r) =>
                        Array.isArray(r) &&
                        r.length === 3 &&
                        isCount(r[0], 1e9) &&
                        isCount(r[1], 1e9) &&
                        isObjectId(r[2]),
                    ),
                ),
            )),
        'bad rewrite lines',
      );
      break;
    case 'claim':
      need((CLAIM_ACTIONS as readonly string[]).includes(e.action as string), 'bad claim action');
      need(isKey(e.key), 'bad claim key');
      need(e.expires === undefined || isTime(e.expires), 'bad claim expiry');
      need(e.ttl_ms === undefined || isCount(e.ttl_ms, 366 * 24 * 3600 * 1000), 'bad claim ttl');
      need(e.holder === undefined || isHolder(e.holder), 'bad claim holder');
      need(e.from === undefined || isName(e.from), 'bad reclaim holder');
      need(e.reason === undefined || e.reason === 'gone' || e.reason === 'expired', 'bad reclaim reason');
      need(e.remote === undefined || (typeof e.remote === 'string' && isShortText(e.remote)), 'bad claim remote');
      break;
    case 'task':
      need((TASK_STATES as readonly string[]).includes(e.state as string), 'bad task state');
      need(isEventId(e.message) && isEventId(e.thread), 'bad task message');
      need(isList(e.to, 10_000, isName), 'bad task recipients');
      need(isCount(e.body_bytes, 64 * 1024 * 1024), 'bad body size');
      break;
    case 'reservation':
      need(e.action === 'reserve' || e.action === 'release', 'bad reservation action');
      need(isList(e.patterns, 1000, isPath), 'bad reservation patterns');
      need(e.exclusive === undefined || typeof e.exclusive === 'boolean', 'bad reservation flag');
      need(e.expires === undefined || isTime(e.expires), 'bad reservation expiry');
      need(e.holder === undefined || isHolder(e.holder), 'bad reservation holder');
      need(e.reason === undefined || isShortText(e.reason), 'bad reservation reason');
      break;
    default:
      throw new BadEvent(`unknown type ${JSON.stringify(e.type)}`);
  }
  return e as unknown as LedgerEvent;
}

function isRanges(v: unknown): boolean {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  return Object.entries(v as Record<string, unknown>).every(
    ([f, r]) =>
      isPath(f) && isList(r, 1_000_000, (x) => Array.isArray(x) && x.length === 2 && x.every((n) => isCount(n, 1e9))),
  );
}

/** Kinds of message that ask for work (outcomes and claims are about these); reading one makes it the guess for the reader's next commits. */
export const WORK_KINDS: ReadonlySet<string> = new Set(['request', 'review_request', 'todo']);
