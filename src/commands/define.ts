/**
 * How a command is defined: plain data (summary, args, flags, examples) plus a handler. The same
 * definition is run by the fast path (no framework loaded) and turned into an oclif command for help,
 * parse errors and the manifest, so there is one implementation of every command.
 */

export interface FlagSpec {
  type: 'boolean' | 'string' | 'integer';
  char?: string;
  description: string;
  options?: readonly string[];
  multiple?: boolean;
  /** Name of the value in help, e.g. "seconds". */
  helpValue?: string;
  exclusive?: string[];
  hidden?: boolean;
}

export interface ArgSpec {
  name: string;
  description: string;
  required?: boolean;
}

export type FlagValues = Record<string, string | boolean | number | string[] | undefined>;

export interface Parsed {
  args: Record<string, string | undefined>;
  /** Positional arguments beyond the declared ones (only for commands with `variadic`). */
  rest: string[];
  flags: FlagValues;
}

import type { Io } from '../render/io';

export type { Io };

export interface CommandDef<R = unknown> {
  id: string;
  summary: string;
  description: string;
  examples: string[];
  args?: ArgSpec[];
  variadic?: boolean;
  flags: Record<string, FlagSpec>;
  /** Prints the human form of the result (not called under --json). */
  print?: (result: R, io: Io, parsed: Parsed) => void;
  run: (parsed: Parsed, io: Io) => Promise<R> | R;
}

/** Declares a command (identity function that keeps the result type). */
export function defineCommand<R>(def: CommandDef<R>): CommandDef<R> {
  return def;
}

export const jsonFlag: FlagSpec = {
  type: 'boolean',
  description: 'Print the result as JSON (errors too, as {"error": {...}}).',
};
export const noPagerFlag: FlagSpec = {
  type: 'boolean',
  description: 'Do not pipe long output into a pager (none is used when output is not a terminal).',
};
export const asFlag: FlagSpec = {
  type: 'string',
  description: 'Act as this agent (HANDOFF_AGENT, when set, takes precedence and must agree).',
  helpValue: 'name',
};
