// What the mutating CloudFormation calls do to the state: change sets,
// executing them, deleting stacks, cancelling an update, continuing a rollback.
// Errors carry CloudFormation's codes and wordings.
import type {
  CancelUpdateStackInput,
  ContinueUpdateRollbackInput,
  CreateChangeSetInput,
  DeleteChangeSetInput,
  DeleteStackInput,
  ExecuteChangeSetInput,
} from "@aws-sdk/client-cloudformation";
import { changeSetArn, stackArn } from "../ids.js";
import { AwsError, validationError } from "../protocol/awsError.js";
import type { ChangeSetRecord, StackRecord, Tag } from "../state/model.js";
import type { Progress, World } from "../world.js";
import { computeChanges, type LiveResource, sameTags } from "./changeSet.js";
import { setResourceStatus, setStackStatus } from "./events.js";
import { createOperation, deleteOperation, updateOperation } from "./operations.js";
import { findStack, isInProgress, requireLiveStack } from "./stacks.js";
import { checkCapabilities, parameterValues } from "./template.js";
import { templateOf } from "./templateCache.js";
import { updateBehaviour } from "./updateBehaviour.js";

export const NO_CHANGES =
  "The submitted information didn't contain changes. Submit different information to create a change set.";

const UPDATABLE = new Set(["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"]);

const CHANGE_SET_NAME = /^[a-zA-Z][-a-zA-Z0-9]*$/;

function cannotUpdate(stack: StackRecord): AwsError {
  return validationError(
    `Stack:${stack.stackId} is in ${stack.status} state and can not be updated.`,
  );
}

function tagsOf(input: { Tags?: { Key?: string; Value?: string }[] }): Tag[] | undefined {
  return input.Tags?.map((t) => ({ Key: t.Key ?? "", Value: t.Value ?? "" }));
}

function newStack(world: World, name: string, region: string): StackRecord {
  return {
    stackId: stackArn(world.accountId, region, name),
    stackName: name,
    region,
    status: "REVIEW_IN_PROGRESS",
    createdAt: world.now(),
    parameters: [],
    tags: [],
    capabilities: [],
    terminationProtection: false,
    disableRollback: false,
    resources: {},
    outputs: [],
    events: [],
    changeSets: [],
  };
}

export function createChangeSet(
  world: World,
  input: CreateChangeSetInput,
  region: string,
): { Id: string; StackId: string } {
  const name = input.ChangeSetName ?? "";
  if (!CHANGE_SET_NAME.test(name) || name.length > 128) {
    throw validationError(
      `1 validation error detected: Value '${name}' at 'changeSetName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*`,
    );
  }
  const stackName = input.StackName ?? "";
  if (!stackName) throw validationError("StackName must be specified");
  const type = input.ChangeSetType ?? "UPDATE";
  if (type !== "CREATE" && type !== "UPDATE") {
    throw validationError(
      `ChangeSetType ${type} is not supported by the quorate local cloud (CREATE and UPDATE are)`,
    );
  }
  if (input.TemplateURL) {
    throw validationError(
      "TemplateURL is not supported by the quorate local cloud: pass the template as TemplateBody",
    );
  }
  let existing = findStack(world, stackName, region);
  if (type === "CREATE" && existing && existing.status !== "REVIEW_IN_PROGRESS") {
    throw validationError(
      `Stack [${stackName}] already exists and cannot be created again with the changeSet [${name}].`,
    );
  }
  if (type === "UPDATE") {
    if (!existing) throw validationError(`Stack [${stackName}] does not exist`);
    if (!UPDATABLE.has(existing.status)) throw cannotUpdate(existing);
  }
  const prior = existing?.changeSets.find((c) => c.name === name && !c.executed);
  if (prior && existing && input.ClientToken && prior.clientToken === input.ClientToken) {
    return { Id: prior.id, StackId: existing.stackId }; // the same request again
  }
  if (prior) throw new AwsError("AlreadyExistsException", `ChangeSet [${name}] already exists`);

  const body = input.UsePreviousTemplate ? existing?.templateBody : input.TemplateBody;
  if (!body) throw validationError("Either Template URL or Template Body must be specified.");
  const template = templateOf(body);
  const previousParams = new Map((existing?.parameters ?? []).map((p) => [p.key, p.value]));
  const given = (input.Parameters ?? []).map((p) => ({
    key: p.ParameterKey ?? "",
    value: p.UsePreviousValue
      ? (previousParams.get(p.ParameterKey ?? "") ?? "")
      : (p.ParameterValue ?? ""),
  }));
  const parameters = parameterValues(template, given);
  const capabilities = (input.Capabilities ?? []) as string[];
  checkCapabilities(template, capabilities);

  if (!existing) {
    existing = newStack(world, stackName, region);
    // A stack under review already has the change set's tags (what aws:ResourceTag conditions on ExecuteChangeSet read).
    existing.tags = tagsOf(input) ?? [];
    world.store.putStack(existing);
    setStackStatus(world, existing, "REVIEW_IN_PROGRESS", "User Initiated");
  }
  const stack = existing;
  const tags = tagsOf(input) ?? (type === "UPDATE" ? stack.tags : []);
  const live: Record<string, LiveResource> = {};
  if (type === "UPDATE") {
    for (const [id, r] of Object.entries(stack.resources)) {
      live[id] = {
        type: r.type,
        definition: r.definition,
        properties: r.properties,
        attributes: r.attributes,
      };
      if (r.physicalId) live[id].physicalId = r.physicalId;
    }
  }
  const changes = computeChanges({
    template,
    parameters,
    live,
    liveTags: type === "UPDATE" ? stack.tags : [],
    tags,
    stack: { stackName: stack.stackName, stackId: stack.stackId, region: stack.region },
    updateBehaviour,
  });
  const unchanged =
    type === "UPDATE" &&
    changes.length === 0 &&
    sameTemplate(stack.templateBody, body) &&
    sameTags(stack.tags, tags) &&
    JSON.stringify(stack.parameters) === JSON.stringify(parameters);
  const faulted = unchanged ? undefined : world.faults.takeChangeSetFault(stack.stackName);
  const now = world.now();
  const record: ChangeSetRecord = {
    id: changeSetArn(world.accountId, stack.region, name),
    name,
    type,
    status: "CREATE_PENDING",
    executionStatus: "UNAVAILABLE",
    createdAt: now,
    readyAt: now + world.settings.operationDelayMs,
    outcome: unchanged
      ? { status: "FAILED", reason: NO_CHANGES }
      : faulted
        ? { status: "FAILED", reason: faulted.reason }
        : { status: "CREATE_COMPLETE" },
    templateBody: body,
    parameters,
    tags,
    capabilities,
    changes,
  };
  if (input.Description) record.description = input.Description;
  if (input.ClientToken) record.clientToken = input.ClientToken;
  stack.changeSets.push(record);
  world.store.touch(stack.stackId);
  world.kick();
  return { Id: record.id, StackId: stack.stackId };
}

function sameTemplate(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  if (a === b) return true;
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

/** CREATE_PENDING -> CREATE_IN_PROGRESS -> CREATE_COMPLETE (or FAILED), an operation delay apart. */
export function advanceChangeSets(world: World, stack: StackRecord): Progress {
  const now = world.now();
  let progressed = false;
  let wakeAt: number | undefined;
  for (const cs of stack.changeSets) {
    if (cs.status !== "CREATE_PENDING" && cs.status !== "CREATE_IN_PROGRESS") continue;
    if (cs.readyAt !== undefined && now < cs.readyAt) {
      wakeAt = Math.min(wakeAt ?? cs.readyAt, cs.readyAt);
      continue;
    }
    progressed = true;
    if (cs.status === "CREATE_PENDING") {
      cs.status = "CREATE_IN_PROGRESS";
      cs.readyAt = now + world.settings.operationDelayMs;
      wakeAt = Math.min(wakeAt ?? cs.readyAt, cs.readyAt);
    } else {
      cs.status = cs.outcome.status;
      if (cs.outcome.reason) cs.statusReason = cs.outcome.reason;
      cs.executionStatus = cs.status === "CREATE_COMPLETE" ? "AVAILABLE" : "UNAVAILABLE";
      delete cs.readyAt;
    }
    world.store.touch(stack.stackId);
  }
  return wakeAt === undefined ? { progressed } : { progressed, wakeAt };
}

/** A change set by ARN, or by name within StackName; ChangeSetNotFound otherwise. */
export function findChangeSet(
  world: World,
  changeSetName: string | undefined,
  stackName: string | undefined,
  region: string,
): { stack: StackRecord; changeSet: ChangeSetRecord } {
  const nameOrId = changeSetName ?? "";
  const notFound = () =>
    new AwsError("ChangeSetNotFound", `ChangeSet [${nameOrId}] does not exist`, 404);
  if (nameOrId.startsWith("arn:")) {
    for (const stack of world.store.stacks.values()) {
      const changeSet = stack.changeSets.find((c) => c.id === nameOrId);
      if (changeSet && stack.region === region) return { stack, changeSet };
    }
    throw notFound();
  }
  if (!stackName) {
    throw validationError(
      "StackName must be specified if ChangeSetName is not specified as an ARN.",
    );
  }
  const stack = findStack(world, stackName, region);
  const matches = stack?.changeSets.filter((c) => c.name === nameOrId) ?? [];
  // The newest with that name: an executed one may share its name with a new one.
  const changeSet = matches.find((c) => !c.executed) ?? matches.at(-1);
  if (!stack || !changeSet) throw notFound();
  return { stack, changeSet };
}

/**
 * ClientRequestToken: the same request sent again (a retry) is accepted and
 * does nothing more; the token of one action used for another is refused.
 * Returns true for a retry.
 */
function isRetry(stack: StackRecord, token: string | undefined, action: string): boolean {
  if (!token) return false;
  const used = stack.clientTokens?.find((t) => t.token === token);
  if (used && used.action !== action) {
    throw new AwsError(
      "TokenAlreadyExistsException",
      `The ClientRequestToken ${token} was already used for ${used.action} on stack ${stack.stackName}; use a new token for ${action}`,
    );
  }
  return used !== undefined;
}

/** Remembers the token of an action that was accepted. */
function remember(stack: StackRecord, token: string | undefined, action: string): void {
  if (token) stack.clientTokens = [...(stack.clientTokens ?? []).slice(-49), { token, action }];
}

export function executeChangeSet(world: World, input: ExecuteChangeSetInput, region: string): void {
  const { stack, changeSet } = findChangeSet(world, input.ChangeSetName, input.StackName, region);
  if (isRetry(stack, input.ClientRequestToken, "ExecuteChangeSet")) return;
  if (changeSet.status !== "CREATE_COMPLETE") {
    throw new AwsError(
      "InvalidChangeSetStatus",
      `ChangeSet [${changeSet.id}] cannot be executed in its current status of [${changeSet.status}]`,
    );
  }
  if (changeSet.executionStatus !== "AVAILABLE") {
    throw new AwsError(
      "InvalidChangeSetStatus",
      `ChangeSet [${changeSet.id}] cannot be executed in its current execution status of [${changeSet.executionStatus}]`,
    );
  }
  if (changeSet.type === "UPDATE" && !UPDATABLE.has(stack.status)) throw cannotUpdate(stack);
  if (changeSet.type === "CREATE" && stack.status !== "REVIEW_IN_PROGRESS")
    throw cannotUpdate(stack);
  const template = templateOf(changeSet.templateBody);
  const now = world.now();
  // The update's snapshot is taken before the stack takes the change set's template.
  const op =
    changeSet.type === "CREATE"
      ? createOperation(template, now)
      : updateOperation(stack, template, changeSet.changes, now);
  op.changeSetId = changeSet.id;
  if (input.ClientRequestToken) op.clientRequestToken = input.ClientRequestToken;
  stack.templateBody = changeSet.templateBody;
  if (template.description === undefined) delete stack.description;
  else stack.description = template.description;
  stack.parameters = changeSet.parameters;
  stack.tags = changeSet.tags;
  stack.capabilities = changeSet.capabilities;
  stack.disableRollback = input.DisableRollback ?? false;
  stack.lastChangeSetId = changeSet.id;
  // Executing a change set deletes the stack's other change sets.
  stack.changeSets = stack.changeSets.filter((c) => c === changeSet);
  changeSet.executed = true;
  changeSet.executionStatus = "EXECUTE_IN_PROGRESS";
  if (world.caller) op.principal = world.caller;
  stack.operation = op;
  if (changeSet.type === "CREATE") {
    setStackStatus(world, stack, "CREATE_IN_PROGRESS", "User Initiated");
  } else {
    stack.updatedAt = now;
    setStackStatus(world, stack, "UPDATE_IN_PROGRESS", "User Initiated");
  }
  remember(stack, input.ClientRequestToken, "ExecuteChangeSet");
  world.kick();
}

export function deleteChangeSet(world: World, input: DeleteChangeSetInput, region: string): void {
  const { stack, changeSet } = findChangeSet(world, input.ChangeSetName, input.StackName, region);
  if (changeSet.executionStatus === "EXECUTE_IN_PROGRESS") {
    throw new AwsError(
      "InvalidChangeSetStatus",
      `ChangeSet [${changeSet.id}] cannot be deleted in its current execution status of [${changeSet.executionStatus}]`,
    );
  }
  stack.changeSets = stack.changeSets.filter((c) => c !== changeSet);
  world.store.touch(stack.stackId);
}

export function deleteStack(world: World, input: DeleteStackInput, region: string): void {
  const stack = findStack(world, input.StackName ?? "", region);
  // Deleting a stack that does not exist succeeds.
  if (!stack || stack.status === "DELETE_COMPLETE" || stack.status === "DELETE_IN_PROGRESS") return;
  if (isRetry(stack, input.ClientRequestToken, "DeleteStack")) return;
  if (stack.terminationProtection) {
    throw validationError(
      `Stack [${stack.stackName}] cannot be deleted while TerminationProtection is enabled`,
    );
  }
  const halted = stack.operation?.halted === true;
  if (isInProgress(stack) && !halted) {
    throw validationError(
      `Stack [${stack.stackName}] cannot be deleted while in status ${stack.status}`,
    );
  }
  const retain = (input.RetainResources ?? []) as string[];
  if (retain.length > 0 && stack.status !== "DELETE_FAILED") {
    throw validationError(
      `Invalid operation on stack [${stack.stackId}]. RetainResources can only be specified when the stack is in the DELETE_FAILED state`,
    );
  }
  stack.changeSets = [];
  stack.operation = deleteOperation("DELETE", stack, world.now(), retain);
  if (input.ClientRequestToken) stack.operation.clientRequestToken = input.ClientRequestToken;
  if (world.caller) stack.operation.principal = world.caller;
  setStackStatus(world, stack, "DELETE_IN_PROGRESS", "User Initiated");
  remember(stack, input.ClientRequestToken, "DeleteStack");
  world.kick();
}

export function cancelUpdateStack(
  world: World,
  input: CancelUpdateStackInput,
  region: string,
): void {
  const stack = requireLiveStack(world, input.StackName, region);
  if (isRetry(stack, input.ClientRequestToken, "CancelUpdateStack")) return;
  const op = stack.operation;
  if (stack.status !== "UPDATE_IN_PROGRESS" || op?.kind !== "UPDATE" || op.stage !== "main") {
    throw validationError("CancelUpdateStack cannot be called from current stack status");
  }
  op.cancelRequested = true;
  remember(stack, input.ClientRequestToken, "CancelUpdateStack");
  world.store.touch(stack.stackId);
  world.kick();
}

export function continueUpdateRollback(
  world: World,
  input: ContinueUpdateRollbackInput,
  region: string,
): void {
  const stack = requireLiveStack(world, input.StackName, region);
  if (isRetry(stack, input.ClientRequestToken, "ContinueUpdateRollback")) return;
  const op = stack.operation;
  if (stack.status !== "UPDATE_ROLLBACK_FAILED" || op?.kind !== "UPDATE_ROLLBACK" || !op.halted) {
    throw validationError(
      `Stack ${stack.stackId} is in ${stack.status} state and can not continue an update rollback: ContinueUpdateRollback applies to UPDATE_ROLLBACK_FAILED stacks only`,
    );
  }
  const skip = (input.ResourcesToSkip ?? []) as string[];
  const notFailed = skip.filter((id) => !op.failed.includes(id));
  if (notFailed.length > 0) {
    throw validationError(
      `Resources [${notFailed.join(", ")}] cannot be skipped: only resources that failed to roll back (${op.failed.join(", ")}) can`,
    );
  }
  if (input.ClientRequestToken) op.clientRequestToken = input.ClientRequestToken;
  setStackStatus(world, stack, "UPDATE_ROLLBACK_IN_PROGRESS", "User Initiated");
  for (const s of [...op.steps, ...op.cleanupSteps]) {
    if (s.status !== "failed") continue;
    delete s.task;
    if (skip.includes(s.logicalId)) {
      s.status = "done";
      const resource = stack.resources[s.logicalId];
      setResourceStatus(
        world,
        stack,
        s.logicalId,
        resource?.type ?? "AWS::CloudFormation::Resource",
        "UPDATE_COMPLETE",
        "Resource skipped during rollback",
      );
    } else {
      s.status = "pending";
    }
  }
  op.failed = [];
  op.halted = false;
  remember(stack, input.ClientRequestToken, "ContinueUpdateRollback");
  world.kick();
}
