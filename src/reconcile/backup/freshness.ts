// Whether the newest good snapshot is recent enough to fall back on before a
// member-replacing change (spec.backup.maxAge), pure. Only a good snapshot
// counts: one cut short or without its object cannot be restored.
import type { Snapshot } from "./catalog.js";
import { formatAge } from "./listing.js";

export type SnapshotFreshness =
  | { fresh: true; snapshot: Snapshot; ageMs: number }
  /** `newest` is the newest good snapshot when there is one, too old (or dated too far ahead). */
  | { fresh: false; newest?: { snapshot: Snapshot; ageMs: number } };

export function snapshotFreshness(
  catalog: readonly Snapshot[],
  now: Date,
  maxAgeMs: number,
): SnapshotFreshness {
  let newest: Snapshot | undefined;
  for (const s of catalog) {
    if (s.state === "good" && (!newest || s.at.getTime() > newest.at.getTime())) newest = s;
  }
  if (!newest) return { fresh: false };
  const ageMs = now.getTime() - newest.at.getTime();
  // A snapshot dated ahead of this clock was taken by a box whose clock runs
  // ahead; within maxAge that is skew, beyond it the date cannot be trusted.
  if (ageMs <= maxAgeMs && ageMs >= -maxAgeMs) return { fresh: true, snapshot: newest, ageMs };
  return { fresh: false, newest: { snapshot: newest, ageMs } };
}

export interface HeldChange {
  /** s3://bucket/prefix */
  where: string;
  maxAge: string;
  /** What failed: reading or writing the bucket, or finding a member to stream from. */
  cause: "bucket" | "member";
  why: string;
  newest?: { ageMs: number };
  /** What to do instead of the cause's general fix (the permission a denial names). */
  fix?: string;
}

/** Why the change is held and the two ways on, for the outcome and the condition. */
export function heldChangeMessage(held: HeldChange): string {
  const newest = held.newest
    ? `the newest good one is ${formatAge(held.newest.ageMs)} old`
    : "there is none";
  const fix =
    held.fix ??
    (held.cause === "bucket"
      ? `fix quorate's access to ${held.where}`
      : "bring a member back to health (a snapshot streams from a healthy voting member)");
  return `not applied, snapshot-before-change failed: no good snapshot under ${held.where} is at most ${held.maxAge} old (${newest}) and none could be taken: ${held.why}. To go on, ${fix}, or set spec.backup.beforeChange: false to accept replacing members without a snapshot`;
}
