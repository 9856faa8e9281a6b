/**
 * The contract with scripts and agents: every error code is declared once (src/core/error-codes.ts) and
 * documented in the README, and the shape of every command's --json output is snapshotted, so a change to
 * either is deliberate (update the snapshot with `npx vitest run -u test/cli/contract.test.ts`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/error-codes';
import { COMMAND_DEFS } from '../../src/commands/index';
import { cli, git, ROOT, tmpDir } from '../helpers/repo';
import { team } from '../helpers/clones';

/** The shape of a JSON value: types in place of values; an array shows the merged shape of its items. */
function shape(v: unknown): unknown {
  if (v === null) return 'null';
  if (Array.isArray(v)) {
    if (v.length === 0) return [];
    const merged: Record<string, unknown> = {};
    let scalar: string | undefined;
    for (const item of v) {
      const s = shape(item);
      if (s && typeof s === 'object' && !Array.isArray(s)) Object.assign(merged, s);
      else scalar = JSON.stringify(s);
    }
    return Object.keys(merged).length ? [sortKeys(merged)] : [scalar ? JSON.parse(scalar) : 'unknown'];
  }
  // Maps keyed by ids (thread subjects, chains) keep one entry, keyed '<id>'.
  const key = (k: string) => (/^[0-9A-HJKMNP-TV-Z]{26}$/.test(k) ? '<id>' : k);
  if (typeof v === 'object') return sortKeys(Object.fromEntries(Object.entries(v).map(([k, x]) => [key(k), shape(x)])));
  return typeof v;
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]]),
  );
}

describe('error codes', () => {
  it('the README lists every code with its exit code, and nothing else', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| `([a-z0-9_]+)` \| (\d) \| .+ \|$/gm)].map((m) => [m[1], Number(m[2])]);
    const declared = Object.entries(ERROR_CODES).map(([code, [exit]]) => [code, exit]);
    expect(rows.sort()).toEqual(declared.sort());
  });

  it('every declared code is raised somewhere in src', () => {
    const src = fs
      .readdirSync(path.join(ROOT, 'src'), { recursive: true })
      .filter((f) => String(f).endsWith('.ts') && !String(f).endsWith('error-codes.ts'))
      .map((f) => fs.readFileSync(path.join(ROOT, 'src', String(f)), 'utf8'))
      .join('\n');
    const unused = Object.keys(ERROR_CODES).filter((c) => !src.includes(`'${c}'`));
    expect(unused).toEqual([]);
  });
});

describe('--json shapes', () => {
  it('every command prints the shape recorded in the snapshot', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    const as = (agent: string) => ({ agent });
    const shapes: Record<string, unknown> = {};
    const run = (label: string, cwd: string, args: string[], agent?: string, expectStatus = 0) => {
      const r = cli(cwd, [...args, '--json'], agent ? as(agent) : {});
      expect([label, r.status], r.stderr + r.stdout).toEqual([label, expectStatus]);
      shapes[label] = shape(r.json);
      return r.json;
    };
    run('join', a, ['join', '--team', 'core', '--role', 'reviewer'], 'codex');
    run('whoami', a, ['whoami'], 'codex');
    fs.writeFileSync(path.join(a, 'README.md'), '# team\nchanged\n');
    const sent = run(
      'send',
      a,
      ['send', 'codex', 'please review', '--attach-diff', '--kind', 'review_request'],
      'claude',
    );
    const id = sent.message.id as string;
    run('inbox', a, ['inbox'], 'codex');
    run('read', a, ['read', id], 'codex');
    run('ack', a, ['ack', id], 'codex');
    run('show', a, ['show', id]);
    run('thread', a, ['thread', id]);
    run('threads', a, ['threads']);
    run('agents', a, ['agents']);
    run('work-on', a, ['work-on', id], 'codex');
    run('hooks install', a, ['hooks', 'install']);
    run('hooks status', a, ['hooks', 'status']);
    git(a, 'checkout', '-q', 'README.md');
    fs.writeFileSync(path.join(a, 'README.md'), '# team\nchanged\n');
    const commit = cli(a, ['hooks', 'status'], as('codex'));
    expect(commit.status).toBe(0);
    const c = require('node:child_process').spawnSync('git', ['commit', '-qam', 'Answer'], {
      cwd: a,
      env: {
        ...process.env,
        HANDOFF_AGENT: 'codex',
        GIT_AUTHOR_NAME: 'x',
        GIT_AUTHOR_EMAIL: 'x@x',
        GIT_COMMITTER_NAME: 'x',
        GIT_COMMITTER_EMAIL: 'x@x',
      },
    });
    expect(c.status).toBe(0);
    run('reply', a, ['reply', id, 'done'], 'codex');
    run('log', a, ['log']);
    run('blame', a, ['blame', 'README.md']);
    run('blame --why', a, ['blame', 'README.md', '--why', '2']);
    run('review', a, ['review', id]);
    run('review --approve', a, ['review', id, '--approve', '-m', 'ok'], 'claude');
    run('replay', a, ['replay']);
    run('verify', a, ['verify']);
    run('checkout', a, ['checkout', id, path.join(tmpDir(), 'co')]);
    run('checkout --clean', a, ['checkout', '--clean']);
    run('sync --setup', a, ['sync', '--setup']);
    run('sync', a, ['sync']);
    run('sync (other clone)', b, ['sync']);
    run('wait', b, ['wait', '--timeout', '1', '--peek'], 'claude');
    run('rebuild', a, ['rebuild']);
    run('init --dry-run', a, ['init', '--agent', 'claude', '--dry-run']);
    run('agent-hook', a, ['agent-hook', 'session-start'], 'claude');
    run('status', a, ['status', '-m', 'reviewing'], 'codex');
    run('claim', a, ['claim', 'parser', '--ttl', '600'], 'codex');
    run('claims', a, ['claims']);
    run('release', a, ['release', 'parser'], 'codex');
    run('reserve', a, ['reserve', 'src/**', '--exclusive', '-m', 'refactor'], 'codex');
    run('reservations', a, ['reservations']);
    run('release --paths', a, ['release', '--paths'], 'codex');
    run('done', a, ['done', id, '-m', 'landed'], 'codex');
    run('fail', a, ['fail', id, '-m', 'reverted'], 'codex');
    run('block', a, ['block', id, '-m', 'waiting'], 'codex');
    run('tasks', a, ['tasks']);
    run('search', a, ['search', 'review']);
    run('error: claim held', a, ['claim', 'held-key'], 'claude');
    run('error: claim held 2', a, ['claim', 'held-key'], 'codex', 4);
    run('hooks uninstall', a, ['hooks', 'uninstall']);
    run('leave', a, ['leave'], 'codex');
    run('error: not found', a, ['show', '01M8Y7J0V81VBX39H9PPS48PF9'], undefined, 3);
    run('error: unknown command', a, ['sned'], undefined, 2);
    run('error: bad flag', a, ['inbox', '--nope'], 'codex', 2);
    const covered = new Set(Object.keys(shapes).map((l) => l.split(' ')[0]!.replace(/^error:$/, '')));
    const ids = Object.keys(COMMAND_DEFS).map((id) => id.split(':')[0]!);
    // demo builds its own repository (test/cli/demo.test.ts), mcp speaks JSON-RPC (test/cli/mcp.test.ts).
    expect(ids.filter((i) => !covered.has(i) && !['demo', 'mcp'].includes(i))).toEqual([]);
    expect(shapes).toMatchSnapshot();
  });
});
