/**
 * Making stored text safe to print: bodies are kept byte for byte as sent, but a terminal must never
 * execute what an agent wrote, so control characters (ESC, BEL, CR ...) are shown as visible escapes.
 */

// C0 controls except \t and \n, DEL, and the C1 range (U+0080-U+009F, which some terminals honour).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// Bidirectional controls and marks can make text read differently from what it is; the line and paragraph
// separators break a line where a terminal or editor shows none.
const BIDI = /[\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** Returns text with every control character replaced by a visible escape such as \x1b. */
export function inert(text: string): string {
  // Most text has nothing to escape: one scan instead of two replaces (blame prints thousands of lines).
  if (!UNSAFE.test(text)) return text;
  return text
    .replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(BIDI, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Text that must stay on one line (a file name, a path pattern, a note in a table), inert: a newline or tab shows as \n or \t. */
export function inertLine(name: string): string {
  return inert(name).replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

/** The first line of a body, inert and cut to `max` characters, for one-line listings. */
export function firstLine(text: string, max = 72): string {
  const line = inert((text.split('\n', 1)[0] ?? '').trim());
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * A path as git prints it in a diff header: `b/dir/name`, or C-quoted (`"b/na\303\257ve.txt"`) when it has
 * special or non-ASCII characters, possibly followed by a tab. Returns the plain path without its a/ or b/.
 */
export function gitHeaderPath(raw: string): string {
  return unquotePath(raw.replace(/\t$/, '')).replace(/^[ab]\//, '');
}

/** A path as git prints it: as it is, or in double quotes with C escapes and octal bytes (core.quotePath). */
export function unquotePath(raw: string): string {
  if (!(raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"'))) return raw;
  const bytes: number[] = [];
  const body = raw.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const n = body[++i] ?? '';
    if (/[0-7]/.test(n)) {
      bytes.push(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else
      bytes.push(
        ({ n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 } as Record<string, number>)[n] ??
          n.charCodeAt(0),
      );
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The new-side path of a `diff --git a/x b/y` line (quoted names included). */
export function diffGitPath(line: string): string {
  const rest = line.slice('diff --git '.length);
  const quoted = /"((?:[^"\\]|\\.)*)"$/.exec(rest);
  if (quoted) return gitHeaderPath(`"${quoted[1]}"`);
  const m = / b\/(.*)$/.exec(rest);
  return m ? m[1]! : rest;
}

/** Whether a git config value means true (git's own spellings: true, yes, on, 1). */
export function configTrue(value: string | undefined): boolean {
  return value !== undefined && /^(true|yes|on|1)$/i.test(value.trim());
}

/**
 * A --since or --until value as a time (ms since the epoch): an ISO date (2026-01-31, 2026-01-31T12:00Z) or
 * a time back from `now` (30m, 12h, 3d, 2w, "2 days ago", "3 months ago" as 90 days, yesterday, now). Null when
 * it is neither.
 */
export function parseWhen(v: string, now = Date.now()): number | null {
  const word = v.trim().toLowerCase();
  if (word === 'now') return now;
  if (word === 'yesterday') return now - 86400e3;
  const rel =
    /^(\d+)\s*(s|secs?|seconds?|m|mins?|minutes?|h|hours?|d|days?|w|weeks?|mo|months?|y|years?)( ago)?$/i.exec(
      v.trim(),
    );
  if (rel) {
    const u = rel[2]!.toLowerCase();
    const unit = u.startsWith('mo')
      ? 30 * 86400e3
      : { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3, y: 365 * 86400e3 }[u[0] as 's']!;
    return now - Number(rel[1]) * unit;
  }
  // A date without its year is not guessed (JavaScript reads "Dec 1" as 2001).
  if (!/\d{4}/.test(v)) return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

/** Text a user gave, quoted for an error message, cut to about 80 characters (a 5,000-character key is not repeated). */
export function quoted(text: string, max = 80): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max - 3)}...` : text);
}

/**
 * The edit distance between two strings, a swap of two neighbouring letters counting as one edit (optimal
 * string alignment): for suggestions, a mistyped command or name ("cdoex" is one edit from "codex").
 */
export function editDistance(a: string, b: string): number {
  let before = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/** A word as a POSIX shell reads it back: plain when it is safe, else in single quotes. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
