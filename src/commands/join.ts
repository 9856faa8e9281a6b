import { asFlag, defineCommand, jsonFlag } from './define';
import { agentSentence } from '../render/text';
import { join } from '../ops/agents';
import { withContext } from './_shared';

export default defineCommand({
  id: 'join',
  summary: 'Join the conversation as an agent, optionally in a team and with a role.',
  description: `Registers your identity in the ledger so others can address you by name, @team or @role.
Joining again keeps your team and role unless --team or --role is given (an empty one, --team "", clears
it); joining again with the same team and role changes nothing. Your name comes from HANDOFF_AGENT, --as, a
detected agent runtime, or your git user name, in that order.`,
  examples: [
    '<%= config.bin %> join --as codex --team core --role reviewer',
    'HANDOFF_AGENT=claude <%= config.bin %> join --team core',
    '<%= config.bin %> join --json',
  ],
  flags: {
    team: { type: 'string', description: 'Team to join (address it as @team).', helpValue: 'team', emptyOk: true },
    role: { type: 'string', description: 'Role to take (address it as @role).', helpValue: 'role', emptyOk: true },
    as: asFlag,
    json: jsonFlag,
  },
  run(parsed, io) {
    const f = parsed.flags;
    return withContext(io, (ctx) =>
      join(ctx, {
        as: f.as,
        team: f.team,
        role: f.role,
      }),
    );
  },
  print(r, io) {
    io.log(`${r.changed ? 'joined' : 'already joined'}: ${agentSentence(r.agent)}`);
  },
});
