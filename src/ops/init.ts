/**
 * `init`: puts handoff in each agent's default path. It writes an AGENTS.md section teaching the protocol,
 * a CLAUDE.md import and a skill for Claude Code, the MCP server registration in each agent's project
 * config (with HANDOFF_AGENT set, so two agents get distinct names), Claude Code hooks that surface unread
 * messages, and the git hooks. Idempotent; --dry-run shows every change; --undo restores every file
 * byte for byte (the bytes before the first init are kept in <git common dir>/handoff/init-manifest.json).
 */
import fs from 'node:fs';
import path from 'node:path';
import { HandoffError, UsageError } from '../core/errors';
import { validateAgentName } from '../core/names';
import type { Context } from './context';
import { installHooks, uninstallHooks, type HookPaths, type HooksJson } from './hooks';

export const AGENT_KINDS = ['claude', 'codex', 'gemini', 'copilot', 'cursor', 'opencode'] as const;
export type AgentKind = (typeof AGENT_KINDS)[number];

const START = '<!-- handoff:start -->';
const END = '<!-- handoff:end -->';

/** The protocol, in a few lines (the MCP server's instructions, the skill, the AGENTS.md section). */
export function protocolText(): string {
  return protocolSection().replace(START, '').replace(END, '').trim();
}

/** The protocol, in a few lines, for AGENTS.md. */
export function protocolSection(): string {
  return `${START}
## Working with other agents: handoff

This repository uses \`handoff\` to pass work between AI agents. Your name comes from HANDOFF_AGENT
(set in your MCP server and hooks by \`handoff init\`). Use the MCP tools of the \`handoff\` server, or the CLI:

- Check for messages when you start and after each step: \`handoff inbox\`; read one with \`handoff read <id>\`.
- Hand work over with your changes attached: \`handoff send <agent> "what you need" --attach-diff\`
  (\`--kind question|review_request|status|decision\`; \`@team\`, \`@role\` or \`all\` reach several agents).
- Answer in the thread: \`handoff reply <id> "..."\` (add \`--attach-diff\` when you changed files).
- Wait for an answer: \`handoff wait --timeout 600\`.
- Commit as usual: git hooks record you and the handoff you work on (\`handoff work-on <id>\` pins one).
- Stop after a few exchanges on one topic and ask the human; mark messages that need no answer \`--no-reply\`.
${END}
`;
}

interface Planned {
  /** Path relative to the worktree. */
  path: string;
  next: (before: string | null) => string;
}

function mdSection(section: string): (before: string | null) => string {
  return (before) => {
    if (before === null) return section;
    const s = before.indexOf(START);
    const e = before.indexOf(END);
    if (s >= 0 && e > s) return before.slice(0, s) + section.trimEnd() + before.slice(e + END.length);
    return `${before.replace(/\n*$/, '\n\n')}${section}`;
  };
}

function jsonMerge(file: string, edit: (doc: Record<string, any>) => void): (before: string | null) => string {
  return (before) => {
    let doc: Record<string, any> = {};
    if (before !== null && before.trim()) {
      try {
        doc = JSON.parse(before) as Record<string, any>;
      } catch {
        throw new HandoffError('bad_config_file', `${file} is not valid JSON, so handoff will not change it. Fix it (or move it away) and run init again.`);
      }
    }
    const copy = JSON.parse(JSON.stringify(doc)) as Record<string, any>;
    edit(copy);
    if (before !== null && JSON.stringify(copy) === JSON.stringify(doc)) return before;
    return `${JSON.stringify(copy, null, 2)}\n`;
  };
}

const mcpEntry = (name: string) => ({ command: 'handoff', args: ['mcp'], env: { HANDOFF_AGENT: name } });

function plan(kind: AgentKind, name: string): Planned[] {
  const agentsMd: Planned = { path: 'AGENTS.md', next: mdSection(protocolSection()) };
  switch (kind) {
    case 'claude':
      return [
        agentsMd,
        { path: 'CLAUDE.md', next: mdSection(`${START}\n@AGENTS.md\n${END}\n`) },
        {
          path: '.claude/skills/handoff/SKILL.md',
          next: () => `---
name: handoff
description: Message other AI agents working on this repository, hand work over with a diff, and see who changed what. Use when you need another agent's help, finish a step someone asked for, or find a message waiting.
---

${protocolSection().replace(START, '').replace(END, '').trim()}
`,
        },
        { path: '.mcp.json', next: jsonMerge('.mcp.json', (d) => ((d.mcpServers ??= {}).handoff = mcpEntry(name))) },
        {
          path: '.claude/settings.json',
          next: jsonMerge('.claude/settings.json', (d) => {
            const hooks = (d.hooks ??= {});
            const command = `HANDOFF_AGENT=${name} handoff inbox`;
            for (const event of ['SessionStart', 'Stop']) {
              const list = (hooks[event] ??= []) as { hooks?: { type: string; command: string }[] }[];
              if (!list.some((e) => e.hooks?.some((h) => h.command === command))) list.push({ hooks: [{ type: 'command', command }] });
            }
          }),
        },
      ];
    case 'codex':
      return [
        agentsMd,
        {
          path: '.codex/config.toml',
          next: (before) => {
            const block = `# ${START}\n[mcp_servers.handoff]\ncommand = "handoff"\nargs = ["mcp"]\nenv = { HANDOFF_AGENT = "${name}" }\n# ${END}\n`;
            if (before === null) return block;
            const s = before.indexOf(`# ${START}`);
            const e = before.indexOf(`# ${END}`);
            if (s >= 0 && e > s) return before.slice(0, s) + block + before.slice(e + `# ${END}\n`.length);
            return `${before.replace(/\n*$/, '\n\n')}${block}`;
          },
        },
      ];
    case 'gemini':
      return [agentsMd, { path: '.gemini/settings.json', next: jsonMerge('.gemini/settings.json', (d) => ((d.mcpServers ??= {}).handoff = mcpEntry(name))) }];
    case 'copilot':
      return [agentsMd, { path: '.vscode/mcp.json', next: jsonMerge('.vscode/mcp.json', (d) => ((d.servers ??= {}).handoff = { type: 'stdio', ...mcpEntry(name) })) }];
    case 'cursor':
      return [agentsMd, { path: '.cursor/mcp.json', next: jsonMerge('.cursor/mcp.json', (d) => ((d.mcpServers ??= {}).handoff = mcpEntry(name))) }];
    case 'opencode':
      return [
        agentsMd,
        {
          path: 'opencode.json',
          next: jsonMerge('opencode.json', (d) => {
            (d.mcp ??= {}).handoff = { type: 'local', command: ['handoff', 'mcp'], environment: { HANDOFF_AGENT: name }, enabled: true };
          }),
        },
      ];
  }
}

const MANUAL: Record<AgentKind, string> = {
  claude: 'Claude Code: approve the "handoff" MCP server from .mcp.json when asked, and review the hooks in .claude/settings.json (/hooks).',
  codex: 'Codex: trust this project so that .codex/config.toml is read (or copy its [mcp_servers.handoff] block to ~/.codex/config.toml).',
  gemini: 'Gemini CLI: trust this folder so that .gemini/settings.json is read; it reads AGENTS.md when context.fileName includes it.',
  copilot: 'GitHub Copilot: enable the "handoff" server from .vscode/mcp.json (MCP servers need approval in your editor or CLI).',
  cursor: 'Cursor: enable the "handoff" server in Settings > MCP.',
  opencode: 'opencode: the "handoff" server in opencode.json starts with opencode.',
};

export interface InitChange {
  path: string;
  action: 'create' | 'modify' | 'unchanged' | 'restore' | 'delete';
  content?: string;
}

export interface InitJson {
  dryRun: boolean;
  undo: boolean;
  agents: { kind: AgentKind; name: string }[];
  changes: InitChange[];
  hooks: HooksJson | null;
  manualSteps: string[];
}

interface Manifest {
  files: { path: string; before: string | null }[];
  dirs: string[];
}

const manifestPath = (ctx: Context) => path.join(ctx.dataDir, 'init-manifest.json');

function readManifest(ctx: Context): Manifest {
  try {
    return JSON.parse(fs.readFileSync(manifestPath(ctx), 'utf8')) as Manifest;
  } catch {
    return { files: [], dirs: [] };
  }
}

/** Runs init (or its undo) in the current worktree. */
export function init(ctx: Context, input: { agents: string[]; name?: string; dryRun?: boolean; undo?: boolean; paths: HookPaths }): InitJson {
  const top = ctx.repo.worktree;
  if (!top) throw new HandoffError('bare_repository', 'init writes agent configuration into a working tree; run it in one.');
  if (input.undo) return undo(ctx, top, !!input.dryRun);
  const kinds = (input.agents.includes('all') || input.agents.length === 0 ? [...AGENT_KINDS] : input.agents) as AgentKind[];
  for (const k of kinds) if (!(AGENT_KINDS as readonly string[]).includes(k)) throw new UsageError('unknown_agent_kind', `Unknown agent "${k}". Choose from ${AGENT_KINDS.join(', ')}, or all.`);
  if (input.name !== undefined && kinds.length !== 1) throw new UsageError('name_needs_one_agent', '--name applies to one agent; give a single --agent with it.');
  const agents = kinds.map((kind) => ({ kind, name: validateAgentName(input.name ?? kind) }));

  // Compute every change first (so that a broken config file stops init before anything is written).
  const contents = new Map<string, { before: string | null; next: string }>();
  for (const a of agents) {
    for (const p of plan(a.kind, a.name)) {
      const abs = path.join(top, p.path);
      // A file planned by an earlier agent keeps its original "before" (null when init creates it).
      const earlier = contents.get(p.path);
      const current = earlier ? earlier.next : fs.existsSync(abs) ? fs.readFileSync(abs, 'utf8') : null;
      contents.set(p.path, { before: earlier ? earlier.before : current, next: p.next(current) });
    }
  }
  const changes: InitChange[] = [...contents].map(([p, c]) => ({
    path: p,
    action: c.before === null ? 'create' : c.before === c.next ? 'unchanged' : 'modify',
    content: c.next,
  }));
  const manualSteps = ["Put 'handoff' on PATH for the agents (npm link in the handoff checkout), since their configs start 'handoff mcp'.", ...kinds.map((k) => MANUAL[k])];
  if (input.dryRun) return { dryRun: true, undo: false, agents, changes, hooks: null, manualSteps };

  const manifest = readManifest(ctx);
  for (const [p, c] of contents) {
    if (c.before === c.next) continue;
    const abs = path.join(top, p);
    if (!manifest.files.some((f) => f.path === p)) manifest.files.push({ path: p, before: c.before });
    // Remember directories that did not exist, so that undo removes them.
    let dir = path.dirname(p);
    const newDirs: string[] = [];
    while (dir !== '.' && !fs.existsSync(path.join(top, dir))) {
      newDirs.push(dir);
      dir = path.dirname(dir);
    }
    for (const d of newDirs) if (!manifest.dirs.includes(d)) manifest.dirs.push(d);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, c.next);
  }
  fs.writeFileSync(manifestPath(ctx), JSON.stringify(manifest, null, 2));
  const hooks = installHooks(ctx, input.paths);
  return { dryRun: false, undo: false, agents, changes, hooks, manualSteps };
}

function undo(ctx: Context, top: string, dryRun: boolean): InitJson {
  const manifest = readManifest(ctx);
  const changes: InitChange[] = manifest.files.map((f) => ({ path: f.path, action: f.before === null ? 'delete' : 'restore' }));
  if (dryRun) return { dryRun: true, undo: true, agents: [], changes, hooks: null, manualSteps: [] };
  for (const f of manifest.files) {
    const abs = path.join(top, f.path);
    if (f.before === null) fs.rmSync(abs, { force: true });
    else fs.writeFileSync(abs, f.before);
  }
  // Deepest first; only directories init created and that are empty now.
  for (const d of [...manifest.dirs].sort((a, b) => b.length - a.length)) {
    try {
      fs.rmdirSync(path.join(top, d));
    } catch {
      /* not empty: something else lives there now */
    }
  }
  fs.rmSync(manifestPath(ctx), { force: true });
  const hooks = uninstallHooks(ctx);
  return { dryRun: false, undo: true, agents: [], changes, hooks, manualSteps: [] };
}
