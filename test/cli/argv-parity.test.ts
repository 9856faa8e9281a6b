/**
 * The fast path and oclif run the same definitions; they must read every argv the same way. Wherever the
 * fast path accepts an argv, oclif's parser accepts it too and yields the same args and flags; where the fast
 * path declines, oclif decides alone. Every command's documented examples must take the fast path.
 */
import { Parser } from '@oclif/core';
import { describe, expect, it } from 'vitest';
import { COMMAND_DEFS } from '../../src/commands/index';
import type { CommandDef, FlagSpecs } from '../../src/commands/define';
import { parseFast } from '../../src/cli/fast';
import { toOclifCommand } from '../../src/cli/oclif';
import { cli, makeRepo, ok } from '../helpers/repo';

type Def = CommandDef<unknown, FlagSpecs>;

async function viaOclif(def: Def, argv: string[]): Promise<{ args: object; rest: string[]; flags: object } | Error> {
  const cls = toOclifCommand(def) as unknown as { flags: any; args: any; strict: boolean };
  try {
    const out = await Parser.parse(argv, { flags: cls.flags, args: cls.args, strict: cls.strict });
    const declared = (def.args ?? []).length;
    const args = Object.fromEntries(Object.entries(out.args).filter(([, v]) => v !== undefined));
    const flags = Object.fromEntries(Object.entries(out.flags).filter(([, v]) => v !== undefined));
    return { args, rest: (out.argv as string[]).slice(declared), flags };
  } catch (err) {
    return err as Error;
  }
}

function viaFast(def: Def, argv: string[]) {
  const p = parseFast(def, argv);
  if (!p) return undefined;
  const args = Object.fromEntries(Object.entries(p.args).filter(([, v]) => v !== undefined));
  const flags = Object.fromEntries(Object.entries(p.flags).filter(([, v]) => v !== undefined));
  return { args, rest: p.rest, flags };
}

/** Splits a shell line into words (single and double quotes, no expansion). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"((?:\\.|[^"\\])*)"|(\S+)/g;
  let cur = '';
  let last = -1;
  for (const m of line.matchAll(re)) {
    const w = m[1] ?? m[2]?.replace(/\\(.)/g, '$1') ?? m[3]!;
    if (last === m.index) cur += w;
    else {
      if (last !== -1) out.push(cur);
      cur = w;
    }
    last = m.index! + m[0].length;
  }
  if (last !== -1) out.push(cur);
  return out;
}

/** The argv of a documented example: what follows the binary, up to a pipe or a redirection. */
function exampleArgv(def: Def, example: string): string[] | undefined {
  const w = words(example);
  const at = w.indexOf('<%=');
  if (at < 0) return undefined;
  let rest = w.slice(at + 3);
  const stop = rest.findIndex((x) => x === '|' || x === '>' || x === '<' || x === '&&' || x === ';');
  if (stop >= 0) rest = rest.slice(0, stop);
  const idWords = def.id.split(':');
  expect(rest.slice(0, idWords.length), example).toEqual(idWords);
  return rest.slice(idWords.length);
}

const TRICKY: string[][] = [
  [],
  ['--json'],
  ['--json', '--json'],
  ['--', '--json'],
  ['-x'],
  ['--nope'],
  ['--json=true'],
  ['a', 'b', 'c', 'd'],
];

/** Tricky argv for one command's own flags: = forms, repeats, clusters, empty values, bad integers. */
function trickyFor(def: Def): string[][] {
  const out = [...TRICKY];
  const req = (def.args ?? []).filter((a) => a.required).map(() => 'x');
  for (const [name, f] of Object.entries(def.flags)) {
    const value = f.options ? f.options[0]! : f.type === 'integer' ? '5' : 'v';
    const other = f.options ? (f.options[1] ?? f.options[0]!) : f.type === 'integer' ? '7' : 'w';
    if (f.type === 'boolean') {
      out.push(
        [...req, `--${name}`],
        [...req, `--${name}`, `--${name}`],
        [...req, `--${name}=false`],
        [...req, `--no-${name}`],
      );
      if (f.char) out.push([...req, `-${f.char}`], [...req, `-${f.char}${f.char}`]);
    } else {
      out.push(
        [...req, `--${name}`, value],
        [...req, `--${name}=${value}`],
        [...req, `--${name}=${value}`, `--${name}=${other}`],
        [...req, `--${name}`, value, `--${name}`, other],
        [...req, `--${name}`],
        [...req, `--${name}=`],
        [...req, `--${name}`, '--json'],
      );
      if (f.type === 'integer')
        out.push([...req, `--${name}`, '-1'], [...req, `--${name}`, '1.5'], [...req, `--${name}`, 'ten']);
      if (f.options) out.push([...req, `--${name}`, 'not-an-option']);
      if (f.char)
        out.push([...req, `-${f.char}`, value], [...req, `-${f.char}${value}`], [...req, `-${f.char}=${value}`]);
    }
  }
  const bools = Object.entries(def.flags).filter(([, f]) => f.type === 'boolean' && f.char);
  if (bools.length >= 2) out.push([...req, `-${bools[0]![1].char}${bools[1]![1].char}`]);
  return out;
}

describe('argv parity between the fast path and oclif', () => {
  const defs = Object.values(COMMAND_DEFS) as Def[];

  it.each(defs.map((d) => [d.id, d] as const))(
    '%s: every tricky argv the fast path takes, oclif reads the same',
    async (_id, def) => {
      let taken = 0;
      for (const argv of trickyFor(def)) {
        const fast = viaFast(def, argv);
        if (fast === undefined) continue;
        taken++;
        const slow = await viaOclif(def, argv);
        expect(
          slow instanceof Error ? `oclif refused: ${slow.message}` : slow,
          `${def.id} ${JSON.stringify(argv)}`,
        ).toEqual(fast);
      }
      expect(taken).toBeGreaterThan(0);
    },
  );

  it.each(defs.map((d) => [d.id, d] as const))(
    '%s: every documented example takes the fast path and parses alike',
    async (_id, def) => {
      expect(def.examples.length).toBeGreaterThan(0);
      for (const example of def.examples) {
        const argv = exampleArgv(def, example);
        if (!argv) continue;
        const fast = viaFast(def, argv);
        expect(fast, `fast path declined: ${example}`).toBeDefined();
        expect(await viaOclif(def, argv), example).toEqual(fast);
      }
    },
  );

  it('the built CLI gives the same exit, stdout and stderr with and without the fast path', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'bob' });
    ok(repo, ['send', 'bob', 'hello', '--kind', 'question'], { agent: 'alice' });
    const table = [
      ['inbox', '--json'],
      ['inbox', '--kind=question', '--kind=request', '--json'],
      ['inbox', '--kind', 'nope', '--json'],
      ['inbox', '-a', '--json'],
      ['inbox', '-n', '1', '--json'],
      ['inbox', '-n1', '--json'],
      ['inbox', '--limit', 'ten', '--json'],
      ['inbox', '--json', '--', 'extra'],
      ['inbox', '--unknown', '--json'],
      // A flag the command does not have is answered on the fast path as oclif answers it, also beside a
      // missing argument, several of them, with = or a value after it, short, clustered, or after --.
      ['inbox', '--zz=3', '--json'],
      ['inbox', '--zz', '3', '--json'],
      ['inbox', '-z', '--json'],
      ['inbox', '-zq', '--json'],
      ['inbox', '--zz', '--zz', '--json'],
      ['inbox', '--zz', '--limit', 'ten', '--json'],
      ['inbox', '--kind', 'nope', '--zz', '--json'],
      ['inbox', '--json', '--', '--zz'],
      ['show', '--zz', '--json'],
      ['show', 'x', '--zz', '--yy', '--json'],
      ['send', 'bob', 'hi', 'there', '--no-such', '--json'],
      ['hooks', 'install', '--zz', '--json'],
      ['threads', '--json'],
      ['whoami', '--json'],
    ];
    for (const argv of table) {
      const fast = cli(repo, argv, { agent: 'bob' });
      const slow = cli(repo, argv, { agent: 'bob', env: { HANDOFF_NO_FAST_PATH: '1' } });
      expect({ argv, status: slow.status, stdout: slow.stdout }).toEqual({
        argv,
        status: fast.status,
        stdout: fast.stdout,
      });
    }
  });
});
