// Stack events, newest last in the record (DescribeStackEvents lists them
// newest first), and the stack status changes that write them.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackEvent.html
import { uuid } from "../ids.js";
import type { ResourceStatus, StackRecord, StackStatus } from "../state/model.js";
import type { World } from "../world.js";

export const STACK_TYPE = "AWS::CloudFormation::Stack";

/** Events kept per stack; older ones are dropped (AWS keeps 90 days). */
const MAX_EVENTS = 5000;

export interface EventInput {
  logicalId: string;
  resourceType: string;
  status: string;
  reason?: string;
  physicalId?: string;
  properties?: string;
}

export function addEvent(world: World, stack: StackRecord, input: EventInput): void {
  const timestamp = world.now();
  const isStack = input.resourceType === STACK_TYPE && input.logicalId === stack.stackName;
  let eventId = isStack
    ? uuid()
    : `${input.logicalId}-${input.status}-${new Date(timestamp).toISOString()}`;
  if (!isStack && stack.events.slice(-50).some((e) => e.eventId === eventId)) {
    eventId = `${input.logicalId}-${uuid()}`;
  }
  stack.events.push({
    eventId,
    logicalId: input.logicalId,
    resourceType: input.resourceType,
    timestamp,
    status: input.status,
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
    ...(input.physicalId !== undefined ? { physicalId: input.physicalId } : {}),
    ...(input.properties !== undefined ? { properties: input.properties } : {}),
    ...(stack.operation?.clientRequestToken
      ? { clientRequestToken: stack.operation.clientRequestToken }
      : {}),
  });
  if (stack.events.length > MAX_EVENTS) stack.events.splice(0, stack.events.length - MAX_EVENTS);
  world.store.touch(stack.stackId);
  world.log({
    event: "stack-event",
    stack: stack.stackName,
    logicalId: input.logicalId,
    status: input.status,
    ...(input.reason ? { reason: input.reason } : {}),
  });
}

/** Moves the stack to a status and writes the stack's own event. */
export function setStackStatus(
  world: World,
  stack: StackRecord,
  status: StackStatus,
  reason?: string,
): void {
  stack.status = status;
  if (reason === undefined) delete stack.statusReason;
  else stack.statusReason = reason;
  addEvent(world, stack, {
    logicalId: stack.stackName,
    resourceType: STACK_TYPE,
    status,
    physicalId: stack.stackId,
    ...(reason !== undefined ? { reason } : {}),
  });
}

/** Sets a resource's status and writes its event. */
export function setResourceStatus(
  world: World,
  stack: StackRecord,
  logicalId: string,
  resourceType: string,
  status: ResourceStatus,
  reason?: string,
  physicalId?: string,
): void {
  const resource = stack.resources[logicalId];
  if (resource) {
    resource.status = status;
    resource.updatedAt = world.now();
    if (reason === undefined) delete resource.statusReason;
    else resource.statusReason = reason;
  }
  addEvent(world, stack, {
    logicalId,
    resourceType,
    status,
    ...(reason !== undefined ? { reason } : {}),
    ...((physicalId ?? resource?.physicalId) !== undefined
      ? { physicalId: physicalId ?? resource?.physicalId ?? "" }
      : {}),
  });
}
