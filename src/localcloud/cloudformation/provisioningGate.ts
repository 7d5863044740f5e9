// With --iam-policy, CloudFormation provisions each resource with the
// permissions of whoever started the stack operation (quorate passes no
// service role), so a step first asks the policy. A denied step fails with
// CloudFormation's handler message, and the stack rolls back as on AWS.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html
import { checkProvisioning } from "../iam/enforcement.js";
import type { JsonObject, OperationStep, StackOperation, StackRecord } from "../state/model.js";
import type { World } from "../world.js";
import { resolveProperties } from "./intrinsics.js";
import { liveContext } from "./liveContext.js";
import type { Outcome } from "./resources/provider.js";
import type { Template } from "./templateCache.js";

/** A failed or waiting outcome while the policy refuses or is still evaluating the step; undefined to go on. */
export function provisioningGate(
  world: World,
  stack: StackRecord,
  op: StackOperation,
  step: OperationStep,
  type: string,
  template: Template | undefined,
): Outcome | undefined {
  if (!world.iam || !op.principal || step.authorized) return undefined;
  // Making the saved copy current again calls no service; a revert updates the
  // resource back to its saved properties, as the same principal.
  if (step.verb === "restore") return undefined;
  const live = stack.resources[step.logicalId];
  const properties: JsonObject =
    step.verb === "delete"
      ? (live?.properties ?? {})
      : step.verb === "revert"
        ? (op.previous?.resources[step.logicalId]?.properties ?? {})
        : resolveProperties(
            template?.resources[step.logicalId]?.Properties ?? {},
            liveContext(stack),
          );
  const stackRoleArns = Object.values(stack.resources)
    .filter((r) => r.type === "AWS::IAM::Role" && r.attributes.Arn)
    .map((r) => r.attributes.Arn!);
  const physicalId = step.verb === "create" ? undefined : (step.physicalId ?? live?.physicalId);
  const verdict = checkProvisioning(world.iam, world, op.principal, {
    type,
    mode:
      step.verb === "create" || step.replacement
        ? "create"
        : step.verb === "revert"
          ? "update"
          : step.verb,
    account: world.accountId,
    region: stack.region,
    stackName: stack.stackName,
    logicalId: step.logicalId,
    ...(physicalId ? { physicalId } : {}),
    properties,
    stackRoleArns,
    tags: stack.tags.map((t) => ({ key: t.Key, value: t.Value })),
  });
  if (verdict === "pending") return { kind: "wait" };
  if (verdict !== undefined) return { kind: "failed", reason: verdict };
  step.authorized = true;
  world.store.touch(stack.stackId);
  return undefined;
}
