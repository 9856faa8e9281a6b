import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, cleanEnv, cli, git, ok, tmpDir } from '../helpers/repo';

describe('handoff demo', () => {
  it('runs a whole conversation with attributed commits and leaves a repository to explore', () => {
    // Given as a relative name that looks like a git option: it is a directory all the same.
    const parent = tmpDir();
    const dir = path.join(parent, '--template=x');
    const r = ok(parent, ['demo', '--dir', './--template=x', '--json']).json;
    expect(r.dir).toBe(dir);
    expect(fs.existsSync(path.join(dir, 'app', '.git'))).toBe(true);
    // Every step succeeds, except the one that shows a claim refused because another agent holds it.
    expect(r.steps.filter((s: any) => s.exitCode !== 0).map((s: any) => [s.command, s.exitCode])).toEqual([
      [`handoff claim ${r.thread.slice(-7)}   # exit 4: gemini holds it`, 4],
    ]);
    // Every command is shown as it can be pasted: a shell splits it into the arguments that ran. Pasted
    // into sh, the search gives what the demo printed, and the reservation's note is one argument.
    const bin = tmpDir('handoff-bin-');
    fs.writeFileSync(path.join(bin, 'handoff'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`, {
      mode: 0o755,
    });
    const paste = (step: any) =>
      spawnSync('sh', ['-c', step.command], {
        cwd: path.join(dir, step.where),
        env: cleanEnv({ HANDOFF_AGENT: step.agent, PATH: `${bin}:${process.env.PATH}`, HANDOFF_TABLE_HEADERS: '1' }),
        encoding: 'utf8',
      });
    const search = r.steps.find((s: any) => s.command.startsWith('handoff search'));
    expect(search.command).toBe("handoff search 'empty input'");
    const pasted = paste(search);
    const firstWords = (text: string) => text.split('\n').map((l) => l.split(/\s+/)[0]);
    expect([pasted.status, firstWords(pasted.stdout.trimEnd())]).toEqual([0, firstWords(search.output)]);
    const held = ok(path.join(dir, 'app'), ['reservations', '--all', '--json']).json.reservations;
    expect(held.map((x: any) => [x.pattern, x.reason])).toEqual([['src/parser.ts', 'fixing empty input']]);
    // Tables print their header line, as on a terminal.
    expect(r.steps.find((s: any) => s.command === 'handoff agents').output).toMatch(/^NAME +RUNTIME/);
    const commands = r.steps.map((s: any) => s.command.split(' ').slice(0, 2).join(' '));
    for (const c of [
      'handoff hooks',
      'handoff join',
      'handoff send',
      'handoff inbox',
      'handoff read',
      'handoff reply',
      'handoff show',
      'handoff blame',
      'handoff log',
      'handoff review',
      'handoff replay',
      'handoff verify',
      'handoff claim',
      'handoff reserve',
      'handoff done',
      'handoff tasks',
      'handoff search',
    ])
      expect(commands).toContain(c);
    const blame = r.steps.find((s: any) => s.command.startsWith('handoff blame')).output;
    expect(blame).toMatch(/human: demo-human/);
    expect(blame).toMatch(/codex .* parse\(\) returns/);
    expect(blame).toMatch(/claude .* Done: empty input/);
    expect(r.steps.find((s: any) => s.command.includes('takes it over')).output).toMatch(
      /codex took over .* from gemini \(its process was gone\)/,
    );
    expect(r.steps.find((s: any) => s.command.includes('Bump parser version')).output).toContain(
      'src/parser.ts is reserved exclusively by codex (fixing empty input)',
    );
    expect(r.steps.find((s: any) => s.command.startsWith('handoff tasks')).output).toMatch(/done \(codex\)/);
    expect(require('node:fs').readFileSync(r.html, 'utf8')).toContain('<!doctype html>');
    const app = `${dir}/app`;
    expect(ok(app, ['verify', '--json']).json.ok).toBe(true);
    expect(git(app, 'for-each-ref', '--format=%(refname)', 'refs/handoff/')).toMatch(/^refs\/handoff\/chains\//);
  });

  it('refuses a --dir that holds anything, and leaves it as it was', () => {
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, 'app'));
    fs.writeFileSync(path.join(dir, 'app', 'notes.txt'), 'precious\n');
    fs.writeFileSync(path.join(dir, 'replay.html'), 'mine\n');
    const r = cli(dir, ['demo', '--dir', dir, '--json']);
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('dir_not_empty');
    expect(fs.readdirSync(dir).sort()).toEqual(['app', 'replay.html']);
    expect(fs.readdirSync(path.join(dir, 'app'))).toEqual(['notes.txt']);
    expect(fs.readFileSync(path.join(dir, 'replay.html'), 'utf8')).toBe('mine\n');
  });

  it('piped into head, leaves nothing half-built: no temporary directory, and a --dir given empty is empty again', () => {
    const tmp = tmpDir();
    const given = path.join(tmpDir(), 'demo');
    fs.mkdirSync(given);
    for (const args of [['demo'], ['demo', '--dir', given]]) {
      const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" "$@" | head -n 3`, 'sh', ...args], {
        env: cleanEnv({ TMPDIR: tmp }),
        encoding: 'utf8',
      });
      expect(r.stdout.split('\n')[0]).toContain('handoff demo');
      expect(r.stderr).toBe('');
    }
    expect(fs.readdirSync(tmp).filter((n) => n.startsWith('handoff-demo-'))).toEqual([]);
    expect(fs.readdirSync(given)).toEqual([]);
  });
});
