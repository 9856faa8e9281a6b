import { asFlag, defineCommand, jsonFlag } from './define';
import { leave } from '../ops/agents';
import { withContext } from './_shared';

export default defineCommand({
  id: 'leave',
  summary: 'Leave: stop being reached by @team, @role and all.',
  description: 'Messages sent to you by name still wait in your inbox; join again to come back.',
  examples: ['<%= config.bin %> leave', '<%= config.bin %> leave --as codex --json'],
  flags: { as: asFlag, json: jsonFlag },
  run(parsed, io) {
    return withContext(io, (ctx) => leave(ctx, { as: parsed.flags.as }));
  },
  print(r, io) {
    io.log(r.changed ? `${r.agent.name} left` : `${r.agent.name} had already left`);
  },
});
