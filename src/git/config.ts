/**
 * git config: reading and changing the keys handoff uses (handoff.*, remote.<name>.*, branch.<name>.*).
 * Commands read handoff's own keys through config-cache.ts.
 */
import { runGit } from './exec';

/** The last value of `key`, or null. */
export function configGet(cwd: string, key: string): string | null {
  const res = runGit(['config', '--get', key], { cwd, allowFailure: true });
  return res.status === 0 ? res.stdout.toString('utf8').replace(/\n$/, '') : null;
}

/** Every value of `key`, in order. */
export function configGetAll(cwd: string, key: string): string[] {
  return runGit(['config', '--get-all', key], { cwd, allowFailure: true })
    .stdout.toString('utf8')
    .split('\n')
    .filter(Boolean);
}

/** Every (key, value) whose key matches `regexp` (git's extended regexp on the lower-cased key), in order. */
export function configEntries(cwd: string, regexp: string): [string, string][] {
  const res = runGit(['config', '-z', '--get-regexp', regexp], { cwd, allowFailure: true });
  if (res.status !== 0) return [];
  return res.stdout
    .toString('utf8')
    .split('\0')
    .filter(Boolean)
    .map((item) => {
      const nl = item.indexOf('\n');
      return nl < 0 ? [item, ''] : [item.slice(0, nl), item.slice(nl + 1)];
    });
}

/** Adds a value to `key` (multi-valued keys keep the others). */
export function configAdd(cwd: string, key: string, value: string): void {
  runGit(['config', '--add', key, value], { cwd });
}

/** Removes every value of `key`, or only those equal to `value`. */
export function configUnset(cwd: string, key: string, value?: string): void {
  const args =
    value === undefined ? ['config', '--unset-all', key] : ['config', '--fixed-value', '--unset-all', key, value];
  runGit(args, { cwd, allowFailure: true });
}
