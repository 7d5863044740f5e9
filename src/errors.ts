// Errors are values with a kind, so that callers choose a retry strategy and
// the CLI maps kinds to exit codes in one place (src/cli/exitCodes.ts).

/**
 * - terminal: needs a person (bad manifest, stack in UPDATE_ROLLBACK_FAILED); no retry.
 * - transient: may pass on its own (throttling, a timeout); retry with backoff.
 * - notReady: waiting on something that is progressing; requeue after an interval.
 * - usage: the command line is wrong.
 */
export type ErrorKind = "terminal" | "transient" | "notReady" | "usage";

export class QuorateError extends Error {
  readonly kind: ErrorKind;
  /** What the operator should do about it, in one sentence. */
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "QuorateError";
    this.kind = kind;
    this.hint = hint;
  }
}

export function terminal(message: string, hint?: string, cause?: unknown): QuorateError {
  return new QuorateError("terminal", message, hint, { cause });
}

export function transient(message: string, hint?: string, cause?: unknown): QuorateError {
  return new QuorateError("transient", message, hint, { cause });
}

export function notReady(message: string, hint?: string): QuorateError {
  return new QuorateError("notReady", message, hint);
}

export function usage(message: string, hint?: string): QuorateError {
  return new QuorateError("usage", message, hint);
}

/** One line for a person: the message, then what to do. Never a stack trace. */
export function describeError(error: unknown): string {
  if (error instanceof QuorateError) {
    return error.hint ? `${error.message}: ${error.hint}` : error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
