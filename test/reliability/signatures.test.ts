/**
 * Signed chains, with real SSH keys made by ssh-keygen: a signed ledger verifies (and plain git agrees);
 * a chain re-signed with another key, an altered signed commit, and unsigned events under
 * handoff.requireSigned are each refused by verify and sync with exit 6.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cleanEnv, cli, git, ok, tmpDir } from '../helpers/repo';
import { team } from '../helpers/clones';

const KEYS = tmpDir('handoff-keys-');
function key(name: string): string {
  const file = path.join(KEYS, name);
  if (!fs.existsSync(file)) {
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
    if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  }
  return file;
}
const ALLOWED = path.join(KEYS, 'allowed_signers');

/** Sets a clone up as git documents SSH signing: gpg.format ssh, user.signingKey, the allowed signers file. */
function signWith(repo: string, name: string | null): void {
  git(repo, 'config', 'gpg.format', 'ssh');
  git(repo, 'config', 'gpg.ssh.allowedSignersFile', ALLOWED);
  if (name) {
    git(repo, 'config', 'user.signingKey', key(name));
    git(repo, 'config', 'handoff.sign', 'true');
  }
}

function chainRef(repo: string): string {
  return git(repo, 'for-each-ref', '--format=%(refname)', 'refs/handoff/chains/').split('\n')[0]!;
}

describe('signed chains', () => {
  // alice and bob are allowed signers; mallory's key is not.
  fs.writeFileSync(
    ALLOWED,
    ['alice', 'bob']
      .map((n) => `${n}@example.com namespaces="git" ${fs.readFileSync(`${key(n)}.pub`, 'utf8').trim()}`)
      .join('\n') + '\n',
  );
  key('mallory');

  it('a signed ledger verifies, by whom, as plain git log --show-signature says; sync takes it under requireSigned', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    signWith(a, 'alice');
    signWith(b, 'bob');
    ok(a, ['sync', '--setup']);
    ok(b, ['sync', '--setup']);
    ok(a, ['send', 'codex', 'please review', '--create'], { agent: 'lead' });
    ok(a, ['sync']);
    git(b, 'config', 'handoff.requireSigned', 'true');
    ok(b, ['sync']);
    ok(b, ['reply', ok(b, ['inbox', '--json'], { agent: 'codex' }).json.messages[0].id, 'done'], { agent: 'codex' });
    ok(b, ['sync']);
    ok(a, ['sync']);
    const v = ok(a, ['verify', '--require-signed', '--json']).json;
    expect(v.ok).toBe(true);
    const bySigner = Object.fromEntries(v.signatures.map((s: any) => [s.signers.join(','), s]));
    expect(Object.keys(bySigner).sort()).toEqual(['alice@example.com', 'bob@example.com']);
    for (const s of v.signatures) expect([s.bad, s.unsigned, s.unknownKey, s.unverifiable]).toEqual([0, 0, 0, 0]);
    // Plain git agrees, commit by commit.
    for (const ref of git(a, 'for-each-ref', '--format=%(refname)', 'refs/handoff/chains/').split('\n')) {
      const statuses = git(a, 'log', '--format=%G?', ref).split('\n');
      expect(new Set(statuses)).toEqual(new Set(['G']));
      expect(statuses.length).toBe(v.signatures.find((s: any) => ref.endsWith(s.chain)).good);
      expect(git(a, 'log', '-1', '--show-signature', ref)).toMatch(/Good "git" signature for (alice|bob)@example.com/);
    }
    expect(ok(a, ['verify']).stdout).toMatch(/signed by alice@example\.com/);

    // show, agents and replay say who signed; an unsigned event is marked.
    const first = ok(a, [
      'thread',
      ok(b, ['inbox', '--json', '--all'], { agent: 'lead' }).json.messages[0].id,
      '--json',
    ]).json.messages[0];
    expect(ok(a, ['show', first.shortId, '--json']).json.signature).toMatchObject({
      status: 'good',
      signer: 'alice@example.com',
    });
    expect(ok(a, ['show', first.shortId]).stdout).toMatch(/^Signed: +alice@example\.com \(SHA256:/m);
    const agents = ok(a, ['agents', '--json']).json.agents;
    expect(agents.find((x: any) => x.name === 'codex').signature.signer).toBe('bob@example.com');
    git(a, 'config', 'handoff.sign', 'false');
    ok(a, ['send', 'codex', 'not signed', '--create'], { agent: 'lead' });
    const items = ok(a, ['replay', '--json']).json.items.filter((i: any) => i.type === 'message');
    expect(items.map((i: any) => i.signature)).toEqual(['good', 'good', 'unsigned']);
    expect(ok(a, ['replay', '--no-pager']).stdout).toMatch(/lead → codex request \w+ \[unsigned\]\n {4}not signed/);
    expect(ok(a, ['agents', '--json']).json.agents.find((x: any) => x.name === 'lead').signature.status).toBe(
      'unsigned',
    );
    const failed = cli(a, ['verify', '--require-signed']);
    expect(failed.status).toBe(6);
    // A failing verify still says, per chain, who signed what.
    expect(failed.stderr).toMatch(/^chain \S+: \d+ signed by alice@example\.com, 1 unsigned \(/m);
    expect(failed.stderr).toMatch(/^chain \S+: \d+ signed by bob@example\.com \(/m);
    // Commits recorded by the hooks are events too: signed while signing is on, marked when not.
    ok(a, ['hooks', 'install']);
    const commitAs = (msg: string) => {
      fs.appendFileSync(path.join(a, 'README.md'), `${msg}\n`);
      const r = spawnSync('git', ['commit', '-qam', msg], {
        cwd: a,
        env: cleanEnv({ HANDOFF_AGENT: 'lead' }),
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
    };
    commitAs('unsigned change');
    git(a, 'config', 'handoff.sign', 'true');
    commitAs('signed change');
    const commitItems = ok(a, ['replay', '--json']).json.items.filter((i: any) => i.type === 'commit');
    expect(commitItems.map((i: any) => [i.subject, i.signature])).toEqual([
      ['unsigned change', 'unsigned'],
      ['signed change', 'good'],
    ]);
    expect(ok(a, ['replay', '--no-pager']).stdout).toMatch(/by lead: unsigned change \[unsigned\]/);
    // The HTML replay marks the unsigned message and the unsigned commit, and nothing else.
    const html = path.join(a, '..', 'replay.html');
    ok(a, ['replay', '--html', html]);
    const page = fs.readFileSync(html, 'utf8');
    expect(page.match(/<span class="unsigned sig-unsigned">unsigned<\/span>/g)).toHaveLength(2);
  });

  it('init --sign turns signing on for this clone and says when git has no signing key', () => {
    const t = team();
    const a = t.clone('a');
    const bare = ok(a, ['init', '--agent', 'codex', '--sign', '--json']).json;
    expect(bare.signing).toEqual({ key: null });
    expect(bare.manualSteps.join('\n')).toMatch(/no user.signingKey/);
    expect(git(a, 'config', 'handoff.sign')).toBe('true');
    signWith(a, 'alice');
    expect(ok(a, ['init', '--agent', 'codex', '--sign', '--json']).json.signing).toEqual({ key: key('alice') });
    ok(a, ['send', 'codex', 'signed by init', '--create'], { agent: 'lead' });
    expect(git(a, 'log', '-1', '--format=%G? %GS', chainRef(a))).toBe('G alice@example.com');
    // Undo turns it off again: handoff.sign is gone, and the next send is unsigned.
    ok(a, ['init', '--undo']);
    expect(cli(a, ['send', 'codex', 'after undo'], { agent: 'lead' }).status).toBe(0);
    expect(spawnSync('git', ['config', '--get-all', 'handoff.sign'], { cwd: a, env: cleanEnv() }).status).toBe(1);
    expect(git(a, 'log', '-1', '--format=%G?', chainRef(a))).toBe('N');
    // What init replaced comes back: an explicit "false" before init is "false" after undo.
    git(a, 'config', 'handoff.sign', 'false');
    ok(a, ['init', '--agent', 'codex', '--sign']);
    expect(git(a, 'config', 'handoff.sign')).toBe('true');
    ok(a, ['init', '--undo']);
    expect(git(a, 'config', '--get-all', 'handoff.sign')).toBe('false');
    // Changed after init: undo leaves it and says so.
    ok(a, ['init', '--agent', 'codex', '--sign']);
    git(a, 'config', '--add', 'handoff.sign', 'yes');
    const undone = ok(a, ['init', '--undo', '--json']).json;
    expect(undone.manualSteps.join('\n')).toMatch(/handoff.sign was changed after init --sign/);
    expect(git(a, 'config', '--get-all', 'handoff.sign')).toBe('true\nyes');
  });

  it("init --sign alone sets up no agent: a clone set up for Claude Code only gets no other agent's files", () => {
    const t = team();
    const a = t.clone('a');
    ok(a, ['init', '--agent', 'claude']);
    const before = git(a, 'status', '--porcelain', '--untracked-files=all');
    signWith(a, 'alice');
    git(a, 'config', '--unset', 'handoff.sign');
    const r = ok(a, ['init', '--sign', '--json']).json;
    expect(r.agents).toEqual([]);
    expect(r.changes).toEqual([]);
    expect(git(a, 'config', 'handoff.sign')).toBe('true');
    expect(git(a, 'status', '--porcelain', '--untracked-files=all')).toBe(before);
    for (const f of ['.codex', '.gemini', '.cursor', 'opencode.json', '.vscode'])
      expect(fs.existsSync(path.join(a, f))).toBe(false);
    // Undo takes back both: signing and Claude Code's set-up.
    ok(a, ['init', '--undo']);
    expect(spawnSync('git', ['config', '--get-all', 'handoff.sign'], { cwd: a, env: cleanEnv() }).status).toBe(1);
    expect(git(a, 'status', '--porcelain', '--untracked-files=all')).toBe('');
  });

  it('with handoff.sign on and no usable key, send fails with sign_failed and writes nothing', () => {
    const t = team();
    const a = t.clone('a');
    git(a, 'config', 'gpg.format', 'ssh');
    git(a, 'config', 'user.signingKey', path.join(KEYS, 'no-such-key'));
    git(a, 'config', 'handoff.sign', 'true');
    const r = cli(a, ['send', 'codex', 'hello', '--create', '--json'], { agent: 'lead' });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe('sign_failed');
    expect(git(a, 'for-each-ref', 'refs/handoff/chains/')).toBe('');
  });

  it('a chain re-signed with another key, an altered signed commit, and unsigned events are refused (exit 6)', () => {
    const t = team();
    const a = t.clone('a');
    signWith(a, 'alice');
    ok(a, ['sync', '--setup']);
    ok(a, ['send', 'codex', 'first', '--create'], { agent: 'lead' });
    ok(a, ['send', 'codex', 'second'], { agent: 'lead' });
    ok(a, ['sync']);
    const ref = chainRef(a);
    const tip = git(a, 'rev-parse', ref);

    // 1. Re-signed by mallory: the same tree, parents, author and message, signed with a key nobody allowed.
    const m = t.clone('m');
    git(m, 'fetch', '-q', 'origin', `${ref}:${ref}`);
    const c = git(m, 'cat-file', 'commit', tip);
    const parents = [...c.matchAll(/^parent (\w+)$/gm)].map((x) => ['-p', x[1]!]).flat();
    const dateOf = (who: string) => new RegExp(`^${who} .* (\\d+ [+-]\\d{4})$`, 'm').exec(c)![1]!;
    const resigned = spawnSync(
      'git',
      [
        '-c',
        'gpg.format=ssh',
        '-c',
        `user.signingKey=${key('mallory')}`,
        'commit-tree',
        '-S',
        git(m, 'rev-parse', `${tip}^{tree}`),
        ...parents,
      ],
      {
        cwd: m,
        input: c.slice(c.indexOf('\n\n') + 2) + '\n',
        encoding: 'utf8',
        env: cleanEnv({
          GIT_AUTHOR_NAME: 'lead',
          GIT_AUTHOR_EMAIL: 'lead@handoff.invalid',
          GIT_AUTHOR_DATE: `@${dateOf('author')}`,
          GIT_COMMITTER_NAME: 'lead',
          GIT_COMMITTER_EMAIL: 'lead@handoff.invalid',
          GIT_COMMITTER_DATE: `@${dateOf('committer')}`,
        }),
      },
    );
    expect(resigned.status, resigned.stderr).toBe(0);
    const forged = resigned.stdout.trim();
    git(m, 'update-ref', ref, forged);
    git(m, 'push', '-q', '-f', 'origin', `${ref}:${ref}`);

    // A fresh clone that requires signatures refuses it, naming the chain and the commit.
    const fresh = t.clone('fresh');
    signWith(fresh, null);
    git(fresh, 'config', 'handoff.requireSigned', 'true');
    const r = cli(fresh, ['sync', '--json']);
    expect(r.status).toBe(6);
    const err = JSON.parse(r.stdout).error;
    expect(err.code).toBe('bad_signature');
    expect(err.details.refused[0]).toMatchObject({ chain: ref.split('/').pop(), signature: true });
    expect(err.message).toContain('not among the allowed signers');
    expect(git(fresh, 'for-each-ref', 'refs/handoff/chains/')).toBe('');
    // verify --require-signed fails on it where plain git fetch brought it in; plain verify reports it.
    const f2 = t.clone('f2');
    signWith(f2, null);
    git(f2, 'fetch', '-q', 'origin', `+${ref}:${ref}`);
    const v = cli(f2, ['verify', '--require-signed', '--json']);
    expect(v.status).toBe(6);
    expect(JSON.parse(v.stdout).error.details.problems.map((p: any) => p.code)).toEqual(['not_signed']);
    const plain = ok(f2, ['verify', '--json']).json;
    expect(plain.signatures[0]).toMatchObject({ good: 1, unknownKey: 1 });
    // Without an allowed signers file, signatures are still checked: intact ones count as unknown keys.
    const bare = t.clone('bare');
    git(bare, 'fetch', '-q', 'origin', `+${ref}:${ref}`);
    expect(ok(bare, ['verify', '--json']).json.signatures[0]).toMatchObject({ good: 0, unknownKey: 2, unsigned: 0 });
    const strict = cli(bare, ['verify', '--require-signed', '--json']);
    expect(JSON.parse(strict.stdout).error.details.problems[0].message).toMatch(
      /gpg.ssh.allowedSignersFile is not set/,
    );

    // 2. An altered signed commit (the signature kept, the message changed): bad, refused even without requireSigned.
    const altered = c.replace(/^(message lead -> codex: )second/m, '$1third');
    expect(altered).not.toBe(c);
    const bad = spawnSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], {
      cwd: m,
      input: altered,
      encoding: 'utf8',
    }).stdout.trim();
    git(m, 'update-ref', ref, bad);
    git(m, 'push', '-q', '-f', 'origin', `${ref}:${ref}`);
    const f3 = t.clone('f3');
    signWith(f3, null);
    const r3 = cli(f3, ['sync', '--json']);
    expect(r3.status).toBe(6);
    expect(JSON.parse(r3.stdout).error.details.refused[0]).toMatchObject({ commit: bad, signature: true });
    git(f3, 'fetch', '-q', 'origin', `+${ref}:${ref}`);
    const v3 = cli(f3, ['verify', '--json']);
    expect(v3.status).toBe(6);
    expect(JSON.parse(v3.stdout).error.details.problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'bad_signature', commit: bad })]),
    );

    // ... also in a clone with no allowed signers file at all (where git itself calls a signed commit unsigned).
    const none = t.clone('none');
    const r5 = cli(none, ['sync', '--json']);
    expect(r5.status).toBe(6);
    expect(JSON.parse(r5.stdout).error.details.refused[0]).toMatchObject({ commit: bad, signature: true });

    // 3. An unsigned chain (a clone that does not sign, its agent calling itself lead) under requireSigned.
    const u = t.clone('u');
    ok(u, ['send', 'codex', 'trust me', '--create'], { agent: 'lead' });
    // Its sync refuses the altered chain (exit 6) and still pushes its own.
    expect(cli(u, ['sync']).status).toBe(6);
    const r4 = cli(fresh, ['sync', '--json']);
    expect(r4.status).toBe(6);
    const refused = JSON.parse(r4.stdout).error.details.refused;
    expect(refused.map((x: any) => x.reason).join('\n')).toMatch(/unsigned and handoff.requireSigned is set/);
    // Without requireSigned the unsigned chain is taken, and verify --require-signed names it.
    const open = t.clone('open');
    signWith(open, null);
    expect(cli(open, ['sync']).status).toBe(6); // the altered chain is still refused
    const v4 = cli(open, ['verify', '--require-signed', '--json']);
    expect(v4.status).toBe(6);
    expect(JSON.parse(v4.stdout).error.details.problems.map((p: any) => p.code)).toContain('not_signed');
  });
});
