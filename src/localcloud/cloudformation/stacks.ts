// Finding stacks by name or id as CloudFormation does: a name finds the live
// stack; a deleted stack is found only by its id. Each region has its own
// stacks: a request sees only those of the region it was signed for.
import { validationError } from "../protocol/awsError.js";
import type { StackRecord } from "../state/model.js";
import type { World } from "../world.js";

export function findStack(world: World, nameOrId: string, region: string): StackRecord | undefined {
  if (nameOrId.startsWith("arn:")) {
    const stack = world.store.stacks.get(nameOrId);
    return stack?.region === region ? stack : undefined;
  }
  for (const stack of world.store.stacks.values()) {
    if (
      stack.stackName === nameOrId &&
      stack.status !== "DELETE_COMPLETE" &&
      stack.region === region
    ) {
      return stack;
    }
  }
  return undefined;
}

export function requireStack(
  world: World,
  nameOrId: string | undefined,
  region: string,
): StackRecord {
  if (!nameOrId)
    throw validationError(
      "1 validation error detected: Value null at 'stackName' failed to satisfy constraint: Member must not be null",
    );
  const stack = findStack(world, nameOrId, region);
  if (!stack) throw validationError(`Stack with id ${nameOrId} does not exist`);
  return stack;
}

/** A stack that is not deleted; a deleted one reads as missing for everything but describing it. */
export function requireLiveStack(
  world: World,
  nameOrId: string | undefined,
  region: string,
): StackRecord {
  const stack = requireStack(world, nameOrId, region);
  if (stack.status === "DELETE_COMPLETE")
    throw validationError(`Stack with id ${nameOrId} does not exist`);
  return stack;
}

export function isInProgress(stack: StackRecord): boolean {
  return stack.status.endsWith("_IN_PROGRESS") && stack.status !== "REVIEW_IN_PROGRESS";
}
