import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObjectWriter, readObject } from '../../src/git/objects';
import {
  compareAndSwapRef,
  lastWrittenRef,
  readRef,
  readRefs,
  removeDeadMarks,
  writeRefLocked,
} from '../../src/git/refs';
import { findRepo } from '../../src/git/repo';
import { git, makeRepo, ok } from '../helpers/repo';

describe('git plumbing written in-process', () => {
  it('writes blobs, trees and commits that git itself reads and fsck accepts', () => {
    const dir = makeRepo();
    const repo = findRepo(dir);
    const w = new ObjectWriter(repo.objectsDir);
    const blob = w.blob('hello\n');
    fs.writeFileSync(path.join(dir, 'hello.txt'), 'hello\n');
    expect(blob).toBe(git(dir, 'hash-object', 'hello.txt'));
    const sub = w.tree([{ mode: '100644', name: 'x', oid: blob }]);
    // "a-b" sorts before "a" + "/" as git requires; getting this wrong makes fsck complain.
    const tree = w.tree([
      { mode: '40000', name: 'a', oid: sub },
      { mode: '100644', name: 'a-b', oid: blob },
      { mode: '100644', name: 'a.c', oid: blob },
    ]);
    const when = 1_700_000_000;
    const commit = w.commit({
      tree,
      parents: [],
      author: { name: 'x', email: 'x@y', when },
      committer: { name: 'x', email: 'x@y', when },
      message: 'm\n',
    });
    expect(git(dir, 'cat-file', '-t', commit)).toBe('commit');
    expect(git(dir, 'ls-tree', '-r', '--name-only', commit).split('\n')).toEqual(['a-b', 'a.c', 'a/x']);
    expect(readObject(repo, `${commit}:a/x`)!.content.toString()).toBe('hello\n');
    compareAndSwapRef(repo, 'refs/handoff/test', commit, null);
    git(dir, 'fsck', '--strict', '--no-dangling');
  });

  it('compare-and-swap refuses a stale expected value and reads packed refs', () => {
    const dir = makeRepo();
    const repo = findRepo(dir);
    const head = git(dir, 'rev-parse', 'HEAD');
    expect(compareAndSwapRef(repo, 'refs/handoff/x', head, null)).toBe(true);
    expect(compareAndSwapRef(repo, 'refs/handoff/x', head, null)).toBe(false);
    expect(compareAndSwapRef(repo, 'refs/handoff/x', head, '1111111111111111111111111111111111111111')).toBe(false);
    git(dir, 'pack-refs', '--all');
    expect(readRef(repo, 'refs/handoff/x')).toBe(head);
    expect([...readRefs(repo, 'refs/handoff/')]).toEqual([['refs/handoff/x', head]]);
  });

  it('reads one ref among packed refs with shared prefixes, and moves it only from what it holds', () => {
    const dir = makeRepo();
    const repo = findRepo(dir);
    const head = git(dir, 'rev-parse', 'HEAD');
    const w = new ObjectWriter(repo.objectsDir);
    const other = w.commit({
      tree: git(dir, 'rev-parse', 'HEAD^{tree}'),
      parents: [head],
      author: { name: 'x', email: 'x@y', when: 1 },
      committer: { name: 'x', email: 'x@y', when: 1 },
      message: 'other\n',
    });
    git(dir, 'update-ref', 'refs/handoff/chains/ab', head);
    git(dir, 'update-ref', 'refs/handoff/chains/abc', other);
    git(dir, 'pack-refs', '--all');
    expect(readRef(repo, 'refs/handoff/chains/ab')).toBe(head);
    expect(readRef(repo, 'refs/handoff/chains/abc')).toBe(other);
    expect(readRef(repo, 'refs/handoff/chains/a')).toBeNull();
    expect(readRef(repo, 'refs/handoff/chains/b')).toBeNull();
    // This process wrote ab last; git moves it behind handoff's back: the stale expectation is refused.
    expect(writeRefLocked(repo, 'refs/handoff/chains/ab', other, head)).toBe('ok');
    expect(lastWrittenRef(repo, 'refs/handoff/chains/ab')).toBe(other);
    git(dir, 'update-ref', 'refs/handoff/chains/ab', head);
    expect(writeRefLocked(repo, 'refs/handoff/chains/ab', head, other)).toBe('stale');
    expect(git(dir, 'rev-parse', 'refs/handoff/chains/ab')).toBe(head);
    // The lock is gone after each write; the only scratch file is this (live) process's mark.
    const scratch = path.join(repo.commonDir, 'handoff');
    expect(fs.existsSync(path.join(repo.commonDir, 'refs/handoff/chains/ab.lock'))).toBe(false);
    const marks = fs.readdirSync(scratch).filter((n) => n.startsWith('ref-'));
    expect(marks).toEqual([expect.stringMatching(new RegExp(`^ref-lock-${process.pid}-`))]);
    // pack-refs removes the ref's directory: the write made after it makes it again, with the same mark.
    git(dir, 'pack-refs', '--all', '--prune');
    fs.rmSync(path.join(repo.commonDir, 'refs/handoff/chains'), { recursive: true, force: true });
    let outcome = writeRefLocked(repo, 'refs/handoff/chains/ab', other, head);
    if (outcome === 'locked') outcome = writeRefLocked(repo, 'refs/handoff/chains/ab', other, head);
    expect(outcome).toBe('ok');
    expect(git(dir, 'rev-parse', 'refs/handoff/chains/ab')).toBe(other);
    expect(fs.readdirSync(scratch).filter((n) => n.startsWith('ref-'))).toEqual(marks);
    // A mark left by a process killed before its exit is swept; a live process's mark stays.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    fs.writeFileSync(path.join(scratch, `ref-lock-${dead.stdout}-x`), `handoff-owner ${dead.stdout} -\n`);
    removeDeadMarks(repo.commonDir);
    expect(fs.readdirSync(scratch).filter((n) => n.startsWith('ref-'))).toEqual(marks);
  });

  it('the chain survives git gc --prune=now with loose objects packed', () => {
    const dir = makeRepo();
    ok(dir, ['join'], { agent: 'b' });
    const id = ok(dir, ['send', 'b', 'before gc', '--json'], { agent: 'a' }).json.message.id;
    git(dir, 'gc', '-q', '--prune=now');
    expect(ok(dir, ['rebuild', '--json']).json.messages).toBe(1);
    expect(ok(dir, ['show', id, '--json']).json.message.body).toBe('before gc');
    const id2 = ok(dir, ['send', 'b', 'after gc', '--json'], { agent: 'a' }).json.message.id;
    expect(ok(dir, ['inbox', '--json'], { agent: 'b' }).json.messages.map((m: any) => m.id)).toEqual([id, id2]);
  });
});
