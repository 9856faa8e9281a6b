/** Running a command definition: the handler, then --json or human output, errors mapped to exit codes. */
import { EXIT, errorToJson, HandoffError, UsageError } from '../core/errors';
import { inert } from '../core/text';
import type { CommandDef, Io, Parsed } from '../commands/define';
import { stdoutWritten } from './io';

/** Runs a command and sets process.exitCode; never throws. */
export async function execute(def: CommandDef, parsed: Parsed, io: Io): Promise<void> {
  try {
    const empty = givenEmpty(def, parsed);
    if (empty) throw new UsageError('usage', `${empty} was given empty: give it a value, or leave it out.`);
    const result = await def.run(parsed, io);
    if (io.json) io.log(JSON.stringify(result, null, 2));
    else def.print?.(result, io, parsed);
    if (def.delivered) {
      await stdoutWritten();
      await def.delivered(result, parsed, io);
    }
    process.exitCode = EXIT.ok;
  } catch (err) {
    const json = errorToJson(err);
    // Set before anything is written: a reader that closed the pipe ends the process with it (cli/io.ts).
    process.exitCode = json.error.exitCode;
    if (io.json) io.log(JSON.stringify(json, null, 2));
    else io.warn(`handoff: ${inert(json.error.message)}`);
    if (!(err instanceof HandoffError) && process.env.HANDOFF_DEBUG) io.warn(String((err as Error).stack));
  }
}

/**
 * The first flag or argument given as an empty (or blank) string where a value is needed, as the user would
 * write it: a script's empty variable (`--reply-to "$ID"`) must not read as the flag left out.
 */
function givenEmpty(def: CommandDef, parsed: Parsed): string | null {
  const blank = (v: unknown) => typeof v === 'string' && v.trim() === '';
  for (const [name, f] of Object.entries(def.flags)) {
    if (f.type !== 'string' || f.emptyOk) continue;
    const v = parsed.flags[name];
    if (blank(v) || (Array.isArray(v) && v.some(blank))) return `--${name}`;
  }
  for (const a of def.args ?? []) if (!a.emptyOk && blank(parsed.args[a.name])) return `<${a.name}>`;
  return null;
}
