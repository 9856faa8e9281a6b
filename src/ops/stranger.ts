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
  const near = nearNames(ctx, name);
  if (!near.length) return null;
  return `no agent named ${quoted(name)} is known here; did you mean ${near
    .slice(0, 3)
    .map((n) => quoted(n))
    .join(' or ')}? (Check HANDOFF_AGENT or --as.)`;
}

/** Known agents whose names are close to `name` (one or two letters off): what a mistyped name meant. */
export function nearNames(ctx: Context, name: string): string[] {
  return listAgents(ctx.db)
    .map((a) => a.name)
    .filter((n) => n !== name && editDistance(n, name) <= Math.min(2, Math.floor(n.length / 3)));
}
