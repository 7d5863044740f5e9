// Resource signals (SignalResource, cfn-signal): counted by the step that
// waits for them (a CreationPolicy, or a rolling update's batch) and written
// as events, as CloudFormation publishes valid signals.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_SignalResource.html
import { validationError } from "../protocol/awsError.js";
import type { StackRecord } from "../state/model.js";
import type { World } from "../world.js";
import { setResourceStatus } from "./events.js";
import type { SignalRecord } from "./resources/autoScalingGroup.js";

interface SignalTask {
  awaitingSignals?: boolean;
  signals?: SignalRecord[];
}

/** Delivers a signal; throws CloudFormation's ValidationError when nothing waits for one. */
export function deliverSignal(
  world: World,
  stack: StackRecord,
  logicalId: string,
  uniqueId: string,
  status: "SUCCESS" | "FAILURE",
): void {
  const op = stack.operation;
  const resource = stack.resources[logicalId];
  if (!resource) {
    throw validationError(`Resource ${logicalId} does not exist for stack ${stack.stackName}`);
  }
  if (!op || op.halted) {
    throw validationError(
      `Stack ${stack.stackId} is in ${stack.status} state and cannot be signaled`,
    );
  }
  const step = [...op.steps, ...op.cleanupSteps].find(
    (s) => s.logicalId === logicalId && s.status === "running",
  );
  const task = step?.task as SignalTask | undefined;
  if (!task?.awaitingSignals || !task.signals) {
    throw validationError(
      `Resource ${logicalId} is in ${resource.status} state and cannot be signaled`,
    );
  }
  if (!task.signals.some((s) => s.uniqueId === uniqueId)) task.signals.push({ uniqueId, status });
  setResourceStatus(
    world,
    stack,
    logicalId,
    resource.type,
    resource.status,
    `Received ${status} signal with UniqueId ${uniqueId}`,
  );
  world.kick();
}
