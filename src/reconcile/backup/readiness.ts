// The BackupReady condition and the `backup` block of a cluster's status,
// pure, from the schedule's state. A cluster without spec.backup has neither:
// a condition that can only ever say "not configured" would be noise on every
// dashboard that counts False conditions.
import { durationMs } from "../../manifest/duration.js";
import type { BackupSpec } from "../../manifest/types.js";
import { type Condition, REASON } from "../conditions.js";
import { formatAge, formatBytes } from "./listing.js";
import type { KnownSnapshot, ScheduleState } from "./schedule.js";

export type BackupCondition = Omit<Condition, "lastTransitionTime">;

/** What /status shows of a cluster's snapshots. */
export interface BackupStatus {
  bucket: string;
  prefix: string;
  every: string;
  newest?: {
    key: string;
    revision: string;
    size: number;
    takenAt: string;
    completedAt: string;
  };
  /** Consecutive failed attempts. */
  failures: number;
  lastFailure?: { at: string; message: string };
  nextAttemptAt?: string;
}

/**
 * How late the newest good snapshot may be before it is overdue: one more
 * `every`, and at least ten minutes, which absorbs the pass interval (a
 * snapshot is taken at a pass, default every PT3M) and the snapshot's own time.
 */
export function overdueMarginMs(everyMs: number): number {
  return Math.max(everyMs, 10 * 60_000);
}

export function backupReady(
  cluster: string,
  backup: Pick<BackupSpec, "bucket" | "prefix" | "every">,
  state: ScheduleState | undefined,
  now: number,
): BackupCondition {
  const where = `s3://${backup.bucket}/${backup.prefix}`;
  const newest = state?.newest;
  const described = newest ? describe(newest, now) : `there is no good snapshot under ${where}`;
  const failure = state?.lastFailure;
  if (state && state.failures > 0 && failure) {
    const retry = state.nextAttemptAt
      ? ` It is tried again after ${new Date(state.nextAttemptAt).toISOString()}.`
      : "";
    return {
      type: "BackupReady",
      status: "False",
      reason: REASON.BackupFailed,
      message: `the scheduled snapshot failed (attempt ${state.failures}): ${failure.message}. ${capitalize(described)}.${retry} Fix quorate's access to ${where} or the members' health; \`quorate backup ${cluster}\` tries at once`,
    };
  }
  if (!state || (!state.read && !newest)) {
    return {
      type: "BackupReady",
      status: "Unknown",
      reason: REASON.BackupUnknown,
      message: `${where} has not been read yet; it is read at the next pass while the cluster is in sync`,
    };
  }
  const everyMs = durationMs(backup.every);
  const margin = overdueMarginMs(everyMs);
  if (!newest || now - newest.takenAt > everyMs + margin) {
    return {
      type: "BackupReady",
      status: "False",
      reason: REASON.BackupOverdue,
      message: `${described}, and spec.backup.every is ${backup.every} (overdue after ${formatAge(everyMs + margin)}): scheduled snapshots are taken only while the cluster is in sync, no rollout runs and \`quorate run\` runs; \`quorate backup ${cluster}\` takes one now`,
    };
  }
  return {
    type: "BackupReady",
    status: "True",
    reason: REASON.BackupSucceeded,
    message: `${described} (every ${backup.every})`,
  };
}

export function backupStatus(
  backup: Pick<BackupSpec, "bucket" | "prefix" | "every">,
  state: ScheduleState | undefined,
): BackupStatus {
  const newest = state?.newest;
  return {
    bucket: backup.bucket,
    prefix: backup.prefix,
    every: backup.every,
    ...(newest
      ? {
          newest: {
            key: newest.key,
            revision: newest.revision,
            size: newest.size,
            takenAt: new Date(newest.takenAt).toISOString(),
            completedAt: new Date(newest.completedAt).toISOString(),
          },
        }
      : {}),
    failures: state?.failures ?? 0,
    ...(state?.lastFailure && state.failures > 0
      ? {
          lastFailure: {
            at: new Date(state.lastFailure.at).toISOString(),
            message: state.lastFailure.message,
          },
        }
      : {}),
    ...(state?.nextAttemptAt !== undefined && state.failures > 0
      ? { nextAttemptAt: new Date(state.nextAttemptAt).toISOString() }
      : {}),
  };
}

function describe(s: KnownSnapshot, now: number): string {
  return `the newest good snapshot ${s.key} is ${formatAge(Math.max(0, now - s.takenAt))} old, revision ${s.revision}, ${formatBytes(s.size)}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
