import { defineCommand, jsonFlag } from './define';
import { paint } from '../render/io';
import { runDemo } from '../ops/demo';
import { shellWord } from '../core/text';
import { onPath } from '../ops/hooks';
import { shortId } from '../core/ids';

export default defineCommand({
  id: 'demo',
  summary: 'Run a short conversation between agents in a throwaway repository.',
  description: `Creates a repository in a temporary directory (printed), two agents (claude and codex) in two
worktrees, a request, an edit, a reply with an attached diff, and shows the resulting git ledger with
plain git; a third agent (gemini) claims a task and is stopped, and codex takes the claim over. The directory is kept so that you can explore it afterwards (a demo whose output stops being read, as when piped into head, removes what it built).`,
  examples: ['<%= config.bin %> demo', '<%= config.bin %> demo --dir /tmp/handoff-demo'],
  flags: {
    dir: {
      type: 'string',
      description: 'Build the demo here instead of a new temporary directory.',
      helpValue: 'path',
    },
    json: jsonFlag,
  },
  run(parsed, io) {
    if (!io.json) io.log(paint(io, 'bold', 'handoff demo: two agents, one repository, every message in git\n'));
    return runDemo({
      binPath: io.binPath,
      dir: parsed.flags.dir,
      onStep: io.json
        ? undefined
        : (s) => {
            const who = s.agent ? `[${s.agent} in ${s.where}]` : `[${s.where}]`;
            io.log(`${paint(io, 'dim', who)} ${paint(io, 'bold', `$ ${s.command}`)}`);
            if (s.output)
              io.log(
                s.output
                  .split('\n')
                  .map((l) => `    ${l}`)
                  .join('\n'),
              );
            io.log('');
          },
    });
  },
  print(r, io) {
    io.log(paint(io, 'green', `The demo repository is in ${r.dir}`));
    io.log(`The replay page is ${r.html} (open it in a browser).`);
    // As the reader can type it: `handoff` once it is on PATH (npm link), else this build's entry script.
    const bin = onPath('handoff') ? 'handoff' : `node ${shellWord(io.binPath)}`;
    io.log(`Explore it:  cd ${shellWord(`${r.dir}/app`)} && HANDOFF_AGENT=claude ${bin} thread ${shortId(r.thread)}`);
    if (bin !== 'handoff') io.log("(Run 'npm link' in the handoff checkout to call it 'handoff'.)");
  },
});
