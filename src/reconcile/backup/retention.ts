// Which snapshots retention deletes, pure. It never deletes the newest good
// snapshot, whatever the policy says: a cluster always keeps one way back.
import type { Snapshot } from "./catalog.js";

export interface RetentionPolicy {
  keepLast: number;
  /** Good snapshots older than this go, except the newest good one. */
  deleteAfterMs?: number;
  /** Snapshots that are not good are left this long (one may still be being written). */
  brokenGraceMs: number;
}

/** One hour: no upload of quorate's takes that long between its object and its manifest. */
export const BROKEN_GRACE_MS = 60 * 60 * 1000;

export interface RetentionVerdict {
  snapshot: Snapshot;
  why: string;
}

/** The snapshots to delete, oldest first, each with the reason; everything else stays. */
export function retentionPlan(
  catalog: readonly Snapshot[],
  policy: RetentionPolicy,
  now: Date,
): RetentionVerdict[] {
  const ageOf = (s: Snapshot) => now.getTime() - s.at.getTime();
  const good = catalog.filter((s) => s.state === "good").sort((a, b) => b.id.localeCompare(a.id));
  const remove: RetentionVerdict[] = [];
  good.forEach((snapshot, index) => {
    if (index === 0) return; // the newest good one stays, always
    if (index >= policy.keepLast) {
      remove.push({ snapshot, why: `beyond the newest ${policy.keepLast} good snapshot(s)` });
    } else if (policy.deleteAfterMs !== undefined && ageOf(snapshot) > policy.deleteAfterMs) {
      remove.push({ snapshot, why: `older than retention.deleteAfter` });
    }
  });
  for (const snapshot of catalog) {
    if (snapshot.state === "good" || ageOf(snapshot) <= policy.brokenGraceMs) continue;
    remove.push({ snapshot, why: `${snapshot.state}: ${snapshot.problem ?? ""}`.trim() });
  }
  return remove.sort((a, b) => a.snapshot.id.localeCompare(b.snapshot.id));
}
