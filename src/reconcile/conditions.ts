// Kubernetes-style status conditions, with every reason a named constant in
// this one file (as Flux's condition_types.go does), so that a dashboard or a
// script can switch on them and a person always gets a reason with a message.

export type ConditionType =
  | "Ready"
  | "Reconciling"
  | "Stalled"
  | "HealthGatePassed"
  | "FaultToleranceReduced"
  /** Only on clusters with spec.backup: whether a recent good snapshot is there to fall back on. */
  | "BackupReady";
export type ConditionStatus = "True" | "False" | "Unknown";

export const REASON = {
  /** The stack matches the manifest at the observed revision. */
  Succeeded: "ReconciliationSucceeded",
  /** A change set is being created or executed. */
  Progressing: "Progressing",
  /** The manifest renders something other than what the stack holds (or there is no stack yet). */
  OutOfSync: "OutOfSync",
  /** The stack is mid-operation and quorate supervises its members. */
  RolloutInProgress: "RolloutInProgress",
  /** The manifest fails validation: fix it in git. */
  InvalidManifest: "InvalidManifest",
  /**
   * quorate could not assume spec.account.roleArn (AccessDenied): the role's
   * trust policy, or quorate's own sts:AssumeRole permission, needs a person.
   * Tried again every pass, so a fixed policy needs no new commit.
   */
  AssumeRoleRefused: "AssumeRoleRefused",
  /** The stack is in a state only a person may act on (UPDATE_ROLLBACK_FAILED...). */
  StackNeedsOperator: "StackNeedsOperator",
  /** A failed creation left the stack in ROLLBACK_COMPLETE: it must be deleted. */
  FailedCreate: "FailedCreate",
  /**
   * CloudFormation refused the change set for this template (FAILED): no new
   * change set is made for the same template until it changes.
   */
  ChangeSetFailed: "ChangeSetFailed",
  /**
   * The versions the members run refuse the manifest's etcd version (a minor
   * skip or a downgrade from what they really run): nothing is executed until
   * the manifest changes.
   */
  EtcdVersionRefused: "EtcdVersionRefused",
  /** spec.restore's snapshot is missing or corrupt: nothing was changed; name another one. */
  RestoreRefused: "RestoreRefused",
  /**
   * The change would replace the Auto Scaling Group (a new, empty cluster)
   * outside a restore, for example spec.restore removed after one: nothing is
   * executed until the manifest changes.
   */
  GroupReplacementRefused: "GroupReplacementRefused",
  /**
   * Fewer than a quorum of voters have been healthy for gates.deadMemberGrace:
   * etcd takes no write, and only the members coming back or a restore helps.
   */
  QuorumLost: "QuorumLost",
  /** The update failed and CloudFormation rolled back. */
  RolledBack: "RolledBack",
  /** The health gate failed before execution, so nothing was executed. */
  GateFailed: "HealthGateFailed",
  GatePassed: "HealthGatePassed",
  /**
   * Members would be replaced and spec.backup.beforeChange found no recent
   * snapshot and could not take one (check snapshot-before-change): nothing
   * was executed, and it is tried again after a backoff.
   */
  SnapshotMissing: "SnapshotMissing",
  /** No member could be probed (no stack, no instances yet). */
  GateUnknown: "HealthGateUnknown",
  /** spec.suspend is true. */
  Suspended: "Suspended",
  /** The manifest was deleted; the stack stays (no prune). */
  Orphaned: "Orphaned",
  /** The manifest was deleted with prune; the stack is being deleted. */
  Pruning: "Pruning",
  /** A call failed in a way that may pass: retried with backoff. */
  TransientError: "TransientError",
  /** The git source could not be read; the last good revision is kept. */
  SourceUnavailable: "SourceUnavailable",
  /** The head commit's signature is missing or untrusted: it is never applied. */
  SourceUntrusted: "SourceUntrusted",
  /** Fewer healthy voters beyond the quorum than at rest: a member is down or being replaced. */
  FaultToleranceReduced: "FaultToleranceReduced",
  /** The cluster tolerates as many failures as a healthy cluster of its size. */
  FaultToleranceAtRest: "FaultToleranceAtRest",
  /** BackupReady: the newest good snapshot is younger than spec.backup.every plus a margin. */
  BackupSucceeded: "BackupSucceeded",
  /** BackupReady: the last scheduled snapshot (or the bucket's listing) failed; retried after a backoff. */
  BackupFailed: "BackupFailed",
  /**
   * BackupReady: there is no good snapshot, or the newest is older than
   * spec.backup.every plus a margin, without a failure to blame (the cluster
   * was busy, suspended or out of sync, or quorate was not running).
   */
  BackupOverdue: "BackupOverdue",
  /** BackupReady: the bucket has not been read since quorate started. */
  BackupUnknown: "BackupUnknown",
} as const;

export type Reason = (typeof REASON)[keyof typeof REASON];

/**
 * Reasons of the source's status (`/status`'s `source.reason`), besides the
 * git source's own failure reasons (src/source/types.ts), which it reports as
 * they are.
 */
export const SOURCE_REASON = {
  /** The --path directory does not exist at the head: nothing is applied or pruned. */
  ManifestsPathMissing: "ManifestsPathMissing",
  /**
   * The head does not descend from the revision reconciled before (a
   * force-push rewound the branch) and was accepted: kept on the source's
   * status while that head is reconciled.
   */
  BranchRewound: "BranchRewound",
} as const;

export interface Condition {
  type: ConditionType;
  status: ConditionStatus;
  reason: Reason;
  message: string;
  /** ISO 8601; changes only when status changes. */
  lastTransitionTime: string;
}

/** Sets a condition, keeping its transition time when the status did not change. */
export function setCondition(
  conditions: readonly Condition[],
  next: Omit<Condition, "lastTransitionTime">,
  now: Date,
): Condition[] {
  const previous = conditions.find((c) => c.type === next.type);
  const lastTransitionTime =
    previous && previous.status === next.status ? previous.lastTransitionTime : now.toISOString();
  const others = conditions.filter((c) => c.type !== next.type);
  return [...others, { ...next, lastTransitionTime }].sort(
    (a, b) => ORDER.indexOf(a.type) - ORDER.indexOf(b.type),
  );
}

const ORDER: ConditionType[] = [
  "Ready",
  "Reconciling",
  "Stalled",
  "HealthGatePassed",
  "FaultToleranceReduced",
  "BackupReady",
];

export function conditionOf(
  conditions: readonly Condition[],
  type: ConditionType,
): Condition | undefined {
  return conditions.find((c) => c.type === type);
}
