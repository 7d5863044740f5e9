// Every exit code quorate uses, and the outcome of every command mapped to one,
// in this one table. `quorate --help`, each command's --help and the README's
// table are generated from it (test/cli/exitCodes.test.ts keeps the README equal).
import { QuorateError } from "../errors.js";
import type { ApplyResult } from "../reconcile/apply.js";
import type { Reason } from "../reconcile/conditions.js";

export const EXIT = {
  /** Success; for plan --detailed-exitcode: no changes. */
  ok: 0,
  /** An error: invalid manifest, unreachable service, failed call, refused source. */
  error: 1,
  /** plan --detailed-exitcode: there are changes; status: a cluster is not Ready. */
  pending: 2,
  /** A health gate (or another precondition of a change, such as snapshot-before-change) held it: nothing was executed. */
  gateBlocked: 3,
  /** The rollout failed and the stack rolled back. */
  rolledBack: 4,
  /** A stack or cluster needs a person (UPDATE_ROLLBACK_FAILED, a failed change set...). */
  needsOperator: 5,
  /** The command line was wrong. */
  usage: 64,
  /** SIGINT/SIGTERM, and the work in flight outlived the stop deadline (as timeout(1) exits). */
  stopTimedOut: 124,
  /** A second SIGINT/SIGTERM while stopping: out at once (128 + SIGINT, as a shell reports Ctrl-C). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What each code means, for every command at once (the README's table). */
export const EXIT_MEANINGS: Readonly<Record<ExitCode, string>> = {
  0: "success (`plan --detailed-exitcode`: no changes; `reconcile`: every cluster Ready, suspended or orphaned)",
  1: "error: invalid manifest, unreachable service, failed call, refused source",
  2: "`plan --detailed-exitcode`: changes are pending; `status`: a cluster is not Ready",
  3: "a health gate failed before execution, the members' etcd versions refuse the manifest's, the snapshot a member-replacing change needs (`snapshot-before-change`) could not be had, a restore's snapshot is missing or corrupt, or the change would replace the Auto Scaling Group outside a restore; nothing was executed for that cluster",
  4: "the rollout failed and the stack rolled back",
  5: "a stack or cluster needs a person (for example `UPDATE_ROLLBACK_FAILED`, a failed change set)",
  64: "usage error: an unknown flag, command or cluster, or a flag value out of range",
  124: "stopped by SIGINT or SIGTERM, but work was still in flight when the stop deadline (`QUORATE_STOP_TIMEOUT`, default PT10S) passed",
  130: "a second SIGINT or SIGTERM while stopping: exited at once, with work in flight",
};

/** `quorate apply`: the result of each cluster (src/reconcile/apply.ts). */
export const APPLY_EXIT: Readonly<Record<ApplyResult, ExitCode>> = {
  "no-change": EXIT.ok,
  applied: EXIT.ok,
  declined: EXIT.ok,
  error: EXIT.error,
  "gate-blocked": EXIT.gateBlocked,
  "rolled-back": EXIT.rolledBack,
  "needs-operator": EXIT.needsOperator,
  "change-set-failed": EXIT.needsOperator,
  // Held like a failed gate: nothing executed, and it may pass once S3 or a member is back.
  "snapshot-missing": EXIT.gateBlocked,
  "version-refused": EXIT.gateBlocked,
  // Refused before any change set, like a failed gate: name a good snapshot and apply again.
  "restore-refused": EXIT.gateBlocked,
  // Refused before execution: revert the change, or keep (or renew) spec.restore.
  "replacement-refused": EXIT.gateBlocked,
};

/**
 * `quorate reconcile --once`: the code of a cluster that is not Ready, by the
 * reason of its Ready condition. A Record over every reason, so that a new
 * reason cannot be added without deciding what CI should see.
 */
export const NOT_READY_EXIT: Readonly<Record<Reason, ExitCode>> = {
  ReconciliationSucceeded: EXIT.ok,
  Suspended: EXIT.ok,
  Orphaned: EXIT.ok,
  Progressing: EXIT.error,
  OutOfSync: EXIT.error,
  RolloutInProgress: EXIT.error,
  InvalidManifest: EXIT.error,
  TransientError: EXIT.error,
  Pruning: EXIT.ok,
  SourceUnavailable: EXIT.error,
  SourceUntrusted: EXIT.error,
  HealthGateFailed: EXIT.gateBlocked,
  SnapshotMissing: EXIT.gateBlocked,
  HealthGatePassed: EXIT.ok,
  HealthGateUnknown: EXIT.error,
  RolledBack: EXIT.rolledBack,
  StackNeedsOperator: EXIT.needsOperator,
  // The account's role refused quorate: its trust policy or quorate's policy needs a person.
  AssumeRoleRefused: EXIT.needsOperator,
  FailedCreate: EXIT.needsOperator,
  ChangeSetFailed: EXIT.needsOperator,
  EtcdVersionRefused: EXIT.gateBlocked,
  RestoreRefused: EXIT.gateBlocked,
  GroupReplacementRefused: EXIT.gateBlocked,
  QuorumLost: EXIT.needsOperator,
  // Reasons of FaultToleranceReduced only, never of Ready.
  FaultToleranceReduced: EXIT.ok,
  FaultToleranceAtRest: EXIT.ok,
  // Reasons of BackupReady only, never of Ready: a snapshot's fate does not fail a pass.
  BackupSucceeded: EXIT.ok,
  BackupFailed: EXIT.ok,
  BackupOverdue: EXIT.ok,
  BackupUnknown: EXIT.ok,
};

/** `quorate plan`: what was planned. */
export const PLAN_EXIT = {
  "no-changes": EXIT.ok,
  /** Only with --detailed-exitcode; without it, pending changes exit 0. */
  changes: EXIT.pending,
  error: EXIT.error,
} as const satisfies Record<string, ExitCode>;

/** `quorate maintain`: how the maintenance ended (src/maintenance/maintain.ts). */
export const MAINTAIN_EXIT = {
  done: EXIT.ok,
  "gate-blocked": EXIT.gateBlocked,
  refused: EXIT.needsOperator,
} as const satisfies Record<string, ExitCode>;

/** `quorate status`: the verdict over every cluster. */
export const STATUS_EXIT = {
  ready: EXIT.ok,
  "not-ready": EXIT.pending,
  unreadable: EXIT.error,
} as const satisfies Record<string, ExitCode>;

/** The worst of several codes (a pass over many clusters exits with its worst cluster's). */
export function worstExit(codes: Iterable<ExitCode>): ExitCode {
  let worst: ExitCode = EXIT.ok;
  for (const code of codes) if (code !== EXIT.usage && code > worst) worst = code;
  return worst;
}

/** What each command's codes mean to it, for its --help. */
const COMMAND_EXITS: Readonly<Record<string, readonly [ExitCode, string][]>> = {
  validate: [
    [0, "every manifest is valid"],
    [1, "at least one error (or no manifest found)"],
  ],
  render: [
    [0, "printed"],
    [1, "invalid manifest, or the AMI could not be resolved"],
    [64, "usage error, or no cluster (or manifest file) of that name"],
  ],
  plan: [
    [0, "no changes (or, without --detailed-exitcode, planned)"],
    [1, "error: a cluster could not be planned, or bad input"],
    [2, "with --detailed-exitcode: changes are pending"],
    [64, "usage error, or --cluster names no cluster"],
  ],
  apply: [
    [0, "every cluster applied, had no changes, or the change was declined"],
    [1, "error (invalid manifest, failed call, unusable stack)"],
    [
      3,
      "a health gate failed before execution, the members' etcd versions refuse the manifest's, the snapshot a member-replacing change needs (snapshot-before-change) could not be had, a restore's snapshot is missing or corrupt, or the change would replace the Auto Scaling Group outside a restore; nothing was executed for that cluster",
    ],
    [4, "a rollout failed and the stack rolled back"],
    [
      5,
      "a stack needs a person (UPDATE_ROLLBACK_FAILED, a failed change set, another owner's stack)",
    ],
    [64, "usage error, or --cluster names no cluster"],
  ],
  backup: [
    [0, "the snapshot was taken (and retention ran)"],
    [1, "it could not be taken: no healthy member, S3 failed, the stream broke or was cut"],
    [64, "usage error, or no cluster of that name"],
  ],
  backups: [
    [0, "listed (a bucket that cannot be read is reported under its cluster)"],
    [1, "no cluster has spec.backup, or a manifest is invalid"],
    [64, "usage error, or no cluster of that name"],
  ],
  restore: [
    [0, "the change was printed (or written); with --apply, the cluster was restored"],
    [1, "error: invalid manifest, no spec.backup, failed call"],
    [
      3,
      "the snapshot is missing, not good or corrupt (its sha256 differs): nothing was written or changed",
    ],
    [4, "with --apply: the restore failed and the stack rolled back"],
    [5, "with --apply: the stack needs a person"],
    [64, "usage error, no cluster of that name, --apply without --yes, or an id already applied"],
  ],
  maintain: [
    [0, "every step ran (or had nothing to do)"],
    [1, "error: invalid manifest, unreachable service, failed call"],
    [
      3,
      "the health gate failed for longer than gates.abortAfter before a step, or the stack is being updated; nothing more was done",
    ],
    [5, "NOSPACE stays armed: a database is still over the quota (the message says what to do)"],
  ],
  status: [
    [0, "every cluster is Ready"],
    [
      1,
      "error: the status could not be read (no manifests, a region's stacks could not be listed)",
    ],
    [2, "at least one cluster is not Ready (the text output says why, under its row)"],
  ],
  reconcile: [
    [0, "every cluster is Ready (applied, or already in sync), suspended or orphaned"],
    [
      1,
      "the source could not be read or was refused (an unsigned head; a rewound branch under --verify-signatures), a manifest is invalid, or a call failed",
    ],
    [
      3,
      "a health gate failed before execution, the members' etcd versions refuse the manifest's, the snapshot a member-replacing change needs (snapshot-before-change) could not be had, a restore's snapshot is missing or corrupt, or the change would replace the Auto Scaling Group outside a restore; nothing was executed for that cluster",
    ],
    [4, "a rollout failed and its stack rolled back"],
    [
      5,
      "a stack needs a person (UPDATE_ROLLBACK_FAILED, a failed change set, another owner's stack)",
    ],
  ],
  run: [
    [0, "stopped by SIGINT or SIGTERM, the work in flight done within the stop deadline"],
    [1, "could not start (port in use, unreadable secret)"],
  ],
  demo: [
    [0, "stopped with Ctrl-C"],
    [1, "could not start (etcd or git missing and not installed, port in use)"],
  ],
  local: [
    [0, "done (status: the local cloud is running)"],
    [
      1,
      "error: it could not start (port in use, no etcd on PATH), could not be stopped, or (status) it is not running",
    ],
  ],
  schema: [
    [0, "printed (or FILE updated, or already up to date)"],
    [1, "FILE has no reference markers"],
  ],
};

/** Every command shares the signal handling of src/cli/shutdown.ts, so every one may exit so. */
const STOP_EXITS: readonly [ExitCode, string][] = [
  [EXIT.stopTimedOut, "stopped by a signal, with work in flight at the stop deadline"],
  [EXIT.interrupted, "a second signal while stopping"],
];

/** The "Exit codes:" block of one command's --help; every command ends with 64 and the stop codes. */
export function exitCodeHelp(command: string): string {
  const rows = [...(COMMAND_EXITS[command] ?? [])];
  if (!rows.some(([code]) => code === EXIT.usage)) rows.push([EXIT.usage, "usage error"]);
  rows.push(...STOP_EXITS);
  return `Exit codes:\n${rows.map(([code, meaning]) => wrapRow(code, meaning)).join("\n")}`;
}

function wrapRow(code: number, meaning: string): string {
  const words = meaning.split(" ");
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line && line.length + word.length + 1 > 74) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines
    .map((l, i) => `${i === 0 ? `  ${String(code).padEnd(4)}` : "      "}${l}`)
    .join("\n");
}

/** The top-level --help's list, from the same meanings. */
export function exitCodeOverview(): string {
  const rows = Object.entries(EXIT_MEANINGS).map(([code, meaning]) =>
    wrapRow(Number(code), meaning.replaceAll("`", "")),
  );
  return `Exit codes:\n${rows.join("\n")}`;
}

/** The README's table, generated: `| code | meaning |`. */
export function exitCodeMarkdown(): string {
  const rows = Object.entries(EXIT_MEANINGS).map(([code, meaning]) => `| ${code} | ${meaning} |`);
  return ["| code | meaning |", "|---|---|", ...rows].join("\n");
}

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof QuorateError && error.kind === "usage") return EXIT.usage;
  return EXIT.error;
}
