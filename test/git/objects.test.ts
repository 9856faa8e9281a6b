import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObjectWriter, readObject } from '../../src/git/objects';
import { compareAndSwapRef, readRef, readRefs } from '../../src/git/refs';
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
