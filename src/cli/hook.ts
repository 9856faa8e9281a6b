/**
 * The entry point git hooks run (dist/hook.js): small, no framework, and it never fails a commit: any
 * error becomes one line on stderr and exit 0.
 */
import { closeContext, openContext, type Context } from '../ops/context';
import { commitNotice, rebaseInProgress, recordCommit, recordRewrite } from '../ops/attribution';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Runs one hook by name. */
export async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  let ctx: Context | undefined;
  try {
    if (process.env.HANDOFF_HOOKS === '0') return;
    const input = name === 'post-rewrite' ? await readStdin() : '';
    ctx = openContext({ warn: (m) => process.stderr.write(`handoff: ${m}\n`) });
    if (name === 'post-commit') {
      const event = rebaseInProgress(ctx) ? null : recordCommit(ctx);
      const notice = event && process.env.HANDOFF_QUIET !== '1' ? commitNotice(ctx, event) : null;
      if (notice) process.stderr.write(`${notice}\n`);
    } else if (name === 'post-rewrite') {
      // Inside a rebase, git amends to squash and reports it as "amend": the rebase's own report covers it.
      if (!(args[0] === 'amend' && rebaseInProgress(ctx))) recordRewrite(ctx, { kind: args[0] === 'amend' ? 'amend' : 'rebase', input });
    }
  } catch (err) {
    process.stderr.write(`handoff: the ${name} hook could not record attribution (${(err as Error).message.split('\n')[0]}); the commit is fine.\n`);
  } finally {
    try {
      if (ctx) closeContext(ctx);
    } catch {
      /* closing never matters here */
    }
    process.exitCode = 0;
  }
}

void main(process.argv.slice(2));
