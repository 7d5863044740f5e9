// Where a stack operation goes when its main stage fails, is cancelled or
// finishes: rollbacks, cleanup stages and final statuses, with the reasons
// CloudFormation writes.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-describing-stacks.html
import type { StackOperation, StackRecord } from "../state/model.js";
import type { World } from "../world.js";
import { setResourceStatus, setStackStatus } from "./events.js";
import { computeOutputs } from "./liveContext.js";
import {
  currentStep,
  deleteOperation,
  rollbackCleanupSteps,
  updateCleanupSteps,
  updateRollbackOperation,
} from "./operations.js";
import { stopStep } from "./resources/registry.js";
import { templateOf } from "./templateCache.js";

function failureReason(op: StackOperation, logicalIds: readonly string[], verb: string): string {
  const list = `[${[...new Set(logicalIds)].join(", ")}]`;
  return op.kind === "CREATE"
    ? `The following resource(s) failed to create: ${list}. Rollback requested by user.`
    : `The following resource(s) failed to ${verb}: ${list}.`;
}

/** A step of the main stage failed: the operation fails and, where CloudFormation does, rolls back. */
export function failOperation(
  world: World,
  stack: StackRecord,
  op: StackOperation,
  failedIds: string[],
): void {
  const now = world.now();
  switch (op.kind) {
    case "CREATE": {
      if (stack.disableRollback) {
        setStackStatus(
          world,
          stack,
          "CREATE_FAILED",
          failureReason(op, failedIds, "create").replace(" Rollback requested by user.", ""),
        );
        finishChangeSet(stack, op, false);
        delete stack.operation;
        return;
      }
      setStackStatus(world, stack, "ROLLBACK_IN_PROGRESS", failureReason(op, failedIds, "create"));
      const rollback = deleteOperation("ROLLBACK", stack, now);
      if (op.changeSetId) rollback.changeSetId = op.changeSetId;
      // Its deletes are made as whoever started the create, as on AWS without a service role.
      if (op.principal) rollback.principal = op.principal;
      stack.operation = rollback;
      return;
    }
    case "UPDATE": {
      const step = op.steps.find((s) => s.logicalId === failedIds[0]);
      const verb = step?.verb === "create" ? "create" : "update";
      setStackStatus(
        world,
        stack,
        "UPDATE_ROLLBACK_IN_PROGRESS",
        failureReason(op, failedIds, verb),
      );
      stack.operation = updateRollbackOperation(stack, op, now);
      return;
    }
    case "UPDATE_ROLLBACK":
      op.halted = true;
      setStackStatus(
        world,
        stack,
        "UPDATE_ROLLBACK_FAILED",
        failureReason(op, failedIds, "update"),
      );
      finishChangeSet(stack, op, false);
      return;
    case "ROLLBACK":
      op.halted = true;
      setStackStatus(world, stack, "ROLLBACK_FAILED", failureReason(op, failedIds, "delete"));
      finishChangeSet(stack, op, false);
      return;
    case "DELETE":
      setStackStatus(world, stack, "DELETE_FAILED", `${failureReason(op, failedIds, "delete")} `);
      delete stack.operation;
      return;
  }
}

/** CancelUpdateStack: the running step stops, and the update rolls back. */
export function cancelUpdate(world: World, stack: StackRecord, op: StackOperation): void {
  const step = currentStep(op);
  if (step && step.status !== "pending") {
    const type = stack.resources[step.logicalId]?.type ?? "AWS::CloudFormation::Resource";
    stopStep(world, stack, step);
    step.status = "failed";
    setResourceStatus(
      world,
      stack,
      step.logicalId,
      type,
      step.verb === "create" ? "CREATE_FAILED" : "UPDATE_FAILED",
      step.verb === "create" ? "Resource creation cancelled" : "Resource update cancelled",
    );
  }
  op.cancelRequested = false;
  setStackStatus(world, stack, "UPDATE_ROLLBACK_IN_PROGRESS", "Stack update cancelled");
  stack.operation = updateRollbackOperation(stack, op, world.now());
}

/** The main stage is done: on to the cleanup stage, or the final status. */
export function finishStage(world: World, stack: StackRecord, op: StackOperation): void {
  const now = world.now();
  switch (op.kind) {
    case "CREATE": {
      stack.outputs = computeOutputs(stack, templateOf(stack.templateBody ?? ""));
      setStackStatus(world, stack, "CREATE_COMPLETE");
      finishChangeSet(stack, op, true);
      delete stack.operation;
      return;
    }
    case "UPDATE":
      if (op.stage === "main") {
        const template = templateOf(stack.templateBody ?? "");
        stack.outputs = computeOutputs(stack, template);
        op.stage = "cleanup";
        op.cleanupSteps = updateCleanupSteps(op, template);
        setStackStatus(world, stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS");
        return;
      }
      stack.updatedAt = now;
      setStackStatus(world, stack, "UPDATE_COMPLETE");
      finishChangeSet(stack, op, true);
      delete stack.operation;
      return;
    case "UPDATE_ROLLBACK":
      if (op.stage === "main") {
        restoreSnapshot(stack, op);
        op.stage = "cleanup";
        op.cleanupSteps = rollbackCleanupSteps(op);
        setStackStatus(world, stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS");
        return;
      }
      for (const created of op.created ?? []) {
        if (!(created.logicalId in (op.previous?.resources ?? {})))
          delete stack.resources[created.logicalId];
      }
      stack.updatedAt = now;
      setStackStatus(world, stack, "UPDATE_ROLLBACK_COMPLETE");
      finishChangeSet(stack, op, false);
      delete stack.operation;
      return;
    case "ROLLBACK":
      setStackStatus(world, stack, "ROLLBACK_COMPLETE");
      finishChangeSet(stack, op, false);
      delete stack.operation;
      return;
    case "DELETE":
      stack.deletedAt = now;
      stack.resources = {};
      stack.changeSets = [];
      setStackStatus(world, stack, "DELETE_COMPLETE");
      delete stack.operation;
      return;
  }
}

/** After a rollback: the template, tags, parameters and outputs from before the update. */
function restoreSnapshot(stack: StackRecord, op: StackOperation): void {
  const previous = op.previous;
  if (!previous) return;
  if (previous.templateBody === undefined) delete stack.templateBody;
  else stack.templateBody = previous.templateBody;
  if (previous.description === undefined) delete stack.description;
  else stack.description = previous.description;
  stack.parameters = previous.parameters;
  stack.tags = previous.tags;
  stack.outputs = previous.outputs;
}

function finishChangeSet(stack: StackRecord, op: StackOperation, succeeded: boolean): void {
  const changeSet = stack.changeSets.find((c) => c.id === op.changeSetId);
  if (changeSet) changeSet.executionStatus = succeeded ? "EXECUTE_COMPLETE" : "EXECUTE_FAILED";
}
