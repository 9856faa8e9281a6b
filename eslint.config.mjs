// Lint: typescript-eslint's recommended rules, and the layer rules of docs/architecture.md as import bans.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Every layer, lowest first, with the layers each may import (besides itself). */
const LAYERS = {
  core: [],
  json: ['core'],
  git: ['core'],
  ledger: ['core', 'json'],
  ops: ['core', 'json', 'git', 'ledger'],
  render: ['core', 'json'],
  mcp: ['core', 'json', 'ops', 'render'],
  hook: ['core', 'json', 'ops'],
  commands: ['core', 'json', 'ops', 'render', 'mcp'],
  cli: ['core', 'json', 'render', 'commands'],
};

const RAW_GIT = {
  name: '../git/exec',
  importNames: ['runGit', 'runGitStreaming', 'git'],
  message: 'Add a named function to src/git instead of building a git command line here (docs/architecture.md).',
};

const layerRules = Object.entries(LAYERS).map(([layer, allowed]) => {
  const banned = Object.keys(LAYERS).filter((l) => l !== layer && !allowed.includes(l));
  return {
    files: [`src/${layer}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: banned.flatMap((l) => [`**/${l}`, `**/${l}/**`]),
              message: `src/${layer} may import only ${allowed.length ? allowed.join(', ') : 'nothing of handoff'} (docs/architecture.md).`,
            },
          ],
          // Ops ask src/git named questions; only src/git builds git command lines.
          ...(layer === 'ops' ? { paths: [RAW_GIT] } : {}),
        },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test/fixtures/lint/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        __filename: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextDecoder: 'readonly',
        TextEncoder: 'readonly',
        performance: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      // Heavy modules are loaded with require() where a command needs them, so start-up stays small.
      '@typescript-eslint/no-require-imports': 'off',
      // Control characters are matched on purpose: every string from a chain is made inert before printing.
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'scripts/**/*.mjs', 'bin/**/*.js'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  ...layerRules,
  {
    // The demo plays a user at a terminal: it runs the git commands a user would type.
    files: ['src/ops/demo.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
