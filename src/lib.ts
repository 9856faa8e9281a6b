/** handoff as a library: the same ops the CLI runs, for long-lived processes (an MCP server, scripts, tests). */
export { openContext, closeContext, type Context, type ContextOptions } from './ops/context';
export { send, type SendInput } from './ops/send';
export { reply, type ReplyInput } from './ops/reply';
export { inbox, read, ack } from './ops/inbox';
export { show, thread, threads } from './ops/show';
export { join, leave, agents, whoami } from './ops/agents';
export { waitForMessages } from './ops/wait';
export { rebuild } from './ops/rebuild';
export { recordCommit } from './ops/attribution';
export { blame, log } from './ops/blame';
export { indexChains } from './ops/index-chains';
export { claim, release, claims } from './ops/claims';
export { recordOutcome, tasks } from './ops/tasks';
export { reserve, reservations } from './ops/reservations';
export { search } from './ops/search';
export type * from './json/coordination';
export { HandoffError, EXIT } from './core/errors';
export type * from './json/types';
