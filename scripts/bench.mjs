// npm run bench: every figure is a ratio against `node -e 0` measured in the same run (CONTRIBUTING.md, "Bench").
// Usage: node scripts/bench.mjs [--quick] [name ...]
//   no names: every bench, the 100,000-event `scale` run included (about 9-10 minutes on 2 cores);
//   --quick: every bench but `scale` (about 2 minutes); names: only those.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'bin', 'run.js');
const quick = process.argv.includes('--quick');
const only = new Set(process.argv.slice(2).filter((a) => a !== '--quick'));
const started = process.hrtime.bigint();
const results = [];
// NODE_EXTRA_CA_CERTS (set where a TLS proxy is) makes every node start parse the certificate bundle, about
// 40 ms here: `node -e 0` 104 against 64 ms. It would make every ratio to the floor look better than on a
// machine without it, so every process the bench starts runs without it (HANDOFF_BENCH_KEEP_CA=1 keeps it).
const caCerts = process.env.NODE_EXTRA_CA_CERTS;
if (!process.env.HANDOFF_BENCH_KEEP_CA) delete process.env.NODE_EXTRA_CA_CERTS;
const baseEnv = { ...process.env, NO_COLOR: '1' };
for (const k of Object.keys(baseEnv)) if (k.startsWith('HANDOFF_')) delete baseEnv[k];

// Every repository the bench makes lives in one scratch directory, removed when it ends (also on Ctrl-C);
// HANDOFF_BENCH_KEEP=1 keeps it to look at.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-bench-'));
process.on('exit', () => {
  if (process.env.HANDOFF_BENCH_KEEP) console.log(`kept ${scratch}`);
  else fs.rmSync(scratch, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function timeOnce(cmd, args, opts = {}) {
  const s = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const t = ms(s);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return t;
}
/**
 * Medians of `n` interleaved rounds: each round runs `node -e 0` (the `floor`), then each of `runs` in
 * turn, so that every command sees the same machine.
 */
function interleaved(n, runs) {
  const times = { floor: [], ...Object.fromEntries(Object.keys(runs).map((k) => [k, []])) };
  for (let i = 0; i < n; i++) {
    times.floor.push(timeOnce(process.execPath, ['-e', '0']));
    for (const [k, run] of Object.entries(runs)) times[k].push(run(i));
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}
/**
 * Waits until the kernel has written back every dirty page (sync(1)), then until the disks have done no I/O
 * for a second (at most 20 s; /proc/diskstats, where there is one): what the last part left the disk to do
 * (writing back and freeing a 20,000-file repository's blocks) is not paid by the next.
 */
function settleDisk() {
  spawnSync('sync', [], { stdio: 'ignore' });
  const busy = () => {
    try {
      return fs
        .readFileSync('/proc/diskstats', 'utf8')
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => /^((s|v|xv)d[a-z]+|nvme\d+n\d+)$/.test(f[2] ?? ''))
        .reduce((ms, f) => ms + Number(f[12]), 0);
    } catch {
      return null;
    }
  };
  let last = busy();
  if (last === null) return;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let quiet = 0, until = Date.now() + 20_000; quiet < 4 && Date.now() < until;) {
    Atomics.wait(pause, 0, 0, 250);
    const now = busy();
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
}
/** Medians of `n` paired runs of the floor and one command. */
const paired = (n, run) => interleaved(n, { cmd: run });
function git(cwd, ...args) {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...baseEnv,
      GIT_AUTHOR_NAME: 'b',
      GIT_AUTHOR_EMAIL: 'b@x',
      GIT_COMMITTER_NAME: 'b',
      GIT_COMMITTER_EMAIL: 'b@x',
    },
  });
}
function newRepo(files = 10) {
  const dir = fs.mkdtempSync(path.join(scratch, 'repo-'));
  git(dir, 'init', '-q', '-b', 'main');
  for (let i = 0; i < files; i++) {
    const sub = path.join(dir, 'src', `d${i % 20}`);
    fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(sub, `f${i}.ts`), `export const v${i} = ${i};\n`.repeat(20));
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'init');
  return dir;
}
/** Pushes `repo`'s ledger (as agent a) to a new bare remote and returns a fresh clone of that remote. */
function cloneThroughRemote(repo) {
  const bare = fs.mkdtempSync(path.join(scratch, 'remote-'));
  git(bare, 'init', '-q', '--bare', '-b', 'main');
  git(repo, 'remote', 'add', 'origin', bare);
  git(repo, 'push', '-q', 'origin', 'HEAD:main');
  handoff(repo, 'a', ['sync']);
  const clone = fs.mkdtempSync(path.join(scratch, 'clone-'));
  git(clone, 'clone', '-q', '--no-local', bare, '.');
  return clone;
}
const handoff = (cwd, agent, args) =>
  timeOnce(process.execPath, [BIN, ...args], { cwd, env: { ...baseEnv, HANDOFF_AGENT: agent } });
/**
 * The peer: what a SQLite-backed messenger's send does (agmsg's design: open the database in WAL mode,
 * insert one row, exit), with the same better-sqlite3. agmsg itself is not on the registries this bench
 * can reach, so this stands in for it.
 */
const peerDir = fs.mkdtempSync(path.join(scratch, 'peer-'));
const peerScript = path.join(peerDir, 'peer-send.js');
fs.writeFileSync(
  peerScript,
  `const Database = require(${JSON.stringify(path.join(root, 'node_modules', 'better-sqlite3'))});
const db = new Database(${JSON.stringify(path.join(peerDir, 'peer.db'))});
db.pragma('journal_mode = WAL');
db.pragma('busy_timeout = 15000');
db.exec('CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, sender TEXT, recipient TEXT, body TEXT, ts TEXT)');
db.prepare('INSERT INTO messages (sender, recipient, body, ts) VALUES (?, ?, ?, ?)').run(process.env.PEER_FROM || 'claude', process.argv[2], process.argv[3], new Date().toISOString());
process.stdout.write(String(db.prepare('SELECT max(id) AS n FROM messages').get().n) + '\\n');
`,
);
const peerSend = (i, from = 'claude') =>
  timeOnce(process.execPath, [peerScript, 'codex', `message ${i}`], { env: { ...baseEnv, PEER_FROM: from } });
const peerCount = () =>
  execFileSync(
    process.execPath,
    [
      '-e',
      `const D=require(${JSON.stringify(path.join(root, 'node_modules', 'better-sqlite3'))});console.log(new D(${JSON.stringify(path.join(peerDir, 'peer.db'))}).prepare("SELECT count(*) n FROM messages WHERE body LIKE 'concurrent %'").get().n)`,
    ],
    { encoding: 'utf8' },
  ).trim();

function report(name, value, bar, unit = 'x') {
  const ok = bar === undefined ? '' : (unit === '/s' ? value >= bar : value <= bar) ? 'ok  ' : 'MISS';
  results.push({ name, value, bar, ok });
  const shown = unit === 'x' ? `${value.toFixed(2)}x` : `${value.toFixed(unit === '/s' ? 0 : 2)}${unit}`;
  console.log(
    `${ok.padEnd(4)} ${name.padEnd(58)} ${shown.padStart(9)}${bar === undefined ? '' : `  (bar ${unit === '/s' ? '>=' : '<='} ${Number.isInteger(bar) ? bar : bar.toFixed(2)}${unit})`}`,
  );
}
const want = (name) => (only.size === 0 ? name !== 'scale' || !quick : only.has(name));

console.log(
  `handoff bench on ${os.cpus().length} cores, node ${process.version}${caCerts ? (process.env.HANDOFF_BENCH_KEEP_CA ? ', with NODE_EXTRA_CA_CERTS' : ', NODE_EXTRA_CA_CERTS unset for every process') : ''}\n`,
);

if (want('send') || want('claim')) {
  const repo = newRepo(10);
  handoff(repo, 'codex', ['join']);
  handoff(repo, 'claude', ['join']);
  {
    // send against node -e 0 and against a SQLite-only peer, interleaved in the same run.
    const {
      floor: f,
      send: h,
      peer: q,
    } = interleaved(20, {
      send: (i) => handoff(repo, 'claude', ['send', 'codex', `message ${i}`]),
      peer: (i) => peerSend(i),
    });
    report(`send, whole process (floor ${f.toFixed(1)} ms, send ${h.toFixed(1)} ms)`, h / f, 1.3);
    report(`send vs a SQLite-only peer's send (${q.toFixed(1)} ms = ${(q / f).toFixed(2)}x node -e 0)`, h / q, 1.2);
  }
  {
    // claim against send, interleaved in the same run: a claim may cost no more than a send.
    const {
      floor: f,
      send,
      claim,
    } = interleaved(20, {
      send: (i) => handoff(repo, 'claude', ['send', 'codex', `again ${i}`]),
      claim: (i) => handoff(repo, 'claude', ['claim', `task-${i}`, '--pid', String(process.pid)]),
    });
    report(
      `claim, whole process (${claim.toFixed(1)} ms; send ${send.toFixed(1)} ms = ${(send / f).toFixed(2)}x)`,
      claim / f,
      send / f,
    );
  }
}

// In-process sends run before the parts that write and delete thousands of files (8 x 50 sends, the
// 20,000-file repository): after those, this disk ran the same sends at 600-880/s for minutes, though
// sync(1) had returned and the disk showed no I/O, and at 1,200-1,250/s alone (tmpfs: 1,075-1,530/s).
if (want('inproc') || want('ledger10k')) {
  // In-process sends through the library (what an MCP server does), each with its git commit.
  const script = `const lib=require(${JSON.stringify(path.join(root, 'dist/lib.js'))});const ctx=lib.openContext({env:{...process.env,HANDOFF_AGENT:'a'}});lib.join(ctx,{});(async()=>{const n=+process.argv[1];const s=process.hrtime.bigint();const w=['parser','tokenizer','deploy','schema','review','flaky test','migration','cache','docs','release'];for(let i=0;i<n;i++)await lib.send(ctx,{to:'a',body:'event '+i+': the '+w[i%10]+' needs work, see step '+(i%97)});console.log(Number(process.hrtime.bigint()-s)/1e6)})()`;
  const N = want('ledger10k') ? 10000 : 1000;
  // Three runs, each in a new repository, and their median: one run of ten seconds measures the disk's
  // moment as much as the code (the same code ran at 549-1,314/s in single runs). Each starts once the disk
  // has written back what came before, which these sends, creating files, would otherwise share it with.
  let repo;
  const rates = [];
  for (let run = 0; run < 3; run++) {
    if (repo) fs.rmSync(repo, { recursive: true, force: true });
    repo = newRepo(10);
    settleDisk();
    const t = Number(
      execFileSync(process.execPath, ['-e', script, String(N)], { cwd: repo, env: baseEnv, encoding: 'utf8' }).trim(),
    );
    rates.push((N / t) * 1000);
  }
  report(
    `in-process sends with their git commit (${N} sends; median of ${rates.map((r) => r.toFixed(0)).join(', ')})`,
    median(rates),
    1000,
    '/s',
  );
  // The same sends in a repository on tmpfs, where creating a file costs no disk journal: what the code
  // itself allows on this machine (no bar; see docs/RELIABILITY.md, "Scale").
  if (fs.existsSync('/dev/shm') && fs.statfsSync('/dev/shm').type === 0x01021994) {
    const shm = fs.mkdtempSync('/dev/shm/handoff-bench-');
    try {
      git(shm, 'init', '-q', '-b', 'main');
      git(shm, 'commit', '-q', '--allow-empty', '-m', 'init');
      const ts = Number(
        execFileSync(process.execPath, ['-e', script, String(N)], { cwd: shm, env: baseEnv, encoding: 'utf8' }).trim(),
      );
      report(`  the same on tmpfs (/dev/shm), no disk journal`, (N / ts) * 1000, undefined, '/s');
    } finally {
      fs.rmSync(shm, { recursive: true, force: true });
    }
  }
  if (want('ledger10k')) {
    const clone = cloneThroughRemote(repo);
    const sync = timeOnce(process.execPath, [BIN, 'sync'], { cwd: clone, env: baseEnv });
    report(`sync of ${N} new events from a bare remote`, sync / 1000, 15, ' s');
    const rebuild = timeOnce(process.execPath, [BIN, 'rebuild'], { cwd: clone, env: baseEnv });
    report(`rebuild of ${N} events`, rebuild / 1000, 10, ' s');
    const verify = timeOnce(process.execPath, [BIN, 'verify'], { cwd: clone, env: baseEnv });
    report(`verify of ${N} events`, verify / 1000, 5, ' s');
    const out = path.join(clone, '..', `replay-${process.pid}.txt`);
    const fd = fs.openSync(out, 'w');
    const replayTime = timeOnce(process.execPath, [BIN, 'replay', '--no-pager'], {
      cwd: clone,
      env: baseEnv,
      stdio: ['ignore', fd, 'pipe'],
    });
    fs.closeSync(fd);
    report(
      `replay of ${N} events to a file (${(fs.statSync(out).size / 1e6).toFixed(1)} MB)`,
      replayTime / 1000,
      2,
      ' s',
    );
    // Full-text search over the 10,000 messages, whole process.
    const hits = JSON.parse(
      execFileSync(process.execPath, [BIN, 'search', '"flaky test" step', '--json'], {
        cwd: clone,
        env: baseEnv,
        encoding: 'utf8',
      }),
    ).hits.length;
    const s = paired(10, () =>
      timeOnce(process.execPath, [BIN, 'search', '"flaky test" step'], { cwd: clone, env: baseEnv }),
    );
    report(`search over ${N} messages, whole process (${s.cmd.toFixed(1)} ms, ${hits} hits)`, s.cmd / s.floor, 2);
  }
}

if (want('trust')) {
  // Signed and unsigned send side by side, and the secret scan on bodies up to 64 KiB (issue: no slower than send's bar).
  const repo = newRepo(10);
  handoff(repo, 'codex', ['join']);
  const keyDir = fs.mkdtempSync(path.join(scratch, 'key-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(keyDir, 'k')]);
  const signed = newRepo(10);
  git(signed, 'config', 'gpg.format', 'ssh');
  git(signed, 'config', 'user.signingKey', path.join(keyDir, 'k'));
  git(signed, 'config', 'handoff.sign', 'true');
  handoff(signed, 'codex', ['join']);
  const plainBody = 'please review the parser change; '.repeat(1985).slice(0, 64 * 1024 - 100);
  // Words that make the scan load secretlint and run every rule over 64 KiB (a database URL without a
  // password, a token prefix), but no secret: the worst case of the scan.
  const keywordBody = 'see postgres://db.internal/app and the ghp_ prefix; '.repeat(1300).slice(0, 64 * 1024 - 100);
  const {
    floor: f,
    unsigned,
    sig,
    big,
    kw,
  } = interleaved(12, {
    unsigned: (i) => handoff(repo, 'claude', ['send', 'codex', `m ${i}`]),
    sig: (i) => handoff(signed, 'claude', ['send', 'codex', `m ${i}`]),
    big: (i) => handoff(repo, 'claude', ['send', 'codex', `${i} ${plainBody}`]),
    kw: (i) => handoff(repo, 'claude', ['send', 'codex', `${i} ${keywordBody}`]),
  });
  report(`send, unsigned (${unsigned.toFixed(1)} ms)`, unsigned / f, 2.5);
  report(`send, signed with an SSH key (${sig.toFixed(1)} ms; spawns git + ssh-keygen)`, sig / f);
  report(`send, 64 KiB body, no keyword: scan is one regexp (${big.toFixed(1)} ms)`, big / f, 2.5);
  report(`send, 64 KiB body full of keywords: secretlint runs (${kw.toFixed(1)} ms)`, kw / f, 2.5);
}

if (want('send-diff')) {
  const repo = newRepo(1000);
  handoff(repo, 'codex', ['join']);
  const files = execFileSync('git', ['ls-files'], { cwd: repo, encoding: 'utf8' }).trim().split('\n');
  for (let i = 0; i < 20; i++) fs.appendFileSync(path.join(repo, files[i * 37]), `// change ${i}\n`);
  const r = paired(10, (i) => handoff(repo, 'claude', ['send', 'codex', `diff ${i}`, '--attach-diff']));
  report(`send --attach-diff, 1,000 files, 20 changed (${r.cmd.toFixed(1)} ms)`, r.cmd / r.floor, 3.5);
}

if (want('inbox')) {
  const repo = newRepo(10);
  handoff(repo, 'codex', ['join']);
  // 1,000 unread messages, written through the library path of the CLI (a few processes in parallel).
  const writers = 4;
  await Promise.all(
    Array.from(
      { length: writers },
      (_, w) =>
        new Promise((resolve, reject) => {
          const script = `for (let i = 0; i < ${1000 / writers}; i++) require('child_process').execFileSync(process.execPath, [${JSON.stringify(BIN)}, 'send', 'codex', 'bulk ' + i], { env: { ...process.env, HANDOFF_AGENT: 'w${w}' } });`;
          const p = spawn(process.execPath, ['-e', script], { cwd: repo, env: baseEnv, stdio: 'inherit' });
          p.on('exit', (c) => (c === 0 ? resolve() : reject(new Error('writer failed'))));
        }),
    ),
  );
  const r = paired(20, () => handoff(repo, 'codex', ['inbox']));
  report(`inbox with 1,000 unread (${r.cmd.toFixed(1)} ms)`, r.cmd / r.floor, 2.5);
}

if (want('concurrent')) {
  // 8 processes x 50 sends at once, against 8 x 50 node -e 0 and 8 x 50 sends of the SQLite-only peer.
  const repo = newRepo(10);
  handoff(repo, 'sink', ['join']);
  const pattern = (args, env) =>
    Promise.all(
      Array.from(
        { length: 8 },
        (_, w) =>
          new Promise((resolve, reject) => {
            const script = `const {spawnSync}=require('child_process');for(let i=0;i<50;i++){const r=spawnSync(process.execPath, JSON.parse(process.argv[1]).map(a=>a.replace('#', i)), {env: {...process.env, HANDOFF_AGENT: 'w${w}', PEER_FROM: 'w${w}'}});if(r.status!==0){console.error(String(r.stderr));process.exit(1)}}`;
            const p = spawn(process.execPath, ['-e', script, JSON.stringify(args)], {
              cwd: repo,
              env,
              stdio: 'inherit',
            });
            p.on('exit', (c) => (c === 0 ? resolve() : reject(new Error('worker failed'))));
          }),
      ),
    );
  const wallOf = async (args) => {
    const s = process.hrtime.bigint();
    await pattern(args, baseEnv);
    return ms(s);
  };
  const floor = await wallOf(['-e', '0']);
  const peerWall = await wallOf([peerScript, 'sink', 'concurrent #']);
  const wall = await wallOf([BIN, 'send', 'sink', 'concurrent #']);
  const inDb = JSON.parse(
    execFileSync(process.execPath, [BIN, 'inbox', '--json', '--limit', '100000'], {
      cwd: repo,
      env: { ...baseEnv, HANDOFF_AGENT: 'sink' },
      encoding: 'utf8',
    }),
  ).unread;
  const inGit = execFileSync('git', ['log', '--all', '--format=%s', '--grep=^message w'], {
    cwd: repo,
    encoding: 'utf8',
  })
    .trim()
    .split('\n').length;
  const inPeer = Number(peerCount());
  console.log(
    `     8 x 50 sends: ${inDb}/400 in SQLite, ${inGit}/400 in git (peer: ${inPeer}/400); wall ${(wall / 1000).toFixed(1)} s, peer ${(peerWall / 1000).toFixed(1)} s, node -e 0 ${(floor / 1000).toFixed(1)} s`,
  );
  report(`8 processes x 50 sends, wall vs 8 x 50 node -e 0`, wall / floor);
  report(`8 processes x 50 sends, wall vs the SQLite-only peer's`, wall / peerWall, 1.3);
  report('8 x 50 sends all landed in both stores (missing)', 800 - inDb - inGit, 0, ' msgs');
}

if (want('send-diff-20k')) {
  const times = {};
  for (const n of [1000, 20000]) {
    const repo = newRepo(n);
    handoff(repo, 'codex', ['join']);
    const files = execFileSync('git', ['ls-files'], { cwd: repo, encoding: 'utf8' }).trim().split('\n');
    for (let i = 0; i < 20; i++) fs.appendFileSync(path.join(repo, files[i * 37]), `// change ${i}\n`);
    handoff(repo, 'claude', ['send', 'codex', 'warm', '--attach-diff']);
    times[n] = median(
      Array.from({ length: 7 }, (_, i) => handoff(repo, 'claude', ['send', 'codex', `d${i}`, '--attach-diff'])),
    );
    // Removed once measured: while the 20,000-file repository stayed on the disk, the in-process sends
    // (then the next part) ran at 776-1,012/s, against 1,306-1,335/s once it was gone (the same code, in
    // three pairs of runs; the same sends on tmpfs did not change).
    fs.rmSync(repo, { recursive: true, force: true });
  }
  report(
    `send --attach-diff 20,000 files vs 1,000 (${times[20000].toFixed(0)} vs ${times[1000].toFixed(0)} ms)`,
    times[20000] / times[1000],
    2,
  );
}

if (want('scale')) {
  // 100,000 events (issue: scale): the object database stays healthy; whole-ledger readers at that size,
  // with their peak memory; send --attach-diff in a 100,000-file repository; lists paged.
  const N = Number(process.env.HANDOFF_BENCH_SCALE ?? 100000);
  const repo = newRepo(10);
  const script = `const lib=require(${JSON.stringify(path.join(root, 'dist/lib.js'))});const ctx=lib.openContext({env:{...process.env,HANDOFF_AGENT:'a'}});lib.join(ctx,{});(async()=>{const n=+process.argv[1];for(let i=0;i<n;i++){await lib.send(ctx,{to:'a',body:'event '+i+' about step '+(i%97)});if(i%10000===9999)process.stderr.write('     written '+(i+1)+'\\n')}})()`;
  settleDisk();
  const t0 = process.hrtime.bigint();
  execFileSync(process.execPath, ['-e', script, String(N)], { cwd: repo, env: baseEnv, stdio: 'inherit' });
  const writeS = ms(t0) / 1000;
  const objects = () =>
    Object.fromEntries(
      git(repo, 'count-objects', '-v')
        .trim()
        .split('\n')
        .map((l) => l.split(': '))
        .map(([k, v]) => [k, Number(v)]),
    );
  const before = objects();
  report(
    `${N} events written in-process (${writeS.toFixed(0)} s, ${(N / writeS).toFixed(0)}/s): loose objects`,
    before.count,
    2000,
    ' objects',
  );
  const sizeBefore = before.size + before['size-pack'];
  git(repo, 'gc', '-q');
  const after = objects();
  report(
    `  size on disk vs after git gc (${(sizeBefore / 1024).toFixed(0)} vs ${((after.size + after['size-pack']) / 1024).toFixed(0)} MiB)`,
    sizeBefore / (after.size + after['size-pack']),
    2,
  );
  // git gc --prune=now loses nothing, and fsck is clean.
  git(repo, 'gc', '-q', '--prune=now');
  const fsck = spawnSync('git', ['fsck', '--no-progress', '--no-dangling'], { cwd: repo, encoding: 'utf8' });
  const afterPrune = JSON.parse(
    execFileSync(process.execPath, [BIN, 'verify', '--json'], { cwd: repo, env: baseEnv, encoding: 'utf8' }),
  );
  report(
    `  after git gc --prune=now: events lost (verify ${afterPrune.ok ? 'ok' : 'NOT ok'}, fsck exit ${fsck.status})`,
    N + 1 - afterPrune.events + (afterPrune.ok ? 0 : 1) + (fsck.status === 0 ? 0 : 1),
    0,
    ' events',
  );
  // Peak memory from /usr/bin/time. Each starts with the disk settled: the last one's writes (a whole
  // ledger's database) are not flushed into the next one's time.
  const timed = (cwd, args) => {
    settleDisk();
    const s = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, BIN, ...args], {
      cwd,
      env: baseEnv,
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const t = ms(s) / 1000;
    if (r.status !== 0) throw new Error(`handoff ${args.join(' ')} failed: ${r.stderr}`);
    const kb = Number(r.stderr.trim().split('\n').pop());
    return { t, mb: kb / 1024 };
  };
  const clone = cloneThroughRemote(repo);
  {
    // What git's own fetch of the same refs takes in another fresh clone of the same remote: the part of the
    // sync below that is git's (the remote's pack-objects, index-pack, the connectivity check), which
    // handoff's share comes on top of. No bar.
    const floorClone = fs.mkdtempSync(path.join(scratch, 'clone-'));
    git(floorClone, 'clone', '-q', '--no-local', git(clone, 'remote', 'get-url', 'origin').trim(), '.');
    settleDisk();
    const t = timeOnce('git', ['fetch', '-q', 'origin', '+refs/handoff/chains/*:refs/fetch-floor/*'], {
      cwd: floorClone,
    });
    report(`  git fetch of the same refs alone, in another fresh clone`, t / 1000, undefined, ' s');
    fs.rmSync(floorClone, { recursive: true, force: true });
  }
  for (const [name, args, bar] of [
    ["a fresh clone's sync", ['sync'], 5],
    ['rebuild', ['rebuild'], 5],
    ['verify', ['verify'], 3],
  ]) {
    const r = timed(clone, args);
    report(`${name} of ${N} events`, r.t, bar, ' s');
    report(`  its peak memory`, r.mb, 150, ' MB');
  }
  {
    // The same remote once it has run its own git gc, as a hosted remote does between pushes: its pack then
    // has a reachability bitmap, and git's side of the fetch no longer walks every object. No bar: the bar
    // above is for the remote as the pushes left it.
    const bare = git(clone, 'remote', 'get-url', 'origin').trim();
    git(bare, 'gc', '-q');
    const floorClone = fs.mkdtempSync(path.join(scratch, 'clone-'));
    git(floorClone, 'clone', '-q', '--no-local', bare, '.');
    settleDisk();
    const t = timeOnce('git', ['fetch', '-q', 'origin', '+refs/handoff/chains/*:refs/fetch-floor/*'], {
      cwd: floorClone,
    });
    fs.rmSync(floorClone, { recursive: true, force: true });
    const gcClone = fs.mkdtempSync(path.join(scratch, 'clone-'));
    git(gcClone, 'clone', '-q', '--no-local', bare, '.');
    const r = timed(gcClone, ['sync']);
    report(
      `  the same sync from the remote after its git gc (git fetch alone ${(t / 1000).toFixed(2)} s)`,
      r.t,
      undefined,
      ' s',
    );
    fs.rmSync(gcClone, { recursive: true, force: true });
  }
  {
    const r = timed(clone, ['replay', '--no-pager']);
    report(`replay of ${N} events to a pipe (${r.t.toFixed(1)} s): peak memory`, r.mb, 100, ' MB');
    const { floor, inbox } = interleaved(7, {
      inbox: () => timeOnce(process.execPath, [BIN, 'inbox', '--as', 'a'], { cwd: clone, env: baseEnv }),
    });
    const shown = execFileSync(process.execPath, [BIN, 'inbox', '--as', 'a', '--json'], {
      cwd: clone,
      env: baseEnv,
      encoding: 'utf8',
    });
    const j = JSON.parse(shown);
    // Paged: the oldest 50 unread (urgent first) and a count of the rest.
    report(
      `inbox with ${j.unread} unread: shows ${j.messages.length} and says ${j.more} more (${inbox.toFixed(0)} ms, peak ${timed(clone, ['inbox', '--as', 'a']).mb.toFixed(0)} MB)`,
      inbox / floor,
    );
  }
  {
    // send --attach-diff in a 100,000-file repository with 20 changed files, against git status + a plain send.
    const big = newRepo(100000);
    const files = execFileSync('git', ['ls-files'], { cwd: big, encoding: 'utf8', maxBuffer: 1 << 26 })
      .trim()
      .split('\n');
    for (let i = 0; i < 20; i++) fs.appendFileSync(path.join(big, files[i * 4999]), `// change ${i}\n`);
    handoff(big, 'codex', ['join']);
    handoff(big, 'claude', ['send', 'codex', 'warm', '--attach-diff']);
    const {
      status: b,
      plain: c,
      attach: a,
    } = interleaved(7, {
      status: () => timeOnce('git', ['status', '--porcelain'], { cwd: big }),
      plain: (i) => handoff(big, 'claude', ['send', 'codex', `plain ${i}`]),
      attach: (i) => handoff(big, 'claude', ['send', 'codex', `diff ${i}`, '--attach-diff']),
    });
    report(
      `send --attach-diff, 100,000 files, 20 changed (${a.toFixed(0)} ms) vs git status + send (${b.toFixed(0)} + ${c.toFixed(0)} ms)`,
      a / (b + c),
      1,
    );
  }
}

if (want('commit')) {
  const plainRepo = newRepo(100);
  const hookRepo = newRepo(100);
  handoff(hookRepo, 'codex', ['hooks', 'install']);
  handoff(hookRepo, 'codex', ['join']);
  const env = {
    ...baseEnv,
    HANDOFF_AGENT: 'codex',
    GIT_AUTHOR_NAME: 'b',
    GIT_AUTHOR_EMAIL: 'b@x',
    GIT_COMMITTER_NAME: 'b',
    GIT_COMMITTER_EMAIL: 'b@x',
  };
  const commit = (repo, i) => {
    fs.appendFileSync(path.join(repo, 'src', 'd0', 'f0.ts'), `// ${i}\n`);
    return timeOnce('git', ['commit', '-qam', `c${i}`], { cwd: repo, env });
  };
  const {
    floor: f,
    plain: p,
    hooked: h,
  } = interleaved(15, { plain: (i) => commit(plainRepo, i), hooked: (i) => commit(hookRepo, i) });
  report(`commit with hooks: (hooked - plain) / node -e 0 (${h.toFixed(0)} vs ${p.toFixed(0)} ms)`, (h - p) / f, 2);
}

if (want('blame')) {
  const repo = newRepo(1);
  const file = path.join(repo, 'big.ts');
  fs.writeFileSync(file, Array.from({ length: 5000 }, (_, i) => `const line${i} = ${i};`).join('\n') + '\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'big');
  // 200 commits, each rewriting 25 lines, each attributed (in-process, as the post-commit hook does).
  const script = `const {execFileSync}=require('child_process');const fs=require('fs');const lib=require(${JSON.stringify(path.join(root, 'dist/lib.js'))});
const ctx=lib.openContext({env:{...process.env,HANDOFF_AGENT:'a0'}});const lines=fs.readFileSync('big.ts','utf8').split('\\n');
for(let c=0;c<200;c++){for(let k=0;k<25;k++){const i=(c*25+k)%5000;lines[i]='const line'+i+' = '+c+';';}fs.writeFileSync('big.ts',lines.join('\\n'));
execFileSync('git',['commit','-qam','c'+c]);ctx.env={...process.env,HANDOFF_AGENT:'a'+(c%5)};lib.recordCommit(ctx);}`;
  execFileSync(process.execPath, ['-e', script], {
    cwd: repo,
    env: {
      ...baseEnv,
      GIT_AUTHOR_NAME: 'b',
      GIT_AUTHOR_EMAIL: 'b@x',
      GIT_COMMITTER_NAME: 'b',
      GIT_COMMITTER_EMAIL: 'b@x',
    },
  });
  const {
    floor: f,
    git: g,
    handoff: b,
  } = interleaved(10, {
    git: () => timeOnce('git', ['blame', '--porcelain', '--', 'big.ts'], { cwd: repo }),
    handoff: () => timeOnce(process.execPath, [BIN, 'blame', 'big.ts'], { cwd: repo, env: baseEnv }),
  });
  report(
    `blame 5,000 lines / 200 attributed commits: (handoff - git blame) / node -e 0 (${b.toFixed(0)} vs ${g.toFixed(0)} ms)`,
    (b - g) / f,
    2,
  );
}

const misses = results.filter((r) => r.ok === 'MISS');
const barred = results.filter((r) => r.bar !== undefined);
console.log(
  `\n${barred.length - misses.length}/${barred.length} bars met in ${(ms(started) / 60000).toFixed(1)} minutes${quick ? ' (--quick: no scale run)' : ''}`,
);
fs.rmSync(peerDir, { recursive: true, force: true });
