/** Every command, by id (topics use ":" inside ids, a space on the command line). */
import type { CommandDef } from './define';
import ack from '../commands/ack';
import agents from '../commands/agents';
import checkout from '../commands/checkout';
import demo from '../commands/demo';
import inbox from '../commands/inbox';
import join from '../commands/join';
import leave from '../commands/leave';
import read from '../commands/read';
import rebuild from '../commands/rebuild';
import reply from '../commands/reply';
import send from '../commands/send';
import show from '../commands/show';
import sync from '../commands/sync';
import thread from '../commands/thread';
import verify from '../commands/verify';
import threads from '../commands/threads';
import wait from '../commands/wait';
import whoami from '../commands/whoami';

export const COMMAND_DEFS: Record<string, CommandDef<any>> = Object.fromEntries(
  [ack, agents, checkout, demo, inbox, join, leave, read, rebuild, reply, send, show, sync, thread, threads, verify, wait, whoami].map((d) => [d.id, d]),
);
