'use strict';
// Shared by bin/run.js (the commands) and dist/hook.js (the git hooks' launcher, written by scripts/build.mjs).
const path = require('node:path');

/**
 * Loads a bundle through V8's code cache (kept in $XDG_CACHE_HOME/handoff or ~/.cache/handoff, private to
 * the user, keyed by node version, path, size and mtime): compiling the bundle is about a third of a
 * command's start-up, and the cache halves it. Written once, at exit, with what the command compiled.
 * Anything unusable (no home, a rejected cache) falls back to plain require. HANDOFF_NO_CODE_CACHE=1 skips it.
 */
function loadWithCodeCache(file, v8Flags = '') {
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
  // The cache is written at exit, so the handler goes in first: a bundle may end the process while it
  // loads (a git hook does all its work then).
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
  const Module = require('node:module');
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
  mod.loaded = true;
  return mod.exports;
}

module.exports = { loadWithCodeCache };
