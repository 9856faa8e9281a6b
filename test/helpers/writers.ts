/** Writer processes for the concurrency and crash tests, and a look at both stores. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { chainEvents, cleanEnv, ok } from './repo';

const WRITER = path.join(__dirname, '..', 'fixtures', 'writer.js');

/**
 * Runs the writer fixture; resolves with the lines it printed (acknowledged sends) and how it ended.
 * With `killAfterMs`, the writer is killed that long after its first acknowledged send (so that a loaded
 * machine still kills it mid-stream rather than during start-up).
 */
export function writer(
  repo: string,
  args: string[],
  killAfterMs?: number,
): Promise<{ acked: string[]; code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WRITER, ...args], {
      cwd: repo,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let armed = false;
    child.stdout.on('data', (d) => {
      out += d;
      if (killAfterMs !== undefined && !armed) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code, signal) => {
      if (code !== 0 && signal === null) out += `writer failed: ${err}`;
      // Only complete lines count: a line cut by the kill was never fully acknowledged.
      const lines = out.split('\n');
      lines.pop();
      resolve({ acked: lines.map((l) => l.split(' ')[0]!), code, signal });
    });
  });
}

/** Message ids in SQLite (via the CLI, which first indexes anything git has that SQLite lacks) and in git. */
export function stores(repo: string, agent: string): { sqlite: string[]; git: string[] } {
  const sqlite = ok(repo, ['inbox', '--all', '--limit', '0', '--json'], { agent }).json.messages.map((m: any) => m.id);
  const git = chainEvents(repo)
    .filter((e) => e.event.type === 'message')
    .map((e) => e.event.id);
  return { sqlite, git };
}
