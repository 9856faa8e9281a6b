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
const AWS_SECRET = `aws_secret_access_key = ${crypto.randomBytes(30).toString('base64').slice(0, 40)}`;
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
    const red = ok(repo, ['send', 'codex', `deploy notes\nuse ${AWS_SECRET}\nthanks`, '--redact', '--json'], {
      agent: 'lead',
    }).json.message;
    expect(red.body).toBe('deploy notes\nuse aws_secret_access_key = [REDACTED AWSSecretAccessKey]\nthanks');
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
});
