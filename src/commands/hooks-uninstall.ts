import { defineCommand, jsonFlag } from './define';
import { uninstallHooks } from '../ops/hooks';
import { withContext } from './_shared';

export default defineCommand({
  id: 'hooks:uninstall',
  summary: "Remove handoff's git hooks and restore the hooks they chained.",
  description: 'Puts back exactly what was there before `hooks install` (content and mode).',
  examples: ['<%= config.bin %> hooks uninstall'],
  flags: { json: jsonFlag },
  run(_parsed, io) {
    return withContext(io, (ctx) => uninstallHooks(ctx));
  },
  print(r, io) {
    for (const h of r.hooks) io.log(`${h.name.padEnd(20)} ${h.state}`);
  },
});
