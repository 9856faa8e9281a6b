import { defineCommand, jsonFlag } from './define';
import { agentTable } from '../render/text';
import { agents } from '../ops/agents';
import { withContext } from './_shared';

export default defineCommand({
  id: 'agents',
  summary: 'List agents: runtime, team, role, last seen, whether a live process is known.',
  description: `An agent is live when a handoff process (wait, mcp) is running for it on this machine.
"registered" agents were created by a sender with --create and have not started yet.`,
  examples: ['<%= config.bin %> agents', '<%= config.bin %> agents --json'],
  flags: { json: jsonFlag },
  run(_parsed, io) {
    return withContext(io, (ctx) => ({ agents: agents(ctx) }));
  },
  print({ agents: r }, io) {
    if (r.length === 0) io.log("No agents yet. Join with 'handoff join --as <name>'.");
    for (const line of agentTable(io, r)) io.log(line);
  },
});
