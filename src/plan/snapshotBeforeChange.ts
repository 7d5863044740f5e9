// Whether a change needs a snapshot before it is executed, pure. A change that
// replaces members (a rolling update, or a new group) is where a cluster can
// lose its data for good if it goes wrong, so with spec.backup.beforeChange it
// is executed only once a good snapshot no older than maxAge exists (issue #9).
// A create has no data to lose; an update in place replaces no member.
import { durationMs } from "../manifest/duration.js";
import type { BackupSpec, ClusterSpec } from "../manifest/types.js";
import type { ClusterPlan, SnapshotRequirement } from "./model.js";

/** The name of the check that holds a change when the snapshot cannot be had. */
export const SNAPSHOT_CHECK = "snapshot-before-change";

export type SnapshotNeed =
  | { needed: true; requirement: SnapshotRequirement }
  | {
      needed: false;
      why: "no-backup" | "before-change-off" | "not-an-update" | "no-replacement" | "restore";
    };

export function snapshotNeed(
  plan: Pick<ClusterPlan, "status" | "impact" | "restore">,
  backup: BackupSpec | undefined,
): SnapshotNeed {
  if (!backup) return { needed: false, why: "no-backup" };
  // A restore discards the old cluster, which may have no quorum to snapshot.
  if (plan.restore?.applies) return { needed: false, why: "restore" };
  if (!backup.beforeChange) return { needed: false, why: "before-change-off" };
  if (plan.status !== "update") return { needed: false, why: "not-an-update" };
  if (!plan.impact?.instancesReplaced) return { needed: false, why: "no-replacement" };
  return {
    needed: true,
    requirement: {
      check: SNAPSHOT_CHECK,
      bucket: backup.bucket,
      prefix: backup.prefix,
      maxAge: backup.maxAge,
      maxAgeSeconds: durationMs(backup.maxAge) / 1000,
    },
  };
}

/** The plan with its snapshot requirement, when the change needs one; otherwise as it is. */
export function withSnapshotRequirement(plan: ClusterPlan, spec: ClusterSpec): ClusterPlan {
  const need = snapshotNeed(plan, spec.backup);
  return need.needed ? { ...plan, snapshotBeforeChange: need.requirement } : plan;
}
