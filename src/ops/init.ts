/**
 * `init`: puts handoff in each agent's default path: an AGENTS.md section teaching the protocol, a
 * CLAUDE.md import and a skill for Claude Code, the MCP server registration in each agent's project config
 * (HANDOFF_AGENT names the agent, HANDOFF_RUNTIME says which runtime the entry is for), agent hooks that
 * bring unread messages into the session, Gemini CLI's context file setting, and the git hooks.
 *
 * Edits are surgical: marked Markdown sections, JSON keys and array entries set through a JSONC editor
 * (comments and formatting kept), one marked TOML table. What was added is recorded per worktree in
 * <git dir>/handoff-init.json, so `--undo` removes exactly that: a file nobody touched since is restored
 * byte for byte; in a file edited since, only handoff's parts are removed and the user's edits stay; where
 * handoff's own part was edited, undo says so and changes nothing unless --force.
 */
import { configAdd, configGet, configGetAll, configUnset } from '../git/config';
import fs from 'node:fs';
import path from 'node:path';
import { ConflictError, HandoffError, UsageError } from '../core/errors';
import { validateAgentName } from '../core/names';
import { requireWritable, type Context } from './context';
import { writeFileAtomic } from '../core/files';
import { WORKTREE_NAMES, worktreeNames } from './identity';
import { checkHooksDir, hooksBeforeInit, installHooks, uninstallHooks, type HookPaths } from './hooks';
import type { HooksJson, InitChange, InitJson } from '../json/setup';
import { AGENT_KINDS, type AgentKind } from '../core/names';

const START = '<!-- handoff:start -->';
const END = '<!-- handoff:end -->';

/** The protocol, in a few lines (the MCP server's instructions, the skill, the AGENTS.md section). */
export function protocolText(): string {
  return protocolSection().replace(START, '').replace(END, '').trim();
}

/** The protocol, in a few lines, for AGENTS.md. */
function protocolSection(): string {
  return `${START}
## Working with other agents: handoff

This repository uses \`handoff\` to pass work between AI agents. Your name comes from HANDOFF_AGENT
(set in your MCP server and hooks by \`handoff init\`). Use the MCP tools of the \`handoff\` server, or the CLI:

- Check for messages when you start and after each step: \`handoff inbox\`; read one with \`handoff read <id>\`.
- Hand work over with your changes attached: \`handoff send <agent> "what you need" --attach-diff\`
  (\`--kind question|review_request|status|decision\`; \`@team\`, \`@role\` or \`all\` reach several agents).
- Answer in the thread: \`handoff reply <id> "..."\` (add \`--attach-diff\` when you changed files).
- Wait for an answer: \`handoff wait --timeout 600\`.
- Before working on a request, claim it (\`handoff claim <id>\`; exit 4 means another agent has it); when
  finished, say so: \`handoff done <id> -m "evidence"\` (or \`fail\` / \`block\` with the reason).
- Reserve files you are rewriting: \`handoff reserve 'src/parser/**' --exclusive -m "why"\`.
- Commit as usual: git hooks record you and the handoff you work on (\`handoff work-on <id>\` pins one).
- Stop after a few exchanges on one topic and ask the human; mark messages that need no answer \`--no-reply\`.
- Where your shell cannot write \`.git\` (Codex's sandbox keeps it read-only), use the MCP tools to write.
${END}
`;
}

type JsonPath = (string | number)[];

/** One change init makes to one file. */
type Edit =
  | { kind: 'section'; text: string }
  | { kind: 'file'; text: string }
  /** `implied`: what an absent key means to the agent (Gemini CLI reads GEMINI.md when context.fileName is unset). */
  | { kind: 'json-set'; at: JsonPath; value: unknown; merge?: (current: unknown) => unknown; implied?: unknown[] }
  | { kind: 'json-append'; at: JsonPath; value: unknown }
  | { kind: 'toml-table'; table: string[]; text: string };

interface Planned {
  /** Path relative to the worktree. */
  path: string;
  edits: Edit[];
}

/** What init did to one file, kept for undo. */
interface FileRecord {
  path: string;
  /** The bytes before handoff first touched the file (null: init created it). */
  original: string | null;
  /** The bytes init last wrote. */
  written: string;
  /**
   * The file was changed between two runs of init (not by init only): undo then takes out handoff's parts,
   * keeping those changes, rather than putting `original` back.
   */
  edited?: boolean;
  done: Done[];
}

type Done =
  | { kind: 'section'; text: string }
  | { kind: 'file'; text: string }
  /** `previous` undefined: the key was absent; `created`: containers init had to create. */
  | { kind: 'json-set'; at: JsonPath; value: unknown; previous?: unknown; created: JsonPath[]; implied?: unknown[] }
  /** `replaced`: handoff's entry for another agent name, which this one took the place of (undo puts it back). */
  | { kind: 'json-append'; at: JsonPath; value: unknown; created: JsonPath[]; replaced?: unknown }
  | { kind: 'toml-table'; text: string };

interface InitRecord {
  version: 2;
  files: FileRecord[];
  dirs: string[];
  /** Set when init --sign turned handoff.sign on: the values it had before (undo puts them back). */
  sign?: { previous: string[] };
  /** Set when init wrote this worktree's names by runtime: the file's content before (null: none). */
  names?: { previous: string | null };
}

const mcpEntry = (name: string, kind: AgentKind) => ({
  command: 'handoff',
  args: ['mcp'],
  env: { HANDOFF_AGENT: name, HANDOFF_RUNTIME: kind },
});
const hookCommand = (name: string, kind: AgentKind, event: string) =>
  `HANDOFF_AGENT=${name} HANDOFF_RUNTIME=${kind} handoff agent-hook ${event}`;

/**
 * Before Claude Code's background hook: where `handoff` is not on PATH, the hook ends at once with 0. A
 * background (asyncRewake) hook that fails to start would wake the model at every turn's end, for ever
 * (anthropics/claude-code#96148).
 */
const ON_PATH_GUARD = 'command -v handoff >/dev/null 2>&1 || exit 0; ';

function plan(kind: AgentKind, name: string): Planned[] {
  const agentsMd: Planned = { path: 'AGENTS.md', edits: [{ kind: 'section', text: protocolSection() }] };
  switch (kind) {
    case 'claude':
      return [
        agentsMd,
        { path: 'CLAUDE.md', edits: [{ kind: 'section', text: `${START}\n@AGENTS.md\n${END}\n` }] },
        {
          path: '.claude/skills/handoff/SKILL.md',
          edits: [
            {
              kind: 'file',
              text: `---
name: handoff
description: Message other AI agents working on this repository, hand work over with a diff, and see who changed what. Use when you need another agent's help, finish a step someone asked for, or find a message waiting.
---

${protocolText()}
`,
            },
          ],
        },
        // timeout (ms): Claude Code's tool timeout for this server, so that 'wait' is not cut short. Copilot CLI
        // also reads .mcp.json (HANDOFF_RUNTIME lets the server see it is not Claude Code); it wants a tools list.
        {
          path: '.mcp.json',
          edits: [
            {
              kind: 'json-set',
              at: ['mcpServers', 'handoff'],
              value: { ...mcpEntry(name, kind), timeout: 3_600_000, tools: ['*'] },
            },
          ],
        },
        {
          path: '.claude/settings.json',
          edits: [
            {
              kind: 'json-append',
              at: ['hooks', 'SessionStart'],
              value: { hooks: [{ type: 'command', command: hookCommand(name, kind, 'session-start') }] },
            },
            {
              kind: 'json-append',
              at: ['hooks', 'Stop'],
              value: { hooks: [{ type: 'command', command: hookCommand(name, kind, 'stop') }] },
            },
            // In the background after each turn: wakes an idle session when a message arrives (exit 2 + asyncRewake).
            {
              kind: 'json-append',
              at: ['hooks', 'Stop'],
              value: {
                hooks: [
                  {
                    type: 'command',
                    command: ON_PATH_GUARD + hookCommand(name, kind, 'idle-wait'),
                    async: true,
                    asyncRewake: true,
                    timeout: 3600,
                  },
                ],
              },
            },
          ],
        },
      ];
    case 'codex':
      return [
        agentsMd,
        // Codex hooks (.codex/hooks.json, reviewed with /hooks before they run): the same shape as Claude Code's.
        {
          path: '.codex/hooks.json',
          edits: [
            {
              kind: 'json-append',
              at: ['hooks', 'SessionStart'],
              value: { hooks: [{ type: 'command', command: hookCommand(name, kind, 'session-start') }] },
            },
            {
              kind: 'json-append',
              at: ['hooks', 'Stop'],
              value: { hooks: [{ type: 'command', command: hookCommand(name, kind, 'stop') }] },
            },
          ],
        },
        {
          path: '.codex/config.toml',
          edits: [
            {
              kind: 'toml-table',
              table: ['mcp_servers', 'handoff'],
              text: `# ${START}
[mcp_servers.handoff]
command = "handoff"
args = ["mcp"]
env = { HANDOFF_AGENT = "${name}", HANDOFF_RUNTIME = "codex" }
startup_timeout_sec = 30
# 'wait' blocks until a message comes; Codex would stop the tool call after 60 or 300 s.
tool_timeout_sec = 3600
# ${END}
`,
            },
          ],
        },
      ];
    case 'gemini':
      return [
        agentsMd,
        {
          path: '.gemini/settings.json',
          edits: [
            { kind: 'json-set', at: ['mcpServers', 'handoff'], value: { ...mcpEntry(name, kind), timeout: 3_600_000 } },
            // Gemini CLI's hooks: SessionStart adds context; AfterAgent's "deny" sends the reason as a new prompt.
            {
              kind: 'json-append',
              at: ['hooks', 'SessionStart'],
              value: { hooks: [{ type: 'command', command: hookCommand(name, kind, 'session-start') }] },
            },
            {
              kind: 'json-append',
              at: ['hooks', 'AfterAgent'],
              value: { hooks: [{ type: 'command', command: hookCommand(name, kind, 'stop') }] },
            },
            // Gemini CLI reads GEMINI.md unless context.fileName names other files: add AGENTS.md.
            {
              kind: 'json-set',
              at: ['context', 'fileName'],
              value: ['AGENTS.md', 'GEMINI.md'],
              implied: ['GEMINI.md'],
              merge: (cur) => {
                if (cur === undefined) return ['AGENTS.md', 'GEMINI.md'];
                const list = Array.isArray(cur) ? cur : [cur];
                return list.includes('AGENTS.md') ? cur : [...list, 'AGENTS.md'];
              },
            },
          ],
        },
      ];
    case 'copilot':
      return [
        agentsMd,
        // VS Code reads .vscode/mcp.json ("servers"); Copilot CLI reads .github/mcp.json ("mcpServers", with a tools list).
        {
          path: '.vscode/mcp.json',
          edits: [{ kind: 'json-set', at: ['servers', 'handoff'], value: { type: 'stdio', ...mcpEntry(name, kind) } }],
        },
        {
          path: '.github/mcp.json',
          edits: [
            {
              kind: 'json-set',
              at: ['mcpServers', 'handoff'],
              value: { ...mcpEntry(name, kind), tools: ['*'], timeout: 3_600_000 },
            },
          ],
        },
        {
          path: '.github/hooks/handoff.json',
          edits: [
            { kind: 'json-set', at: ['version'], value: 1, merge: (cur) => cur ?? 1 },
            // PascalCase event names: Copilot CLI takes them (its "VS Code compatible format") and VS Code
            // knows only these (it would read agentStop as AgentStop, no event of its own). Copilot CLI runs
            // `bash`, VS Code `command`.
            {
              kind: 'json-append',
              at: ['hooks', 'SessionStart'],
              value: {
                type: 'command',
                bash: hookCommand(name, kind, 'session-start'),
                command: hookCommand(name, kind, 'session-start'),
                timeoutSec: 30,
              },
            },
            {
              kind: 'json-append',
              at: ['hooks', 'Stop'],
              value: {
                type: 'command',
                bash: hookCommand(name, kind, 'stop'),
                command: hookCommand(name, kind, 'stop'),
                timeoutSec: 30,
              },
            },
          ],
        },
      ];
    case 'cursor':
      return [
        agentsMd,
        {
          path: '.cursor/mcp.json',
          edits: [{ kind: 'json-set', at: ['mcpServers', 'handoff'], value: mcpEntry(name, kind) }],
        },
        // Cursor's stop hook submits followup_message as the next prompt; loop_limit caps how often.
        {
          path: '.cursor/hooks.json',
          edits: [
            { kind: 'json-set', at: ['version'], value: 1, merge: (cur) => cur ?? 1 },
            {
              kind: 'json-append',
              at: ['hooks', 'stop'],
              value: { command: hookCommand(name, kind, 'stop'), loop_limit: 3 },
            },
          ],
        },
      ];
    case 'opencode':
      return [
        agentsMd,
        {
          path: 'opencode.json',
          edits: [
            {
              kind: 'json-set',
              at: ['mcp', 'handoff'],
              value: {
                type: 'local',
                command: ['handoff', 'mcp'],
                environment: { HANDOFF_AGENT: name, HANDOFF_RUNTIME: kind },
                enabled: true,
              },
            },
          ],
        },
        { path: '.opencode/plugins/handoff.js', edits: [{ kind: 'file', text: opencodePlugin(name) }] },
      ];
  }
}

/**
 * opencode plugin: when a session goes idle, asks handoff (as the Stop hook does) whether new messages
 * arrived and, if so, prompts the session with the notice (client.session.prompt, from opencode's SDK).
 */
function opencodePlugin(name: string): string {
  return `// handoff: written by 'handoff init'; 'handoff init --undo' removes it.
// On session.idle, new handoff messages (at most one notice per message) are sent into the session.
export const HandoffPlugin = async ({ client, $ }) => ({
  event: async ({ event }) => {
    if (event.type !== 'session.idle') return;
    const sessionID = event.properties && event.properties.sessionID;
    if (!sessionID) return;
    let out = '';
    try {
      out = await $\`HANDOFF_AGENT=${name} HANDOFF_RUNTIME=opencode handoff agent-hook stop < /dev/null\`.quiet().text();
    } catch {
      return;
    }
    if (!out.trim()) return;
    const { reason } = JSON.parse(out);
    if (reason) await client.session.prompt({ path: { id: sessionID }, body: { parts: [{ type: 'text', text: reason }] } });
  },
});
`;
}

const MANUAL: Record<AgentKind, string> = {
  claude:
    'Claude Code: approve the "handoff" MCP server from .mcp.json when asked, and review the hooks in .claude/settings.json (/hooks).',
  codex:
    'Codex: trust this project so that .codex/config.toml is read, and approve the hooks in .codex/hooks.json (/hooks).',
  gemini: 'Gemini CLI: trust this folder so that .gemini/settings.json (MCP server, hooks, AGENTS.md) is read.',
  copilot:
    'GitHub Copilot: start the "handoff" server from .vscode/mcp.json when VS Code asks; Copilot CLI: trust the folder so .github/mcp.json and .github/hooks/ are read.',
  cursor:
    'Cursor: enable the "handoff" server in Settings > MCP (the stop hook in .cursor/hooks.json runs once Cursor has picked it up).',
  opencode:
    'opencode: nothing; the "handoff" server in opencode.json and the plugin in .opencode/plugins/ load with opencode.',
};

// ---------------------------------------------------------------- text editing

function addSection(before: string | null, section: string): string {
  if (before === null) return section;
  const s = before.indexOf(START);
  const e = before.indexOf(END);
  if (s >= 0 && e > s) return before.slice(0, s) + section.trimEnd() + before.slice(e + END.length);
  return `${before.replace(/\n*$/, '\n\n')}${section}`;
}

/**
 * The text without the block between `start` and `end` markers (handoff's Markdown section or TOML table),
 * and without the blank line init put before it when it was last; null when there is none.
 */
function removeMarked(text: string, start: string, end: string): { text: string; block: string } | null {
  const s = text.indexOf(start);
  const e = text.indexOf(end);
  if (s < 0 || e < s) return null;
  let stop = e + end.length;
  if (text[stop] === '\n') stop++;
  const block = text.slice(s, stop);
  let head = text.slice(0, s);
  const tail = text.slice(stop);
  if (tail === '') head = head.replace(/\n+$/, head.trim() ? '\n' : '');
  return { text: head + tail, block };
}

type Jsonc = typeof import('jsonc-parser');
let jsoncLib: Jsonc | undefined;
const jsonc = (): Jsonc => (jsoncLib ??= require('jsonc-parser') as Jsonc);

function parseJsonc(file: string, text: string): unknown {
  if (!text.trim()) return {};
  const errors: import('jsonc-parser').ParseError[] = [];
  const value = jsonc().parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length || (text.trim() && (value === null || typeof value !== 'object' || Array.isArray(value)))) {
    throw new HandoffError(
      'bad_config_file',
      `${file} is not valid JSON, so handoff will not change it. Fix it (or move it away) and run the command again.`,
    );
  }
  return value ?? {};
}

const FORMAT = { formattingOptions: { insertSpaces: true, tabSize: 2, eol: '\n' } };

function getAt(doc: unknown, at: JsonPath): unknown {
  let cur: unknown = doc;
  for (const k of at) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

function setJson(text: string, at: JsonPath, value: unknown): string {
  const base = text.trim() ? text : '{}\n';
  return jsonc().applyEdits(base, jsonc().modify(base, at, value, FORMAT));
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

const AGENT_IN_HOOK = /HANDOFF_AGENT=([^\s"\\]+)/g;
/** The same handoff hook entry but for another agent name. */
const sameButAgent = (a: unknown, b: unknown) =>
  !same(a, b) && JSON.stringify(a).includes('HANDOFF_AGENT=') && hookShape(a) === hookShape(b);
/** A hook entry with its agent's name, and the PATH guard an older handoff did not write, left out. */
const hookShape = (v: unknown) =>
  JSON.stringify(v).replace(AGENT_IN_HOOK, 'HANDOFF_AGENT=').replace(JSON.stringify(ON_PATH_GUARD).slice(1, -1), '');
/** The hook inside a hook group that init appends (Claude Code, Codex and Gemini CLI group their hooks). */
const innerHook = (v: unknown): unknown => (v as { hooks?: unknown[] } | null)?.hooks?.[0];

/**
 * Where a hook list holds `value` by `match`: for a grouped hook, the hook inside any group (path
 * [group, 'hooks', index]), whatever else the group holds; else an entry of the list. `with` is what takes
 * its place.
 */
function findHook(
  items: unknown[],
  value: unknown,
  match: (a: unknown, b: unknown) => boolean,
): { path: (string | number)[]; found: unknown; with: unknown } | null {
  const inner = innerHook(value);
  for (let gi = 0; gi < items.length; gi++) {
    if (inner === undefined) {
      if (match(items[gi], value)) return { path: [gi], found: items[gi], with: value };
      continue;
    }
    const hooks = (items[gi] as { hooks?: unknown[] } | null)?.hooks;
    const hi = Array.isArray(hooks) ? hooks.findIndex((h) => match(h, inner)) : -1;
    if (hi >= 0) return { path: [gi, 'hooks', hi], found: hooks![hi], with: inner };
  }
  return null;
}

/** The agent a handoff hook entry names. */
const agentNamed = (a: unknown) => /HANDOFF_AGENT=([^\s"\\]+)/.exec(JSON.stringify(a))?.[1] ?? '?';

/** The containers along `at` that do not exist in `doc` (init creates them; undo removes them if empty). */
function missingContainers(doc: unknown, at: JsonPath): JsonPath[] {
  const out: JsonPath[] = [];
  for (let i = 1; i < at.length; i++) if (getAt(doc, at.slice(0, i)) === undefined) out.push(at.slice(0, i));
  return out;
}

function tomlLib(): typeof import('smol-toml') {
  return require('smol-toml') as typeof import('smol-toml');
}

function parseToml(file: string, text: string): Record<string, unknown> {
  try {
    return tomlLib().parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new HandoffError(
      'bad_config_file',
      `${file} is not valid TOML (${(err as Error).message.split('\n')[0]}), so handoff will not change it. Fix it and run the command again.`,
    );
  }
}

const TOML_START = `# ${START}`;
const TOML_END = `# ${END}`;

/** Applies `edits` to a file's text; returns the new text, what was done, and notes. */
function applyEdits(
  file: string,
  before: string | null,
  edits: Edit[],
): { next: string; done: Done[]; notes: string[] } {
  let text = before ?? '';
  const done: Done[] = [];
  const notes: string[] = [];
  for (const edit of edits) {
    if (edit.kind === 'section') {
      text = addSection(text === '' && before === null ? null : text, edit.text);
      done.push({ kind: 'section', text: edit.text });
    } else if (edit.kind === 'file') {
      if (before !== null && before !== edit.text && !done.length)
        notes.push(`${file} existed and is replaced by handoff's version; undo puts the old one back`);
      text = edit.text;
      done.push({ kind: 'file', text: edit.text });
    } else if (edit.kind === 'json-set') {
      const doc = parseJsonc(file, text);
      const previous = getAt(doc, edit.at);
      const value = edit.merge ? edit.merge(previous) : edit.value;
      if (!same(previous, value)) text = setJson(text, edit.at, value);
      done.push({
        kind: 'json-set',
        at: edit.at,
        value,
        ...(previous !== undefined ? { previous } : {}),
        ...(edit.implied ? { implied: edit.implied } : {}),
        created: missingContainers(doc, edit.at),
      });
    } else if (edit.kind === 'json-append') {
      const doc = parseJsonc(file, text);
      const list = getAt(doc, edit.at);
      if (list !== undefined && !Array.isArray(list))
        throw new HandoffError(
          'bad_config_file',
          `${file}: ${edit.at.join('.')} is not a list, so handoff will not change it.`,
        );
      const items = (list as unknown[] | undefined) ?? [];
      // handoff's own hook naming another agent (a worktree whose committed files came from another one's
      // init, or init again with another --name): this one takes its place, inside the group it is in (the
      // user may have added hooks or a matcher to it), so one session never runs hooks as two agents.
      const present = findHook(items, edit.value, same);
      const other = present ? null : findHook(items, edit.value, sameButAgent);
      if (other && agentNamed(other.found) === agentNamed(edit.value)) {
        // The same agent's hook as an older handoff wrote it: brought up to date in place.
        text = jsonc().applyEdits(text, jsonc().modify(text, [...edit.at, ...other.path], other.with, FORMAT));
        const note = `${file}: handoff's hook for ${agentNamed(edit.value)} brought up to date`;
        if (!notes.includes(note)) notes.push(note);
        done.push({ kind: 'json-append', at: edit.at, value: edit.value, created: [] });
      } else if (other) {
        text = jsonc().applyEdits(text, jsonc().modify(text, [...edit.at, ...other.path], other.with, FORMAT));
        const note = `${file}: handoff's hooks named agent ${agentNamed(other.found)}; they now name ${agentNamed(edit.value)} (in this worktree's copy of the file)`;
        if (!notes.includes(note)) notes.push(note);
        done.push({ kind: 'json-append', at: edit.at, value: edit.value, created: [], replaced: other.found });
      } else if (!present) {
        const created = missingContainers(doc, [...edit.at, 0]);
        text =
          list === undefined
            ? setJson(text, edit.at, [edit.value])
            : jsonc().applyEdits(
                text,
                jsonc().modify(text, [...edit.at, (list as unknown[]).length], edit.value, {
                  ...FORMAT,
                  isArrayInsertion: true,
                }),
              );
        done.push({ kind: 'json-append', at: edit.at, value: edit.value, created });
      } else done.push({ kind: 'json-append', at: edit.at, value: edit.value, created: [] });
    } else {
      const parsed = parseToml(file, text);
      const s = text.indexOf(TOML_START);
      const e = text.indexOf(TOML_END);
      if (s >= 0 && e > s) {
        // handoff's table from an earlier run: replaced where it is (what the user put after it stays after it).
        let stop = e + TOML_END.length;
        if (text[stop] === '\n') stop++;
        text = `${text.slice(0, s)}${edit.text.replace(/\n*$/, '\n')}${text.slice(stop)}`;
      } else if (getAt(parsed, edit.table) !== undefined) {
        // The user configured this table themselves: never write a second one.
        notes.push(`${file} already has [${edit.table.join('.')}], set up by hand; left as it is`);
        continue;
      } else text = text.trim() ? `${text.replace(/\n*$/, '\n\n')}${edit.text}` : edit.text;
      try {
        tomlLib().parse(text);
      } catch (err) {
        // The file is valid; what it would become is not (an inline `mcp_servers = { ... }` cannot take a
        // [mcp_servers.handoff] table after it).
        const parent = edit.table.slice(0, -1).join('.');
        throw new HandoffError(
          'bad_config_file',
          `[${edit.table.join('.')}] cannot be added to ${file} as it is (${(err as Error).message.split('\n')[0]}). ${parent ? `Where ${parent} is written inline (${parent} = { ... }), write each entry as a [${parent}.<name>] table instead, or add handoff's table by hand` : "Add handoff's table by hand"}:\n${edit.text.trimEnd()}`,
        );
      }
      done.push({ kind: 'toml-table', text: edit.text });
    }
  }
  if (before !== null && text === before) return { next: before, done, notes };
  return { next: text, done, notes };
}

// ---------------------------------------------------------------- records

const recordPath = (gitDir: string) => path.join(gitDir, 'handoff-init.json');
const legacyPath = (ctx: Context) => path.join(ctx.dataDir, 'init-manifest.json');

function readRecord(file: string): InitRecord {
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8')) as InitRecord;
    if (r.version === 2) return r;
  } catch {
    /* none yet */
  }
  return { version: 2, files: [], dirs: [] };
}

/** Whether a worktree other than this one still has handoff set up by init (then the shared git hooks stay). */
function otherWorktreesInitialised(ctx: Context): boolean {
  const mine = path.resolve(recordPath(ctx.repo.gitDir));
  const candidates = [recordPath(ctx.repo.commonDir)];
  try {
    for (const w of fs.readdirSync(path.join(ctx.repo.commonDir, 'worktrees')))
      candidates.push(recordPath(path.join(ctx.repo.commonDir, 'worktrees', w)));
  } catch {
    /* no linked worktrees */
  }
  return candidates.some((c) => path.resolve(c) !== mine && fs.existsSync(c));
}

// ---------------------------------------------------------------- init

/** Runs init (or its undo) in the current worktree. */
export function init(
  ctx: Context,
  input: {
    agents: string[];
    name?: string;
    dryRun?: boolean;
    undo?: boolean;
    force?: boolean;
    sign?: boolean;
    paths: HookPaths;
  },
): InitJson {
  const top = ctx.repo.worktree;
  if (!top)
    throw new HandoffError('bare_repository', 'init writes agent configuration into a working tree; run it in one.');
  if (!input.dryRun) requireWritable(ctx, input.undo ? 'undo init' : 'set up agents');
  if (input.undo) return undo(ctx, top, { dryRun: !!input.dryRun, force: !!input.force });
  // --sign alone turns signing on and sets up no agent (`init --sign --agent claude` does both).
  const kinds = (
    input.agents.includes('all') || (input.agents.length === 0 && !input.sign)
      ? [...AGENT_KINDS]
      : [...new Set(input.agents)]
  ) as AgentKind[];
  for (const k of kinds)
    if (!(AGENT_KINDS as readonly string[]).includes(k))
      throw new UsageError(
        'unknown_agent_kind',
        `Unknown agent "${k}". Choose from ${AGENT_KINDS.join(', ')}, or all.`,
      );
  if (input.name !== undefined && kinds.length !== 1)
    throw new UsageError('name_needs_one_agent', '--name applies to one agent; give a single --agent with it.');
  const agents = kinds.map((kind) => ({ kind, name: validateAgentName(input.name ?? kind) }));

  // Every edit of every file is computed first: a config file that cannot be parsed stops init before anything is written.
  const byFile = new Map<string, Edit[]>();
  for (const a of agents)
    for (const p of plan(a.kind, a.name)) byFile.set(p.path, [...(byFile.get(p.path) ?? []), ...p.edits]);
  const results: { path: string; before: string | null; next: string; done: Done[]; notes: string[] }[] = [];
  refuseLinksOutside(top, [...byFile.keys()]);
  const sharedNote = dropLinkedImport(top, byFile);
  for (const [p, edits] of byFile) {
    const abs = path.join(top, p);
    const before = fs.existsSync(abs) ? fs.readFileSync(abs, 'utf8') : null;
    const applied = applyEdits(p, before, edits);
    if (p === 'AGENTS.md' && sharedNote) applied.notes.push(sharedNote);
    results.push({ path: p, before, ...applied });
  }
  const changes: InitChange[] = results.map((r) => ({
    path: r.path,
    action: r.before === null ? 'create' : r.before === r.next ? 'unchanged' : 'modify',
    content: r.next,
    ...(r.notes.length ? { note: r.notes.join('; ') } : {}),
  }));
  const manualSteps = kinds.length
    ? [
        "Put 'handoff' on PATH for the agents (npm link in the handoff checkout), since their configs start 'handoff mcp'.",
        ...kinds.map((k) => MANUAL[k]),
      ]
    : [];
  // --sign: this clone's chain commits are signed with the user's git signing set-up from now on.
  const signing = input.sign ? { key: configGet(ctx.repo.cwd, 'user.signingkey') } : null;
  if (signing && !signing.key)
    manualSteps.push(
      'Signing is on but git has no user.signingKey: set one (for SSH keys: git config gpg.format ssh; git config user.signingKey ~/.ssh/id_ed25519.pub), and gpg.ssh.allowedSignersFile so that verify knows whose keys are whose.',
    );
  if (signing && !configGet(ctx.repo.cwd, 'gpg.ssh.allowedsignersfile'))
    manualSteps.push(
      'No gpg.ssh.allowedSignersFile is set: verify and sync can check that a signature is intact, not whose key made it. List the team\'s keys ("alice@example.com ssh-ed25519 AAAA...", a line each) in a file outside the repository and set git config gpg.ssh.allowedSignersFile to its absolute path.',
    );
  if (input.dryRun) {
    // What the real run would leave to a manual step, said now.
    try {
      checkHooksDir(ctx);
    } catch (err) {
      if (!(err instanceof HandoffError) || !['hooks_shared', 'hooks_off'].includes(err.code)) throw err;
      manualSteps.push(`git hooks: ${err.message}`);
    }
    return { dryRun: true, undo: false, agents, changes, hooks: null, manualSteps, signing };
  }
  let signPrevious: string[] | null = null;
  if (signing && configGet(ctx.repo.cwd, 'handoff.sign') !== 'true') {
    signPrevious = configGetAll(ctx.repo.cwd, 'handoff.sign');
    configUnset(ctx.repo.cwd, 'handoff.sign');
    configAdd(ctx.repo.cwd, 'handoff.sign', 'true');
  }

  // The first init of the repository (no worktree set up yet, this one included): the hooks it finds
  // installed were put there by hand (hooks install), not by an init.
  const firstInit = !fs.existsSync(recordPath(ctx.repo.gitDir)) && !otherWorktreesInitialised(ctx);
  const record = readRecord(recordPath(ctx.repo.gitDir));
  if (signPrevious && !record.sign) record.sign = { previous: signPrevious };
  for (const r of results) {
    if (r.before === r.next && r.done.length === 0) continue;
    const abs = path.join(top, r.path);
    let dir = path.dirname(r.path);
    while (dir !== '.' && !fs.existsSync(path.join(top, dir))) {
      if (!record.dirs.includes(dir)) record.dirs.push(dir);
      dir = path.dirname(dir);
    }
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    if (r.before !== r.next) fs.writeFileSync(abs, r.next);
    const existing = record.files.find((f) => f.path === r.path);
    // A later init adds to what undo must remove; the original bytes are the ones before the first init.
    // Alike but for what they found before them (an earlier run's `previous` or `replaced` is the one to keep).
    const alike = (a: Done, b: Done) =>
      same(
        { ...a, previous: undefined, created: undefined, replaced: undefined },
        { ...b, previous: undefined, created: undefined, replaced: undefined },
      );
    const keep = (d: Done) => !r.done.some((n) => alike(n, d));
    if (existing) {
      if (r.before !== existing.written) existing.edited = true;
      existing.written = r.next;
      existing.done = [
        ...existing.done.filter(keep),
        ...r.done.map((d) => {
          const old = existing.done.find((o) => alike(o, d));
          return old ?? d;
        }),
      ];
    } else record.files.push({ path: r.path, original: r.before, written: r.next, done: r.done });
  }
  // A name other than the runtime's own is what the agent's shell commands and commits go by here too.
  const namesFile = path.join(ctx.repo.gitDir, WORKTREE_NAMES);
  const namesBefore = fs.existsSync(namesFile) ? fs.readFileSync(namesFile, 'utf8') : null;
  const names = worktreeNames(ctx.repo.gitDir);
  for (const a of agents) {
    if (a.name === a.kind) names.delete(a.kind);
    else names.set(a.kind, a.name);
  }
  const namesNext = [...names].map(([runtime, name]) => `${runtime} ${name}\n`).join('');
  if (namesNext !== (namesBefore ?? '')) {
    if (!record.names) record.names = { previous: namesBefore };
    if (namesNext) writeFileAtomic(namesFile, namesNext);
    else fs.rmSync(namesFile, { force: true });
  }
  fs.writeFileSync(recordPath(ctx.repo.gitDir), JSON.stringify(record, null, 2));
  // A hooks directory handoff will not write (shared with other repositories, turned off, a hook in the way):
  // the agents' files are set up; what to do about the hooks is a manual step.
  let hooks: HooksJson | null = null;
  try {
    hooks = installHooks(ctx, input.paths);
    // Remembered for undo, which removes only hooks an init installed (not ones `hooks install` put there
    // before any init; an init of an earlier handoff, which kept no such mark, installed them).
    if (hooks.hooks.some((h) => h.state === 'installed')) fs.rmSync(hooksBeforeInit(ctx), { force: true });
    else if (firstInit && hooks.hooks.every((h) => h.state === 'unchanged'))
      writeFileAtomic(hooksBeforeInit(ctx), 'hooks install\n');
  } catch (err) {
    if (!(err instanceof HandoffError) || !['hooks_shared', 'hooks_off', 'hook_conflict'].includes(err.code)) throw err;
    manualSteps.push(`git hooks: ${err.message}`);
  }
  return { dryRun: false, undo: false, agents, changes, hooks, manualSteps, signing };
}

// ---------------------------------------------------------------- undo

interface UndoStep {
  path: string;
  action: InitChange['action'];
  next: string | null;
  conflicts: string[];
}

/** What undo does to one file: restore it when untouched since init, else remove only handoff's parts. */
function undoFile(top: string, f: FileRecord, force: boolean): UndoStep {
  const abs = path.join(top, f.path);
  const current = fs.existsSync(abs) ? fs.readFileSync(abs, 'utf8') : null;
  if (current === null) return { path: f.path, action: 'unchanged', next: null, conflicts: [] };
  if (current === f.written && !f.edited)
    return { path: f.path, action: f.original === null ? 'delete' : 'restore', next: f.original, conflicts: [] };
  const conflicts: string[] = [];
  let text = current;
  for (const d of [...f.done].reverse()) {
    if (d.kind === 'section') {
      const r = removeMarked(text, START, END);
      if (!r) continue;
      if (r.block.trimEnd() !== d.text.trimEnd()) conflicts.push(`${f.path}: the handoff section was edited`);
      text = r.text;
    } else if (d.kind === 'file') {
      if (text !== d.text) conflicts.push(`${f.path} was edited after init`);
      text = f.original ?? '';
    } else if (d.kind === 'toml-table') {
      const r = removeMarked(text, TOML_START, TOML_END);
      if (!r) continue;
      if (r.block !== d.text) conflicts.push(`${f.path}: the [mcp_servers.handoff] table was edited`);
      text = r.text;
    } else {
      let doc: unknown;
      try {
        doc = parseJsonc(f.path, text);
      } catch (err) {
        conflicts.push((err as Error).message);
        continue;
      }
      if (d.kind === 'json-set') {
        const cur = getAt(doc, d.at);
        if (cur === undefined) continue;
        if (Array.isArray(cur) && Array.isArray(d.value)) {
          // A list init extended (context.fileName): take out only what init added; the user's entries stay.
          const before = Array.isArray(d.previous)
            ? d.previous
            : d.previous === undefined
              ? (d.implied ?? [])
              : [d.previous];
          const added = d.value.filter((x) => !before.some((b) => same(b, x)));
          const left = cur.filter((x) => !added.some((a) => same(a, x)));
          let restored: unknown = left;
          if (d.previous === undefined && (left.length === 0 || same(left, d.implied ?? []))) restored = undefined;
          else if (d.previous !== undefined && !Array.isArray(d.previous) && same(left, before)) restored = d.previous;
          text = setJson(text, d.at, restored);
        } else {
          if (!same(cur, d.value)) conflicts.push(`${f.path}: ${d.at.join('.')} was changed after init`);
          text = setJson(text, d.at, d.previous);
        }
      } else {
        const list = getAt(doc, d.at);
        const mine = (x: unknown) =>
          d.value === LEGACY_HOOK ? /handoff (inbox|agent-hook)/.test(JSON.stringify(x)) : same(x, d.value);
        if (d.replaced !== undefined) {
          // A hook that took the place of another agent's gives it back, wherever it is now.
          const items = Array.isArray(list) ? list : [];
          for (let at = findHook(items, d.value, same); at; at = findHook(items, d.value, same)) {
            text = jsonc().applyEdits(text, jsonc().modify(text, [...d.at, ...at.path], d.replaced, FORMAT));
            items.splice(0, items.length, ...((getAt(parseJsonc(f.path, text), d.at) as unknown[]) ?? []));
          }
          continue;
        }
        const hits = Array.isArray(list) ? list.map((x, i) => (mine(x) ? i : -1)).filter((i) => i >= 0) : [];
        for (const i of hits.reverse())
          text = jsonc().applyEdits(text, jsonc().modify(text, [...d.at, i], undefined, FORMAT));
        // A hook group the user added their own hook to: take out only handoff's hook, keep the group.
        const ours = (d.value as { hooks?: unknown[] } | null)?.hooks?.[0];
        if (hits.length === 0 && ours !== undefined && Array.isArray(list)) {
          list.forEach((g, gi) => {
            const inner = (g as { hooks?: unknown[] })?.hooks;
            const hi = Array.isArray(inner) ? inner.findIndex((h) => same(h, ours)) : -1;
            if (hi >= 0)
              text = jsonc().applyEdits(text, jsonc().modify(text, [...d.at, gi, 'hooks', hi], undefined, FORMAT));
          });
        }
      }
      // Containers init created and that are empty now go too.
      for (const c of [...d.created].sort((a, b) => b.length - a.length)) {
        const v = getAt(parseJsonc(f.path, text), c);
        if (v !== undefined && v !== null && typeof v === 'object' && Object.keys(v as object).length === 0)
          text = setJson(text, c, undefined);
      }
    }
  }
  if (conflicts.length && !force) return { path: f.path, action: 'unchanged', next: current, conflicts };
  const empty = !text.trim() || (f.path.endsWith('.json') && text.replace(/\s/g, '') === '{}');
  if (f.original === null && empty) return { path: f.path, action: 'delete', next: null, conflicts };
  return { path: f.path, action: text === current ? 'unchanged' : 'remove-part', next: text, conflicts };
}

/** Stands for "any handoff hook entry" in a legacy record. */
const LEGACY_HOOK = 'legacy handoff hook';

/** The record of a version of init that kept whole files: handoff's parts are found by their markers and names. */
function legacyRecord(ctx: Context): InitRecord | null {
  try {
    const old = JSON.parse(fs.readFileSync(legacyPath(ctx), 'utf8')) as {
      files: { path: string; before: string | null }[];
      dirs: string[];
    };
    const files: FileRecord[] = old.files.map((f) => {
      const done: Done[] = [];
      if (f.path.endsWith('.md') && !f.path.includes('skills/')) done.push({ kind: 'section', text: '' });
      else if (f.path.endsWith('SKILL.md')) done.push({ kind: 'file', text: '' });
      else if (f.path.endsWith('.toml')) done.push({ kind: 'toml-table', text: '' });
      else if (f.path.endsWith('settings.json') && f.path.startsWith('.claude')) {
        for (const event of ['SessionStart', 'Stop'])
          done.push({
            kind: 'json-append',
            at: ['hooks', event],
            value: LEGACY_HOOK,
            created: [['hooks', event], ['hooks']],
          });
      } else
        for (const at of [
          ['mcpServers', 'handoff'],
          ['servers', 'handoff'],
          ['mcp', 'handoff'],
        ])
          done.push({ kind: 'json-set', at, value: null, created: [at.slice(0, 1)] });
      return { path: f.path, original: f.before, written: '\0', done };
    });
    return { version: 2, files, dirs: old.dirs };
  } catch {
    return null;
  }
}

function undo(ctx: Context, top: string, opts: { dryRun: boolean; force: boolean }): InitJson {
  const own = fs.existsSync(recordPath(ctx.repo.gitDir));
  const legacy = !own ? legacyRecord(ctx) : null;
  const record = own ? readRecord(recordPath(ctx.repo.gitDir)) : legacy;
  if (!record)
    return {
      dryRun: opts.dryRun,
      undo: true,
      agents: [],
      changes: [],
      hooks: null,
      manualSteps: ['Nothing to undo: init was not run in this worktree.'],
    };
  // A legacy record names handoff's parts only by their markers: remove them whatever they say now.
  const steps = record.files.map((f) => undoFile(top, f, opts.force || !!legacy));
  const conflicts = steps.flatMap((s) => s.conflicts);
  if (conflicts.length && !opts.force && !legacy) {
    throw new ConflictError(
      'init_edited',
      `Undo would lose edits made after init: ${conflicts.join('; ')}. Nothing was changed. Undo the edits, or run 'handoff init --undo --force' to remove handoff's parts anyway.`,
      { conflicts },
    );
  }
  const changes: InitChange[] = steps.map((s) => ({ path: s.path, action: s.action }));
  if (opts.dryRun) return { dryRun: true, undo: true, agents: [], changes, hooks: null, manualSteps: [] };
  refuseLinksOutside(
    top,
    steps.map((s) => s.path),
  );
  for (const s of steps) {
    const abs = path.join(top, s.path);
    if (s.action === 'delete') fs.rmSync(abs, { force: true });
    else if (s.next !== null && (s.action === 'restore' || s.action === 'remove-part')) fs.writeFileSync(abs, s.next);
  }
  // Deepest first; only directories init created and that are empty now.
  for (const d of [...record.dirs].sort((a, b) => b.length - a.length)) {
    try {
      fs.rmdirSync(path.join(top, d));
    } catch {
      /* not empty: something else lives there now */
    }
  }
  fs.rmSync(own ? recordPath(ctx.repo.gitDir) : legacyPath(ctx), { force: true });
  if (record.names) {
    const namesFile = path.join(ctx.repo.gitDir, WORKTREE_NAMES);
    if (record.names.previous === null) fs.rmSync(namesFile, { force: true });
    else writeFileAtomic(namesFile, record.names.previous);
  }
  // The git hooks and handoff.sign are shared by every worktree: they stay while another worktree is set up.
  const shared = otherWorktreesInitialised(ctx);
  // Hooks installed before init (`handoff hooks install`), which init found there, are not init's to remove.
  const before = fs.existsSync(hooksBeforeInit(ctx));
  const hooks = shared || before ? null : uninstallHooks(ctx);
  if (!shared) fs.rmSync(hooksBeforeInit(ctx), { force: true });
  const manualSteps = hooks
    ? []
    : [
        shared
          ? 'The git hooks stay installed: another worktree of this repository still uses handoff (run init --undo there too).'
          : "The git hooks stay installed: init did not install them ('handoff hooks uninstall' removes them).",
      ];
  if (record.sign && !shared) {
    // Put back what init --sign replaced, unless handoff.sign was changed since.
    if (configGetAll(ctx.repo.cwd, 'handoff.sign').join('\n') === 'true') {
      configUnset(ctx.repo.cwd, 'handoff.sign');
      for (const v of record.sign.previous) configAdd(ctx.repo.cwd, 'handoff.sign', v);
    } else
      manualSteps.push(
        'handoff.sign was changed after init --sign turned it on, so it stays as it is (git config --unset handoff.sign turns signing off).',
      );
  }
  return { dryRun: false, undo: true, agents: [], changes, hooks, manualSteps };
}

/**
 * Where `rel` (a path under the working tree's top `top`) really is, when a symbolic link on the way (a
 * committed `.claude` or `AGENTS.md`, say) leads outside the working tree or to nothing; null when writing
 * it stays inside. A link inside the tree (CLAUDE.md to AGENTS.md) is followed.
 */
function linkOutside(top: string, rel: string): string | null {
  const realTop = fs.realpathSync(top);
  let at = realTop;
  for (const part of rel.split('/')) {
    const next = path.join(at, part);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(next);
    } catch {
      return null; // not there: made inside `at`, which is inside
    }
    if (!st.isSymbolicLink()) {
      at = next;
      continue;
    }
    let real: string;
    try {
      real = fs.realpathSync(next);
    } catch {
      // A link to nothing: writing creates its target, which is judged where it would be.
      const target = path.resolve(path.dirname(next), fs.readlinkSync(next));
      let probe = target;
      while (!fs.existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe);
      real = path.join(fs.realpathSync(probe), path.relative(probe, target));
    }
    if (real !== realTop && !real.startsWith(`${realTop}${path.sep}`)) return real;
    at = real;
  }
  return null;
}

/** The file `rel` (under `top`) is, symbolic links followed: its real path, or where writing would create it. */
function realFile(top: string, rel: string): string {
  const abs = path.join(top, rel);
  try {
    return fs.realpathSync(abs);
  } catch {
    const link = fs.lstatSync(abs, { throwIfNoEntry: false });
    const target = link?.isSymbolicLink() ? path.resolve(path.dirname(abs), fs.readlinkSync(abs)) : abs;
    let probe = path.dirname(target);
    while (!fs.existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe);
    return path.join(fs.realpathSync(probe), path.relative(probe, target));
  }
}

/**
 * Where two files init writes are one file through a symbolic link. CLAUDE.md linked to AGENTS.md (or the
 * other way round) is a common layout: Claude Code then reads the protocol section itself, so the import,
 * which would replace the section with a file importing itself, is left out, and the note returned says
 * why. Any other pair is refused before anything is written.
 */
function dropLinkedImport(top: string, byFile: Map<string, Edit[]>): string | null {
  const byReal = new Map<string, string[]>();
  for (const rel of byFile.keys()) {
    const real = realFile(top, rel);
    byReal.set(real, [...(byReal.get(real) ?? []), rel]);
  }
  let note: string | null = null;
  for (const rels of byReal.values()) {
    if (rels.length < 2) continue;
    if (rels.length === 2 && rels.includes('AGENTS.md') && rels.includes('CLAUDE.md')) {
      byFile.delete('CLAUDE.md');
      note = 'CLAUDE.md is a link to the same file, so Claude Code reads the section there (no import added)';
      continue;
    }
    throw new HandoffError(
      'link_shared',
      `Symbolic links make ${rels.join(' and ')} one file, which init would write twice. Nothing was written. Replace the links with files, then run init again.`,
      { paths: rels },
    );
  }
  return note;
}

/** Refuses, before anything is written, files that symbolic links would take outside the working tree. */
function refuseLinksOutside(top: string, rels: string[]): void {
  const outside = rels.flatMap((rel) => {
    const to = linkOutside(top, rel);
    return to === null ? [] : [`${rel} (to ${to})`];
  });
  if (outside.length)
    throw new HandoffError(
      'link_outside',
      `Symbolic links in this working tree would take init's writes outside it: ${outside.join(', ')}. Nothing was written. Replace the links with files (or remove them), then run init again.`,
      { paths: outside },
    );
}
