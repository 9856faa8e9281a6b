/** The shapes that --json prints. They are a public interface: add fields, never rename or remove one. */
import type { TaskStateJson } from './coordination';

export interface IdentityJson {
  name: string;
  runtime: string | null;
  /** How the name was found: env (HANDOFF_AGENT), flag (--as), runtime (a detected agent), mcp-client (the MCP client's own name), git-user. */
  via: 'env' | 'flag' | 'runtime' | 'mcp-client' | 'git-user';
}

export interface AgentJson {
  name: string;
  runtime: string | null;
  team: string | null;
  role: string | null;
  status: 'active' | 'left' | 'registered';
  joinedAt: string | null;
  lastSeen: string | null;
  /** A handoff process (wait, mcp) is running for this agent on this machine. */
  live: boolean;
  /** live: a process runs for it here; idle: none runs, but it was active in the last 15 minutes; gone: neither. */
  presence: 'live' | 'idle' | 'gone';
  /** What it says it is working on (handoff status -m). */
  note: string | null;
  unread: number;
  /** How its newest event's commit is signed (null when it has no event); only from `agents`. */
  signature?: SignatureJson | null;
}

/** A ledger commit's signature as git checks it (see verify). */
export interface SignatureJson {
  status: 'good' | 'unknown_key' | 'bad' | 'unsigned' | 'unverifiable';
  key: string | null;
  signer: string | null;
}

export interface DiffJson {
  base: string;
  snapshot: string;
  files: number;
  excluded: string[];
}

export interface RecipientJson {
  agent: string;
  status: 'stored' | 'read' | 'acked';
  readAt: string | null;
  ackedAt: string | null;
}

export interface MessageJson {
  id: string;
  /** The short id tables print (the id's last 7 or more characters); every command accepts it. */
  shortId: string;
  thread: string;
  replyTo: string | null;
  from: string;
  to: string[];
  address: string;
  kind: string;
  priority: string;
  ts: string;
  body: string;
  commit: string;
  diff: DiffJson | null;
  /** The sender needs no answer. */
  noReply: boolean;
  /** Present in inbox listings: the caller's own status for this message. */
  status?: 'stored' | 'read' | 'acked';
  /**
   * MCP only: the body was left out of this answer (its size in bytes), which keeps an answer within what
   * clients read; `read` with the id gives it.
   */
  bodyOmitted?: number;
}

export interface SendJson {
  message: MessageJson;
  /** Set when --wait-for was given and the wait ended. */
  waited?: { for: 'read' | 'reply'; recipients?: RecipientJson[]; reply?: MessageJson };
  /** With --id: the message was already sent with this id, and nothing new was written. */
  alreadySent?: boolean;
  /** Advice: the attached diff touches paths another live agent reserved exclusively. */
  notices?: string[];
}

export interface ShowJson {
  message: MessageJson;
  /** For a request: open, claimed, reclaimable, done, failed or blocked, and by whom. */
  task?: TaskStateJson;
  recipients: RecipientJson[];
  replies: MessageJson[];
  patch: string | null;
  /** How the message's commit is signed. */
  signature: SignatureJson;
  /** Secrets found when it was sent: redacted (replaced by markers) or allowed (kept by override). */
  secrets?: { action: 'redacted' | 'allowed'; found: { kind: string; where: string; line: number }[] };
}

export interface ThreadJson {
  thread: string;
  messages: MessageJson[];
}

export interface ThreadSummaryJson {
  thread: string;
  subject: string;
  startedBy: string | null;
  messages: number;
  participants: string[];
  firstAt: string;
  lastAt: string;
}

export interface InboxJson {
  agent: string;
  unread: number;
  messages: MessageJson[];
  /** Messages that match but were not listed (past --limit, 50 by default). */
  more: number;
  /** Loop guard and other advice for the reader. */
  notices: string[];
}

export interface ReadJson {
  agent: string;
  notices: string[];
  messages: MessageJson[];
  /** Ids newly marked as read (those already read are not counted twice). */
  marked: string[];
}

export interface AckJson {
  agent: string;
  acked: string[];
}

export interface WaitJson {
  agent: string;
  notices: string[];
  messages: MessageJson[];
}

export interface WhoamiJson extends IdentityJson {
  joined: boolean;
  team: string | null;
  role: string | null;
  unread: number;
  clone: string;
}

export interface JoinJson {
  agent: AgentJson;
  /** False when the agent was already joined with the same team and role (nothing written). */
  changed: boolean;
}

export interface RebuildJson {
  events: number;
  chains: number;
  messages: number;
}

/** How strongly a commit is tied to its handoff: pinned (work-on, HANDOFF_MESSAGE, a trailer), a reply with a diff, or a guess. */
export type Link = 'pinned' | 'reply' | 'guess';

/** How a commit's agent was found. */
export type LinkVia = 'hook' | 'rewrite' | 'trailer' | 'patch-id' | 'content';
