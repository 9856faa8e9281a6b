import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { addWorktree, BIN, cleanEnv, cli, cliAsync, commonDir, git, makeRepo, ok } from '../helpers/repo';

const read = (repo: string, f: string) => fs.readFileSync(path.join(repo, f), 'utf8');
const write = (repo: string, f: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(repo, f)), { recursive: true });
  fs.writeFileSync(path.join(repo, f), text);
};

describe('init for several agents', () => {
  it('writes AGENTS.md when there was none, for two or more agents (and --dry-run says so)', () => {
    const repo = makeRepo();
    const dry = ok(repo, ['init', '--agent', 'claude', '--agent', 'codex', '--dry-run', '--json']).json;
    expect(dry.changes.find((c: any) => c.path === 'AGENTS.md').action).toBe('create');
    ok(repo, ['init', '--agent', 'claude', '--agent', 'codex', '--agent', 'gemini']);
    expect(read(repo, 'AGENTS.md')).toContain('<!-- handoff:start -->');
    expect(read(repo, 'AGENTS.md').match(/handoff:start/g)).toHaveLength(1);
    expect(read(repo, 'CLAUDE.md')).toContain('@AGENTS.md');
    // Gemini CLI is told to read AGENTS.md.
    expect(JSON.parse(read(repo, '.gemini/settings.json')).context.fileName).toEqual(['AGENTS.md', 'GEMINI.md']);
  });

  it('Codex: a real TOML edit with tool_timeout_sec; never a second [mcp_servers.handoff]; a broken file is refused', () => {
    const toml = require('smol-toml') as typeof import('smol-toml');
    const repo = makeRepo();
    write(repo, '.codex/config.toml', 'model = "o4"\n\n[mcp_servers.other]\ncommand = "x"\n');
    ok(repo, ['init', '--agent', 'codex']);
    const parsed = toml.parse(read(repo, '.codex/config.toml')) as any;
    expect(parsed.model).toBe('o4');
    expect(parsed.mcp_servers.handoff).toMatchObject({
      command: 'handoff',
      args: ['mcp'],
      tool_timeout_sec: 3600,
      env: { HANDOFF_AGENT: 'codex', HANDOFF_RUNTIME: 'codex' },
    });
    ok(repo, ['init', '--agent', 'codex', '--name', 'codex-2']);
    expect(read(repo, '.codex/config.toml').match(/\[mcp_servers\.handoff\]/g)).toHaveLength(1);
    expect((toml.parse(read(repo, '.codex/config.toml')) as any).mcp_servers.handoff.env.HANDOFF_AGENT).toBe('codex-2');
    // A table the user wrote is left alone, not doubled.
    const mine = makeRepo();
    write(mine, '.codex/config.toml', '[mcp_servers.handoff]\ncommand = "/opt/handoff"\n');
    const r = ok(mine, ['init', '--agent', 'codex', '--json']).json;
    expect(r.changes.find((c: any) => c.path === '.codex/config.toml').note).toMatch(
      /already has \[mcp_servers\.handoff\]/,
    );
    expect(read(mine, '.codex/config.toml')).toBe('[mcp_servers.handoff]\ncommand = "/opt/handoff"\n');
    // Not TOML: nothing is written anywhere.
    const broken = makeRepo();
    write(broken, '.codex/config.toml', '[mcp_servers\nx = ');
    const b = cli(broken, ['init', '--agent', 'codex', '--json']);
    expect(b.status).toBe(1);
    expect(b.json.error.code).toBe('bad_config_file');
    expect(b.json.error.message).toContain('is not valid TOML');
    expect(fs.existsSync(path.join(broken, 'AGENTS.md'))).toBe(false);
    // Valid TOML that cannot take the table (mcp_servers written inline): said so, with the table to add.
    const inline = makeRepo();
    const text = 'mcp_servers = { other = { command = "y" } }\n';
    write(inline, '.codex/config.toml', text);
    const n = cli(inline, ['init', '--agent', 'codex', '--json']);
    expect(n.status).toBe(1);
    expect(n.json.error.code).toBe('bad_config_file');
    expect(n.json.error.message).not.toContain('is not valid TOML');
    expect(n.json.error.message).toContain('[mcp_servers.handoff] cannot be added to .codex/config.toml as it is');
    expect(n.json.error.message).toContain('write each entry as a [mcp_servers.<name>] table');
    expect(n.json.error.message).toContain('[mcp_servers.handoff]\ncommand =');
    expect(read(inline, '.codex/config.toml')).toBe(text);
    expect(fs.existsSync(path.join(inline, 'AGENTS.md'))).toBe(false);
  });

  it('init --name in a second worktree, whose committed files name another agent, replaces that agent in its hooks', async () => {
    const repo = makeRepo();
    ok(repo, ['init', '--agent', 'claude', '--agent', 'codex']);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'handoff init');
    const committed = read(repo, '.claude/settings.json');
    const codexHooks = read(repo, '.codex/hooks.json');
    const ui = addWorktree(repo, 'ui');
    const r = ok(ui, ['init', '--agent', 'claude', '--name', 'claude-ui', '--json']).json;
    const commands = (file: string) =>
      JSON.stringify(JSON.parse(read(ui, file)).hooks).match(/HANDOFF_AGENT=[^ "]+/g) ?? [];
    expect(new Set(commands('.claude/settings.json'))).toEqual(new Set(['HANDOFF_AGENT=claude-ui']));
    expect(commands('.claude/settings.json')).toHaveLength(
      (committed.match(/HANDOFF_AGENT=/g) ?? []).length, // replaced, not added beside
    );
    expect(JSON.parse(read(ui, '.mcp.json')).mcpServers.handoff.env.HANDOFF_AGENT).toBe('claude-ui');
    expect(JSON.stringify(r.changes)).toContain("handoff's hooks named agent claude; they now name claude-ui");
    // The other worktree, and the other agent's files, are untouched.
    expect(read(repo, '.claude/settings.json')).toBe(committed);
    expect(read(ui, '.codex/hooks.json')).toBe(codexHooks);
    // The stop hook of the ui session delivers to claude-ui only; claude's message waits for claude.
    ok(repo, ['send', 'claude', 'for claude', '--create'], { agent: 'lead' });
    ok(repo, ['send', 'claude-ui', 'for the ui', '--create'], { agent: 'lead' });
    const stop = JSON.parse(read(ui, '.claude/settings.json'))
      .hooks.Stop.map((g: any) => g.hooks[0])
      .find((h: any) => !h.async).command as string;
    const env = Object.fromEntries(
      stop
        .split(' ')
        .filter((w) => w.includes('='))
        .map((w) => w.split('=')),
    );
    const said = cli(ui, ['agent-hook', 'stop'], { env: { ...env, CLAUDECODE: '1' }, input: '{}' });
    expect(said.stdout).toContain('for the ui');
    expect(said.stdout).not.toContain('for claude');
    expect(ok(repo, ['inbox', '--json'], { agent: 'claude' }).json.messages.map((m: any) => m.body)).toEqual([
      'for claude',
    ]);
    // The agent's own shell commands carry CLAUDECODE, not HANDOFF_AGENT: in this worktree they are
    // claude-ui's, and so are its commits, made in the same second as claude's in the other worktree.
    const shell = { env: { CLAUDECODE: '1' } };
    expect(ok(ui, ['whoami', '--json'], shell).json.name).toBe('claude-ui');
    expect(ok(repo, ['whoami', '--json'], shell).json.name).toBe('claude');
    expect(ok(ui, ['inbox', '--json'], shell).json.messages.map((m: any) => m.body)).toEqual(['for the ui']);
    write(repo, 'a.txt', 'a\n');
    write(ui, 'b.txt', 'b\n');
    const commitIn = (dir: string, file: string, msg: string) =>
      new Promise<number>((resolve) => {
        const env = cleanEnv({ CLAUDECODE: '1' });
        spawn('git', ['add', file], { cwd: dir, env }).on('close', () =>
          spawn('git', ['commit', '-qm', msg], { cwd: dir, env }).on('close', (c) => resolve(c ?? 1)),
        );
      });
    const committedBoth = await Promise.all([
      commitIn(repo, 'a.txt', 'by claude'),
      commitIn(ui, 'b.txt', 'by claude-ui'),
    ]);
    expect(committedBoth).toEqual([0, 0]);
    expect(git(repo, 'log', '-1', '--format=%(trailers:key=Handoff-Agent,valueonly)')).toBe('claude');
    expect(git(ui, 'log', '-1', '--format=%(trailers:key=Handoff-Agent,valueonly)')).toBe('claude-ui');
    expect(ok(ui, ['log', '-n', '1', '--json']).json.commits[0].agent.name).toBe('claude-ui');
    expect(ok(repo, ['log', '-n', '1', '--json']).json.commits[0].agent.name).toBe('claude');
    // Undo puts the committed bytes back, and the runtime's own name.
    ok(ui, ['init', '--undo']);
    expect(read(ui, '.claude/settings.json')).toBe(committed);
    expect(git(ui, 'status', '--porcelain', '--', '.claude', '.mcp.json')).toBe('');
    expect(ok(ui, ['whoami', '--json'], shell).json.name).toBe('claude');
  });

  it("init --name replaces another agent's hook inside a group the user added to, and undo gives it back there", () => {
    const repo = makeRepo();
    ok(repo, ['init', '--agent', 'claude']);
    // The user's own hook in handoff's SessionStart group, and a matcher on its Stop group.
    const settings = JSON.parse(read(repo, '.claude/settings.json'));
    settings.hooks.SessionStart[0].hooks.push({ type: 'command', command: 'echo mine' });
    settings.hooks.Stop[0].matcher = '';
    write(repo, '.claude/settings.json', JSON.stringify(settings, null, 2));
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'handoff init, and my hook');
    const agents = (dir: string) => read(dir, '.claude/settings.json').match(/HANDOFF_AGENT=[^ "]+/g);
    const before = agents(repo)!;
    const ui = addWorktree(repo, 'ui');
    ok(ui, ['init', '--agent', 'claude', '--name', 'claude-ui']);
    expect(agents(ui)).toEqual(before.map(() => 'HANDOFF_AGENT=claude-ui'));
    const now = JSON.parse(read(ui, '.claude/settings.json'));
    expect(now.hooks.SessionStart[0].hooks[1].command).toBe('echo mine');
    expect(now.hooks.Stop[0].matcher).toBe('');
    // Run again: nothing doubles.
    ok(ui, ['init', '--agent', 'claude', '--name', 'claude-ui']);
    expect(agents(ui)).toHaveLength(before.length);
    // The user adds another hook to the group, then undoes init: claude's hooks come back, theirs stay.
    now.hooks.SessionStart[0].hooks.push({ type: 'command', command: 'echo mine too' });
    write(ui, '.claude/settings.json', JSON.stringify(now, null, 2));
    ok(ui, ['init', '--undo']);
    expect(agents(ui)).toEqual(before);
    const after = JSON.parse(read(ui, '.claude/settings.json'));
    expect(after.hooks.SessionStart[0].hooks.map((h: any) => h.command)).toEqual([
      before.length ? settings.hooks.SessionStart[0].hooks[0].command : '',
      'echo mine',
      'echo mine too',
    ]);
  });

  it('keeps comments and layout of JSONC files it edits', () => {
    const repo = makeRepo();
    const vscode =
      '{\n  // my servers\n  "servers": {\n    "db": { "type": "stdio", "command": "db-mcp" } // keep me\n  }\n}\n';
    write(repo, '.vscode/mcp.json', vscode);
    ok(repo, ['init', '--agent', 'copilot']);
    const after = read(repo, '.vscode/mcp.json');
    expect(after).toContain('// my servers');
    expect(after).toContain('// keep me');
    expect(after).toContain('"handoff"');
    ok(repo, ['init', '--undo']);
    expect(read(repo, '.vscode/mcp.json')).toBe(vscode);
  });
});

describe('init --undo removes exactly what init added', () => {
  it('keeps the edits a user made after init, and removes every part handoff added', () => {
    const repo = makeRepo();
    write(repo, 'AGENTS.md', '# Rules\n');
    ok(repo, ['init', '--agent', 'claude', '--agent', 'gemini']);
    // The user edits after init: outside handoff's parts.
    fs.appendFileSync(path.join(repo, 'AGENTS.md'), '\nAlways run the tests.\n');
    const mcp = JSON.parse(read(repo, '.mcp.json'));
    mcp.mcpServers.db = { command: 'db-mcp' };
    write(repo, '.mcp.json', JSON.stringify(mcp, null, 2));
    const settings = JSON.parse(read(repo, '.claude/settings.json'));
    settings.hooks.Stop.push({ hooks: [{ type: 'command', command: 'my-linter' }] });
    settings.permissions = { allow: ['Bash(ls)'] };
    write(repo, '.claude/settings.json', JSON.stringify(settings, null, 2));
    ok(repo, ['init', '--undo']);
    expect(read(repo, 'AGENTS.md')).not.toContain('handoff');
    expect(read(repo, 'AGENTS.md')).toContain('# Rules');
    expect(read(repo, 'AGENTS.md')).toContain('Always run the tests.');
    expect(JSON.parse(read(repo, '.mcp.json'))).toEqual({ mcpServers: { db: { command: 'db-mcp' } } });
    expect(JSON.parse(read(repo, '.claude/settings.json'))).toEqual({
      hooks: { Stop: [{ hooks: [{ type: 'command', command: 'my-linter' }] }] },
      permissions: { allow: ['Bash(ls)'] },
    });
    // Files init created and nobody touched are gone.
    for (const f of ['CLAUDE.md', '.claude/skills/handoff/SKILL.md', '.gemini/settings.json'])
      expect(fs.existsSync(path.join(repo, f)), f).toBe(false);
    expect(ok(repo, ['hooks', 'status', '--json']).json.hooks.every((h: any) => h.state === 'absent')).toBe(true);
  });

  it("refuses, changing nothing, when handoff's own part was edited; --force removes it", () => {
    const repo = makeRepo();
    ok(repo, ['init', '--agent', 'claude']);
    const mcp = JSON.parse(read(repo, '.mcp.json'));
    mcp.mcpServers.handoff.env.EXTRA = '1';
    write(repo, '.mcp.json', JSON.stringify(mcp, null, 2));
    write(repo, 'AGENTS.md', read(repo, 'AGENTS.md').replace('Wait for an answer', 'Wait, then answer'));
    const before = { agents: read(repo, 'AGENTS.md'), mcp: read(repo, '.mcp.json'), claude: read(repo, 'CLAUDE.md') };
    const r = cli(repo, ['init', '--undo', '--json']);
    expect(r.status).toBe(4);
    expect(r.json.error.code).toBe('init_edited');
    expect(r.json.error.message).toMatch(/AGENTS\.md: the handoff section was edited/);
    expect(r.json.error.message).toMatch(/\.mcp\.json: mcpServers\.handoff was changed/);
    expect({ agents: read(repo, 'AGENTS.md'), mcp: read(repo, '.mcp.json'), claude: read(repo, 'CLAUDE.md') }).toEqual(
      before,
    );
    ok(repo, ['init', '--undo', '--force']);
    expect(fs.existsSync(path.join(repo, 'AGENTS.md'))).toBe(false);
    expect(fs.existsSync(path.join(repo, '.mcp.json'))).toBe(false);
  });

  it('is per worktree: undo in one leaves the other set up, and the shared git hooks go with the last', () => {
    const repo = makeRepo();
    const wt = addWorktree(repo, 'second');
    ok(repo, ['init', '--agent', 'claude']);
    ok(wt, ['init', '--agent', 'claude', '--name', 'claude-ui']);
    expect(JSON.parse(read(wt, '.mcp.json')).mcpServers.handoff.env.HANDOFF_AGENT).toBe('claude-ui');
    ok(wt, ['init', '--undo']);
    expect(fs.existsSync(path.join(wt, '.mcp.json'))).toBe(false);
    expect(JSON.parse(read(repo, '.mcp.json')).mcpServers.handoff.env.HANDOFF_AGENT).toBe('claude');
    expect(ok(repo, ['hooks', 'status', '--json']).json.hooks.every((h: any) => h.healthy)).toBe(true);
    ok(repo, ['init', '--undo']);
    expect(fs.existsSync(path.join(repo, '.mcp.json'))).toBe(false);
    expect(ok(repo, ['hooks', 'status', '--json']).json.hooks.every((h: any) => h.state === 'absent')).toBe(true);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });
});

describe("Claude Code's hooks", () => {
  const claudeEnv = { CLAUDECODE: '1', HANDOFF_RUNTIME: 'claude' };
  it('Stop: blocks once with the new messages, in the documented JSON; never loops; silent elsewhere', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'claude' });
    const hook = (input: object, env: Record<string, string> = claudeEnv) =>
      cli(repo, ['agent-hook', 'stop'], { agent: 'claude', env, input: JSON.stringify(input) });
    expect(hook({ stop_hook_active: false }).stdout).toBe('');
    const id = ok(repo, ['send', 'claude', 'please rebase onto main', '--json'], { agent: 'codex' }).json.message.id;
    // Output that reached nobody (the reader closed the pipe) does not count as the one nudge.
    const lost = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" agent-hook stop | (exec 0<&-; sleep 0.2)`], {
      cwd: repo,
      env: cleanEnv({ ...claudeEnv, HANDOFF_AGENT: 'claude' }),
      input: '{"stop_hook_active":false}',
      encoding: 'utf8',
    });
    expect([lost.status, lost.stderr]).toEqual([0, '']);
    const first = hook({ stop_hook_active: false, session_id: 's' });
    expect(first.status).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out.decision).toBe('block');
    expect(out.reason).toContain('please rebase onto main');
    expect(out.reason).toContain(id.slice(-7));
    // Once per message: the continued turn's Stop does not block again.
    expect(hook({ stop_hook_active: true }).stdout).toBe('');
    expect(hook({ stop_hook_active: false }).stdout).toBe('');
    // Nothing was marked read by the hook.
    expect(ok(repo, ['show', id, '--json']).json.recipients[0].status).toBe('stored');
    // Run by another runtime (Cursor's input, or no CLAUDECODE), it says nothing.
    ok(repo, ['send', 'claude', 'second'], { agent: 'codex' });
    expect(hook({ cursor_version: '1.7', workspace_roots: [] }).stdout).toBe('');
    expect(hook({ stop_hook_active: false }, { HANDOFF_RUNTIME: 'claude', COPILOT_CLI: '1' }).stdout).toBe('');
    expect(hook({ stop_hook_active: false }, { HANDOFF_RUNTIME: 'claude' }).stdout).toBe('');
    expect(JSON.parse(hook({ stop_hook_active: false }).stdout).reason).toContain('second');
  });

  it('Stop: two agents keeping each other going are told by the loop guard, and the next continued turn ends', () => {
    const repo = makeRepo();
    git(repo, 'config', 'handoff.loopGuard', '4/600');
    ok(repo, ['join'], { agent: 'claude' });
    ok(repo, ['join'], { agent: 'codex' });
    const hook = (active: boolean) =>
      cli(repo, ['agent-hook', 'stop'], {
        agent: 'claude',
        env: claudeEnv,
        input: JSON.stringify({ session_id: 's', hook_event_name: 'Stop', stop_hook_active: active }),
      });
    let last = ok(repo, ['send', 'claude', 'ping 0', '--json'], { agent: 'codex' }).json.message.id;
    const reasons: string[] = [];
    let ended = 0;
    for (let round = 1; round <= 8 && !ended; round++) {
      const r = hook(round > 1);
      expect(r.status).toBe(0);
      if (!r.stdout) {
        ended = round;
        break;
      }
      reasons.push(JSON.parse(r.stdout).reason);
      // Each answers the other inside the turn its Stop hook continued.
      const mine = ok(repo, ['reply', last, `pong ${round}`, '--json'], { agent: 'claude' }).json.message.id;
      last = ok(repo, ['reply', mine, `ping ${round}`, '--json'], { agent: 'codex' }).json.message.id;
    }
    // Told once, with the messages that continued the loop; the next continued turn then ends.
    const told = reasons.findIndex((r) => /going back and forth/.test(r));
    expect(told).toBeGreaterThan(0);
    expect(reasons.filter((r) => /going back and forth/.test(r))).toHaveLength(1);
    expect(ended).toBe(told + 2);
    // The message stays unread for the next turn a person starts; a turn not continued by a hook hears of it.
    expect(ok(repo, ['inbox', '--json'], { agent: 'claude' }).json.messages.map((m: any) => m.id)).toEqual([last]);
    expect(JSON.parse(hook(false).stdout).reason).toContain(last.slice(-7));
  });

  it('Stop: a message another hook is telling (its output not written yet) is not told twice, unless that one never finished', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'claude' });
    const id = ok(repo, ['send', 'claude', 'the build is red', '--json'], { agent: 'codex' }).json.message.id;
    const hook = () =>
      cli(repo, ['agent-hook', 'stop'], { agent: 'claude', env: claudeEnv, input: '{"stop_hook_active":false}' });
    // What idle-wait or a Stop hook running beside this one leaves while it writes its output.
    const pending = (ago: number) => {
      const db = new Database(path.join(commonDir(repo), 'handoff', 'ledger.db'));
      db.prepare('INSERT OR REPLACE INTO nudges (agent, message_id, at) VALUES (?, ?, ?)').run(
        'claude',
        id,
        -(Date.now() - ago),
      );
      db.close();
    };
    pending(0);
    expect(hook().stdout).toBe('');
    // That hook was killed before it wrote: after 30 s the message is told after all, once.
    pending(60_000);
    expect(JSON.parse(hook().stdout).reason).toContain('the build is red');
    expect(hook().stdout).toBe('');
  });

  it('SessionStart: adds the name and unread messages as context', () => {
    const repo = makeRepo();
    ok(repo, ['send', 'claude', 'welcome aboard', '--create'], { agent: 'lead' });
    const r = cli(repo, ['agent-hook', 'session-start'], {
      agent: 'claude',
      env: claudeEnv,
      input: '{"source":"startup"}',
    });
    const out = JSON.parse(r.stdout);
    expect(out.hookSpecificOutput.hookEventName).toBe('SessionStart');
    expect(out.hookSpecificOutput.additionalContext).toMatch(
      /You are "claude" in handoff\. 1 unread message:\n- \w+ from lead \(request\): welcome aboard/,
    );
    // Told at start counts: the Stop hook does not repeat it.
    expect(cli(repo, ['agent-hook', 'stop'], { agent: 'claude', env: claudeEnv, input: '{}' }).stdout).toBe('');
  });

  it('Stop and SessionStart say once that a claim was taken over, as inbox does', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'claude' });
    // A claim held by a process that then dies is taken over by the next claimer.
    const heldThenGone = async (key: string) => {
      const p = spawn('sleep', ['60']);
      ok(repo, ['claim', key, '--pid', String(p.pid)], { agent: 'claude' });
      p.kill('SIGKILL');
      await new Promise((r) => p.on('exit', r));
    };
    await heldThenGone('deploy');
    ok(repo, ['claim', 'deploy'], { agent: 'codex' });
    const stop = () =>
      cli(repo, ['agent-hook', 'stop'], {
        agent: 'claude',
        env: claudeEnv,
        input: JSON.stringify({ hook_event_name: 'Stop', stop_hook_active: false }),
      }).stdout;
    const told = JSON.parse(stop());
    expect(told.decision).toBe('block');
    expect(told.reason).toMatch(/your claim of deploy was taken over by codex .*your process was gone/);
    expect(stop()).toBe('');
    expect(ok(repo, ['inbox', '--json'], { agent: 'claude' }).json.notices).toEqual([]);
    // At the start of a session, in its context; once.
    await heldThenGone('review');
    ok(repo, ['claim', 'review'], { agent: 'gemini' });
    const start = () =>
      JSON.parse(cli(repo, ['agent-hook', 'session-start'], { agent: 'claude', env: claudeEnv, input: '{}' }).stdout)
        .hookSpecificOutput.additionalContext;
    expect(start()).toMatch(/your claim of review was taken over by gemini/);
    expect(start()).not.toMatch(/taken over/);
  });

  it('a hook whose input is never closed answers from what came within 3 s, and exits', async () => {
    const repo = makeRepo();
    ok(repo, ['send', 'claude', 'welcome aboard', '--create'], { agent: 'lead' });
    const child = spawn(process.execPath, [BIN, 'agent-hook', 'session-start'], {
      cwd: repo,
      env: cleanEnv({ HANDOFF_AGENT: 'claude', ...claudeEnv }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.write('{"source":"startup"}');
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const started = Date.now();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.stdin.destroy();
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(JSON.parse(out).hookSpecificOutput.additionalContext).toContain('welcome aboard');
  });

  it('idle-wait wakes an idle session when a message arrives (exit 2, notice on stderr), leaving it unread', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'claude' });
    const waiting = cliAsync(repo, ['agent-hook', 'idle-wait'], { agent: 'claude', env: claudeEnv });
    await new Promise((r) => setTimeout(r, 700));
    const id = ok(repo, ['send', 'claude', 'tests are red', '--json'], { agent: 'codex' }).json.message.id;
    const r = await waiting.done;
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('tests are red');
    expect(ok(repo, ['show', id, '--json']).json.recipients[0].status).toBe('stored');
    // A second waiter replaces the first, so there is never more than one per agent.
    const a = cliAsync(repo, ['agent-hook', 'idle-wait'], { agent: 'claude', env: claudeEnv });
    await new Promise((r2) => setTimeout(r2, 700));
    const b = cliAsync(repo, ['agent-hook', 'idle-wait'], { agent: 'claude', env: claudeEnv });
    const ra = await a.done;
    expect(ra.status).toBe(0);
    ok(repo, ['send', 'claude', 'again'], { agent: 'codex' });
    expect((await b.done).status).toBe(2);
  });
});

describe("Claude Code's background hook", () => {
  it('ends at once with 0 where handoff is not on PATH (a failing asyncRewake hook would wake the model for ever), and replaces an older entry', () => {
    const repo = makeRepo();
    // As an older handoff wrote it: no PATH guard.
    const old = 'HANDOFF_AGENT=claude HANDOFF_RUNTIME=claude handoff agent-hook idle-wait';
    fs.mkdirSync(path.join(repo, '.claude'));
    fs.writeFileSync(
      path.join(repo, '.claude', 'settings.json'),
      JSON.stringify({
        hooks: {
          Stop: [{ hooks: [{ type: 'command', command: old, async: true, asyncRewake: true, timeout: 3600 }] }],
        },
      }),
    );
    ok(repo, ['init', '--agent', 'claude']);
    const stop = JSON.parse(read(repo, '.claude/settings.json')).hooks.Stop.flatMap((g: any) => g.hooks);
    const idle = stop.filter((h: any) => h.command.includes('idle-wait'));
    expect(idle).toHaveLength(1);
    expect(idle[0]).toMatchObject({ async: true, asyncRewake: true });
    // Run as Claude Code runs a hook command (a shell), with a PATH that has no handoff on it.
    const r = spawnSync('sh', ['-c', idle[0].command], {
      cwd: repo,
      env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '', '']);
    // Again: nothing changes.
    expect(ok(repo, ['init', '--agent', 'claude', '--json']).json.changes.map((c: any) => c.action)).not.toContain(
      'modify',
    );
  });
});

describe('every agent is nudged in its own documented format', () => {
  it('Cursor gets followup_message, Gemini CLI a deny decision, Copilot both shapes; each only under its own runtime', () => {
    const repo = makeRepo();
    ok(repo, ['init', '--agent', 'all']);
    const cursorHooks = JSON.parse(read(repo, '.cursor/hooks.json'));
    expect(cursorHooks).toMatchObject({
      version: 1,
      hooks: {
        stop: [{ command: 'HANDOFF_AGENT=cursor HANDOFF_RUNTIME=cursor handoff agent-hook stop', loop_limit: 3 }],
      },
    });
    const gemini = JSON.parse(read(repo, '.gemini/settings.json'));
    expect(gemini.hooks.AfterAgent[0].hooks[0].command).toContain('HANDOFF_RUNTIME=gemini handoff agent-hook stop');
    // PascalCase events, which both Copilot CLI (its VS Code compatible format) and VS Code run; `bash` for
    // the one, `command` for the other.
    const copilotHooks = JSON.parse(read(repo, '.github/hooks/handoff.json')).hooks;
    expect(Object.keys(copilotHooks)).toEqual(['SessionStart', 'Stop']);
    expect(copilotHooks.Stop[0].bash).toBe('HANDOFF_AGENT=copilot HANDOFF_RUNTIME=copilot handoff agent-hook stop');
    expect(copilotHooks.Stop[0].command).toBe(copilotHooks.Stop[0].bash);
    expect(JSON.parse(read(repo, '.codex/hooks.json')).hooks.Stop[0].hooks[0].command).toContain(
      'HANDOFF_RUNTIME=codex',
    );
    expect(read(repo, '.opencode/plugins/handoff.js')).toContain("event.type !== 'session.idle'");
    const stop = (agent: string, env: Record<string, string>, input: object) =>
      cli(repo, ['agent-hook', 'stop'], {
        agent,
        env: { HANDOFF_RUNTIME: agent, ...env },
        input: JSON.stringify(input),
      });
    for (const a of ['cursor', 'gemini', 'copilot']) ok(repo, ['send', a, `hello ${a}`, '--create'], { agent: 'lead' });
    // Cursor runs its stop hook also when the user stopped the agent, or the turn failed: no follow-up then,
    // and the message is still news at the next completed turn.
    for (const status of ['aborted', 'error'])
      expect(stop('cursor', {}, { cursor_version: '1.7', status, loop_count: 0 }).stdout).toBe('');
    // The same with a byte order mark before the JSON (Cursor on Windows writes one).
    const bom = cli(repo, ['agent-hook', 'stop'], {
      agent: 'cursor',
      env: { HANDOFF_RUNTIME: 'cursor' },
      input: `\uFEFF${JSON.stringify({ cursor_version: '3.7.21', status: 'aborted', loop_count: 0 })}`,
    });
    expect([bom.status, bom.stdout]).toEqual([0, '']);
    expect(
      JSON.parse(stop('cursor', {}, { cursor_version: '1.7', status: 'completed', loop_count: 0 }).stdout),
    ).toEqual({ followup_message: expect.stringContaining('hello cursor') });
    // Copilot CLI does not read sessionStart's output: what was waiting then is told at the first Stop.
    const start = cli(repo, ['agent-hook', 'session-start'], {
      agent: 'copilot',
      env: { HANDOFF_RUNTIME: 'copilot', COPILOT_CLI: '1' },
      input: JSON.stringify({ hook_event_name: 'SessionStart', session_id: 's1', source: 'new' }),
    });
    expect(JSON.parse(start.stdout).hookSpecificOutput.additionalContext).toContain('hello copilot');
    expect(JSON.parse(stop('gemini', { GEMINI_CLI: '1' }, { stop_hook_active: false }).stdout)).toMatchObject({
      decision: 'deny',
      reason: expect.stringContaining('hello gemini'),
    });
    const cp = JSON.parse(
      stop(
        'copilot',
        { COPILOT_CLI: '1' },
        { hook_event_name: 'Stop', stop_hook_active: false, stop_reason: 'end_turn' },
      ).stdout,
    );
    expect(cp).toMatchObject({ decision: 'block', hookSpecificOutput: { hookEventName: 'Stop', decision: 'block' } });
    expect(cp.reason).toContain('hello copilot');
    // Cursor running the Claude Code hook (third-party hooks) is not Claude: silent.
    ok(repo, ['send', 'claude', 'for claude only', '--create'], { agent: 'lead' });
    expect(
      cli(repo, ['agent-hook', 'stop'], {
        agent: 'claude',
        env: { HANDOFF_RUNTIME: 'claude' },
        input: JSON.stringify({ cursor_version: '1.7' }),
      }).stdout,
    ).toBe('');
    ok(repo, ['init', '--undo']);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });
});

describe('what a second outside review found', () => {
  it("undo --force keeps the user's own entries in lists and hook groups handoff also wrote to", () => {
    const repo = makeRepo();
    ok(repo, ['init', '--agent', 'gemini', '--agent', 'claude']);
    const gem = JSON.parse(read(repo, '.gemini/settings.json'));
    gem.context.fileName.push('MINE.md');
    write(repo, '.gemini/settings.json', JSON.stringify(gem, null, 2));
    const cl = JSON.parse(read(repo, '.claude/settings.json'));
    cl.hooks.Stop[0].hooks.push({ type: 'command', command: 'echo mine' });
    write(repo, '.claude/settings.json', JSON.stringify(cl, null, 2));
    ok(repo, ['init', '--undo', '--force']);
    expect(JSON.parse(read(repo, '.gemini/settings.json'))).toEqual({
      context: { fileName: ['GEMINI.md', 'MINE.md'] },
    });
    const after = read(repo, '.claude/settings.json');
    expect(after).not.toContain('agent-hook');
    expect(JSON.parse(after).hooks.Stop).toEqual([{ hooks: [{ type: 'command', command: 'echo mine' }] }]);
  });

  it('send --id accepts a retry only when it is the same message', () => {
    const repo = makeRepo();
    for (const n of ['zed', 'codex']) ok(repo, ['join'], { agent: n });
    const id = '01M8Y5ABCDEFGHJKMNPQRSTVWX';
    ok(repo, ['send', 'zed', 'retry', '--id', id], { agent: 'claude' });
    expect(cli(repo, ['send', 'codex', 'retry', '--id', id], { agent: 'claude' }).status).toBe(4);
    expect(cli(repo, ['send', 'zed', 'retry', '--id', id, '--kind', 'question'], { agent: 'claude' }).status).toBe(4);
    expect(ok(repo, ['send', 'zed', 'retry', '--id', id, '--json'], { agent: 'claude' }).json.alreadySent).toBe(true);
  });

  it("a Claude Code hook run with another runtime's marker beside CLAUDECODE says nothing; a tracked hooks dir is exit 1", () => {
    const repo = makeRepo();
    ok(repo, ['send', 'claude', 'x', '--create'], { agent: 'lead' });
    const r = cli(repo, ['agent-hook', 'stop'], {
      agent: 'claude',
      env: { CLAUDECODE: '1', CODEX_THREAD_ID: 't', HANDOFF_RUNTIME: 'claude' },
      input: '{}',
    });
    expect(r.stdout).toBe('');
    const h = makeRepo({ files: { '.husky/post-commit': '#!/bin/sh\n' } });
    git(h, 'config', 'core.hooksPath', '.husky');
    const i = cli(h, ['hooks', 'install', '--json']);
    expect(i.status).toBe(1);
    expect(i.json.error.code).toBe('hooks_manual');
    expect(i.json.error.details.manual).toHaveLength(5);
    // Before the lines are added, status says handoff is not there; after, that each hook runs it.
    const before = ok(h, ['hooks', 'status', '--json']).json.hooks;
    expect(before.find((x: any) => x.name === 'post-commit').problem).toBe(
      'another hook is installed (handoff is not)',
    );
    // ... and points to the lines to add, not back to the install that changes nothing there.
    const said = cli(h, ['hooks', 'status']).stderr;
    expect(said).toContain(
      '.husky/post-commit: if command -v handoff >/dev/null 2>&1; then handoff hooks run post-commit "$@" || exit $?; fi',
    );
    expect(said).not.toContain("Run 'handoff hooks install'");
    for (const line of i.json.error.details.manual as string[]) {
      const [file, cmd] = [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)];
      const at = path.join(h, file);
      const had = fs.existsSync(at) ? fs.readFileSync(at, 'utf8') : '#!/bin/sh\n';
      fs.writeFileSync(at, `${had}${cmd}\n`);
      fs.chmodSync(at, 0o755);
    }
    // A line commented out does not count.
    fs.writeFileSync(path.join(h, '.husky/post-rewrite'), '#!/bin/sh\n# handoff hooks run post-rewrite "$@"\n', {
      mode: 0o755,
    });
    // With handoff on PATH (as npm link puts it).
    const bin = fs.mkdtempSync(path.join(path.dirname(h), 'bin-'));
    fs.writeFileSync(path.join(bin, 'handoff'), '#!/bin/sh\n', { mode: 0o755 });
    const onPath = { env: { PATH: `${bin}${path.delimiter}${process.env.PATH}` } };
    const after = ok(h, ['hooks', 'status', '--json'], onPath).json.hooks;
    expect(after.map((x: any) => [x.name, x.state, x.healthy])).toEqual([
      ['pre-commit', 'manual', true],
      ['prepare-commit-msg', 'manual', true],
      ['post-commit', 'manual', true],
      ['post-merge', 'manual', true],
      ['post-rewrite', 'foreign', false],
    ]);
    // The lines asked for run handoff only where it is on PATH: nothing to say without it. A bare line is named.
    const off = ok(h, ['hooks', 'status', '--json'], { env: { PATH: '/usr/bin:/bin' } }).json.hooks;
    expect(off[0].problem).toBeNull();
    fs.writeFileSync(path.join(h, '.husky/pre-commit'), '#!/bin/sh\nhandoff hooks run pre-commit "$@"\n');
    const bare = ok(h, ['hooks', 'status', '--json'], { env: { PATH: '/usr/bin:/bin' } }).json.hooks;
    expect(bare[0].problem).toContain("runs 'handoff', which is not on PATH here");
    fs.writeFileSync(path.join(h, '.husky/prepare-commit-msg'), '#!/bin/sh\nhandoff hooks run prepare-commit-msg\n');
    const noArgs = ok(h, ['hooks', 'status', '--json'], onPath).json.hooks[1];
    expect([noArgs.healthy, noArgs.problem]).toEqual([
      false,
      `the line does not pass the hook's arguments: handoff hooks run prepare-commit-msg "$@"`,
    ]);
  });
});

describe('init and symbolic links in the repository', () => {
  it('refuses links that lead outside the working tree, writing nothing; follows one that stays inside', () => {
    const victim = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'handoff-victim-'));
    fs.writeFileSync(path.join(victim, 'profile'), 'mine\n');
    fs.mkdirSync(path.join(victim, 'claude'));
    const repo = makeRepo();
    // As a clone of a hostile repository makes them: committed links, one to a file and one to a directory.
    fs.symlinkSync(path.join(victim, 'profile'), path.join(repo, 'AGENTS.md'));
    fs.symlinkSync(path.join(victim, 'claude'), path.join(repo, '.claude'));
    fs.symlinkSync(path.join(victim, 'nothing-yet'), path.join(repo, '.mcp.json'));
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'links');
    for (const args of [
      ['init', '--agent', 'claude', '--json'],
      ['init', '--agent', 'claude', '--dry-run', '--json'],
    ]) {
      const r = cli(repo, args);
      expect([r.status, r.json.error.code]).toEqual([1, 'link_outside']);
      expect(r.json.error.details.paths.map((p: string) => p.split(' ')[0]).sort()).toEqual([
        '.claude/settings.json',
        '.claude/skills/handoff/SKILL.md',
        '.mcp.json',
        'AGENTS.md',
      ]);
    }
    expect(fs.readFileSync(path.join(victim, 'profile'), 'utf8')).toBe('mine\n');
    expect(fs.readdirSync(path.join(victim, 'claude'))).toEqual([]);
    expect(fs.existsSync(path.join(victim, 'nothing-yet'))).toBe(false);
    expect(git(repo, 'status', '--porcelain')).toBe('');
    // A link that stays inside (CLAUDE.md to a file of the repository) is written through.
    const inside = makeRepo({ files: { 'docs/agents.md': '# Agents\n' } });
    fs.symlinkSync('docs/agents.md', path.join(inside, 'AGENTS.md'));
    ok(inside, ['init', '--agent', 'codex']);
    expect(fs.lstatSync(path.join(inside, 'AGENTS.md')).isSymbolicLink()).toBe(true);
    expect(read(inside, 'docs/agents.md')).toContain('<!-- handoff:start -->');
    // So is one to a file not made yet, inside.
    const toBe = makeRepo();
    fs.symlinkSync('docs/agents.md', path.join(toBe, 'AGENTS.md'));
    fs.mkdirSync(path.join(toBe, 'docs'));
    ok(toBe, ['init', '--agent', 'codex']);
    expect(read(toBe, 'docs/agents.md')).toContain('<!-- handoff:start -->');
  });

  it('CLAUDE.md linked to AGENTS.md (either way) keeps the protocol section: no import of the file into itself', () => {
    for (const [file, link] of [
      ['AGENTS.md', 'CLAUDE.md'],
      ['CLAUDE.md', 'AGENTS.md'],
    ] as const) {
      const repo = makeRepo({ files: { [file]: '# Rules\nuse tabs\n' } });
      fs.symlinkSync(file, path.join(repo, link));
      fs.symlinkSync(file, path.join(repo, 'GEMINI.md'));
      git(repo, 'add', '-A');
      git(repo, 'commit', '-qm', 'links');
      const first = ok(repo, ['init', '--agent', 'claude', '--agent', 'gemini', '--json']).json;
      const text = read(repo, file);
      expect(text).toContain('# Rules\nuse tabs\n');
      expect(text).toContain('handoff inbox');
      expect(text).not.toContain('@AGENTS.md');
      expect(text.match(/handoff:start/g)).toHaveLength(1);
      expect(first.changes.map((c: any) => c.path)).not.toContain('CLAUDE.md');
      expect(first.changes.find((c: any) => c.path === 'AGENTS.md').note).toMatch(/CLAUDE\.md is a link/);
      expect(fs.lstatSync(path.join(repo, link)).isSymbolicLink()).toBe(true);
      // Run again: nothing changes; undone: the file is as it was, without --force.
      const again = ok(repo, ['init', '--agent', 'claude', '--agent', 'gemini', '--json']).json;
      expect(again.changes.find((c: any) => c.path === 'AGENTS.md').action).toBe('unchanged');
      expect(read(repo, file)).toBe(text);
      ok(repo, ['init', '--undo']);
      expect(read(repo, file)).toBe('# Rules\nuse tabs\n');
      expect(fs.lstatSync(path.join(repo, link)).isSymbolicLink()).toBe(true);
    }
    // Two other files that a link makes one are refused, nothing written.
    const repo = makeRepo();
    fs.mkdirSync(path.join(repo, '.claude'));
    fs.writeFileSync(path.join(repo, '.claude', 'settings.json'), '{}\n');
    fs.symlinkSync('.claude/settings.json', path.join(repo, '.mcp.json'));
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'links');
    const r = cli(repo, ['init', '--agent', 'claude', '--json']);
    expect([r.status, r.json.error.code]).toEqual([1, 'link_shared']);
    expect(r.json.error.details.paths.sort()).toEqual(['.claude/settings.json', '.mcp.json']);
    expect(read(repo, '.claude/settings.json')).toBe('{}\n');
    expect(fs.existsSync(path.join(repo, 'AGENTS.md'))).toBe(false);
  });
});

describe('init run again after edits', () => {
  it('undo after a second init keeps what the user wrote between the two, in every kind of file', () => {
    const repo = makeRepo();
    ok(repo, ['init', '--agent', 'claude', '--agent', 'codex']);
    fs.appendFileSync(path.join(repo, 'AGENTS.md'), '\n## Our rules\nNo force pushes.\n');
    const mcp = JSON.parse(read(repo, '.mcp.json'));
    mcp.mcpServers.other = { command: 'other-server' };
    write(repo, '.mcp.json', `${JSON.stringify(mcp, null, 2)}\n`);
    fs.appendFileSync(path.join(repo, '.codex/config.toml'), '\n[profiles.mine]\nmodel = "o4"\n');
    // Run again (an upgrade, say), then undo.
    const tomlBefore = read(repo, '.codex/config.toml');
    ok(repo, ['init', '--agent', 'claude', '--agent', 'codex']);
    // handoff's table is rewritten where it was: the user's table stays after it, the file as it was.
    expect(read(repo, '.codex/config.toml')).toBe(tomlBefore);
    const undo = ok(repo, ['init', '--undo', '--json']).json;
    expect(undo.changes.filter((c: any) => c.action === 'delete').map((c: any) => c.path)).not.toEqual(
      expect.arrayContaining(['AGENTS.md', '.mcp.json', '.codex/config.toml']),
    );
    expect(read(repo, 'AGENTS.md')).toContain('No force pushes.');
    expect(read(repo, 'AGENTS.md')).not.toContain('handoff:start');
    expect(JSON.parse(read(repo, '.mcp.json')).mcpServers).toEqual({ other: { command: 'other-server' } });
    const toml = require('smol-toml') as typeof import('smol-toml');
    const codex = toml.parse(read(repo, '.codex/config.toml')) as any;
    expect([codex.profiles?.mine?.model, codex.mcp_servers?.handoff]).toEqual(['o4', undefined]);
    // A file init made and nobody touched still goes, as after one init.
    expect(fs.existsSync(path.join(repo, '.claude/skills/handoff/SKILL.md'))).toBe(false);
  });
});

describe('init --undo and the git hooks every worktree shares', () => {
  it('leaves hooks that were installed before init, from a linked worktree too; removes the ones init installed', () => {
    const repo = makeRepo();
    ok(repo, ['hooks', 'install']);
    const wt = addWorktree(repo, 'feature');
    ok(wt, ['init', '--agent', 'claude']);
    const undo = ok(wt, ['init', '--undo', '--json']).json;
    expect(undo.manualSteps.join(' ')).toContain('init did not install them');
    expect(ok(repo, ['hooks', 'status', '--json']).json.hooks.map((h: any) => h.state)).toEqual(
      Array(5).fill('installed'),
    );
    // Installed by init: undo takes them away again, also when an earlier handoff's init (which noted
    // nothing) installed them.
    const fresh = makeRepo();
    ok(fresh, ['init', '--agent', 'codex']);
    ok(fresh, ['init', '--undo']);
    expect(ok(fresh, ['hooks', 'status', '--json']).json.hooks.map((h: any) => h.state)).toEqual(
      Array(5).fill('absent'),
    );
    // By hand, then uninstalled by hand and installed by init: init's to remove.
    const byHand = makeRepo();
    ok(byHand, ['hooks', 'install']);
    ok(byHand, ['init', '--agent', 'codex']);
    ok(byHand, ['init', '--undo']);
    expect(ok(byHand, ['hooks', 'status', '--json']).json.hooks.map((h: any) => h.state)).toEqual(
      Array(5).fill('installed'),
    );
    ok(byHand, ['hooks', 'uninstall']);
    ok(byHand, ['init', '--agent', 'codex']);
    ok(byHand, ['init', '--undo']);
    expect(ok(byHand, ['hooks', 'status', '--json']).json.hooks.map((h: any) => h.state)).toEqual(
      Array(5).fill('absent'),
    );
  });
});

describe("CLAUDECODE in an IDE's terminal", () => {
  // Claude Code's IDE extensions set CLAUDECODE=1 in their integrated terminals, so Codex or Gemini CLI
  // started there carry it; Claude Code's own processes carry CLAUDE_CODE_ENTRYPOINT or
  // CLAUDE_CODE_CHILD_SESSION too (docs/agents.md).
  it('names the runtime whose own marker is there: identity, the Codex and Gemini hooks, and the commit trailer', () => {
    const repo = makeRepo();
    ok(repo, ['hooks', 'install']);
    const ide = { CLAUDECODE: '1' };
    const codexShell = { ...ide, CODEX_THREAD_ID: 't1' };
    expect(ok(repo, ['whoami', '--json'], { env: codexShell }).json).toMatchObject({ name: 'codex', runtime: 'codex' });
    expect(ok(repo, ['whoami', '--json'], { env: { ...ide, GEMINI_CLI: '1' } }).json.name).toBe('gemini');
    // Claude Code's own markers still name Claude Code, alone or beside another runtime's (nested agents).
    expect(ok(repo, ['whoami', '--json'], { env: ide }).json.name).toBe('claude');
    expect(ok(repo, ['whoami', '--json'], { env: { ...codexShell, CLAUDE_CODE_ENTRYPOINT: 'cli' } }).json.name).toBe(
      'claude',
    );
    // The Codex and Gemini hooks speak for their agents.
    for (const a of ['codex', 'gemini']) ok(repo, ['send', a, `hello ${a}`, '--create'], { agent: 'lead' });
    const codexOut = cli(repo, ['agent-hook', 'stop'], {
      agent: 'codex',
      env: { ...codexShell, HANDOFF_RUNTIME: 'codex' },
      input: JSON.stringify({ hook_event_name: 'Stop', stop_hook_active: false }),
    });
    expect(JSON.parse(codexOut.stdout || '{}')).toMatchObject({ decision: 'block' });
    const gemini = cli(repo, ['agent-hook', 'stop'], {
      agent: 'gemini',
      env: { ...ide, GEMINI_CLI: '1', HANDOFF_RUNTIME: 'gemini' },
      input: JSON.stringify({ stop_hook_active: false }),
    });
    expect(JSON.parse(gemini.stdout)).toMatchObject({
      decision: 'deny',
      reason: expect.stringContaining('hello gemini'),
    });
    // Gemini CLI gives its hooks no marker of its own (GEMINI_CLI is set for its shell tool's commands), nor
    // does Codex always: with CLAUDECODE alone beside them, the hooks still speak for the agent whose hook
    // file they came from (HANDOFF_RUNTIME); another runtime's own marker still stops them (above, and below).
    for (const a of ['codex', 'gemini']) ok(repo, ['send', a, `again ${a}`], { agent: 'lead' });
    for (const [a, answer] of [
      ['gemini', 'deny'],
      ['codex', 'block'],
    ] as const) {
      const r = cli(repo, ['agent-hook', 'stop'], {
        agent: a,
        env: { ...ide, HANDOFF_RUNTIME: a },
        input: JSON.stringify({ stop_hook_active: false }),
      });
      expect(JSON.parse(r.stdout || '{}'), a).toMatchObject({
        decision: answer,
        reason: expect.stringContaining(`again ${a}`),
      });
      const started = cli(repo, ['agent-hook', 'session-start'], {
        agent: a,
        env: { ...ide, HANDOFF_RUNTIME: a },
        input: JSON.stringify({ source: 'startup' }),
      });
      expect(JSON.stringify(JSON.parse(started.stdout || '{}')), a).toContain(`You are \\"${a}\\" in handoff`);
    }
    const nested = cli(repo, ['agent-hook', 'stop'], {
      agent: 'gemini',
      env: { ...ide, CLAUDE_CODE_ENTRYPOINT: 'cli', HANDOFF_RUNTIME: 'gemini' },
      input: JSON.stringify({ stop_hook_active: false }),
    });
    expect(nested.stdout).toBe('');
    // A commit Codex makes from such a terminal is Codex's.
    write(repo, 'c.txt', 'c\n');
    const env = cleanEnv(codexShell);
    expect(spawnSync('git', ['add', 'c.txt'], { cwd: repo, env }).status).toBe(0);
    expect(spawnSync('git', ['commit', '-qm', 'by codex'], { cwd: repo, env }).status).toBe(0);
    expect(git(repo, 'log', '-1', '--format=%(trailers:key=Handoff-Agent,valueonly)')).toBe('codex');
    expect(ok(repo, ['log', '-n', '1', '--json']).json.commits[0].agent.name).toBe('codex');
  });
});
