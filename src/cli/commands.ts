/** Every command, by id (topics use ":" inside ids, a space on the command line). */
import type { CommandDef } from './define';
import ack from '../commands/ack';
import agentHook from '../commands/agent-hook';
import agents from '../commands/agents';
import blame from '../commands/blame';
import checkout from '../commands/checkout';
import demo from '../commands/demo';
import hooksInstall from '../commands/hooks-install';
import hooksRun from '../commands/hooks-run';
import hooksStatus from '../commands/hooks-status';
import hooksUninstall from '../commands/hooks-uninstall';
import inbox from '../commands/inbox';
import init from '../commands/init';
import join from '../commands/join';
import leave from '../commands/leave';
import log from '../commands/log';
import mcp from '../commands/mcp';
import read from '../commands/read';
import rebuild from '../commands/rebuild';
import replay from '../commands/replay';
import reply from '../commands/reply';
import review from '../commands/review';
import send from '../commands/send';
import show from '../commands/show';
import sync from '../commands/sync';
import thread from '../commands/thread';
import verify from '../commands/verify';
import threads from '../commands/threads';
import wait from '../commands/wait';
import whoami from '../commands/whoami';
import workOn from '../commands/work-on';

export const COMMAND_DEFS: Record<string, CommandDef<any>> = Object.fromEntries(
  [ack, agentHook, agents, blame, checkout, demo, hooksInstall, hooksRun, hooksStatus, hooksUninstall, inbox, init, join, leave, log, mcp, read, rebuild, replay, reply, review, send, show, sync, thread, threads, verify, wait, whoami, workOn].map((d) => [d.id, d]),
);
