import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import { globsOverlap } from '../../src/core/globs';

/** As reservations read a pattern: a glob without a slash matches at any depth. */
const anyDepth = (p: string) => /[*?[]/.test(p) && !p.includes('/');
const overlap = (a: string, b: string) => globsOverlap(a, b, anyDepth);

/** What reservations' matcher says of a path: the glob, or what is under the path it names. */
function covers(pattern: string, file: string): boolean {
  const under = pattern.replace(/\/+$/, '');
  return (
    picomatch(pattern, { dot: true, basename: anyDepth(pattern) })(file) ||
    file === under ||
    file.startsWith(`${under}/`)
  );
}

describe('globsOverlap', () => {
  it('finds globs that name a path in common though neither matches the other', () => {
    expect(overlap('g/*.ts', 'g/a.*')).toBe(true);
    expect(overlap('src/*.ts', 'src/a.*')).toBe(true);
    expect(overlap('src/**/x.ts', 'src/a/*/x.*')).toBe(true);
    expect(overlap('*.md', 'docs/guide/*')).toBe(true); // docs/guide/a.md
    expect(overlap('m/[ab].ts', 'm/?.ts')).toBe(true);
    expect(overlap('m/[!a].ts', 'm/a.ts')).toBe(false);
    expect(overlap('m/[a-c]*.ts', 'm/[c-f]x.ts')).toBe(true);
    expect(overlap('m/[a-b]*.ts', 'm/[c-f]x.ts')).toBe(false);
    expect(overlap('src/{a,b}.ts', 'src/b.*')).toBe(true);
    expect(overlap('src/{a,b}.ts', 'src/c.*')).toBe(false);
  });

  it('a directory covers what is under it; disjoint names and trees do not meet', () => {
    expect(overlap('k', 'k/**')).toBe(true);
    expect(overlap('src', 'src/parser/*.ts')).toBe(true);
    expect(overlap('**', 'anything/at/all')).toBe(true);
    expect(overlap('src/*.ts', 'src/*.js')).toBe(false);
    expect(overlap('src/a/*', 'src/b/*')).toBe(false);
    expect(overlap('README.md', 'docs/README.md')).toBe(false); // a plain name is at the top only
    expect(overlap('lib/*.ts', 'lib/sub/x.ts')).toBe(false);
  });

  it('a plain path taken for a file covers nothing under it; a glob covers only what it matches', () => {
    const isFile = (p: string) => /\.[^./]+$/.test(p);
    const o = (a: string, b: string) => globsOverlap(a, b, anyDepth, isFile);
    expect(o('*.md', 'src/parser.ts')).toBe(false);
    expect(o('src/**/*.md', 'src/a.ts')).toBe(false);
    expect(o('c*.txt', 'zzz.md')).toBe(false);
    expect(o('*.md', 'docs')).toBe(true); // docs/a.md
    expect(o('*.md', 'src/README.md')).toBe(true);
    expect(o('docs/**', '*.ts')).toBe(true); // docs/x.ts
    expect(o('src/parser.ts', 'src/parser.ts')).toBe(true);
    // Without isFile a plain path may be a directory: what is under it meets an any-depth glob.
    expect(overlap('*.md', 'src/parser.ts')).toBe(true);
    // A glob is not a directory: src/* does not cover src/a/b.ts (nor does reservations' matcher).
    expect(overlap('src/*', 'src/a/b.ts')).toBe(covers('src/*', 'src/a/b.ts'));
  });

  it('agrees with picomatch wherever a path it tries is covered by both', () => {
    const globs = [
      'src/*.ts',
      'src/a.*',
      'src/**',
      'src/?.ts',
      '*.ts',
      'src/[ab]*',
      'docs',
      'docs/*.md',
      'src/b/*.js',
      '**/x.*',
    ];
    const paths = ['src/a.ts', 'src/b.ts', 'src/ab.js', 'src/b/x.js', 'docs/a.md', 'docs/x.ts', 'x.ts', 'src/a/x.ts'];
    for (const a of globs)
      for (const b of globs) {
        const common = paths.some((p) => covers(a, p) && covers(b, p));
        // A path both cover proves the overlap; none among these does not disprove it.
        if (common) expect([a, b, overlap(a, b)]).toEqual([a, b, true]);
      }
  });

  it('gives null for syntax it does not read, and answers for long patterns', () => {
    expect(overlap('src/+(a|b).ts', 'src/a.ts')).toBeNull();
    expect(overlap('src/{a,{b,c}}.ts', 'src/a.ts')).toBeNull();
    const long = `${'*a'.repeat(40)}/${'**/'.repeat(20)}x`;
    expect(overlap(long, `${'a*'.repeat(40)}/y/x`)).toBe(true);
    expect(overlap(long, `${'*b'.repeat(40)}/y/x`)).toBe(false); // its first segment ends in b, the other's in a
  });
});

describe('globsOverlap on what it leaves to picomatch', () => {
  it('gives null for brace ranges and long patterns; compares non-ASCII classes by their own characters', () => {
    expect(overlap('src/f{1..3}.ts', 'src/f2.ts')).toBeNull();
    expect(overlap('src/{a\\,b}.ts', 'src/a.ts')).toBeNull();
    expect(overlap('lib/[äöü]*.ts', 'lib/[ö]x.ts')).toBe(true);
    expect(overlap('lib/[ä]*.ts', 'lib/[ö]x.ts')).toBe(false);
    expect(overlap(`y/${'*b'.repeat(2000)}`, `y/${'*a'.repeat(2000)}X`)).toBeNull();
  });
});
