/** The notice for a caller whose agent name is unknown here but close to a known one (a mistyped HANDOFF_AGENT). */
import { getAgent, listAgents } from '../ledger/agents';
import { editDistance, quoted } from '../core/text';
import type { Context } from './context';

/**
 * What to tell `name` (the caller) when no agent of that name is known here and one with a name close to
 * it is: most likely a mistyped HANDOFF_AGENT, under which messages and claims would go astray.
 */
export function strangerNotice(ctx: Context, name: string): string | null {
  if (getAgent(ctx.db, name)) return null;
  const near = listAgents(ctx.db)
    .map((a) => a.name)
    .filter((n) => editDistance(n, name) <= Math.min(2, Math.floor(n.length / 3)));
  if (!near.length) return null;
  return `no agent named ${quoted(name)} is known here; did you mean ${near
    .slice(0, 3)
    .map((n) => quoted(n))
    .join(' or ')}? (Check HANDOFF_AGENT or --as.)`;
}
