// The Auto Scaling actions the local cloud serves, in the SDK's shapes.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_Operations.html

import type {
  AutoScalingGroup,
  AutoScalingInstanceDetails,
  CompleteLifecycleActionType,
  DescribeAutoScalingInstancesType,
  DescribeLifecycleHooksType,
  Instance,
  LifecycleHook,
  RecordLifecycleActionHeartbeatType,
} from "@aws-sdk/client-auto-scaling";
import * as sdk from "@aws-sdk/client-auto-scaling";
import { AwsError, validationError } from "../protocol/awsError.js";
import type { CallContext, ServiceDefinition } from "../protocol/dispatch.js";
import { paginate } from "../protocol/pagination.js";
import type { GroupInstanceRecord, GroupRecord, LifecycleActionRecord } from "../state/model.js";
import type { World } from "../world.js";
import { createOrUpdateTags } from "./groupTags.js";
import { heartbeat, openAction } from "./hooks.js";

function instanceOutput(world: World, group: GroupRecord, i: GroupInstanceRecord): Instance {
  const record = world.store.instances.get(i.instanceId);
  return {
    InstanceId: i.instanceId,
    InstanceType: record?.instanceType ?? "t3.micro",
    AvailabilityZone: i.availabilityZone,
    LifecycleState: i.lifecycleState,
    HealthStatus: i.healthStatus,
    LaunchTemplate: {
      LaunchTemplateId: record?.launchTemplate.id ?? group.launchTemplate.id,
      LaunchTemplateName: record?.launchTemplate.name ?? group.launchTemplate.name,
      Version: String(i.launchTemplateVersion),
    },
    ProtectedFromScaleIn: i.protectedFromScaleIn,
  };
}

export function groupOutput(world: World, group: GroupRecord): AutoScalingGroup {
  const zones = [...new Set(group.instances.map((i) => i.availabilityZone))].sort();
  const out: AutoScalingGroup = {
    AutoScalingGroupName: group.name,
    AutoScalingGroupARN: group.arn,
    LaunchTemplate: {
      LaunchTemplateId: group.launchTemplate.id,
      LaunchTemplateName: group.launchTemplate.name,
      Version: group.launchTemplate.version,
    },
    MinSize: group.minSize,
    MaxSize: group.maxSize,
    DesiredCapacity: group.desiredCapacity,
    DefaultCooldown: 300,
    AvailabilityZones: group.availabilityZones.length > 0 ? group.availabilityZones : zones,
    LoadBalancerNames: [],
    TargetGroupARNs: [],
    HealthCheckType: group.healthCheckType,
    HealthCheckGracePeriod: group.healthCheckGracePeriod,
    Instances: group.instances.map((i) => instanceOutput(world, group, i)),
    CreatedTime: new Date(group.createdAt),
    SuspendedProcesses: group.suspended.map((p) => ({
      ProcessName: p.name,
      SuspensionReason: p.reason,
    })),
    VPCZoneIdentifier: group.vpcZoneIdentifier.join(","),
    EnabledMetrics: [],
    Tags: group.tags.map((t) => ({
      ResourceId: group.name,
      ResourceType: "auto-scaling-group",
      Key: t.Key,
      Value: t.Value,
      PropagateAtLaunch: t.PropagateAtLaunch,
    })),
    TerminationPolicies: ["Default"],
    NewInstancesProtectedFromScaleIn: false,
    ServiceLinkedRoleARN: `arn:aws:iam::${world.accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
    CapacityRebalance: false,
    TrafficSources: [],
  };
  if (group.heldBy === "deletion") out.Status = "Delete in progress";
  return out;
}

/** A region's groups: those of its stacks (each region has its own Auto Scaling). */
function groupsIn(world: World, region: string): GroupRecord[] {
  return [...world.store.groups.values()].filter(
    (g) => world.store.stacks.get(g.owner)?.region === region,
  );
}

function groupIn(world: World, name: string | undefined, region: string): GroupRecord | undefined {
  const group = world.store.groups.get(name ?? "");
  return group && world.store.stacks.get(group.owner)?.region === region ? group : undefined;
}

function requireGroup(world: World, name: string | undefined, region: string): GroupRecord {
  const group = groupIn(world, name, region);
  if (!group) {
    throw validationError(
      `AutoScalingGroup name not found - AutoScalingGroup ${name ?? ""} not found`,
    );
  }
  return group;
}

function maxRecords(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (value < 1 || value > 100) {
    throw validationError(
      `1 validation error detected: Value '${value}' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and 100`,
    );
  }
  return value;
}

/** The open action of a CompleteLifecycleAction / RecordLifecycleActionHeartbeat call. */
function actionFor(
  world: World,
  region: string,
  input: {
    AutoScalingGroupName?: string;
    LifecycleHookName?: string;
    InstanceId?: string;
    LifecycleActionToken?: string;
  },
): { group: GroupRecord; action: LifecycleActionRecord } {
  const now = world.now();
  const missing = () =>
    validationError(
      input.LifecycleActionToken
        ? `No active Lifecycle Action found with token ${input.LifecycleActionToken}`
        : `No active Lifecycle Action found with instance ID ${input.InstanceId ?? ""}`,
    );
  if (!input.InstanceId && !input.LifecycleActionToken) {
    throw validationError("Either InstanceId or LifecycleActionToken must be specified");
  }
  const group = groupIn(world, input.AutoScalingGroupName, region);
  if (!group) throw missing();
  for (const instance of group.instances) {
    if (input.InstanceId && instance.instanceId !== input.InstanceId) continue;
    const action = openAction(
      instance,
      input.LifecycleHookName ?? "",
      now,
      input.LifecycleActionToken,
    );
    if (action) return { group, action };
  }
  throw missing();
}

export function autoScalingService(world: World): ServiceDefinition {
  return {
    service: "autoscaling",
    envelope: { ec2: false, xmlNamespace: "http://autoscaling.amazonaws.com/doc/2011-01-01/" },
    sdk: sdk as unknown as Record<string, unknown>,
    handlers: {
      DescribeAutoScalingGroups: (
        input: sdk.AutoScalingGroupNamesType,
        call: CallContext,
      ): sdk.AutoScalingGroupsType => {
        const names = input.AutoScalingGroupNames;
        const size = maxRecords(input.MaxRecords, world.settings.pageSize.groups);
        // Not in the API reference, but AWS refuses more names than one page holds.
        if (names && names.length > (input.MaxRecords ?? 50)) {
          throw validationError(
            `The number of group names that may be passed in is limited to ${input.MaxRecords ?? 50}`,
          );
        }
        const groups = groupsIn(world, call.region)
          .filter((g) => !names || names.length === 0 || names.includes(g.name))
          .sort((a, b) => a.name.localeCompare(b.name));
        const page = paginate(groups, input.NextToken, size, (g) => g.name, "InvalidNextToken");
        return {
          AutoScalingGroups: page.items.map((g) => groupOutput(world, g)),
          ...(page.nextToken ? { NextToken: page.nextToken } : {}),
        };
      },
      DescribeAutoScalingInstances: (
        input: DescribeAutoScalingInstancesType,
        call: CallContext,
      ): sdk.AutoScalingInstancesType => {
        const ids = input.InstanceIds;
        const all: AutoScalingInstanceDetails[] = [];
        for (const group of groupsIn(world, call.region).sort((a, b) =>
          a.name.localeCompare(b.name),
        )) {
          for (const i of group.instances) {
            if (ids && ids.length > 0 && !ids.includes(i.instanceId)) continue;
            const out = instanceOutput(world, group, i);
            all.push({
              ...out,
              AutoScalingGroupName: group.name,
              // This call reports health in capitals, unlike DescribeAutoScalingGroups.
              HealthStatus: i.healthStatus.toUpperCase(),
              LifecycleState: i.lifecycleState,
            } as AutoScalingInstanceDetails);
          }
        }
        const size = maxRecords(input.MaxRecords, world.settings.pageSize.groups);
        const page = paginate(
          all,
          input.NextToken,
          size,
          (i) => i.InstanceId ?? "",
          "InvalidNextToken",
        );
        return {
          AutoScalingInstances: page.items,
          ...(page.nextToken ? { NextToken: page.nextToken } : {}),
        };
      },
      DescribeLifecycleHooks: (
        input: DescribeLifecycleHooksType,
        call: CallContext,
      ): sdk.DescribeLifecycleHooksAnswer => {
        const group = requireGroup(world, input.AutoScalingGroupName, call.region);
        const names = input.LifecycleHookNames;
        const hooks: LifecycleHook[] = group.hooks
          .filter((h) => !names || names.length === 0 || names.includes(h.name))
          .map((h) => ({
            LifecycleHookName: h.name,
            AutoScalingGroupName: group.name,
            LifecycleTransition: h.transition,
            HeartbeatTimeout: h.heartbeatTimeoutSeconds,
            GlobalTimeout: Math.min(100 * h.heartbeatTimeoutSeconds, 172_800),
            DefaultResult: h.defaultResult,
            ...(h.notificationMetadata ? { NotificationMetadata: h.notificationMetadata } : {}),
          }));
        return { LifecycleHooks: hooks };
      },
      CompleteLifecycleAction: (input: CompleteLifecycleActionType, call: CallContext) => {
        const result = input.LifecycleActionResult;
        if (result !== "CONTINUE" && result !== "ABANDON") {
          throw validationError(
            `Invalid LifecycleActionResult ${result ?? ""}: must be CONTINUE or ABANDON`,
          );
        }
        const { group, action } = actionFor(world, call.region, input);
        action.result = result;
        world.store.touch(group.owner);
        world.kick();
        return {};
      },
      RecordLifecycleActionHeartbeat: (
        input: RecordLifecycleActionHeartbeatType,
        call: CallContext,
      ) => {
        const { group, action } = actionFor(world, call.region, input);
        const hook = group.hooks.find((h) => h.name === action.hookName);
        heartbeat(action, hook, world.now(), world.settings.timeScale);
        world.store.touch(group.owner);
        world.kick();
        return {};
      },
      CreateOrUpdateTags: (input: sdk.CreateOrUpdateTagsType, call: CallContext) => {
        const tags = input.Tags ?? [];
        if (tags.length === 0) throw validationError("Tags must not be empty");
        const byGroup = new Map<string, sdk.Tag[]>();
        for (const tag of tags) {
          if (tag.ResourceType !== undefined && tag.ResourceType !== "auto-scaling-group") {
            throw validationError(
              `Invalid resource type ${tag.ResourceType ?? "null"}: only auto-scaling-group may be tagged`,
            );
          }
          const name = tag.ResourceId ?? "";
          byGroup.set(name, [...(byGroup.get(name) ?? []), tag]);
        }
        // Every group is checked before any is written: a refused call changes nothing.
        const groups = [...byGroup].map(([name, list]) => {
          const group = requireGroup(world, name, call.region);
          const copy = structuredClone(group);
          createOrUpdateTags(copy, list);
          return { group, tags: copy.tags };
        });
        for (const { group, tags: next } of groups) {
          group.tags = next;
          world.store.touch(group.owner);
        }
        return {};
      },
      SetInstanceHealth: (input: sdk.SetInstanceHealthQuery, call: CallContext) => {
        const group = groupsIn(world, call.region).find((g) =>
          g.instances.some((i) => i.instanceId === input.InstanceId),
        );
        const instance = group?.instances.find((i) => i.instanceId === input.InstanceId);
        if (!group || !instance)
          throw new AwsError(
            "ValidationError",
            `Instance Id not found - No managed instance found for instance ID ${input.InstanceId ?? ""}`,
          );
        instance.healthStatus = input.HealthStatus === "Unhealthy" ? "Unhealthy" : "Healthy";
        world.store.touch(group.owner);
        world.kick();
        return {};
      },
    },
  };
}
