// What a person (or a script, with --format json) sees of a rollout: one event
// per thing that happened to a member, plus the gate and stack status lines.

export type RolloutEventType =
  | "stack-status"
  | "plan"
  | "bootstrap"
  | "restore"
  | "learner-added"
  | "peers-published"
  | "hook-released"
  | "hook-held"
  | "leadership-moved"
  | "member-removed"
  | "dead-member-removed"
  | "instance-replaced"
  | "member-promoted"
  | "member-healthy"
  | "update-cancelled"
  | "gate"
  /** The gate fails on more than its stable clock and hooks wait on it (said once per hold). */
  | "held"
  /** The hold is over: the rollout moves again. */
  | "resumed"
  /** The snapshot spec.backup.beforeChange asks for: reused, taken, or why there is none. */
  | "snapshot"
  /** A scheduled snapshot of `quorate run` (spec.backup.every) was taken, or failed. */
  | "backup-taken"
  | "backup-failed"
  | "fault-tolerance"
  | "etcd-version"
  /** A finished rollout's member durations written to the group's history tag, or why they were not. */
  | "history-recorded"
  | "history-failed"
  /** An automatic defragmentation in `quorate run` (spec.maintenance.autoDefrag): its steps and result. */
  | "defrag"
  /** A new member's replayed database defragmented during a rollout, or its NOSPACE disarmed (replayedDb.ts). */
  | "member-defragmented"
  | "alarm-disarmed"
  | "waiting"
  | "error"
  | "done";

export interface RolloutEvent {
  /** ISO 8601 time. */
  at: string;
  cluster: string;
  type: RolloutEventType;
  instanceId?: string;
  /** Member id as 16 hex digits, like etcdctl prints it. */
  memberId?: string;
  message: string;
  /** On stack-status events: the stack's status, or the operation an executed change set started. */
  stackStatus?: string;
  /** On held events: the gate's failing checks. */
  failedChecks?: string[];
  /** On fault-tolerance events: failures survived now, and at rest. */
  faultTolerance?: { tolerates: number; resting: number };
  /** On etcd-version events: the cluster version after a minor upgrade, against the manifest's. */
  clusterVersion?: EtcdClusterVersion;
  /** On the last defrag event of an automatic defragmentation: how it ended. */
  defragResult?: DefragResult;
  /** On backup-taken and backup-failed events: what the metrics and the log need. */
  backup?: ScheduledSnapshotFacts;
}

export interface ScheduledSnapshotFacts {
  durationMs: number;
  /** Taken: the object, its etcd revision and size. */
  key?: string;
  revision?: string;
  bytes?: number;
  /** Taken: snapshots retention deleted afterwards. */
  pruned?: number;
  /** Failed: the consecutive failure this is, and when it is tried again. */
  attempt?: number;
  retryAt?: string;
}

/** done: the member was defragmented; gate-blocked: the gate held it past abortAfter; failed: an error. */
export type DefragResult = "done" | "gate-blocked" | "failed";

export interface EtcdClusterVersion {
  /** The manifest's spec.etcd.version. */
  target: string;
  /** Has the cluster version (GET /version etcdcluster) reached the target's minor version? */
  reached: boolean;
  /** The cluster version the members report, when any did. */
  version?: string;
}

export type EventSink = (event: RolloutEvent) => void;

/** `12:01:03 dev  i-0abc  joined as learner ...`: one line a person can follow. */
export function formatEventLine(event: RolloutEvent): string {
  const time = event.at.slice(11, 19);
  const who = event.instanceId ? `  ${event.instanceId}` : "";
  return `${time} ${event.cluster}${who}  ${event.message}`;
}

export function eventLineWriter(write: (text: string) => void, format: "text" | "json"): EventSink {
  return (event) =>
    write(format === "json" ? `${JSON.stringify(event)}\n` : `${formatEventLine(event)}\n`);
}
