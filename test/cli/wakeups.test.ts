import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, git, makeRepo, ok } from '../helpers/repo';

describe('wake-ups and the loop guard', () => {
  it('tells the receiving side when two agents exchange many messages quickly', () => {
    const repo = makeRepo();
    git(repo, 'config', 'handoff.loopGuard', '4/600');
    ok(repo, ['join'], { agent: 'a' });
    ok(repo, ['join'], { agent: 'b' });
    ok(repo, ['send', 'b', 'ping 1'], { agent: 'a' });
    ok(repo, ['send', 'a', 'pong 1'], { agent: 'b' });
    expect(ok(repo, ['inbox', '--json'], { agent: 'b' }).json.notices).toEqual([]);
    ok(repo, ['send', 'b', 'ping 2'], { agent: 'a' });
    ok(repo, ['send', 'a', 'pong 2'], { agent: 'b' });
    const r = ok(repo, ['inbox', '--json'], { agent: 'b' }).json;
    expect(r.notices).toEqual([
      expect.stringMatching(
        /You and a have exchanged 4 messages in the last 10 minutes, going back and forth 3 times.*--no-reply/,
      ),
    ]);
    // Once per episode: the next inbox says nothing more about it.
    expect(cli(repo, ['inbox'], { agent: 'b' }).stderr).not.toMatch(/back and forth/);
    expect(ok(repo, ['inbox', '--json'], { agent: 'b' }).json.notices).toEqual([]);
    ok(repo, ['rebuild']);
    expect(ok(repo, ['inbox', '--json'], { agent: 'b' }).json.notices).toEqual([]);
    // --no-reply marks a message that needs no answer.
    const m = ok(repo, ['reply', r.messages[0].id, 'done, no need to answer', '--no-reply', '--json'], { agent: 'b' })
      .json.message;
    expect(m.noReply).toBe(true);
    expect(ok(repo, ['read', m.id], { agent: 'a' }).stdout).toContain('no reply needed');
    git(repo, 'config', 'handoff.loopGuard', 'off');
    expect(ok(repo, ['inbox', '--json'], { agent: 'b' }).json.notices).toEqual([]);
  });

  it('a notice said once is said again when its output never reached a reader (a closed pipe)', () => {
    const repo = makeRepo();
    git(repo, 'config', 'handoff.loopGuard', '4/600');
    ok(repo, ['join'], { agent: 'a' });
    ok(repo, ['join'], { agent: 'b' });
    for (const i of [1, 2]) {
      ok(repo, ['send', 'b', `ping ${i}`], { agent: 'a' });
      ok(repo, ['send', 'a', `pong ${i}`], { agent: 'b' });
    }
    ok(repo, ['send', 'b', 'ping 3'], { agent: 'a' });
    // The reader closes its end at once and stays: the write fails (EPIPE), the command ends quietly.
    const gone = (args: string) =>
      spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" ${args} | (exec 0<&-; sleep 1)`], {
        cwd: repo,
        env: cleanEnv({ HANDOFF_AGENT: 'b' }),
        encoding: 'utf8',
      });
    for (const args of ['inbox --json', 'inbox', 'wait --timeout 5 --peek --json', 'read --all --json']) {
      const r = gone(args);
      expect([r.status, r.stderr.replace(/.*back and forth.*\n/, '')], args).toEqual([0, '']);
    }
    // None of those reached a reader: the next inbox says it, once.
    expect(ok(repo, ['inbox', '--json'], { agent: 'b' }).json.notices).toEqual([
      expect.stringMatching(/You and a have exchanged 5 messages/),
    ]);
    expect(ok(repo, ['inbox', '--json'], { agent: 'b' }).json.notices).toEqual([]);
    expect(cli(repo, ['read', '--all'], { agent: 'b' }).stderr).not.toMatch(/back and forth/);
  });

  it('stays quiet on one-way traffic: broadcasts and status lines are not a loop', () => {
    const repo = makeRepo();
    git(repo, 'config', 'handoff.loopGuard', '4/600');
    for (const n of ['lead', 'a', 'b']) ok(repo, ['join'], { agent: n });
    for (let i = 0; i < 8; i++) ok(repo, ['send', 'all', `status ${i}`, '--kind', 'status'], { agent: 'lead' });
    expect(ok(repo, ['inbox', '--json'], { agent: 'a' }).json.notices).toEqual([]);
    expect(cli(repo, ['read', '--all'], { agent: 'b' }).stderr).not.toMatch(/back and forth/);
    // One answer does not make it a loop either.
    ok(repo, ['send', 'lead', 'thanks'], { agent: 'a' });
    ok(repo, ['send', 'a', 'status 9'], { agent: 'lead' });
    expect(ok(repo, ['inbox', '--json'], { agent: 'a' }).json.notices).toEqual([]);
  });

  it('rings a tmux doorbell with a fixed line (never the body), coalescing repeats', async () => {
    const tmux = spawnSync('tmux', ['-V']);
    if (tmux.status !== 0) {
      console.warn('Skipping: tmux is not installed.');
      return;
    }
    const repo = makeRepo();
    const socket = `handoff-test-${process.pid}`;
    const t = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    t('new-session', '-d', '-x', '200', '-y', '20', 'cat');
    try {
      const pane = t('display-message', '-p', '#{pane_id}').stdout.trim();
      const server = t('display-message', '-p', '#{socket_path}').stdout.trim();
      const tmuxEnv = { TMUX: `${server},1,0`, TMUX_PANE: pane };
      ok(repo, ['join'], { agent: 'codex', env: tmuxEnv });
      git(repo, 'config', 'handoff.doorbell', 'true');
      ok(repo, ['send', 'codex', 'SECRET BODY one'], { agent: 'claude', env: { TMUX: tmuxEnv.TMUX } });
      ok(repo, ['send', 'codex', 'SECRET BODY two'], { agent: 'claude', env: { TMUX: tmuxEnv.TMUX } });
      await new Promise((r) => setTimeout(r, 300));
      const screen = t('capture-pane', '-p', '-t', pane).stdout;
      expect(screen.match(/You have a new handoff message: run handoff inbox/g)?.length).toBe(2); // typed once, echoed once by cat
      expect(screen).not.toContain('SECRET');
    } finally {
      t('kill-server');
    }
  });
});
