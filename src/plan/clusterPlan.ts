// Pure builders of a ClusterPlan from plain data. Inputs are copied first and
// never mutated, so a caller may keep using them (a test says so).
import { type ChangeSetChange, resourceChangesFromChangeSet } from "./changeSet.js";
import { etcdVersionStep } from "./etcdVersion.js";
import { membersRoll } from "./liveDetail.js";
import type { ClusterPlan, ClusterStatus, ResourceChange, RolloutEstimate } from "./model.js";
import { rolloutImpact } from "./rollout.js";
import { resourcesOf } from "./template.js";
import { diffTemplates } from "./templateDiff.js";
import type { UpdateBehaviourLookup } from "./updateBehaviour.js";
import { changeWarnings, orphanedStackWarning, stackDeletionWarning } from "./warnings.js";

export interface ClusterIdentity {
  cluster: string;
  stackName: string;
}

export interface ChangeSetPlanInput extends ClusterIdentity {
  /** False when the change set is of type CREATE. */
  stackExists: boolean;
  /**
   * DescribeChangeSet's Changes, every page, described with IncludePropertyValues. Empty when
   * the change set failed with "didn't contain changes" / "No updates are to be performed".
   */
  changes: readonly ChangeSetChange[];
  /** The rendered template the change set was made from. */
  desired: { template: unknown };
  /** The live stack's template (GetTemplate), when read; it gives the size before. */
  live?: { template: unknown };
}

export function planFromChangeSet(input: ChangeSetPlanInput): ClusterPlan {
  const { changes, desired, live } = structuredClone(input);
  const resourceChanges = resourceChangesFromChangeSet(changes, {
    live: live?.template,
    desired: desired.template,
  });
  const status: ClusterStatus = !input.stackExists
    ? "create"
    : resourceChanges.length > 0
      ? "update"
      : "no-change";
  // Until the stack's recorded history is read (withLiveDetail), none is known.
  return assemble(input, status, resourceChanges, desired.template, live?.template, {
    kind: "unknown",
    reason: "no-history",
  });
}

export interface TemplatePlanInput extends ClusterIdentity {
  /** The template at the base revision; undefined when the cluster is new there. */
  before: unknown;
  /** The template rendered at the revision being planned. */
  after: unknown;
  updateBehaviour: UpdateBehaviourLookup;
}

/**
 * --offline: no AWS access, so the template at a base revision stands in for the live stack
 * and the resource specification predicts replacements. Drift is not seen.
 */
export function planFromTemplates(input: TemplatePlanInput): ClusterPlan {
  const before = structuredClone(input.before);
  const after = structuredClone(input.after);
  const changes = diffTemplates(before, after, input.updateBehaviour);
  const status: ClusterStatus =
    before === undefined ? "create" : changes.length > 0 ? "update" : "no-change";
  // Offline there is no stack to read the recorded history from.
  return assemble(input, status, changes, after, before, { kind: "unknown", reason: "offline" });
}

export interface RemovedClusterInput extends ClusterIdentity {
  /** The removed manifest's prune setting (at the base revision, or as last applied). */
  prune: boolean;
  /** The template now applied, when known: its resources are listed as removed. */
  live?: unknown;
}

/** A stack whose manifest is gone: deleted when prune is on, otherwise left (orphaned). */
export function planForRemovedCluster(input: RemovedClusterInput): ClusterPlan {
  const live = structuredClone(input.live);
  const status: ClusterStatus = input.prune ? "delete" : "orphaned";
  const changes: ResourceChange[] = input.prune
    ? [...resourcesOf(live)].map(([logicalId, resource]) => ({
        logicalId,
        type: resource.Type,
        action: "remove",
        replacement: "never",
        causes: [],
        properties: [],
      }))
    : [];
  const impact = rolloutImpact({ status, changes, live });
  const plan: ClusterPlan = {
    cluster: input.cluster,
    stackName: input.stackName,
    status,
    changes,
    warnings: [
      input.prune ? stackDeletionWarning(input.stackName) : orphanedStackWarning(input.stackName),
    ],
  };
  if (impact) plan.impact = impact;
  return plan;
}

/** A suspended cluster: not planned. */
export function skippedClusterPlan(input: ClusterIdentity & { reason: string }): ClusterPlan {
  return { ...identity(input), status: "skipped", error: input.reason, changes: [], warnings: [] };
}

/** A cluster that could not be planned; the others still are. */
export function errorClusterPlan(input: ClusterIdentity & { error: string }): ClusterPlan {
  return { ...identity(input), status: "error", error: input.error, changes: [], warnings: [] };
}

function identity(input: ClusterIdentity): ClusterIdentity {
  return { cluster: input.cluster, stackName: input.stackName };
}

function assemble(
  id: ClusterIdentity,
  status: ClusterStatus,
  changes: ResourceChange[],
  desired: unknown,
  live: unknown,
  expected: RolloutEstimate,
): ClusterPlan {
  const impact = rolloutImpact({ status, changes, desired, live });
  const plan: ClusterPlan = {
    ...identity(id),
    status,
    changes,
    warnings: changeWarnings(changes, impact),
  };
  if (impact) plan.impact = impact;
  if (impact && membersRoll(plan)) impact.expected = expected;
  const version = status === "update" ? etcdVersionStep(live, desired) : undefined;
  if (version) plan.etcdVersion = version;
  return plan;
}
