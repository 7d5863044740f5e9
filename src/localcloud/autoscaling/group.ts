// An Auto Scaling group of the local cloud: launching and terminating its
// instances through their lifecycle states, its lifecycle hooks, replacing
// unhealthy instances, and keeping its desired capacity. CloudFormation holds
// the group (heldBy) while it drives a rolling update or deletes the group.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-lifecycle.html
import { launchInstance, markTerminated } from "../ec2/instances.js";
import { ec2Id } from "../ids.js";
import { AwsError } from "../protocol/awsError.js";
import type {
  GroupInstanceRecord,
  GroupRecord,
  LaunchTemplateRecord,
  LifecycleState,
} from "../state/model.js";
import type { Progress, World } from "../world.js";
import { actionsOutcome, hooksFor, startActions } from "./hooks.js";

export const PROCESSES = [
  "Launch",
  "Terminate",
  "HealthCheck",
  "ReplaceUnhealthy",
  "AZRebalance",
  "AlarmNotification",
  "ScheduledActions",
  "AddToLoadBalancer",
  "InstanceRefresh",
] as const;

const TERMINATING: ReadonlySet<LifecycleState> = new Set([
  "Terminating",
  "Terminating:Wait",
  "Terminating:Proceed",
  "Terminated",
]);

/** A failed launch is tried again after this long (Auto Scaling backs off too). */
const LAUNCH_RETRY_MS = 10_000;

export function isLive(instance: GroupInstanceRecord): boolean {
  return !TERMINATING.has(instance.lifecycleState);
}

export function isSuspended(group: GroupRecord, process: string): boolean {
  return group.suspended.some((p) => p.name === process);
}

export function suspendProcesses(
  world: World,
  group: GroupRecord,
  processes: readonly string[],
): void {
  const stamp = new Date(world.now()).toISOString();
  for (const name of processes) {
    if (!isSuspended(group, name))
      group.suspended.push({ name, reason: `User suspended at ${stamp}` });
  }
  world.store.touch(group.owner);
}

export function resumeProcesses(
  world: World,
  group: GroupRecord,
  processes: readonly string[],
): void {
  group.suspended = group.suspended.filter((p) => !processes.includes(p.name));
  world.store.touch(group.owner);
}

export function launchTemplateOf(world: World, group: GroupRecord): LaunchTemplateRecord {
  const template = world.store.launchTemplates.get(group.launchTemplate.id);
  if (!template) {
    throw new AwsError(
      "ValidationError",
      `The specified launch template, with template ID ${group.launchTemplate.id}, does not exist.`,
    );
  }
  return template;
}

/** The version number a launch template reference stands for ($Latest, $Default or a number). */
export function resolvedVersion(world: World, group: GroupRecord): number {
  const template = launchTemplateOf(world, group);
  const v = group.launchTemplate.version;
  if (v === "$Latest") return template.latestVersion;
  if (v === "$Default" || v === "") return template.defaultVersion;
  const n = Number(v);
  if (!template.versions.some((ver) => ver.versionNumber === n)) {
    throw new AwsError(
      "ValidationError",
      `The specified launch template version ${v} of ${template.id} does not exist.`,
    );
  }
  return n;
}

/** Launched from the group's current launch template version, in one of its subnets. */
export function isUpToDate(
  world: World,
  group: GroupRecord,
  instance: GroupInstanceRecord,
): boolean {
  const record = world.store.instances.get(instance.instanceId);
  if (!record) return false;
  let version: number;
  try {
    version = resolvedVersion(world, group);
  } catch {
    return false;
  }
  return (
    record.launchTemplate.id === group.launchTemplate.id &&
    instance.launchTemplateVersion === version &&
    (group.vpcZoneIdentifier.length === 0 || group.vpcZoneIdentifier.includes(record.subnetId))
  );
}

/**
 * Launches `count` instances into the group. Returns their ids; on a launch
 * EC2 refuses, records the failure on the group (a failed scaling activity)
 * and returns what it launched before.
 */
export function launchInto(world: World, group: GroupRecord, count: number): string[] {
  const launched: string[] = [];
  if (count <= 0) return launched;
  const template = launchTemplateOf(world, group);
  const version = resolvedVersion(world, group);
  const stack = world.store.stacks.get(group.owner);
  const region = stack?.region ?? "us-east-1";
  const reservationId = ec2Id("r");
  const subnets = group.vpcZoneIdentifier.length > 0 ? group.vpcZoneIdentifier : ["subnet-local"];
  const launchHooks = hooksFor(group.hooks, "autoscaling:EC2_INSTANCE_LAUNCHING");
  for (let i = 0; i < count; i++) {
    const subnetId = subnets[group.nextSubnet % subnets.length]!;
    group.nextSubnet++;
    try {
      const record = launchInstance(world, {
        owner: group.owner,
        region,
        groupName: group.name,
        launchTemplate: template,
        version,
        subnetId,
        tags: group.tags
          .filter((t) => t.PropagateAtLaunch)
          .map(({ Key, Value }) => ({ Key, Value })),
        reservationId,
      });
      const instance: GroupInstanceRecord = {
        instanceId: record.instanceId,
        lifecycleState: "Pending",
        healthStatus: "Healthy",
        launchTemplateVersion: version,
        availabilityZone: record.availabilityZone,
        protectedFromScaleIn: false,
      };
      if (launchHooks.length > 0) {
        instance.lifecycleState = "Pending:Wait";
        instance.actions = startActions(launchHooks, world.now(), world.settings.timeScale);
      }
      group.instances.push(instance);
      launched.push(record.instanceId);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      group.launchFailure = {
        message: `Launching a new EC2 instance. Status Reason: ${message}. Launching EC2 instance failed.`,
        at: world.now(),
        retryAt: world.now() + world.scaled(LAUNCH_RETRY_MS),
      };
      world.log({ event: "launch-failed", group: group.name, message });
      break;
    }
  }
  if (launched.length === count) delete group.launchFailure;
  world.store.touch(group.owner);
  return launched;
}

/** Starts terminating an instance, through the terminating hooks. */
export function beginTermination(world: World, group: GroupRecord, instanceId: string): void {
  const instance = group.instances.find((i) => i.instanceId === instanceId);
  if (!instance || !isLive(instance)) return;
  const hooks = hooksFor(group.hooks, "autoscaling:EC2_INSTANCE_TERMINATING");
  delete instance.actions;
  if (hooks.length > 0) {
    instance.lifecycleState = "Terminating:Wait";
    instance.actions = startActions(hooks, world.now(), world.settings.timeScale);
  } else {
    instance.lifecycleState = "Terminating:Proceed";
  }
  world.store.touch(group.owner);
}

/** Terminates every instance at once, without hooks (ForceDelete). */
export function terminateAll(world: World, group: GroupRecord): void {
  for (const instance of group.instances) {
    if (
      instance.lifecycleState === "Terminating:Proceed" ||
      instance.lifecycleState === "Terminated"
    )
      continue;
    delete instance.actions;
    instance.lifecycleState = "Terminating:Proceed";
  }
  world.store.touch(group.owner);
}

/** Moves the group's instances along their lifecycle and keeps its capacity. */
export function advanceGroup(world: World, group: GroupRecord): Progress {
  const now = world.now();
  const progress: Progress = { progressed: false };
  const wake = (at: number) => {
    if (Number.isFinite(at)) progress.wakeAt = Math.min(progress.wakeAt ?? at, at);
  };
  const set = (instance: GroupInstanceRecord, state: LifecycleState) => {
    instance.lifecycleState = state;
    progress.progressed = true;
    world.store.touch(group.owner);
  };
  for (const instance of [...group.instances]) {
    const record = world.store.instances.get(instance.instanceId);
    // An instance that has been terminated (or vanished) leaves the group.
    if (!record || record.state === "terminated") {
      group.instances = group.instances.filter((i) => i !== instance);
      progress.progressed = true;
      world.store.touch(group.owner);
      continue;
    }
    if (
      record.impaired &&
      isLive(instance) &&
      instance.healthStatus === "Healthy" &&
      !isSuspended(group, "HealthCheck")
    ) {
      instance.healthStatus = "Unhealthy";
      progress.progressed = true;
      world.store.touch(group.owner);
    }
    switch (instance.lifecycleState) {
      case "Pending:Wait":
      case "Terminating:Wait": {
        const outcome = actionsOutcome(instance.actions ?? [], group.hooks, now);
        if (outcome.kind === "waiting") {
          wake(outcome.until);
          break;
        }
        delete instance.actions;
        if (instance.lifecycleState === "Terminating:Wait") set(instance, "Terminating:Proceed");
        else if (outcome.result === "ABANDON") {
          // An abandoned launch is terminated, without the terminating hooks.
          set(instance, "Terminating:Proceed");
        } else set(instance, "Pending:Proceed");
        break;
      }
      case "Pending":
      case "Pending:Proceed":
        if (record.state === "running") set(instance, "InService");
        break;
      case "InService":
        if (
          instance.healthStatus === "Unhealthy" &&
          !isSuspended(group, "ReplaceUnhealthy") &&
          group.heldBy === undefined
        ) {
          world.log({
            event: "replace-unhealthy",
            group: group.name,
            instanceId: instance.instanceId,
          });
          beginTermination(world, group, instance.instanceId);
          progress.progressed = true;
        }
        break;
      default:
        break;
    }
    if (instance.lifecycleState === "Terminating:Proceed" && !instance.terminating) {
      instance.terminating = true;
      record.state = "shutting-down";
      world.store.touch(group.owner);
      progress.progressed = true;
      const id = instance.instanceId;
      void world.runtime
        .terminate(id)
        .catch((error: unknown) =>
          world.log({ event: "terminate-error", instanceId: id, error: String(error) }),
        )
        .finally(() => {
          markTerminated(world, id, "Client.UserInitiatedShutdown: User initiated shutdown");
          world.kick();
        });
    }
  }
  maintainCapacity(world, group, progress);
  return progress;
}

/** Launches or terminates to reach the desired capacity, unless CloudFormation holds the group. */
function maintainCapacity(world: World, group: GroupRecord, progress: Progress): void {
  if (group.heldBy) return;
  const now = world.now();
  const live = group.instances.filter(isLive);
  if (live.length < group.desiredCapacity && !isSuspended(group, "Launch")) {
    if (group.launchFailure && now < group.launchFailure.retryAt) {
      progress.wakeAt = Math.min(
        progress.wakeAt ?? group.launchFailure.retryAt,
        group.launchFailure.retryAt,
      );
      return;
    }
    const launched = launchInto(world, group, group.desiredCapacity - live.length);
    if (launched.length > 0) progress.progressed = true;
    if (group.launchFailure) {
      const at = group.launchFailure.retryAt;
      progress.wakeAt = Math.min(progress.wakeAt ?? at, at);
    }
    return;
  }
  if (live.length > group.desiredCapacity && !isSuspended(group, "Terminate")) {
    // The default termination policy: instances of an older launch template first, then the oldest.
    const victims = [...live]
      .sort((a, b) => {
        const upToDate = Number(isUpToDate(world, group, a)) - Number(isUpToDate(world, group, b));
        if (upToDate !== 0) return upToDate;
        const ta = world.store.instances.get(a.instanceId)?.launchTime ?? 0;
        const tb = world.store.instances.get(b.instanceId)?.launchTime ?? 0;
        return ta - tb;
      })
      .slice(0, live.length - group.desiredCapacity);
    for (const v of victims) beginTermination(world, group, v.instanceId);
    progress.progressed = true;
  }
}

/** Where each instance of the local cloud is (for the runtime's signal callback). */
export function groupOfInstance(world: World, instanceId: string): GroupRecord | undefined {
  const name = world.store.instances.get(instanceId)?.groupName;
  return name ? world.store.groups.get(name) : undefined;
}
