/**
 * Making stored text safe to print: bodies are kept byte for byte as sent, but a terminal must never
 * execute what an agent wrote, so control characters (ESC, BEL, CR ...) are shown as visible escapes.
 */

// C0 controls except \t and \n, DEL, and the C1 range (U+0080-U+009F, which some terminals honour).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// Bidirectional overrides can make text read differently from what it is.
const BIDI = /[\u202a-\u202e\u2066-\u2069]/g;

/** Returns text with every control character replaced by a visible escape such as \x1b. */
export function inert(text: string): string {
  return text
    .replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(BIDI, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The first line of a body, inert and cut to `max` characters, for one-line listings. */
export function firstLine(text: string, max = 72): string {
  const line = inert((text.split('\n', 1)[0] ?? '').trim());
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
