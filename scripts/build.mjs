// Builds the bundles (dist/fast.js without oclif, dist/cli.js with it, dist/lib.js, the hooks' dist/hook-main.js
// and its launcher dist/hook.js) and the oclif manifest.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/**
 * Builtins that only some commands need are loaded on first use: child_process (with net, dgram and the
 * stream wrappers it pulls in) costs a plain send about 2 ms, and a send whose config is cached spawns
 * nothing; crypto and zlib cost about 2 ms each, and a send hashes and compresses its few small objects
 * without them (src/core/digest.ts, src/core/random.ts). Each name becomes a module of getters that requires the builtin when a property is first read.
 */
function lazyBuiltins(names) {
  const filter = new RegExp(`^(node:)?(${names.join('|')})$`);
  return {
    name: 'lazy-builtins',
    setup(b) {
      b.onResolve({ filter }, (args) => {
        const name = args.path.replace(/^node:/, '');
        // The builtin itself, required from inside its lazy module, stays external.
        if (args.namespace === 'lazy-builtin') return { path: `node:${name}`, external: true };
        return { path: name, namespace: 'lazy-builtin' };
      });
      b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
        const keys = Object.keys(require(`node:${args.path}`));
        const getters = keys.map((k) => `  get ${JSON.stringify(k)}() { return load()[${JSON.stringify(k)}]; },`);
        return {
          contents: `let m;\nconst load = () => (m ??= require(${JSON.stringify(`node:${args.path}`)}));\nmodule.exports = {\n${getters.join('\n')}\n};\n`,
          loader: 'js',
        };
      });
    },
  };
}

/**
 * The commands agents run most, each also bundled alone (dist/one/<id>.js): the fast path with that one
 * command, for bin/run.js to load when argv names it. Reading, deserialising and running the top level of
 * a bundle costs in proportion to its size, and a send's bundle is half of dist/fast.js (about 11 ms of a
 * send's start-up). Each process loads one bundle, so no module is ever loaded twice; help and parse
 * errors still go to oclif (dist/cli.js), and every other command to dist/fast.js.
 */
const ONE_COMMAND = [
  'ack',
  'agent-hook',
  'agents',
  'blame',
  'block',
  'claim',
  'claims',
  'done',
  'fail',
  'inbox',
  'join',
  'leave',
  'read',
  'release',
  'reply',
  'reservations',
  'reserve',
  'search',
  'send',
  'show',
  'status',
  'tasks',
  'thread',
  'threads',
  'wait',
  'whoami',
  'work-on',
];

/** Gives src/cli/fast.ts a command table of the one command `id` in place of src/commands/index.ts. */
function oneCommand(id) {
  return {
    name: 'one-command',
    setup(b) {
      b.onResolve({ filter: /^\.\.\/commands\/index$/ }, (args) =>
        args.importer === path.join(root, 'src/cli/fast.ts') ? { path: id, namespace: 'one-command' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'one-command' }, () => ({
        contents: `import def from ${JSON.stringify(path.join(root, 'src/commands', `${id}.ts`))};\nexport const COMMAND_DEFS = { [def.id]: def };\n`,
        loader: 'ts',
        resolveDir: root,
      }));
    },
  };
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
  // Native and optional modules stay outside the bundle; oclif probes for typescript/ts-node at run time.
  // better-sqlite3's JavaScript is bundled (so that V8's code cache covers it, about 2 ms of every command);
  // its addon is loaded from node_modules (src/ledger/db.ts), or found by `bindings`, which stays outside.
  external: [
    'bindings',
    'better-sqlite3/package.json',
    'typescript',
    'ts-node',
    '@modelcontextprotocol/sdk',
    'zod',
    'playwright-core',
    'jsonc-parser',
    'smol-toml',
    'diff',
    '@secretlint/core',
    '@secretlint/secretlint-rule-preset-recommend',
  ],
  plugins: [lazyBuiltins(['child_process', 'crypto', 'tty', 'worker_threads', 'zlib'])],
  minifySyntax: true,
  minifyWhitespace: true,
  sourcemap: 'linked',
  legalComments: 'none',
};
// A command taken off the list must not leave its old bundle for bin/run.js to load.
fs.rmSync(path.join(root, 'dist/one'), { recursive: true, force: true });
await Promise.all([
  build({ ...common, entryPoints: [path.join(root, 'src/cli/fast.ts')], outfile: path.join(root, 'dist/fast.js') }),
  ...ONE_COMMAND.map((id) =>
    build({
      ...common,
      plugins: [...common.plugins, oneCommand(id)],
      entryPoints: [path.join(root, 'src/cli/fast.ts')],
      outfile: path.join(root, 'dist/one', `${id}.js`),
    }),
  ),
  build({ ...common, entryPoints: [path.join(root, 'src/cli/oclif.ts')], outfile: path.join(root, 'dist/cli.js') }),
  build({ ...common, entryPoints: [path.join(root, 'src/lib.ts')], outfile: path.join(root, 'dist/lib.js') }),
  build({
    ...common,
    entryPoints: [path.join(root, 'src/hook/entry.ts')],
    outfile: path.join(root, 'dist/hook-main.js'),
  }),
  build({
    ...common,
    external: [],
    entryPoints: [path.join(root, 'scripts/secretlint-entry.mjs')],
    outfile: path.join(root, 'dist/secretlint.js'),
    alias: { debug: path.join(root, 'scripts/debug-stub.cjs') },
  }),
]);

/**
 * esbuild wraps every `import fs from 'node:fs'` in __toESM, which copies each of the builtin's properties
 * into a new object, once per importing module (fs is imported by 25 of them): about 2 ms of every
 * command's start. The bundles share one wrapped copy per builtin instead.
 */
function shareBuiltinInterop(file) {
  const text = fs.readFileSync(file, 'utf8');
  let n = 0;
  const shared = text.replace(/__toESM\(require\("(node:[a-z_/]+)"\)\)/g, (_, name) => {
    n++;
    return `__sharedBuiltin(${JSON.stringify(name)})`;
  });
  if (n === 0) return;
  fs.writeFileSync(
    file,
    `${shared}\nfunction __sharedBuiltin(name) {\n  const cache = (__sharedBuiltin.cache ??= new Map());\n  let m = cache.get(name);\n  if (!m) cache.set(name, (m = __toESM(require(name))));\n  return m;\n}\n`,
  );
}
for (const name of ['fast', 'cli', 'lib', 'hook-main', ...ONE_COMMAND.map((id) => `one/${id}`)])
  shareBuiltinInterop(path.join(root, 'dist', `${name}.js`));

// What the git hooks run (the scripts in hooks/ name dist/hook.js): the hook's bundle, loaded through V8's
// code cache as the commands' is (bin/code-cache.js). A commit starts it once or twice.
fs.writeFileSync(
  path.join(root, 'dist/hook.js'),
  `#!/usr/bin/env node
'use strict';
// Written by scripts/build.mjs: runs a git hook (src/hook/entry.ts, bundled as dist/hook-main.js).
require('../bin/code-cache.js').loadWithCodeCache(require('node:path').join(__dirname, 'hook-main.js'));
`,
);

// The manifest lets oclif list commands and topics without loading them.
// oclif would read the old manifest back instead of the commands: start from none.
fs.rmSync(path.join(root, 'oclif.manifest.json'), { force: true });
const { Config } = require(path.join(root, 'dist/cli.js'));
const config = await Config.load({ root });
const plugin = config.getPluginsList().find((p) => p.root === root) ?? config.getPluginsList()[0];
const manifest = {
  ...plugin.manifest,
  version: JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version,
};
fs.writeFileSync(path.join(root, 'oclif.manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
