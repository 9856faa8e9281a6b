import { describe, expect, it } from 'vitest';
import { inert, inertLine } from '../../src/core/text';

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
