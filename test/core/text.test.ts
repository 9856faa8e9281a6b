import { describe, expect, it } from 'vitest';
import { editDistance, inert, inertLine } from '../../src/core/text';

describe('inert text', () => {
  it('escapes controls, bidirectional controls and marks, and the Unicode line separators', () => {
    const evil = 'a\u001b[31mred\u0007 \u202eevil\u2066 \u200fmark\u200e \u061c x\u2028y\u2029z';
    const out = inert(evil);
    expect(out).toBe('a\\x1b[31mred\\x07 \\u202eevil\\u2066 \\u200fmark\\u200e \\u061c x\\u2028y\\u2029z');
    // Nothing a terminal acts on is left.
    expect(out).not.toMatch(
      /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/,
    );
    // Plain text (any script) is unchanged; a newline stays in a body and is escaped on a line.
    expect(inert('שלום, 世界\nnext')).toBe('שלום, 世界\nnext');
    expect(inertLine('codex\nSigned:   good')).toBe('codex\\nSigned:   good');
  });
});

describe('edit distance', () => {
  it('counts a swap of neighbouring letters as one edit, and anything else as Levenshtein does', () => {
    const cases: [string, string, number][] = [
      ['cdoex', 'codex', 1],
      ['alcie', 'alice', 1],
      ['craol', 'carol', 1],
      ['codx', 'codex', 1],
      ['cluade', 'claude', 1],
      ['codex', 'codex', 0],
      ['', 'abc', 3],
      ['abc', '', 3],
      ['kitten', 'sitting', 3],
      ['ca', 'abc', 3],
      ['gemini', 'codex', 6],
    ];
    for (const [a, b, d] of cases) {
      expect([a, b, editDistance(a, b)]).toEqual([a, b, d]);
      expect(editDistance(b, a)).toBe(d);
    }
  });
});
