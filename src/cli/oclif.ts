/** The oclif side: each definition becomes an oclif command class (help, parse errors, manifest). */
import { Args, Command, Errors, Flags, handle, run as oclifRun, type Interfaces } from '@oclif/core';
import { COMMAND_DEFS } from '../commands/index';
import type { CommandDef, Parsed } from '../commands/define';
import { makeIo, parseErrorMessage, writeCliError } from './io';
import { execute } from './runner';

function toOclifFlags(def: CommandDef): Interfaces.FlagInput {
  const out: Interfaces.FlagInput = {};
  for (const [name, f] of Object.entries(def.flags)) {
    const common = {
      description: f.description,
      char: f.char as Interfaces.AlphabetLowercase | undefined,
      hidden: f.hidden,
      exclusive: f.exclusive ? [...f.exclusive] : undefined,
      helpValue: f.helpValue,
    };
    if (f.type === 'boolean') out[name] = Flags.boolean(common);
    else if (f.type === 'integer')
      out[name] = Flags.integer({ ...common, min: f.min ?? 0, multiple: f.multiple as true });
    else if (f.options) out[name] = Flags.string({ ...common, options: [...f.options], multiple: f.multiple as true });
    else out[name] = Flags.string({ ...common, multiple: f.multiple as true });
  }
  return out;
}

function toOclifArgs(def: CommandDef): Interfaces.ArgInput {
  const out: Interfaces.ArgInput = {};
  for (const a of def.args ?? []) out[a.name] = Args.string({ description: a.description, required: !!a.required });
  return out;
}

/** The usage line of a command whose last argument takes the remaining words: `send TO [BODY...] [FLAGS]`. */
function variadicUsage(def: CommandDef): string {
  const args = def.args ?? [];
  const words = args.map((a, i) => {
    const name = `${a.name.toUpperCase()}${i === args.length - 1 ? '...' : ''}`;
    return a.required ? name : `[${name}]`;
  });
  return [def.id.replace(/:/g, ' '), ...words, '[FLAGS]'].join(' ');
}

/**
 * A description as written in the source (lines broken near 110 columns) as paragraphs: oclif wraps help
 * to the terminal's width itself, and a line break kept inside a paragraph left ragged lines.
 */
export function reflow(text: string): string {
  return text
    .split(/\n[ \t]*\n/)
    .map((p) => p.trim().replace(/[ \t]*\n[ \t]*/g, ' '))
    .join('\n\n');
}

/** Builds the oclif class for one definition. */
export function toOclifCommand(def: CommandDef): Command.Class {
  const cls = class extends Command {
    static override id = def.id;
    static override summary = def.summary;
    static override description = reflow(def.description);
    static override examples = def.examples;
    static override flags = toOclifFlags(def);
    static override args = toOclifArgs(def);
    static override strict = !def.variadic;
    // oclif marks every argument of a command that takes more words as repeatable ("TO... [BODY...]");
    // only the last one is.
    static override usage = def.variadic ? variadicUsage(def) : undefined;

    async run(): Promise<void> {
      const { args, flags, argv } = await this.parse(cls);
      const declared = (def.args ?? []).length;
      const parsed: Parsed = {
        args: args as Record<string, string | undefined>,
        rest: (argv as string[]).slice(declared),
        flags: flags as Parsed['flags'],
      };
      await execute(def, parsed, makeIo({ json: !!flags.json, binPath: `${this.config.root}/bin/run.js` }));
    }
  };
  return cls as unknown as Command.Class;
}

/** The command classes, for oclif's explicit command discovery. */
export const COMMANDS: Record<string, Command.Class> = Object.fromEntries(
  Object.entries(COMMAND_DEFS).map(([id, d]) => [id, toOclifCommand(d)]),
);

/** flush and handle finish a run; Config lets the build script write the manifest. */
export { Config, flush, handle } from '@oclif/core';

/**
 * Finishes a failed oclif run. A parse error (unknown flag, bad option value, missing argument) is said as
 * every other error is: under --json the usual {"error": ...} object, else one "handoff: ..." line on
 * stderr naming the command's --help; exit 2.
 */
export async function handleError(err: unknown, argv: string[]): Promise<void> {
  const e = err as { message?: string; oclif?: { exit?: number } };
  const exit = e?.oclif?.exit;
  if (exit === 0 || typeof e?.message !== 'string') return handle(err as Error);
  const text = String(e?.message ?? err)
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .map((l) => l.replace(/^\s*›?\s*/, '').trim())
    .filter((l) => l && !/^See more help with/.test(l))
    .join(' ');
  const code = typeof exit === 'number' && exit > 0 ? Math.min(exit, 2) : 2;
  const command = argv
    .filter((a) => !a.startsWith('-'))
    .slice(0, 2)
    .filter((a, i) => i === 0 || COMMAND_DEFS[`${argv[0]}:${a}`])
    .join(' ');
  const message = parseErrorMessage(text, command || '<command>');
  writeCliError(argv.includes('--json'), { code: 'usage', message, exitCode: code });
}

/** Runs argv through oclif. */
export async function runOclif(argv: string[], root: string): Promise<void> {
  // oclif reads `verify extra` (a command that takes no argument) as a command "verify extra" and says it
  // does not exist; the argument is what is wrong.
  const def = argv[0] ? COMMAND_DEFS[argv[0]] : undefined;
  const extra = argv[1];
  if (
    def &&
    !def.variadic &&
    (def.args ?? []).length === 0 &&
    extra !== undefined &&
    !extra.startsWith('-') &&
    !Object.keys(COMMAND_DEFS).some((id) => id.startsWith(`${argv[0]}:`))
  )
    throw new Errors.CLIError(`Unexpected argument: ${extra}\nSee more help with --help`, { exit: 2 });
  await oclifRun(argv, root);
}
