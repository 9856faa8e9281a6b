/** Running a command definition: the handler, then --json or human output, errors mapped to exit codes. */
import { EXIT, errorToJson, HandoffError } from '../core/errors';
import { inert } from '../core/text';
import type { CommandDef, Io, Parsed } from '../commands/define';

/**
 * Resolves once what was written to stdout left the process: at once when it was written with write(2)
 * (src/cli/io.ts); through node's stream, once the stream has drained. A closed pipe ends the process
 * (bin/run.js), so nothing after this runs.
 */
async function outputWritten(): Promise<void> {
  const made = (globalThis as Record<symbol, Set<number> | undefined>)[Symbol.for('handoff.stdioMade')];
  if (!made?.has(1) || process.stdout.writableLength === 0) return;
  await new Promise<void>((resolve) => {
    process.stdout.once('drain', resolve);
    process.stdout.once('error', resolve);
  });
}

/** Runs a command and sets process.exitCode; never throws. */
export async function execute(def: CommandDef, parsed: Parsed, io: Io): Promise<void> {
  try {
    const result = await def.run(parsed, io);
    if (io.json) io.log(JSON.stringify(result, null, 2));
    else def.print?.(result, io, parsed);
    if (def.delivered) {
      await outputWritten();
      await def.delivered(result, parsed, io);
    }
    process.exitCode = EXIT.ok;
  } catch (err) {
    const json = errorToJson(err);
    if (io.json) io.log(JSON.stringify(json, null, 2));
    else io.warn(`handoff: ${inert(json.error.message)}`);
    if (!(err instanceof HandoffError) && process.env.HANDOFF_DEBUG) io.warn(String((err as Error).stack));
    process.exitCode = json.error.exitCode;
  }
}
