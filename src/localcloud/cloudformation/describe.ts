// The read side of CloudFormation: stacks, events, change sets and templates
// in the SDK's output shapes (resources: stackResources.ts).
import type {
  Change,
  ChangeSetSummary,
  DescribeChangeSetInput,
  DescribeChangeSetOutput,
  DescribeStackEventsInput,
  DescribeStackEventsOutput,
  DescribeStacksInput,
  DescribeStacksOutput,
  GetTemplateInput,
  GetTemplateOutput,
  ListChangeSetsInput,
  ListChangeSetsOutput,
  ListStacksInput,
  ListStacksOutput,
  Stack,
  StackEvent,
  StackSummary,
} from "@aws-sdk/client-cloudformation";
import { StackStatus } from "@aws-sdk/client-cloudformation";
import { validationError } from "../protocol/awsError.js";
import { paginate } from "../protocol/pagination.js";
import type { ChangeSetRecord, ResourceChangeRecord, StackRecord } from "../state/model.js";
import type { World } from "../world.js";
import { findChangeSet } from "./stackActions.js";
import { findStack, requireStack } from "./stacks.js";

export function stackOutput(stack: StackRecord): Stack {
  const out: Stack = {
    StackId: stack.stackId,
    StackName: stack.stackName,
    Parameters: stack.parameters.map((p) => ({ ParameterKey: p.key, ParameterValue: p.value })),
    CreationTime: new Date(stack.createdAt),
    RollbackConfiguration: {},
    StackStatus: stack.status as Stack["StackStatus"],
    DisableRollback: stack.disableRollback,
    NotificationARNs: [],
    Capabilities: stack.capabilities as Stack["Capabilities"],
    Outputs: stack.outputs.map((o) => ({
      OutputKey: o.key,
      OutputValue: o.value,
      ...(o.description ? { Description: o.description } : {}),
    })),
    Tags: stack.tags.map((t) => ({ Key: t.Key, Value: t.Value })),
    EnableTerminationProtection: stack.terminationProtection,
    DriftInformation: { StackDriftStatus: "NOT_CHECKED" },
  };
  if (stack.lastChangeSetId) out.ChangeSetId = stack.lastChangeSetId;
  if (stack.description) out.Description = stack.description;
  if (stack.statusReason) out.StackStatusReason = stack.statusReason;
  if (stack.updatedAt) out.LastUpdatedTime = new Date(stack.updatedAt);
  if (stack.deletedAt) out.DeletionTime = new Date(stack.deletedAt);
  return out;
}

export function describeStacks(
  world: World,
  input: DescribeStacksInput,
  region: string,
): DescribeStacksOutput {
  if (input.StackName)
    return { Stacks: [stackOutput(requireStack(world, input.StackName, region))] };
  const live = newestFirst(world.store.stacks.values(), region).filter(
    (s) => s.status !== "DELETE_COMPLETE",
  );
  const page = paginate(live, input.NextToken, world.settings.pageSize.stacks, (s) => s.stackId);
  return {
    Stacks: page.items.map(stackOutput),
    ...(page.nextToken ? { NextToken: page.nextToken } : {}),
  };
}

/** Newest first, as DescribeStacks and ListStacks page through them. */
function newestFirst(stacks: Iterable<StackRecord>, region: string): StackRecord[] {
  return [...stacks]
    .filter((s) => s.region === region)
    .sort((a, b) => b.createdAt - a.createdAt || a.stackId.localeCompare(b.stackId));
}

const STACK_STATUSES: readonly string[] = Object.values(StackStatus);

/** Every stack of the region, deleted ones too, unless StackStatusFilter narrows it. */
export function listStacks(world: World, input: ListStacksInput, region: string): ListStacksOutput {
  const filter = (input.StackStatusFilter ?? []) as string[];
  const unknown = filter.filter((s) => !STACK_STATUSES.includes(s));
  if (unknown.length > 0) {
    throw validationError(
      `1 validation error detected: Value '[${unknown.join(", ")}]' at 'stackStatusFilter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [${STACK_STATUSES.join(", ")}]]`,
    );
  }
  const listed = newestFirst(world.store.stacks.values(), region).filter(
    (s) => filter.length === 0 || filter.includes(s.status),
  );
  const page = paginate(listed, input.NextToken, world.settings.pageSize.stacks, (s) => s.stackId);
  return {
    StackSummaries: page.items.map((s) => {
      const out: StackSummary = {
        StackId: s.stackId,
        StackName: s.stackName,
        CreationTime: new Date(s.createdAt),
        StackStatus: s.status as StackSummary["StackStatus"],
        DriftInformation: { StackDriftStatus: "NOT_CHECKED" },
      };
      if (s.description) out.TemplateDescription = s.description;
      if (s.statusReason) out.StackStatusReason = s.statusReason;
      if (s.updatedAt) out.LastUpdatedTime = new Date(s.updatedAt);
      if (s.deletedAt) out.DeletionTime = new Date(s.deletedAt);
      return out;
    }),
    ...(page.nextToken ? { NextToken: page.nextToken } : {}),
  };
}

export function describeStackEvents(
  world: World,
  input: DescribeStackEventsInput,
  region: string,
): DescribeStackEventsOutput {
  const stack = requireStack(world, input.StackName, region);
  const newestFirst = [...stack.events].reverse();
  const page = paginate(
    newestFirst,
    input.NextToken,
    world.settings.pageSize.events,
    (e) => e.eventId,
  );
  const events: StackEvent[] = page.items.map((e) => {
    const out: StackEvent = {
      StackId: stack.stackId,
      EventId: e.eventId,
      StackName: stack.stackName,
      LogicalResourceId: e.logicalId,
      ResourceType: e.resourceType,
      Timestamp: new Date(e.timestamp),
      ResourceStatus: e.status as StackEvent["ResourceStatus"],
    };
    if (e.physicalId !== undefined) out.PhysicalResourceId = e.physicalId;
    if (e.reason !== undefined) out.ResourceStatusReason = e.reason;
    if (e.properties !== undefined) out.ResourceProperties = e.properties;
    if (e.clientRequestToken !== undefined) out.ClientRequestToken = e.clientRequestToken;
    return out;
  });
  return { StackEvents: events, ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
}

function changeOutput(change: ResourceChangeRecord, withValues: boolean): Change {
  const rc = structuredClone(change);
  if (!withValues) {
    delete rc.BeforeContext;
    delete rc.AfterContext;
    for (const d of rc.Details) {
      delete d.Target.BeforeValue;
      delete d.Target.AfterValue;
    }
  }
  return { Type: "Resource", ResourceChange: rc as Change["ResourceChange"] };
}

export function describeChangeSet(
  world: World,
  input: DescribeChangeSetInput,
  region: string,
): DescribeChangeSetOutput {
  const { stack, changeSet } = findChangeSet(world, input.ChangeSetName, input.StackName, region);
  const computed = changeSet.status === "CREATE_COMPLETE" || changeSet.status === "FAILED";
  const changes = computed ? changeSet.changes : [];
  const page = paginate(
    changes.map((c, i) => ({ c, i })),
    input.NextToken,
    world.settings.pageSize.changeSets,
    (x) => String(x.i),
  );
  const out: DescribeChangeSetOutput = {
    ChangeSetName: changeSet.name,
    ChangeSetId: changeSet.id,
    StackId: stack.stackId,
    StackName: stack.stackName,
    Parameters: changeSet.parameters.map((p) => ({ ParameterKey: p.key, ParameterValue: p.value })),
    CreationTime: new Date(changeSet.createdAt),
    ExecutionStatus: changeSet.executionStatus,
    Status: changeSet.status,
    NotificationARNs: [],
    RollbackConfiguration: {},
    Capabilities: changeSet.capabilities as DescribeChangeSetOutput["Capabilities"],
    Tags: changeSet.tags.map((t) => ({ Key: t.Key, Value: t.Value })),
    Changes: page.items.map((x) => changeOutput(x.c, input.IncludePropertyValues === true)),
    IncludeNestedStacks: false,
  };
  if (changeSet.description) out.Description = changeSet.description;
  if (changeSet.statusReason) out.StatusReason = changeSet.statusReason;
  if (page.nextToken) out.NextToken = page.nextToken;
  return out;
}

function summaryOf(stack: StackRecord, cs: ChangeSetRecord): ChangeSetSummary {
  const out: ChangeSetSummary = {
    StackId: stack.stackId,
    StackName: stack.stackName,
    ChangeSetId: cs.id,
    ChangeSetName: cs.name,
    ExecutionStatus: cs.executionStatus,
    Status: cs.status,
    CreationTime: new Date(cs.createdAt),
    IncludeNestedStacks: false,
  };
  if (cs.statusReason) out.StatusReason = cs.statusReason;
  if (cs.description) out.Description = cs.description;
  return out;
}

export function listChangeSets(
  world: World,
  input: ListChangeSetsInput,
  region: string,
): ListChangeSetsOutput {
  const stack = requireStack(world, input.StackName, region);
  const listed = stack.changeSets.filter((c) => !c.executed);
  const page = paginate(listed, input.NextToken, world.settings.pageSize.changeSets, (c) => c.id);
  return {
    Summaries: page.items.map((c) => summaryOf(stack, c)),
    ...(page.nextToken ? { NextToken: page.nextToken } : {}),
  };
}

export function getTemplate(
  world: World,
  input: GetTemplateInput,
  region: string,
): GetTemplateOutput {
  if (input.ChangeSetName) {
    const { changeSet } = findChangeSet(world, input.ChangeSetName, input.StackName, region);
    return { TemplateBody: changeSet.templateBody, StagesAvailable: ["Original", "Processed"] };
  }
  const stack = findStack(world, input.StackName ?? "", region);
  if (!stack) throw validationError(`Stack with id ${input.StackName ?? ""} does not exist`);
  return { TemplateBody: stack.templateBody ?? "{}", StagesAvailable: ["Original", "Processed"] };
}
