/**
 * The fast path: runs a command without loading oclif when its arguments parse cleanly with node's own
 * parseArgs. Anything else (help, a parse error, an unknown command) is left to oclif, which prints the
 * proper help or error. Both paths run the same definition through the same runner.
 */
import { parseArgs } from 'node:util';
import { COMMAND_DEFS } from './commands';
import type { CommandDef, FlagValues, Parsed } from './define';
import { makeIo } from './io';
import { execute } from './runner';

/** Finds the command named at the start of argv ("hooks install" -> "hooks:install"). */
function lookup(argv: string[]): { def: CommandDef; rest: string[] } | undefined {
  if (argv.length >= 2 && COMMAND_DEFS[`${argv[0]}:${argv[1]}`]) return { def: COMMAND_DEFS[`${argv[0]}:${argv[1]}`]!, rest: argv.slice(2) };
  if (argv.length >= 1 && COMMAND_DEFS[argv[0]!]) return { def: COMMAND_DEFS[argv[0]!]!, rest: argv.slice(1) };
  return undefined;
}

/** Parses argv for a definition; undefined when oclif should take over (help, errors). */
export function parseFast(def: CommandDef, argv: string[]): Parsed | undefined {
  if (argv.some((a) => a === '--help' || a === '-h')) return undefined;
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, f] of Object.entries(def.flags)) {
    const o: (typeof options)[string] = { type: f.type === 'boolean' ? 'boolean' : 'string' };
    if (f.multiple) o.multiple = true;
    if (f.char) o.short = f.char;
    options[name] = o;
  }
  let out: ReturnType<typeof parseArgs>;
  try {
    out = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch {
    return undefined;
  }
  const flags: FlagValues = {};
  for (const [name, value] of Object.entries(out.values)) {
    const f = def.flags[name]!;
    if (f.type === 'integer') {
      if (typeof value !== "string" || !/^\d+$/.test(value)) return undefined;
      flags[name] = Number(value);
    } else if (f.options && ![value].flat().every((v) => typeof v === 'string' && f.options!.includes(v))) {
      return undefined;
    } else flags[name] = value as FlagValues[string];
  }
  for (const [name, f] of Object.entries(def.flags)) {
    if (flags[name] !== undefined && f.exclusive?.some((x) => flags[x] !== undefined)) return undefined;
  }
  const declared = def.args ?? [];
  const positionals = out.positionals;
  if (positionals.length > declared.length && !def.variadic) return undefined;
  if (declared.some((a, i) => a.required && positionals[i] === undefined)) return undefined;
  const args: Record<string, string | undefined> = {};
  declared.forEach((a, i) => (args[a.name] = positionals[i]));
  return { args, rest: positionals.slice(declared.length), flags };
}

/** Runs argv on the fast path; resolves false when the caller should hand argv to oclif instead. */
export async function runFast(argv: string[], binPath: string): Promise<boolean> {
  if (process.env.HANDOFF_NO_FAST_PATH) return false;
  const found = lookup(argv);
  if (!found) return false;
  const parsed = parseFast(found.def, found.rest);
  if (!parsed) return false;
  await execute(found.def, parsed, makeIo({ json: !!parsed.flags.json, binPath }));
  return true;
}
