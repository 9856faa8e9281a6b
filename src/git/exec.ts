/**
 * Running the git CLI. Arguments are always an array (no shell), prompts are disabled, and the output
 * language is fixed so that messages can be matched. Callers never pass user text as an option.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HandoffError } from '../core/errors';
import { randomHex } from '../core/random';

/** A git command that failed; `stderr` holds git's own words. */
export class GitError extends HandoffError {
  readonly stderr: string;
  readonly status: number | null;
  constructor(args: string[], status: number | null, stderr: string) {
    const first = stderr.trim().split('\n').slice(-3).join(' ').slice(0, 400);
    const missing = /unable to read [0-9a-f]{7,}|missing (blob|tree|commit) [0-9a-f]{7,}/.test(stderr)
      ? ' (an object went missing while git read it: was git gc --prune=now running? Run the command again)'
      : '';
    super(
      'git_failed',
      `git ${subcommand(args) ?? args[0] ?? ''} failed: ${first || `exit status ${status}`}${missing}`,
    );
    this.stderr = stderr;
    this.status = status;
  }
}

export interface GitOptions {
  cwd: string;
  input?: string | Buffer;
  env?: Record<string, string | undefined>;
  /** Return the result instead of throwing when git exits non-zero. */
  allowFailure?: boolean;
}

export interface GitResult {
  status: number;
  stdout: Buffer;
  stderr: string;
}

// Replacement objects (git replace) are ignored: the ledger is read as it was written, and verify reports them.
// bin/run.js starts some git processes with the same values before the bundle loads (takeEarlyGit checks).
export const BASE_ENV: Readonly<Record<string, string>> = {
  GIT_TERMINAL_PROMPT: '0',
  LC_ALL: 'C',
  LANGUAGE: 'C',
  GIT_OPTIONAL_LOCKS: '0',
  GIT_NO_REPLACE_OBJECTS: '1',
};

/**
 * The commands whose output handoff reads as a whole get GIT_FLUSH=0: git log and rev-list otherwise write
 * each record with its own write() into a pipe (100,000 commits listed: 0.6 s of system time, half the
 * listing). Only they get it: hooks that git runs for other commands (pre-push, reference-transaction)
 * inherit the environment, and a hook may read a git process record by record.
 */
const BUFFERED = new Set(['log', 'rev-list']);

/** The git command by name: global options (-c key=value, --no-optional-locks, ...) come before it. */
function subcommand(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-c' || args[i] === '-C') i++;
    else if (!args[i]!.startsWith('-')) return args[i];
  }
  return undefined;
}

/** The environment git runs in: this process's, with BASE_ENV and `extra` (an undefined value unsets). */
function gitEnv(args: readonly string[], extra?: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...BASE_ENV, ...extra };
  if (BUFFERED.has(subcommand(args) ?? '')) env.GIT_FLUSH = '0';
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

/** Runs git and returns its raw result; throws a GitError on failure unless allowFailure is set. */
export function runGit(args: string[], opts: GitOptions): GitResult {
  const env = gitEnv(args, opts.env);
  const res = spawnSync('git', args, {
    cwd: opts.cwd,
    input: opts.input,
    env,
    maxBuffer: 1024 * 1024 * 1024,
    windowsHide: true,
  });
  if (res.error) {
    const code = (res.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new HandoffError('git_missing', 'git was not found on PATH. Install git and try again.');
    throw new HandoffError('git_failed', `Could not run git ${args[0]}: ${res.error.message}`);
  }
  const out: GitResult = { status: res.status ?? 1, stdout: res.stdout, stderr: res.stderr.toString('utf8') };
  if (out.status !== 0 && !opts.allowFailure) throw new GitError(args, res.status, out.stderr);
  return out;
}

/** Runs git and returns stdout as text with the trailing newline removed. */
export function git(args: string[], opts: GitOptions): string {
  return runGit(args, opts).stdout.toString('utf8').replace(/\n$/, '');
}

/**
 * Runs git asynchronously, passing its stderr through to `onStderr` as it comes (progress) and keeping it.
 * With `onStdout`, its output goes there chunk by chunk and is not kept (the result's stdout is empty).
 */
export function runGitStreaming(
  args: string[],
  opts: GitOptions & { onStderr?: (chunk: string) => void; onStdout?: (chunk: Buffer) => void },
): Promise<GitResult> {
  const env = gitEnv(args, opts.env);
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: opts.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', opts.onStdout ?? ((d: Buffer) => out.push(d)));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString('utf8');
      opts.onStderr?.(d.toString('utf8'));
    });
    child.on('error', (e) => reject(new HandoffError('git_failed', `Could not run git ${args[0]}: ${e.message}`)));
    child.on('close', (code) => {
      const res = { status: code ?? 1, stdout: Buffer.concat(out), stderr: err };
      if (res.status !== 0 && !opts.allowFailure) reject(new GitError(args, code, err));
      else resolve(res);
    });
  });
}

/** True when commit `a` is an ancestor of (or equal to) commit `b`; false also when either is missing. */
export function isAncestor(cwd: string, a: string, b: string): boolean {
  return runGit(['merge-base', '--is-ancestor', a, b], { cwd, allowFailure: true }).status === 0;
}

/** A git process bin/run.js started before the bundle loaded (see takeEarlyGit). */
export interface EarlyGit {
  /** Null when git could not start. */
  result: Promise<GitResult | null>;
  /** Holds this process open until git ends (call before waiting for `result`). */
  ref(): void;
}

/**
 * The git process bin/run.js started under `key` (startEarlyGit), if it runs `args` in `cwd` with the
 * environment this module gives git; taken once. Null otherwise: the caller starts its own.
 */
export function takeEarlyGit(key: string, args: readonly string[], cwd: string): EarlyGit | null {
  const sym = Symbol.for(key);
  const early = (globalThis as Record<symbol, unknown>)[sym] as
    (EarlyGit & { args: string[]; env: Record<string, string>; cwd: string }) | undefined;
  if (!early) return null;
  delete (globalThis as Record<symbol, unknown>)[sym];
  const same =
    early.cwd === cwd &&
    early.args.join('\0') === args.join('\0') &&
    Object.keys(BASE_ENV).length === Object.keys(early.env).length &&
    Object.entries(BASE_ENV).every(([k, v]) => early.env[k] === v);
  return same ? { result: early.result, ref: early.ref } : null;
}

/** Starts git with stdin and stdout as pipes (for streaming `cat-file --batch`); the caller ends stdin. */
export function spawnGit(
  args: string[],
  opts: { cwd: string; stdin?: number; stdout?: number },
): ReturnType<typeof spawn> {
  const env = gitEnv(args);
  return spawn('git', args, {
    cwd: opts.cwd,
    env,
    stdio: [opts.stdin ?? 'pipe', opts.stdout ?? 'pipe', 'pipe'],
  });
}

/** A git process started now and given its input later (see startGit). */
export interface PendingGit {
  /** Writes `input` to git's stdin, closes it, and waits for git to exit. */
  finish(input: string | Buffer): Promise<GitResult>;
}

/**
 * Starts git now, with its input to come: a caller waiting for something else (a `git status`) meanwhile
 * pays nothing for git's start-up afterwards. Output is collected from the start; an unused process is
 * ended by finish('') (batch commands exit at the end of their input).
 */
export function startGit(
  args: string[],
  opts: {
    cwd: string;
    allowFailure?: boolean;
    env?: Record<string, string>;
    /**
     * git writes into an unlinked temporary file, read whole when it exits: large output then costs one
     * buffer, not a chunk per read and their concatenation (each new page of memory costs a fault).
     */
    outputToFile?: boolean;
  },
): PendingGit {
  const env = gitEnv(args, opts.env);
  const file = opts.outputToFile ? unlinkedTempFile('handoff-git-out') : null;
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn('git', args, { cwd: opts.cwd, env, stdio: ['pipe', file ?? 'pipe', 'pipe'] });
  } catch (e) {
    if (file !== null) fs.closeSync(file);
    throw e;
  }
  const out: Buffer[] = [];
  let err = '';
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
  // git may exit before reading all of its input (it failed): the write error is not the one to report.
  child.stdin?.on('error', () => undefined);
  // The output file is closed once, by whichever of 'error' and 'close' comes first (a git that could not
  // start emits both).
  let outFile = file;
  const closeOut = () => {
    if (outFile !== null) fs.closeSync(outFile);
    outFile = null;
  };
  const done = new Promise<GitResult>((resolve, reject) => {
    child.on('error', (e) => {
      closeOut();
      reject(new HandoffError('git_failed', `Could not run git ${args[0]}: ${e.message}`));
    });
    child.on('close', (code) => {
      let stdout: Buffer = Buffer.alloc(0);
      try {
        if (file === null) stdout = Buffer.concat(out);
        else if (outFile !== null) {
          stdout = Buffer.allocUnsafe(fs.fstatSync(outFile).size);
          for (let at = 0; at < stdout.length;) {
            const n = fs.readSync(outFile, stdout, at, stdout.length - at, at);
            if (n === 0) {
              stdout = stdout.subarray(0, at);
              break;
            }
            at += n;
          }
        }
      } catch (e) {
        reject(new HandoffError('git_failed', `Could not read what git ${args[0]} wrote: ${(e as Error).message}`));
        return;
      } finally {
        closeOut();
      }
      const res = { status: code ?? 1, stdout, stderr: err };
      if (res.status !== 0 && !opts.allowFailure) reject(new GitError(args, code, err));
      else resolve(res);
    });
  });
  // A process nobody finishes must not fail the command: its failure is reported by finish() only.
  done.catch(() => undefined);
  return {
    finish(input) {
      if (child.stdin?.writable) child.stdin.end(input);
      return done;
    },
  };
}

/**
 * A new temporary file, already unlinked (nothing is left behind whatever happens to this process), open
 * for reading and writing; null when none can be made here.
 */
export function unlinkedTempFile(prefix: string): number | null {
  try {
    const tmp = path.join(os.tmpdir(), `${prefix}-${process.pid}-${randomHex(6)}`);
    const fd = fs.openSync(tmp, 'wx+', 0o600);
    try {
      fs.unlinkSync(tmp);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    return fd;
  } catch {
    return null;
  }
}

/** A git process running in the background: it keeps this process alive only once someone waits for it. */
export interface BackgroundGit {
  /** Its output when it exits 0; null when it failed or could not start. */
  result: Promise<Buffer | null>;
  /** Holds this process open until git ends (call before waiting for `result`). */
  hold(): void;
}

/**
 * Starts git in the background: a command that ends without waiting for it (an error) exits at once and
 * stops it, rather than waiting for output nobody reads.
 */
export function backgroundGit(args: string[], cwd: string): BackgroundGit {
  const env = gitEnv(args);
  let child: ReturnType<typeof spawn> | null = null;
  const result = new Promise<Buffer | null>((resolve) => {
    try {
      const c = spawn('git', args, { cwd, env, stdio: ['ignore', 'pipe', 'ignore'] });
      child = c;
      const chunks: Buffer[] = [];
      c.stdout!.on('data', (d: Buffer) => chunks.push(d));
      c.on('error', () => resolve(null));
      c.on('close', (code) => resolve(code === 0 ? Buffer.concat(chunks) : null));
      c.unref();
      (c.stdout as unknown as { unref(): void }).unref();
      process.once('exit', () => {
        if (c.exitCode === null && c.signalCode === null) c.kill();
      });
    } catch {
      resolve(null);
    }
  });
  return {
    result,
    hold() {
      child?.ref();
      (child?.stdout as unknown as { ref(): void } | undefined)?.ref();
    },
  };
}
