import { describe, expect, it } from 'vitest';
import { CommitLineParser, LineSplitter } from '../../src/git/commit-lines';

const id = (n: number) => n.toString(16).padStart(40, '0');

describe('commit lines parsed from chunks', () => {
  it('gives the same commits and parents whatever the chunk boundaries', () => {
    // A chain of 50 with a merge (second parent) at 20 and a root, as rev-list --parents prints it.
    const lines = Array.from({ length: 50 }, (_, i) =>
      [id(i + 1), ...(i ? [id(i)] : []), ...(i === 20 ? [id(999)] : [])].join(' '),
    );
    const text = Buffer.from(`${lines.join('\n')}\n`);
    for (const size of [1, 7, 40, 41, 83, 4096]) {
      const parser = new CommitLineParser();
      const rows: { commit: string; parents: string[] }[] = [];
      const split = new LineSplitter((buf, at, end) => rows.push(parser.ids(buf, at, end)));
      for (let at = 0; at < text.length; at += size) split.push(text.subarray(at, at + size));
      split.end();
      expect(rows.map((r) => [r.commit, ...r.parents].join(' '))).toEqual(lines);
      expect(rows[0]!.parents).toEqual([]);
      expect(rows[20]!.parents).toEqual([id(20), id(999)]);
    }
  });

  it('passes a last line without a newline, and skips empty lines', () => {
    const seen: string[] = [];
    const split = new LineSplitter((buf, at, end) => seen.push(buf.toString('utf8', at, end)));
    split.push(Buffer.from('a\n\nb'));
    split.push(Buffer.from('c\n'));
    split.push(Buffer.from('d'));
    split.end();
    expect(seen).toEqual(['a', 'bc', 'd']);
  });
});
