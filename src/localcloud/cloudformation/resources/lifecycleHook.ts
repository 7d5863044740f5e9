// AWS::AutoScaling::LifecycleHook: a hook attached to an existing group (the
// alternative to the group's LifecycleHookSpecificationList). Instances launched
// before the hook exists do not wait on it, as on AWS.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-autoscaling-lifecyclehook.html
import { generatedName } from "../../ids.js";
import type { JsonObject, LifecycleHookRecord } from "../../state/model.js";
import {
  done,
  failed,
  type Outcome,
  type ProviderContext,
  type ResourceProvider,
} from "./provider.js";

function hookOf(props: JsonObject, name: string): LifecycleHookRecord {
  const hook: LifecycleHookRecord = {
    name,
    transition:
      props.LifecycleTransition === "autoscaling:EC2_INSTANCE_TERMINATING"
        ? "autoscaling:EC2_INSTANCE_TERMINATING"
        : "autoscaling:EC2_INSTANCE_LAUNCHING",
    heartbeatTimeoutSeconds: Number(props.HeartbeatTimeout ?? 3600),
    defaultResult: props.DefaultResult === "CONTINUE" ? "CONTINUE" : "ABANDON",
    source: "resource",
  };
  if (typeof props.NotificationMetadata === "string")
    hook.notificationMetadata = props.NotificationMetadata;
  return hook;
}

function attach(ctx: ProviderContext, name: string): Outcome {
  const groupName = String(ctx.properties.AutoScalingGroupName ?? "");
  const group = ctx.world.store.groups.get(groupName);
  if (!group)
    return failed(`AutoScalingGroup name not found - AutoScalingGroup ${groupName} not found`);
  group.hooks = [...group.hooks.filter((h) => h.name !== name), hookOf(ctx.properties, name)];
  ctx.world.store.touch(group.owner);
  return done(name);
}

export const lifecycleHookProvider: ResourceProvider = {
  create(ctx) {
    const name =
      typeof ctx.properties.LifecycleHookName === "string"
        ? ctx.properties.LifecycleHookName
        : generatedName(ctx.stack.stackName, ctx.logicalId, 255);
    return attach(ctx, name);
  },
  update(ctx) {
    return attach(ctx, ctx.physicalId ?? ctx.current?.physicalId ?? "");
  },
  delete(ctx) {
    const name = ctx.physicalId ?? ctx.current?.physicalId ?? "";
    const groupName = String(ctx.current?.properties.AutoScalingGroupName ?? "");
    const group = ctx.world.store.groups.get(groupName);
    if (group) {
      group.hooks = group.hooks.filter((h) => !(h.source === "resource" && h.name === name));
      ctx.world.store.touch(group.owner);
    }
    return done(name);
  },
};
