/**
 * Keeping secrets out of the ledger: a message's body and attached patch are scanned before anything is
 * written. The scanner is secretlint with its recommended rules (AWS, GCP, GitHub, Slack, npm, OpenAI,
 * Anthropic, private keys, connection strings with passwords and more), plus the patterns in git config
 * handoff.secretPatterns. secretlint is loaded only for a text that holds one of the keywords its rules
 * need (a private key header, a provider's token prefix, ...): a plain message costs one regular expression.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../core/errors';
import { bundleDir } from '../core/files';
import { diffGitPath, gitHeaderPath } from '../core/text';

export interface SecretFinding {
  /** What kind of secret (the secretlint rule's message id, or "pattern <n>" for handoff.secretPatterns). */
  kind: string;
  /** "body", or the file of the attached diff. */
  where: string;
  /** 1-based line in the body, or in the file's new version. */
  line: number;
  /** Offsets of the secret in the scanned text (the body, or the patch). */
  start: number;
  end: number;
}

/**
 * Text that could hold a secret of some recommended rule: each rule's pattern needs one of these (taken
 * from the rules themselves: a key header, an AWS key id's shape or `secret_access_key`, each provider's
 * token prefix, a URL with a password, a database URL), so a text without any needs no full scan. Matched
 * against the text lower-cased, with every character outside ASCII made a space, which finds what the same
 * pattern with the `i` flag finds in the text: V8 compiles the case-insensitive pattern about three times
 * slower, which every send paid (about 0.4 ms).
 */
const KEYWORDS = new RegExp(
  [
    '-----begin',
    '\\b(?:a3t[a-z0-9]|akia|agpa|aida|aroa|aipa|anpa|anva|asia)[a-z0-9]{16}\\b',
    'secret_?access_?key',
    'gh[pousr]_|github_pat_|x-oauth-basic@',
    'npm_|_authtoken',
    '\\b(?:xoxb|xoxp|xapp|xoxa|xoxo|xoxr)-|hooks\\.slack\\.com',
    '(?:https?|ftps?):\\/\\/[-\\w]+:[-\\w]+@',
    't3blbkfj|sk-ant-api0|lin_api_|ops_ey|sg\\.\\w+\\.|shp(?:pa|ca|at|ss)_',
    'mongodb(?:\\+srv)?:\\/\\/|mysqlx?:\\/\\/|postgres(?:ql)?:\\/\\/',
  ].join('|'),
);

const NON_ASCII = /[^\x00-\x7f]/g;

/** An AWS secret access key after its name, as secretlint's rule finds it but with any character last. */
const AWS_SECRET_KEY =
  /["']?(?:aws_?)?secret_?access_?key["']?\s*(?::|=>|=)\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi;

type Secretlint = Pick<typeof import('@secretlint/core'), 'lintSource'> &
  Pick<typeof import('@secretlint/secretlint-rule-preset-recommend'), 'creator'>;

/** secretlint: the one-file bundle beside the built CLI (dist/secretlint.js), else its packages. */
async function loadSecretlint(): Promise<Secretlint> {
  const bundled = path.join(bundleDir(), 'secretlint.js');
  if (fs.existsSync(bundled)) return require(bundled) as Secretlint;
  const [core, preset] = await Promise.all([
    import('@secretlint/core'),
    import('@secretlint/secretlint-rule-preset-recommend'),
  ]);
  return { lintSource: core.lintSource, creator: preset.creator };
}

/** handoff.secretPatterns: regular expressions, refused when they do not compile. */
export function compileSecretPatterns(values: string[]): RegExp[] {
  return values.map((p) => {
    try {
      return new RegExp(p, 'gm'); // ^ and $ hold at every line, as a user writing them means
    } catch (err) {
      throw new UsageError(
        'bad_config',
        `git config handoff.secretPatterns holds ${JSON.stringify(p)}, which is not a regular expression: ${(err as Error).message}`,
      );
    }
  });
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/**
 * Where the secret itself is. A rule's range may start at the text around the secret (the AWS secret
 * access key's starts at the variable name, with the key's length), so the value the rule reports is
 * looked for from there; redacting the range alone would leave part of the key.
 */
function exactRange(text: string, range: readonly [number, number], data: unknown): { start: number; end: number } {
  const values = Object.values((data ?? {}) as Record<string, unknown>).filter(
    (v): v is string => typeof v === 'string' && v.length >= 8,
  );
  for (const v of values) {
    const at = text.indexOf(v, Math.max(0, range[0] - v.length));
    if (at >= 0 && at <= range[1]) return { start: at, end: at + v.length };
  }
  return { start: range[0], end: range[1] };
}

interface Range {
  kind: string;
  start: number;
  end: number;
}

/** The secrets in one text: secretlint's findings (when a keyword is there) and the user's patterns. */
async function scanText(text: string, patterns: RegExp[], filePath = 'handoff-message'): Promise<Range[]> {
  const found: Range[] = [];
  // Every character outside ASCII becomes a space: as for the pattern with the `i` flag, none can stand for
  // a letter of a keyword or be part of a word, also where lower-casing would make one ASCII (the Kelvin
  // sign becomes "k", which would hide a key's word boundary).
  if (KEYWORDS.test(text.replace(NON_ASCII, ' ').toLowerCase())) {
    const { lintSource, creator } = await loadSecretlint();
    const res = await lintSource({
      // The file's own name: some rules look only at some files (.npmrc, a GCP key's .json).
      // A "secretlint-disable" comment in a message or a diff must not switch the scan off: the directive
      // is defused with a same-length spelling, so offsets stay the same (the preset's comment filter
      // cannot be turned off by configuration).
      source: { filePath, content: text.replace(/secretlint-(?=disable|enable)/g, 'secretlint_'), contentType: 'text' },
      options: {
        config: {
          rules: [
            {
              id: '@secretlint/secretlint-rule-preset-recommend',
              rule: creator,
              rules: [
                // An AWS access key id names an account's credential: refused as well.
                { id: '@secretlint/secretlint-rule-aws', options: { enableIDScanRule: true } },
              ],
            },
          ],
        },
      },
    });
    for (const m of res.messages) {
      if (m.type !== 'message' && m.severity === 'info') continue;
      found.push({ kind: m.messageId, ...exactRange(text, m.range, m.data) });
    }
    // secretlint's AWS secret key rule wants a word boundary after the key, so a key ending in '/' or '+'
    // (one in 32) before a line end or a space escapes it: such keys are found here too.
    AWS_SECRET_KEY.lastIndex = 0;
    for (let m = AWS_SECRET_KEY.exec(text); m; m = AWS_SECRET_KEY.exec(text)) {
      const start = m.index + m[0].length - m[1]!.length;
      if (!found.some((f) => f.start === start)) found.push({ kind: 'AWSSecretAccessKey', start, end: start + 40 });
    }
  }
  patterns.forEach((re, i) => {
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      found.push({ kind: `handoff.secretPatterns #${i + 1}`, start: m.index, end: m.index + m[0].length });
    }
  });
  return found.sort((a, b) => a.start - b.start);
}

/** Secrets in a message body. */
export async function scanBody(body: string, patterns: RegExp[]): Promise<SecretFinding[]> {
  return (await scanText(body, patterns)).map((r) => ({ ...r, where: 'body', line: lineAt(body, r.start) }));
}

/**
 * Secrets added by a unified diff (only its added lines count: what was already committed is not new),
 * each named by file and line of the file's new version. The added lines of each file are scanned as one
 * text, so a secret spanning lines (a private key) is found; offsets are mapped back into the patch.
 */
export async function scanPatch(
  patch: string,
  patterns: RegExp[],
): Promise<{ findings: (SecretFinding & { secret: string })[]; binary: Set<string> }> {
  // The added lines of each file: their text, where each starts in the patch, and its line in the file.
  const files = new Map<string, { text: string; starts: number[]; patchAt: number[]; lineNo: number[] }>();
  let cur: { text: string; starts: number[]; patchAt: number[]; lineNo: number[] } | null = null;
  let newLine = 0;
  let inHunk = false;
  let current = '';
  const binary = new Set<string>();
  for (let pos = 0; pos < patch.length;) {
    const nl = patch.indexOf('\n', pos);
    const end = nl < 0 ? patch.length : nl;
    const line = patch.slice(pos, end);
    if (line.startsWith('diff --git ')) {
      inHunk = false;
      current = diffGitPath(line);
    }
    // A file git shows as binary (by .gitattributes, or past the patch's size limit): no lines here.
    if (!inHunk && line.startsWith('Binary files ') && current) binary.add(current);
    if (!inHunk && line.startsWith('+++ ')) {
      const file = gitHeaderPath(line.slice(4)).replace(/^b\//, '');
      cur = files.get(file) ?? { text: '', starts: [], patchAt: [], lineNo: [] };
      files.set(file, cur);
    } else if (line.startsWith('@@')) {
      inHunk = true;
      newLine = Number(/\+(\d+)/.exec(line)?.[1] ?? 1);
    } else if (inHunk && cur && line.startsWith('+')) {
      cur.starts.push(cur.text.length);
      cur.patchAt.push(pos + 1);
      cur.lineNo.push(newLine++);
      cur.text += `${line.slice(1)}\n`;
    } else if (inHunk && line.startsWith(' ')) newLine++;
    pos = end + 1;
  }
  const out: (SecretFinding & { secret: string })[] = [];
  for (const [file, added] of files) {
    if (!added.text) continue;
    const at = (offset: number) => {
      let lo = 0;
      let hi = added.starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (added.starts[mid]! <= offset) lo = mid;
        else hi = mid - 1;
      }
      return { index: lo, patch: added.patchAt[lo]! + (offset - added.starts[lo]!) };
    };
    for (const r of await scanText(added.text, patterns, file)) {
      const first = at(r.start);
      out.push({
        kind: r.kind,
        where: file,
        line: added.lineNo[first.index]!,
        start: first.patch,
        end: at(Math.max(r.start, r.end - 1)).patch + 1,
        secret: added.text.slice(r.start, r.end),
      });
    }
  }
  return { findings: out.sort((a, b) => a.start - b.start), binary };
}

/**
 * The text with each finding replaced by a marker naming its kind. Overlapping findings are merged (the
 * marker names the first), and a finding that spans lines is replaced line by line, so the text keeps
 * its lines: a patch's hunks stay whole. `linePrefix`: what each line starts with that is not content
 * (a patch's "+").
 */
export function redact(
  text: string,
  findings: Pick<SecretFinding, 'kind' | 'start' | 'end'>[],
  linePrefix = '',
): string {
  const merged: { kind: string; start: number; end: number }[] = [];
  for (const f of [...findings].sort((a, b) => a.start - b.start || b.end - a.end)) {
    const last = merged.at(-1);
    if (last && f.start < last.end) last.end = Math.max(last.end, f.end);
    else merged.push({ kind: f.kind, start: f.start, end: f.end });
  }
  let out = '';
  let at = 0;
  for (const f of merged) {
    out += text.slice(at, f.start);
    const marker = `[REDACTED ${f.kind}]`;
    const lines = text.slice(f.start, f.end).split('\n');
    out += lines
      .map((l, i) => {
        if (i === 0) return l.length ? marker : '';
        const prefix = linePrefix && l.startsWith(linePrefix) ? linePrefix : '';
        return l.length > prefix.length ? `${prefix}${marker}` : l;
      })
      .join('\n');
    at = f.end;
  }
  return out + text.slice(at);
}

/** Every place each secret value occurs in a text, as findings (for redacting a snapshot's files). */
export function occurrences(text: string, secrets: { secret: string; kind: string }[]): Range[] {
  const out: Range[] = [];
  for (const s of secrets) {
    if (!s.secret) continue;
    for (let at = text.indexOf(s.secret); at >= 0; at = text.indexOf(s.secret, at + 1))
      out.push({ kind: s.kind, start: at, end: at + s.secret.length });
  }
  return out;
}

/** Secrets in one file's full content (a file the patch shows as binary, or too large to show). */
export async function scanFile(
  file: string,
  content: string,
  patterns: RegExp[],
): Promise<(SecretFinding & { secret: string })[]> {
  return (await scanText(content, patterns, file)).map((r) => ({
    ...r,
    where: file,
    line: lineAt(content, r.start),
    secret: content.slice(r.start, r.end),
  }));
}

/**
 * Refuses a text that holds a secret (secret_found, exit 2): for the texts that have no --redact (a task
 * outcome's note, a review comment).
 */
export async function refuseSecrets(config: Map<string, string[]>, text: string, what: string): Promise<void> {
  const found = await scanBody(text, compileSecretPatterns(config.get('handoff.secretpatterns') ?? []));
  if (!found.length) return;
  const notes = found.map((f) => ({ kind: f.kind, where: f.where, line: f.line }));
  throw new UsageError(
    'secret_found',
    `Not recorded: ${what} holds ${found.length === 1 ? 'a secret' : `${found.length} secrets`} (${notes
      .slice(0, 10)
      .map((n) => `${n.kind}, line ${n.line}`)
      .join('; ')}). Nothing was written. Remove ${found.length === 1 ? 'it' : 'them'} and try again.`,
    { found: notes },
  );
}
