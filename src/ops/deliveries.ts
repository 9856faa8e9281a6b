/**
 * One agent's readers at once in this clone (two `wait`s, a `wait` beside `read --all`, an MCP server beside
 * a shell command, in one worktree or two): each unread message is handed to one of them. A reader takes a
 * message by creating a file named after it, exclusively, in `delivering/<agent>/` of the data directory,
 * holding its pid and start; once the message is delivered it is marked read and the file removed. A
 * reader that died leaves its files to the next reader, which finds it gone and takes them: a message is
 * handed out again, never lost. (Two readers taking over one dead reader's file at the same moment may
 * both deliver it: at least once, as before.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { processAlive, processStartToken } from '../core/proc';
import { isEventId } from '../core/events';
import type { Context } from './context';

const dirOf = (ctx: Context, agent: string) => path.join(ctx.dataDir, 'delivering', agent);

/** The pid and start token in a delivery file, or null when it cannot be read. */
function holderOf(file: string): { pid: number; token: string | null } | null {
  try {
    const [pid, token] = fs.readFileSync(file, 'utf8').trim().split(' ');
    return { pid: Number(pid), token: token || null };
  } catch {
    return null;
  }
}

/**
 * Takes the messages `ids` for delivery by this process to `agent`: returns those no other live reader
 * holds and that `stillUnread` says are unread once taken (another reader may have delivered one, marked
 * it read and let it go since the caller listed it), in the order given. Where the files cannot be written
 * (a read-only data directory), every id is returned: delivery is then as without them.
 */
export function takeForDelivery(
  ctx: Context,
  agent: string,
  ids: string[],
  stillUnread: (ids: string[]) => string[],
): string[] {
  if (!ids.length || ctx.readOnly) return ids;
  const dir = dirOf(ctx, agent);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    return ids;
  }
  // Each file appears whole: written under a name of this process's, then linked to the message's name,
  // which fails when that exists (a reader never sees a file half written, and takes it for a dead one's).
  const mine = path.join(dir, `.taking-${process.pid}`);
  try {
    fs.writeFileSync(mine, `${process.pid} ${processStartToken(process.pid) ?? ''}\n`, { mode: 0o600 });
  } catch {
    return ids;
  }
  const taken: string[] = [];
  for (const id of ids) {
    if (!isEventId(id)) continue;
    const file = path.join(dir, id);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.linkSync(mine, file);
        taken.push(id);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          taken.push(id);
          break;
        }
      }
      const holder = holderOf(file);
      if (!holder) continue; // gone meanwhile: try again
      if (holder.pid === process.pid) {
        taken.push(id);
        break;
      }
      if (processAlive(holder.pid, holder.token)) break; // another reader delivers it
      // Its reader is gone: the file is moved aside (one taker wins the rename), then taken anew.
      try {
        const aside = `${file}.gone-${process.pid}`;
        fs.renameSync(file, aside);
        fs.rmSync(aside, { force: true });
      } catch {
        /* another reader moved it first */
      }
    }
  }
  fs.rmSync(mine, { force: true });
  const unread = new Set(taken.length ? stillUnread(taken) : []);
  endDelivery(
    ctx,
    agent,
    taken.filter((id) => !unread.has(id)),
  );
  return taken.filter((id) => unread.has(id));
}

/** Ends this process's delivery of `ids` to `agent` (after they were marked read, or not delivered after all). */
export function endDelivery(ctx: Context, agent: string, ids: string[]): void {
  if (!ids.length || ctx.readOnly) return;
  const dir = dirOf(ctx, agent);
  for (const id of ids) {
    if (!isEventId(id)) continue;
    const file = path.join(dir, id);
    if (holderOf(file)?.pid === process.pid) fs.rmSync(file, { force: true });
  }
}
