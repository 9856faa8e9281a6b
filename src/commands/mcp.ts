import { asFlag, defineCommand } from './define';

export default defineCommand({
  id: 'mcp',
  summary: 'Run a stdio MCP server whose tools mirror the CLI (send, inbox, read, reply, wait, ...).',
  description: `For agents that speak MCP (Claude Code, Codex, Gemini CLI, Copilot, Cursor, opencode). Tools:
send (with attach_diff), inbox, read, reply, wait, thread, agents, whoami, blame, review, claim, release,
claims, outcome, tasks, reserve, search, status. The identity
comes from HANDOFF_AGENT in the server's environment (what 'handoff init' writes) or --as. While it runs,
'handoff agents' shows the agent live. Speaks JSON-RPC on stdin/stdout; logs go to stderr.`,
  examples: ['HANDOFF_AGENT=claude <%= config.bin %> mcp', '<%= config.bin %> mcp --as codex'],
  flags: { as: asFlag },
  async run(parsed) {
    const { serveStdio } = await import('../mcp/server');
    const { version } = require('../../package.json') as { version: string };
    await serveStdio({ as: parsed.flags.as, version });
  },
});
