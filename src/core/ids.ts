/**
 * Short message ids, as printed in tables: the last characters of the ULID (its random tail, which
 * differs even between ids made in the same millisecond), at least 7 and as many as keep every message
 * of this ledger apart, up to 10. Every command that takes an id accepts them back.
 */
export const SHORT_ID_MIN = 7;
/**
 * Random tails share 10 characters by chance about once in 10^15 pairs: ids that do were chosen so (send
 * --id, a forged event). They do not lengthen every other id; their short forms are ambiguous, and a
 * command given one names both full ids.
 */
export const SHORT_ID_MAX = 10;

let length = SHORT_ID_MIN;

/** Sets the short id length this process prints (the ledger's settings.short_id_length). */
export function setShortIdLength(n: number): void {
  length = Math.max(SHORT_ID_MIN, Math.min(SHORT_ID_MAX, Math.floor(n) || SHORT_ID_MIN));
}

/** The short form of a message id. */
export function shortId(id: string): string {
  return id.length > length ? id.slice(-length) : id;
}
