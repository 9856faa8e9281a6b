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
export { HandoffError, EXIT } from './core/errors';
export type * from './json/types';
