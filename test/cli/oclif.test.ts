import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { ROOT, cleanEnv, cli, git, makeRepo, ok, tmpDir } from '../helpers/repo';

describe('the CLI surface', () => {
  it('handoff --help lists every command with its summary', () => {
    const r = ok(makeRepo(), ['--help']);
    for (const c of [
      'send',
      'reply',
      'inbox',
      'read',
      'ack',
      'wait',
      'thread',
      'threads',
      'show',
      'join',
      'leave',
      'agents',
      'whoami',
      'rebuild',
      'demo',
      'sync',
      'verify',
      'checkout',
      'blame',
      'log',
      'work-on',
      'replay',
      'review',
      'init',
      'mcp',
      'hooks',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`\\n  ${c} +\\S`));
    }
  });

  it('every command has --help with a description and examples', () => {
    const repo = makeRepo();
    const r = ok(repo, ['send', '--help']);
    expect(r.stdout).toContain('EXAMPLES');
    expect(r.stdout).toContain('$ handoff send codex "parser done, please review" --attach-diff');
    expect(r.stdout).toContain('--attach-diff');
    // Only the last argument takes more words.
    expect(r.stdout).toContain('$ handoff send TO [BODY...] [FLAGS]');
    expect(ok(repo, ['reply', '--help']).stdout).toContain('$ handoff reply ID [BODY...] [FLAGS]');
  });

  it("--help wraps each description's paragraphs to the width, with no line broken where the source was", () => {
    const repo = makeRepo();
    for (const cmd of ['done', 'send', 'replay', 'sync', 'claim']) {
      const out = ok(repo, [cmd, '--help']).stdout;
      const description = out.slice(out.indexOf('DESCRIPTION\n'), out.indexOf('\nEXAMPLES'));
      const lines = description.split('\n').slice(1);
      // Within a paragraph, only its last line may stop short of the width (80 columns off a terminal).
      lines.forEach((line, i) => {
        const next = lines[i + 1] ?? '';
        if (line.trim() && next.trim())
          expect(line.length + next.trim().split(' ')[0]!.length, `${cmd}: ${line}`).toBeGreaterThan(78);
      });
    }
    expect(ok(repo, ['done', '--help']).stdout).toContain('shows the request as done.');
  });

  it('help, help <command> and -h are --help', () => {
    const repo = makeRepo();
    const top = ok(repo, ['--help']).stdout;
    expect(ok(repo, ['help']).stdout).toBe(top);
    expect(ok(repo, ['-h']).stdout).toBe(top);
    const send = ok(repo, ['send', '--help']).stdout;
    expect(ok(repo, ['help', 'send']).stdout).toBe(send);
    expect(ok(repo, ['send', '-h']).stdout).toBe(send);
    expect(ok(repo, ['help', 'hooks', 'install']).stdout).toBe(ok(repo, ['hooks', 'install', '--help']).stdout);
    const bad = cli(repo, ['help', 'sned']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/'sned' is not a handoff command. Did you mean 'handoff send'/);
    // After --, -h is a word of the message.
    ok(repo, ['send', 'codex', '--create', '--', '-h'], { agent: 'claude' });
    expect(ok(repo, ['inbox', '--json'], { agent: 'codex' }).json.messages[0].body).toBe('-h');
  });

  it('oclif knows every command (the manifest is current) and each has a description and examples', async () => {
    const { COMMAND_DEFS } = await import('../../src/commands/index');
    const manifest = JSON.parse(
      require('node:fs').readFileSync(require('node:path').join(__dirname, '../../oclif.manifest.json'), 'utf8'),
    );
    expect(Object.keys(manifest.commands).sort()).toEqual(Object.keys(COMMAND_DEFS).sort());
    for (const def of Object.values(COMMAND_DEFS)) {
      expect(def.summary.length).toBeGreaterThan(10);
      expect(def.description.length).toBeGreaterThan(20);
      expect(def.examples.length).toBeGreaterThan(0);
    }
    const help = ok(makeRepo(), ['sync', '--help'], { env: { HANDOFF_NO_FAST_PATH: '1' } });
    expect(help.stdout).toContain('--ref-prefix');
  });

  it('the oclif path and the fast path give the same results', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'b' });
    const viaOclif = ok(repo, ['send', 'b', 'through oclif', '--kind', 'question', '--json'], {
      agent: 'a',
      env: { HANDOFF_NO_FAST_PATH: '1' },
    }).json;
    const viaFast = ok(repo, ['send', 'b', 'through the fast path', '--kind', 'question', '--json'], {
      agent: 'a',
    }).json;
    expect(Object.keys(viaOclif.message).sort()).toEqual(Object.keys(viaFast.message).sort());
    expect(viaOclif.message).toMatchObject({ from: 'a', to: ['b'], kind: 'question', body: 'through oclif' });
    const a = cli(repo, ['inbox', '--json'], { agent: 'b', env: { HANDOFF_NO_FAST_PATH: '1' } });
    const b = cli(repo, ['inbox', '--json'], { agent: 'b' });
    expect(a.stdout).toBe(b.stdout);
    const e1 = cli(repo, ['send', 'nobody', 'x', '--json'], { agent: 'a', env: { HANDOFF_NO_FAST_PATH: '1' } });
    const e2 = cli(repo, ['send', 'nobody', 'x', '--json'], { agent: 'a' });
    expect([e1.status, e1.stdout]).toEqual([e2.status, e2.stdout]);
  });

  it('keeps one private code cache per bundle path, replacing older builds of it and leaving other paths alone', () => {
    const repo = makeRepo();
    const cache = tmpDir('handoff-cache-');
    const dir = path.join(cache, 'handoff');
    fs.mkdirSync(dir, { recursive: true });
    // The cache's name: two FNV-1a hashes of the bundle's path and node (bin/run.js).
    const hash = (s: string) => {
      let a = 0x811c9dc5;
      let b = 0x01000193;
      for (let i = 0; i < s.length; i++) {
        a = Math.imul(a ^ s.charCodeAt(i), 0x01000193);
        b = Math.imul(b ^ s.charCodeAt(i), 0x01000193) ^ (a >>> 15);
      }
      return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
    };
    // whoami has a bundle of its own (dist/one/whoami.js, scripts/build.mjs), and so a cache of its own.
    const mine = `whoami-${hash(`${path.join(ROOT, 'dist', 'one', 'whoami.js')}\0${process.version}\0${process.arch}`)}`;
    // An older build of this bundle, the two formats earlier versions used, and another install's.
    for (const name of [
      `${mine}-0000000000000000.v8`,
      `whoami-${'a'.repeat(20)}.v8`,
      `whoami-${'b'.repeat(12)}-${'c'.repeat(12)}.v8`,
      `whoami-${'d'.repeat(16)}-${'e'.repeat(16)}.v8`,
    ])
      fs.writeFileSync(path.join(dir, name), 'stale');
    const env = { XDG_CACHE_HOME: cache };
    expect(ok(repo, ['whoami', '--json'], { agent: 'a', env }).json.name).toBe('a');
    const left = fs.readdirSync(dir).sort();
    expect(left).toHaveLength(2);
    expect(left).toContain(`whoami-${'d'.repeat(16)}-${'e'.repeat(16)}.v8`);
    const written = left.find((n) => n.startsWith(`${mine}-`))!;
    expect(written).toMatch(/^whoami-[0-9a-f]{16}-[0-9a-f]{16}\.v8$/);
    expect(fs.statSync(path.join(dir, written)).mode & 0o077).toBe(0);
    // The next run uses it (and writes nothing): the same answer, the same single file.
    const before = fs.statSync(path.join(dir, written)).mtimeMs;
    expect(ok(repo, ['whoami', '--json'], { agent: 'a', env }).json.name).toBe('a');
    expect(fs.readdirSync(dir).sort()).toEqual(left);
    expect(fs.statSync(path.join(dir, written)).mtimeMs).toBe(before);
    // A command run under other V8 flags (verify) keeps a cache of its own: the two never replace each other.
    expect(ok(repo, ['verify'], { agent: 'a', env }).status).toBe(0);
    const withVerify = fs.readdirSync(dir).sort();
    expect(withVerify).toHaveLength(left.length + 1);
    const verifyCache = withVerify.find((n) => !left.includes(n))!;
    // verify is run from dist/fast.js.
    expect(verifyCache).toMatch(/^fast-[0-9a-f]{16}-[0-9a-f]{16}\.v8$/);
    const verifyBefore = fs.statSync(path.join(dir, verifyCache)).mtimeMs;
    ok(repo, ['whoami', '--json'], { agent: 'a', env });
    ok(repo, ['verify'], { agent: 'a', env });
    expect(fs.statSync(path.join(dir, written)).mtimeMs).toBe(before);
    expect(fs.statSync(path.join(dir, verifyCache)).mtimeMs).toBe(verifyBefore);
  });

  it('the git hooks load their bundle through a code cache of their own, written by the first commit', () => {
    const repo = makeRepo();
    const cache = tmpDir('handoff-cache-');
    const env = { XDG_CACHE_HOME: cache };
    ok(repo, ['hooks', 'install'], { env });
    ok(repo, ['join'], { agent: 'codex', env });
    const commit = (n: number) => {
      fs.writeFileSync(path.join(repo, `f${n}.txt`), `${n}\n`);
      git(repo, 'add', '-A');
      const r = spawnSync('git', ['commit', '-qm', `c${n}`], {
        cwd: repo,
        env: cleanEnv({ HANDOFF_AGENT: 'codex', ...env }),
        encoding: 'utf8',
      });
      expect(r.status).toBe(0);
      return { stderr: r.stderr, head: git(repo, 'rev-parse', 'HEAD').trim() };
    };
    const hookCaches = () => fs.readdirSync(path.join(cache, 'handoff')).filter((n) => n.startsWith('hook-main-'));
    // The hook ends its process while its bundle loads (it records the commit then): the cache is still
    // written, once, and the next commit's hook takes it (the file is not written again).
    const first = commit(1);
    expect(first.stderr).toContain(`${first.head.slice(0, 7)} recorded for codex`);
    const written = hookCaches();
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^hook-main-[0-9a-f]{16}-[0-9a-f]{16}\.v8$/);
    const file = path.join(cache, 'handoff', written[0]!);
    expect(fs.statSync(file).mode & 0o077).toBe(0);
    const before = fs.statSync(file).mtimeMs;
    const second = commit(2);
    expect(second.stderr).toContain(`${second.head.slice(0, 7)} recorded for codex`);
    expect(hookCaches()).toEqual(written);
    expect(fs.statSync(file).mtimeMs).toBe(before);
    // Both commits are attributed through the cached bundle as through the plain one.
    const lines = ok(repo, ['log', '--json'], { agent: 'codex', env }).json;
    const attributed = JSON.stringify(lines);
    expect(attributed).toContain(first.head);
    expect(attributed).toContain(second.head);
  });
});
