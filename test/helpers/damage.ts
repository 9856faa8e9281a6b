/** Damaging a ledger's SQLite file the way a bad disk would: garbage over whole pages. */
import fs from 'node:fs';
import Database from 'better-sqlite3';

/**
 * Copies the write-ahead log into `dbFile`, then overwrites the pages of `table` (all of its pages, only its
 * overflow pages, or its root page) with 0xa5 bytes; returns how many pages were overwritten.
 */
export function damagePages(dbFile: string, table: string, which: 'all' | 'overflow' | 'root'): number {
  const db = new Database(dbFile);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const only = which === 'root' ? "AND path = '/'" : which === 'overflow' ? "AND pagetype = 'overflow'" : '';
  const pages = (db.prepare(`SELECT pageno FROM dbstat WHERE name = ? ${only}`).all(table) as { pageno: number }[]).map(
    (r) => r.pageno,
  );
  db.close();
  const fd = fs.openSync(dbFile, 'r+');
  for (const p of pages) fs.writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, (p - 1) * 4096);
  fs.closeSync(fd);
  return pages.length;
}
