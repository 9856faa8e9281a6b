/** Every command, by id (topics use ":" inside ids, a space on the command line). */
import type { CommandDef } from './define';
import ack from './ack';
import agentHook from './agent-hook';
import agents from './agents';
import blame from './blame';
import checkout from './checkout';
import demo from './demo';
import hooksInstall from './hooks-install';
import hooksRun from './hooks-run';
import hooksStatus from './hooks-status';
import hooksUninstall from './hooks-uninstall';
import inbox from './inbox';
import init from './init';
import join from './join';
import leave from './leave';
import log from './log';
import mcp from './mcp';
import read from './read';
import rebuild from './rebuild';
import replay from './replay';
import reply from './reply';
import review from './review';
import send from './send';
import show from './show';
import sync from './sync';
import thread from './thread';
import verify from './verify';
import threads from './threads';
import claim from './claim';
import claims from './claims';
import release from './release';
import reserve from './reserve';
import reservations from './reservations';
import done from './done';
import fail from './fail';
import block from './block';
import tasks from './tasks';
import search from './search';
import status from './status';
import wait from './wait';
import whoami from './whoami';
import workOn from './work-on';

// Each definition has its own result type; the runners only pass a command's result back to its printer.
// No prototype: a word from the command line ("constructor", "toString") names no command.
/* eslint-disable @typescript-eslint/no-explicit-any */
export const COMMAND_DEFS: Record<string, CommandDef<any, any>> = Object.assign(
  Object.create(null) as Record<string, CommandDef<any, any>>,
  Object.fromEntries(
    [
      ack,
      agentHook,
      block,
      claim,
      claims,
      done,
      fail,
      release,
      reservations,
      reserve,
      search,
      status,
      tasks,
      agents,
      blame,
      checkout,
      demo,
      hooksInstall,
      hooksRun,
      hooksStatus,
      hooksUninstall,
      inbox,
      init,
      join,
      leave,
      log,
      mcp,
      read,
      rebuild,
      replay,
      reply,
      review,
      send,
      show,
      sync,
      thread,
      threads,
      verify,
      wait,
      whoami,
      workOn,
    ].map((d) => [d.id, d]),
  ),
);
/* eslint-enable @typescript-eslint/no-explicit-any */
