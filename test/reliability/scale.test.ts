/**
 * The ledger at scale keeps the user's repository healthy: loose objects stay bounded (handoff packs its
 * own), nothing is lost by packing or by git gc, and lists come a page at a time.
 */
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cleanEnv, git, makeRepo, ok } from '../helpers/repo';

function countObjects(repo: string): Record<string, number> {
  return Object.fromEntries(
    git(repo, 'count-objects', '-v')
      .split('\n')
      .map((l) => l.split(': '))
      .map(([k, v]) => [k!, Number(v)]),
  );
}

describe('scale', () => {
  it('1,500 events leave few loose objects and a logarithmic number of packs; gc --prune=now loses nothing', () => {
    const repo = makeRepo();
    const script = `
      const lib = require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'lib.js'))});
      const ctx = lib.openContext({ env: { ...process.env, HANDOFF_AGENT: 'lead' } });
      (async () => {
        for (let i = 0; i < 1500; i++) await lib.send(ctx, { to: 'codex', body: 'message ' + i, create: true });
        lib.closeContext(ctx);
      })();`;
    const res = spawnSync(process.execPath, ['-e', script], { cwd: repo, env: cleanEnv(), encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    const counts = countObjects(repo);
    // Without packing: about 4 loose objects per event, 6,000 here. git's auto gc starts near 6,700.
    expect(counts.count).toBeLessThan(2000);
    expect(counts.packs).toBeGreaterThanOrEqual(1);
    expect(counts.packs).toBeLessThanOrEqual(12);
    expect(spawnSync('git', ['fsck', '--no-progress'], { cwd: repo, env: cleanEnv() }).status).toBe(0);
    const inboxAll = () => ok(repo, ['inbox', '--limit', '0', '--json'], { agent: 'codex' }).json.messages.length;
    expect(inboxAll()).toBe(1500);
    git(repo, 'gc', '-q', '--prune=now');
    const v = ok(repo, ['verify', '--json']).json;
    expect([v.ok, v.events >= 1500]).toEqual([true, true]);
    ok(repo, ['rebuild']);
    expect(inboxAll()).toBe(1500);
  });

  it('inbox lists 50 at a time and says how many more there are', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    for (let i = 0; i < 55; i++) ok(repo, ['send', 'codex', `m${i}`], { agent: 'lead' });
    const page = ok(repo, ['inbox', '--json'], { agent: 'codex' }).json;
    expect([page.messages.length, page.more, page.unread]).toEqual([50, 5, 55]);
    expect(page.messages[0].body).toBe('m0');
    expect(ok(repo, ['inbox'], { agent: 'codex' }).stdout).toContain(
      '... and 5 more (handoff inbox --limit 0 lists them all).',
    );
    const few = ok(repo, ['inbox', '-n', '3', '--json'], { agent: 'codex' }).json;
    expect([few.messages.map((m: { body: string }) => m.body), few.more]).toEqual([['m0', 'm1', 'm2'], 52]);
    expect(ok(repo, ['inbox', '--limit', '0', '--json'], { agent: 'codex' }).json).toMatchObject({ more: 0 });
    expect(ok(repo, ['inbox', '--limit', '0', '--json'], { agent: 'codex' }).json.messages).toHaveLength(55);
  });
});
