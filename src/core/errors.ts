/**
 * Errors every layer throws. Each has a stable `code` (printed under --json) and an exit code
 * from the documented table: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict, 5 timeout, 6 verification failed.
 */
import { ERROR_CODES, EXIT, type CodeWithExit, type ErrorCode, type ExitCode } from './error-codes';

export { EXIT, ERROR_CODES, type ErrorCode, type ExitCode };

/** Base class of every error handoff reports to a user: a sentence that says what to do next. */
export class HandoffError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'HandoffError';
    this.code = code;
    this.exitCode = ERROR_CODES[code][0];
    this.details = details;
  }
}

/** Bad input from the user: invalid names, empty bodies, conflicting flags (exit 2). */
export class UsageError extends HandoffError {
  constructor(code: CodeWithExit<typeof EXIT.usage>, message: string, details?: unknown) {
    super(code, message, details);
    this.name = 'UsageError';
  }
}

/** Something named does not exist: an agent, a message id, a repository (exit 3). */
export class NotFoundError extends HandoffError {
  constructor(code: CodeWithExit<typeof EXIT.notFound>, message: string, details?: unknown) {
    super(code, message, details);
    this.name = 'NotFoundError';
  }
}

/** A conflict: a claim held by another agent, a chain rewritten under us (exit 4). */
export class ConflictError extends HandoffError {
  constructor(code: CodeWithExit<typeof EXIT.conflict>, message: string, details?: unknown) {
    super(code, message, details);
    this.name = 'ConflictError';
  }
}

/** A wait ran out of time (exit 5). */
export class TimeoutError extends HandoffError {
  constructor(code: CodeWithExit<typeof EXIT.timeout>, message: string, details?: unknown) {
    super(code, message, details);
    this.name = 'TimeoutError';
  }
}

/** The ledger failed verification (exit 6). */
export class VerificationError extends HandoffError {
  constructor(code: CodeWithExit<typeof EXIT.verification>, message: string, details?: unknown) {
    super(code, message, details);
    this.name = 'VerificationError';
  }
}

/** The JSON shape of an error printed under --json. */
export interface ErrorJson {
  error: { code: ErrorCode; message: string; exitCode: number; details?: unknown };
}

/** Turns any thrown value into the --json error shape. */
export function errorToJson(err: unknown): ErrorJson {
  if (err instanceof HandoffError) {
    const out: ErrorJson = { error: { code: err.code, message: err.message, exitCode: err.exitCode } };
    if (err.details !== undefined) out.error.details = err.details;
    return out;
  }
  const message = err instanceof Error ? err.message : String(err);
  return { error: { code: 'internal', message, exitCode: EXIT.error } };
}
