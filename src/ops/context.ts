/**
 * The context every op runs in: the repository, this clone's id, the SQLite ledger (opened, migrated and
 * caught up with the chains in git), the clock and the environment.
 */
import crypto from 'node:crypto';
import { sha1Hex } from '../core/digest';
import { randomFill, randomHex } from '../core/random';
import fs from 'node:fs';
import path from 'node:path';
import { monotonicFactory } from 'ulid';
import { HandoffError } from '../core/errors';
import { tryPidLock, writeFileAtomic } from '../core/files';
import { findRepo, type Repo } from '../git/repo';
import { CHAIN_PREFIX, trackingPrefix } from '../git/ledger-format';
import { configAdd, configEntries, configUnset } from '../git/config';
import { configMatchingCached } from '../git/config-cache';
import {
  CorruptLedgerError,
  openLedgerCopy,
  openLedgerDb,
  readLocalState,
  restoreLocalState,
  type Db,
} from '../ledger/db';
import { shortIdLength } from '../ledger/messages';
import { setShortIdLength } from '../core/ids';
import { indexChains } from './index-chains';
import { drainSpool } from './spool';

export interface Context {
  repo: Repo;
  cloneId: string;
  /** Directory of handoff's local files: <git common dir>/handoff. */
  dataDir: string;
  db: Db;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  newId: () => string;
  /** Where notices for humans go (stderr in the CLI). */
  warn: (message: string) => void;
  /** git config handoff.* and user.*, read once on first use. */
  config: () => Map<string, string[]>;
  /**
   * Set when this process cannot write the repository's handoff files: the path it cannot write. The
   * ledger is then a copy in memory, reads work, and anything that must last is refused (see requireWritable).
   */
  readOnly: string | null;
  /** Whether this process may pack the ledger's loose objects after writing (not in git hooks). */
  maintenance: boolean;
  /**
   * Set by a command that marks once-only notices as given only after its output was delivered (ops/notices.ts):
   * the marks wait here, and a reader that went away is told again next time.
   */
  noticeMarks?: (() => void)[];
}

export interface ContextOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  warn?: (message: string) => void;
  /** Skip indexing chains that changed in git (only for ops that do it themselves). */
  skipIndex?: boolean;
  /** Delete the SQLite ledger before opening it (rebuild). */
  discardDb?: boolean;
  /** How long to wait for another process's write lock (default 15 s; git hooks wait briefly, then spool). */
  busyTimeoutMs?: number;
  /** Do not pack loose objects after writing (git hooks: a commit never waits on housekeeping). */
  noMaintenance?: boolean;
  /** Set when opening again after a damaged database was set aside (it is not set aside twice). */
  recovered?: boolean;
  /**
   * Write nothing (init --dry-run): the ledger is read into memory as for a user who cannot write it, and no
   * data directory, database or clone id is made.
   */
  readOnly?: boolean;
}

const CLONE_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * Random numbers in [0, 1) for ULIDs, drawn from a pool filled by the system's CSPRNG (ulid's own asks the
 * kernel for one byte per character). Multiples of 1/256 map evenly onto ULID's 32 characters.
 */
function pooledRandom(): () => number {
  const pool = Buffer.alloc(512);
  let at = pool.length;
  return () => {
    if (at >= pool.length) {
      randomFill(pool);
      at = 0;
    }
    return pool[at++]! / 256;
  };
}

/** Opens the context for the repository at `cwd`, indexing any events git has that SQLite has not. */
export function openContext(opts: ContextOptions = {}): Context {
  const env = opts.env ?? process.env;
  const repo = findRepo(opts.cwd ?? process.cwd());
  const dataDir = path.join(repo.commonDir, 'handoff');
  const readOnly = opts.readOnly ? dataDir : unwritable(dataDir);
  const now = clockFrom(env);
  const ulid = monotonicFactory(pooledRandom());
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`handoff: ${m}\n`));
  const dbFile = path.join(dataDir, 'ledger.db');
  if (readOnly && opts.discardDb) throw readOnlyError(repo.commonDir, readOnly, 'rebuild the ledger');
  // What only this clone knows (which notices each agent was given) outlives a rebuild.
  const kept = opts.discardDb ? readLocalState(dbFile) : null;
  if (opts.discardDb) for (const suffix of ['', '-wal', '-shm']) fs.rmSync(dbFile + suffix, { force: true });
  const db = readOnly ? openLedgerCopy(dbFile).db : openOrRecover(dbFile, warn, opts.busyTimeoutMs);
  if (kept?.size) restoreLocalState(db, kept);
  setShortIdLength(shortIdLength(db));
  let config: Map<string, string[]> | undefined;
  const ctx: Context = {
    repo,
    cloneId: readOnly ? readCloneIdIfAny(dataDir) : ownCloneId(repo, dataDir, warn),
    dataDir,
    db,
    env,
    now,
    newId: () => ulid(now().getTime()),
    warn,
    config: () => {
      config ??= readConfig(repo, dataDir, !opts.readOnly);
      return config;
    },
    readOnly,
    maintenance: !opts.noMaintenance,
  };
  repo.shared = () => ctx.config().get('core.sharedrepository')?.at(-1) ?? null;
  repo.configValue = (key) => (CACHED_KEY.test(key) ? (ctx.config().get(key)?.at(-1) ?? null) : undefined);
  if (!opts.skipIndex) {
    try {
      indexChains(ctx);
      if (!readOnly) drainSpool(ctx);
    } catch (err) {
      // A damaged page found while indexing: set aside and rebuilt now, as one found on opening is.
      if (readOnly || !isCorruptionError(err) || opts.recovered) throw err;
      warn(recoverFromCorruption(ctx, err, 'It is rebuilt now.').message);
      return openContext({ ...opts, recovered: true });
    }
  }
  return ctx;
}

/** Refuses `action` (a phrase: "send a message") in a repository this process cannot write. */
export function requireWritable(ctx: Pick<Context, 'readOnly' | 'repo'>, action: string): void {
  if (ctx.readOnly) throw readOnlyError(ctx.repo.commonDir, ctx.readOnly, action);
}

/** The error for a write refused because `file` cannot be written (a path, or "path: EACCES"). */
function readOnlyError(commonDir: string, file: string, action: string): HandoffError {
  // Codex runs shell commands in a sandbox that keeps .git read-only even where the worktree is writable; the
  // MCP servers it starts run outside it.
  if (['CODEX_SANDBOX', 'CODEX_SANDBOX_NETWORK_DISABLED'].some((k) => process.env[k]))
    return new HandoffError(
      'read_only',
      `Cannot ${action}: this shell runs in Codex's sandbox, which keeps ${commonDir} read-only, so handoff can only read the ledger here. ` +
        `Use the tools of the handoff MCP server (send, reply, done, ...), which Codex runs outside its sandbox.`,
    );
  // The path itself (`file` may be "path: EACCES"): the one whose owner can write, which is not always the
  // owner of the git directory (a .git/handoff another user made first).
  const where = file.replace(/: [A-Z]+$/, '');
  return new HandoffError(
    'read_only',
    `Cannot ${action}: ${file} is not writable by this user, so handoff can only read this repository's ledger. ` +
      `Run handoff as the user who owns ${where}, or make it writable (check with: ls -ld ${where}).`,
  );
}

/** Creates the data directory if needed; returns null when it can be written, else the path (and why) it cannot. */
function unwritable(dataDir: string): string | null {
  try {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    fs.accessSync(dataDir, fs.constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
      return fs.existsSync(dataDir) ? dataDir : path.dirname(dataDir);
    throw err;
  }
  for (const file of ['ledger.db', 'clone-id']) {
    try {
      fs.accessSync(path.join(dataDir, file), fs.constants.W_OK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return path.join(dataDir, file);
    }
  }
  return null;
}

/** Set by bin/run.js for a command that ends its process as soon as it is done (see closeContext). */
const EXITS = Symbol.for('handoff.exitAfterCommand');
/** The write-ahead log's size past which a command that leaves the database open empties it (see closeContext). */
const ONE_SHOT_LOG_BYTES = 400 * (4096 + 24);

/**
 * Closes the database of a context. `processEnds`: the process exits right after the command (bin/run.js
 * says so); the database is then left open and the process exits without closing it. Closing the last
 * connection copies the write-ahead log into the database and syncs both (four fsyncs, about 5 ms of
 * every command that wrote); left open, what was committed stays in the log, as safe as after any commit
 * (synchronous = NORMAL), and the next process to open the database reads the log back (about 1.3 us a
 * frame). A new process cannot know how much of the log was copied in already, so it never starts the
 * log over: once the log passes 400 frames (about 20 sends), the command copies it in and empties it
 * before it exits, which bounds that reading.
 */
export function closeContext(ctx: Context, opts: { processEnds?: boolean } = {}): void {
  if (!ctx.db.open) return;
  const exits = (globalThis as Record<symbol, { dbLeftOpen: boolean } | undefined>)[EXITS];
  if (!opts.processEnds || !exits || ctx.db.inTransaction) {
    ctx.db.close();
    return;
  }
  exits.dbLeftOpen = true;
  if (ctx.readOnly) return;
  const log = fs.statSync(`${ctx.db.name}-wal`, { throwIfNoEntry: false });
  if (!log || log.size <= ONE_SHOT_LOG_BYTES) return;
  try {
    // Not waited for long: a reader in another process keeps the log for the next command to empty.
    ctx.db.pragma('busy_timeout = 100');
    ctx.db.pragma('wal_checkpoint(TRUNCATE)');
  } catch {
    /* the next command tries again */
  }
}

/**
 * Says that this process ends when its command does (the git hooks; bin/run.js sets the same marker for
 * commands): closeContext then leaves the database open. The caller exits once `dbLeftOpen` is set.
 */
export function endsWithCommand(): { dbLeftOpen: boolean } {
  const exits = { dbLeftOpen: false };
  (globalThis as Record<symbol, unknown>)[EXITS] = exits;
  return exits;
}

/**
 * For a command whose process ends when it does (bin/run.js): commits do not copy the log into the
 * database as they go (closeContext empties it instead).
 */
export function tuneForOneShot(ctx: Context): void {
  if ((globalThis as Record<symbol, unknown>)[EXITS] && ctx.db.open) ctx.db.pragma('wal_autocheckpoint = 0');
}

function openOrRecover(file: string, warn: (m: string) => void, busyTimeoutMs?: number): Db {
  try {
    return openLedgerDb(file, { busyTimeoutMs });
  } catch (err) {
    if (!(err instanceof CorruptLedgerError)) throw err;
    // The database is only an index of the git ledger: set the damaged file aside and rebuild from git.
    const aside = setAside(file);
    warn(`${err.message} It was moved to ${path.basename(aside)} and is being rebuilt from the git ledger.`);
    return openLedgerDb(file, { busyTimeoutMs });
  }
}

/** Moves a damaged database (and its log) out of the way; returns where it went. */
function setAside(file: string): string {
  const aside = `${file}.corrupt-${Date.now()}`;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      fs.renameSync(file + suffix, aside + suffix);
    } catch {
      /* absent */
    }
  }
  return aside;
}

/** True for SQLite's word that the database file is damaged (found while reading it, not only on opening). */
export function isCorruptionError(err: unknown): boolean {
  for (let e = err; e; e = (e as { cause?: unknown }).cause)
    if (/^SQLITE_(CORRUPT|NOTADB)/.test(String((e as { code?: unknown }).code ?? ''))) return true;
  return false;
}

/**
 * After a command met a damaged database (SQLite says so only when it reads the damaged page): the file is
 * set aside, as one found damaged on opening is, and the next command rebuilds it from the git ledger. The
 * error says so. A command that had written to git before the failure keeps what it wrote there.
 */
export function recoverFromCorruption(ctx: Context, err: unknown, then = 'Run the command again.'): HandoffError {
  // The file itself (a read-only repository reads a copy in memory).
  const file = path.join(ctx.dataDir, 'ledger.db');
  try {
    ctx.db.close();
  } catch {
    /* closing a damaged database may fail too */
  }
  const aside = ctx.readOnly ? null : setAside(file);
  // A send that failed says so itself, with the id to send again with: its cause is SQLite's word.
  const sent = err instanceof HandoffError && err.code === 'send_failed' ? err : null;
  const cause = sent ? ((sent as { cause?: unknown }).cause ?? sent) : err;
  const why = (cause as Error).message ?? String(cause);
  const next = sent
    ? `To be sure the message is delivered exactly once, send it again with --id ${(sent.details as { id: string }).id}.`
    : then;
  return new HandoffError(
    'ledger_corrupt',
    aside
      ? `The SQLite ledger ${file} is damaged (${why}). It was moved to ${path.basename(aside)}, and the next handoff command rebuilds it from the git ledger, where nothing was lost. ${next}`
      : `The SQLite ledger ${file} is damaged (${why}). Run 'handoff rebuild' where the ledger can be written.`,
    err instanceof HandoffError ? err.details : undefined,
  );
}

/** This clone's id where one was written; a placeholder where none was (nothing is written read-only). */
function readCloneIdIfAny(dataDir: string): string {
  try {
    return readCloneId(dataDir, false);
  } catch {
    return '0'.repeat(26);
  }
}

function readCloneId(dataDir: string, create = true): string {
  const file = path.join(dataDir, 'clone-id');
  const read = () => {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (!CLONE_ID.test(id))
      throw new HandoffError('bad_clone_id', `${file} does not hold a clone id. Delete it to get a new one.`);
    return id;
  };
  try {
    return read();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !create) throw err;
  }
  // First use: write a fresh id to a temporary file and link it into place; if another process won, use its id.
  const tmp = `${file}.${process.pid}.${randomHex(4)}`;
  fs.writeFileSync(tmp, `${monotonicFactory()()}\n`, { mode: 0o600 });
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return read();
}

/**
 * This clone's id, made anew when the repository is a copy of another (cp -r, a backup restored): two
 * directories writing one chain would fork it, and one's events would never reach the other.
 * `clone-home` records the data directory an id belongs to (its inode, then its path). A data directory at
 * another inode is not the one the id was made for, so it takes a new id (even when the original is gone,
 * or was moved away and the copy put in its place: those cannot be told from a live copy). A move keeps
 * the inode, and the id. The chain it had stays, is read like any other, and sync pushes it as a
 * fast-forward (`clone-previous`), so nothing written before the copy is stranded. The new id is derived
 * from the old one and this directory, so processes that start in a fresh copy at once all choose the same.
 */
function ownCloneId(repo: Repo, dataDir: string, warn: (m: string) => void): string {
  const known = homeOf(dataDir);
  if (known.recorded === `${known.id} ${known.where} ${known.real}`) return known.id;
  // First use, a move or a copy: decided by one process at a time, on what the files say under the lock.
  return withCloneLock(dataDir, () => {
    const { id, where, real, recorded } = homeOf(dataDir);
    const [recId, recWhere] = recorded.split(' ');
    let mine = id;
    if (recId === id && recWhere && recWhere.split(':').at(-1) !== where) {
      const digest = crypto.createHash('sha256').update(`${id}\0${where}\0${real}`).digest();
      const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
      mine = id.slice(0, 10) + Array.from(digest.subarray(0, 16), (b) => alphabet[b % 32]).join('');
      // `sync --setup` named the old id in the copy's refspecs: they now name the copy's own chain.
      for (const [key, value] of configEntries(repo.cwd, '^remote\\..*\\.(push|fetch|handoffsetup)$')) {
        if (!value.includes(`chains/${id}`)) continue;
        configUnset(repo.cwd, key, value);
        configAdd(repo.cwd, key, value.split(`chains/${id}`).join(`chains/${mine}`));
      }
      if (!previousCloneIds(dataDir).includes(id)) fs.appendFileSync(path.join(dataDir, 'clone-previous'), `${id}\n`);
      writeFileAtomic(path.join(dataDir, 'clone-id'), `${mine}\n`);
      warn(
        `this repository's .git was copied or restored from another directory (clone id ${id} belongs to that one); it now writes its own chain, ${mine}. The chain it had is kept, and sync pushes it too.`,
      );
    }
    writeFileAtomic(path.join(dataDir, 'clone-home'), `${mine} ${where} ${real}\n`);
    return mine;
  });
}

/** The ids this clone had before it found itself a copy (their chains are pushed by sync as fast-forwards). */
export function previousCloneIds(dataDir: string): string[] {
  try {
    return fs
      .readFileSync(path.join(dataDir, 'clone-previous'), 'utf8')
      .split('\n')
      .filter((l) => CLONE_ID.test(l));
  } catch {
    return [];
  }
}

/** The clone id, where its data directory is now (inode, real path), and what clone-home says. */
function homeOf(dataDir: string): { id: string; where: string; real: string; recorded: string } {
  const id = readCloneId(dataDir);
  const here = fs.statSync(dataDir);
  let recorded = '';
  try {
    recorded = fs.readFileSync(path.join(dataDir, 'clone-home'), 'utf8').trim();
  } catch {
    /* first use, or written by an older handoff */
  }
  // The inode alone: a network file system shows one directory on two devices to two machines.
  return { id, where: String(here.ino), real: fs.realpathSync.native(dataDir), recorded };
}

/** Runs `work` holding `clone-id.lock` (waiting for another process; a dead holder's, or one 10 s old, is taken). */
function withCloneLock<T>(dataDir: string, work: () => T): T {
  const lock = path.join(dataDir, 'clone-id.lock');
  while (!tryPidLock(lock, 10_000)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  try {
    return work();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** HANDOFF_CLOCK_OFFSET_MS shifts this process's clock (tests of clock skew between clones use it). */
function clockFrom(env: NodeJS.ProcessEnv): () => Date {
  const offset = Number(env.HANDOFF_CLOCK_OFFSET_MS ?? 0);
  if (!Number.isFinite(offset) || offset === 0) return () => new Date();
  return () => new Date(Date.now() + offset);
}

/**
 * The config keys handoff reads (as git lists them: section and name in lower case), remembered per worktree
 * in the data directory (git/config-cache.ts): its own, the identity, and what sync reads to pick a remote.
 */
const CACHED_KEY =
  /^(handoff\.|user\.(name|email)$|core\.(sharedrepository|autocrlf|filemode)$|remote\..+\.(handoffsetup|handoffrefprefix|url|pushurl|fetch)$|branch\..+\.remote$|gpg\.ssh\.allowedsignersfile$)/s;

function readConfig(repo: Repo, dataDir: string, cache: boolean): Map<string, string[]> {
  const worktree = sha1Hex(Buffer.from(repo.gitDir)).slice(0, 12);
  return configMatchingCached(repo, CACHED_KEY, cache ? path.join(dataDir, `config-cache-${worktree}.json`) : null);
}

/**
 * A warning for each remote whose `sync --setup` no longer fits, read from the remembered settings (no git
 * process); every CLI command gives it until setup is run again:
 * - an older setup made plain `git fetch` write straight into refs/handoff/chains/ (where `git fetch
 *   --prune` deletes chains);
 * - the remote was renamed (`git remote rename`) after setup: its fetch refspec still writes the copies of
 *   its old name, and `--undo` would leave what it cannot recognise.
 */
export function olderSetupWarnings(ctx: Context): string[] {
  // Setup writes the repository's own config file: where it shows neither, nothing more is read (most
  // commands never read the settings otherwise).
  let text: string;
  try {
    text = fs.readFileSync(path.join(ctx.repo.commonDir, 'config'), 'utf8');
  } catch {
    return [];
  }
  const older = text.includes(`:${CHAIN_PREFIX}*`);
  if (!older && !mayBeRenamed(text)) return [];
  const warnings: string[] = [];
  for (const [key, values] of ctx.config()) {
    const at = /^remote\.(.+)\.handoffsetup$/s.exec(key);
    if (!at) continue;
    const remote = at[1]!;
    // Named always: without it, setup takes the current branch's upstream remote, which may be another.
    const again = `handoff sync --setup ${remote}`;
    const was = values.map((v) => /^remote\.(.+)\.[^.\t]+\t/s.exec(v)?.[1]).find((r) => r && r !== remote);
    if (was)
      warnings.push(
        `remote ${remote} was renamed from ${was} after 'sync --setup': plain 'git fetch' still writes its chains' copies under ${trackingPrefix(was)}. Run '${again}' again.`,
      );
    else if (values.some((v) => /^remote\..+\.fetch\t/s.test(v) && fetchesIntoChains(v.slice(v.indexOf('\t') + 1))))
      warnings.push(
        `an older 'sync --setup' has plain 'git fetch' write ${remote}'s chains straight into ${CHAIN_PREFIX}, where 'git fetch --prune' deletes those ${remote} does not hold. Run '${again}' again to fetch them into ${trackingPrefix(remote)} instead.`,
      );
  }
  return warnings;
}

/**
 * Whether the config file's text may hold a setup record naming another remote than the section it is in
 * (what `git remote rename` leaves): a quick look at the lines, which the remembered settings then confirm.
 */
function mayBeRenamed(text: string): boolean {
  if (!/handoffsetup/i.test(text)) return false; // never set up: no line to look at
  let section = '';
  for (const line of text.split('\n')) {
    const header = /^\s*\[\s*remote\s+"(.*)"\s*\]/.exec(line);
    if (header) section = header[1]!;
    else if (/^\s*\[/.test(line)) section = '';
    const rec = /^\s*handoffsetup\s*=\s*"?remote\.(.*)\.[a-z]+\\t/i.exec(line);
    if (rec && rec[1] !== section) return true;
  }
  return false;
}

/**
 * A fetch refspec of an older `sync --setup`: the remote's chains straight into refs/handoff/chains/, or the
 * negative one that kept this clone's own chain out of it.
 */
export function fetchesIntoChains(refspec: string): boolean {
  return refspec.endsWith(`:${CHAIN_PREFIX}*`) || (refspec.startsWith('^') && !refspec.includes(':'));
}
