/** The --json shapes of setup. */
import type { AgentKind } from '../core/names';

export interface HooksJson {
  dir: string;
  hooks: { name: string; state: string; chained: boolean; healthy: boolean; problem: string | null }[];
  /**
   * When the hooks directory is part of the working tree (core.hooksPath=.husky, tracked by the team),
   * handoff writes nothing there: these are the lines to add to each hook by hand.
   */
  manual?: string[];
  /** Where husky (v9) keeps the hook files it runs (through sh), when core.hooksPath is husky's .husky/_. */
  husky?: string;
}

export interface AgentHookJson {
  /** What the agent runtime should be handed on stdout (its documented hook output), or null for nothing. */
  output: Record<string, unknown> | null;
  /** Why nothing is handed over, when nothing is. */
  skipped: string | null;
  /** The messages the output tells of: each is told once, recorded when the output has been written. */
  nudged: string[];
}

export interface InitJson {
  dryRun: boolean;
  undo: boolean;
  agents: { kind: AgentKind; name: string }[];
  changes: InitChange[];
  hooks: HooksJson | null;
  manualSteps: string[];
  /** With --sign: chain commits are signed from now on (git config handoff.sign), with this key. */
  signing?: { key: string | null } | null;
}

export interface InitChange {
  path: string;
  action: 'create' | 'modify' | 'unchanged' | 'restore' | 'delete' | 'remove-part';
  content?: string;
  note?: string;
}
