import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ListRootsRequestSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, commonDir, git, makeRepo, ok, tmpDir } from '../helpers/repo';

const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
});

interface Conn {
  client: Client;
  transport: StdioClientTransport;
  stderr: () => string;
}

async function connect(
  cwd: string,
  opts: { env?: Record<string, string | undefined>; name?: string; roots?: string[] } = {},
): Promise<Conn> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp'],
    cwd,
    env: cleanEnv(opts.env) as Record<string, string>,
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d) => (err += d));
  const client = new Client(
    { name: opts.name ?? 'test-client', version: '1.0.0' },
    { capabilities: opts.roots ? { roots: {} } : {} },
  );
  if (opts.roots)
    client.setRequestHandler(ListRootsRequestSchema, () => ({
      roots: opts.roots!.map((r) => ({ uri: pathToFileURL(r).href, name: 'repo' })),
    }));
  await client.connect(transport);
  clients.push(client);
  return { client, transport, stderr: () => err };
}

async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
  options: Parameters<Client['callTool']>[2] = {},
): Promise<any> {
  const r = (await client.callTool({ name, arguments: args }, undefined, options)) as {
    isError?: boolean;
    content: { type: string; text: string }[];
  };
  const value = JSON.parse(r.content[0]!.text);
  if (r.isError) throw Object.assign(new Error(value.error.message), { json: value });
  return value;
}

/** `handoff mcp` as a child process, spoken to in raw JSON-RPC. */
const rawServer = (repo: string, agent: string) =>
  spawn(process.execPath, [BIN, 'mcp'], {
    cwd: repo,
    env: cleanEnv({ HANDOFF_AGENT: agent }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
/** JSON-RPC to a raw server: initialized (as a client does first), then whatever the test sends. */
const initialized = (child: ReturnType<typeof rawServer>) => {
  const rpc = (msg: object) => child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...msg })}\n`);
  rpc({
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  });
  rpc({ method: 'notifications/initialized' });
  return rpc;
};
const status = (repo: string, id: string) => ok(repo, ['show', id, '--json']).json.recipients[0].status;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('an MCP wait the client abandons marks nothing read', () => {
  it('a wait cancelled by the client, then a send: the message stays unread, no receipt', async () => {
    const repo = makeRepo();
    const codex = await connect(repo, { env: { HANDOFF_AGENT: 'codex' } });
    expect((await call(codex.client, 'whoami')).name).toBe('codex');
    const abort = new AbortController();
    const waiting = call(codex.client, 'wait', { timeout_seconds: 30 }, { signal: abort.signal }).catch((e) => e);
    await sleep(300);
    abort.abort();
    expect(await waiting).toBeInstanceOf(Error);
    await sleep(200);
    const id = ok(repo, ['send', 'codex', 'after the cancel', '--json'], { agent: 'lead' }).json.message.id;
    await sleep(3000); // longer than the server's 2 s safety re-check
    expect(status(repo, id)).toBe('stored');
    expect(ok(repo, ['inbox', '--json'], { agent: 'lead' }).json.messages).toEqual([]); // no read receipt
    // The next wait gets it, and only then is it read: at the client's next request.
    const got = await call(codex.client, 'wait', { timeout_seconds: 10 });
    expect(got.messages.map((m: any) => m.id)).toEqual([id]);
    expect((await call(codex.client, 'inbox')).messages).toEqual([]);
    expect(status(repo, id)).toBe('read');
  });

  it('a cancel that crosses the response on the way leaves the message unread; a response kept is read', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    // Raw JSON-RPC, to send the cancel after the response was written, as a client whose cancel was
    // already on its way does (it then drops the response, as MCP says it must).
    const child = rawServer(repo, 'codex');
    let out = '';
    const responses = new Map<number, any>();
    child.stdout.on('data', (d) => {
      out += d;
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const msg = JSON.parse(out.slice(0, nl));
        out = out.slice(nl + 1);
        if (msg.id !== undefined) responses.set(msg.id, msg);
      }
    });
    const rpc = (msg: object) => child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...msg })}\n`);
    const answer = async (id: number) => {
      for (let i = 0; i < 300 && !responses.has(id); i++) await sleep(50);
      return responses.get(id);
    };
    rpc({
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    await answer(1);
    rpc({ method: 'notifications/initialized' });
    const waitFor = async (id: number, body: string) => {
      rpc({ id, method: 'tools/call', params: { name: 'wait', arguments: { timeout_seconds: 20 } } });
      await sleep(300);
      const sent = ok(repo, ['send', 'codex', body, '--json'], { agent: 'lead' }).json.message.id;
      const r = await answer(id);
      expect(JSON.parse(r.result.content[0].text).messages.map((m: any) => m.id)).toEqual([sent]);
      return sent;
    };
    // 1. The response written, then the client's cancel: the message stays unread, past the grace.
    const crossed = await waitFor(2, 'crossed');
    rpc({ method: 'notifications/cancelled', params: { requestId: 2, reason: 'timed out' } });
    await sleep(1500);
    expect(status(repo, crossed)).toBe('stored');
    // 2. The next wait gets it again; with no cancel, it is read within the grace (a second).
    rpc({ id: 3, method: 'tools/call', params: { name: 'wait', arguments: { timeout_seconds: 5 } } });
    expect(JSON.parse((await answer(3)).result.content[0].text).messages.map((m: any) => m.id)).toEqual([crossed]);
    await sleep(1500);
    expect(status(repo, crossed)).toBe('read');
    // 3. A response kept, then the client goes away at once: read.
    const kept = await waitFor(4, 'kept');
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
    expect(status(repo, kept)).toBe('read');
  });

  it('a server stopped by SIGTERM, SIGINT or SIGHUP leaves as when its client goes: no scratch files, no presence', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'lead' });
    const scratch = path.join(commonDir(repo), 'handoff');
    const left = (pid: number) =>
      fs.readdirSync(scratch).filter((n) => n.startsWith(`ref-value-${pid}-`) || n.startsWith(`ref-lock-${pid}-`));
    for (const [sig, code] of [
      ['SIGTERM', 143],
      ['SIGINT', 130],
      ['SIGHUP', 129],
    ] as const) {
      const child = rawServer(repo, 'codex');
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const rpc = initialized(child);
      // Enough sends that the server writes its chain ref again and again (through its value slots).
      for (let i = 0; i < 6; i++)
        rpc({
          id: 10 + i,
          method: 'tools/call',
          params: { name: 'send', arguments: { to: 'lead', body: `${sig} ${i}` } },
        });
      for (let i = 0; i < 300 && (out.match(/"id":1[0-5]\b/g) ?? []).length < 6; i++) await sleep(50);
      expect(left(child.pid!).length).toBeGreaterThan(0);
      expect(ok(repo, ['agents', '--json']).json.agents.find((a: any) => a.name === 'codex').presence).toBe('live');
      child.kill(sig);
      const exited = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      expect(exited).toBe(code);
      expect(left(child.pid!)).toEqual([]);
      expect(ok(repo, ['agents', '--json']).json.agents.find((a: any) => a.name === 'codex').presence).not.toBe('live');
    }
    expect(ok(repo, ['inbox', '--json'], { agent: 'lead' }).json.messages).toHaveLength(18);
    expect(ok(repo, ['verify', '--json']).json.ok).toBe(true);
  });

  it('a client-side timeout (the SDK cancels) leaves the message unread too', async () => {
    const repo = makeRepo();
    const codex = await connect(repo, { env: { HANDOFF_AGENT: 'codex' } });
    await call(codex.client, 'whoami');
    await expect(call(codex.client, 'wait', { timeout_seconds: 30 }, { timeout: 500 })).rejects.toThrow(/timed out/i);
    const id = ok(repo, ['send', 'codex', 'late', '--json'], { agent: 'lead' }).json.message.id;
    await sleep(2500);
    expect(status(repo, id)).toBe('stored');
  });

  it('a closed connection ends the wait and the server at once, quietly, with nothing marked read', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const child = rawServer(repo, 'codex');
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const rpc = initialized(child);
    rpc({ id: 2, method: 'tools/call', params: { name: 'wait', arguments: { timeout_seconds: 600 } } });
    await sleep(800);
    child.stdin.end();
    const t0 = Date.now();
    expect(await exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000);
    const id = ok(repo, ['send', 'codex', 'after the close', '--json'], { agent: 'lead' }).json.message.id;
    expect(status(repo, id)).toBe('stored');
    expect(stderr).not.toMatch(/not open/);
    // The server's presence went with it.
    expect(ok(repo, ['agents', '--json']).json.agents.find((a: any) => a.name === 'codex').live).toBe(false);
  });
});

describe('a client that sends what is not JSON-RPC', () => {
  it('gets the JSON-RPC error for each such line (under its id where it can be read), and the session goes on', async () => {
    const repo = makeRepo();
    const child = rawServer(repo, 'bob');
    const lines: any[] = [];
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        lines.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
    });
    const rpc = initialized(child);
    child.stdin.write('{"jsonrpc":"2.0","id":5,"method":"tools/list"\n'); // cut short
    child.stdin.write('not json\n');
    child.stdin.write('{"id":6,"method":"tools/list"}\n'); // no "jsonrpc"
    child.stdin.write('{"jsonrpc":"2.0","id":8,"method":"tools/call","params":null}\n'); // params not an object
    rpc({ id: 7, method: 'tools/call', params: { name: 'whoami', arguments: {} } });
    const deadline = Date.now() + 15_000;
    while (!lines.some((l) => l.id === 7) && Date.now() < deadline) await sleep(50);
    child.stdin.end();
    const errors = lines.filter((l) => l.error).map((l) => [l.id, l.error.code]);
    // An id that can be read is answered under it (a client waiting on it is not left hanging).
    expect(errors).toEqual([
      [null, -32700],
      [null, -32700],
      [6, -32600],
      [8, -32600],
    ]);
    expect(JSON.parse(lines.find((l) => l.id === 7).result.content[0].text).name).toBe('bob');
  });
});

describe('the MCP server in real sessions', () => {
  it('stays live after a wait, reports progress while waiting, and tells subscribers when the inbox changes', async () => {
    const repo = makeRepo();
    const codex = await connect(repo, { env: { HANDOFF_AGENT: 'codex' } });
    await call(codex.client, 'whoami');
    const live = () => ok(repo, ['agents', '--json']).json.agents.find((a: any) => a.name === 'codex')?.live;
    expect(live()).toBe(true);
    const progress: number[] = [];
    const waiting = call(
      codex.client,
      'wait',
      { timeout_seconds: 20 },
      { onprogress: (p) => progress.push(p.progress) },
    );
    await sleep(300);
    ok(repo, ['send', 'codex', 'one'], { agent: 'lead' });
    await waiting;
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(live()).toBe(true); // the wait did not remove the server's own presence
    // Resource subscription.
    const updates: string[] = [];
    codex.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updates.push(n.params.uri);
    });
    await codex.client.subscribeResource({ uri: 'handoff://inbox' });
    ok(repo, ['send', 'codex', 'two'], { agent: 'lead' });
    for (let i = 0; i < 40 && updates.length === 0; i++) await sleep(100);
    expect(updates).toContain('handoff://inbox');
    const res = await codex.client.readResource({ uri: 'handoff://inbox' });
    expect(JSON.parse((res.contents[0] as { text: string }).text).messages.map((m: any) => m.body)).toEqual(['two']);
  });

  it('gives instructions and marks read-only tools so clients can auto-approve them', async () => {
    const repo = makeRepo();
    const c = await connect(repo, { env: { HANDOFF_AGENT: 'codex' } });
    expect(c.client.getInstructions()).toMatch(/handoff send <agent>/);
    const { tools } = await c.client.listTools();
    const ro = Object.fromEntries(tools.map((t) => [t.name, t.annotations?.readOnlyHint]));
    expect(ro).toMatchObject({
      inbox: true,
      thread: true,
      agents: true,
      whoami: true,
      blame: true,
      review: true,
      send: false,
      read: false,
      wait: false,
      reply: false,
    });
  });

  it("takes its name from the client when HANDOFF_AGENT is unset, and never speaks for another runtime's config", async () => {
    const repo = makeRepo();
    const bare = await connect(repo, { name: 'claude-code' });
    expect(await call(bare.client, 'whoami')).toMatchObject({ name: 'claude', via: 'mcp-client' });
    // Claude Code's .mcp.json read by another client: HANDOFF_RUNTIME says whom it was written for.
    const other = await connect(repo, {
      name: 'github-copilot-cli',
      env: { HANDOFF_AGENT: 'claude', HANDOFF_RUNTIME: 'claude' },
    });
    expect(await call(other.client, 'whoami')).toMatchObject({ name: 'copilot', via: 'mcp-client' });
    expect(other.stderr()).toMatch(
      /names claude \(for claude\), but it was started by github-copilot-cli; acting as copilot/,
    );
    // The matching client keeps the configured name (a second Claude named claude-ui).
    const ui = await connect(repo, {
      name: 'claude-code',
      env: { HANDOFF_AGENT: 'claude-ui', HANDOFF_RUNTIME: 'claude' },
    });
    expect((await call(ui.client, 'whoami')).name).toBe('claude-ui');
  });

  it("started outside the repository: finds it through the client's roots, or says how to fix it in a tool error", async () => {
    const repo = makeRepo();
    const outside = tmpDir();
    const lost = await connect(outside, { env: { HANDOFF_AGENT: 'codex' } });
    await expect(call(lost.client, 'inbox')).rejects.toMatchObject({ json: { error: { code: 'not_a_repository' } } });
    await expect(call(lost.client, 'inbox')).rejects.toThrow(/Set "cwd" to the repository/);
    const found = await connect(outside, { env: { HANDOFF_AGENT: 'codex' }, roots: [repo] });
    const sent = await call(found.client, 'send', { to: 'lead', body: 'found it', create: true });
    expect(ok(repo, ['show', sent.message.id, '--json']).json.message.body).toBe('found it');
  });
});

describe('what an outside review of the MCP server found', () => {
  it('a subscription made at once, while the repository is found through roots, is kept and notified', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'lead' });
    const c = await connect(tmpDir(), { env: { HANDOFF_AGENT: 'codex' }, roots: [repo] });
    let updates = 0;
    c.client.setNotificationHandler(ResourceUpdatedNotificationSchema, () => void updates++);
    await c.client.subscribeResource({ uri: 'handoff://inbox' });
    ok(repo, ['send', 'codex', 'ping', '--create'], { agent: 'lead' });
    for (let i = 0; i < 100 && updates === 0; i++) await sleep(50);
    expect(updates).toBeGreaterThan(0);
  });

  it('two waits, or two reads of all, at once from one client: each message is given once', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const c = await connect(repo, { env: { HANDOFF_AGENT: 'codex' } });
    const first = call(c.client, 'wait', { timeout_seconds: 20 });
    const second = call(c.client, 'wait', { timeout_seconds: 20 });
    await sleep(500);
    const a = ok(repo, ['send', 'codex', 'one', '--json'], { agent: 'lead' }).json.message.id;
    const got = (await Promise.race([first, second])).messages.map((m: any) => m.id);
    expect(got).toEqual([a]);
    const b = ok(repo, ['send', 'codex', 'two', '--json'], { agent: 'lead' }).json.message.id;
    const both = [...(await first).messages, ...(await second).messages].map((m: any) => m.id).sort();
    expect(both).toEqual([a, b].sort());
    // Two reads of all at once, as two waits: a message is in one answer.
    const c2 = ok(repo, ['send', 'codex', 'three', '--json'], { agent: 'lead' }).json.message.id;
    const [r1, r2] = await Promise.all([call(c.client, 'read', { all: true }), call(c.client, 'read', { all: true })]);
    expect([...r1.messages, ...r2.messages].map((m: any) => m.id)).toEqual([c2]);
    // Marked read once the server holds the answer as kept (a moment after it was sent).
    const status = () => ok(repo, ['show', c2, '--json']).json.recipients[0].status;
    for (let i = 0; i < 40 && status() !== 'read'; i++) await sleep(250);
    expect(status()).toBe('read');
    // Messages already there when two waits and a read of all start at once: each given once. (A wait took
    // them, then another call took them again before the first had answered.)
    const d = ok(repo, ['send', 'codex', 'four', '--json'], { agent: 'lead' }).json.message.id;
    const e = ok(repo, ['send', 'codex', 'five', '--json'], { agent: 'lead' }).json.message.id;
    const answers = await Promise.all(
      [
        call(c.client, 'wait', { timeout_seconds: 2 }),
        call(c.client, 'wait', { timeout_seconds: 2 }),
        call(c.client, 'read', { all: true }),
      ].map((p) => p.catch((err: any) => ({ messages: [], error: err.json.error.code }))),
    );
    expect(answers.flatMap((a: any) => a.messages.map((m: any) => m.id)).sort()).toEqual([d, e].sort());
    // A call that found nothing left: a wait times out, a read of all answers none.
    for (const a of answers as any[]) if (a.error) expect(a.error).toBe('timeout');
  });

  it('bodies near the size limit come a few per answer, within what a client reads; an oversized request is refused as such', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const big = 'x'.repeat(1_000_000);
    const file = path.join(tmpDir(), 'big.txt');
    fs.writeFileSync(file, big);
    // One thread of six.
    const first = ok(repo, ['send', 'codex', '--file', file, '--json'], { agent: 'lead' }).json.message.id;
    const ids = [
      first,
      ...Array.from(
        { length: 5 },
        () =>
          ok(repo, ['send', 'codex', '--file', file, '--reply-to', first, '--json'], { agent: 'lead' }).json.message.id,
      ),
    ];
    const c = await connect(repo, { env: { HANDOFF_AGENT: 'codex' } });
    const listed = await call(c.client, 'inbox');
    expect(listed.messages.length).toBeLessThan(6);
    expect(listed.messages.length + listed.more).toBe(6);
    const one = await call(c.client, 'inbox', { limit: 1 });
    expect(one.unread).toBe(6);
    expect([one.messages.length, one.more]).toEqual([1, 5]);
    const got: string[] = [];
    for (let i = 0; i < 6 && got.length < 6; i++) {
      const r = await call(c.client, i % 2 ? 'wait' : 'read', i % 2 ? { timeout_seconds: 5 } : { all: true });
      expect(r.messages.length).toBeGreaterThan(0);
      expect(r.messages.length).toBeLessThanOrEqual(2);
      got.push(...r.messages.map((m: any) => m.id));
      // Each answer says how many stay unread for the next call (none once the last came).
      const left = 6 - got.length;
      const said = r.notices.join(' ');
      if (left) expect(said, `call ${i}`).toContain(`${left} more unread message${left === 1 ? '' : 's'} did not fit`);
      else expect(said).not.toContain('did not fit');
    }
    expect(got.sort()).toEqual([...ids].sort());
    // The thread carries the first bodies and sizes the rest; read of the six ids gives the first that fit.
    const th = await call(c.client, 'thread', { id: first });
    expect(th.messages.map((m: any) => m.id)).toEqual(ids);
    const shown = th.messages.filter((m: any) => m.bodyOmitted === undefined);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.length).toBeLessThan(6);
    for (const m of th.messages.slice(shown.length)) expect([m.body, m.bodyOmitted]).toEqual(['', 1_000_000]);
    const byIds = await call(c.client, 'read', { ids });
    expect(byIds.messages.length).toBeLessThan(6);
    expect(byIds.notices.join(' ')).toContain(`${6 - byIds.messages.length} more of the messages asked for`);
    // A body of control characters, which JSON writes 6 bytes each (13 on the answer's line as it was):
    // read whole, in an answer the client reads; the session goes on.
    const ctl = path.join(tmpDir(), 'ctl.txt');
    fs.writeFileSync(ctl, '\x01'.repeat(1_000_000));
    ok(repo, ['send', 'codex', '--file', ctl], { agent: 'lead' });
    const listed1 = await call(c.client, 'inbox');
    expect(listed1.messages).toHaveLength(1);
    const odd = listed1.messages[0].id;
    const got1 = await call(c.client, 'read', { ids: [odd] });
    expect(got1.messages[0].body).toBe('\x01'.repeat(1_000_000));
    expect((await call(c.client, 'thread', { id: odd })).messages[0].body.length).toBe(1_000_000);
    // 11 MiB in one request: refused as too large under its id, and the session goes on.
    await expect(call(c.client, 'send', { to: 'lead', body: 'y'.repeat(11 * 1024 * 1024) })).rejects.toThrow(
      /body_too_large/,
    );
    expect((await call(c.client, 'whoami')).name).toBe('codex');
    // Optional fields given empty, as models fill them, are read as left out.
    expect((await call(c.client, 'inbox', { from: '', kind: '' })).agent).toBe('codex');
    expect((await call(c.client, 'search', { query: 'xxx', from: '' })).hits).toEqual([]);
    // blame: a path out of the repository and a backwards range are refused as the CLI refuses them.
    await expect(call(c.client, 'blame', { file: '../../etc/passwd' })).rejects.toMatchObject({
      json: { error: { code: 'bad_path' } },
    });
    fs.writeFileSync(path.join(repo, 'f.txt'), 'a\nb\nc\n');
    git(repo, 'add', 'f.txt');
    git(repo, 'commit', '-qm', 'f');
    await expect(call(c.client, 'blame', { file: 'f.txt', from_line: 3, to_line: 1 })).rejects.toMatchObject({
      json: { error: { code: 'bad_range' } },
    });
    expect((await call(c.client, 'blame', { file: 'f.txt', to_line: 2 })).lines.map((l: any) => l.content)).toEqual([
      'a',
      'b',
    ]);
    // And an empty path is no reservation of the whole tree.
    await expect(call(c.client, 'reserve', { paths: [''], exclusive: true })).rejects.toMatchObject({
      json: { error: { code: 'bad_path' } },
    });
    // An empty key with an empty list of paths is refused, not read as "release all my reservations".
    await call(c.client, 'reserve', { paths: ['f.txt'] });
    await expect(call(c.client, 'release', { key: '', paths: [] })).rejects.toMatchObject({
      json: { error: { code: 'usage' } },
    });
    expect(ok(repo, ['reservations', '--json']).json.reservations).toHaveLength(1);
  });
});
