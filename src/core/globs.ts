/**
 * Whether two reservation globs can name one path: `src/*.ts` and `src/a.*` both name `src/a.ts`, though
 * neither matches the other as a string. Decided on the patterns themselves (no file needs to exist):
 * path segments are matched pairwise, `**` standing for any number of segments, and within a segment `*`,
 * `?`, classes (`[a-z]`, `[!x]`) and literals are matched character by character. Braces (`{a,b}`) are
 * expanded first. Patterns this cannot read (extglobs such as `+(a|b)`, nested braces) give null: the caller
 * decides another way.
 */

/** One character position of a segment: a literal, any one character, a class, or `*` (any run). */
type Token =
  | { kind: 'star' }
  | { kind: 'any' }
  | { kind: 'char'; c: string }
  /** `probes`: the class's ranges' ends and their neighbours, where two classes meet if anywhere. */
  | { kind: 'class'; test: (c: string) => boolean; probes: string[] };

/** Longer patterns than this are picomatch's to compare (the matching here recurses per token). */
const MAX_TOKENS = 256;

/** Braces expanded (one level; at most 64 alternatives), or null when they cannot be read. */
function expandBraces(p: string): string[] | null {
  const open = p.search(/(?<!\\)\{/);
  if (open < 0) return [p];
  const close = p.indexOf('}', open);
  if (close < 0) return null;
  const inner = p.slice(open + 1, close);
  // Nested braces, ranges ({1..3}) and escapes inside braces are picomatch's to read.
  if (/(?<!\\)\{/.test(inner) || inner.includes('..') || inner.includes('\\')) return null;
  const out: string[] = [];
  for (const alt of inner.split(',')) {
    const rest = expandBraces(p.slice(0, open) + alt + p.slice(close + 1));
    if (!rest) return null;
    out.push(...rest);
    if (out.length > 64) return null;
  }
  return out;
}

/** A segment as tokens, or null for syntax this does not read. */
function tokens(seg: string): Token[] | null {
  if (/[?*+@!]\(/.test(seg)) return null;
  const out: Token[] = [];
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '\\' && i + 1 < seg.length) out.push({ kind: 'char', c: seg[++i]! });
    else if (c === '*') {
      if (out.at(-1)?.kind !== 'star') out.push({ kind: 'star' });
    } else if (c === '?') out.push({ kind: 'any' });
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) {
        out.push({ kind: 'char', c });
        continue;
      }
      let body = seg.slice(i + 1, end);
      const negated = body[0] === '!' || body[0] === '^';
      if (negated) body = body.slice(1);
      const ranges: [string, string][] = [];
      for (let k = 0; k < body.length; k++) {
        if (body[k + 1] === '-' && k + 2 < body.length) {
          ranges.push([body[k]!, body[k + 2]!]);
          k += 2;
        } else ranges.push([body[k]!, body[k]!]);
      }
      const inSet = (ch: string) => ranges.some(([lo, hi]) => ch >= lo && ch <= hi);
      const near = (ch: string, d: number) => String.fromCodePoint(Math.max(0, ch.codePointAt(0)! + d));
      const probes = ranges.flatMap(([lo, hi]) => [lo, hi, near(lo, -1), near(hi, 1)]);
      out.push({ kind: 'class', test: negated ? (ch) => !inSet(ch) && ch !== '/' : inSet, probes });
      i = end;
    } else out.push({ kind: 'char', c });
  }
  return out.length > MAX_TOKENS ? null : out;
}

/** Characters tried, besides two classes' own, for where they meet (negated classes meet almost anywhere). */
const PROBES = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).concat([
  'é',
  '\u00a0',
  '中',
]);

/** Whether one character can satisfy both tokens (neither is a star). */
function sameChar(a: Token, b: Token): boolean {
  if (a.kind === 'any') return b.kind !== 'char' || b.c !== '/';
  if (b.kind === 'any') return sameChar(b, a);
  if (a.kind === 'char' && b.kind === 'char') return a.c === b.c;
  if (a.kind === 'char' && b.kind === 'class') return b.test(a.c);
  if (a.kind === 'class' && b.kind === 'char') return a.test(b.c);
  if (a.kind === 'class' && b.kind === 'class')
    return [...a.probes, ...b.probes, ...PROBES].some((c) => a.test(c) && b.test(c));
  return false;
}

/**
 * Whether some sequence matches both patterns: `star` items match any run (none included), the others one
 * item each where `meet` says they can. Memoised over the two positions: quadratic in the patterns' lengths.
 */
function bothMatch<T>(a: T[], b: T[], star: (x: T) => boolean, meet: (x: T, y: T) => boolean): boolean {
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let r: boolean;
    if (i === a.length && j === b.length) r = true;
    else if (i < a.length && star(a[i]!)) r = go(i + 1, j) || (j < b.length && go(i, j + 1));
    else if (j < b.length && star(b[j]!)) r = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else if (i === a.length || j === b.length) r = false;
    else r = meet(a[i]!, b[j]!) && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

/** Whether some string matches both segment patterns. */
const segmentsMeet = (a: Token[], b: Token[]) => bothMatch(a, b, (t) => t.kind === 'star', sameChar);

/** Whether some path matches both patterns, given as segments (`**` any number of segments). */
const pathsMeet = (a: (Token[] | '**')[], b: (Token[] | '**')[]) =>
  bothMatch(
    a,
    b,
    (s) => s === '**',
    (x, y) => segmentsMeet(x as Token[], y as Token[]),
  );

/**
 * A reservation pattern as the paths it covers: `anyDepth` for a glob without a slash (`*.md` is matched at
 * any depth, as in .gitignore), and, with `under`, what is under the path too (a directory reserves its
 * contents).
 */
function covered(pattern: string, anyDepth: boolean, under: boolean): (Token[] | '**')[] | null {
  const segs: (Token[] | '**')[] = anyDepth ? ['**'] : [];
  const parts = pattern.split('/').filter(Boolean);
  if (parts.length > MAX_TOKENS) return null;
  for (const s of parts) {
    if (s === '**') {
      if (segs.at(-1) !== '**') segs.push('**');
      continue;
    }
    const t = tokens(s);
    if (!t) return null;
    segs.push(t);
  }
  if (under && segs.at(-1) !== '**') segs.push('**');
  return segs;
}

/** Whether a pattern holds glob syntax (a plain path has none). */
const isGlob = (p: string) => /[*?[{]/.test(p.replace(/\\./g, ''));

/**
 * Whether two reservation patterns cover a path in common (null: a pattern this cannot read). `anyDepth`
 * tells, for a pattern, whether it matches at any depth (reservations: a glob with no slash). A plain path
 * covers what is under it, as a directory would, unless `isFile` says it names a file; a glob covers only
 * the paths it matches (as reservations' matcher reads it).
 */
export function globsOverlap(
  a: string,
  b: string,
  anyDepth: (p: string) => boolean,
  isFile: (p: string) => boolean = () => false,
): boolean | null {
  const as = expandBraces(a);
  const bs = expandBraces(b);
  if (!as || !bs) return null;
  for (const x of as)
    for (const y of bs) {
      const px = covered(x, anyDepth(a), !isGlob(a) && !isFile(a));
      const py = covered(y, anyDepth(b), !isGlob(b) && !isFile(b));
      if (!px || !py) return null;
      if (pathsMeet(px, py)) return true;
    }
  return false;
}
