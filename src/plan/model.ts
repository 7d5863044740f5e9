// The Plan: what applying the rendered stacks would do, as plain data.
// Built by planFromChangeSet (live AWS) or planFromTemplates (--offline), read by
// the text, markdown and json formatters. Every state is a closed union, in the
// manner of aws-cdk's cloudformation-diff (ResourceImpact, ReplacementModes).

/** What happens to one resource. */
export type ChangeAction = "add" | "modify" | "remove";

/**
 * Whether a modified resource is replaced (a new physical resource, then the old one deleted).
 * - always: CloudFormation reports Replacement True and every value that causes it is known.
 * - conditional: Replacement Conditional (RequiresRecreation Always with Dynamic evaluation,
 *   or Conditionally): it depends on a value known only during the update.
 * - unknown-after-apply: Replacement True, but every property that causes it has the after
 *   value {{changeSet:KNOWN_AFTER_APPLY}}; shown as "may be replaced", since CloudFormation
 *   reports this for references that end up unchanged (cloudformation-coverage-roadmap #2113).
 * - never: updated in place.
 * Added and removed resources carry "never": they are created or deleted, not replaced.
 */
export type Replacement = "always" | "conditional" | "unknown-after-apply" | "never";

/** The part of a resource definition a change is in (CloudFormation's change Scope). */
export type ChangeAttribute =
  | "Properties"
  | "Metadata"
  | "CreationPolicy"
  | "UpdatePolicy"
  | "DeletionPolicy"
  | "UpdateReplacePolicy"
  | "Tags";

/** One changed value inside a resource. */
export interface PropertyDiff {
  attribute: ChangeAttribute;
  /** Slash path as CloudFormation writes it, e.g. /Properties/LaunchTemplateData/ImageId. */
  path: string;
  action: ChangeAction;
  /** Value before; undefined when added or unknown. */
  before?: unknown;
  /** Value after; undefined when removed or not known before the update runs. */
  after?: unknown;
  /** False when the after value is {{changeSet:KNOWN_AFTER_APPLY}} (or a reference offline). */
  afterKnown: boolean;
  replacement: Replacement;
  /** What caused the change when it is not a direct edit, e.g. EtcdLaunchTemplate.LatestVersionNumber. */
  causedBy?: string;
}

export interface ResourceChange {
  logicalId: string;
  type: string;
  physicalId?: string;
  action: ChangeAction;
  replacement: Replacement;
  /** Paths of the properties that cause the replacement (empty when replacement is never). */
  causes: string[];
  properties: PropertyDiff[];
}

/**
 * Which instance goes first in a rolling update. With MinInstancesInService <= size - MaxBatchSize
 * CloudFormation terminates and then launches (the order etcd wants: remove a member, add one);
 * otherwise it launches first, temporarily raising the group above its size.
 */
export type RolloutOrder = "terminate-then-launch" | "launch-then-terminate";

/** What the change does to the etcd members. */
export interface RolloutImpact {
  /** Existing instances are terminated and replaced (a rolling update, or a new group). */
  instancesReplaced: boolean;
  /** How many existing members are replaced (0 when none). */
  members: number;
  /** Group size before (undefined for a new stack) and after (undefined when deleted). */
  sizeBefore?: number;
  sizeAfter?: number;
  /** The group itself is created or replaced: its instances form a NEW etcd cluster. */
  newGroup: boolean;
  order: RolloutOrder;
  minInService: number;
  batchSize: number;
  batches: number;
  /** PauseTime with WaitOnResourceSignals: how long each batch may take to signal. */
  signalTimeoutSeconds: number;
  /** The terminating lifecycle hook's HeartbeatTimeout, which can hold each termination. */
  hookTimeoutSeconds: number;
  /** batches x (signal timeout + terminating hook timeout); 0 when nothing rolls. */
  worstCaseSeconds: number;
  /** The changed properties that replace the instances (empty when none are replaced). */
  reasons: RolloutReason[];
  /**
   * Member failures the cluster survives at rest, and at the worst moment of the
   * rollout (lower than at rest only when terminating first); present when members roll.
   */
  faultTolerance?: { resting: number; duringRollout: number };
  /**
   * How long the members' replacement is expected to take, from this cluster's own
   * measured rollouts (src/plan/rolloutHistory.ts); present when members roll.
   */
  expected?: RolloutEstimate;
}

/**
 * - measured: the median member duration of the recent recorded rollouts, times the members;
 * - unknown: no rollout of this cluster was recorded yet (no-history), or the plan could not
 *   read the record (offline: no AWS access).
 */
export type RolloutEstimate =
  | {
      kind: "measured";
      expectedSeconds: number;
      perMemberSeconds: number;
      /** Recorded rollouts the median was taken over, and their member durations. */
      rollouts: number;
      samples: number;
    }
  | { kind: "unknown"; reason: "no-history" | "offline" };

/** One current etcd member of a cluster that will roll, as read when the plan was made. */
export interface LiveMember {
  /** The group's instance that runs it; absent when none does (a member whose instance is gone). */
  instanceId?: string;
  /** etcd's member name (quorate names a member after its instance); empty until it starts. */
  name: string;
  /** The member id as 16 hex digits, as etcdctl prints it. */
  id: string;
  leader: boolean;
  learner: boolean;
  /** Whether its /health answered healthy; absent when it did not answer. */
  healthy?: boolean;
  /** The etcd version it reports. */
  version?: string;
}

/** The members of a cluster that will roll; `error` when they could not be read. */
export interface LiveMembers {
  members: LiveMember[];
  error?: string;
}

/** A property whose change replaces instances, e.g. EtcdLaunchTemplate /Properties/LaunchTemplateData/ImageId. */
export interface RolloutReason {
  logicalId: string;
  path: string;
}

export type WarningKind =
  | "group-replacement"
  | "security-group-replacement"
  | "fault-tolerance-lowered"
  | "even-size"
  | "stack-deletion"
  | "orphaned-stack"
  | "tls-off"
  | "egress-blocked"
  | "terminate-first";

export type WarningSeverity = "danger" | "caution";

export interface Warning {
  kind: WarningKind;
  severity: WarningSeverity;
  message: string;
  /** The resource the warning is about, when there is one. */
  logicalId?: string;
}

/**
 * - create: no stack yet; update: the stack changes; no-change: nothing to do;
 * - delete: the manifest is gone and prune is on, so the stack is deleted;
 * - orphaned: the manifest is gone and prune is off, so the stack is left alone;
 * - skipped: suspended, not planned; error: planning failed (see error).
 */
export type ClusterStatus =
  | "create"
  | "update"
  | "no-change"
  | "delete"
  | "orphaned"
  | "skipped"
  | "error";

/**
 * The etcd version the change moves the members to (etcd's version rules in
 * src/etcd/versionRules.ts). A refused step makes the cluster's plan an error.
 */
export type EtcdVersionStep =
  | {
      from: string;
      to: string;
      allowed: true;
      step: "same" | "patch-upgrade" | "patch-downgrade" | "minor-upgrade";
      message: string;
    }
  | {
      from: string;
      to: string;
      allowed: false;
      rule: "minor-skip" | "downgrade" | "zombie-members" | "mixed-cluster" | "unknown-version";
      message: string;
      hint: string;
    };

export interface ClusterPlan {
  cluster: string;
  stackName: string;
  status: ClusterStatus;
  /** What went wrong, for status error; why, for status skipped. */
  error?: string;
  changes: ResourceChange[];
  /** Undefined when there is no group to speak of (error, skipped, no-change with no template). */
  impact?: RolloutImpact;
  warnings: Warning[];
  /** Present when the change moves the members to another etcd version. */
  etcdVersion?: EtcdVersionStep;
  /** The current members, for a cluster whose members roll (live plans only). */
  currentMembers?: LiveMembers;
  /** Present when members are replaced and spec.backup.beforeChange asks for a snapshot first. */
  snapshotBeforeChange?: SnapshotRequirement;
  /** Present when the manifest declares a restore (spec.restore); see RestorePlan. */
  restore?: RestorePlan;
}

/**
 * A restore (spec.restore). A new one (`applies`) renders a new group whose
 * members start one new cluster from the snapshot, without the health gate or
 * a snapshot first; one already applied is kept as it is, pinned in the
 * stack's tags. Offline plans cannot read the bucket: the snapshot is then
 * only what the manifest names.
 */
export interface RestorePlan {
  id: string;
  /** True when this change performs the restore; false when the stack already has it. */
  applies: boolean;
  bucket: string;
  /** The S3 key of the snapshot's data (the pinned one), or the manifest's word for it offline. */
  snapshot: string;
  /** The etcd revision the snapshot holds: every write after it is lost. */
  revision?: string;
  takenAt?: string;
  ageSeconds?: number;
  /** The member it was taken from. */
  member?: string;
  sha256?: string;
  size?: number;
}

/**
 * Before the change is executed, a good snapshot under s3://bucket/prefix no
 * older than maxAge is reused, or one is taken; if neither can be, the change
 * is held (check snapshot-before-change) and nothing is executed.
 */
export interface SnapshotRequirement {
  check: "snapshot-before-change";
  bucket: string;
  prefix: string;
  /** As the manifest says it (ISO 8601), and in seconds. */
  maxAge: string;
  maxAgeSeconds: number;
}

/** Where the plan's changes came from. */
export type PlanSource = "change-set" | "offline";

export interface Plan {
  source: PlanSource;
  /** The git revision planned (the head of the pull request). */
  revision?: string;
  /** With --offline: the base revision the templates were compared with. */
  baseRevision?: string;
  /** ISO 8601 time; left out of golden tests. */
  generatedAt?: string;
  clusters: ClusterPlan[];
}

/** The after value CloudFormation writes when a value is known only during the update. */
export const KNOWN_AFTER_APPLY = "{{changeSet:KNOWN_AFTER_APPLY}}";

/** Statuses that mean "applying would do something". */
export function hasChanges(cluster: ClusterPlan): boolean {
  return cluster.status === "create" || cluster.status === "update" || cluster.status === "delete";
}

export interface PlanSummary {
  /** Clusters whose instances will be replaced (rolled, or built anew by a replaced group). */
  toRoll: number;
  /** Other clusters with changes (created, updated in place, deleted). */
  changed: number;
  unchanged: number;
  orphaned: number;
  skipped: number;
  errors: number;
}

export function summarize(plan: Plan): PlanSummary {
  const summary: PlanSummary = {
    toRoll: 0,
    changed: 0,
    unchanged: 0,
    orphaned: 0,
    skipped: 0,
    errors: 0,
  };
  for (const cluster of plan.clusters) {
    if (cluster.status === "error") summary.errors++;
    else if (cluster.status === "skipped") summary.skipped++;
    else if (cluster.status === "orphaned") summary.orphaned++;
    else if (cluster.status === "no-change") summary.unchanged++;
    else if (cluster.impact?.instancesReplaced && cluster.status === "update") summary.toRoll++;
    else summary.changed++;
  }
  return summary;
}

/** terraform plan -detailed-exitcode: 0 no changes, 2 changes, 1 when any cluster failed to plan. */
export function planOutcome(plan: Plan): "error" | "changes" | "no-changes" {
  if (plan.clusters.some((c) => c.status === "error")) return "error";
  return plan.clusters.some(hasChanges) ? "changes" : "no-changes";
}
