// Each cluster's status, written in one place on the way out of a reconcile
// (Flux's finalizeStatus): every outcome sets all four conditions, so no
// cluster is ever "reconciling" without a reason and a message.
import { formatFaultTolerance, formatGateResult, type GateResult } from "../etcd/gate.js";
import type { MemberDb } from "../maintenance/decide.js";
import { STACK_TAG } from "../render/contract.js";
import type { BackupCondition, BackupStatus } from "./backup/readiness.js";
import { type Condition, REASON, type Reason, setCondition } from "./conditions.js";
import type { MemberViews } from "./memberView.js";
import type { EtcdClusterVersion } from "./rollout/events.js";

export interface ClusterStatus {
  cluster: string;
  stackName?: string;
  region?: string;
  /** Where the manifest is: FILE:LINE. */
  source?: string;
  conditions: Condition[];
  /** The git revision this status reflects. */
  observedRevision?: string;
  /** The revision recorded on the stack by the last change that went through. */
  lastAppliedRevision?: string;
  /** The revision quorate last tried to apply, whether it went through or not. */
  lastAttemptedRevision?: string;
  stackStatus?: string;
  templateSha256?: string;
  /** One line: the last gate result. */
  gate?: string;
  /** Member failures the cluster survives now, and at rest (last probe or rollout event). */
  faultTolerance?: FaultToleranceNow;
  /** After an etcd minor upgrade: whether the cluster version followed, and why not. */
  etcdClusterVersion?: EtcdClusterVersion & { message: string };
  /** Each member's database at the daemon's last probe of it (metrics and autoDefrag read it). */
  databases?: MemberDatabases;
  /** Each member (health, leader, learner, version, database, applied index) at the last probe, rollouts' included. */
  members?: MemberViews;
  /** With spec.backup: the newest good snapshot and the scheduled snapshots' failures. */
  backup?: BackupStatus;
  /** Consecutive transient failures; the retry waits longer after each. */
  failures: number;
  /** ISO 8601: no new attempt before this (backoff). */
  nextAttemptAt?: string;
  lastReconciledAt?: string;
}

/** Numbers, not bigints, so that /status is plain JSON (exact up to 8 PiB). */
export interface MemberDatabase {
  /** The etcd member name (the instance id), or its id in hex when it has none. */
  member: string;
  dbSize: number;
  dbSizeInUse: number;
}

export interface MemberDatabases {
  /** ISO 8601: when the probe that read them was made. */
  at: string;
  members: MemberDatabase[];
}

export interface FaultToleranceNow {
  tolerates: number;
  resting: number;
}

export type ReconcileOutcome =
  /** In sync; `gate` when the members were probed. */
  | { kind: "ready"; message: string; gate?: GateResult }
  /** Applying or supervising, not finished (daemon mode reports this while a rollout runs). */
  | { kind: "progressing"; reason: Reason; message: string }
  | { kind: "applied"; message: string; gate?: GateResult }
  | { kind: "gate-blocked"; message: string; gate?: GateResult }
  /** Held by snapshot-before-change: no recent snapshot, and none could be taken. */
  | { kind: "snapshot-missing"; message: string }
  | { kind: "rolled-back"; message: string; gate?: GateResult }
  /** Needs a person: invalid manifest, a stack only an operator may fix. */
  | { kind: "stalled"; reason: Reason; message: string; gate?: GateResult }
  | { kind: "suspended" }
  | { kind: "orphaned"; message: string }
  | { kind: "deleting"; message: string }
  /** A failure that may pass: retried after a backoff. */
  | { kind: "transient"; message: string };

export interface StatusContext {
  now: Date;
  revision?: string;
  /** Did this reconcile try to apply the revision? */
  attempted?: boolean;
  /** What the live stack says, when read. */
  stack?: {
    stackName: string;
    status: string;
    lastAppliedRevision?: string;
    templateSha256?: string;
  };
  /** Backoff: base and cap in ms, and a number in [0,1) for jitter. */
  backoff?: { baseMs: number; maxMs: number; random: number };
}

const FALSE = "False" as const;
/** Outcomes retried after a growing, jittered backoff. */
const RETRIED = new Set<ReconcileOutcome["kind"]>([
  "transient",
  "gate-blocked",
  "snapshot-missing",
]);
const TRUE = "True" as const;

export function nextStatus(
  previous: ClusterStatus,
  outcome: ReconcileOutcome,
  ctx: StatusContext,
): ClusterStatus {
  const { now } = ctx;
  let conditions = previous.conditions;
  const set = (
    type: Condition["type"],
    status: Condition["status"],
    reason: Reason,
    message: string,
  ) => {
    conditions = setCondition(conditions, { type, status, reason, message }, now);
  };
  const next: ClusterStatus = {
    ...previous,
    failures: RETRIED.has(outcome.kind) ? previous.failures + 1 : 0,
    lastReconciledAt: now.toISOString(),
  };
  delete next.nextAttemptAt;
  if (ctx.revision) next.observedRevision = ctx.revision;
  if (ctx.attempted && ctx.revision) next.lastAttemptedRevision = ctx.revision;
  if (ctx.stack) {
    next.stackName = ctx.stack.stackName;
    next.stackStatus = ctx.stack.status;
    if (ctx.stack.lastAppliedRevision) next.lastAppliedRevision = ctx.stack.lastAppliedRevision;
    if (ctx.stack.templateSha256) next.templateSha256 = ctx.stack.templateSha256;
  }

  switch (outcome.kind) {
    case "ready":
    case "applied":
      set("Ready", TRUE, REASON.Succeeded, outcome.message);
      set("Reconciling", FALSE, REASON.Succeeded, "nothing to do");
      set("Stalled", FALSE, REASON.Succeeded, "");
      break;
    case "progressing":
      set("Ready", FALSE, outcome.reason, outcome.message);
      set("Reconciling", TRUE, outcome.reason, outcome.message);
      set("Stalled", FALSE, outcome.reason, "");
      break;
    case "gate-blocked":
      set("Ready", FALSE, REASON.GateFailed, outcome.message);
      set(
        "Reconciling",
        TRUE,
        REASON.GateFailed,
        `waiting for the health gate to pass before applying (attempt ${next.failures})`,
      );
      set("Stalled", FALSE, REASON.GateFailed, "");
      break;
    case "snapshot-missing":
      set("Ready", FALSE, REASON.SnapshotMissing, outcome.message);
      set(
        "Reconciling",
        TRUE,
        REASON.SnapshotMissing,
        `waiting for a snapshot to be possible before members are replaced (attempt ${next.failures})`,
      );
      set("Stalled", FALSE, REASON.SnapshotMissing, "");
      break;
    case "rolled-back":
      set("Ready", FALSE, REASON.RolledBack, outcome.message);
      set(
        "Reconciling",
        FALSE,
        REASON.RolledBack,
        "the revision was not applied; a new commit starts a new attempt",
      );
      set("Stalled", TRUE, REASON.RolledBack, outcome.message);
      break;
    case "stalled":
      set("Ready", FALSE, outcome.reason, outcome.message);
      set(
        "Reconciling",
        FALSE,
        outcome.reason,
        outcome.reason === REASON.QuorumLost
          ? "probed every pass; nothing is changed until a quorum of voters is healthy again"
          : "no new change is made until the manifest or the stack changes; a stack mid-operation stays supervised",
      );
      set("Stalled", TRUE, outcome.reason, outcome.message);
      break;
    case "suspended":
      set("Ready", FALSE, REASON.Suspended, "spec.suspend is true; nothing is applied");
      set("Reconciling", FALSE, REASON.Suspended, "suspended");
      set("Stalled", FALSE, REASON.Suspended, "");
      break;
    case "orphaned":
      set("Ready", FALSE, REASON.Orphaned, outcome.message);
      set("Reconciling", FALSE, REASON.Orphaned, "the manifest is gone");
      set("Stalled", FALSE, REASON.Orphaned, "");
      break;
    case "deleting":
      set("Ready", FALSE, REASON.Pruning, outcome.message);
      set("Reconciling", TRUE, REASON.Pruning, outcome.message);
      set("Stalled", FALSE, REASON.Pruning, "");
      break;
    case "transient":
      set("Ready", FALSE, REASON.TransientError, outcome.message);
      set(
        "Reconciling",
        TRUE,
        REASON.TransientError,
        `retrying after a backoff (attempt ${next.failures}): ${outcome.message}`,
      );
      set("Stalled", FALSE, REASON.TransientError, "");
      break;
  }
  if (RETRIED.has(outcome.kind)) {
    const backoff = ctx.backoff ?? { baseMs: 5_000, maxMs: 300_000, random: 0.5 };
    const delay = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (next.failures - 1));
    // Jitter between half and all of the delay, so that retries of many clusters spread out.
    const wait = Math.round(delay * (0.5 + backoff.random / 2));
    next.nextAttemptAt = new Date(now.getTime() + wait).toISOString();
  }

  const gate = "gate" in outcome ? outcome.gate : undefined;
  if (gate) {
    next.gate = formatGateResult(gate);
    set(
      "HealthGatePassed",
      gate.passed ? TRUE : FALSE,
      gate.passed ? REASON.GatePassed : REASON.GateFailed,
      next.gate,
    );
  } else if (!conditions.some((c) => c.type === "HealthGatePassed")) {
    set("HealthGatePassed", "Unknown", REASON.GateUnknown, "not probed yet");
  }
  next.conditions = conditions;
  const tolerance = gate?.summary.faultTolerance;
  return tolerance ? withFaultTolerance(next, tolerance, now) : next;
}

/**
 * The cluster's fault tolerance and its FaultToleranceReduced condition, from a
 * gate or from a rollout's fault-tolerance event (so that it is true mid-rollout).
 */
export function withFaultTolerance(
  status: ClusterStatus,
  t: FaultToleranceNow,
  now: Date,
): ClusterStatus {
  const reduced = t.tolerates < t.resting;
  const message = reduced
    ? `${formatFaultTolerance(t)}: ${t.tolerates <= 0 ? "one more member failure loses quorum" : "fewer failures than at rest"}`
    : formatFaultTolerance(t);
  return {
    ...status,
    faultTolerance: { tolerates: t.tolerates, resting: t.resting },
    conditions: setCondition(
      status.conditions,
      {
        type: "FaultToleranceReduced",
        status: reduced ? TRUE : FALSE,
        reason: reduced ? REASON.FaultToleranceReduced : REASON.FaultToleranceAtRest,
        message,
      },
      now,
    ),
  };
}

/** The database sizes of the members a probe reached, for status and metrics. */
export function memberDatabases(members: readonly MemberDb[], at: Date): MemberDatabases {
  return {
    at: at.toISOString(),
    members: members
      .map((m) => ({
        member: m.name || m.id.toString(16).padStart(16, "0"),
        dbSize: Number(m.dbSize),
        dbSizeInUse: Number(m.dbSizeInUse),
      }))
      .sort((a, b) => a.member.localeCompare(b.member)),
  };
}

/**
 * The BackupReady condition and the backup block, from the snapshot schedule;
 * without spec.backup (`view` undefined) both are removed.
 */
export function withBackup(
  status: ClusterStatus,
  view: { condition: BackupCondition; status: BackupStatus } | undefined,
  now: Date,
): ClusterStatus {
  if (!view) {
    const { backup: _gone, ...rest } = status;
    return { ...rest, conditions: status.conditions.filter((c) => c.type !== "BackupReady") };
  }
  return {
    ...status,
    backup: view.status,
    conditions: setCondition(status.conditions, view.condition, now),
  };
}

export function initialStatus(cluster: string): ClusterStatus {
  return { cluster, conditions: [], failures: 0 };
}

/** Whether a transient failure's backoff still holds the cluster back. */
export function backingOff(status: ClusterStatus | undefined, now: Date): boolean {
  return status?.nextAttemptAt !== undefined && Date.parse(status.nextAttemptAt) > now.getTime();
}

/** What a live stack says about its cluster's status: its state and what its tags record. */
export function stackFacts(stack: {
  stackName: string;
  status: string;
  tags: Record<string, string>;
}): NonNullable<StatusContext["stack"]> {
  const revision = stack.tags[STACK_TAG.revision];
  const sha = stack.tags[STACK_TAG.templateSha256];
  return {
    stackName: stack.stackName,
    status: stack.status,
    ...(revision ? { lastAppliedRevision: revision } : {}),
    ...(sha ? { templateSha256: sha } : {}),
  };
}
