/**
 * The layer rules of docs/architecture.md are enforced by ESLint: an import that crosses a layer the wrong
 * way fails `npm run lint`. Each case lints a one-line file as if it sat in the layer named.
 */
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/repo';

const eslint = new ESLint({ cwd: ROOT });

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('layer rules', () => {
  const forbidden: [string, string][] = [
    ['src/commands/x.ts', "import { runGit } from '../git/exec';"],
    ['src/commands/x.ts', "import { stmt } from '../ledger/db';"],
    ['src/git/x.ts', "import { stmt } from '../ledger/db';"],
    ['src/ledger/x.ts', "import { runGit } from '../git/exec';"],
    ['src/ledger/migrations/x.ts', "import { send } from '../../ops/send';"],
    ['src/ops/x.ts', "import { table } from '../render/text';"],
    ['src/core/x.ts', "import type { MessageJson } from '../json/types';"],
    ['src/render/x.ts', "import { send } from '../ops/send';"],
    ['src/cli/x.ts', "import { send } from '../ops/send';"],
    ['src/mcp/x.ts', "import { COMMAND_DEFS } from '../commands/index';"],
    ['src/ops/x.ts', "import { runGit } from '../git/exec';"],
  ];
  it.each(forbidden)('%s may not: %s', async (file, code) => {
    const found = await problems(file, `${code}\nexport const used = 1;\n`);
    expect(found.filter((p) => p.startsWith('no-restricted-imports'))).toHaveLength(1);
  });

  const allowed: [string, string][] = [
    ['src/commands/x.ts', "import { send } from '../ops/send';"],
    ['src/ops/x.ts', "import { isAncestor } from '../git/exec';"],
    ['src/ops/x.ts', "import { stmt } from '../ledger/db';"],
    ['src/ledger/x.ts', "import type { MessageJson } from '../json/types';"],
    ['src/cli/x.ts', "import { COMMAND_DEFS } from '../commands/index';"],
  ];
  it.each(allowed)('%s may: %s', async (file, code) => {
    const found = await problems(file, `${code}\nexport const used = 1;\n`);
    expect(found.filter((p) => p.startsWith('no-restricted-imports'))).toEqual([]);
  });

  it('the tree itself passes', async () => {
    const results = await eslint.lintFiles(['src']);
    const errors = results.flatMap((r) =>
      r.messages.filter((m) => m.severity === 2).map((m) => `${path.relative(ROOT, r.filePath)}:${m.line} ${m.ruleId}`),
    );
    expect(errors).toEqual([]);
  });
});
