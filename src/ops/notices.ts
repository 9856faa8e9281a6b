/** Notices said once: marked as given at once, or, for a command that delivers its output first, after it. */
import { writeTx } from '../ledger/db';
import type { Context } from './context';

/**
 * Whether to give a once-only notice: not when `given()` says it was. Its mark is made now, or kept in
 * ctx.noticeMarks for markNotices once the output has reached its reader.
 */
export function giveOnce(ctx: Context, given: () => boolean, mark: () => void): boolean {
  if (given()) return false;
  if (ctx.noticeMarks) ctx.noticeMarks.push(mark);
  else mark();
  return true;
}

/** Makes the marks of the notices a command delivered (in one transaction). */
export function markNotices(ctx: Context): void {
  const marks = ctx.noticeMarks?.splice(0) ?? [];
  if (!marks.length || ctx.readOnly) return;
  writeTx(ctx.db, () => {
    for (const mark of marks) mark();
  });
}
