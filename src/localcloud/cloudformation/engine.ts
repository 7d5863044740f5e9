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
import type { Progress, World } from "../world.js";
import { diffPaths } from "./changeSet.js";
import { addEvent, setResourceStatus } from "./events.js";
import { resolveProperties } from "./intrinsics.js";
import { liveContext } from "./liveContext.js";
import { currentStep } from "./operations.js";
import { provisioningGate } from "./provisioningGate.js";
import type { Outcome, ProviderContext } from "./resources/provider.js";
import { providerFor, stopStep } from "./resources/registry.js";
import { type Template, templateOf } from "./templateCache.js";
import { cancelUpdate, failOperation, finishStage } from "./transitions.js";
import { updateBehaviour } from "./updateBehaviour.js";

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

function inProgressStatus(step: OperationStep): ResourceStatus {
  if (step.verb === "delete") return "DELETE_IN_PROGRESS";
  return step.verb === "create" ? "CREATE_IN_PROGRESS" : "UPDATE_IN_PROGRESS";
}

function statusOf(step: OperationStep, outcome: "COMPLETE" | "FAILED"): ResourceStatus {
  const base = inProgressStatus(step).replace("_IN_PROGRESS", "");
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
      setResourceStatus(world, stack, step.logicalId, type, inProgressStatus(step));
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
    outcome =
      provisioningGate(world, stack, op, step, type, template) ??
      runProvider(world, stack, op, step, type, template);
  } catch (error) {
    outcome = { kind: "failed", reason: (error as Error).message };
    stopStep(world, stack, step);
  }
  if (outcome.kind === "wait") {
    // A provider that changed its task marked the stack itself: waiting writes nothing.
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
      setResourceStatus(world, stack, step.logicalId, type, inProgressStatus(step), reason),
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
        statusOf(step, "FAILED"),
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
        status: statusOf(step, "COMPLETE"),
        updatedAt: now,
        definition,
        properties,
        attributes: outcome.attributes ?? resource?.attributes ?? {},
      };
      setResourceStatus(world, stack, step.logicalId, type, statusOf(step, "COMPLETE"));
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

export type { Template };
