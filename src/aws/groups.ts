// Auto Scaling as plain data: the group's instances and their lifecycle
// states, its tags, the two calls with which quorate holds or releases a hook,
// and the one with which it writes a tag of its own on the group.
import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { classifyAwsError } from "./awsErrors.js";
import {
  CompleteLifecycleActionCommand,
  CreateOrUpdateTagsCommand,
  DescribeAutoScalingGroupsCommand,
  RecordLifecycleActionHeartbeatCommand,
  SetInstanceHealthCommand,
} from "./sdk.js";

export interface GroupInstance {
  instanceId: string;
  /** Pending, Pending:Wait, InService, Terminating:Wait, ... as Auto Scaling reports it. */
  lifecycleState: string;
  healthStatus: string;
  launchTemplateVersion?: string;
  availabilityZone?: string;
}

export interface LiveGroup {
  name: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  instances: GroupInstance[];
  suspendedProcesses: string[];
  launchTemplateVersion?: string;
  /** The group's own tags by key (the stack's, CloudFormation's, and any written on the group). */
  tags: Record<string, string>;
}

/**
 * The groups with these names. Auto Scaling takes at most 50 names per call
 * unless MaxRecords raises the limit, to 100 ("By default, you can only
 * specify up to 50 names. You can optionally increase this limit using the
 * MaxRecords property", DescribeAutoScalingGroups API reference).
 */
export async function describeGroups(
  asg: AutoScalingClient,
  names: readonly string[],
): Promise<Map<string, LiveGroup>> {
  const groups = new Map<string, LiveGroup>();
  for (let i = 0; i < names.length; i += 100) {
    let nextToken: string | undefined;
    do {
      try {
        const out = await asg.send(
          new DescribeAutoScalingGroupsCommand({
            AutoScalingGroupNames: names.slice(i, i + 100),
            MaxRecords: 100,
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        );
        for (const g of out.AutoScalingGroups ?? []) {
          const group: LiveGroup = {
            name: g.AutoScalingGroupName ?? "",
            minSize: g.MinSize ?? 0,
            maxSize: g.MaxSize ?? 0,
            desiredCapacity: g.DesiredCapacity ?? 0,
            suspendedProcesses: (g.SuspendedProcesses ?? []).map((p) => p.ProcessName ?? ""),
            tags: Object.fromEntries(
              (g.Tags ?? []).filter((t) => t.Key).map((t) => [t.Key ?? "", t.Value ?? ""]),
            ),
            instances: (g.Instances ?? []).map((inst) => ({
              instanceId: inst.InstanceId ?? "",
              lifecycleState: inst.LifecycleState ?? "",
              healthStatus: inst.HealthStatus ?? "",
              ...(inst.LaunchTemplate?.Version
                ? { launchTemplateVersion: inst.LaunchTemplate.Version }
                : {}),
              ...(inst.AvailabilityZone ? { availabilityZone: inst.AvailabilityZone } : {}),
            })),
            ...(g.LaunchTemplate?.Version
              ? { launchTemplateVersion: g.LaunchTemplate.Version }
              : {}),
          };
          groups.set(group.name, group);
        }
        nextToken = out.NextToken;
      } catch (error) {
        throw classifyAwsError(
          error,
          `reading Auto Scaling groups ${names.slice(i, i + 3).join(", ")}`,
        );
      }
    } while (nextToken);
  }
  return groups;
}

/**
 * Sets one tag on the group, overwriting a tag of that key ("you do not get an
 * error message", CreateOrUpdateTags API reference). PropagateAtLaunch is
 * false: the tag describes the group, and instances launched later do not
 * need it.
 */
export async function tagGroup(
  asg: AutoScalingClient,
  input: { group: string; key: string; value: string },
): Promise<void> {
  try {
    await asg.send(
      new CreateOrUpdateTagsCommand({
        Tags: [
          {
            ResourceId: input.group,
            ResourceType: "auto-scaling-group",
            Key: input.key,
            Value: input.value,
            PropagateAtLaunch: false,
          },
        ],
      }),
    );
  } catch (error) {
    throw classifyAwsError(error, `tagging the group ${input.group} with ${input.key}`);
  }
}

export type LifecycleResult = "CONTINUE" | "ABANDON";

/** Completes a hook. False when Auto Scaling has no such action any more (already completed or timed out). */
export async function completeLifecycleAction(
  asg: AutoScalingClient,
  input: { group: string; hook: string; instanceId: string; result: LifecycleResult },
): Promise<boolean> {
  try {
    await asg.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: input.group,
        LifecycleHookName: input.hook,
        InstanceId: input.instanceId,
        LifecycleActionResult: input.result,
      }),
    );
    return true;
  } catch (error) {
    if (isNoActiveAction(error)) return false;
    throw classifyAwsError(error, `completing ${input.hook} for ${input.instanceId}`);
  }
}

/** Restarts the hook's heartbeat timeout while a gate holds it. False when the action is gone. */
export async function recordHeartbeat(
  asg: AutoScalingClient,
  input: { group: string; hook: string; instanceId: string },
): Promise<boolean> {
  try {
    await asg.send(
      new RecordLifecycleActionHeartbeatCommand({
        AutoScalingGroupName: input.group,
        LifecycleHookName: input.hook,
        InstanceId: input.instanceId,
      }),
    );
    return true;
  } catch (error) {
    if (isNoActiveAction(error)) return false;
    throw classifyAwsError(error, `recording a heartbeat for ${input.instanceId}`);
  }
}

/**
 * Marks an instance Unhealthy, so that the group replaces it (its terminating
 * hook runs first): how a failed member's instance is replaced while the
 * group keeps its desired capacity.
 */
export async function markInstanceUnhealthy(
  asg: AutoScalingClient,
  instanceId: string,
): Promise<void> {
  try {
    await asg.send(
      new SetInstanceHealthCommand({
        InstanceId: instanceId,
        HealthStatus: "Unhealthy",
        ShouldRespectGracePeriod: false,
      }),
    );
  } catch (error) {
    throw classifyAwsError(error, `marking ${instanceId} unhealthy`);
  }
}

function isNoActiveAction(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  return e?.name === "ValidationError" && /No active Lifecycle Action/i.test(e.message ?? "");
}
