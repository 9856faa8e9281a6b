/**
 * Keeping the object database healthy: the ledger writes loose objects (about four per event), and git's
 * own automatic gc starts once it estimates about 6,700 of them, in the user's next commit or fetch. So after
 * writing, handoff estimates the loose objects the way git does (by sampling two of the 256 object
 * directories) and, past about a thousand, packs them itself with a geometric repack, which also keeps the
 * number of packs logarithmic. A process that writes many events packs its own from memory first
 * (packJournal). Only one process packs at a time; a busy or failed repack is skipped.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tryPidLock } from '../core/files';
import { processAlive } from '../core/proc';
import { runGit } from './exec';
import { clearJournal, journalOf, unlinkIfThere } from './objects';
import { writePack } from './pack-writer';
import { removeDeadMarks } from './refs';
import type { Repo } from './repo';

/** Entries in objects/17 and objects/18 at which to pack: about 6 / (2/256) = 770 loose objects. */
const SAMPLE_LIMIT = 6;
/** Packs beyond this many are rolled together (git's own auto gc starts at 50). */
const MAX_PACKS = 8;
/** A pack lock older than this was left by a process that died. */
const STALE_LOCK_MS = 10 * 60 * 1000;

/** An estimate of the loose objects (git's own sampling, over two directories). */
export function estimateLooseObjects(repo: Repo): number {
  let n = 0;
  for (const dir of ['17', '18']) {
    try {
      n += fs.readdirSync(path.join(repo.objectsDir, dir)).filter((f) => /^[0-9a-f]{38}$/.test(f)).length;
    } catch {
      /* no such directory: none there */
    }
  }
  return n * 128;
}

/**
 * Packs loose objects when there are many (see above). `lockDir` holds the lock file. Returns whether it
 * packed. Never throws: packing is housekeeping.
 */
export function packIfMany(repo: Repo, lockDir: string, force = false, newPack = false): boolean {
  // A new pack (a sealed pack window) may have made too many: they are rolled together.
  if (!force && newPack && countPacks(repo) > MAX_PACKS) return withPackLock(lockDir, () => (rollPacks(repo), true));
  if (!force && !dueForCheck(repo)) return false;
  if (!force && estimateLooseObjects(repo) < SAMPLE_LIMIT * 128) return false;
  return withPackLock(lockDir, () => {
    removeDeadMarks(repo.commonDir);
    removeDeadPackScratch(repo);
    // The loose objects go into one new pack as they are (no walk of history, so the cost is that of the
    // objects packed).
    const loose = listLooseObjects(repo);
    if (loose.length) {
      const packed = runGit(['pack-objects', '-q', path.join(repo.objectsDir, 'pack', 'pack')], {
        cwd: repo.cwd,
        input: `${loose.join('\n')}\n`,
        allowFailure: true,
      });
      if (packed.status !== 0) return false;
      // The loose copies of what is now packed go; their directories stay (git prune-packed would remove
      // the empty ones, and every writer would then have to make them again).
      for (const oid of loose) unlinkIfThere(path.join(repo.objectsDir, oid.slice(0, 2), oid.slice(2)));
      // This process's own journal was among them.
      clearJournal(journalOf(repo.objectsDir));
    }
    rollPacks(repo);
    return true;
  });
}

/** A process packs its own journal once it holds this many objects (about 128 events) or bytes. */
const JOURNAL_OBJECTS = 512;
const JOURNAL_BYTES = 8 * 1024 * 1024;

/**
 * Packs the ledger objects this process wrote (its journal, git/objects.ts) once there are many, from
 * memory: one pack written here, then their loose copies removed. A long-running writer (the MCP server,
 * the library) so never starts `git pack-objects` for its own events. Returns whether it packed; a busy
 * lock leaves the journal for the next append, and a journal that could not be packed for long is
 * forgotten (its objects stay loose, for packIfMany). Never throws.
 */
export function packJournal(repo: Repo, lockDir: string): boolean {
  const journal = journalOf(repo.objectsDir);
  if (journal.objects.length < JOURNAL_OBJECTS && journal.bytes < JOURNAL_BYTES) return false;
  const packed = withPackLock(lockDir, () => {
    writePack(repo.objectsDir, journal.objects, repo.shared ?? null);
    // Every object is in the pack now; a loose copy already gone (git gc) is fine.
    for (const { oid } of journal.objects) unlinkIfThere(path.join(repo.objectsDir, oid.slice(0, 2), oid.slice(2)));
    clearJournal(journal);
    rollPacks(repo);
    return true;
  });
  if (!packed && (journal.objects.length >= 4 * JOURNAL_OBJECTS || journal.bytes >= 4 * JOURNAL_BYTES))
    clearJournal(journal);
  return packed;
}

/** git gc's own rule: a gc.pid older than this was left by a gc that died. */
const GC_PID_STALE_MS = 12 * 60 * 60 * 1000;

/**
 * Whether someone else may be enumerating the repository's packs: git gc running (gcHolder) or another
 * handoff process packing (the pack lock). A pack removed under such a reader makes it fail ("unable to add
 * recent objects"), so a writer that rewrites its own packs (git/pack-writer.ts) writes loose objects meanwhile.
 */
export function packsInUse(repo: Repo, lockDir: string): boolean {
  if (fs.existsSync(path.join(lockDir, 'pack.lock'))) return true;
  return gcHolder(repo) !== null;
}

/**
 * The git gc running in this repository, as git reads its gc.pid ("<pid> <host>", fresh, the process alive
 * when on this host): the file's text and time, which tell one run from the next; null when none runs.
 */
function gcHolder(repo: Repo): string | null {
  // Called at every append: no exception when (as nearly always) there is no gc.pid.
  const file = path.join(repo.commonDir, 'gc.pid');
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) return null;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  if (Date.now() - stat.mtimeMs > GC_PID_STALE_MS) return null;
  const m = /^(\d+) (.*)$/.exec(text.trim());
  const holder = `${text.trim()} ${stat.mtimeMs}`;
  if (!m) return holder;
  return m[2] !== os.hostname() || processAlive(Number(m[1]), null) ? holder : null;
}

/**
 * What tells, later, whether a git gc ran meanwhile: its gc.pid now, and the pack directory's time (every
 * gc repacks, which writes there; a gc may start and end between two looks at gc.pid).
 */
export interface GcWatch {
  gc: boolean;
  packs: bigint | null;
}

export function watchGc(repo: Repo): GcWatch {
  return {
    gc: fs.existsSync(path.join(repo.commonDir, 'gc.pid')),
    packs: fs.statSync(path.join(repo.objectsDir, 'pack'), { bigint: true, throwIfNoEntry: false })?.mtimeNs ?? null,
  };
}

/** Whether a git gc may have run since `since` (or runs now). */
export function gcMayHaveRun(repo: Repo, since: GcWatch): boolean {
  const now = watchGc(repo);
  return since.gc || now.gc || now.packs !== since.packs;
}

/**
 * Waits (at most `maxMs`) for the git gc running now to end; a gc that starts after it is not waited for.
 * A `git gc --prune=now` decides what to remove from the refs it read when it started: once the gc that ran
 * when a ref moved has ended, what the ref holds stays.
 */
export function waitForRunningGc(repo: Repo, maxMs: number): void {
  const running = gcHolder(repo);
  if (running === null) return;
  const end = Date.now() + maxMs;
  while (Date.now() < end && gcHolder(repo) === running)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
}

/** Removes the half-written packs of writers killed while packing their journal (see writePack). */
function removeDeadPackScratch(repo: Repo): void {
  const dir = path.join(repo.objectsDir, 'pack');
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^tmp_handoff_(\d+)_/.exec(name);
    if (m && !processAlive(Number(m[1]), null)) unlinkIfThere(path.join(dir, name));
  }
}

/** Once packs pile up, --geometric rolls the smaller ones together, so their number stays logarithmic. */
function rollPacks(repo: Repo): void {
  if (countPacks(repo) <= MAX_PACKS) return;
  const res = runGit(['repack', '-d', '-q', '--geometric=2'], { cwd: repo.cwd, allowFailure: true });
  if (res.status !== 0 && /geometric/.test(res.stderr))
    runGit(['repack', '-d', '-q'], { cwd: repo.cwd, allowFailure: true });
}

/**
 * Runs `work` holding the pack lock (`lockDir/pack.lock`, holding its owner's pid; one packer at a time), or
 * returns false when another process holds it. A lock whose owner is gone, or older than STALE_LOCK_MS
 * (another host's, say), is taken over.
 * A failure inside counts as not packed.
 */
function withPackLock(lockDir: string, work: () => boolean): boolean {
  const lock = path.join(lockDir, 'pack.lock');
  if (!tryPidLock(lock, STALE_LOCK_MS)) return false;
  try {
    return work();
  } catch {
    return false;
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** Appends since this process last estimated, per object directory. */
const appendsSinceCheck = new Map<string, number>();
/** Appends (of about four objects each) a long-running process makes between two estimates. */
const CHECK_EVERY = 32;

/**
 * Whether to estimate now: at a process's first append, then every CHECK_EVERY appends. The estimate
 * reads two directories; a server appending thousands of events needs it only every so often, since
 * the threshold sits far below the point where git's own gc starts.
 */
function dueForCheck(repo: Repo): boolean {
  const n = appendsSinceCheck.get(repo.objectsDir);
  if (n === undefined || n + 1 >= CHECK_EVERY) {
    appendsSinceCheck.set(repo.objectsDir, 0);
    return true;
  }
  appendsSinceCheck.set(repo.objectsDir, n + 1);
  return false;
}

/** How many packs the object database holds. */
export function countPacks(repo: Repo): number {
  try {
    return fs.readdirSync(path.join(repo.objectsDir, 'pack')).filter((f) => f.endsWith('.pack')).length;
  } catch {
    return 0;
  }
}

/** Every loose object's id; on the way, removes the temporary object files of writers that died. */
function listLooseObjects(repo: Repo): string[] {
  const out: string[] = [];
  for (let i = 0; i < 256; i++) {
    const dir = i.toString(16).padStart(2, '0');
    let names: string[];
    try {
      names = fs.readdirSync(path.join(repo.objectsDir, dir));
    } catch {
      continue;
    }
    for (const n of names) {
      if (/^[0-9a-f]{38}$/.test(n)) out.push(dir + n);
      // The temporary file of a writer killed mid-object (git counts it as garbage).
      const tmp = /^tmp_obj_handoff_(\d+)_/.exec(n);
      if (tmp && !processAlive(Number(tmp[1]), null)) unlinkIfThere(path.join(repo.objectsDir, dir, n));
    }
  }
  return out;
}
