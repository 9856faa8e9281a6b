import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObjectWriter, clearJournal, journalOf, readObject } from '../../src/git/objects';
import { writePack } from '../../src/git/pack-writer';
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

  it('writes a pack from memory that git verifies, reads and fsck accepts, once the loose copies are gone', () => {
    const dir = makeRepo();
    const repo = findRepo(dir);
    const journal = journalOf(repo.objectsDir);
    clearJournal(journal);
    const w = new ObjectWriter(repo.objectsDir, null, journal);
    // Sizes around the entry header's boundaries (4 bits, then 7 per byte), an empty blob, binary bytes.
    const sizes = [0, 1, 15, 16, 127, 128, 2047, 2048, 300_000];
    const blobs = sizes.map((n, i) => w.blob(Buffer.from(Array.from({ length: n }, (_, k) => (k * 7 + i) % 256))));
    w.blob(Buffer.alloc(0)); // written twice: in the journal once
    const tree = w.tree(blobs.map((oid, i) => ({ mode: '100644' as const, name: `f${i}`, oid })));
    const ident = { name: 'a', email: 'a@handoff.invalid', when: 1_700_000_000 };
    const commit = w.commit({ tree, parents: [], author: ident, committer: ident, message: 'packed\n' });
    expect(journal.objects.map((o) => o.oid).sort()).toEqual([...new Set([...blobs, tree, commit])].sort());

    const name = writePack(repo.objectsDir, journal.objects, null);
    const idx = path.join(repo.objectsDir, 'pack', `${name}.idx`);
    // verify-pack checks every entry against the index: offsets, CRCs, ids and both checksums.
    const verified = spawnSync('git', ['verify-pack', '-v', idx], { cwd: dir, encoding: 'utf8' });
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(new RegExp(`^${commit} commit`, 'm'));
    for (const o of journal.objects) fs.rmSync(path.join(repo.objectsDir, o.oid.slice(0, 2), o.oid.slice(2)));
    expect(git(dir, 'cat-file', '-s', blobs.at(-1)!)).toBe('300000');
    expect(
      readObject(repo, blobs[3]!)!.content.equals(Buffer.from(Array.from({ length: 16 }, (_, k) => (k * 7 + 3) % 256))),
    ).toBe(true);
    expect(git(dir, 'cat-file', '-p', `${commit}^{tree}`).split('\n')).toHaveLength(sizes.length);
    git(dir, 'update-ref', 'refs/handoff/test', commit);
    const fsck = spawnSync('git', ['fsck', '--full', '--strict'], { cwd: dir, encoding: 'utf8' });
    expect(fsck.status, fsck.stderr).toBe(0);
    expect(git(dir, 'count-objects', '-v')).toMatch(/^in-pack: 11$/m);
    clearJournal(journal);
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
