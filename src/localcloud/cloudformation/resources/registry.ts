// Resource type -> provider.

import type { OperationStep, StackRecord } from "../../state/model.js";
import type { World } from "../../world.js";
import { autoScalingGroupProvider } from "./autoScalingGroup.js";
import { launchTemplateProvider } from "./launchTemplate.js";
import { lifecycleHookProvider } from "./lifecycleHook.js";
import {
  instanceProfileProvider,
  roleProvider,
  securityGroupIngressProvider,
  securityGroupProvider,
} from "./plain.js";
import type { ResourceProvider } from "./provider.js";

const PROVIDERS: Record<string, ResourceProvider> = {
  "AWS::EC2::SecurityGroup": securityGroupProvider,
  "AWS::EC2::SecurityGroupIngress": securityGroupIngressProvider,
  "AWS::IAM::Role": roleProvider,
  "AWS::IAM::InstanceProfile": instanceProfileProvider,
  "AWS::EC2::LaunchTemplate": launchTemplateProvider,
  "AWS::AutoScaling::AutoScalingGroup": autoScalingGroupProvider,
  "AWS::AutoScaling::LifecycleHook": lifecycleHookProvider,
};

export function providerFor(type: string): ResourceProvider {
  const provider = PROVIDERS[type];
  if (!provider) throw new Error(`no provider for ${type}`);
  return provider;
}

/**
 * Stops a running step's provider (CancelUpdateStack, or the step failed on
 * an exception) so that it leaves its resource consistent: a group held by a
 * rolling update is given back to Auto Scaling.
 */
export function stopStep(world: World, stack: StackRecord, step: OperationStep): void {
  const live = stack.resources[step.logicalId];
  const type = live?.type ?? "AWS::CloudFormation::Resource";
  try {
    PROVIDERS[type]?.cancel?.({
      world,
      stack,
      step,
      logicalId: step.logicalId,
      type,
      mode: step.verb === "create" ? "create" : step.verb === "delete" ? "delete" : "update",
      definition: live?.definition ?? { Type: type },
      properties: {},
      ...(live ? { current: live } : {}),
      progress: () => {},
      created: () => {},
    });
  } catch (error) {
    world.log({
      event: "stop-error",
      stack: stack.stackName,
      logicalId: step.logicalId,
      error: String(error),
    });
  }
}
