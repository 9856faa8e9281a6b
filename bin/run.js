#!/usr/bin/env node
'use strict';
// Hot commands run on the fast path without loading oclif; help and parse errors go to oclif.
const path = require('node:path');
const argv = process.argv.slice(2);
// `handoff --json inbox`: --json before the command means the same as after it.
while (argv[0] === '--json' && argv.length > 1) argv.push(argv.shift());
// `handoff help [command]` and -h (before any `--`) mean --help.
if (argv[0] === 'help') {
  argv.shift();
  argv.push('--help');
}
for (let i = 0; i < argv.length && argv[i] !== '--'; i++) if (argv[i] === '-h') argv[i] = '--help';
// A closed pipe (handoff threads | head) ends the command quietly, as git does. The handler is added when
// node makes the stream, on first use: making stdout or stderr for a pipe loads node's net and stream
// modules (about 2 ms), and a command that prints a line writes it without them (src/cli/io.ts, writeStd).
const made = (globalThis[Symbol.for('handoff.stdioMade')] = new Set());
for (const [name, fd] of [
  ['stdout', 1],
  ['stderr', 2],
]) {
  const own = Object.getOwnPropertyDescriptor(process, name);
  const onError = (err) => {
    if (err && err.code === 'EPIPE') process.exit(process.exitCode || 0);
    throw err;
  };
  if (!own || !own.get || !own.configurable) {
    made.add(fd);
    process[name].on('error', onError);
    continue;
  }
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: own.enumerable,
    get() {
      const stream = own.get.call(process);
      Object.defineProperty(process, name, { configurable: true, enumerable: own.enumerable, get: own.get });
      made.add(fd);
      stream.on('error', onError);
      return stream;
    },
  });
}
const root = path.join(__dirname, '..');
/**
 * Starts git now, while the bundle loads, for a command that will need it (found by the bundle under `key`:
 * src/git/exec.ts, takeEarlyGit, which takes it only if the arguments, environment and directory are the
 * ones it would use itself, and holds the process open for it then). A command that ends without taking
 * it (an error, a parse error) does not wait for it, and stops it at exit.
 */
function startEarlyGit(key, args) {
  const fixed = {
    GIT_TERMINAL_PROMPT: '0',
    LC_ALL: 'C',
    LANGUAGE: 'C',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_NO_REPLACE_OBJECTS: '1',
  };
  const cwd = process.cwd();
  let child = null;
  const result = new Promise((resolve) => {
    try {
      child = require('node:child_process').spawn('git', args, {
        cwd,
        env: { ...process.env, ...fixed },
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
      const out = [];
      let err = '';
      child.stdout.on('data', (c) => out.push(c));
      child.stderr.on('data', (c) => (err += c.toString('utf8')));
      child.on('error', () => resolve(null));
      child.on('close', (code) => resolve({ status: code ?? 1, stdout: Buffer.concat(out), stderr: err }));
      child.unref();
      child.stdout.unref();
      child.stderr.unref();
      process.once('exit', () => child.exitCode === null && child.signalCode === null && child.kill());
    } catch {
      resolve(null);
    }
  });
  const ref = () => {
    child?.ref();
    child?.stdout.ref();
    child?.stderr.ref();
  };
  globalThis[Symbol.for(key)] = { args, env: fixed, cwd, result, ref };
}
// send/reply --attach-diff: the snapshot's `git status`, most of its cost in a large repository
// (src/git/snapshot.ts, startWorktreeStatus).
if (
  (argv[0] === 'send' || argv[0] === 'reply') &&
  (argv.includes('--attach-diff') || argv.includes('-d')) &&
  !argv.includes('--help')
)
  startEarlyGit('handoff.worktreeStatus', [
    '--no-optional-locks',
    'status',
    '--porcelain=v2',
    '-z',
    '--untracked-files=all',
    '--no-renames',
    '--ignore-submodules=none',
  ]);
// `blame <file>` (with --json or --no-pager at most): git blame, which node would otherwise start only
// once the bundle has loaded (src/git/blame.ts, startBlame).
if (argv[0] === 'blame') {
  const files = argv.slice(1).filter((a) => a !== '--json' && a !== '--no-pager');
  if (files.length === 1 && !files[0].startsWith('-'))
    startEarlyGit('handoff.earlyBlame', ['blame', '--porcelain', '--', files[0]]);
}
// Commands that read the whole ledger allocate much short-lived memory: a young generation that does not
// grow keeps their peak near what they hold (a 100,000-event verify: 165 MB to 131 MB), at no cost in time.
// V8 takes a code cache only under the flags it was made with: these commands keep their own (below).
const v8Flags = ['verify', 'rebuild', 'sync', 'replay', 'mcp', 'log', 'review'].includes(argv[0])
  ? '--semi-space-growth-factor=1'
  : '';
if (v8Flags) require('node:v8').setFlagsFromString(v8Flags);

// A command on the fast path leaves the database open when it is done (src/ops/context.ts, closeContext), and
// the process exits at once: closing would copy SQLite's write-ahead log into the database and sync both.
// Output still queued in a stream (a pipe that was full) is waited for: the process then ends by itself.
const exits = (globalThis[Symbol.for('handoff.exitAfterCommand')] = { dbLeftOpen: false });
const queued = () => [...made].some((fd) => (fd === 1 ? process.stdout : process.stderr).writableLength > 0);
// The commands agents run most have a bundle of their own, about a third of dist/fast.js (scripts/build.mjs):
// the one named is loaded when it exists, dist/fast.js otherwise.
const one = argv[0] && /^[a-z][a-z-]*$/.test(argv[0]) ? path.join(root, 'dist', 'one', `${argv[0]}.js`) : null;
const bundle =
  one && require('node:fs').statSync(one, { throwIfNoEntry: false }) ? one : path.join(root, 'dist', 'fast.js');
require('./code-cache.js')
  .loadWithCodeCache(bundle, v8Flags)
  .runFast(argv, __filename)
  .then((handled) => {
    if (handled && exits.dbLeftOpen && !queued()) process.exit(process.exitCode ?? 0);
    if (handled) return undefined;
    const cli = require('../dist/cli.js');
    return cli.runOclif(argv, root).then(
      () => cli.flush(),
      (err) => cli.handleError(err, argv),
    );
  })
  .catch((err) => {
    process.stderr.write(`handoff: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  });
