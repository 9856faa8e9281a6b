/**
 * The readers of git's output when things go wrong: a caller that fails mid-stream, a git that cannot
 * start. Nothing is left open, nothing is committed for a caller that failed, and the process does not crash.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startGit } from '../../src/git/exec';
import { streamObjects } from '../../src/git/objects';
import { findRepo } from '../../src/git/repo';
import { git, makeRepo } from '../helpers/repo';

const openFds = () => fs.readdirSync('/proc/self/fd').length;
const linux = fs.existsSync('/proc/self/fd');

describe('streamed reads of git objects', () => {
  it.skipIf(!linux)(
    'a caller that throws mid-stream is not told the stream ended, and nothing stays open',
    async () => {
      const dir = makeRepo();
      const repo = findRepo(dir);
      // 50 names of a real object, and a callback that fails on the 10th.
      const blobs: string[] = new Array(50).fill(git(dir, 'rev-parse', 'HEAD:README.md').trim());
      // Once first, so that what stays open for the life of the process (/dev/urandom, for temporary names) is counted.
      await streamObjects(repo, blobs.slice(0, 1), () => true);
      const before = openFds();
      let seen = 0;
      let threw = false;
      let endedAfterThrow = 0;
      await expect(
        streamObjects(
          repo,
          blobs,
          () => {
            if (++seen === 10) {
              threw = true;
              throw new Error('the caller failed');
            }
            return true;
          },
          { beforeWait: () => void (threw && endedAfterThrow++) },
        ),
      ).rejects.toThrow('the caller failed');
      expect(seen).toBe(10);
      // beforeWait commits a caller's transaction: after a failure the caller rolls back instead.
      expect(endedAfterThrow).toBe(0);
      expect(openFds()).toBe(before);
      // The same stream, read to its end, is told so at the end (and whenever it waited).
      let all = 0;
      let lastEnded = -1;
      await streamObjects(repo, blobs, () => void all++, { beforeWait: () => void (lastEnded = all) });
      expect(all).toBe(50);
      expect(lastEnded).toBe(50);
      expect(openFds()).toBe(before);
    },
  );

  it.skipIf(!linux)('a git that cannot start is an error, not a crash, and its files are closed', async () => {
    const dir = makeRepo();
    const gone = path.join(dir, 'gone');
    fs.mkdirSync(gone);
    const repo = { ...findRepo(dir), cwd: gone };
    fs.rmdirSync(gone);
    const before = openFds();
    await expect(streamObjects(repo, ['HEAD'], () => true)).rejects.toThrow();
    expect(openFds()).toBe(before);
    // startGit writing into a file: rejected once, the file closed once (a second close would hit
    // whatever took its number meanwhile).
    const other = fs.openSync(path.join(dir, 'README.md'), 'r');
    await expect(startGit(['version'], { cwd: gone, outputToFile: true }).finish('')).rejects.toThrow(
      /Could not run git version/,
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(() => fs.fstatSync(other)).not.toThrow();
    fs.closeSync(other);
    expect(openFds()).toBe(before);
    // And where it starts, its whole output is read back from the file.
    const out = await startGit(['cat-file', '--batch'], { cwd: dir, outputToFile: true }).finish('HEAD\n');
    expect(out.stdout.toString('utf8')).toMatch(/^[0-9a-f]{40} commit \d+\ntree [0-9a-f]{40}\n/);
    expect(openFds()).toBe(before);
  });
});
