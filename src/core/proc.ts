/**
 * Process identity that survives PID reuse: a pid is only the same process when its start time is the
 * same too. Linux reads /proc/<pid>/stat (start time in clock ticks since boot) and the boot id;
 * elsewhere `ps -o lstart=` is asked.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

let bootId: string | undefined;

/** An opaque token for when process `pid` started, or null when it is not running (or cannot be read). */
export function processStartToken(pid: number): string | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  // This process's own start is asked for by several writers (marks, presence): read once.
  if (pid === process.pid) return (ownToken ??= readToken(pid) ?? '') || null;
  return readToken(pid);
}

let ownToken: string | undefined;

function readToken(pid: number): string | null {
  if (process.platform === 'linux') {
    const stat = readStat(pid);
    return stat ? tokenOf(stat) : null;
  }
  const res = spawnSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8' });
  const out = res.status === 0 ? res.stdout.trim() : '';
  return out || null;
}

function readStat(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
}

/** The boot id and the start time in clock ticks, from /proc/<pid>/stat. */
function tokenOf(stat: string): string | null {
  // Field 2 (comm) may hold spaces and parentheses: count fields after its closing parenthesis.
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  if (!start) return null;
  try {
    bootId ??= fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
  return `${bootId}:${start}`;
}

/** True when the process `pid` runs and, if `token` is given, is the very process that token was taken from. */
export function processAlive(pid: number, token: string | null | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (process.platform === 'linux') {
    const stat = readStat(pid);
    // A zombie has exited; only its parent has not collected it yet.
    const state = stat?.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (!stat || state === 'Z' || state === 'X') return false;
    return !token || tokenOf(stat) === token;
  }
  if (!token) return true;
  return processStartToken(pid) === token;
}

/** A process's parent pid and command name, or null when it cannot be read. */
export function processParent(pid: number): { ppid: number; comm: string } | null {
  if (!Number.isInteger(pid) || pid <= 1) return null;
  if (process.platform === 'linux') {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return Number.isInteger(ppid) ? { ppid, comm } : null;
    } catch {
      return null;
    }
  }
  const res = spawnSync('ps', ['-o', 'ppid=,comm=', '-p', String(pid)], { encoding: 'utf8' });
  const m = /^\s*(\d+)\s+(.*)$/.exec(res.stdout.trim());
  return m ? { ppid: Number(m[1]), comm: m[2]!.split('/').pop()! } : null;
}

/** Command names of agent runtimes, whose process outlives each CLI call an agent makes. */
const AGENT_COMMANDS = /^(claude|codex|gemini|cursor-agent|cursor|opencode|copilot|aider|goose|amp)$/i;

/** Interpreters an agent runtime may run under (Gemini CLI and npm installs of others run as `node`). */
const INTERPRETERS = /^(node|nodejs|bun|deno|python[0-9.]*)$/i;
/** Install paths of runtimes that run as a script: their npm packages. */
const AGENT_PACKAGES =
  /(^|\/)(@anthropic-ai\/claude-code|@google\/gemini-cli|@openai\/codex|@github\/copilot|opencode-ai|aider-chat)\//;

/** Whether an interpreter's command line runs an agent runtime: its script is named like one, or is in its package. */
function runsAgentScript(pid: number): boolean {
  let args: string[];
  if (process.platform === 'linux') {
    try {
      args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      return false;
    }
  } else {
    const res = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
    args = res.stdout.trim().split(/\s+/);
  }
  // The script is the first argument that is not an option of the interpreter.
  const script = args.slice(1).find((a) => !a.startsWith('-'));
  if (!script) return false;
  const base = script
    .split('/')
    .pop()!
    .replace(/\.(c?js|mjs|ts|py)$/, '');
  return AGENT_COMMANDS.test(base) || AGENT_PACKAGES.test(script);
}

/**
 * The long-lived process that stands for the caller: the nearest ancestor that is an agent runtime (by its
 * command name, or by the script an interpreter runs), else the parent (the shell or program that ran this
 * command).
 */
export function agentAncestor(): number | null {
  let pid = process.ppid;
  for (let depth = 0; depth < 16 && pid > 1; depth++) {
    const p = processParent(pid);
    if (!p) break;
    if (AGENT_COMMANDS.test(p.comm) || (INTERPRETERS.test(p.comm) && runsAgentScript(pid))) return pid;
    pid = p.ppid;
  }
  return null;
}

/** A start token as it goes into a file name: "t" and letters, digits and dots. */
function startName(token: string | null): string {
  return `t${(token ?? '').replace(/[^A-Za-z0-9]/g, '.')}`;
}

let ownStart: string | undefined;
/** This process's start as it goes into the names of the scratch files it makes (see startNameGone). */
export function ownStartName(): string {
  return (ownStart ??= startName(processStartToken(process.pid)));
}

/**
 * Whether the process that put its pid and ownStartName() (or no start, in older names) into a file name
 * no longer runs: also when another process now has that pid (pids are reused).
 */
export function startNameGone(pid: number, name: string | null): boolean {
  if (!processAlive(pid, null)) return true;
  if (!name || name === 't') return false;
  const now = processStartToken(pid);
  return now !== null && startName(now) !== name;
}
