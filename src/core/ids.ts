/**
 * Short message ids, as printed in tables: the last characters of the ULID (its random tail, which
 * differs even between ids made in the same millisecond), at least 7 and as many as keep every message
 * of this ledger apart. Every command that takes an id accepts them back.
 */
export const SHORT_ID_MIN = 7;

let length = SHORT_ID_MIN;

/** Sets the short id length this process prints (the ledger's settings.short_id_length). */
export function setShortIdLength(n: number): void {
  length = Math.max(SHORT_ID_MIN, Math.min(26, Math.floor(n) || SHORT_ID_MIN));
}

/** The short form of a message id. */
export function shortId(id: string): string {
  return id.length > length ? id.slice(-length) : id;
}
