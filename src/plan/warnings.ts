// Warnings for changes an etcd operator must not miss. Messages say what will
// happen to the cluster and what to do about it.
import { displayPath } from "./format/describe.js";
import type { ResourceChange, RolloutImpact, Warning } from "./model.js";
import { GROUP_TYPE } from "./rollout.js";

const SECURITY_GROUP_TYPE = "AWS::EC2::SecurityGroup";

/** Failed members an etcd cluster of this size survives: (n - 1) / 2, rounded down. */
export function faultTolerance(size: number): number {
  return Math.max(0, Math.floor((size - 1) / 2));
}

export function changeWarnings(
  changes: readonly ResourceChange[],
  impact: RolloutImpact | undefined,
): Warning[] {
  const warnings: Warning[] = [];
  for (const change of changes) {
    if (change.action !== "modify" || change.replacement === "never") continue;
    const will = change.replacement === "always" ? "will" : "may";
    const cause = change.causes.length > 0 ? ` (${change.causes.map(displayPath).join(", ")})` : "";
    if (change.type === GROUP_TYPE) {
      warnings.push({
        kind: "group-replacement",
        severity: "danger",
        logicalId: change.logicalId,
        message: `the Auto Scaling Group ${change.logicalId} ${will} be REPLACED${cause}: its new instances form a NEW etcd cluster and the data of the current one is lost. Revert the change unless you mean to rebuild the cluster from a backup.`,
      });
    } else if (change.type === SECURITY_GROUP_TYPE) {
      warnings.push({
        kind: "security-group-replacement",
        severity: "caution",
        logicalId: change.logicalId,
        message: `the security group ${change.logicalId} ${will} be replaced${cause}: every member moves to a new group id through a rolling update, and rules elsewhere that allow the old group id stop matching. Update those rules in the same change.`,
      });
    }
  }
  const before = impact?.sizeBefore;
  const after = impact?.sizeAfter;
  if (
    before !== undefined &&
    after !== undefined &&
    faultTolerance(after) < faultTolerance(before)
  ) {
    warnings.push({
      kind: "fault-tolerance-lowered",
      severity: "caution",
      message: `size ${before} -> ${after} lowers fault tolerance from ${faultTolerance(before)} to ${faultTolerance(after)} failed member(s).`,
    });
  }
  if (after !== undefined && after % 2 === 0 && after !== before) {
    warnings.push({
      kind: "even-size",
      severity: "danger",
      message: `size ${after} is even: it tolerates no more failures than ${after - 1} and needs a larger quorum. Use an odd size.`,
    });
  }
  return warnings;
}

export function stackDeletionWarning(stackName: string): Warning {
  return {
    kind: "stack-deletion",
    severity: "danger",
    message: `the manifest is gone and prune is on: stack ${stackName} and every etcd member in it will be DELETED. Restore the manifest, or set prune: false, to keep it.`,
  };
}

export function orphanedStackWarning(stackName: string): Warning {
  return {
    kind: "orphaned-stack",
    severity: "caution",
    message: `the manifest is gone and prune is off: stack ${stackName} is left running and no longer reconciled. Delete it by hand, or restore the manifest.`,
  };
}
