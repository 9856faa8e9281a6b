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
  exclusive?: readonly string[];
  hidden?: boolean;
  /** The least value an integer flag takes (0 unless given). */
  min?: number;
  /** A string flag that may be given empty (`-m ""`): any other is refused empty (cli/runner.ts). */
  emptyOk?: boolean;
}

export interface ArgSpec {
  name: string;
  description: string;
  required?: boolean;
  /** May be given empty (a body, which its command judges itself): any other is refused empty. */
  emptyOk?: boolean;
}

/** Flag values as the parsers produce them, before a definition gives them types. */
export type FlagValues = Record<string, string | boolean | number | string[] | undefined>;

export type FlagSpecs = Record<string, FlagSpec>;

type OptionOf<S extends FlagSpec> = S extends { options: readonly (infer O)[] } ? O : string;

/** The value a flag definition parses to: boolean, number, a string (one of its options), or a list of them. */
export type FlagValue<S extends FlagSpec> = S['type'] extends 'boolean'
  ? boolean
  : S extends { multiple: true }
    ? S['type'] extends 'integer'
      ? number[]
      : OptionOf<S>[]
    : S['type'] extends 'integer'
      ? number
      : OptionOf<S>;

/** What a command's handler receives; flag types are inferred from the command's definition. */
export interface Parsed<F extends FlagSpecs = FlagSpecs> {
  args: Record<string, string | undefined>;
  /** Positional arguments beyond the declared ones (only for commands with `variadic`). */
  rest: string[];
  flags: string extends keyof F ? FlagValues : { [K in keyof F]?: FlagValue<F[K]> };
}

import type { Io } from '../render/io';

export type { Io };

export interface CommandDef<R = unknown, F extends FlagSpecs = FlagSpecs> {
  id: string;
  summary: string;
  description: string;
  examples: string[];
  args?: ArgSpec[];
  variadic?: boolean;
  flags: F;
  /** Prints the human form of the result (not called under --json). */
  print?: (result: R, io: Io, parsed: Parsed<F>) => void;
  run: (parsed: Parsed<F>, io: Io) => Promise<R> | R;
  /**
   * Runs once the output was written: what must wait until the reader has it (marking messages read). A
   * closed pipe ends the command before this runs.
   */
  delivered?: (result: R, parsed: Parsed<F>, io: Io) => Promise<void> | void;
}

/** Declares a command; the result type and the flags' types are inferred from the definition. */
export function defineCommand<R, const F extends FlagSpecs>(def: CommandDef<R, F>): CommandDef<R, F> {
  return def;
}

export const jsonFlag = {
  type: 'boolean',
  description: 'Print the result as JSON (errors too, as {"error": {...}}).',
} as const satisfies FlagSpec;
export const noPagerFlag = {
  type: 'boolean',
  description: 'Do not pipe long output into a pager (none is used when output is not a terminal).',
} as const satisfies FlagSpec;
export const asFlag = {
  type: 'string',
  description: 'Act as this agent (HANDOFF_AGENT, when set, takes precedence and must agree).',
  helpValue: 'name',
} as const satisfies FlagSpec;

/** --redact and --allow-secret, for the commands that send a message (send, reply). */
export const secretFlags = {
  redact: {
    type: 'boolean',
    description: 'Store the message with each secret found (API keys, private keys, tokens) replaced by a marker.',
    exclusive: ['allow-secret'],
  },
  'allow-secret': {
    type: 'boolean',
    description: 'Store secrets found as they are (an explicit override, recorded in the event).',
  },
} as const satisfies Record<string, FlagSpec>;
