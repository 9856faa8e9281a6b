/** Local liveness: which processes are running handoff for which agent on this machine (never synced). */
import { stmt, type Db } from './db';

export interface PresenceRow {
  agent: string;
  host: string;
  pid: number;
  command: string;
  started_at: string;
  /** processStartToken() of the process when it was recorded (null in rows from before it was kept). */
  proc_start?: string | null;
}

/** Records that process `pid` on `host` acts for `agent`. */
export function addPresence(db: Db, p: PresenceRow): void {
  stmt(
    db,
    'INSERT OR REPLACE INTO presence (agent, host, pid, command, started_at, proc_start) VALUES (@agent, @host, @pid, @command, @started_at, @proc_start)',
  ).run({ proc_start: null, ...p });
}

/** Forgets a process. */
export function removePresence(db: Db, agent: string, host: string, pid: number): void {
  stmt(db, 'DELETE FROM presence WHERE agent = ? AND host = ? AND pid = ?').run(agent, host, pid);
}

/** Every recorded process. */
export function listPresence(db: Db): PresenceRow[] {
  return stmt(db, 'SELECT * FROM presence ORDER BY agent').all() as PresenceRow[];
}
