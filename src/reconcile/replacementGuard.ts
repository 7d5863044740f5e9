// A replaced Auto Scaling Group starts a new, empty etcd cluster: its new
// instances cannot join the old one, and the old one's data goes with its
// group. quorate executes that only as a restore (a new spec.restore id),
// where the new cluster starts from a snapshot. Anything else that would
// replace the group (an edit of a stack by hand, spec.restore removed after a
// restore, which renames the group back) is refused before execution.
import type { ClusterSpec } from "../manifest/types.js";
import { errorClusterPlan } from "../plan/index.js";
import type { ClusterPlan } from "../plan/model.js";
import type { RestorePin } from "./backup/restorePin.js";

/** The plan, or an error plan saying why its group replacement is not executed. */
export function refuseGroupReplacement(
  plan: ClusterPlan,
  spec: ClusterSpec,
  livePin: RestorePin | undefined,
): ClusterPlan {
  const replaced = plan.warnings.find((w) => w.kind === "group-replacement");
  if (!replaced || plan.restore?.applies) return plan;
  return {
    ...errorClusterPlan({
      cluster: spec.name,
      stackName: spec.stackName,
      error: groupReplacementRefusal(spec, livePin, replaced.message),
    }),
    warnings: [replaced],
  };
}

export function groupReplacementRefusal(
  spec: ClusterSpec,
  livePin: RestorePin | undefined,
  warning: string,
): string {
  const where = `${spec.source.file}:${spec.source.line}`;
  if (livePin && !spec.restore) {
    return `not applied: stack ${spec.stackName} was restored (restore ${livePin.id}, from ${livePin.snapshot}), and without spec.restore in ${where} its group is renamed back, which replaces it with a new, EMPTY etcd cluster. Put back spec.restore with id ${livePin.id} (keep the block after a restore) and nothing changes; a new id restores again.`;
  }
  return `not applied: ${warning} quorate replaces a group only for a restore: revert the change in ${where}, or set spec.restore with a new id to rebuild the cluster from a snapshot.`;
}
