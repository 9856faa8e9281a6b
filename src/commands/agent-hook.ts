import { defineCommand, jsonFlag } from './define';
import { HandoffError } from '../core/errors';
import { agentHook, idleWait, recordNudges, releaseNudges, type AgentHookEvent } from '../ops/agent-hooks';
import { afterDelivery, withContext, withContextForDelivery } from './_shared';

/** Results made in a context kept open for their delivery (closed by afterDelivery). */
const kept = new WeakSet<object>();
/** Results whose output has not been delivered yet (their pending nudges go back at an early exit). */
const unclaimed = new WeakSet<object>();

/** How long an agent hook waits for its input to end. */
const STDIN_WAIT_MS = 3000;

export default defineCommand({
  id: 'agent-hook',
  summary: "Answer an agent's own hooks (session start, end of turn): unread messages, in that agent's hook format.",
  description: `Written by 'handoff init' into each agent's hook configuration (Claude Code, Codex, Gemini CLI,
Copilot, Cursor; opencode's plugin runs it). Reads the hook's JSON input on stdin and prints the output that
agent documents on stdout: at session-start, the agent's name and unread messages as additional context; at
stop, what keeps that agent going with the new messages before it ends its turn ("block" for Claude Code,
Codex and Copilot, "deny" for Gemini CLI, a followup_message for Cursor; see docs/agents.md). At most one nudge per message (handoff.nudge=off turns nudges off). HANDOFF_RUNTIME names
the runtime the hook was written for; run by another runtime, the hook does nothing. Never fails: a problem
is one line on stderr and exit 0. idle-wait runs in the background after a turn (async, asyncRewake): when a
new message arrives it exits 2 with a short notice on stderr, which wakes an idle Claude Code session.`,
  examples: ['HANDOFF_AGENT=claude HANDOFF_RUNTIME=claude <%= config.bin %> agent-hook stop < input.json'],
  args: [{ name: 'event', description: 'session-start, stop, or idle-wait', required: true, emptyOk: true }],
  flags: { json: jsonFlag },
  async run(parsed, io) {
    const event = parsed.args.event as AgentHookEvent;
    if (event !== 'session-start' && event !== 'stop' && event !== 'idle-wait') {
      io.warn(
        `handoff: agent-hook: unknown event ${JSON.stringify(event)} (session-start, stop or idle-wait); doing nothing.`,
      );
      return { output: null, skipped: 'unknown event', nudged: [] };
    }
    // Agents write the hook's input and close it; one that never closes it does not hold the hook (and the
    // agent waiting on it) for ever.
    const stdin = ((await io.readStdin({ timeoutMs: STDIN_WAIT_MS })) ?? Buffer.alloc(0)).toString('utf8');
    let wake: string | null = null;
    try {
      if (event !== 'idle-wait')
        return await withContextForDelivery(io, (ctx) => {
          const r = agentHook(ctx, { event, stdin });
          kept.add(r);
          // Output that never reaches the agent (the reader closed the pipe) gives its nudges back, in the
          // context still open for delivery.
          if (r.nudged.length) {
            unclaimed.add(r);
            process.once('exit', () => {
              if (unclaimed.has(r)) releaseNudges(ctx, r.nudged);
            });
          }
          return r;
        });
      const r = await withContext(io, (ctx) => idleWait(ctx, { stdin }));
      if (!r.wake) return { output: null, skipped: r.skipped, nudged: [] };
      wake = r.wake;
    } catch (err) {
      // A hook must never break the agent's session.
      io.warn(`handoff: agent-hook ${event}: ${(err as Error).message}`);
      return { output: null, skipped: (err as Error).message, nudged: [] };
    }
    // Exit 2 with the text on stderr: Claude Code's asyncRewake wakes the idle session with it.
    throw new HandoffError('new_messages', wake);
  },
  print(r, io) {
    if (r.output) io.log(JSON.stringify(r.output));
  },
  // The messages told of count as told once the agent has the output (a closed pipe tells nobody).
  async delivered(r, _parsed, io) {
    unclaimed.delete(r);
    if (!kept.has(r)) return;
    try {
      await afterDelivery(io, r, (ctx) => recordNudges(ctx, r.nudged));
    } catch (err) {
      io.warn(`handoff: agent-hook: ${(err as Error).message}`);
    }
  },
});
