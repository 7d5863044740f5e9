// Resource type -> provider.
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
