import path from 'node:path';
import { defineCommand, jsonFlag } from './define';
import { paint } from '../render/io';
import { checkHookPaths } from '../ops/hooks';
import { init } from '../ops/init';
import { withContext } from './_shared';
import { AGENT_KINDS } from '../core/names';
import { HOOK_NAMES } from '../ops/hooks';

export default defineCommand({
  id: 'init',
  summary: 'Set up handoff for your agents: instructions, MCP server, agent hooks, git hooks.',
  description: `Writes, for each agent: an AGENTS.md section teaching the protocol (and a CLAUDE.md import and a
skill for Claude Code), the MCP server registration in the agent's project config with HANDOFF_AGENT and
HANDOFF_RUNTIME set, the agent's own hooks (where it has them) that bring unread messages into the session at
its start and at the end of each turn, Gemini CLI's context.fileName (so it reads AGENTS.md), and the git hooks. JSON files keep
their comments and the layout of what handoff leaves alone (an object it adds to is written out one entry per
line); a TOML file that does not parse, or a JSON file that does not, stops init with
nothing written. Idempotent; --dry-run shows every change.

--undo removes exactly what init added in this worktree: a file nobody changed since is restored byte for
byte; in an edited file only handoff's parts go and the edits stay; if handoff's own part was edited, it
says so and changes nothing unless --force. The git hooks init installed, shared by all worktrees,
go with the last one; hooks installed before init stay.`,
  examples: [
    '<%= config.bin %> init --agent claude --dry-run',
    '<%= config.bin %> init --agent claude --agent codex',
    '<%= config.bin %> init --agent claude --name claude-frontend',
    '<%= config.bin %> init --agent all',
    '<%= config.bin %> init --undo',
  ],
  flags: {
    agent: {
      type: 'string',
      description: 'Agent to set up (repeatable; default all, or none with --sign).',
      options: [...AGENT_KINDS, 'all'],
      multiple: true,
    },
    name: {
      type: 'string',
      description: 'The agent name to use (with a single --agent; default: the agent kind).',
      helpValue: 'name',
    },
    'dry-run': { type: 'boolean', description: 'Show what would change; change nothing.' },
    undo: { type: 'boolean', description: 'Remove what init added in this worktree.' },
    force: { type: 'boolean', description: "With --undo: remove handoff's parts even where they were edited." },
    sign: {
      type: 'boolean',
      description:
        "Sign this clone's ledger commits with your git signing key (sets git config handoff.sign true). Alone, it sets up no agent; add --agent to do both.",
    },
    json: jsonFlag,
  },
  run(parsed, io) {
    const f = parsed.flags;
    const paths = { root: path.resolve(path.dirname(io.binPath), '..'), node: process.execPath };
    checkHookPaths(paths);
    return withContext(
      io,
      (ctx) =>
        init(ctx, {
          agents: f.agent ?? [],
          name: f.name,
          dryRun: !!f['dry-run'],
          undo: !!f.undo,
          force: !!f.force,
          sign: !!f.sign,
          paths,
        }),
      // A dry run writes nothing, not even the ledger's database.
      { readOnly: !!f['dry-run'] },
    );
  },
  print(r, io) {
    const verb = (a: string) =>
      (r.dryRun
        ? {
            create: 'would create',
            modify: 'would modify',
            unchanged: 'unchanged',
            restore: 'would restore',
            delete: 'would delete',
            'remove-part': 'would clean',
          }
        : {
            create: 'created',
            modify: 'modified',
            unchanged: 'unchanged',
            restore: 'restored',
            delete: 'deleted',
            'remove-part': 'cleaned',
          })[a as 'create'];
    for (const c of r.changes) {
      io.log(
        `${paint(io, c.action === 'unchanged' ? 'dim' : 'green', verb(c.action).padEnd(13))} ${c.path}${c.note ? paint(io, 'dim', `  (${c.note})`) : ''}`,
      );
      if (r.dryRun && c.content !== undefined && c.action !== 'unchanged')
        io.log(
          c.content
            .trimEnd()
            .split('\n')
            .map((l) => `    ${l}`)
            .join('\n'),
        );
    }
    // (A hooks directory init would not write is named in the manual steps instead.)
    if (r.dryRun && !r.undo && !r.manualSteps.some((s) => s.startsWith('git hooks: ')))
      io.log(`${paint(io, 'green', 'would install'.padEnd(13))} git hooks ${HOOK_NAMES.join(', ')}`);
    if (r.hooks) io.log(`git hooks: ${r.hooks.hooks.map((h) => `${h.name} ${h.state}`).join(', ')}`);
    if (r.manualSteps.length) io.log(`\nManual steps:\n${r.manualSteps.map((s) => `  - ${s}`).join('\n')}`);
  },
});
