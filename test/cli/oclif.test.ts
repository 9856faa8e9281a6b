import { describe, expect, it } from 'vitest';
import { cli, makeRepo, ok } from '../helpers/repo';

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
});
