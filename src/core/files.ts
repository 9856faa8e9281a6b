/** Small files handoff keeps beside the ledger: written whole, and lock files owned by a process. */
import { randomHex } from './random';
import fs from 'node:fs';
import path from 'node:path';
import { processAlive } from './proc';

/** Replaces `file` whole: a temporary file beside it, renamed over it (readers see the old or the new). */
export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o600): void {
  const tmp = `${file}.${process.pid}.${randomHex(4)}`;
  try {
    fs.writeFileSync(tmp, data, { mode });
    fs.renameSync(tmp, file);
  } catch (err) {
    try {
      fs.unlinkSync(tmp); // (one unlink: fs.rmSync would load its recursive remover)
    } catch {
      /* not written */
    }
    throw err;
  }
}

/**
 * Takes the lock file `lock` (created holding this process's pid), or takes it over when the process named
 * in it is gone or the lock is older than `staleMs` (another host's, say). Returns false when another live
 * process holds it. The caller removes the file when done.
 */
export function tryPidLock(lock: string, staleMs: number): boolean {
  try {
    fs.writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
  }
  try {
    const owner = Number(fs.readFileSync(lock, 'utf8').trim());
    const dead = Number.isInteger(owner) && owner > 0 && !processAlive(owner, null);
    if (!dead && Date.now() - fs.statSync(lock).mtimeMs < staleMs) return false;
    fs.rmSync(lock, { force: true });
    fs.writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
    return true;
  } catch {
    return false; // released, or taken by another process, meanwhile
  }
}

/**
 * The directory of the built bundles (dist/), where the files built beside them are (dist/secretlint.js),
 * also from a bundle of one command in dist/one/ (scripts/build.mjs). From the sources (tests), the
 * module's own directory, where no such file is.
 */
export function bundleDir(): string {
  return path.basename(__dirname) === 'one' ? path.dirname(__dirname) : __dirname;
}
