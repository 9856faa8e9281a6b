/**
 * The fast path: runs a command without loading oclif when its arguments parse cleanly with node's own
 * parseArgs. Anything else (help, a parse error, an unknown command) is left to oclif, which prints the
 * proper help or error. Both paths run the same definition through the same runner.
 */
import { parseArgs } from 'node:util';
import { COMMAND_DEFS } from '../commands/index';
import type { CommandDef, FlagValues, Parsed } from '../commands/define';
import { makeIo, parseErrorMessage, writeCliError } from './io';
import { execute } from './runner';
import { editDistance } from '../core/text';

/** Finds the command named at the start of argv ("hooks install" -> "hooks:install"). */
function lookup(argv: string[]): { def: CommandDef; rest: string[] } | undefined {
  if (argv.length >= 2 && COMMAND_DEFS[`${argv[0]}:${argv[1]}`])
    return { def: COMMAND_DEFS[`${argv[0]}:${argv[1]}`]!, rest: argv.slice(2) };
  if (argv.length >= 1 && COMMAND_DEFS[argv[0]!]) return { def: COMMAND_DEFS[argv[0]!]!, rest: argv.slice(1) };
  return undefined;
}

/** parseArgs options for a definition's flags. */
function optionsOf(
  def: CommandDef,
): Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, f] of Object.entries(def.flags)) {
    const o: (typeof options)[string] = { type: f.type === 'boolean' ? 'boolean' : 'string' };
    if (f.multiple) o.multiple = true;
    if (f.char) o.short = f.char;
    options[name] = o;
  }
  return options;
}

/** The flags of argv and its positionals; undefined when a flag is not as oclif would take it. */
function parseFlags(def: CommandDef, argv: string[]): { flags: FlagValues; positionals: string[] } | undefined {
  const options = optionsOf(def);
  const config = { args: argv, options, allowPositionals: true, strict: true, tokens: true } as const;
  let out: ReturnType<typeof parseArgs<typeof config>>;
  try {
    out = parseArgs(config);
  } catch {
    return undefined;
  }
  // A flag given twice that takes one value is an error for oclif; leave it to oclif to say so.
  const seen = new Set<string>();
  for (const t of out.tokens) {
    if (t.kind !== 'option') continue;
    // -m=v: node reads the value as "=v", oclif as "v"; leave the short form with = to oclif.
    if (t.inlineValue && !t.rawName.startsWith('--') && t.value?.startsWith('=')) return undefined;
    if (options[t.name]?.multiple) continue;
    if (seen.has(t.name)) return undefined;
    seen.add(t.name);
  }
  const flags: FlagValues = {};
  for (const [name, value] of Object.entries(out.values)) {
    const f = def.flags[name]!;
    if (f.type === 'integer') {
      if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) < (f.min ?? 0)) return undefined;
      flags[name] = Number(value);
    } else if (f.options && ![value].flat().every((v) => typeof v === 'string' && f.options!.includes(v))) {
      return undefined;
    } else flags[name] = value as FlagValues[string];
  }
  for (const [name, f] of Object.entries(def.flags)) {
    if (flags[name] !== undefined && f.exclusive?.some((x) => flags[x] !== undefined)) return undefined;
  }
  return { flags, positionals: out.positionals };
}

/** Parses argv for a definition; undefined when oclif should take over (help, errors). */
export function parseFast(def: CommandDef, argv: string[]): Parsed | undefined {
  if (argv.some((a) => a === '--help' || a === '-h')) return undefined;
  const parsed = parseFlags(def, argv);
  if (!parsed) return undefined;
  const { flags, positionals } = parsed;
  const declared = def.args ?? [];
  if (positionals.length > declared.length && !def.variadic) return undefined;
  if (declared.some((a, i) => a.required && positionals[i] === undefined)) return undefined;
  const args: Record<string, string | undefined> = {};
  declared.forEach((a, i) => (args[a.name] = positionals[i]));
  return { args, rest: positionals.slice(declared.length), flags };
}

/**
 * Flags the command does not have, as written, when they are all that is wrong with its flags (what oclif
 * reports first, before the arguments): the most common typo is answered without loading oclif. Null where
 * oclif should decide (a cluster such as -xz, help, another flag's error).
 */
export function nonexistentFlags(def: CommandDef, argv: string[]): string[] | null {
  if (argv.some((a) => a === '--help' || a === '-h')) return null;
  const options = optionsOf(def);
  let tokens: ReturnType<typeof parseArgs>['tokens'];
  try {
    tokens = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true }).tokens;
  } catch {
    return null;
  }
  const names: string[] = [];
  const drop = new Set<number>();
  for (const t of tokens ?? []) {
    if (t.kind !== 'option' || t.name in options) continue;
    const raw = argv[t.index]!;
    if (raw !== t.rawName && !(t.rawName.startsWith('--') && raw === `${t.rawName}=${t.value ?? ''}`)) return null;
    names.push(raw);
    drop.add(t.index);
  }
  if (!names.length) return null;
  return parseFlags(
    def,
    argv.filter((_, i) => !drop.has(i)),
  )
    ? names
    : null;
}

/** The known commands closest to a mistyped one. */
function suggestCommands(word: string): string[] {
  const names = [...new Set(Object.keys(COMMAND_DEFS).map((id) => id.replace(':', ' ')))];
  const scored = names.map((n) => ({
    n,
    d: Math.min(editDistance(word, n), editDistance(word, n.split(' ')[0]!) + (n.includes(' ') ? 1 : 0)),
  }));
  const best = Math.min(...scored.map((s) => s.d));
  if (best > Math.max(2, Math.floor(word.length / 3)))
    return names.filter((n) => n.startsWith(word.slice(0, 2))).slice(0, 3);
  return scored
    .filter((s) => s.d === best)
    .map((s) => s.n)
    .slice(0, 3);
}

/** An unknown command: a one-line error with suggestions (JSON under --json), exit 2. */
function unknownCommand(argv: string[]): void {
  const word = argv[0]!;
  const json = argv.includes('--json');
  const near = suggestCommands(word);
  const hint = near.length ? ` Did you mean ${near.map((n) => `'handoff ${n}'`).join(' or ')}?` : '';
  const message = `'${word.replace(/[^\x20-\x7e]/g, '?')}' is not a handoff command.${hint} See 'handoff --help' for the list.`;
  writeCliError(json, { code: 'unknown_command', message, details: { suggestions: near } });
}

const TOPICS = new Set(
  Object.keys(COMMAND_DEFS)
    .filter((id) => id.includes(':'))
    .map((id) => id.split(':')[0]!),
);

/** Runs argv on the fast path; resolves false when the caller should hand argv to oclif instead. */
export async function runFast(argv: string[], binPath: string): Promise<boolean> {
  const first = argv[0];
  if (first !== undefined && !first.startsWith('-') && first !== 'help' && !COMMAND_DEFS[first] && !TOPICS.has(first)) {
    unknownCommand(argv);
    return true;
  }
  const second = argv[1];
  // `handoff hooks --json`: a topic without its subcommand, under --json, is an error object too.
  if (
    first !== undefined &&
    TOPICS.has(first) &&
    (second === undefined || second.startsWith('-')) &&
    argv.includes('--json')
  ) {
    const subs = Object.keys(COMMAND_DEFS)
      .filter((id) => id.startsWith(`${first}:`))
      .map((id) => id.split(':')[1]!);
    const message = `Say which '${first}' command: ${subs.map((s) => `'handoff ${first} ${s}'`).join(', ')}.`;
    writeCliError(true, { code: 'missing_subcommand', message, details: { subcommands: subs } });
    return true;
  }
  if (
    first !== undefined &&
    TOPICS.has(first) &&
    second !== undefined &&
    !second.startsWith('-') &&
    !COMMAND_DEFS[`${first}:${second}`]
  ) {
    unknownCommand([`${first} ${second}`, ...argv.slice(2)]);
    return true;
  }
  if (process.env.HANDOFF_NO_FAST_PATH) return false;
  const found = lookup(argv);
  if (!found) return false;
  const parsed = parseFast(found.def, found.rest);
  if (!parsed) {
    const unknown = nonexistentFlags(found.def, found.rest);
    if (!unknown) return false;
    // Worded as oclif's path words it (cli/oclif.ts, handleError).
    const text = `Nonexistent flag${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`;
    writeCliError(argv.includes('--json'), {
      code: 'usage',
      message: parseErrorMessage(text, found.def.id.replace(/:/g, ' ')),
    });
    return true;
  }
  await execute(found.def, parsed, makeIo({ json: !!parsed.flags.json, binPath }));
  return true;
}
