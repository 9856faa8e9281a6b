/**
 * Secrets never enter the ledger: a body or an attached diff holding one is refused with nothing written,
 * stored with markers under --redact, and as it is (recorded) under --allow-secret.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { chainEvents, cli, commonDir, git, makeRepo, ok } from '../helpers/repo';

// Made up here, in the shapes the providers use (secretlint ignores the documented EXAMPLE keys).
const AWS_SECRET = `aws_secret_access_key = ${crypto.randomBytes(30).toString('base64')}`;
const GITHUB = `ghp_${'wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx'}`;

/** Everything a send could change: every ref, and the ledger's events and messages. */
function state(repo: string): string {
  const refs = git(repo, 'for-each-ref', '--format=%(refname) %(objectname)');
  const db = new Database(path.join(commonDir(repo), 'handoff', 'ledger.db'), { readonly: true });
  try {
    const events = db.prepare('SELECT id FROM events ORDER BY id').all();
    const messages = db.prepare('SELECT id, body FROM messages ORDER BY id').all();
    return JSON.stringify({ refs, events, messages });
  } finally {
    db.close();
  }
}

function privateKey(dir: string): string {
  const file = path.join(dir, 'throwaway-key');
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test', '-f', file]);
  const key = fs.readFileSync(file, 'utf8');
  fs.rmSync(file);
  fs.rmSync(`${file}.pub`);
  return key;
}

describe('secrets', () => {
  it('characters outside ASCII next to a key do not hide it (a Kelvin sign lower-cases to "k")', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const keyId = 'AKIAZ7XQ3KPL5MNB2RTY';
    const slack = 'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx';
    for (const body of [
      `deploy key \u212a${keyId}`,
      `${keyId}\u212a`,
      `token \u212a${slack}`,
      `clé: ${keyId} ✓`,
      `${GITHUB}é`,
    ]) {
      const before = state(repo);
      const r = cli(repo, ['send', 'codex', body, '--json'], { agent: 'lead' });
      expect(r.status, body).toBe(2);
      expect(JSON.parse(r.stdout).error.code, body).toBe('secret_found');
      expect(state(repo)).toBe(before);
    }
  });

  it('a body with an AWS secret key is refused (exit 2, kind and line named) and nothing is written', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    ok(repo, ['send', 'codex', 'warm up'], { agent: 'lead' });
    const before = state(repo);
    const r = cli(repo, ['send', 'codex', `deploy notes\nuse ${AWS_SECRET}\nthanks`, '--json'], { agent: 'lead' });
    expect(r.status).toBe(2);
    const err = JSON.parse(r.stdout).error;
    expect(err.code).toBe('secret_found');
    expect(err.details.found).toEqual([{ kind: 'AWSSecretAccessKey', where: 'body', line: 2 }]);
    expect(err.message).not.toContain(AWS_SECRET.split(' = ')[1]);
    expect(state(repo)).toBe(before);
    // --redact removes the whole key (secretlint's own range for it starts at the variable name).
    const redacted = ok(repo, ['send', 'codex', `deploy notes\nuse ${AWS_SECRET}\nthanks`, '--redact', '--json'], {
      agent: 'lead',
    }).json;
    expect(redacted.notices).toEqual(['1 secret(s) replaced by markers: AWSSecretAccessKey in the body:2.']);
    const red = redacted.message;
    expect(red.body).toBe('deploy notes\nuse aws_secret_access_key = [REDACTED AWSSecretAccessKey]\nthanks');
    // A key ending in '/' or '+' (one base64 key in 32) has no word boundary after it, which secretlint's
    // rule wants: it is refused all the same, and redacted whole.
    for (const last of ['/', '+']) {
      const key = `${crypto.randomBytes(30).toString('base64').slice(0, 39).replace(/[+/]/g, 'x')}${last}`;
      const body = `deploy notes\nuse aws_secret_access_key = ${key}\nthanks`;
      const refused = cli(repo, ['send', 'codex', body, '--json'], { agent: 'lead' });
      expect(refused.status).toBe(2);
      expect(JSON.parse(refused.stdout).error.details.found).toEqual([
        { kind: 'AWSSecretAccessKey', where: 'body', line: 2 },
      ]);
      const hidden = ok(repo, ['send', 'codex', body, '--redact', '--json'], { agent: 'lead' }).json.message.body;
      expect(hidden).toBe('deploy notes\nuse aws_secret_access_key = [REDACTED AWSSecretAccessKey]\nthanks');
    }
    const afterRedact = state(repo);
    // An AWS access key id alone is refused as well; AWS's documented example id is not.
    const id = cli(repo, ['send', 'codex', 'creds: AKIAQYLPMN5HHHFPZAM2', '--json'], { agent: 'lead' });
    expect([id.status, JSON.parse(id.stdout).error.details.found]).toEqual([
      2,
      [{ kind: 'AWSAccessKeyID', where: 'body', line: 1 }],
    ]);
    expect(state(repo)).toBe(afterRedact);
    // A user pattern from git config counts too.
    git(repo, 'config', '--add', 'handoff.secretPatterns', 'INTERNAL-[0-9]{6}');
    expect(cli(repo, ['send', 'codex', 'ticket INTERNAL-123456'], { agent: 'lead' }).status).toBe(2);
    expect(state(repo)).toBe(afterRedact);
    // And a plain message goes through.
    ok(repo, ['send', 'codex', 'no secrets here: the sk- prefix, a postgres mention, AKIAIOSFODNN7EXAMPLE'], {
      agent: 'lead',
    });
  });

  it('a diff adding a private key is refused with nothing written; --redact stores markers in body, patch and snapshot', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const key = privateKey(repo);
    fs.writeFileSync(path.join(repo, 'deploy.txt'), `host: example\n${key}`);
    fs.appendFileSync(path.join(repo, 'src', 'app.ts'), `const token = '${GITHUB}';\n`);
    const before = state(repo);
    const r = cli(repo, ['send', 'codex', 'see the diff', '--attach-diff', '--json'], { agent: 'lead' });
    expect(r.status).toBe(2);
    const found = JSON.parse(r.stdout).error.details.found;
    expect(found).toEqual(
      expect.arrayContaining([
        { kind: 'PrivateKey', where: 'deploy.txt', line: 2 },
        { kind: 'GITHUB_TOKEN', where: 'src/app.ts', line: 2 },
      ]),
    );
    expect(state(repo)).toBe(before);

    const sent = ok(repo, ['send', 'codex', `see the diff; token ${GITHUB}`, '--attach-diff', '--redact', '--json'], {
      agent: 'lead',
    }).json.message;
    const ev = chainEvents(repo).find((e) => e.event.id === sent.id)!;
    expect(ev.event.secrets.action).toBe('redacted');
    expect(ev.event.secrets.found).toHaveLength(3);
    const stored = [
      git(repo, 'show', `${ev.commit}:body`),
      git(repo, 'show', `${ev.commit}:patch`),
      git(repo, 'show', `${ev.commit}:snapshot/deploy.txt`),
      git(repo, 'show', `${ev.commit}:snapshot/src/app.ts`),
    ].join('\n');
    const keyLine = key.split('\n')[1]!;
    for (const secret of [GITHUB, keyLine]) expect(stored).not.toContain(secret);
    expect(stored).toContain('[REDACTED PrivateKey]');
    expect(stored).toContain('[REDACTED GITHUB_TOKEN]');
    // Nothing reachable from the ledger holds the key.
    const reachable = git(repo, 'rev-list', '--objects', '--all')
      .split('\n')
      .map((l) => l.split(' ')[0]!);
    const blobs = spawnSync('git', ['cat-file', '--batch'], {
      cwd: repo,
      input: reachable.join('\n'),
      encoding: 'utf8',
    });
    expect(blobs.stdout).not.toContain(keyLine);
    // show says what was redacted, and where.
    expect(ok(repo, ['show', sent.id, '--json'], { agent: 'codex' }).json.secrets.action).toBe('redacted');
    expect(ok(repo, ['show', sent.id, '--no-patch'], { agent: 'codex' }).stdout).toMatch(
      /^Secrets: +3 redacted: GITHUB_TOKEN in the body:1, /m,
    );
    // The recipient reads the redacted message.
    expect(ok(repo, ['read', sent.id], { agent: 'codex' }).stdout).toContain('token [REDACTED GITHUB_TOKEN]');
  });

  it('--allow-secret stores the secret as it is and records the override', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const sent = ok(repo, ['send', 'codex', `the test token is ${GITHUB}`, '--allow-secret', '--json'], {
      agent: 'lead',
    }).json.message;
    const ev = chainEvents(repo).find((e) => e.event.id === sent.id)!;
    expect(ev.event.secrets).toEqual({ action: 'allowed', found: [{ kind: 'GITHUB_TOKEN', where: 'body', line: 1 }] });
    expect(git(repo, 'show', `${ev.commit}:body`)).toContain(GITHUB);
    expect(cli(repo, ['send', 'codex', 'x', '--redact', '--allow-secret'], { agent: 'lead' }).status).toBe(2);
  });

  it('holes a hostile review found: staged .env, -diff attributes, disable comments, .npmrc, anchors, overlaps, odd names, notes', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const send = (body: string, ...flags: string[]) =>
      cli(repo, ['send', 'codex', body, '--json', ...flags], { agent: 'lead' });
    const refused = (r: ReturnType<typeof send>) => {
      expect(r.status, r.stdout + r.stderr).toBe(2);
      return JSON.parse(r.stdout).error.details.found as { kind: string; where: string; line: number }[];
    };
    // A staged .env: left out like an untracked one (HEAD has none, so the snapshot has none).
    fs.writeFileSync(path.join(repo, '.env'), 'DB_PASSWORD=hunter2-prod\n');
    git(repo, 'add', '.env');
    fs.appendFileSync(path.join(repo, 'README.md'), 'x\n');
    const staged = ok(repo, ['send', 'codex', 'staged', '--attach-diff', '--json'], { agent: 'lead' }).json.message;
    expect(staged.diff.excluded).toEqual(['.env']);
    expect(git(repo, 'ls-tree', '-r', '--name-only', `${staged.commit}:snapshot`)).not.toContain('.env');
    expect(git(repo, 'show', `${staged.commit}:patch`)).not.toContain('hunter2');
    git(repo, 'rm', '-q', '--cached', '.env');
    fs.rmSync(path.join(repo, '.env'));
    git(repo, 'checkout', '-q', 'README.md');
    // A text file git is told to show as binary is scanned whole; --redact rewrites it in the snapshot.
    fs.writeFileSync(path.join(repo, '.gitattributes'), '*.json -diff\n');
    git(repo, 'add', '.gitattributes');
    git(repo, 'commit', '-qm', 'attributes');
    fs.writeFileSync(path.join(repo, 'conf.json'), `{\n  "t": "${GITHUB}"\n}\n`);
    expect(refused(send('see', '--attach-diff'))).toEqual([{ kind: 'GITHUB_TOKEN', where: 'conf.json', line: 2 }]);
    const red = JSON.parse(send('see', '--attach-diff', '--redact').stdout).message;
    expect(git(repo, 'show', `${red.commit}:snapshot/conf.json`)).toBe('{\n  "t": "[REDACTED GITHUB_TOKEN]"\n}');
    fs.rmSync(path.join(repo, 'conf.json'));
    // A secretlint-disable comment does not switch the scan off.
    expect(refused(send(`// secretlint-disable\ntoken ${GITHUB}`))[0]!.kind).toBe('GITHUB_TOKEN');
    // Rules that look at the file's name see it: an npm token in .npmrc.
    fs.writeFileSync(
      path.join(repo, '.npmrc'),
      '//registry.npmjs.org/:_authToken=3f1c2a9e-7b4d-4e2a-9c1f-5d8e6a7b9c0d\n',
    );
    expect(refused(send('npm', '--attach-diff')).map((f) => f.where)).toEqual(['.npmrc']);
    fs.rmSync(path.join(repo, '.npmrc'));
    // A user pattern anchored at line starts holds on every line.
    git(repo, 'config', '--add', 'handoff.secretPatterns', '^INTERNAL_TOKEN=.*$');
    expect(refused(send('hello\nINTERNAL_TOKEN=abc'))).toEqual([
      { kind: 'handoff.secretPatterns #1', where: 'body', line: 2 },
    ]);
    // Overlapping findings are redacted as one: nothing of the token is left.
    git(repo, 'config', '--add', 'handoff.secretPatterns', 'token: ghp_\\w{4}');
    const overlap = JSON.parse(send(`token: ${GITHUB}`, '--redact').stdout).message;
    expect(overlap.body).toBe('[REDACTED handoff.secretPatterns #2]');
    // A multi-line key redacted in a patch keeps the patch whole (git apply accepts it).
    const key = privateKey(repo);
    fs.writeFileSync(path.join(repo, 'key.js'), `const k = \`\n${key}\`;\n`);
    fs.writeFileSync(path.join(repo, 'sp ace.txt'), `token ${GITHUB}\n`);
    const multi = JSON.parse(send('keys', '--attach-diff', '--redact').stdout).message;
    const patch = git(repo, 'show', `${multi.commit}:patch`) + '\n';
    expect(patch).not.toContain(key.split('\n')[1]!);
    fs.rmSync(path.join(repo, 'key.js'));
    fs.rmSync(path.join(repo, 'sp ace.txt'));
    const check = spawnSync('git', ['apply', '--check', '-'], { cwd: repo, input: patch, encoding: 'utf8' });
    const ev = chainEvents(repo).find((e) => e.event.id === multi.id)!;
    expect(ev.event.secrets.found.map((f: { where: string }) => f.where).sort()).toEqual(['key.js', 'sp ace.txt']);
    expect(check.status, check.stderr).toBe(0);
    // Outcome notes and review comments are scanned too (they have no --redact).
    const req = ok(repo, ['send', 'codex', 'do it', '--json'], { agent: 'lead' }).json.message;
    const done = cli(repo, ['done', req.id, '-m', `deployed with ${GITHUB}`, '--json'], { agent: 'codex' });
    expect([done.status, JSON.parse(done.stdout).error.code]).toEqual([2, 'secret_found']);
    const rev = cli(repo, ['review', req.id, '--comment', '-m', `use ${GITHUB}`, '--json'], { agent: 'codex' });
    expect([rev.status, JSON.parse(rev.stdout).error.code]).toEqual([2, 'secret_found']);
    // So are a status note and a reservation's reason (both go to every clone, kept in the ledger's history),
    // from the CLI and from MCP: refused, nothing written.
    const refs = git(repo, 'for-each-ref', 'refs/handoff/');
    for (const args of [
      ['status', '-m', `token ${GITHUB}`],
      ['reserve', 'x.txt', '-x', '-m', GITHUB],
    ]) {
      const r = cli(repo, [...args, '--json'], { agent: 'codex' });
      expect([args[0], r.status, JSON.parse(r.stdout).error.code]).toEqual([args[0], 2, 'secret_found']);
    }
    expect(git(repo, 'for-each-ref', 'refs/handoff/')).toBe(refs);
    expect(git(repo, 'log', '--all', '-p', '--format=')).not.toContain(GITHUB);
    ok(repo, ['status', '-m', 'on the parser'], { agent: 'codex' });
    expect(ok(repo, ['reserve', 'x.txt', '-m', 'tokenizer', '--json'], { agent: 'codex' }).json.patterns).toEqual([
      'x.txt',
    ]);
  });
});

describe('--redact from anywhere in the worktree', () => {
  it('from a subdirectory: the attached file is redacted in the snapshot and keeps its mode', () => {
    const repo = makeRepo({ files: { 'tools/run.sh': '#!/bin/sh\necho hi\n' } });
    fs.chmodSync(path.join(repo, 'tools/run.sh'), 0o755);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'exec');
    ok(repo, ['join'], { agent: 'codex' });
    fs.appendFileSync(path.join(repo, 'tools/run.sh'), `TOKEN=${GITHUB}\n`);
    const sent = ok(
      path.join(repo, 'tools'),
      ['send', 'codex', 'see the script', '--attach-diff', '--redact', '--json'],
      {
        agent: 'claude',
      },
    ).json;
    const commit = chainEvents(repo).find((e) => e.event.id === sent.message.id)!.commit;
    const entry = git(repo, 'ls-tree', `${commit}:snapshot/tools`, 'run.sh');
    expect(entry.split(' ')[0]).toBe('100755');
    const content = git(repo, 'show', `${commit}:snapshot/tools/run.sh`);
    expect(content).not.toContain(GITHUB);
    expect(content).toContain('echo hi');
  });
});
