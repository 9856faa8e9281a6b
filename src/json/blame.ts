/** The --json shapes of blame. */
import type { Link, LinkVia, MessageJson } from './types';

export interface BlameLineJson {
  line: number;
  commit: string;
  content: string;
  /** null: the commit is not attributed (made without hooks and not re-linkable). */
  agent: LineAgent | null;
  via: LinkVia | null;
  /** How sure the link to the messages is: pinned (work-on or trailer), reply (replied with a diff), guess. */
  link: Link | null;
  /** `missing`: the commit names the message (its trailer), which is not in this clone yet (sync brings it). */
  messages: { id: string; from: string; kind: string; subject: string; missing?: true }[];
  author: string;
  summary: string;
}

export interface BlameJson {
  file: string;
  rev: string | null;
  lines: BlameLineJson[];
}

export interface WhyJson {
  line: BlameLineJson;
  messages: MessageJson[];
  /** Messages the line's commit names that are not in this clone yet. */
  missing: string[];
  thread: MessageJson[];
}

export interface LogEntryJson {
  commit: string;
  date: string;
  author: string;
  subject: string;
  agent: LineAgent | null;
  /** A squash of several agents' commits: each agent whose lines it holds (`agent` is the one it resolves to). */
  agents?: LineAgent[];
  via: LinkVia | null;
  link: Link | null;
  messages: { id: string; subject: string }[];
}

export interface LineAgent {
  name: string;
  human: boolean;
}
