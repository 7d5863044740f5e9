// A cluster's change against its live stack, through a change set: what
// `quorate plan` shows and what `quorate apply` executes. A stack whose
// template-hash tag already matches costs one DescribeStacks and no change set.
import { randomBytes } from "node:crypto";
import { isAccessDenied } from "../aws/awsErrors.js";
import type { AwsClients } from "../aws/clients.js";
import {
  type ChangeSetOutcome,
  createChangeSet,
  deleteChangeSet,
  deleteStack,
  describeStack,
  getTemplateBody,
  type LiveStack,
  waitForChangeSet,
} from "../aws/stacks.js";
import { describeError, QuorateError } from "../errors.js";
import type { ClusterSpec } from "../manifest/types.js";
import {
  errorClusterPlan,
  planFromChangeSet,
  skippedClusterPlan,
  withSnapshotRequirement,
  withSpecWarnings,
} from "../plan/index.js";
import type { ClusterPlan } from "../plan/model.js";
import { STACK_TAG } from "../render/contract.js";
import { type RenderedStack, stackTags } from "../render/template.js";
import { prepareRestore } from "./backup/restore.js";
import { restorePinFromTags } from "./backup/restorePin.js";
import { ownershipProblem } from "./ownership.js";
import { refuseGroupReplacement } from "./replacementGuard.js";
import { refuseVersionStep } from "./versionGuard.js";

/** What the live stack's status means for a new change. */
export type StackState =
  | "absent" // no stack: CREATE
  | "review" // REVIEW_IN_PROGRESS: an unexecuted CREATE change set's empty stack
  | "settled" // a *_COMPLETE status: UPDATE
  | "in-progress" // an operation is running: supervise it, never start another
  | "failed-create" // ROLLBACK_COMPLETE / ROLLBACK_FAILED: only deleting it helps
  | "needs-operator" // UPDATE_ROLLBACK_FAILED, DELETE_FAILED...
  | "not-ours"; // another tool's or another quorate's stack: never planned or touched

export function stackState(stack: LiveStack | undefined): StackState {
  if (!stack) return "absent";
  const s = stack.status;
  if (s === "REVIEW_IN_PROGRESS") return "review";
  if (s.endsWith("_IN_PROGRESS")) return "in-progress";
  if (s === "ROLLBACK_COMPLETE" || s === "ROLLBACK_FAILED") return "failed-create";
  if (s.endsWith("_FAILED")) return "needs-operator";
  return "settled";
}

export interface ClusterPreview {
  plan: ClusterPlan;
  live?: LiveStack;
  state: StackState;
  /** The change set, when it has changes and was kept (--keep, or for apply). */
  changeSet?: { id: string; type: "CREATE" | "UPDATE" };
  /** CloudFormation refused the change set (FAILED): the reason, as AWS gave it. */
  changeSetFailed?: string;
  /** spec.restore's snapshot is missing or corrupt: nothing was created. */
  restoreRefused?: string;
  /** The change would replace the Auto Scaling Group outside a restore (replacementGuard.ts): refused. */
  replacementRefused?: string;
}

export interface PreviewOptions {
  revision: string;
  /** This quorate's owner name: recorded on the stack, and a stack with another owner is refused. */
  owner: string;
  /** Keep the change set (for apply, or `plan --keep`); by default it is deleted. */
  keep?: boolean;
  /** The manifest's text, so that a refused etcd version step names its line. */
  manifestText?: string | undefined;
  signal?: AbortSignal;
  pollMs?: number;
}

export function previewCluster(
  aws: AwsClients,
  spec: ClusterSpec,
  rendered: RenderedStack,
  options: PreviewOptions,
): Promise<ClusterPreview> {
  return previewFromLiveStack(aws, spec, rendered, options, true).then((preview) => ({
    ...preview,
    plan: withSnapshotRequirement(withSpecWarnings(preview.plan, spec), spec),
  }));
}

async function previewFromLiveStack(
  aws: AwsClients,
  spec: ClusterSpec,
  rendered: RenderedStack,
  options: PreviewOptions,
  mayLookAgain: boolean,
): Promise<ClusterPreview> {
  const id = { cluster: spec.name, stackName: spec.stackName };
  const live = await describeStack(aws.cloudFormation, spec.stackName);
  const withLive = live ? { live } : {};
  // Before anything else: a stack that is not ours is not even supervised.
  const notOurs = live ? ownershipProblem(live, options.owner) : undefined;
  if (notOurs) {
    return { ...withLive, state: "not-ours", plan: errorClusterPlan({ ...id, error: notOurs }) };
  }
  const state = stackState(live);
  if (state === "in-progress") {
    return {
      ...withLive,
      state,
      plan: skippedClusterPlan({
        ...id,
        reason: `stack is ${live?.status}; quorate supervises it and plans again when it settles`,
      }),
    };
  }
  if (state === "failed-create") {
    return {
      ...withLive,
      state,
      plan: errorClusterPlan({
        ...id,
        error: `stack ${spec.stackName} is ${live?.status} after a failed creation; delete it (aws cloudformation delete-stack --stack-name ${spec.stackName}) and apply again`,
      }),
    };
  }
  if (state === "needs-operator") {
    return {
      ...withLive,
      state,
      plan: errorClusterPlan({
        ...id,
        error: `stack ${spec.stackName} is ${live?.status}${live?.statusReason ? ` (${live.statusReason})` : ""}; a person must continue the rollback or fix the stack, quorate never does that on its own`,
      }),
    };
  }
  const unchanged = (): ClusterPreview => ({
    ...withLive,
    state,
    plan: planFromChangeSet({
      ...id,
      stackExists: true,
      changes: [],
      desired: { template: rendered.template },
    }),
  });
  if (state === "settled" && live?.tags[STACK_TAG.templateSha256] === rendered.templateSha256) {
    return unchanged();
  }

  const type = state === "settled" ? "UPDATE" : "CREATE";
  const restore = await prepareRestore(aws, spec, live?.tags ?? {});
  if (!restore.ok) {
    return {
      ...withLive,
      state,
      restoreRefused: restore.message,
      plan: errorClusterPlan({ ...id, error: restore.message }),
    };
  }
  const changeSetName = `quorate-${rendered.templateSha256.slice(0, 10)}-${randomBytes(3).toString("hex")}`;
  let changeSetId: string;
  try {
    changeSetId = await createChangeSet(aws.cloudFormation, {
      stackName: spec.stackName,
      changeSetName,
      templateBody: rendered.templateBody,
      tags: stackTags(rendered, {
        revision: options.revision,
        owner: options.owner,
        pinned: restore.tags,
      }),
      type,
      description: `quorate ${spec.name} at ${options.revision}`,
    });
  } catch (error) {
    // Another quorate (CI and a box after one merge) may have created or
    // updated the stack since it was read: plan once more from what it is now.
    // A denial is not a race: looking again would be denied again.
    if (mayLookAgain && !isAccessDenied(error) && (await changedSince(aws, spec.stackName, live))) {
      return previewFromLiveStack(aws, spec, rendered, options, false);
    }
    throw error;
  }
  let keep = false;
  let failed = false;
  try {
    let outcome: ChangeSetOutcome;
    try {
      outcome = await waitForChangeSet(aws.cloudFormation, changeSetId, {
        stackName: spec.stackName,
        ...(options.pollMs ? { pollMs: options.pollMs } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      // Executing a change set deletes the stack's others: another quorate that
      // executed while ours was being computed took ours away. Plan once more
      // from the stack as it now is (its rollout is then supervised). A denial
      // is not that race, and our own CREATE change set made the stack under review.
      if (
        mayLookAgain &&
        !isAccessDenied(error) &&
        (await changedSince(aws, spec.stackName, live))
      ) {
        return previewFromLiveStack(aws, spec, rendered, options, false);
      }
      throw error;
    }
    if (outcome.kind === "failed") {
      return {
        ...withLive,
        state,
        changeSetFailed: outcome.reason,
        plan: errorClusterPlan({ ...id, error: `change set failed: ${outcome.reason}` }),
      };
    }
    if (outcome.kind === "no-changes") return unchanged();
    const liveBody =
      type === "UPDATE" ? await getTemplateBody(aws.cloudFormation, spec.stackName) : undefined;
    const planned = planFromChangeSet({
      ...id,
      stackExists: type === "UPDATE",
      changes: outcome.changes,
      desired: { template: rendered.template },
      ...(liveBody ? { live: { template: JSON.parse(liveBody) } } : {}),
    });
    const versioned = refuseVersionStep(
      restore.plan ? { ...planned, restore: restore.plan } : planned,
      spec,
      options.manifestText,
    );
    const plan = refuseGroupReplacement(versioned, spec, restorePinFromTags(live?.tags ?? {}));
    const replacementRefused = plan !== versioned ? plan.error : undefined;
    // A refused plan is never executed: its change set goes.
    keep = options.keep === true && plan.status !== "error";
    return {
      ...withLive,
      state,
      plan,
      ...(replacementRefused ? { replacementRefused } : {}),
      ...(keep ? { changeSet: { id: changeSetId, type } } : {}),
    };
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // The failure that stopped the preview is the one to report, not a cleanup's after it.
    if (!keep)
      await discardChangeSet(aws, spec.stackName, changeSetId, type).catch((cleanup: unknown) => {
        if (!failed) throw cleanup;
      });
  }
}

async function changedSince(
  aws: AwsClients,
  stackName: string,
  seen: LiveStack | undefined,
): Promise<boolean> {
  const now = await describeStack(aws.cloudFormation, stackName).catch(() => seen);
  return now?.status !== seen?.status || now?.changeSetId !== seen?.changeSetId;
}

/**
 * Deletes a preview change set. A CREATE change set leaves an empty stack in
 * REVIEW_IN_PROGRESS behind (Sceptre had to handle the same leftover); that
 * stack holds no resources and was made by this preview, so it goes too,
 * unless the principal may not delete stacks (examples/iam/quorate-plan-only.json
 * does not allow it): an empty stack under review costs nothing and the next
 * apply creates the cluster in it.
 */
export async function discardChangeSet(
  aws: AwsClients,
  stackName: string,
  changeSetId: string,
  type: "CREATE" | "UPDATE",
): Promise<void> {
  try {
    await deleteChangeSet(aws.cloudFormation, changeSetId, stackName);
    if (type === "CREATE") {
      const stack = await describeStack(aws.cloudFormation, stackName);
      if (stack?.status === "REVIEW_IN_PROGRESS") {
        await deleteStack(aws.cloudFormation, stackName).catch((error: unknown) => {
          if (!isAccessDenied(error)) throw error;
        });
      }
    }
  } catch (error) {
    if (error instanceof QuorateError) throw error;
    throw new QuorateError(
      "transient",
      `cleaning up change set ${changeSetId}: ${describeError(error)}`,
    );
  }
}
