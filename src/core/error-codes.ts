/**
 * Every error code handoff reports (under --json as error.code, and to MCP clients), with its exit code and
 * when it happens. This table is the one place a code is declared: the error classes accept only codes listed
 * here with their exit code, and the README's table is checked against it by test/cli/contract.test.ts.
 */

/** Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict, 5 timeout, 6 verification failed. */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  timeout: 5,
  verification: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const E = EXIT.error;
const U = EXIT.usage;
const N = EXIT.notFound;
const C = EXIT.conflict;
const T = EXIT.timeout;
const V = EXIT.verification;

export const ERROR_CODES = {
  // Bad input (2)
  usage: [U, 'a flag or argument is wrong (unknown flag, bad value, missing argument)'],
  unknown_command: [U, 'the command does not exist (details.suggestions lists near ones)'],
  missing_subcommand: [U, "a topic such as 'hooks' was given without its command"],
  invalid_name: [U, 'an agent, team, role or chain name is not allowed'],
  reserved_name: [U, 'the name is reserved (all, me, human, ...)'],
  ambiguous_id: [U, 'a short id matches several messages (details.matches)'],
  bad_id: [U, 'an id is not a message id'],
  bad_chain: [U, 'a chain id is malformed'],
  bad_config: [U, 'a handoff.* git config value is invalid'],
  bad_date: [U, 'a --since/--until date cannot be read'],
  bad_path: [U, 'a path is outside the repository'],
  bad_range: [U, 'a --range or -L value is not a range'],
  secret_found: [U, 'the body or the attached diff holds a secret (details.found): nothing was written'],
  bad_recipient: [U, 'a recipient is malformed'],
  bad_ref_prefix: [U, 'a --ref-prefix is not a valid ref prefix'],
  bad_remote_name: [U, 'a remote name cannot be part of a ref name (sync --setup)'],
  bad_rev: [U, 'a revision is malformed'],
  bad_since: [U, 'a --since value cannot be read'],
  blame_failed: [U, 'git blame refused the file or revision'],
  log_failed: [U, 'git log refused the revision'],
  body_too_large: [U, 'the body exceeds handoff.maxBodyBytes'],
  body_twice: [U, 'the body was given more than one way'],
  empty_body: [U, 'no message body was given'],
  nul_in_body: [U, 'the body holds a NUL byte'],
  invalid_utf8: [U, 'the body is not valid UTF-8'],
  conflicting_flags: [U, 'two flags that exclude each other were given'],
  dir_inside_worktree: [U, 'a checkout directory inside a working tree of the repository'],
  not_a_path: [U, 'log was given a revision or a message id where a path goes'],
  path_not_utf8: [U, '--attach-diff met a changed or new file whose name is not UTF-8'],
  dir_not_empty: [U, 'the checkout or demo directory is not empty'],
  identity_conflict: [U, 'HANDOFF_AGENT and --as name different agents'],
  missing_comment: [U, 'a review verdict needs -m'],
  missing_id: [U, 'read or ack given neither an id nor --all (an argument left out is `usage`)'],
  name_needs_one_agent: [U, 'init --name with more than one agent'],
  no_diff: [U, 'the message has no attached diff to review'],
  no_identity: [U, 'no agent identity (set HANDOFF_AGENT or pass --as)'],
  too_many_recipients: [U, 'a message names more than 10,000 recipients'],
  no_recipient: [U, 'the recipient list names nobody (such as `,`; an argument left out is `usage`)'],
  no_snapshot: [U, 'the message was sent without --attach-diff'],
  own_chain: [U, "this clone's own chain cannot be dropped"],
  drop_needs_force: [
    U,
    'sync --drop names a chain neither quarantined nor refused (--force drops it, messages and all)',
  ],
  thread_mismatch: [U, '--thread and --reply-to name different threads'],
  undo_needs_setup: [U, 'sync --undo without --setup'],
  force_needs_clean: [U, 'checkout --force without --clean'],
  force_needs_drop: [U, 'sync --force without --drop'],
  unknown_agent_kind: [U, 'init was given an agent it does not know'],
  unknown_hook: [U, 'hooks run was given a hook it does not handle'],
  unreadable_file: [U, '--file cannot be read'],
  bad_pid: [U, '--pid is not a running process'],
  not_a_request: [U, 'an outcome (done, fail, block) was given for a message that is not a request'],
  new_messages: [U, 'agent-hook: new messages wake the agent (exit 2 is how hooks say so)'],
  // Not found (3)
  not_a_repository: [N, 'not inside a git repository'],
  message_not_found: [N, 'no message has that id'],
  unknown_agent: [N, 'no agent has that name'],
  unknown_chain: [N, 'sync --drop names a chain this clone has never seen (--force drops it anyway)'],
  unknown_recipient: [N, 'a recipient has not joined (add --create to leave it a message)'],
  unknown_group: [N, 'no agent is in that @team or @role'],
  no_recipients: [N, 'the recipients resolve to nobody'],
  not_a_recipient: [N, 'the message was not sent to you'],
  file_not_found: [N, 'the file is not in the revision'],
  line_not_found: [N, 'the file has no such line'],
  unknown_revision: [N, 'the revision does not exist'],
  no_remote: [N, 'the repository has no remote to sync with'],
  unknown_remote: [N, 'no remote has that name'],
  not_claimed: [N, 'release of a key nobody holds'],
  not_reserved: [N, 'release --paths names a path you have not reserved'],
  snapshot_missing: [N, 'the snapshot or base commit a message names is not in this repository (verify names it)'],
  // Conflict (4)
  chain_rewritten: [C, 'sync refused a chain whose history was rewritten (details lists it)'],
  push_rejected: [C, "the remote refused the push of this clone's chain"],
  id_taken: [C, 'send --id names a message that is a different message'],
  task_done: [C, 'the request is done already: there is nothing to claim'],
  claim_held: [C, 'another live agent holds the claim (details.holder says who, since and until when)'],
  reserved: [C, 'another live agent reserved those paths exclusively first (details.holder says who)'],
  init_edited: [C, "init --undo found edits inside handoff's part (--force removes them)"],
  // Timeout (5)
  timeout: [T, 'wait or --wait-for ran out of time'],
  cancelled: [T, 'a wait was cancelled by its client; nothing was marked read'],
  // Verification (6)
  verification_failed: [V, 'verify found the ledger incomplete or altered (details lists the problems)'],
  bad_signature: [V, 'sync refused a chain whose signatures do not verify, or are missing under handoff.requireSigned'],
  // Errors (1)
  internal: [E, 'an unexpected failure (a bug: please report it)'],
  git_failed: [E, "a git command failed (the message gives git's reason)"],
  sign_failed: [E, 'handoff.sign is on and git could not sign (gpg.format, user.signingKey)'],
  git_missing: [E, 'git is not installed or not on PATH'],
  unsupported_repository: [E, 'the repository uses a format handoff cannot write'],
  bare_repository: [E, 'the command needs a working tree'],
  no_commits: [E, 'the repository has no commit yet'],
  event_refused: [E, 'an event would break a limit its readers check; nothing was written'],
  read_only: [E, 'the repository cannot be written by this user; reads still work'],
  bad_clone_id: [E, "the clone's id file is damaged"],
  bad_event: [E, 'a ledger event is malformed'],
  ledger_corrupt: [E, 'the SQLite ledger is unreadable (it is rebuilt from git)'],
  sqlite_unavailable: [E, "better-sqlite3's compiled addon is missing or does not load (rebuild it)"],
  ledger_too_new: [E, 'the SQLite ledger was written by a newer handoff'],
  chain_busy: [E, "this clone's chain stayed locked by another writer"],
  send_failed: [E, 'a send failed; it may have been written (retry with --id)'],
  snapshot_pruned: [E, 'a git gc --prune=now removed the snapshot while the message was written: nothing was sent'],
  cannot_write_file: [E, 'a file to write (replay --html) cannot be written there'],
  checkout_failed: [E, 'git could not make the checkout'],
  demo_failed: [E, 'a step of the demo failed'],
  bad_config_file: [E, 'an agent config file init must edit is not valid JSON or TOML'],
  link_outside: [E, 'a file init would write is a symbolic link, or under one, that leads outside the working tree'],
  link_shared: [E, 'symbolic links make two files init writes one file (other than CLAUDE.md and AGENTS.md)'],
  hooks_manual: [E, 'the hooks directory is committed: add the printed lines by hand'],
  hooks_missing: [E, "handoff's hook entry is missing"],
  hooks_off: [E, 'core.hooksPath is not a directory (/dev/null): git runs no hooks'],
  hooks_shared: [E, 'core.hooksPath is outside the repository: hooks there run for other repositories too'],
  hook_conflict: [
    E,
    "another hook replaced handoff's, and the one handoff chained is still kept: nothing is overwritten",
  ],
  remote_failed: [E, "a fetch or push failed (git's reason is given)"],
  remote_rejects_refs: [E, 'the remote refuses refs/handoff/* (a hosting rule)'],
  remote_unreachable: [E, 'the remote cannot be reached'],
} as const satisfies Record<string, readonly [ExitCode, string]>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes whose exit code is X. */
export type CodeWithExit<X extends ExitCode> = {
  [K in ErrorCode]: (typeof ERROR_CODES)[K][0] extends X ? K : never;
}[ErrorCode];
