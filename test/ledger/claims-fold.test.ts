/** The claim fold on its own: who holds a key given events in causal order, as every clone computes it. */
import { describe, expect, it } from 'vitest';
import { foldClaims, type ClaimEventRow } from '../../src/ledger/coordination';

let n = 0;
const ev = (agent: string, action: ClaimEventRow['action'], at: number, extra: Partial<ClaimEventRow> = {}) =>
  ({
    id: `E${String(++n).padStart(25, '0')}`,
    key: 'k',
    agent,
    action,
    ts: new Date(Date.UTC(2026, 0, 1) + at * 1000).toISOString(),
    clock: Date.UTC(2026, 0, 1) + at * 1000,
    expires: new Date(Date.UTC(2026, 0, 1) + (at + 1800) * 1000).toISOString(),
    ttl_ms: 1_800_000,
    host: 'h',
    pid: 1,
    proc_start: null,
    remote: null,
    from_agent: null,
    reason: null,
    ...extra,
  }) as ClaimEventRow;

describe('the claim fold', () => {
  it('a claim the remote decided wins over a holder no remote decided, whether written as claim, renew or reclaim', () => {
    for (const action of ['claim', 'renew', 'reclaim'] as const) {
      const f = foldClaims([
        ev('alice', 'claim', 0),
        ev('carol', action, 5, { remote: 'origin', ...(action === 'reclaim' ? { from_agent: 'bob' } : {}) }),
      ]);
      expect([action, f.holder?.agent, f.taken.map((t) => t.reason)]).toEqual([action, 'carol', ['remote:origin']]);
    }
  });

  it('the holder claiming again without --remote keeps the remote that decided its claim', () => {
    const f = foldClaims([
      ev('alice', 'claim', 0, { remote: 'origin' }),
      ev('alice', 'claim', 10),
      ev('bob', 'claim', 20, { remote: 'origin' }),
    ]);
    expect([f.holder?.agent, f.holder?.remote, f.lost.map((l) => l.agent)]).toEqual(['alice', 'origin', ['bob']]);
  });

  it("a holder's activity renews its lease: a claim inside it loses, one after it takes the key", () => {
    const rows = [
      ev('alice', 'claim', 0, { ttl_ms: 60_000, expires: '2026-01-01T00:01:00.000Z' }),
      ev('bob', 'claim', 100),
    ];
    const active = () => '2026-01-01T00:00:50.000Z';
    expect(foldClaims(rows, active).holder?.agent).toBe('alice');
    expect(foldClaims(rows).holder?.agent).toBe('bob');
    expect(foldClaims([rows[0]!, ev('bob', 'claim', 200)], active).holder?.agent).toBe('bob');
  });
});
