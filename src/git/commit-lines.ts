/**
 * Lines of commit ids, as `git rev-list --parents` and `git log --format='%H %P...'` print them, parsed
 * with little per commit (a chain may hold 100,000): each id is one flat string, and an id seen on the line
 * before is that same string, in either order git lists a chain in (oldest first, a parent that is the
 * previous line's commit; newest first, a commit that is the previous line's first parent).
 */

const SP = 0x20;
const NL = 0x0a;

export interface CommitIds {
  commit: string;
  parents: string[];
}

export class CommitLineParser {
  private readonly prevId = Buffer.alloc(40);
  private prev: string | null = null;
  private readonly prevParentId = Buffer.alloc(40);
  private prevParent: string | null = null;

  /** The ids in `out[at, end)`: the commit, then its parents, separated by spaces. */
  ids(out: Buffer, at: number, end: number): CommitIds {
    let sp = out.indexOf(SP, at);
    if (sp < 0 || sp > end) sp = end;
    const commit =
      this.prevParent !== null && sp - at === 40 && this.prevParentId.compare(out, at, sp) === 0
        ? this.prevParent
        : out.toString('latin1', at, sp);
    const parents: string[] = [];
    let firstParentAt = -1;
    for (let p = sp + 1; p < end;) {
      let q = out.indexOf(SP, p);
      if (q < 0 || q > end) q = end;
      if (q > p) {
        const same = this.prev !== null && q - p === 40 && this.prevId.compare(out, p, q) === 0;
        if (!parents.length && q - p === 40) firstParentAt = p;
        parents.push(same ? this.prev! : out.toString('latin1', p, q));
      }
      p = q + 1;
    }
    if (sp - at === 40) {
      out.copy(this.prevId, 0, at, sp);
      this.prev = commit;
    } else this.prev = null;
    if (firstParentAt >= 0) {
      out.copy(this.prevParentId, 0, firstParentAt, firstParentAt + 40);
      this.prevParent = parents[0]!;
    } else this.prevParent = null;
    return { commit, parents };
  }
}

/** Splits a stream of chunks into lines, calling `onLine(buf, start, end)` for each non-empty one. */
export class LineSplitter {
  private rest: Buffer | null = null;
  constructor(private readonly onLine: (buf: Buffer, start: number, end: number) => void) {}

  push(chunk: Buffer): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    let at = 0;
    for (let nl = buf.indexOf(NL, at); nl >= 0; nl = buf.indexOf(NL, at)) {
      if (nl > at) this.onLine(buf, at, nl);
      at = nl + 1;
    }
    this.rest = at < buf.length ? Buffer.from(buf.subarray(at)) : null;
  }

  end(): void {
    if (this.rest?.length) this.onLine(this.rest, 0, this.rest.length);
    this.rest = null;
  }
}
