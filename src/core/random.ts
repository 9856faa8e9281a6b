/**
 * Random bytes from the system's CSPRNG: read from /dev/urandom where there is one, which spares a command
 * loading node's crypto module (about 2 ms); node's crypto otherwise, loaded then.
 */
import fs from 'node:fs';

let urandom: number | null | undefined;

/** Fills `buf` with random bytes and returns it. */
export function randomFill(buf: Buffer): Buffer {
  if (urandom === undefined) {
    try {
      urandom = fs.openSync('/dev/urandom', 'r');
    } catch {
      urandom = null;
    }
  }
  if (urandom !== null) {
    let got = 0;
    try {
      while (got < buf.length) {
        const n = fs.readSync(urandom, buf, got, buf.length - got, null);
        if (n <= 0) break;
        got += n;
      }
    } catch {
      got = 0;
    }
    if (got === buf.length) return buf;
  }
  return (require('node:crypto') as typeof import('node:crypto')).randomFillSync(buf);
}

/** `bytes` random bytes as hex digits. */
export function randomHex(bytes: number): string {
  return randomFill(Buffer.alloc(bytes)).toString('hex');
}
