/**
 * The demo: a throwaway repository with two agents in two worktrees holding a conversation through the
 * real CLI, printed as a newcomer would type it.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HandoffError, UsageError } from '../core/errors';
import { runGit } from '../git/exec';
import { shortId } from '../core/ids';
import { shellWord } from '../core/text';

export interface DemoStep {
  agent: string | null;
  where: string;
  command: string;
  output: string;
  exitCode: number;
}

export interface DemoResult {
  dir: string;
  html: string;
  steps: DemoStep[];
  /** The conversation's thread (its first message's id). */
  thread: string;
}

const PARSER_V1 = `export function parse(input: string): string[] {
  return input.split(',').map((s) => s.trim());
}
`;
const PARSER_V2 = `export function parse(input: string): string[] {
  if (input.trim() === '') return [];
  return input
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
`;

/** Runs the demo with the CLI at `binPath`; `onStep` hears each step as it completes. */
export function runDemo(opts: { binPath: string; dir?: string; onStep?: (s: DemoStep) => void }): DemoResult {
  // A given directory must be new or empty: the demo makes a repository there and commits what it finds.
  if (
    opts.dir !== undefined &&
    fs.existsSync(opts.dir) &&
    (!fs.statSync(opts.dir).isDirectory() || fs.readdirSync(opts.dir).length > 0)
  )
    throw new UsageError('dir_not_empty', `${opts.dir} exists and is not empty. Give a new or empty directory.`);
  // Absolute, so that no directory name (`./--template=x`) reaches git as an option.
  const dir = path.resolve(opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-demo-')));
  const madeHere = opts.dir === undefined || !fs.existsSync(dir);
  fs.mkdirSync(dir, { recursive: true });
  // A demo that ends before it is built (its output piped into `head`, which closed the pipe) leaves
  // nothing half-built behind: the directory goes if it made it, its contents if it was given one empty.
  // One that fails keeps what it built, for the error to be looked into.
  let settled = false;
  const removeUnfinished = () => {
    if (settled) return;
    try {
      if (madeHere) fs.rmSync(dir, { recursive: true, force: true });
      else for (const name of fs.readdirSync(dir)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    } catch {
      /* left as it is */
    }
  };
  process.on('exit', removeUnfinished);
  try {
    return buildDemo(dir, opts);
  } finally {
    settled = true;
    process.off('exit', removeUnfinished);
  }
}

/** Builds the demo in `dir` (new or empty). */
function buildDemo(dir: string, opts: { binPath: string; onStep?: (s: DemoStep) => void }): DemoResult {
  const main = path.join(dir, 'app');
  const codexTree = path.join(dir, 'app-codex');
  const steps: DemoStep[] = [];
  const cleanEnv = { ...process.env };
  for (const k of Object.keys(cleanEnv)) if (k.startsWith('HANDOFF_') || k.startsWith('GIT_')) delete cleanEnv[k];
  const gitEnv = {
    GIT_AUTHOR_NAME: 'Demo Human',
    GIT_AUTHOR_EMAIL: 'human@example.com',
    GIT_COMMITTER_NAME: 'Demo Human',
    GIT_COMMITTER_EMAIL: 'human@example.com',
  };

  const record = (s: DemoStep) => {
    steps.push(s);
    opts.onStep?.(s);
  };
  const sh = (where: string, args: string[]) => {
    const res = runGit(args, { cwd: where, env: gitEnv });
    return res.stdout.toString('utf8');
  };
  /** Runs handoff as `agent`; the command is shown as it can be pasted, with `note` as a shell comment. */
  const handoff = (agent: string, where: string, args: string[], note = '', expectExit = 0) => {
    const res = spawnSync(process.execPath, [opts.binPath, ...args], {
      cwd: where,
      env: { ...cleanEnv, ...gitEnv, HANDOFF_AGENT: agent, NO_COLOR: '1', HANDOFF_TABLE_HEADERS: '1' },
      encoding: 'utf8',
    });
    const step = {
      agent,
      where: path.basename(where),
      command: `handoff ${args.map(shellWord).join(' ')}${note ? `   # ${note}` : ''}`,
      output: `${res.stdout}${res.stderr}`.trimEnd(),
      exitCode: res.status ?? 1,
    };
    record(step);
    if (step.exitCode !== expectExit)
      throw new HandoffError('demo_failed', `The demo step '${step.command}' failed:\n${step.output}`);
    return res.stdout.trim();
  };
  const gitStep = (where: string, args: string[]) => {
    const out = sh(where, args).trimEnd();
    record({
      agent: null,
      where: path.basename(where),
      command: `git ${args.map(shellWord).join(' ')}`,
      output: out,
      exitCode: 0,
    });
    return out;
  };

  fs.mkdirSync(path.join(main, 'src'), { recursive: true });
  sh(dir, ['init', '-q', '-b', 'main', main]);
  fs.writeFileSync(path.join(main, 'src', 'parser.ts'), PARSER_V1);
  fs.writeFileSync(path.join(main, 'README.md'), '# app\n');
  fs.writeFileSync(path.join(main, '.gitignore'), 'node_modules/\n');
  handoff('claude', main, ['hooks', 'install']);
  sh(main, ['add', '-A']);
  spawnSync('git', ['commit', '-q', '-m', 'Initial parser'], { cwd: main, env: { ...cleanEnv, ...gitEnv } });
  sh(main, ['worktree', 'add', '-q', '-b', 'codex-work', codexTree]);

  handoff('claude', main, ['join', '--team', 'core', '--role', 'lead']);
  handoff('codex', codexTree, ['join', '--team', 'core', '--role', 'reviewer']);
  const request = handoff('claude', main, [
    'send',
    'codex',
    'parse() returns [""] for empty input. Please make it return [] and drop empty items.',
    '--kind',
    'request',
  ]);
  handoff('codex', codexTree, ['inbox']);
  // A third agent's session claims the request first, then dies; codex takes the claim over.
  const gemini = spawn('sleep', ['600'], { stdio: 'ignore', detached: false });
  try {
    handoff(
      'gemini',
      main,
      ['claim', shortId(request), '--pid', String(gemini.pid)],
      "gemini's session holds it while it runs",
    );
    handoff('codex', codexTree, ['claim', shortId(request)], 'exit 4: gemini holds it', 4);
  } finally {
    gemini.kill('SIGKILL');
  }
  spawnSync('sleep', ['0.2']);
  record({
    agent: 'gemini',
    where: path.basename(main),
    command: `(gemini's session dies: kill -9 ${gemini.pid})`,
    output: '',
    exitCode: 0,
  });
  handoff(
    'codex',
    codexTree,
    ['claim', shortId(request)],
    'the holder is gone: codex takes it over (no session process here, so its lease holds it)',
  );
  handoff('codex', codexTree, ['reserve', 'src/parser.ts', '--exclusive', '-m', 'fixing empty input']);
  handoff('codex', codexTree, ['read', shortId(request)]);
  fs.writeFileSync(path.join(codexTree, 'src', 'parser.ts'), PARSER_V2);
  record({
    agent: 'codex',
    where: path.basename(codexTree),
    command: '(codex edits src/parser.ts)',
    output: '',
    exitCode: 0,
  });
  const answer = handoff('codex', codexTree, [
    'reply',
    shortId(request),
    'Done: empty input gives [] and empty items are dropped. Diff attached.',
    '--attach-diff',
  ]);
  const commitAs = (
    agent: string,
    where: string,
    message: string,
    note = `the hooks record ${agent} and the handoff`,
  ) => {
    const res = spawnSync('git', ['commit', '-q', '-am', message], {
      cwd: where,
      env: { ...cleanEnv, ...gitEnv, HANDOFF_AGENT: agent },
      encoding: 'utf8',
    });
    if (res.status !== 0) throw new HandoffError('demo_failed', `git commit failed: ${res.stderr}`);
    record({
      agent,
      where: path.basename(where),
      command: `git commit -am ${shellWord(message)}   # ${note}`,
      output: `${res.stderr}${sh(where, ['log', '-1', '--format=%h %s%n%n%(trailers)'])}`.trimEnd(),
      exitCode: 0,
    });
  };
  commitAs('codex', codexTree, 'Return [] for empty input');
  handoff('codex', codexTree, ['done', shortId(request), '-m', 'Empty input gives []; committed.']);
  handoff('claude', main, ['inbox']);
  handoff('claude', main, ['show', shortId(answer)]);
  // claude merges codex's work and adds a line of its own in answer to the reply.
  sh(main, ['merge', '-q', '--ff-only', 'codex-work']);
  handoff('claude', main, ['read', shortId(answer)]);
  handoff('claude', main, ['work-on', shortId(answer)]);
  fs.appendFileSync(path.join(main, 'src', 'parser.ts'), '\nexport const VERSION = 2;\n');
  commitAs('claude', main, 'Bump parser version', 'the pre-commit hook warns: codex reserved src/parser.ts');
  handoff('claude', main, ['blame', 'src/parser.ts']);
  handoff('claude', main, ['log']);
  handoff('claude', main, ['agents']);
  handoff('claude', main, ['tasks']);
  handoff('claude', main, ['search', 'empty input']);
  handoff('claude', main, ['review', shortId(answer)]);
  handoff('claude', main, ['review', shortId(answer), '--approve', '-m', 'Ship it.']);
  handoff('claude', main, ['replay', '--no-pager']);
  const htmlFile = path.join(dir, 'replay.html');
  handoff('claude', main, ['replay', '--html', htmlFile]);
  handoff('claude', main, ['verify']);
  const chains = sh(main, ['for-each-ref', '--format=%(refname)', 'refs/handoff/']).trim().split('\n').filter(Boolean);
  gitStep(main, ['for-each-ref', 'refs/handoff/']);
  gitStep(main, ['log', '--first-parent', '--format=%h %an: %s', chains[0] ?? 'HEAD']);
  const answerCommit = sh(main, [
    'log',
    '--first-parent',
    '--format=%H',
    `--grep=Handoff-Id: ${answer}`,
    chains[0] ?? 'HEAD',
  ]).trim();
  gitStep(main, ['show', `${answerCommit.slice(0, 12)}:body`]);
  return { dir, html: htmlFile, steps, thread: request };
}
