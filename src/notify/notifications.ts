// What a team hears about a rollout: started, held, resumed, finished, rolled
// back, needs a person. Pure: the reconciler's status transitions and the
// rollout's events go in, with what was already said; the notifications to send
// come out, one per transition (a gate that blocks pass after pass is said once).
// The senders (webhook.ts, src/github/commitStatus.ts) are the IO edge.
import { conditionOf, REASON } from "../reconcile/conditions.js";
import type { RolloutEvent } from "../reconcile/rollout/events.js";
import type { ClusterStatus, ReconcileOutcome } from "../reconcile/status.js";

export type NotificationKind =
  | "rollout-started"
  | "rollout-held"
  | "rollout-resumed"
  | "rollout-finished"
  | "rollout-rolled-back"
  | "needs-person";

/** A GitHub commit state (https://docs.github.com/en/rest/commits/statuses). */
export type CommitState = "pending" | "success" | "failure";

export interface Notification {
  kind: NotificationKind;
  cluster: string;
  /** The git revision the rollout applies (or, for a stall, the one observed). */
  revision?: string;
  stack?: string;
  region?: string;
  /** The condition reason behind a hold or a stall (HealthGateFailed, StackNeedsOperator...). */
  reason?: string;
  message: string;
  /** ISO 8601. */
  at: string;
  /** What the revision's commit status becomes, when this notification changes it. */
  commitState?: CommitState;
}

/** What was already said about one cluster. */
export interface NotifyMemory {
  /** A rollout was announced as started and has not ended yet. */
  rollout?: { revision?: string };
  /** A hold was announced and not lifted yet. */
  held?: boolean;
}

export type NotifyInput =
  /** A rollout event, with the cluster's status at that moment. */
  | { kind: "event"; event: RolloutEvent; status?: ClusterStatus }
  /** A status the reconciler wrote, the one before it, and the outcome that moved it. */
  | {
      kind: "status";
      previous?: ClusterStatus;
      next: ClusterStatus;
      outcome: ReconcileOutcome;
    };

export interface NotifyResult {
  notifications: Notification[];
  memory: NotifyMemory;
}

/** Stack states that mean a change set's operation is running: a rollout has started. */
const STARTED = new Set(["CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS"]);

export function notificationsFor(memory: NotifyMemory, input: NotifyInput): NotifyResult {
  return input.kind === "event" ? fromEvent(memory, input) : fromStatus(memory, input);
}

function fromEvent(
  memory: NotifyMemory,
  { event, status }: Extract<NotifyInput, { kind: "event" }>,
): NotifyResult {
  const base = { cluster: event.cluster, at: event.at, ...where(status) };
  if (event.type === "stack-status" && event.stackStatus && STARTED.has(event.stackStatus)) {
    // The supervisor says UPDATE_IN_PROGRESS again after apply's executed line: said once.
    if (memory.rollout) return { notifications: [], memory };
    const revision = status ? rolloutRevision(status) : undefined;
    const said: Notification = {
      kind: "rollout-started",
      ...base,
      ...(revision ? { revision } : {}),
      message: event.message,
      commitState: "pending",
    };
    return { notifications: [said], memory: { rollout: revision ? { revision } : {} } };
  }
  if (event.type === "held" && !memory.held) {
    const said: Notification = {
      kind: "rollout-held",
      ...base,
      ...revisionOf(memory, status),
      reason: REASON.GateFailed,
      message: event.message,
    };
    return { notifications: [said], memory: { ...memory, held: true } };
  }
  if (event.type === "resumed" && memory.held) {
    const said: Notification = {
      kind: "rollout-resumed",
      ...base,
      ...revisionOf(memory, status),
      message: event.message,
    };
    return {
      notifications: [said],
      memory: { ...(memory.rollout ? { rollout: memory.rollout } : {}) },
    };
  }
  return { notifications: [], memory };
}

function fromStatus(
  memory: NotifyMemory,
  { previous, next, outcome }: Extract<NotifyInput, { kind: "status" }>,
): NotifyResult {
  const base = {
    cluster: next.cluster,
    at: next.lastReconciledAt ?? new Date(0).toISOString(),
    ...where(next),
    ...revisionOf(memory, next),
  };
  const open = memory.rollout !== undefined;
  switch (outcome.kind) {
    case "gate-blocked":
    case "snapshot-missing": {
      // Nothing was executed: the revision waits, and is tried again after a backoff.
      if (memory.held) return { notifications: [], memory };
      const reason = outcome.kind === "gate-blocked" ? REASON.GateFailed : REASON.SnapshotMissing;
      const said: Notification = {
        kind: "rollout-held",
        ...base,
        reason,
        message: outcome.message,
      };
      return { notifications: [said], memory: { ...memory, held: true } };
    }
    case "applied":
    case "ready": {
      // Ready after a supervision that failed midway: the stack settled in sync all the same.
      if (!open) return { notifications: [], memory: {} };
      const said: Notification = {
        kind: "rollout-finished",
        ...base,
        message: outcome.message,
        commitState: "success",
      };
      return { notifications: [said], memory: {} };
    }
    case "rolled-back": {
      if (!open && stalledFor(previous, REASON.RolledBack))
        return { notifications: [], memory: {} };
      const said: Notification = {
        kind: "rollout-rolled-back",
        ...base,
        reason: REASON.RolledBack,
        message: outcome.message,
        commitState: "failure",
      };
      return { notifications: [said], memory: {} };
    }
    case "stalled": {
      // An invalid manifest is said once, not once a pass; a rollout that stalls always is.
      if (!open && stalledFor(previous, outcome.reason)) return { notifications: [], memory: {} };
      // Outside a rollout (an invalid manifest), the revision that was looked at.
      const revision = open ? base.revision : next.observedRevision;
      const said: Notification = {
        kind: "needs-person",
        ...base,
        ...(revision ? { revision } : {}),
        reason: outcome.reason,
        message: outcome.message,
        ...(open ? { commitState: "failure" as const } : {}),
      };
      return { notifications: [said], memory: {} };
    }
    default:
      // progressing, transient (a rollout may still run: supervised again next pass),
      // suspended, orphaned, deleting: nothing to say.
      return { notifications: [], memory };
  }
}

function stalledFor(status: ClusterStatus | undefined, reason: string): boolean {
  const stalled = status && conditionOf(status.conditions, "Stalled");
  return stalled?.status === "True" && stalled.reason === reason;
}

/**
 * The revision a rollout applies: the one quorate executed (an apply), or the
 * one the stack's tags record (a rollout found under way, a quorate restarted).
 */
export function rolloutRevision(status: ClusterStatus): string | undefined {
  const reconciling = conditionOf(status.conditions, "Reconciling");
  if (reconciling?.reason === REASON.Progressing && status.lastAttemptedRevision)
    return status.lastAttemptedRevision;
  return status.lastAppliedRevision ?? status.observedRevision;
}

/** The open rollout's revision, else the one last tried, else the one observed. */
function revisionOf(
  memory: NotifyMemory,
  status: ClusterStatus | undefined,
): { revision?: string } {
  const revision =
    memory.rollout?.revision ?? status?.lastAttemptedRevision ?? status?.observedRevision;
  return revision ? { revision } : {};
}

function where(status: ClusterStatus | undefined): { stack?: string; region?: string } {
  return {
    ...(status?.stackName ? { stack: status.stackName } : {}),
    ...(status?.region ? { region: status.region } : {}),
  };
}
