/**
 * The entry point git hooks run (dist/hook.js): small, no framework, and it never fails a commit: any
 * error becomes one line on stderr and exit 0.
 */
import {
  closeContext,
  endsWithCommand,
  isCorruptionError,
  openContext,
  recoverFromCorruption,
  tuneForOneShot,
  type Context,
} from '../ops/context';
import { spoolHead } from '../ops/spool';
import { HandoffError } from '../core/errors';
import { inertLine } from '../core/text';
import { resolveIdentity } from '../ops/identity';
import { stagedReservationHits } from '../ops/reservations';

const HOOK_BUSY_MS = 1000;
const isBusy = (err: unknown) =>
  /SQLITE_BUSY|database is locked/i.test(`${(err as { code?: string }).code ?? ''} ${(err as Error).message ?? ''}`);
import {
  commitNotice,
  mergeJustMade,
  rebaseInProgress,
  recordAmendAtStop,
  recordCommit,
  recordRewrite,
} from '../ops/attribution';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Runs one hook by name. */
export async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  let ctx: Context | undefined;
  let refused = false;
  // The process ends with the hook: the database is left open and the process exits without closing it,
  // as a command does (ops/context.ts, closeContext), which spares every commit SQLite's fsyncs at close.
  const exits = endsWithCommand();
  try {
    if (process.env.HANDOFF_HOOKS === '0') return;
    const input = name === 'post-rewrite' ? await readStdin() : '';
    // A commit never waits on handoff: if another process holds the ledger's write lock for more than a
    // moment, the commit is spooled and the next handoff command records it.
    ctx = openContext({
      warn: (m) => process.stderr.write(`handoff: ${m}\n`),
      busyTimeoutMs: HOOK_BUSY_MS,
      skipIndex: true,
      noMaintenance: true,
    });
    tuneForOneShot(ctx);
    if (name === 'pre-commit') {
      const me = resolveIdentity(ctx);
      const hits = stagedReservationHits(ctx, me.name);
      if (hits.length === 0) return;
      const block = ctx.config().get('handoff.reservations')?.at(-1) === 'block';
      for (const h of hits.slice(0, 10))
        process.stderr.write(
          `handoff: ${inertLine(h.file)} is reserved exclusively by ${h.reservation.agent}${h.reservation.reason ? ` (${inertLine(h.reservation.reason)})` : ''}.\n`,
        );
      if (block) {
        process.stderr.write(
          'handoff: commit refused (git config handoff.reservations block). Ask the holder, or commit with HANDOFF_HOOKS=0.\n',
        );
        refused = true;
      } else process.stderr.write('handoff: committing anyway; say so to the holder.\n');
      return;
    }
    // A merge commit that git merge or git pull made without stopping runs post-merge, not post-commit: it is
    // recorded the same way. After a fast-forward (or a squash, which commits later), post-merge records nothing.
    if (name === 'post-commit' || (name === 'post-merge' && mergeJustMade(ctx))) {
      let event = null;
      try {
        event = rebaseInProgress(ctx) ? null : recordCommit(ctx);
      } catch (err) {
        if (isCorruptionError(err)) {
          // A damaged page: the file is set aside, and the next command rebuilds it and records the commit.
          const damaged = recoverFromCorruption(ctx, err, 'This commit is recorded by the next handoff command.');
          spoolHead(ctx);
          process.stderr.write(`handoff: ${damaged.message}\n`);
          return;
        }
        const chainLocked = err instanceof HandoffError && err.code === 'chain_busy';
        if (!isBusy(err) && !chainLocked) throw err;
        spoolHead(ctx);
        process.stderr.write(
          chainLocked
            ? `handoff: ${(err as Error).message} This commit is recorded by the next handoff command.\n`
            : 'handoff: the ledger is busy; this commit is recorded by the next handoff command.\n',
        );
        return;
      }
      const notice = event && process.env.HANDOFF_QUIET !== '1' ? commitNotice(ctx, event) : null;
      if (notice) process.stderr.write(`${notice}\n`);
    } else if (name === 'post-rewrite') {
      // Inside a rebase, git amends to squash and reports it as "amend": the rebase's own report covers it.
      // An amend made by hand at a stop is the maker's, as outside a rebase (post-commit skipped it).
      if (args[0] === 'amend' && rebaseInProgress(ctx)) {
        const event = recordAmendAtStop(ctx, input);
        const notice = event && process.env.HANDOFF_QUIET !== '1' ? commitNotice(ctx, event) : null;
        if (notice) process.stderr.write(`${notice}\n`);
      } else recordRewrite(ctx, { kind: args[0] === 'amend' ? 'amend' : 'rebase', input });
    }
  } catch (err) {
    process.stderr.write(
      `handoff: the ${name} hook could not record attribution (${(err as Error).message.split('\n')[0]}); the commit is fine.\n`,
    );
  } finally {
    try {
      if (ctx) closeContext(ctx, { processEnds: true });
    } catch {
      /* closing never matters here */
    }
    // 3 tells the pre-commit hook script that the commit is refused on purpose.
    process.exitCode = refused ? 3 : 0;
    // What is still queued for stderr (a full pipe) is waited for: the process then ends by itself.
    if (exits.dbLeftOpen && process.stderr.writableLength === 0) process.exit(process.exitCode);
  }
}

void main(process.argv.slice(2));
