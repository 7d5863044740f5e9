// Every exit code quorate uses, in one place; `quorate --help` and the README list them.
import { QuorateError } from "../errors.js";

export const EXIT = {
  /** Success; for plan --detailed-exitcode: no changes. */
  ok: 0,
  /** An error: invalid manifest, unreachable service, failed call. */
  error: 1,
  /** plan --detailed-exitcode: there are changes. */
  changes: 2,
  /** status: a cluster is not Ready. */
  notReady: 2,
  /** apply: a health gate failed before execution; nothing was executed. */
  gateBlocked: 3,
  /** apply/reconcile: the rollout failed and the stack rolled back. */
  rolledBack: 4,
  /** A stack needs a person (UPDATE_ROLLBACK_FAILED, a stalled cluster). */
  needsOperator: 5,
  /** The command line was wrong. */
  usage: 64,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODE_HELP = `Exit codes:
  0   success (plan --detailed-exitcode: no changes)
  1   error: invalid manifest, unreachable service, failed call
  2   plan --detailed-exitcode: changes are pending; status: a cluster is not Ready
  3   apply: a health gate failed before execution; nothing was executed
  4   the rollout failed and the stack rolled back
  5   a stack or cluster needs a person (for example UPDATE_ROLLBACK_FAILED)
  64  usage error`;

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof QuorateError && error.kind === "usage") return EXIT.usage;
  return EXIT.error;
}
