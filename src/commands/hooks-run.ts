import path from 'node:path';
import { defineCommand, jsonFlag } from './define';
import { UsageError } from '../core/errors';
import { HOOK_NAMES, runHook } from '../ops/hooks';

export default defineCommand({
  id: 'hooks:run',
  summary: "Run one of handoff's git hooks (for hook files your team commits, such as husky's).",
  description: `When core.hooksPath points into the working tree (.husky, tracked with the project), 'hooks install'
changes nothing there and asks for one line per hook instead: handoff hooks run <name> "$@", guarded so
that a teammate without handoff still commits. It records the
commit's agent exactly as the installed hooks do, and never fails the commit.`,
  examples: [
    '<%= config.bin %> hooks run post-commit',
    'echo \'if command -v handoff >/dev/null 2>&1; then handoff hooks run prepare-commit-msg "$@" || exit $?; fi\' >> .husky/prepare-commit-msg',
  ],
  args: [{ name: 'hook', description: HOOK_NAMES.join(', '), required: true }],
  variadic: true,
  flags: { json: jsonFlag },
  run(parsed, io): { hook: string; exitCode: number } {
    if (!(HOOK_NAMES as readonly string[]).includes(parsed.args.hook!)) {
      throw new UsageError(
        'unknown_hook',
        `${JSON.stringify(parsed.args.hook)} is not one of handoff's hooks: ${HOOK_NAMES.join(', ')}.`,
      );
    }
    const paths = { root: path.resolve(path.dirname(io.binPath), '..'), node: process.execPath };
    // Only a deliberate refusal (pre-commit in block mode) fails the hook.
    const exitCode = runHook(paths, parsed.args.hook!, parsed.rest) === 0 ? 0 : 1;
    if (exitCode) process.exitCode = 1;
    return { hook: parsed.args.hook!, exitCode };
  },
  // The hook says what it did on stderr, as the installed hooks do; --json gives { hook, exitCode }.
  print() {},
});
