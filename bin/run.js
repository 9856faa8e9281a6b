#!/usr/bin/env node
'use strict';
// Hot commands run on the fast path without loading oclif; help and parse errors go to oclif.
const path = require('node:path');
const argv = process.argv.slice(2);
// `handoff --json inbox`: --json before the command means the same as after it.
while (argv[0] === '--json' && argv.length > 1) argv.push(argv.shift());
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
// send/reply --attach-diff: the snapshot's `git status`, most of its cost in a large repository, starts now
// and runs while the bundle loads. src/git/snapshot.ts (startWorktreeStatus) takes it only if the arguments,
// environment and directory are the ones it would use itself, and holds the process open for it then; a
// command that ends without taking it (an error, a parse error) does not wait for it, and stops it at exit.
if (
  (argv[0] === 'send' || argv[0] === 'reply') &&
  (argv.includes('--attach-diff') || argv.includes('-d')) &&
  !argv.includes('--help')
) {
  const args = [
    '--no-optional-locks',
    'status',
    '--porcelain=v2',
    '-z',
    '--untracked-files=all',
    '--no-renames',
    '--ignore-submodules=none',
  ];
  const fixed = {
    GIT_TERMINAL_PROMPT: '0',
    LC_ALL: 'C',
    LANGUAGE: 'C',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_NO_REPLACE_OBJECTS: '1',
  };
  const cwd = process.cwd();
  let child = null;
  const status = new Promise((resolve) => {
    try {
      child = require('node:child_process').spawn('git', args, {
        cwd,
        env: { ...process.env, ...fixed },
        stdio: ['ignore', 'pipe', 'ignore'],
        windowsHide: true,
      });
      const chunks = [];
      child.stdout.on('data', (c) => chunks.push(c));
      child.on('error', () => resolve(null));
      child.on('close', (code) => resolve(code === 0 ? Buffer.concat(chunks) : null));
      child.unref();
      child.stdout.unref();
      process.once('exit', () => child.exitCode === null && child.signalCode === null && child.kill());
    } catch {
      resolve(null);
    }
  });
  const ref = () => {
    child?.ref();
    child?.stdout.ref();
  };
  globalThis[Symbol.for('handoff.worktreeStatus')] = { args, env: fixed, cwd, status, ref };
}
// Commands that read the whole ledger allocate much short-lived memory: a young generation that does not
// grow keeps their peak near what they hold (a 100,000-event verify: 165 MB to 131 MB), at no cost in time.
// V8 takes a code cache only under the flags it was made with: these commands keep their own (below).
const v8Flags = ['verify', 'rebuild', 'sync', 'replay', 'mcp', 'log', 'review'].includes(argv[0])
  ? '--semi-space-growth-factor=1'
  : '';
if (v8Flags) require('node:v8').setFlagsFromString(v8Flags);

/**
 * Loads a bundle through V8's code cache (kept in $XDG_CACHE_HOME/handoff or ~/.cache/handoff, private to
 * the user, keyed by node version, path, size and mtime): compiling the bundle is about a third of a
 * command's start-up, and the cache halves it. Written once, at exit, with what the command compiled.
 * Anything unusable (no home, a rejected cache) falls back to plain require. HANDOFF_NO_CODE_CACHE=1 skips it.
 */
function loadWithCodeCache(file) {
  const fs = require('node:fs');
  let script, cacheFile, cached;
  try {
    if (process.env.HANDOFF_NO_CODE_CACHE) throw new Error('off');
    const os = require('node:os');
    const st = fs.statSync(file);
    const dir = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'handoff');
    // Two FNV-1a hashes side by side (16 hex digits): a name, not a check (V8 checks the cache itself), and
    // node's crypto module would cost every command about 2 ms to load.
    const hash = (s) => {
      let a = 0x811c9dc5;
      let b = 0x01000193;
      for (let i = 0; i < s.length; i++) {
        a = Math.imul(a ^ s.charCodeAt(i), 0x01000193);
        b = Math.imul(b ^ s.charCodeAt(i), 0x01000193) ^ (a >>> 15);
      }
      return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
    };
    // Named after the bundle's path and the node that runs it, then the build: a new build replaces the
    // caches of older ones (another node version, or another install, keeps its own).
    cacheFile = path.join(
      dir,
      `${path.basename(file, '.js')}-${hash(`${file}\0${process.version}\0${process.arch}${v8Flags ? `\0${v8Flags}` : ''}`)}-${hash(`${st.size}\0${st.mtimeMs}`)}.v8`,
    );
    try {
      const fd = fs.openSync(cacheFile, 'r');
      try {
        // Only a cache file this user owns and nobody else can write is used.
        const cs = fs.fstatSync(fd);
        if (cs.uid === process.getuid() && (cs.mode & 0o022) === 0) cached = fs.readFileSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      /* no cache yet */
    }
    const Module = require('node:module');
    script = new (require('node:vm').Script)(Module.wrap(fs.readFileSync(file, 'utf8')), {
      filename: file,
      cachedData: cached,
    });
  } catch {
    return require(file);
  }
  const Module = require('node:module');
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
  mod.loaded = true;
  if (!cached || script.cachedDataRejected) {
    process.once('exit', () => {
      try {
        // The cache directory is made, and ~/.cache with it, but never a missing home or XDG_CACHE_HOME.
        const made = (d) => {
          try {
            fs.mkdirSync(d, { mode: 0o700 });
          } catch (err) {
            if (err.code !== 'EEXIST') throw err;
          }
        };
        if (!process.env.XDG_CACHE_HOME) made(path.dirname(path.dirname(cacheFile)));
        made(path.dirname(cacheFile));
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(tmp, cacheFile);
        // Caches of other builds of this bundle at this path (an upgrade, a rebuild) are of no more use.
        const prefix = path.basename(cacheFile).slice(0, path.basename(cacheFile).lastIndexOf('-') + 1);
        // Names earlier versions used: by build alone, or by path and build in 12 digits each.
        const legacy = new RegExp(`^${path.basename(file, '.js')}-([0-9a-f]{20}|[0-9a-f]{12}-[0-9a-f]{12})\\.v8$`);
        for (const name of fs.readdirSync(path.dirname(cacheFile)))
          if (
            ((name.startsWith(prefix) && name.endsWith('.v8')) || legacy.test(name)) &&
            name !== path.basename(cacheFile)
          )
            fs.rmSync(path.join(path.dirname(cacheFile), name), { force: true });
      } catch {
        /* a cache that cannot be written is only slower */
      }
    });
  }
  return mod.exports;
}

// A command on the fast path leaves the database open when it is done (src/ops/context.ts, closeContext), and
// the process exits at once: closing would copy SQLite's write-ahead log into the database and sync both.
// Output still queued in a stream (a pipe that was full) is waited for: the process then ends by itself.
const exits = (globalThis[Symbol.for('handoff.exitAfterCommand')] = { dbLeftOpen: false });
const queued = () => [...made].some((fd) => (fd === 1 ? process.stdout : process.stderr).writableLength > 0);
loadWithCodeCache(path.join(root, 'dist', 'fast.js'))
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
