/**
 * A database an earlier handoff wrote, opened by this one: what it left must not hide anything from this
 * one. (Made here by putting a current database back into the state the earlier handoff left.)
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { commonDir, git, makeRepo, ok } from '../helpers/repo';
import { team } from '../helpers/clones';

const dbOf = (repo: string) => new Database(path.join(commonDir(repo), 'handoff', 'ledger.db'));

describe('a database of an earlier schema', () => {
  it('brought from schema 4 to 6 in one step recorded an empty search index as whole: the messages are found', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const old = ok(repo, ['send', 'codex', 'fix the tokenizer', '--json'], { agent: 'claude' }).json.message.id;
    // What schema 4 -> 5 -> 6 left: an index made empty by 5, every event counted as indexed by 6.
    const db = dbOf(repo);
    db.prepare('DELETE FROM search').run();
    db.prepare("INSERT OR REPLACE INTO settings (key, value) SELECT 'search_indexed_seq', MAX(seq) FROM events").run();
    db.pragma('user_version = 6');
    db.close();
    const later = ok(repo, ['send', 'codex', 'the tokenizer again', '--json'], { agent: 'claude' }).json.message.id;
    const hits = ok(repo, ['search', 'tokenizer', '--json']).json.hits.map((h: { id: string }) => h.id);
    expect(hits.sort()).toEqual([old, later].sort());
    // Each once.
    const check = dbOf(repo);
    expect(check.prepare('SELECT count(*) AS n FROM search').get()).toEqual({ n: 2 });
    expect(check.pragma('user_version', { simple: true })).toBe(7);
    check.close();
  });

  it("a chain an earlier handoff held back at an event it did not know is judged again: the teammate's messages appear", () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    ok(a, ['join'], { agent: 'claude' });
    ok(a, ['sync']);
    ok(b, ['sync']);
    const first = ok(b, ['send', 'claude', 'before the claim', '--json'], { agent: 'codex' }).json.message.id;
    ok(b, ['sync']);
    ok(a, ['sync']);
    ok(b, ['claim', first], { agent: 'codex' });
    const after = ok(b, ['send', 'claude', 'after the claim', '--json'], { agent: 'codex' }).json.message.id;
    ok(b, ['sync']);
    // The chain arrives by plain git fetch; the earlier handoff held it back at the claim, which it did not know.
    git(a, 'fetch', '-q', 'origin', '+refs/handoff/chains/*:refs/handoff/chains/*');
    const chain = fs.readFileSync(path.join(commonDir(b), 'handoff', 'clone-id'), 'utf8').trim();
    const tip = git(a, 'rev-parse', `refs/handoff/chains/${chain}`);
    const claimCommit = git(a, 'rev-parse', `${tip}~1`);
    const db = dbOf(a);
    db.prepare('INSERT INTO quarantine (chain, commit_id, reason, tip, retry_after) VALUES (?, ?, ?, ?, NULL)').run(
      chain,
      claimCommit,
      'unknown type "claim"',
      tip,
    );
    db.pragma('user_version = 6');
    db.close();
    const inbox = ok(a, ['inbox', '--json'], { agent: 'claude' }).json.messages.map((m: { id: string }) => m.id);
    expect(inbox).toEqual([first, after]);
    expect(ok(a, ['verify', '--json']).json.ok).toBe(true);
  });
});
