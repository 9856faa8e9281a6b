import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObjectWriter, clearJournal, journalOf, readObject } from '../../src/git/objects';
import { PackWindow, WindowObjectWriter, writePack } from '../../src/git/pack-writer';
import {
  compareAndSwapRef,
  lastWrittenRef,
  readRef,
  readRefs,
  removeDeadMarks,
  writeRefLocked,
} from '../../src/git/refs';
import { findRepo } from '../../src/git/repo';
import { BIN, cleanEnv, git, makeRepo, ok } from '../helpers/repo';
import { stores, writer } from '../helpers/writers';

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
    // The same objects stored (a patch's scratch pack): verified and read alike, each entry its size plus
    // a few bytes of framing.
    const other = makeRepo();
    const storedName = writePack(path.join(other, '.git', 'objects'), journal.objects, null, { stored: true });
    const storedIdx = path.join(other, '.git', 'objects', 'pack', `${storedName}.idx`);
    const storedCheck = spawnSync('git', ['verify-pack', '-v', storedIdx], { cwd: other, encoding: 'utf8' });
    expect(storedCheck.status, storedCheck.stderr).toBe(0);
    expect(git(other, 'cat-file', '-s', blobs.at(-1)!)).toBe('300000');
    expect(fs.statSync(storedIdx.replace(/\.idx$/, '.pack')).size).toBeGreaterThan(300_000);
    git(other, 'update-ref', 'refs/handoff/test', commit);
    const storedFsck = spawnSync('git', ['fsck', '--full', '--strict'], { cwd: other, encoding: 'utf8' });
    expect(storedFsck.status, storedFsck.stderr).toBe(0);
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
    // The lock is gone after each write; the only scratch file is this (live) process's mark (value slots
    // come with a second write of a ref).
    const scratch = path.join(repo.commonDir, 'handoff');
    expect(fs.existsSync(path.join(repo.commonDir, 'refs/handoff/chains/ab.lock'))).toBe(false);
    const marks = fs.readdirSync(scratch).filter((n) => n.startsWith('ref-lock-'));
    expect(marks).toEqual([expect.stringMatching(new RegExp(`^ref-lock-${process.pid}-`))]);
    expect(fs.readdirSync(scratch).filter((n) => n.startsWith('ref-value-'))).toEqual([]);
    // pack-refs removes the ref's directory: the write made after it makes it again, with the same mark.
    git(dir, 'pack-refs', '--all', '--prune');
    fs.rmSync(path.join(repo.commonDir, 'refs/handoff/chains'), { recursive: true, force: true });
    let outcome = writeRefLocked(repo, 'refs/handoff/chains/ab', other, head);
    if (outcome === 'locked') outcome = writeRefLocked(repo, 'refs/handoff/chains/ab', other, head);
    expect(outcome).toBe('ok');
    expect(git(dir, 'rev-parse', 'refs/handoff/chains/ab')).toBe(other);
    expect(fs.readdirSync(scratch).filter((n) => n.startsWith('ref-lock-'))).toEqual(marks);
    // A mark left by a process killed before its exit is swept; a live process's mark stays.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    fs.writeFileSync(path.join(scratch, `ref-lock-${dead.stdout}-x`), `handoff-owner ${dead.stdout} -\n`);
    removeDeadMarks(repo.commonDir);
    expect(fs.readdirSync(scratch).filter((n) => n.startsWith('ref-lock-'))).toEqual(marks);
  });

  it('a ref written again and again goes in through two value files used in turn, never the one that is the ref', () => {
    const dir = makeRepo();
    const repo = findRepo(dir);
    const head = git(dir, 'rev-parse', 'HEAD');
    const other = new ObjectWriter(repo.objectsDir).commit({
      tree: git(dir, 'rev-parse', 'HEAD^{tree}'),
      parents: [head],
      author: { name: 'x', email: 'x@y', when: 1 },
      committer: { name: 'x', email: 'x@y', when: 1 },
      message: 'other\n',
    });
    const ref = 'refs/handoff/chains/slots';
    const file = path.join(repo.commonDir, ref);
    const scratch = path.join(repo.commonDir, 'handoff');
    const values = () =>
      fs
        .readdirSync(scratch)
        .filter((n) => n.startsWith(`ref-value-${process.pid}-`))
        .map((n) => path.join(scratch, n));
    let expected: string | null = null;
    const inodes: number[] = [];
    for (let i = 0; i < 8; i++) {
      const next = i % 2 ? head : other;
      const before = expected === null ? null : fs.statSync(file).ino;
      expect(writeRefLocked(repo, ref, next, expected)).toBe('ok');
      expected = next;
      // git reads what was written, and the ref is a file of its own again (never the slot rewritten in place).
      expect(git(dir, 'rev-parse', ref)).toBe(next);
      expect(fs.readFileSync(file, 'utf8')).toBe(`${next}\n`);
      const ino = fs.statSync(file).ino;
      if (before !== null) expect(ino).not.toBe(before);
      inodes.push(ino);
      // The first write is a new file; from the second on, the ref is one of the two slots (hard-linked).
      const slots = values();
      expect(slots.length).toBe(i === 0 ? 0 : Math.min(i, 2));
      if (i > 0) expect(slots.map((f) => fs.statSync(f).ino)).toContain(ino);
    }
    // The slots are used in turn: writes 2 and 4 (and 3 and 5) put the same file in place.
    expect(inodes[1]).toBe(inodes[3]);
    expect(inodes[2]).toBe(inodes[4]);
    expect(inodes[1]).not.toBe(inodes[2]);
    // The refs directory holds only the ref: no alias is left behind.
    expect(fs.readdirSync(path.dirname(file)).filter((n) => n.startsWith('slots'))).toEqual(['slots']);
    // A copy of .git made with hard links (cp -al) shares the ref's file: it keeps its value, the writer
    // leaves that slot to it.
    const copy = path.join(path.dirname(dir), `${path.basename(dir)}-copy-ref`);
    fs.linkSync(file, copy);
    const frozen = fs.readFileSync(copy, 'utf8');
    for (const next of [expected === head ? other : head, expected]) {
      expect(writeRefLocked(repo, ref, next!, expected === head ? head : other)).toBe('ok');
      expected = next!;
      expect(fs.readFileSync(copy, 'utf8')).toBe(frozen);
      expect(git(dir, 'rev-parse', ref)).toBe(next);
    }
    fs.unlinkSync(copy);
    // A slot removed by hand (by anyone) is made again.
    for (const f of values()) fs.unlinkSync(f);
    expect(writeRefLocked(repo, ref, head, expected)).toBe('ok');
    expect(git(dir, 'rev-parse', ref)).toBe(head);
    expect(git(dir, 'fsck', '--no-progress', '--no-dangling')).toBe('');
  });

  it("in a shared repository the ref, loose objects and packs handoff writes are the group's to read, whatever the umask", () => {
    const dir = makeRepo();
    git(dir, 'config', 'core.sharedRepository', 'group');
    const repo = findRepo(dir);
    // As a context sets it (ops/context.ts).
    repo.shared = () => 'group';
    const head = git(dir, 'rev-parse', 'HEAD');
    const umask = process.umask(0o077);
    try {
      const loose = new ObjectWriter(repo.objectsDir, repo.shared ?? null);
      const blob = loose.blob('shared loose\n');
      const w = new WindowObjectWriter(repo.objectsDir, repo.shared ?? null, new PackWindow(repo.objectsDir));
      w.blob('shared packed\n');
      w.publish();
      const ref = 'refs/handoff/chains/shared';
      let expected: string | null = null;
      for (let i = 0; i < 4; i++) {
        const next = i % 2 ? head : blob;
        expect(writeRefLocked(repo, ref, next, expected)).toBe('ok');
        expected = next;
        // As git makes them: the user's bits copied to the group.
        expect(fs.statSync(path.join(repo.commonDir, ref)).mode & 0o777).toBe(0o660);
      }
      expect(fs.statSync(path.join(repo.objectsDir, blob.slice(0, 2), blob.slice(2))).mode & 0o777).toBe(0o440);
      const packs = fs.readdirSync(path.join(repo.objectsDir, 'pack'));
      expect(packs.length).toBeGreaterThan(0);
      for (const p of packs) expect(fs.statSync(path.join(repo.objectsDir, 'pack', p)).mode & 0o777).toBe(0o440);
    } finally {
      process.umask(umask);
    }
    // A send from the CLI under umask 077: its chain ref and objects too; git reads them as another user would.
    ok(dir, ['join'], { agent: 'b' });
    const sent = spawnSync('sh', ['-c', `umask 077 && exec "${process.execPath}" "${BIN}" send b "shared send"`], {
      cwd: dir,
      env: cleanEnv({ HANDOFF_AGENT: 'a' }),
      encoding: 'utf8',
    });
    expect(sent.status, sent.stderr).toBe(0);
    const chains = path.join(repo.commonDir, 'refs', 'handoff', 'chains');
    for (const c of fs.readdirSync(chains)) expect(fs.statSync(path.join(chains, c)).mode & 0o060).toBe(0o060);
    const tip = fs.readFileSync(path.join(chains, fs.readdirSync(chains)[0]!), 'utf8').trim();
    expect(fs.statSync(path.join(repo.objectsDir, tip.slice(0, 2), tip.slice(2))).mode & 0o040).toBe(0o040);
  });

  it('a writer that exits removes its value slots and a killed one leaves them for the sweep; the ref stays', async () => {
    const dir = makeRepo();
    ok(dir, ['join'], { agent: 'sink' });
    const scratch = path.join(findRepo(dir).commonDir, 'handoff');
    const values = () => fs.readdirSync(scratch).filter((n) => n.startsWith('ref-value-'));
    const done = await writer(dir, ['a', 'sink', '12', 'slot']);
    expect(done.code).toBe(0);
    expect(done.acked.length).toBe(12);
    expect(values()).toEqual([]);
    // Killed after it has written many times: its slots stay (one of them may be the ref) until swept.
    const killed = await writer(dir, ['a', 'sink', '100000', 'kill'], 300);
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.acked.length).toBeGreaterThan(4);
    expect(values().length).toBeGreaterThan(0);
    expect(values().length).toBeLessThanOrEqual(3);
    removeDeadMarks(findRepo(dir).commonDir);
    expect(values()).toEqual([]);
    // Every acknowledged send is still on the chain, which verifies.
    const ids = new Set(stores(dir, 'sink').git);
    for (const id of [...done.acked, ...killed.acked]) expect(ids.has(id)).toBe(true);
    expect(ok(dir, ['verify', '--json']).json.ok).toBe(true);
  });

  it("a window's publish makes the pack directory again when it was removed after the first", () => {
    const dir = makeRepo();
    const repo = findRepo(dir);
    const w = new WindowObjectWriter(repo.objectsDir, null, new PackWindow(repo.objectsDir));
    const first = w.blob('first\n');
    w.publish();
    expect(git(dir, 'cat-file', '-p', first)).toBe('first');
    fs.rmSync(path.join(repo.objectsDir, 'pack'), { recursive: true });
    const second = w.blob('second\n');
    w.publish();
    expect(git(dir, 'cat-file', '-p', second)).toBe('second');
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
