import { afterEach, describe, expect, it } from 'vitest';
import { openContext, closeContext, type Context } from '../../src/ops/context';
import { send } from '../../src/ops/send';
import { reply } from '../../src/ops/reply';
import { ack, inbox, read } from '../../src/ops/inbox';
import { show, thread } from '../../src/ops/show';
import { join, agents } from '../../src/ops/agents';
import { HandoffError } from '../../src/core/errors';
import { cleanEnv, git, makeRepo } from '../helpers/repo';

const open: Context[] = [];
function ctxFor(repo: string, agent: string): Context {
  const ctx = openContext({ cwd: repo, env: cleanEnv({ HANDOFF_AGENT: agent }), warn: () => {} });
  open.push(ctx);
  return ctx;
}
afterEach(() => {
  for (const c of open.splice(0)) closeContext(c);
});

describe('messaging through the ops layer', () => {
  it('a long-lived process sees messages written by another process on its next call', async () => {
    const repo = makeRepo();
    const a = ctxFor(repo, 'a');
    const b = ctxFor(repo, 'b');
    join(b, {});
    const { message } = await send(a, { to: 'b', body: 'hello b' });
    expect(inbox(b, {}).messages.map((m) => m.id)).toEqual([message.id]);
    const r = read(b, { ids: [message.id] });
    expect(r.marked).toEqual([message.id]);
    expect(show(a, { id: message.id }).recipients).toEqual([
      { agent: 'b', status: 'read', readAt: expect.any(String), ackedAt: null },
    ]);
    expect(ack(b, { ids: [message.id] }).acked).toEqual([message.id]);
    expect(ack(b, { ids: [message.id] }).acked).toEqual([]);
    const answer = await reply(b, { id: message.id, body: 'hi a' });
    expect(answer.message).toMatchObject({ to: ['a'], replyTo: message.id, thread: message.thread });
    // Replying to one's own message goes to its recipients.
    const followUp = await reply(a, { id: message.id, body: 'one more thing' });
    expect(followUp.message.to).toEqual(['b']);
    expect(thread(a, { id: message.id }).messages.map((m) => m.body)).toEqual(['hello b', 'hi a', 'one more thing']);
  });

  it('ack refuses a message that was not addressed to the caller', async () => {
    const repo = makeRepo();
    const a = ctxFor(repo, 'a');
    join(ctxFor(repo, 'b'), {});
    const { message } = await send(a, { to: 'b', body: 'for b' });
    const c = ctxFor(repo, 'c');
    expect(() => ack(c, { ids: [message.id] })).toThrow(HandoffError);
    expect(() => ack(c, { ids: [message.id] })).toThrow(/not addressed to c/);
  });

  it('join is idempotent and records team and role changes', () => {
    const repo = makeRepo();
    const a = ctxFor(repo, 'a');
    expect(join(a, { team: 'core' }).changed).toBe(true);
    expect(join(a, { team: 'core' }).changed).toBe(false);
    expect(join(a, { team: 'core', role: 'lead' }).changed).toBe(true);
    expect(agents(a).map((x) => [x.name, x.team, x.role, x.status])).toEqual([['a', 'core', 'lead', 'active']]);
    expect(Number(git(repo, 'rev-list', '--count', `refs/handoff/chains/${a.cloneId}`))).toBe(2);
  });

  it('a message id prefix must be unique and at least 6 characters', async () => {
    const repo = makeRepo();
    const a = ctxFor(repo, 'a');
    join(ctxFor(repo, 'b'), {});
    const m1 = (await send(a, { to: 'b', body: 'one' })).message;
    const m2 = (await send(a, { to: 'b', body: 'two' })).message;
    expect(show(a, { id: m1.id.slice(0, 26).toLowerCase() }).message.id).toBe(m1.id);
    expect(() => show(a, { id: m1.id.slice(0, 5) })).toThrow(/not a message id/);
    const common = m1.id.slice(
      0,
      [...m1.id].findIndex((ch, i) => ch !== m2.id[i]),
    );
    if (common.length >= 6) expect(() => show(a, { id: common })).toThrow(/matches 2 messages/);
  });
});
