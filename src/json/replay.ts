/** The --json shapes of replay. */
import type { MessageJson, RecipientJson } from './types';
import type { TaskStateJson } from './coordination';

export type DiffMode = 'stat' | 'full' | 'none';

export interface FileStat {
  file: string;
  added: number;
  removed: number;
  /** The file's name before, where a commit renamed it. */
  from?: string;
}

export interface ReplayMessageItem {
  type: 'message';
  clock: number;
  message: MessageJson;
  stat: FileStat[] | null;
  patch: string | null;
  /** Each recipient's receipt (stored, read, acked). */
  recipients: RecipientJson[];
  /** Review verdicts recorded on this message. */
  verdicts: { id: string; reviewer: string; verdict: string }[];
  /** For a request: its task state (open, claimed, reclaimable, done, failed, blocked). */
  task?: TaskStateJson;
  /** In a ledger that uses signatures: how the message's commit is signed (see verify). */
  signature?: 'good' | 'unknown_key' | 'bad' | 'unsigned' | 'unverifiable';
}

export interface ReplayCommitItem {
  type: 'commit';
  clock: number;
  commit: string;
  agent: string;
  human: boolean;
  subject: string;
  /** When the commit was recorded (ISO 8601). */
  ts: string;
  answers: string[];
  /** How sure the link to `answers` is: pinned, reply or guess. */
  link: 'pinned' | 'reply' | 'guess' | null;
  stat: FileStat[];
  patch: string | null;
  /**
   * A squash made by `agent` of others' commits (or of one other agent's): whose lines it holds. `answers`
   * then includes the handoffs those commits answer.
   */
  squashOf?: { name: string; human: boolean }[];
  /** The commits it became since (amended, rebased, squashed) that exist here; empty when it was not rewritten. */
  rewrittenInto: string[];
  /** Not rewritten, and no branch or tag holds it any more (reset away): work that was abandoned. */
  discarded?: true;
  /** In a ledger that uses signatures: how the attribution event's ledger commit is signed. */
  signature?: 'good' | 'unknown_key' | 'bad' | 'unsigned' | 'unverifiable';
}

export type ReplayItem = ReplayMessageItem | ReplayCommitItem;

export interface ReplayJson {
  thread: string | null;
  agents: string[];
  threads: string[];
  /** Each thread's subject (the first line of its first message). */
  threadSubjects: Record<string, string>;
  items: ReplayItem[];
}
