import fs from 'node:fs';
/**
 * A hostile or broken chain, made by hand with git plumbing in the shared bare remote, synced into clean
 * clones. Nothing an honest clone sent may be lost, hidden or replaced.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/events';
import { cli, cleanEnv, commonDir, git, ok } from '../helpers/repo';
import { team } from '../helpers/clones';

const FORGER = '01HZZZZZZZZZZZZZZZZZZZZZZZ';

function plumb(cwd: string, args: string[], input?: string): string {
  const r = spawnSync('git', args, { cwd, env: cleanEnv(), input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A message event as handoff writes it, with `over` replacing any field. */
function messageEvent(over: Record<string, unknown> = {}): Record<string, unknown> {
  const ts = new Date().toISOString();
  const id =
    (over.id as string) ??
    `01J${Math.random()
      .toString(36)
      .slice(2, 12)
      .toUpperCase()
      .replace(/[ILOU]/g, 'X')}`
      .padEnd(26, 'Z')
      .slice(0, 26);
  return {
    v: 1,
    id,
    type: 'message',
    ts,
    clock: Date.parse(ts),
    clone: FORGER,
    author: { name: 'mallory', runtime: null, via: 'env' },
    address: 'bob',
    to: ['bob'],
    kind: 'request',
    priority: 'normal',
    thread: id,
    reply_to: null,
    body_bytes: 6,
    diff: null,
    ...over,
  };
}

/**
 * Appends hand-made events to `refs/handoff/chains/<clone>` in the bare remote; `bodies[i]` replaces the
 * i-th event's body, and a null event is a commit whose tree has no event.json.
 */
function forge(
  remote: string,
  events: (Record<string, unknown> | null)[],
  clone = FORGER,
  bodies: (string | undefined)[] = [],
): string[] {
  const ref = `refs/handoff/chains/${clone}`;
  let parent =
    spawnSync('git', ['rev-parse', '-q', '--verify', ref], { cwd: remote, encoding: 'utf8' }).stdout.trim() || null;
  const commits: string[] = [];
  for (const [i, e] of events.entries()) {
    const body = plumb(remote, ['hash-object', '-w', '--stdin'], bodies[i] ?? 'forged');
    const json = e && plumb(remote, ['hash-object', '-w', '--stdin'], canonicalJson(e));
    const tree = plumb(
      remote,
      ['mktree'],
      `100644 blob ${body}\tbody\n${json ? `100644 blob ${json}\tevent.json\n` : ''}`,
    );
    const commit = plumb(remote, [
      'commit-tree',
      ...(parent ? ['-p', parent] : []),
      '-m',
      `message mallory -> bob\n\nHandoff-Event: message\nHandoff-Id: ${String(e?.id)}`,
      tree,
    ]);
    commits.push(commit);
    parent = commit;
  }
  plumb(remote, ['update-ref', ref, parent!]);
  return commits;
}

/** alice in clone a, bob in clone b, both synced. */
function honest() {
  const t = team();
  const a = t.clone('a');
  const b = t.clone('b');
  ok(a, ['join'], { agent: 'alice' });
  ok(b, ['join'], { agent: 'bob' });
  ok(a, ['sync']);
  ok(b, ['sync']);
  ok(a, ['sync']);
  return { t, a, b };
}

const problems = (dir: string): any[] => {
  const j = cli(dir, ['verify', '--json']).json;
  return j.problems ?? j.error.details.problems;
};
const bodies = (dir: string, agent: string) =>
  ok(dir, ['inbox', '--all', '--json'], { agent })
    .json.messages.map((m: any) => m.body)
    .sort();

describe('a hostile chain on the shared remote', () => {
  it('a clock of 2^53-1: refused, and later local sends survive rebuild and reach other clones', () => {
    const { t, a, b } = honest();
    forge(t.remote, [messageEvent({ clock: Number.MAX_SAFE_INTEGER })]);
    const s = cli(a, ['sync', '--json']);
    expect(s.stderr + s.stdout).toMatch(new RegExp(FORGER));
    for (let i = 0; i < 3; i++) ok(a, ['send', 'bob', `after ${i}`], { agent: 'alice' });
    ok(a, ['rebuild']);
    expect(bodies(a, 'bob')).toEqual(['after 0', 'after 1', 'after 2']);
    ok(a, ['sync']);
    ok(b, ['sync']);
    expect(bodies(b, 'bob')).toEqual(['after 0', 'after 1', 'after 2']);
    const fresh = t.clone('fresh');
    cli(fresh, ['sync']);
    expect(bodies(fresh, 'bob')).toEqual(['after 0', 'after 1', 'after 2']);
    expect(problems(a).filter((p: any) => p.code === 'missing_from_git')).toEqual([]);
    expect(problems(a).some((p: any) => p.chain === FORGER && p.code === 'quarantined')).toBe(true);
  });

  it('a wrongly typed field: the chain is quarantined and named, every other command keeps working, --drop removes it', () => {
    const { t, a } = honest();
    const [bad] = forge(t.remote, [
      messageEvent({ diff: { base: 'a'.repeat(40), snapshot: 'b'.repeat(40), files: true, excluded: [] } }),
    ]);
    const s = cli(a, ['sync', '--json']);
    expect(s.status).toBe(0);
    expect(s.json.quarantined).toEqual([expect.objectContaining({ chain: FORGER, commit: bad })]);
    for (const args of [['inbox', '--all'], ['threads'], ['agents'], ['replay'], ['log']]) {
      const r = cli(a, [...args, '--json'], { agent: 'bob' });
      expect(r.status, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    ok(a, ['send', 'bob', 'still works'], { agent: 'alice' });
    expect(problems(a).some((p: any) => p.chain === FORGER && p.commit === bad)).toBe(true);
    ok(a, ['sync', '--drop', FORGER]);
    expect(git(a, 'for-each-ref', `refs/handoff/chains/${FORGER}`)).toBe('');
    const again = ok(a, ['sync', '--json']).json;
    expect(again.quarantined).toEqual([]);
    expect(git(a, 'for-each-ref', `refs/handoff/chains/${FORGER}`)).toBe('');
    expect(ok(a, ['verify', '--json']).json.ok).toBe(true);
  });

  it('a body that is not the size its event says holds its chain back there, in sync, rebuild and verify', () => {
    const { t, a } = honest();
    const [fine, bad] = forge(t.remote, [messageEvent(), messageEvent({ body_bytes: 1 })], FORGER, [
      'forged',
      'x'.repeat(300_000),
    ]);
    const s = cli(a, ['sync', '--json']);
    expect(s.status).toBe(0);
    expect(s.json.quarantined).toEqual([expect.objectContaining({ chain: FORGER, commit: bad })]);
    const seen = () => bodies(a, 'bob').filter((b: string) => b.startsWith('forged') || b.startsWith('xxx'));
    expect(seen()).toEqual(['forged']);
    ok(a, ['rebuild']);
    expect(seen()).toEqual(['forged']);
    expect(problems(a).some((p: any) => p.chain === FORGER && p.commit === bad)).toBe(true);
    expect(fine).not.toBe(bad);
  });

  it('a body larger than the read buffer is indexed whole, and a commit with no event holds the chain back there', () => {
    // Whole-ledger indexing reads git's output into one 1 MiB buffer, grown for a larger object.
    const { t, a } = honest();
    ok(a, ['send', 'bob', 'honest one'], { agent: 'alice' });
    ok(a, ['sync']);
    const big = `${'x'.repeat(3 * 1024 * 1024 - 1)}!`;
    const first = messageEvent({ body_bytes: big.length });
    const after = messageEvent({ body_bytes: 6 });
    const second = messageEvent();
    const [, , missing] = forge(t.remote, [first, second, null, after], FORGER, [big]);
    // A fresh clone indexes everything it fetched in one streamed pass (more than one chain: by witness order).
    const c = t.clone('c');
    const s = cli(c, ['sync', '--json']);
    expect(s.status, s.stderr).toBe(0);
    expect(s.json.quarantined).toEqual([expect.objectContaining({ chain: FORGER, commit: missing })]);
    // Read from SQLite: the body is larger than what a test's child process may print.
    const rows = () => {
      const db = new Database(path.join(commonDir(c), 'handoff', 'ledger.db'), { readonly: true });
      try {
        return db.prepare('SELECT id, sender, body FROM messages ORDER BY id').all() as {
          id: string;
          sender: string;
          body: string;
        }[];
      } finally {
        db.close();
      }
    };
    const check = () => {
      const got = rows();
      const forged = got.filter((r) => r.sender === 'mallory');
      expect(forged.map((r) => r.id).sort()).toEqual([String(first.id), String(second.id)].sort());
      expect(forged.find((r) => r.id === first.id)!.body).toBe(big);
      expect(got.filter((r) => r.sender === 'alice').map((r) => r.body)).toEqual(['honest one']);
    };
    check();
    expect(cli(c, ['show', String(after.id)]).status).not.toBe(0);
    // rebuild gives the same, and nothing of the honest clone is a problem.
    ok(c, ['rebuild']);
    check();
    expect(problems(c).filter((p: any) => p.chain !== FORGER)).toEqual([]);
  });

  it('a chain ref naming a blob, a tree or a tag is ignored with a warning, by sync and after plain git fetch; honest chains sync', () => {
    const { t, a, b } = honest();
    const blob = plumb(t.remote, ['hash-object', '-w', '--stdin'], 'not a commit');
    const tree = plumb(t.remote, ['mktree'], `100644 blob ${blob}\tevent.json\n`);
    const [x, y, z] = ['01AAAAAAAAAAAAAAAAAAAAAAAA', '01BBBBBBBBBBBBBBBBBBBBBBBB', '01CCCCCCCCCCCCCCCCCCCCCCCC'];
    plumb(t.remote, ['update-ref', `refs/handoff/chains/${x}`, blob]);
    plumb(t.remote, ['update-ref', `refs/handoff/chains/${y}`, tree]);
    // An annotated tag of a real chain commit.
    const honestTip = git(
      t.remote,
      'rev-parse',
      `refs/handoff/chains/${fs.readFileSync(path.join(a, '.git', 'handoff', 'clone-id'), 'utf8').trim()}`,
    );
    const tag = plumb(
      t.remote,
      ['mktag'],
      `object ${honestTip}\ntype commit\ntag t\ntagger M <m@x> 1700000000 +0000\n\nt\n`,
    );
    plumb(t.remote, ['update-ref', `refs/handoff/chains/${z}`, tag]);
    ok(b, ['send', 'alice', 'honest from b'], { agent: 'bob' });
    ok(b, ['sync']);
    for (const dir of [a, t.clone('fresh')]) {
      const s = cli(dir, ['sync', '--json']);
      expect(s.status, s.stdout + s.stderr).toBe(0);
      expect(s.json.fetched.map((f: any) => f.chain)).not.toContain(x);
      expect(s.json.refused.map((r: any) => r.chain).sort()).toEqual([x, y, z]);
      expect(s.stderr).toContain(`refs/handoff/chains/${x}`);
      expect(s.stderr).toContain('names no commit');
      expect(git(dir, 'for-each-ref', 'refs/handoff/chains/')).not.toMatch(new RegExp(`${x}|${y}|${z}`));
      expect(bodies(dir, 'alice')).toEqual(['honest from b']);
      expect(ok(dir, ['verify', '--json']).json.ok).toBe(true);
      // And the next sync is as clean.
      expect(cli(dir, ['sync']).status).toBe(0);
    }
    // Copies plain git fetch brought after sync --setup are not taken either.
    const c = t.clone('c');
    ok(c, ['sync', '--setup']);
    git(c, 'fetch', '-q');
    expect(bodies(c, 'alice')).toEqual(['honest from b']);
    expect(git(c, 'for-each-ref', 'refs/handoff/chains/')).not.toMatch(new RegExp(`${x}|${y}|${z}`));
  });

  it('a forged witness naming a commit nobody has does not block honest chains', () => {
    const { t, a, b } = honest();
    const bobChain =
      git(b, 'for-each-ref', '--format=%(refname:lstrip=3)', 'refs/handoff/chains/')
        .split('\n')
        .find(
          (c) => c !== git(a, 'for-each-ref', '--format=%(refname:lstrip=3)', 'refs/handoff/chains/').split('\n')[0],
        ) ?? '';
    const chains = git(b, 'for-each-ref', '--format=%(refname:lstrip=3)', 'refs/handoff/chains/').split('\n');
    const ev = messageEvent({ seen: Object.fromEntries(chains.map((c) => [c, 'f'.repeat(40)])) });
    forge(t.remote, [ev]);
    ok(b, ['send', 'alice', 'honest from b'], { agent: 'bob' });
    ok(b, ['sync']);
    const s = cli(a, ['sync', '--json']);
    expect(s.status, s.stdout + s.stderr).toBe(0);
    expect(bodies(a, 'alice')).toEqual(['honest from b']);
    // A fresh clone takes everything honest too, and names the suspect chain.
    const fresh = t.clone('fresh');
    const f = cli(fresh, ['sync', '--json']);
    expect(f.status, f.stdout + f.stderr).toBe(0);
    expect(bodies(fresh, 'alice')).toEqual(['honest from b']);
    expect(JSON.stringify(f.json.suspect ?? [])).toContain(FORGER);
    expect(bobChain.length).toBeGreaterThan(0);
  });

  it('a forged event of an honest chain, held under another ref and witnessed by a forged chain, does not block it', () => {
    const { t, a, b } = honest();
    const aliceChain = fs.readFileSync(path.join(a, '.git', 'handoff', 'clone-id'), 'utf8').trim();
    const aliceTip = git(t.remote, 'rev-parse', `refs/handoff/chains/${aliceChain}`);
    // A commit that looks like alice's next event, pushed under another name; a chain that says it saw it.
    const fake = messageEvent({ clone: aliceChain, author: { name: 'alice', runtime: null, via: 'env' } });
    const blob = (text: string) => plumb(t.remote, ['hash-object', '-w', '--stdin'], text);
    const tree = plumb(
      t.remote,
      ['mktree'],
      `100644 blob ${blob('forged')}\tbody\n100644 blob ${blob(canonicalJson(fake))}\tevent.json\n`,
    );
    const f1 = plumb(t.remote, ['commit-tree', '-p', aliceTip, '-m', 'message alice -> bob', tree]);
    plumb(t.remote, ['update-ref', 'refs/handoff/chains/01HMMMMMMMMMMMMMMMMMMMMMMM', f1]);
    // 29 more such commits, each on its own ref and each witnessed: the check costs the same few git calls.
    const more = Array.from({ length: 29 }, (_, i) => {
      const c = plumb(t.remote, ['commit-tree', '-p', aliceTip, '-m', `message alice -> bob ${i}`, tree]);
      plumb(t.remote, ['update-ref', `refs/handoff/chains/01HN${String(i).padStart(22, '0')}`, c]);
      return c;
    });
    forge(
      t.remote,
      [f1, ...more].map((c) => messageEvent({ seen: { [aliceChain]: c } })),
    );
    ok(a, ['send', 'bob', 'honest from a'], { agent: 'alice' });
    ok(a, ['sync']);
    for (const dir of [b, t.clone('fresh')]) {
      const trace = path.join(path.dirname(dir), `trace-held-${path.basename(dir)}.txt`);
      const s = cli(dir, ['sync', '--json'], { env: { GIT_TRACE: trace } });
      expect(s.status, s.stdout + s.stderr).toBe(0);
      const calls = fs.readFileSync(trace, 'utf8').split('\n');
      expect(calls.filter((l) => /trace: (built-in|exec): git for-each-ref --contains/.test(l))).toHaveLength(1);
      expect(bodies(dir, 'bob')).toContain('honest from a');
      expect(s.json.suspect).toContainEqual({ chain: FORGER, witnessed: aliceChain, commit: f1 });
      // verify names the witness suspect, not alice's chain rewritten.
      const found = problems(dir);
      expect(found.filter((p) => p.code === 'rewritten')).toEqual([]);
      expect(found).toContainEqual(expect.objectContaining({ code: 'suspect_witness', chain: FORGER, commit: f1 }));
    }
  });

  it('many forged witnesses of an honest chain: one check for all of them, and a summary instead of a line each', () => {
    const { t, a, b } = honest();
    const bobChain = fs.readFileSync(path.join(b, '.git', 'handoff', 'clone-id'), 'utf8').trim();
    // 40 events of the forger, each witnessing a commit of bob's chain that nobody has.
    forge(
      t.remote,
      Array.from({ length: 40 }, (_, i) => messageEvent({ seen: { [bobChain]: i.toString(16).padStart(40, 'e') } })),
    );
    ok(b, ['send', 'alice', 'honest from b'], { agent: 'bob' });
    ok(b, ['sync']);
    const trace = path.join(path.dirname(a), 'trace-witness.txt');
    const s = cli(a, ['sync', '--json'], { env: { GIT_TRACE: trace } });
    expect(s.status, s.stdout + s.stderr).toBe(0);
    expect(bodies(a, 'alice')).toEqual(['honest from b']);
    expect(s.json.suspect, JSON.stringify(s.json).slice(0, 1500)).toHaveLength(40);
    const lines = s.stderr.split('\n').filter((l) => /witness/.test(l));
    expect(lines).toHaveLength(6);
    expect(lines[5]).toContain('... and 35 more witnesses of commits nobody has');
    const catFiles = fs
      .readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => /trace: (built-in|exec): git cat-file/.test(l));
    expect(catFiles.length).toBeLessThan(10);
    // verify names each, and looks them up at once too.
    const vtrace = path.join(path.dirname(a), 'trace-verify.txt');
    const v = cli(a, ['verify', '--json'], { env: { GIT_TRACE: vtrace } });
    const found = (v.json.problems ?? v.json.error.details.problems) as any[];
    expect(found.filter((p) => p.code === 'suspect_witness')).toHaveLength(40);
    const gits = fs
      .readFileSync(vtrace, 'utf8')
      .split('\n')
      .filter((l) => /trace: built-in: git /.test(l));
    expect(gits.length).toBeLessThan(25);
  });

  it('a forged event reusing a real message id changes nothing that was shown, also after rebuild and in a fresh clone', () => {
    const { t, a, b } = honest();
    const real = ok(a, ['send', 'bob', 'the real body', '--json'], { agent: 'alice' }).json.message;
    ok(a, ['sync']);
    ok(b, ['sync']);
    // bob answers: his chain now witnesses alice's, as honest chains do all the time.
    ok(b, ['reply', real.id, 'got it'], { agent: 'bob' });
    ok(b, ['sync']);
    const forged = messageEvent({
      id: real.id,
      thread: real.id,
      ts: new Date(Date.parse(real.ts) - 60_000).toISOString(),
      clock: Date.parse(real.ts) - 60_000,
    });
    forge(t.remote, [forged]);
    const s = cli(b, ['sync', '--json']);
    expect(JSON.stringify(s.json)).toMatch(/duplicate/i);
    const shown = () => ok(b, ['show', real.id, '--json']).json.message.body;
    expect(shown()).toBe('the real body');
    ok(b, ['rebuild']);
    expect(shown()).toBe('the real body');
    const fresh = t.clone('fresh');
    ok(fresh, ['sync']);
    expect(ok(fresh, ['show', real.id, '--json']).json.message.body).toBe('the real body');
    expect(problems(b).some((p: any) => p.code === 'duplicate_id' && p.chain === FORGER)).toBe(true);
  });

  it('a forged join, leave or status naming another agent changes nothing about that agent', () => {
    const { t, a, b } = honest();
    ok(a, ['status', '-m', 'on the parser'], { agent: 'alice' });
    ok(a, ['sync']);
    const base = messageEvent();
    const agentEvent = (action: string, extra: Record<string, unknown> = {}) => ({
      v: 1,
      id: messageEvent().id,
      type: 'agent',
      ts: base.ts,
      clock: base.clock,
      clone: FORGER,
      author: { name: 'mallory', runtime: null, via: 'env' },
      action,
      name: 'alice',
      team: null,
      role: null,
      runtime: null,
      ...extra,
    });
    forge(t.remote, [agentEvent('leave'), agentEvent('status', { note: 'forged note' })]);
    for (const dir of [b, a]) {
      ok(dir, ['sync']);
      const alice = ok(dir, ['agents', '--json']).json.agents.find((x: any) => x.name === 'alice');
      expect([dir, alice.status, alice.note]).toEqual([dir, 'active', 'on the parser']);
    }
    expect(ok(b, ['send', 'all', 'standup', '--json'], { agent: 'bob' }).json.message.to).toContain('alice');
    ok(b, ['rebuild']);
    expect(ok(b, ['agents', '--json']).json.agents.find((x: any) => x.name === 'alice').status).toBe('active');
  });

  it('a forged attribution of a commit the hooks recorded changes no blame, in any clone or rebuild, and verify names it', () => {
    const { t, a } = honest();
    ok(a, ['hooks', 'install']);
    fs.writeFileSync(path.join(a, 'f.txt'), 'x\n');
    git(a, 'add', 'f.txt');
    const made = spawnSync('git', ['commit', '-qm', 'work'], { cwd: a, env: cleanEnv({ HANDOFF_AGENT: 'alice' }) });
    expect(made.status).toBe(0);
    const commit = git(a, 'rev-parse', 'HEAD');
    git(a, 'push', '-q', 'origin', 'HEAD:main');
    ok(a, ['sync']);
    const later = new Date(Date.now() + 1000).toISOString();
    // Written by a chain whose id sorts first (indexed first), a little later than the hook's record.
    const forgerFirst = '00000000000000000000000000';
    forge(
      t.remote,
      [
        {
          ...messageEvent({ ts: later, clock: Date.parse(later) }),
          clone: forgerFirst,
          type: 'attribution',
          commit,
          tree: git(a, 'rev-parse', 'HEAD^{tree}'),
          parents: [git(a, 'rev-parse', 'HEAD~')],
          patch_id: null,
          agent: 'mallory',
          human: false,
          messages: [],
          files: { 'f.txt': [[1, 1]] },
          address: undefined,
          to: undefined,
          kind: undefined,
          priority: undefined,
          thread: undefined,
          reply_to: undefined,
          body_bytes: undefined,
          diff: undefined,
        },
      ],
      forgerFirst,
    );
    const blamed = (dir: string) => ok(dir, ['blame', 'f.txt', '--json']).json.lines[0].agent.name;
    ok(a, ['sync']);
    expect(blamed(a)).toBe('alice');
    ok(a, ['rebuild']);
    expect(blamed(a)).toBe('alice');
    const fresh = t.clone('fresh2');
    ok(fresh, ['sync']);
    expect(blamed(fresh)).toBe('alice');
    expect(problems(a).filter((p: any) => p.code === 'conflicting_attribution')).toEqual([
      expect.objectContaining({ commit, chain: forgerFirst }),
    ]);
  });

  it('terminal escapes in any synced string are printed inert', () => {
    const { t, a } = honest();
    const esc = '\u001b]0;pwned\u0007\u001b[2J';
    forge(t.remote, [
      {
        v: 1,
        id: '01J0000000000000000000AGNT',
        type: 'agent',
        ts: new Date().toISOString(),
        clock: Date.now(),
        clone: FORGER,
        author: { name: 'mallory', runtime: esc, via: 'env' },
        action: 'join',
        name: 'mallory',
        team: null,
        role: null,
        runtime: esc,
      },
    ]);
    ok(a, ['sync']);
    for (const args of [['agents'], ['threads'], ['replay', '--no-pager'], ['log']]) {
      const out = cli(a, args).stdout;
      expect(out, args.join(' ')).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    }
  });
});

describe('a forged attached diff', () => {
  it('names paths outside the tree: review judges the rest, and those files are simply not there', () => {
    const { t, b } = honest();
    const base = git(b, 'rev-parse', 'HEAD');
    fs.writeFileSync(path.join(b, 'README.md'), '# team\nmore\n');
    git(b, 'commit', '-qam', 'more');
    const names = ['../../../../etc/passwd', './README.md', 'README.md'];
    const patch = names
      .map((n) => `diff --git a/${n} b/${n}\n--- a/${n}\n+++ b/${n}\n@@ -1 +1,2 @@\n # team\n+more\n`)
      .join('');
    const blob = (text: string) => plumb(t.remote, ['hash-object', '-w', '--stdin'], text);
    const snapshot = plumb(t.remote, ['mktree'], `100644 blob ${blob('# team\nmore\n')}\tREADME.md\n`);
    const event = messageEvent({ diff: { base, snapshot, files: 3, excluded: [] } });
    const tree = plumb(
      t.remote,
      ['mktree'],
      [
        `100644 blob ${blob('forged')}\tbody`,
        `100644 blob ${blob(canonicalJson(event))}\tevent.json`,
        `100644 blob ${blob(patch)}\tpatch`,
        `040000 tree ${snapshot}\tsnapshot`,
        '',
      ].join('\n'),
    );
    const commit = plumb(t.remote, ['commit-tree', '-m', `message mallory -> bob\n\nHandoff-Id: ${event.id}`, tree]);
    plumb(t.remote, ['update-ref', `refs/handoff/chains/${FORGER}`, commit]);
    ok(b, ['sync']);
    // From the top and from a subdirectory (where `./README.md` would be read relative to it).
    fs.mkdirSync(path.join(b, 'sub'));
    for (const dir of [b, path.join(b, 'sub')]) {
      const r = cli(dir, ['review', String(event.id), '--range', `${base}..HEAD`, '--json'], { agent: 'bob' });
      expect([r.status, r.stderr]).toEqual([0, '']);
      expect(r.json.hunks.map((h: any) => [h.file, h.status])).toEqual([
        ['../../../../etc/passwd', 'not_landed'],
        ['./README.md', 'not_landed'],
        ['README.md', 'landed'],
      ]);
    }
  });

  it('names a snapshot and base that do not exist: checkout refuses and writes nothing, git fsck stays clean', () => {
    const { t, b } = honest();
    const event = messageEvent({ diff: { base: 'a'.repeat(40), snapshot: 'b'.repeat(40), files: 1, excluded: [] } });
    forge(t.remote, [event]);
    ok(b, ['sync']);
    const objects = () => git(b, 'count-objects', '-v');
    const before = objects();
    const dir = path.join(path.dirname(b), 'co');
    const r = cli(b, ['checkout', String(event.id), dir, '--json'], { agent: 'bob' });
    expect([r.status, r.json.error.code]).toEqual([3, 'snapshot_missing']);
    expect(fs.existsSync(dir)).toBe(false);
    expect(objects()).toBe(before);
    expect(spawnSync('git', ['fsck', '--no-progress', '--no-dangling'], { cwd: b }).status).toBe(0);
  });
});
