import { asFlag, defineCommand, jsonFlag } from './define';
import type { WhoamiJson } from '../json/types';
import { whoami } from '../ops/agents';
import { withContext } from './_shared';

const VIA: Record<WhoamiJson['via'], string> = {
  env: 'from HANDOFF_AGENT',
  flag: 'from --as',
  runtime: 'from the detected agent runtime',
  'mcp-client': 'from the MCP client that started the server',
  'git-user': 'from the git user: user.name, or user.email where the name gives none',
};

export default defineCommand({
  id: 'whoami',
  summary: 'Print your agent name and how it was found.',
  description: 'Identity order: HANDOFF_AGENT, then --as, then a detected agent runtime, then the git user.',
  examples: ['<%= config.bin %> whoami', 'HANDOFF_AGENT=codex <%= config.bin %> whoami --json'],
  flags: { as: asFlag, json: jsonFlag },
  run(parsed, io) {
    return withContext(io, (ctx) => whoami(ctx, { as: parsed.flags.as }));
  },
  print(r, io) {
    io.log(`${r.name} (${VIA[r.via]}${r.runtime ? `, runtime ${r.runtime}` : ''})`);
    io.log(
      `${r.joined ? `joined${r.team ? ` team=${r.team}` : ''}${r.role ? ` role=${r.role}` : ''}` : 'not joined'}, ${r.unread} unread`,
    );
  },
});
