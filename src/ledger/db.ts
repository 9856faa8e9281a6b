/**
 * Opening the SQLite ledger: WAL, a busy timeout, mode 0600, and the numbered migrations applied by one
 * runner. The database is an index of the git ledger; anything in it can be rebuilt from git.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { HandoffError } from '../core/errors';
import { bundleDir, writeFileAtomic } from '../core/files';
import { MIGRATIONS } from './migrations';

export type Db = Database.Database;

/** The schema version this build writes (PRAGMA user_version). */
const SCHEMA_VERSION = MIGRATIONS.length;

/** Raised when ledger.db is not a database, or is damaged; the caller may rebuild it from git. */
export class CorruptLedgerError extends HandoffError {
  constructor(file: string, why: string) {
    super('ledger_corrupt', `The SQLite ledger ${file} is unreadable (${why}).`);
  }
}

/**
 * Tables of what only this clone knows (what each agent was told already, and the processes that run as an
 * agent here, such as MCP servers, which register once at their start): kept across a rebuild.
 */
const LOCAL_TABLES = ['loop_notices', 'nudges', 'claim_notices', 'presence'] as const;

export type LocalState = Map<string, Record<string, unknown>[]>;

/** The rows of the local tables of the database at `file` (none where it is missing or unreadable). */
export function readLocalState(file: string): LocalState {
  const out: LocalState = new Map();
  if (!fs.existsSync(file)) return out;
  const Sqlite = require('better-sqlite3') as typeof Database;
  try {
    const db = new Sqlite(file, withAddon({ readonly: true, fileMustExist: true }));
    try {
      for (const table of LOCAL_TABLES) {
        try {
          out.set(table, db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[]);
        } catch {
          /* a schema without the table */
        }
      }
    } finally {
      db.close();
    }
  } catch {
    /* unreadable: nothing is kept */
  }
  return out;
}

/** Puts rows readLocalState read into `db` (a new database of this schema). */
export function restoreLocalState(db: Db, state: LocalState): void {
  writeTx(db, () => {
    for (const [table, rows] of state) {
      if (!(LOCAL_TABLES as readonly string[]).includes(table) || rows.length === 0) continue;
      const columns = Object.keys(rows[0]!).filter((c) => /^[a-z_]+$/.test(c));
      const insert = db.prepare(
        `INSERT OR IGNORE INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      );
      for (const r of rows) insert.run(...columns.map((c) => r[c]));
    }
  });
}

/** Opens (creating if needed) the ledger database at `file` and brings its schema up to date. */
export function openLedgerDb(file: string, opts: { busyTimeoutMs?: number } = {}): Db {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if (!fs.existsSync(file)) {
    // Create it with mode 0600 before SQLite does, so it never exists world-readable.
    try {
      fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  // Loaded on first use: commands that start git first (blame) overlap the native module's load with it.
  const Sqlite = require('better-sqlite3') as typeof Database;
  const options = withAddon({});
  let db: Db;
  try {
    db = new Sqlite(file, options);
  } catch (err) {
    throw new CorruptLedgerError(file, (err as Error).message);
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 15000))}`);
    if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    migrate(db, file);
    if (fs.existsSync(deferredFile(file))) restoreIndexes(db, file);
  } catch (err) {
    db.close();
    if (err instanceof HandoffError) throw err;
    const code = (err as { code?: string }).code ?? '';
    if (/SQLITE_(NOTADB|CORRUPT)/.test(code)) throw new CorruptLedgerError(file, (err as Error).message);
    throw err;
  }
  return db;
}

let addon: object | null = null;
/**
 * better-sqlite3's compiled addon, loaded. better-sqlite3's JavaScript is bundled, so its own search (the
 * `bindings` package, which looks beside the module that calls it) would look beside the bundle: the addon
 * is loaded from where node-gyp and prebuild-install put it (which also spares that search, about 1 ms), or
 * else found by `bindings`, required and run from better-sqlite3's own directory. A failure here is the
 * installation's, never the ledger's: it is reported as such and the ledger is left as it is.
 */
function loadAddon(): object {
  if (addon) return addon;
  let dir = '';
  try {
    // From the bundle (dist/), node's search would find ../node_modules/better-sqlite3 first: looked at
    // directly, which spares resolving (about 0.3 ms of every command).
    const beside = path.join(bundleDir(), '..', 'node_modules', 'better-sqlite3');
    dir = fs.existsSync(path.join(beside, 'build', 'Release', 'better_sqlite3.node'))
      ? beside
      : path.dirname(require.resolve('better-sqlite3/package.json'));
    const file = path.join(dir, 'build', 'Release', 'better_sqlite3.node');
    if (fs.existsSync(file)) return (addon = require(file) as object);
    const bindings = createRequire(path.join(dir, 'package.json'))('bindings') as (o: {
      bindings: string;
      module_root: string;
    }) => object;
    return (addon = bindings({ bindings: 'better_sqlite3.node', module_root: dir }));
  } catch (err) {
    const why = ((err as Error).message ?? String(err)).split('\n')[0];
    throw new HandoffError(
      'sqlite_unavailable',
      `SQLite could not be loaded: better-sqlite3's compiled addon${dir ? ` in ${dir}` : ''} is missing or does not load (${why}). Rebuild it where handoff is installed ('npm rebuild better-sqlite3'), or reinstall handoff.`,
    );
  }
}
/** The options that give better-sqlite3 its addon (typed as a path by @types/better-sqlite3; an object is accepted too). */
const withAddon = <T extends object>(opts: T): T & { nativeBinding: string } => ({
  ...opts,
  nativeBinding: loadAddon() as unknown as string,
});

/**
 * Opens a copy of the ledger in memory, for a repository this process cannot write: the copy is read from
 * `file` when it can be (null when it cannot), is brought up to date like the file would be, and every
 * change made to it is lost on close. The caller refuses writes that must last (git refs and objects).
 */
export function openLedgerCopy(file: string): { db: Db; copied: boolean } {
  const Sqlite = require('better-sqlite3') as typeof Database;
  let image: Buffer | null = null;
  try {
    const disk = new Sqlite(file, withAddon({ readonly: true, fileMustExist: true }));
    try {
      image = disk.serialize();
    } finally {
      disk.close();
    }
  } catch {
    // Unreadable, absent or not openable read-only (a WAL file without its index): index git afresh.
  }
  // The file is in WAL mode (bytes 18 and 19 of its header say 2), which a database in memory cannot be: it
  // would refuse every read, and the ledger would be indexed again from git. The copy says rollback (1).
  if (image && image.length >= 100 && image[18] === 2 && image[19] === 2) {
    image[18] = 1;
    image[19] = 1;
  }
  let db = image ? new Sqlite(image, withAddon({})) : new Sqlite(':memory:', withAddon({}));
  try {
    migrate(db, file);
  } catch (err) {
    if (!image) throw err;
    db.close();
    image = null;
    db = new Sqlite(':memory:', withAddon({}));
    migrate(db, file);
  }
  return { db, copied: image !== null };
}

function migrate(db: Db, file: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current === SCHEMA_VERSION) return;
  if (current > SCHEMA_VERSION) {
    throw new HandoffError(
      'ledger_too_new',
      `${file} was written by a newer handoff (schema ${current}, this one knows ${SCHEMA_VERSION}). Upgrade handoff, or run 'handoff rebuild' to recreate it from git with this version.`,
    );
  }
  db.transaction(() => {
    // Re-read inside the write lock: another process may have migrated meanwhile.
    const now = db.pragma('user_version', { simple: true }) as number;
    for (let v = now; v < SCHEMA_VERSION; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}

const cache = new WeakMap<Db, Map<string, Database.Statement>>();

/** A statement prepared once per connection. */
export function stmt(db: Db, sql: string): Database.Statement {
  let m = cache.get(db);
  if (!m) cache.set(db, (m = new Map()));
  let s = m.get(sql);
  if (!s) m.set(sql, (s = db.prepare(sql)));
  return s;
}

/** Runs `fn` in a BEGIN IMMEDIATE transaction (writers queue on the busy timeout, never deadlock). */
export function writeTx<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

/**
 * Indexes that no query of indexing uses (its lookups go by id, commit and short-id suffix, which stay):
 * those by type, clock, thread, reply, recipient and chain parent, which commands list by.
 */
export const LISTING_INDEXES = [
  'events_chain_parent',
  'events_type_clock',
  'messages_clock',
  'messages_thread',
  'messages_reply_to',
  'recipients_agent',
];

/** Beside ledger.db while indexes are deferred: the SQL that makes them again. */
function deferredFile(file: string): string {
  return `${file}.deferred-indexes`;
}

/**
 * Drops the secondary indexes `names` of the database at `file` for a bulk load (an index made once from
 * sorted rows costs less than one kept up row by row), and returns the SQL that makes them again. That SQL
 * is also written beside the file, under the same write lock as the drop, so that if this process dies
 * before restoreIndexes, the next process to open the database makes them. Only indexes no query of the
 * load needs may be deferred.
 */
export function deferIndexes(db: Db, file: string, names: string[]): string[] {
  return writeTx(db, () => {
    const sql: string[] = [];
    for (const name of names) {
      const row = stmt(db, "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?").get(name) as
        { sql: string | null } | undefined;
      if (row?.sql) sql.push(row.sql.replace(/^CREATE INDEX /i, 'CREATE INDEX IF NOT EXISTS '));
    }
    writeFileAtomic(deferredFile(file), JSON.stringify(sql));
    for (const name of names) db.exec(`DROP INDEX IF EXISTS "${name.replace(/"/g, '')}"`);
    return sql;
  });
}

/**
 * Makes the indexes deferIndexes dropped (where they are missing), from `sql` (what deferIndexes
 * returned) or else from the note beside the file, and removes the note, all under the write lock.
 */
export function restoreIndexes(db: Db, file: string, sql?: string[]): void {
  const note = deferredFile(file);
  let made: string[] = [];
  try {
    writeTx(db, () => {
      made = sql ?? readNote(note);
      for (const s of made) if (/^CREATE INDEX IF NOT EXISTS /.test(s)) db.exec(s);
      fs.rmSync(note, { force: true });
    });
  } catch (err) {
    // Not made after all: the note stays for the next process.
    if (made.length && !fs.existsSync(note)) fs.writeFileSync(note, JSON.stringify(made), { mode: 0o600 });
    throw err;
  }
}

function readNote(note: string): string[] {
  try {
    const sql = JSON.parse(fs.readFileSync(note, 'utf8')) as unknown;
    return Array.isArray(sql) ? sql.filter((s): s is string => typeof s === 'string') : [];
  } catch {
    return []; // gone meanwhile (another process made them), or unreadable
  }
}
