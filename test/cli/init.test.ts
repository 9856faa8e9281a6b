import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, git, makeRepo, ok } from '../helpers/repo';

/** Every file of the working tree and .git/hooks with its bytes' hash (the repository as a user sees it). */
function snapshot(repo: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel = '') => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (r === '.git') continue;
      if (e.isDirectory()) {
        out[`${r}/`] = 'dir';
        walk(path.join(dir, e.name), r);
      } else
        out[r] = crypto
          .createHash('sha256')
          .update(fs.readFileSync(path.join(dir, e.name)))
          .digest('hex');
    }
  };
  walk(repo);
  const hooks = path.join(repo, '.git', 'hooks');
  for (const h of fs.readdirSync(hooks))
    out[`.git/hooks/${h}`] =
      crypto
        .createHash('sha256')
        .update(fs.readFileSync(path.join(hooks, h)))
        .digest('hex') + (fs.statSync(path.join(hooks, h)).mode & 0o777).toString(8);
  return out;
}

const EXPECTED: Record<string, { files: string[]; mcp: (repo: string) => any }> = {
  claude: {
    files: ['AGENTS.md', 'CLAUDE.md', '.claude/skills/handoff/SKILL.md', '.mcp.json', '.claude/settings.json'],
    mcp: (r) => JSON.parse(fs.readFileSync(path.join(r, '.mcp.json'), 'utf8')).mcpServers.handoff,
  },
  codex: {
    files: ['AGENTS.md', '.codex/hooks.json', '.codex/config.toml'],
    mcp: (r) => fs.readFileSync(path.join(r, '.codex/config.toml'), 'utf8'),
  },
  gemini: {
    files: ['AGENTS.md', '.gemini/settings.json'],
    mcp: (r) => JSON.parse(fs.readFileSync(path.join(r, '.gemini/settings.json'), 'utf8')).mcpServers.handoff,
  },
  copilot: {
    files: ['AGENTS.md', '.vscode/mcp.json', '.github/mcp.json', '.github/hooks/handoff.json'],
    mcp: (r) => JSON.parse(fs.readFileSync(path.join(r, '.vscode/mcp.json'), 'utf8')).servers.handoff,
  },
  cursor: {
    files: ['AGENTS.md', '.cursor/mcp.json', '.cursor/hooks.json'],
    mcp: (r) => JSON.parse(fs.readFileSync(path.join(r, '.cursor/mcp.json'), 'utf8')).mcpServers.handoff,
  },
  opencode: {
    files: ['AGENTS.md', 'opencode.json', '.opencode/plugins/handoff.js'],
    mcp: (r) => JSON.parse(fs.readFileSync(path.join(r, 'opencode.json'), 'utf8')).mcp.handoff,
  },
};

describe('init', () => {
  for (const [agent, exp] of Object.entries(EXPECTED)) {
    it(`for ${agent}: --dry-run lists the files, init writes them with the agent's name, --undo restores the repository byte for byte`, () => {
      const repo = makeRepo();
      const before = snapshot(repo);
      const dry = ok(repo, ['init', '--agent', agent, '--dry-run', '--json']).json;
      expect(dry.changes.map((c: any) => [c.path, c.action])).toEqual(exp.files.map((f) => [f, 'create']));
      expect(dry.manualSteps.length).toBeGreaterThan(1);
      expect(snapshot(repo)).toEqual(before);
      const human = ok(repo, ['init', '--agent', agent, '--dry-run']).stdout;
      for (const f of exp.files) expect(human).toContain(`would create  ${f}`);
      // Nothing at all was written, not even the ledger's database or the clone's id.
      expect(fs.existsSync(path.join(repo, '.git', 'handoff'))).toBe(false);

      const done = ok(repo, ['init', '--agent', agent, '--name', `${agent}-2`, '--json']).json;
      expect(done.agents).toEqual([{ kind: agent, name: `${agent}-2` }]);
      for (const f of exp.files) expect(fs.existsSync(path.join(repo, f))).toBe(true);
      expect(fs.readFileSync(path.join(repo, 'AGENTS.md'), 'utf8')).toContain(
        'handoff send <agent> "what you need" --attach-diff',
      );
      expect(JSON.stringify(exp.mcp(repo))).toContain(`${agent}-2`);
      expect(ok(repo, ['hooks', 'status', '--json']).json.hooks.every((h: any) => h.healthy)).toBe(true);
      // Idempotent.
      expect(
        ok(repo, ['init', '--agent', agent, '--name', `${agent}-2`, '--json']).json.changes.every(
          (c: any) => c.action === 'unchanged',
        ),
      ).toBe(true);

      ok(repo, ['init', '--undo']);
      expect(snapshot(repo)).toEqual(before);
    });
  }

  it('keeps what was in existing files, and undo restores them exactly', () => {
    const repo = makeRepo();
    fs.writeFileSync(path.join(repo, 'AGENTS.md'), '# Our rules\n\nBe nice.\n');
    fs.mkdirSync(path.join(repo, '.claude'));
    fs.writeFileSync(path.join(repo, '.claude', 'settings.json'), '{\n    "permissions": {"allow": ["Bash(ls)"]}\n}\n');
    fs.writeFileSync(path.join(repo, '.mcp.json'), '{"mcpServers": {"other": {"command": "x"}}}');
    fs.writeFileSync(path.join(repo, '.git', 'hooks', 'post-commit'), '#!/bin/sh\necho mine\n', { mode: 0o755 });
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'configs');
    const before = snapshot(repo);
    ok(repo, ['init', '--agent', 'claude', '--agent', 'codex']);
    const agentsMd = fs.readFileSync(path.join(repo, 'AGENTS.md'), 'utf8');
    expect(agentsMd.startsWith('# Our rules\n\nBe nice.\n\n<!-- handoff:start -->')).toBe(true);
    expect(agentsMd.match(/handoff:start/g)).toHaveLength(1);
    const settings = JSON.parse(fs.readFileSync(path.join(repo, '.claude', 'settings.json'), 'utf8'));
    expect(settings.permissions).toEqual({ allow: ['Bash(ls)'] });
    expect(settings.hooks.SessionStart[0].hooks[0].command).toBe(
      'HANDOFF_AGENT=claude HANDOFF_RUNTIME=claude handoff agent-hook session-start',
    );
    expect(Object.keys(JSON.parse(fs.readFileSync(path.join(repo, '.mcp.json'), 'utf8')).mcpServers)).toEqual([
      'other',
      'handoff',
    ]);
    ok(repo, ['init', '--undo']);
    expect(snapshot(repo)).toEqual(before);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('refuses to touch a config file that is not valid JSON, writing nothing', () => {
    const repo = makeRepo();
    fs.writeFileSync(path.join(repo, '.mcp.json'), '{ not json');
    const before = snapshot(repo);
    const r = cli(repo, ['init', '--agent', 'claude', '--json']);
    expect(r.status).toBe(1);
    expect(r.json.error.code).toBe('bad_config_file');
    expect(snapshot(repo)).toEqual(before);
    expect(cli(repo, ['init', '--agent', 'vim', '--json']).status).toBe(2);
  });
});
