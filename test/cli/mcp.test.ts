import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, git, makeRepo, ok } from '../helpers/repo';
import { damagePages } from '../helpers/damage';

const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
});

async function connect(repo: string, agent: string): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp'],
    cwd: repo,
    env: cleanEnv({ HANDOFF_AGENT: agent }) as Record<string, string>,
    stderr: 'pipe',
  });
  const client = new Client({ name: `test-${agent}`, version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const r = (await client.callTool({ name, arguments: args })) as {
    isError?: boolean;
    content: { type: string; text: string }[];
  };
  const value = JSON.parse(r.content[0]!.text);
  if (r.isError) throw Object.assign(new Error(value.error.message), { json: value });
  return value;
}

describe('the MCP server', () => {
  it('lists tools that mirror the CLI, with input schemas and descriptions', async () => {
    const client = await connect(makeRepo(), 'claude');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'agents',
      'blame',
      'claim',
      'claims',
      'inbox',
      'outcome',
      'read',
      'release',
      'reply',
      'reserve',
      'review',
      'search',
      'send',
      'status',
      'tasks',
      'thread',
      'wait',
      'whoami',
    ]);
    const sendTool = tools.find((t) => t.name === 'send')!;
    expect(sendTool.description).toMatch(/attach_diff/);
    expect(Object.keys((sendTool.inputSchema as any).properties)).toEqual(
      expect.arrayContaining(['to', 'body', 'attach_diff', 'kind']),
    );
    expect((sendTool.inputSchema as any).required).toEqual(['to', 'body']);
    // A wait ends before the tool-call limit init writes for each client (one hour), so its answer arrives.
    const repo = makeRepo();
    ok(repo, ['init', '--agent', 'claude', '--agent', 'codex', '--agent', 'gemini']);
    const limits = [
      JSON.parse(fs.readFileSync(path.join(repo, '.mcp.json'), 'utf8')).mcpServers.handoff.timeout / 1000,
      JSON.parse(fs.readFileSync(path.join(repo, '.gemini/settings.json'), 'utf8')).mcpServers.handoff.timeout / 1000,
      Number(/tool_timeout_sec = (\d+)/.exec(fs.readFileSync(path.join(repo, '.codex/config.toml'), 'utf8'))![1]),
    ];
    // A wait of the hour asked for is taken (clients sent it before) and ends before that limit: its
    // progress says how long it lasts.
    const totals: number[] = [];
    const stop = new AbortController();
    const waiting = client
      .callTool({ name: 'wait', arguments: { timeout_seconds: 3600 } }, undefined, {
        signal: stop.signal,
        onprogress: (p) => void totals.push(p.total!),
      })
      .catch(() => null);
    for (let i = 0; i < 100 && totals.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    await waiting;
    expect(totals.length).toBeGreaterThan(0);
    for (const limit of limits) expect(totals[0]).toBeLessThanOrEqual(limit - 30);
    // `handoff mcp --help` names every tool the server lists.
    const help = ok(makeRepo(), ['mcp', '--help']).stdout.replace(/\s+/g, ' ');
    for (const t of tools) expect(help, t.name).toMatch(new RegExp(`[ :,]${t.name}[,. ]`));
    // What the SDK refuses before a tool runs comes as handoff's own errors do: {"error": {"code": "usage"}}.
    for (const [name, args, words] of [
      ['sned', {}, /Tool sned not found/],
      ['send', { to: 5, body: 'x' }, /Input validation error/],
      ['send', { body: 'x' }, /Input validation error/],
    ] as const) {
      const r = (await client.callTool({ name, arguments: args })) as any;
      expect(r.isError).toBe(true);
      const value = JSON.parse(r.content[0].text);
      expect(value.error.code).toBe('usage');
      expect(value.error.message).toMatch(words);
    }
  });

  it('takes tool paths from the top of the repository, wherever the server was started', async () => {
    const repo = makeRepo({ files: { 'src/lib/a.ts': 'export const a = 1;\n' } });
    const client = await connect(path.join(repo, 'src', 'lib'), 'codex');
    await call(client, 'reserve', { paths: ['src/lib/z.ts', 'docs/**'], exclusive: true });
    expect(ok(repo, ['reservations', '--json']).json.reservations.map((r: any) => r.pattern)).toEqual([
      'src/lib/z.ts',
      'docs/**',
    ]);
    const b = await call(client, 'blame', { file: 'src/lib/a.ts' });
    expect([b.file, b.lines.length]).toEqual(['src/lib/a.ts', 1]);
    // The CLI, run there, names the file from the top too, and says which path it looked for.
    const lib = path.join(repo, 'src', 'lib');
    expect(ok(lib, ['blame', 'a.ts', '--json']).json.file).toBe('src/lib/a.ts');
    expect(cli(lib, ['blame', 'src/lib/a.ts']).stderr).toContain('src/lib/src/lib/a.ts is not in HEAD');
    // A path leading outside is refused, not taken from elsewhere.
    await expect(call(client, 'reserve', { paths: ['../x'] })).rejects.toMatchObject({
      json: { error: { code: 'bad_path' } },
    });
    // Released through the tools too (an agent whose shell cannot write, such as Codex's sandbox, has only them).
    expect(await call(client, 'release', { paths: ['docs/**'] })).toMatchObject({ released: ['docs/**'] });
    expect(ok(repo, ['reservations', '--json']).json.reservations.map((r: any) => r.pattern)).toEqual(['src/lib/z.ts']);
    await expect(call(client, 'release', { key: 'k', paths: [] })).rejects.toMatchObject({
      json: { error: { code: 'usage' } },
    });
    expect(await call(client, 'release', { paths: [] })).toMatchObject({ released: ['src/lib/z.ts'] });
  });

  it('a server running through a rebuild stays live in agents; one starting sweeps what killed writers left', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const scratch = path.join(repo, '.git', 'handoff');
    const dead = ['ref-lock-999999-3_cccccccc', 'ref-value-999999-4_dddddddd'];
    for (const name of dead) fs.writeFileSync(path.join(scratch, name), 'handoff-owner 999999 -\n');
    const client = await connect(repo, 'codex');
    expect((await call(client, 'whoami')).name).toBe('codex');
    expect(fs.readdirSync(scratch).filter((n) => dead.includes(n))).toEqual([]);
    const live = () => ok(repo, ['agents', '--json']).json.agents.find((a: any) => a.name === 'codex').live;
    expect(live()).toBe(true);
    ok(repo, ['rebuild']);
    expect(live()).toBe(true);
    await call(client, 'send', { to: 'codex', body: 'after the rebuild' });
    expect(ok(repo, ['inbox', '--json'], { agent: 'codex' }).json.messages.map((m: any) => m.body)).toEqual([
      'after the rebuild',
    ]);
  });

  it('two clients with different identities exchange messages and a diff', async () => {
    const repo = makeRepo();
    const claude = await connect(repo, 'claude');
    const codex = await connect(repo, 'codex');
    expect((await call(claude, 'whoami')).name).toBe('claude');
    // Both servers joined and are live.
    const agents = ok(repo, ['agents', '--json']).json.agents;
    expect(
      agents
        .filter((a: any) => a.live)
        .map((a: any) => a.name)
        .sort(),
    ).toEqual(['claude', 'codex']);

    fs.writeFileSync(path.join(repo, 'src/app.ts'), 'export const a = 2;\n');
    const sent = await call(claude, 'send', {
      to: 'codex',
      body: 'bumped a, please check',
      attach_diff: true,
      kind: 'review_request',
    });
    expect(sent.message.diff.files).toBe(1);
    const waiting = call(codex, 'wait', { timeout_seconds: 20 });
    const got = await waiting;
    expect(got.messages.map((m: any) => [m.id, m.body])).toEqual([[sent.message.id, 'bumped a, please check']]);
    const replied = await call(codex, 'reply', { id: sent.message.id, body: 'looks right' });
    expect(replied.message).toMatchObject({ to: ['claude'], kind: 'review_response', replyTo: sent.message.id });
    const inbox = await call(claude, 'inbox');
    expect(inbox.messages.map((m: any) => m.body)).toEqual(['looks right']);
    const thread = await call(codex, 'thread', { id: sent.message.id });
    expect(thread.messages.map((m: any) => m.from)).toEqual(['claude', 'codex']);
    const review = await call(codex, 'review', { id: sent.message.id });
    expect(review.summary).toEqual({ landed: 0, changed: 0, not_landed: 1 });
    // The same events are in git and visible to the CLI.
    expect(ok(repo, ['show', sent.message.id, '--json']).json.patch).toContain('+export const a = 2;');
    expect(git(repo, 'for-each-ref', '--format=%(refname)', 'refs/handoff/chains/').split('\n')).toHaveLength(1);
    // Errors come back as tool errors with the CLI's error codes.
    await expect(call(claude, 'send', { to: 'nobody', body: 'x' })).rejects.toMatchObject({
      json: { error: { code: 'unknown_recipient' } },
    });
  });

  it('a remote removed while the server runs is no remote for its next claim, though a directory has its name', async () => {
    const repo = makeRepo();
    const bare = path.join(path.dirname(repo), `${path.basename(repo)}-up.git`);
    git(path.dirname(repo), 'init', '-q', '--bare', bare);
    git(repo, 'remote', 'add', 'up', bare);
    // A directory named like the remote, which git would take for a path.
    git(repo, 'init', '-q', '--bare', 'up');
    const client = await connect(repo, 'claude');
    expect(await call(client, 'claim', { key: 't1', remote: 'up' })).toMatchObject({ action: 'claimed' });
    git(repo, 'remote', 'remove', 'up');
    await expect(call(client, 'claim', { key: 't2', remote: 'up' })).rejects.toMatchObject({
      json: { error: { code: 'unknown_remote' } },
    });
    expect(git(path.join(repo, 'up'), 'for-each-ref')).toBe('');
  });

  it('a claim is held by the MCP server: another client is refused, and the claim comes back when the holder disconnects', async () => {
    const repo = makeRepo();
    const a = await connect(repo, 'claude');
    const b = await connect(repo, 'codex');
    const sent = await call(a, 'send', { to: 'codex', body: 'port the parser', create: true });
    const taken = await call(a, 'claim', { key: sent.message.id });
    expect(taken).toMatchObject({ action: 'claimed', agent: 'claude', holder: { liveness: 'live' } });
    await expect(call(b, 'claim', { key: sent.message.id })).rejects.toMatchObject({
      json: { error: { code: 'claim_held', details: { holder: { agent: 'claude' } } } },
    });
    // The holder's client goes away: its server exits, and the claim can be taken over.
    await a.close();
    clients.splice(clients.indexOf(a), 1);
    await new Promise((r) => setTimeout(r, 500));
    const again = await call(b, 'claim', { key: sent.message.id });
    expect(again).toMatchObject({ action: 'reclaimed', agent: 'codex', reclaimed: { from: 'claude', reason: 'gone' } });
    const outcome = await call(b, 'outcome', { id: sent.message.id, state: 'done', message: 'ported' });
    expect(outcome).toMatchObject({ state: 'done', to: ['claude'], released: true });
    const t = await call(b, 'tasks', {});
    expect(t.tasks.map((x: { id: string; state: string }) => [x.id, x.state])).toEqual([[sent.message.id, 'done']]);
    const found = await call(b, 'search', { query: 'parser' });
    // The request matches in its body; the outcome only through its thread's subject, so the request
    // stands for it. Its own words find it.
    expect(found.hits.map((h: { id: string }) => h.id)).toEqual([sent.message.id]);
    expect((await call(b, 'search', { query: 'ported' })).hits.map((h: { id: string }) => h.id)).toEqual([
      outcome.event,
    ]);
  });

  it('send and reply refuse a secret with secret_found and nothing written; redact stores markers', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const client = await connect(repo, 'claude');
    const token = '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';
    const refs = () => git(repo, 'for-each-ref', 'refs/handoff/');
    await call(client, 'send', { to: 'codex', body: 'hello first' }); // the server's first write registers claude
    const before = refs();
    const err = await call(client, 'send', { to: 'codex', body: `use ${token}` }).catch((e) => e.json);
    expect(err.error).toMatchObject({
      code: 'secret_found',
      details: { found: [{ kind: 'GITHUB_TOKEN', where: 'body', line: 1 }] },
    });
    expect(refs()).toBe(before);
    const sent = await call(client, 'send', { to: 'codex', body: `use ${token}`, redact: true });
    expect(sent.message.body).toBe('use [REDACTED GITHUB_TOKEN]');
    const replied = await call(client, 'reply', { id: sent.message.id, body: `and ${token}`, allow_secret: true });
    expect(replied.message.body).toBe(`and ${token}`);
  });

  it('a page found damaged mid-session is set aside; the session goes on with the ledger rebuilt from git', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'b' });
    for (let i = 0; i < 6; i++) ok(repo, ['send', 'b', `long ${i} ${'y'.repeat(20000)}`], { agent: 'a' });
    const client = await connect(repo, 'b');
    const bodies = async () =>
      ((await call(client, 'inbox', { all: true })).messages as any[]).map((m) => m.body.slice(0, 7)).sort();
    const before = await bodies();
    expect(before).toHaveLength(6);
    // Garbage over the pages of the bodies, in the file the server has open.
    const file = path.join(repo, '.git', 'handoff', 'ledger.db');
    expect(damagePages(file, 'messages', 'overflow')).toBeGreaterThan(0);
    const damaged = await call(client, 'inbox', { all: true }).catch((e) => e.json);
    expect(damaged.error.code).toBe('ledger_corrupt');
    expect(fs.readdirSync(path.dirname(file)).some((f) => f.startsWith('ledger.db.corrupt-'))).toBe(true);
    // The next call is answered from the rebuilt ledger, and what the server writes goes there.
    expect(await bodies()).toEqual(before);
    await call(client, 'send', { to: 'a', body: 'after the damage' });
    expect(ok(repo, ['inbox', '--json'], { agent: 'a' }).json.messages.map((m: any) => m.body)).toEqual([
      'after the damage',
    ]);
  });
});
