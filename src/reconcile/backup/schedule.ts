// When `quorate run` takes a scheduled snapshot, pure. The schedule counts
// from the newest good snapshot in the bucket (read once, then kept in
// memory), so a restarted quorate neither takes one at once nor waits a whole
// `every` again; a failure waits a growing backoff instead of every pass.
import type { Snapshot, SnapshotManifest } from "./catalog.js";
import { formatAge } from "./listing.js";

/** The newest good snapshot, as the schedule and the status know it. */
export interface KnownSnapshot {
  key: string;
  revision: string;
  size: number;
  /** Unix ms: when it began; the schedule counts from here. */
  takenAt: number;
  /** Unix ms: when its manifest was written (the metric's last success). */
  completedAt: number;
}

export interface ScheduleState {
  /** s3://bucket/prefix: a changed bucket or prefix starts the state over. */
  where: string;
  /** False until the bucket was read, and again after an apply (whose beforeChange may have taken one). */
  read: boolean;
  newest?: KnownSnapshot;
  /** Consecutive failed attempts; the retry waits longer after each. */
  failures: number;
  lastFailure?: { at: number; message: string };
  /** Unix ms: no new attempt before this. */
  nextAttemptAt?: number;
}

export type ScheduleDecision =
  | { kind: "wait"; why: string }
  /** Read the bucket for the newest good snapshot, then decide again. */
  | { kind: "read" }
  | { kind: "take"; why: string };

/** Backoff of a failed attempt, as for a failed pass: 5 s doubling to 5 min. */
export const RETRY = { baseMs: 5_000, maxMs: 300_000 } as const;

export function initialSchedule(where: string): ScheduleState {
  return { where, read: false, failures: 0 };
}

export interface ScheduleInput {
  everyMs: number;
  now: number;
  /** A rollout or a supervision of the cluster runs, or its stack is mid-operation. */
  busy: boolean;
}

export function decideSnapshot(state: ScheduleState, input: ScheduleInput): ScheduleDecision {
  const { everyMs, now } = input;
  // A snapshot streams from a member; during a rollout members come and go,
  // and the rollout's own beforeChange snapshot is the one that matters.
  if (input.busy) return { kind: "wait", why: "a rollout of the cluster runs" };
  if (state.nextAttemptAt !== undefined && state.nextAttemptAt > now)
    return {
      kind: "wait",
      why: `backing off after ${state.failures} failure(s) until ${new Date(state.nextAttemptAt).toISOString()}`,
    };
  if (!state.read) return { kind: "read" };
  const newest = state.newest;
  if (!newest) return { kind: "take", why: "there is no good snapshot yet" };
  const age = now - newest.takenAt;
  // Dated further ahead than a whole interval: a clock that cannot be trusted.
  if (age < -everyMs) return { kind: "take", why: `the newest good one is dated in the future` };
  if (age >= everyMs) return { kind: "take", why: `the newest good one is ${formatAge(age)} old` };
  return {
    kind: "wait",
    why: `the next is due at ${new Date(newest.takenAt + everyMs).toISOString()}`,
  };
}

/** The newest good snapshot of a catalog (catalog.ts), as the schedule keeps it. */
export function newestKnown(catalog: readonly Snapshot[]): KnownSnapshot | undefined {
  let newest: Snapshot | undefined;
  for (const s of catalog)
    if (s.state === "good" && s.manifest && (!newest || s.at > newest.at)) newest = s;
  return newest?.manifest ? fromManifest(newest.manifest) : undefined;
}

export function fromManifest(m: SnapshotManifest): KnownSnapshot {
  const takenAt = Date.parse(m.takenAt);
  const completedAt = Date.parse(m.completedAt);
  return {
    key: m.object,
    revision: m.revision,
    size: m.size,
    takenAt,
    completedAt: Number.isNaN(completedAt) ? takenAt : completedAt,
  };
}

/** After the bucket was read: the newer of what it holds and what was known. */
export function afterRead(state: ScheduleState, found: KnownSnapshot | undefined): ScheduleState {
  const newest =
    found && (!state.newest || found.takenAt > state.newest.takenAt) ? found : state.newest;
  return { ...state, read: true, ...(newest ? { newest } : {}) };
}

export function afterTaken(state: ScheduleState, taken: KnownSnapshot): ScheduleState {
  return { where: state.where, read: true, newest: taken, failures: 0 };
}

/** A failed read or snapshot: counted, and retried after a jittered, growing backoff. */
export function afterFailure(
  state: ScheduleState,
  message: string,
  now: number,
  random: number,
): ScheduleState {
  const failures = state.failures + 1;
  const delay = Math.min(RETRY.maxMs, RETRY.baseMs * 2 ** (failures - 1));
  // Between half and all of the delay, so that many clusters' retries spread out.
  const wait = Math.round(delay * (0.5 + random / 2));
  return {
    ...state,
    failures,
    lastFailure: { at: now, message },
    nextAttemptAt: now + wait,
  };
}
