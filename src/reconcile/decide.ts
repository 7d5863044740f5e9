// The reconciler's decision for one cluster, as a pure function of what git
// wants and what the live stack is. Level-triggered: the same inputs give the
// same action, whatever happened before (docs/architecture.md#the-reconcile-loop).
import type { LoadedManifests } from "../manifest/load.js";
import type { ManifestError } from "../manifest/manifestError.js";
import type { ClusterSpec } from "../manifest/types.js";
import { STACK_TAG } from "../render/contract.js";
import { REASON, type Reason } from "./conditions.js";

export interface DesiredCluster {
  name: string;
  /** Absent when the manifest is invalid. */
  spec?: ClusterSpec;
  errors?: ManifestError[];
  /** sha256 of the rendered template (absent when it could not be rendered). */
  templateSha256?: string;
  /** Why it could not be rendered (an unknown AMI, say). */
  renderError?: string;
}

export interface ObservedStack {
  stackName: string;
  status: string;
  statusReason?: string;
  tags: Record<string, string>;
  terminationProtection: boolean;
}

export type ReconcileAction =
  /** Create or update the stack through a gated, supervised change set. */
  | { kind: "apply"; reason: string }
  /** The stack is mid-operation: supervise it, execute nothing. */
  | { kind: "supervise"; reason: string }
  /** In sync. */
  | { kind: "none"; reason: string }
  /** spec.suspend: do nothing, keep reporting. */
  | { kind: "suspended" }
  /** Needs a person; retrying will not help. */
  | { kind: "stall"; reason: Reason; message: string }
  /** Manifest deleted, stack kept. */
  | { kind: "orphan"; message: string }
  /** Manifest deleted with prune and termination protection off: delete the stack. */
  | { kind: "delete"; message: string };

/** What the reconciler remembers between passes (in memory only; the stack holds the rest). */
export interface DecisionMemory {
  /** Template hash of an update that rolled back: not tried again until the manifest changes. */
  rolledBackSha256?: string;
  /**
   * A template whose apply failed for good (its change set FAILED, or AWS
   * refused a call in a way retrying cannot fix): no new change set is made
   * for it until it changes. Remembered in memory only: a restart tries once more.
   */
  refused?: { sha256: string; reason: Reason; message: string };
}

export function decide(
  observed: ObservedStack | undefined,
  desired: DesiredCluster | undefined,
  memory: DecisionMemory = {},
): ReconcileAction {
  // An operation under way is always supervised, whatever git says now: its
  // members are mid-change, and only quorate looks after them.
  if (
    observed &&
    /_IN_PROGRESS$/.test(observed.status) &&
    observed.status !== "REVIEW_IN_PROGRESS"
  ) {
    if (observed.status === "DELETE_IN_PROGRESS")
      return { kind: "none", reason: "the stack is being deleted" };
    return { kind: "supervise", reason: `stack is ${observed.status}` };
  }
  if (!desired) return removed(observed);
  if (!desired.spec) {
    return {
      kind: "stall",
      reason: REASON.InvalidManifest,
      message: manifestErrorMessage(desired),
    };
  }
  if (desired.spec.suspend) return { kind: "suspended" };
  if (desired.renderError) {
    return {
      kind: "stall",
      reason: REASON.InvalidManifest,
      message: `cannot render: ${desired.renderError}`,
    };
  }
  const failed = memory.refused;
  const refused: ReconcileAction | undefined =
    failed && failed.sha256 === desired.templateSha256
      ? {
          kind: "stall",
          reason: failed.reason,
          message: refusedMessage(desired.name, failed.message),
        }
      : undefined;
  if (
    !observed ||
    observed.status === "REVIEW_IN_PROGRESS" ||
    observed.status === "DELETE_COMPLETE"
  ) {
    return refused ?? { kind: "apply", reason: "no stack yet" };
  }
  if (observed.status === "ROLLBACK_COMPLETE" || observed.status === "ROLLBACK_FAILED") {
    return {
      kind: "stall",
      reason: REASON.FailedCreate,
      message: `stack ${observed.stackName} is ${observed.status} after a failed creation; delete it (aws cloudformation delete-stack --stack-name ${observed.stackName}) and quorate creates it again`,
    };
  }
  if (observed.status.endsWith("_FAILED")) {
    return {
      kind: "stall",
      reason: REASON.StackNeedsOperator,
      message: `stack ${observed.stackName} is ${observed.status}${observed.statusReason ? ` (${observed.statusReason})` : ""}; continue or fix the rollback by hand (quorate never runs ContinueUpdateRollback on its own)`,
    };
  }
  if (observed.tags[STACK_TAG.templateSha256] === desired.templateSha256) {
    return { kind: "none", reason: "the stack's template hash matches" };
  }
  if (refused) return refused;
  if (
    observed.status === "UPDATE_ROLLBACK_COMPLETE" &&
    memory.rolledBackSha256 === desired.templateSha256
  ) {
    return {
      kind: "stall",
      reason: REASON.RolledBack,
      message: `the last update of stack ${observed.stackName} to this manifest rolled back; commit a fix (or run quorate apply --cluster ${desired.name} to try the same again)`,
    };
  }
  return { kind: "apply", reason: "the rendered template differs from the stack's" };
}

/** The first manifest error at file:line:col with its field, and how many more there are. */
export function manifestErrorMessage(desired: Pick<DesiredCluster, "errors">): string {
  const first = desired.errors?.[0];
  const where = first
    ? `${first.file}:${first.line}:${first.column}: ${first.path ? `${first.path}: ` : ""}${first.problem}`
    : "invalid manifest";
  const more =
    (desired.errors?.length ?? 0) > 1 ? ` (and ${(desired.errors?.length ?? 1) - 1} more)` : "";
  return `${where}${more}; fix the manifest in git`;
}

/** True to what happens next: no new change set for this template, and how to get one. */
export function refusedMessage(cluster: string, why: string): string {
  return `${why}. quorate makes no new change set for this template until the manifest changes (or quorate restarts): fix the manifest in git, or, when the cause lies outside git (a limit, a permission), fix it and run quorate apply --cluster ${cluster}`;
}

function removed(observed: ObservedStack | undefined): ReconcileAction {
  if (!observed || observed.status === "DELETE_COMPLETE")
    return { kind: "none", reason: "no manifest and no stack" };
  if (observed.status === "REVIEW_IN_PROGRESS") {
    // Not deleted, even with prune: a plan of a branch may be previewing this
    // very cluster, and its change set would go with the stack.
    return {
      kind: "orphan",
      message: `stack ${observed.stackName} is an empty stack under review, which a preview's change set left behind (a plan-only principal may not delete stacks), and no manifest names it. It holds no resources: delete it by hand, or commit a manifest for it and quorate creates the cluster in it`,
    };
  }
  const prune = observed.tags[STACK_TAG.prune] === "true";
  if (prune && !observed.terminationProtection) {
    return {
      kind: "delete",
      message: `the manifest was deleted with prune: true; deleting stack ${observed.stackName}`,
    };
  }
  const why = prune
    ? "prune is on but termination protection is still on: turn it off in the manifest's last commit before deleting it"
    : "prune is off, so the stack stays; delete it by hand, or restore the manifest with prune: true and terminationProtection: false, apply, then delete it";
  return {
    kind: "orphan",
    message: `the manifest of stack ${observed.stackName} was deleted; ${why}`,
  };
}

/**
 * The first manifest error that names no cluster: a YAML syntax error or an
 * unreadable file, whose documents were never read. Such a file may still
 * declare a cluster whose stack now looks orphaned.
 */
export function unreadManifest(errors: readonly ManifestError[]): ManifestError | undefined {
  return errors.find((e) => e.cluster === undefined);
}

/**
 * While a manifest could not be read, no stack is deleted or called orphaned:
 * its cluster may be declared in that very file. Pure.
 */
export function holdRemoval(
  action: ReconcileAction,
  stackName: string,
  unread: ManifestError | undefined,
): ReconcileAction {
  if (!unread || (action.kind !== "delete" && action.kind !== "orphan")) return action;
  return {
    kind: "stall",
    reason: REASON.InvalidManifest,
    message: `no manifest names this cluster, but ${unread.file}:${unread.line}:${unread.column}: ${unread.problem}; that file may still declare stack ${stackName}, so it is neither deleted nor orphaned until the file reads. Fix it in git`,
  };
}

/** Desired clusters from loaded manifests and their rendered template hashes (or render errors). */
export function desiredClusters(
  loaded: Pick<LoadedManifests, "clusters" | "invalid">,
  rendered: ReadonlyMap<string, { sha: string } | { error: string }>,
): DesiredCluster[] {
  const desired = new Map<string, DesiredCluster>();
  for (const spec of loaded.clusters) {
    const result = rendered.get(spec.name) ?? { error: "not rendered" };
    desired.set(spec.name, {
      name: spec.name,
      spec,
      ...("sha" in result ? { templateSha256: result.sha } : { renderError: result.error }),
    });
  }
  for (const invalid of loaded.invalid) {
    const name = invalid.cluster ?? `${invalid.source.file}#${invalid.source.document}`;
    // A duplicate name makes both manifests invalid; keep every error together.
    const existing = desired.get(name);
    desired.set(name, { name, errors: [...(existing?.errors ?? []), ...invalid.errors] });
  }
  return [...desired.values()];
}
