// The stack engine: runs a stack's operation one resource step at a time
// through CloudFormation's documented status machine, writing the events AWS
// writes. Called on every engine pass; all progress lives in the stack record.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-describing-stacks.html#w2ab1c23c15c17c11
import type {
  JsonObject,
  OperationStep,
  ResourceRecord,
  ResourceStatus,
  StackOperation,
  StackRecord,
} from "../state/model.js";
import type { World } from "../world.js";
import { diffPaths } from "./changeSet.js";
import { addEvent, setResourceStatus, setStackStatus } from "./events.js";
import { type IntrinsicContext, resolveProperties, resolveValue } from "./intrinsics.js";
import {
  deleteOperation,
  rollbackCleanupSteps,
  updateCleanupSteps,
  updateRollbackOperation,
} from "./operations.js";
import type { Outcome, ProviderContext } from "./resources/provider.js";
import { providerFor } from "./resources/registry.js";
import { type Template, templateOf } from "./templateCache.js";
import { updateBehaviour } from "./updateBehaviour.js";

export interface Progress {
  progressed: boolean;
  wakeAt?: number;
}

/** Ref and Fn::GetAtt against the stack's live resources. */
export function liveContext(stack: StackRecord): IntrinsicContext {
  const params = new Map(stack.parameters.map((p) => [p.key, p.value]));
  return {
    stackName: stack.stackName,
    stackId: stack.stackId,
    region: stack.region,
    ref(name) {
      const param = params.get(name);
      if (param !== undefined) return param;
      const physicalId = stack.resources[name]?.physicalId;
      if (physicalId === undefined)
        throw new Error(`Ref ${name}: the resource has no physical id yet`);
      return physicalId;
    },
    getAtt(logicalId, attribute) {
      const value = stack.resources[logicalId]?.attributes[attribute];
      if (value === undefined) {
        throw new Error(
          `Template error: resource ${logicalId} does not support attribute type ${attribute} in Fn::GetAtt`,
        );
      }
      return value;
    },
  };
}

export function computeOutputs(stack: StackRecord, template: Template): StackRecord["outputs"] {
  const ctx = liveContext(stack);
  return Object.entries(template.outputs).map(([key, output]) => {
    const value = resolveValue(output.Value, ctx);
    const out: StackRecord["outputs"][number] = {
      key,
      value: Array.isArray(value) ? value.join(",") : String(value ?? ""),
    };
    if (output.Description) out.description = output.Description;
    return out;
  });
}

function currentStep(op: StackOperation): OperationStep | undefined {
  const list = op.stage === "main" ? op.steps : op.cleanupSteps;
  return list.find((s) => s.status !== "done" && s.status !== "failed");
}

/** Advances the stack's operation as far as it can go now. */
export function advanceStack(world: World, stack: StackRecord): Progress {
  const progress: Progress = { progressed: false };
  for (let guard = 0; guard < 100; guard++) {
    const op = stack.operation;
    if (!op || op.halted) return progress;
    if (op.cancelRequested && op.kind === "UPDATE" && op.stage === "main") {
      cancelUpdate(world, stack, op);
      progress.progressed = true;
      continue;
    }
    const step = currentStep(op);
    if (!step) {
      finishStage(world, stack, op);
      progress.progressed = true;
      continue;
    }
    const result = advanceStep(world, stack, op, step);
    if (result === "moved") {
      progress.progressed = true;
      continue;
    }
    if (result.wakeAt !== undefined) progress.wakeAt = result.wakeAt;
    return progress;
  }
  return progress;
}

type StepResult = "moved" | { wakeAt?: number };

function inProgressStatus(op: StackOperation, step: OperationStep): ResourceStatus {
  if (step.verb === "delete") return "DELETE_IN_PROGRESS";
  if (step.verb === "create" && op.kind === "CREATE") return "CREATE_IN_PROGRESS";
  if (step.verb === "create" && op.kind === "UPDATE") return "CREATE_IN_PROGRESS";
  return "UPDATE_IN_PROGRESS";
}

function statusOf(
  op: StackOperation,
  step: OperationStep,
  outcome: "COMPLETE" | "FAILED",
): ResourceStatus {
  const base = inProgressStatus(op, step).replace("_IN_PROGRESS", "");
  return `${base}_${outcome}` as ResourceStatus;
}

function faultPhase(
  op: StackOperation,
  step: OperationStep,
): "create" | "update" | "rollback" | "delete" {
  if (op.kind === "ROLLBACK" || op.kind === "UPDATE_ROLLBACK") return "rollback";
  if (step.verb === "delete") return "delete";
  return step.verb === "create" ? "create" : "update";
}

function advanceStep(
  world: World,
  stack: StackRecord,
  op: StackOperation,
  step: OperationStep,
): StepResult {
  const now = world.now();
  const template =
    step.verb === "create" || step.verb === "update"
      ? templateOf(stack.templateBody ?? "")
      : undefined;
  const live = stack.resources[step.logicalId];
  const type = template?.resources[step.logicalId]?.Type ?? live?.type ?? typeOfDeleted(op, step);

  if (step.status === "pending") {
    if (step.verb === "delete" && !step.physicalId && skipDeletion(op, stack, step)) {
      setResourceStatus(world, stack, step.logicalId, type, "DELETE_SKIPPED");
      step.status = "done";
      return "moved";
    }
    if (step.verb === "create" && !live) {
      stack.resources[step.logicalId] = {
        logicalId: step.logicalId,
        type,
        status: "CREATE_IN_PROGRESS",
        updatedAt: now,
        definition: template!.resources[step.logicalId]!,
        properties: {},
        attributes: {},
      };
    }
    if (isCopy(stack, step)) {
      // An old copy (cleanup of a replacement, or a rolled-back update's new copy): the record stays.
      addEvent(world, stack, {
        logicalId: step.logicalId,
        resourceType: type,
        status: "DELETE_IN_PROGRESS",
        physicalId: step.physicalId!,
      });
    } else {
      setResourceStatus(world, stack, step.logicalId, type, inProgressStatus(op, step));
    }
    step.status = "delaying";
    step.readyAt = now + world.settings.operationDelayMs;
    return "moved";
  }

  if (step.status === "delaying") {
    if (now < (step.readyAt ?? 0)) return { wakeAt: step.readyAt! };
    step.status = "running";
    delete step.readyAt;
    const fault = world.faults.takeResourceFault(
      stack.stackName,
      step.logicalId,
      faultPhase(op, step),
    );
    if (fault) {
      finishStep(world, stack, op, step, type, {
        kind: "failed",
        reason:
          fault.message ??
          `Injected fault: the local cloud failed this ${faultPhase(op, step)} on purpose`,
      });
      return "moved";
    }
    if (step.verb === "create") {
      setResourceStatus(
        world,
        stack,
        step.logicalId,
        type,
        "CREATE_IN_PROGRESS",
        "Resource creation Initiated",
      );
    }
    world.store.touch(stack.stackId);
    return "moved";
  }

  // running
  let outcome: Outcome;
  try {
    outcome = runProvider(world, stack, op, step, type, template);
  } catch (error) {
    outcome = { kind: "failed", reason: (error as Error).message };
  }
  if (outcome.kind === "wait") {
    world.store.touch(stack.stackId);
    return outcome.wakeAt === undefined ? {} : { wakeAt: outcome.wakeAt };
  }
  finishStep(world, stack, op, step, type, outcome);
  return "moved";
}

/** A delete of a physical copy other than the one the resource record holds. */
function isCopy(stack: StackRecord, step: OperationStep): boolean {
  return (
    step.verb === "delete" &&
    step.physicalId !== undefined &&
    step.physicalId !== stack.resources[step.logicalId]?.physicalId
  );
}

function typeOfDeleted(op: StackOperation, step: OperationStep): string {
  const fromList = [...(op.replaced ?? []), ...(op.created ?? [])].find(
    (r) => r.logicalId === step.logicalId && r.physicalId === step.physicalId,
  );
  return (
    fromList?.type ??
    op.previous?.resources[step.logicalId]?.type ??
    "AWS::CloudFormation::Resource"
  );
}

/** DeletionPolicy Retain, or named in DeleteStack's RetainResources. */
function skipDeletion(op: StackOperation, stack: StackRecord, step: OperationStep): boolean {
  const resource = stack.resources[step.logicalId] ?? op.previous?.resources[step.logicalId];
  if (!resource) return false;
  if (op.retain?.includes(step.logicalId)) return true;
  return (
    resource.definition.DeletionPolicy === "Retain" &&
    (op.kind === "DELETE" || op.kind === "UPDATE")
  );
}

function runProvider(
  world: World,
  stack: StackRecord,
  op: StackOperation,
  step: OperationStep,
  type: string,
  template: Template | undefined,
): Outcome {
  const provider = providerFor(type);
  const live = stack.resources[step.logicalId];
  const base = {
    world,
    stack,
    step,
    logicalId: step.logicalId,
    type,
    progress: (reason: string) =>
      setResourceStatus(world, stack, step.logicalId, type, inProgressStatus(op, step), reason),
    created: (physicalId: string) => {
      const record = stack.resources[step.logicalId];
      if (step.replacement) step.physicalId = physicalId;
      else if (record) record.physicalId = physicalId;
      world.store.touch(stack.stackId);
    },
  };
  switch (step.verb) {
    case "create": {
      const definition = template!.resources[step.logicalId]!;
      const properties = resolveProperties(definition.Properties ?? {}, liveContext(stack));
      return provider.create({ ...base, mode: "create", definition, properties });
    }
    case "update": {
      const definition = template!.resources[step.logicalId]!;
      const properties = resolveProperties(definition.Properties ?? {}, liveContext(stack));
      if (step.replacement === undefined)
        step.replacement = replaces(type, live?.properties ?? {}, properties);
      const ctx: ProviderContext = {
        ...base,
        mode: step.replacement ? "create" : "update",
        definition,
        properties,
      };
      if (live) ctx.current = live;
      if (live?.physicalId) ctx.physicalId = live.physicalId;
      if (step.replacement) {
        if (!step.task) {
          base.progress(
            "Requested update requires the creation of a new physical resource; hence creating one.",
          );
        }
        return provider.create(ctx);
      }
      return provider.update(ctx);
    }
    case "revert": {
      const saved = op.previous!.resources[step.logicalId]!;
      const ctx: ProviderContext = {
        ...base,
        mode: "revert",
        definition: saved.definition,
        properties: saved.properties,
      };
      if (live) ctx.current = live;
      if (live?.physicalId) ctx.physicalId = live.physicalId;
      return provider.update(ctx);
    }
    case "restore": {
      const saved = op.previous!.resources[step.logicalId]!;
      return { kind: "done", physicalId: saved.physicalId ?? "", attributes: saved.attributes };
    }
    case "delete": {
      const ctx: ProviderContext = {
        ...base,
        mode: "delete",
        definition: live?.definition ?? { Type: type },
        properties: {},
      };
      const copy = [...(op.replaced ?? []), ...(op.created ?? [])].find(
        (r) => r.logicalId === step.logicalId && r.physicalId === step.physicalId,
      );
      if (copy) {
        ctx.physicalId = copy.physicalId;
        ctx.current = {
          ...(live ?? emptyRecord(step.logicalId, type)),
          physicalId: copy.physicalId,
          properties: copy.properties,
        };
      } else if (live) {
        ctx.current = live;
        if (live.physicalId) ctx.physicalId = live.physicalId;
        else return { kind: "done", physicalId: "" }; // never created: nothing to delete
      }
      return provider.delete(ctx);
    }
  }
}

function emptyRecord(logicalId: string, type: string): ResourceRecord {
  return {
    logicalId,
    type,
    status: "CREATE_COMPLETE",
    updatedAt: 0,
    definition: { Type: type },
    properties: {},
    attributes: {},
  };
}

/** Whether the new properties differ from the live ones in a property that requires replacement. */
function replaces(type: string, before: JsonObject, after: JsonObject): boolean {
  return diffPaths(before, after, []).some(
    (d) =>
      updateBehaviour(
        type,
        d.path.filter((p) => !/^\d+$/.test(p)),
      ) === "replacement",
  );
}

function finishStep(
  world: World,
  stack: StackRecord,
  op: StackOperation,
  step: OperationStep,
  type: string,
  outcome: Exclude<Outcome, { kind: "wait" }>,
): void {
  const now = world.now();
  const resource = stack.resources[step.logicalId];
  if (outcome.kind === "failed") {
    step.status = "failed";
    if (step.verb === "create" || (step.verb === "update" && step.replacement)) {
      if (outcome.physicalId) {
        if (step.replacement) step.physicalId = outcome.physicalId;
        else if (resource) resource.physicalId = outcome.physicalId;
      }
    }
    op.failed.push(step.logicalId);
    if (isCopy(stack, step)) {
      addEvent(world, stack, {
        logicalId: step.logicalId,
        resourceType: type,
        status: "DELETE_FAILED",
        reason: outcome.reason,
        physicalId: step.physicalId!,
      });
    } else {
      setResourceStatus(
        world,
        stack,
        step.logicalId,
        type,
        statusOf(op, step, "FAILED"),
        outcome.reason,
        step.physicalId ?? resource?.physicalId,
      );
    }
    if (op.stage === "main") failOperation(world, stack, op, [step.logicalId]);
    return;
  }
  step.status = "done";
  delete step.task;
  switch (step.verb) {
    case "create":
    case "update":
    case "revert":
    case "restore": {
      const template =
        step.verb === "create" || step.verb === "update"
          ? templateOf(stack.templateBody ?? "")
          : undefined;
      const saved = op.previous?.resources[step.logicalId];
      const definition =
        step.verb === "revert" || step.verb === "restore"
          ? saved!.definition
          : template!.resources[step.logicalId]!;
      const properties =
        step.verb === "revert" || step.verb === "restore"
          ? saved!.properties
          : resolveProperties(definition.Properties ?? {}, liveContext(stack));
      if (step.replacement && resource?.physicalId && resource.physicalId !== outcome.physicalId) {
        step.physicalId = outcome.physicalId;
        op.replaced?.push({
          logicalId: step.logicalId,
          physicalId: resource.physicalId,
          type,
          properties: resource.properties,
        });
      }
      stack.resources[step.logicalId] = {
        logicalId: step.logicalId,
        type,
        physicalId: outcome.physicalId,
        status: statusOf(op, step, "COMPLETE"),
        updatedAt: now,
        definition,
        properties,
        attributes: outcome.attributes ?? resource?.attributes ?? {},
      };
      setResourceStatus(world, stack, step.logicalId, type, statusOf(op, step, "COMPLETE"));
      break;
    }
    case "delete": {
      if (isCopy(stack, step)) {
        addEvent(world, stack, {
          logicalId: step.logicalId,
          resourceType: type,
          status: "DELETE_COMPLETE",
          physicalId: step.physicalId!,
        });
      } else {
        setResourceStatus(world, stack, step.logicalId, type, "DELETE_COMPLETE");
        delete stack.resources[step.logicalId];
      }
      break;
    }
  }
  world.store.touch(stack.stackId);
}

function failureReason(op: StackOperation, logicalIds: readonly string[], verb: string): string {
  const list = `[${[...new Set(logicalIds)].join(", ")}]`;
  return op.kind === "CREATE"
    ? `The following resource(s) failed to create: ${list}. Rollback requested by user.`
    : `The following resource(s) failed to ${verb}: ${list}.`;
}

/** A step of the main stage failed: the operation fails and, where CloudFormation does, rolls back. */
function failOperation(
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
function cancelUpdate(world: World, stack: StackRecord, op: StackOperation): void {
  const step = currentStep(op);
  const cancelled: string[] = [];
  if (step && step.status !== "pending") {
    const live = stack.resources[step.logicalId];
    const type = live?.type ?? "AWS::CloudFormation::Resource";
    try {
      providerFor(type).cancel?.({
        world,
        stack,
        step,
        logicalId: step.logicalId,
        type,
        mode: step.verb === "create" ? "create" : "update",
        definition: live?.definition ?? { Type: type },
        properties: {},
        ...(live ? { current: live } : {}),
        progress: () => {},
        created: () => {},
      });
    } catch (error) {
      world.log({ event: "cancel-error", stack: stack.stackName, error: String(error) });
    }
    step.status = "failed";
    cancelled.push(step.logicalId);
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
function finishStage(world: World, stack: StackRecord, op: StackOperation): void {
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

export type { Template };
