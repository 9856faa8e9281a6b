import path from 'node:path';
import { defineCommand, jsonFlag } from './define';
import { hooksStatus, manualWhere } from '../ops/hooks';
import { withContext } from './_shared';

export default defineCommand({
  id: 'hooks:status',
  summary: 'Say which handoff hooks are installed and whether each is healthy.',
  description: 'A hook is healthy when it is executable and runs this handoff installation.',
  examples: ['<%= config.bin %> hooks status', '<%= config.bin %> hooks status --json'],
  flags: { json: jsonFlag },
  run(_parsed, io) {
    return withContext(io, (ctx) =>
      hooksStatus(ctx, { root: path.resolve(path.dirname(io.binPath), '..'), node: process.execPath }),
    );
  },
  print(r, io) {
    for (const h of r.hooks)
      io.log(`${h.name.padEnd(20)} ${h.healthy ? 'ok' : h.problem}${h.chained ? ' (chains another hook)' : ''}`);
    io.log(`in ${r.dir}`);
    // A hook of handoff's own that is missing (one added since the others were installed): the fix.
    if (!r.hooks.some((h) => !h.healthy)) return;
    if (r.manual)
      io.warn(
        `${manualWhere(r)}, so handoff writes nothing there. Each hook needs one line (create the file if needed${r.husky ? '' : ', make it executable'}, and commit it):\n  ${r.manual.join('\n  ')}`,
      );
    else if (r.hooks.some((h) => h.state === 'missing' || /not installed/.test(h.problem ?? '')))
      io.warn("Run 'handoff hooks install' to install what is missing (it keeps the hooks already there).");
  },
});
