// AWS::AutoScaling::AutoScalingGroup: creation waits for the CreationPolicy's
// signals; an update that changes the launch template or the subnets (or
// finds instances that do not match) runs the UpdatePolicy's rolling update;
// deletion terminates every instance.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-creationpolicy.html
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatepolicy.html

import { parseIsoDuration } from "../../../manifest/duration.js";
import {
  advanceGroup,
  beginTermination,
  isLive,
  isUpToDate,
  launchInto,
  resumeProcesses,
  suspendProcesses,
  terminateAll,
} from "../../autoscaling/group.js";
import { declareTags } from "../../autoscaling/groupTags.js";
import {
  type GroupView,
  initialRollingState,
  needsRollingUpdate,
  planRollingUpdate,
  type RollingPolicy,
  type RollingState,
  recordLaunched,
} from "../../autoscaling/rollingUpdate.js";
import { generatedName, uuid } from "../../ids.js";
import type {
  GroupRecord,
  GroupTag,
  Json,
  JsonObject,
  LifecycleHookRecord,
  TemplateResource,
} from "../../state/model.js";
import type { World } from "../../world.js";
import {
  done,
  failed,
  type Outcome,
  type ProviderContext,
  type ResourceProvider,
} from "./provider.js";

/** Signals received while a step waits for them (persisted in step.task). */
export interface SignalRecord {
  uniqueId: string;
  status: "SUCCESS" | "FAILURE";
}

interface CreateTask {
  groupName: string;
  awaitingSignals: boolean;
  deadline: number | null;
  signals: SignalRecord[];
}

interface UpdateTask {
  groupName: string;
  awaitingSignals: boolean;
  rolling: RollingState | null;
  suspended: string[];
  signals: SignalRecord[];
}

interface DeleteTask {
  groupName: string;
}

const num = (value: Json | undefined, fallback: number): number => {
  const n = Number(value);
  return value === undefined || value === null || value === "" || !Number.isFinite(n)
    ? fallback
    : n;
};

const obj = (value: Json | undefined): JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value : {};

const strings = (value: Json | undefined): string[] =>
  Array.isArray(value)
    ? value.map((v) => String(v))
    : typeof value === "string"
      ? value.split(",")
      : [];

function durationOf(text: Json | undefined, fallback: string): { ms: number; text: string } {
  const value = typeof text === "string" ? text : fallback;
  return { ms: parseIsoDuration(value) ?? parseIsoDuration(fallback) ?? 0, text: value };
}

function launchTemplateRef(
  world: World,
  props: JsonObject,
): GroupRecord["launchTemplate"] | string {
  const spec = obj(props.LaunchTemplate);
  const version = spec.Version === undefined ? "$Default" : String(spec.Version);
  if (typeof spec.LaunchTemplateId === "string") {
    const template = world.store.launchTemplates.get(spec.LaunchTemplateId);
    if (!template)
      return `The specified launch template, with template ID ${spec.LaunchTemplateId}, does not exist.`;
    return { id: template.id, name: template.name, version };
  }
  if (typeof spec.LaunchTemplateName === "string") {
    const template = [...world.store.launchTemplates.values()].find(
      (t) => t.name === spec.LaunchTemplateName,
    );
    if (!template)
      return `The specified launch template, with template name ${spec.LaunchTemplateName}, does not exist.`;
    return { id: template.id, name: template.name, version };
  }
  return "The local cloud's groups need a LaunchTemplate (launch configurations can no longer be created)";
}

function hooksOf(props: JsonObject): LifecycleHookRecord[] {
  const list = Array.isArray(props.LifecycleHookSpecificationList)
    ? props.LifecycleHookSpecificationList
    : [];
  return list.map((raw) => {
    const h = obj(raw);
    const hook: LifecycleHookRecord = {
      name: String(h.LifecycleHookName ?? ""),
      transition:
        h.LifecycleTransition === "autoscaling:EC2_INSTANCE_TERMINATING"
          ? "autoscaling:EC2_INSTANCE_TERMINATING"
          : "autoscaling:EC2_INSTANCE_LAUNCHING",
      heartbeatTimeoutSeconds: num(h.HeartbeatTimeout, 3600),
      defaultResult: h.DefaultResult === "CONTINUE" ? "CONTINUE" : "ABANDON",
      source: "group",
    };
    if (typeof h.NotificationMetadata === "string")
      hook.notificationMetadata = h.NotificationMetadata;
    return hook;
  });
}

/**
 * The tags CloudFormation declares for the group: its own, then the stack's
 * and CloudFormation's, all propagated to instances. A rollback declares the
 * stack's tags from before the update, which the stack gets back only once the
 * rollback is over.
 */
function declaredTagsOf(ctx: ProviderContext, props: JsonObject): GroupTag[] {
  const tags = new Map<string, GroupTag>();
  for (const raw of Array.isArray(props.Tags) ? props.Tags : []) {
    const t = obj(raw);
    const key = String(t.Key ?? "");
    tags.set(key, {
      Key: key,
      Value: String(t.Value ?? ""),
      PropagateAtLaunch: t.PropagateAtLaunch === true || t.PropagateAtLaunch === "true",
    });
  }
  const stackTags =
    ctx.mode === "revert"
      ? (ctx.stack.operation?.previous?.tags ?? ctx.stack.tags)
      : ctx.stack.tags;
  for (const t of stackTags)
    tags.set(t.Key, { Key: t.Key, Value: t.Value, PropagateAtLaunch: true });
  const cfn: [string, string][] = [
    ["aws:cloudformation:stack-name", ctx.stack.stackName],
    ["aws:cloudformation:stack-id", ctx.stack.stackId],
    ["aws:cloudformation:logical-id", ctx.logicalId],
  ];
  for (const [Key, Value] of cfn) tags.set(Key, { Key, Value, PropagateAtLaunch: true });
  return [...tags.values()];
}

function sizesOf(props: JsonObject): { min: number; max: number; desired: number } | string {
  const min = num(props.MinSize, 0);
  const max = num(props.MaxSize, 0);
  const desired = num(props.DesiredCapacity, min);
  if (min > max) return `The specified min size (${min}) is greater than the max size (${max}).`;
  if (desired < min || desired > max) {
    return `Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`;
  }
  return { min, max, desired };
}

/** Applies properties to a group (new or existing); a message when they cannot be applied. */
function applyProperties(
  ctx: ProviderContext,
  group: GroupRecord,
  props: JsonObject,
): string | undefined {
  const sizes = sizesOf(props);
  if (typeof sizes === "string") return sizes;
  const template = launchTemplateRef(ctx.world, props);
  if (typeof template === "string") return template;
  group.minSize = sizes.min;
  group.maxSize = sizes.max;
  group.desiredCapacity = sizes.desired;
  group.launchTemplate = template;
  group.vpcZoneIdentifier = strings(props.VPCZoneIdentifier);
  group.availabilityZones = strings(props.AvailabilityZones);
  group.healthCheckType = typeof props.HealthCheckType === "string" ? props.HealthCheckType : "EC2";
  group.healthCheckGracePeriod = num(props.HealthCheckGracePeriod, 0);
  declareTags(group, declaredTagsOf(ctx, props));
  group.hooks = [...group.hooks.filter((h) => h.source === "resource"), ...hooksOf(props)];
  ctx.world.store.touch(group.owner);
  return undefined;
}

function creationPolicyOf(definition: TemplateResource) {
  const signal = obj(obj(definition.CreationPolicy as Json).ResourceSignal);
  if (Object.keys(signal).length === 0) return undefined;
  const timeout = durationOf(signal.Timeout, "PT5M");
  return { count: num(signal.Count, 1), timeoutMs: timeout.ms };
}

export function rollingPolicyOf(
  world: World,
  definition: TemplateResource,
): RollingPolicy | undefined {
  const raw = obj(obj(definition.UpdatePolicy as Json).AutoScalingRollingUpdate);
  if (definition.UpdatePolicy?.AutoScalingRollingUpdate === undefined) return undefined;
  const wait = raw.WaitOnResourceSignals === true || raw.WaitOnResourceSignals === "true";
  const pause = durationOf(raw.PauseTime, wait ? "PT5M" : "PT0S");
  return {
    maxBatchSize: num(raw.MaxBatchSize, 1),
    minInstancesInService: num(raw.MinInstancesInService, 0),
    minSuccessfulInstancesPercent: num(raw.MinSuccessfulInstancesPercent, 100),
    waitOnResourceSignals: wait,
    pauseMs: world.scaled(pause.ms),
    pauseText: pause.text,
    suspendProcesses: strings(raw.SuspendProcesses),
  };
}

function groupOf(ctx: ProviderContext, name: string): GroupRecord | undefined {
  return ctx.world.store.groups.get(name);
}

function viewOf(world: World, group: GroupRecord, signals: SignalRecord[]): GroupView {
  return {
    now: world.now(),
    minSize: group.minSize,
    maxSize: group.maxSize,
    desiredCapacity: group.desiredCapacity,
    signals,
    instances: group.instances.map((i) => ({
      instanceId: i.instanceId,
      lifecycleState: i.lifecycleState,
      upToDate: isUpToDate(world, group, i),
      launchTime: world.store.instances.get(i.instanceId)?.launchTime ?? 0,
    })),
  };
}

/** Gives the group back to Auto Scaling after an update: processes resumed, capacity restored. */
function release(ctx: ProviderContext, group: GroupRecord, task: UpdateTask): void {
  if (task.rolling && task.rolling.capacity !== task.rolling.original.desiredCapacity) {
    group.minSize = task.rolling.original.minSize;
    group.desiredCapacity = task.rolling.original.desiredCapacity;
  }
  resumeProcesses(ctx.world, group, task.suspended);
  delete group.heldBy;
  ctx.world.store.touch(group.owner);
}

export const autoScalingGroupProvider: ResourceProvider = {
  create(ctx): Outcome {
    let task = ctx.step.task as CreateTask | undefined;
    if (!task) {
      const sizes = sizesOf(ctx.properties);
      if (typeof sizes === "string") return failed(sizes);
      const name =
        typeof ctx.properties.AutoScalingGroupName === "string"
          ? ctx.properties.AutoScalingGroupName
          : generatedName(ctx.stack.stackName, ctx.logicalId, 255);
      if (ctx.world.store.groups.has(name))
        return failed(
          `AutoScalingGroup by this name already exists - A group with the name ${name} already exists`,
        );
      const group: GroupRecord = {
        name,
        arn: `arn:aws:autoscaling:${ctx.stack.region}:${ctx.world.accountId}:autoScalingGroup:${uuid()}:autoScalingGroupName/${name}`,
        owner: ctx.stack.stackId,
        logicalId: ctx.logicalId,
        createdAt: ctx.world.now(),
        launchTemplate: { id: "", name: "", version: "" },
        minSize: 0,
        maxSize: 0,
        desiredCapacity: 0,
        vpcZoneIdentifier: [],
        availabilityZones: [],
        healthCheckType: "EC2",
        healthCheckGracePeriod: 0,
        tags: [],
        hooks: [],
        suspended: [],
        instances: [],
        nextSubnet: 0,
      };
      const problem = applyProperties(ctx, group, ctx.properties);
      if (problem) return failed(problem);
      ctx.world.store.groups.set(name, group);
      ctx.created(name);
      const policy = creationPolicyOf(ctx.definition);
      task = {
        groupName: name,
        awaitingSignals: policy !== undefined,
        deadline: policy ? ctx.world.now() + ctx.world.scaled(policy.timeoutMs) : null,
        signals: [],
      };
      ctx.step.task = task;
      advanceGroup(ctx.world, group); // launches the first instances now
    }
    const group = groupOf(ctx, task.groupName);
    if (!group) return failed(`The Auto Scaling group ${task.groupName} no longer exists`);
    if (group.launchFailure) return failed(group.launchFailure.message, group.name);
    const policy = creationPolicyOf(ctx.definition);
    if (!policy) {
      return group.instances.filter(isLive).length >= group.desiredCapacity
        ? done(group.name)
        : { kind: "wait" };
    }
    const successes = new Set(
      task.signals.filter((s) => s.status === "SUCCESS").map((s) => s.uniqueId),
    );
    const failures = new Set(
      task.signals.filter((s) => s.status === "FAILURE").map((s) => s.uniqueId),
    );
    if (successes.size >= policy.count) return done(group.name);
    if (failures.size > 0) {
      return failed(
        `Received ${failures.size} FAILURE signal(s) out of ${policy.count}. Unable to satisfy 100% MinSuccessfulInstancesPercent requirement`,
        group.name,
      );
    }
    const deadline = task.deadline ?? Number.POSITIVE_INFINITY;
    if (ctx.world.now() >= deadline) {
      return failed(
        `Failed to receive ${policy.count - successes.size} resource signal(s) within the specified duration`,
        group.name,
      );
    }
    return { kind: "wait", wakeAt: deadline };
  },

  update(ctx): Outcome {
    const name = ctx.physicalId ?? ctx.current?.physicalId ?? "";
    const group = groupOf(ctx, name);
    if (!group) return failed(`The Auto Scaling group ${name} does not exist`);
    let task = ctx.step.task as UpdateTask | undefined;
    if (!task) {
      const problem = applyProperties(ctx, group, ctx.properties);
      if (problem) return failed(problem);
      const policy = rollingPolicyOf(ctx.world, ctx.definition);
      // A new launch template version or new subnets leave the instances obsolete:
      // that (or instances that did not match before) is what triggers a rolling update.
      const view = viewOf(ctx.world, group, []);
      task = { groupName: name, awaitingSignals: false, rolling: null, suspended: [], signals: [] };
      ctx.step.task = task;
      if (!policy || !needsRollingUpdate(view.instances)) return done(name);
      group.heldBy = "rolling-update";
      task.rolling = initialRollingState(view);
      task.suspended = policy.suspendProcesses.filter(
        (p) => !group.suspended.some((s) => s.name === p),
      );
      task.awaitingSignals = policy.waitOnResourceSignals;
      suspendProcesses(ctx.world, group, task.suspended);
    }
    if (!task.rolling) return done(name);
    const policy = rollingPolicyOf(ctx.world, ctx.definition)!;
    const step = planRollingUpdate(policy, task.rolling, viewOf(ctx.world, group, task.signals));
    let state = step.state;
    for (const event of step.events) ctx.progress(event);
    for (const action of step.actions) {
      if (action.kind === "set-capacity") {
        group.minSize = action.minSize;
        group.desiredCapacity = action.desiredCapacity;
      } else if (action.kind === "terminate") {
        for (const id of action.instanceIds) beginTermination(ctx.world, group, id);
      } else {
        const launched = launchInto(ctx.world, group, action.count);
        state = recordLaunched(state, launched);
        if (launched.length < action.count) {
          state = {
            ...state,
            phase: "failed",
            failure: group.launchFailure?.message ?? "Launching EC2 instances failed",
          };
        }
      }
    }
    if (step.actions.length > 0 || JSON.stringify(state) !== JSON.stringify(task.rolling)) {
      ctx.world.store.touch(group.owner);
    }
    task.rolling = state;
    if (state.phase === "done") {
      release(ctx, group, task);
      task.awaitingSignals = false;
      return done(name);
    }
    if (state.phase === "failed") {
      release(ctx, group, task);
      task.awaitingSignals = false;
      return failed(state.failure ?? "the rolling update failed");
    }
    return step.wakeAt === undefined ? { kind: "wait" } : { kind: "wait", wakeAt: step.wakeAt };
  },

  delete(ctx): Outcome {
    const name = ctx.physicalId ?? ctx.current?.physicalId ?? "";
    let task = ctx.step.task as DeleteTask | undefined;
    const group = groupOf(ctx, name);
    if (!group) return done(name);
    if (!task) {
      task = { groupName: name };
      ctx.step.task = task;
      group.heldBy = "deletion";
      terminateAll(ctx.world, group);
      advanceGroup(ctx.world, group);
    }
    if (group.instances.length > 0) return { kind: "wait" };
    ctx.world.store.groups.delete(name);
    return done(name);
  },

  cancel(ctx): void {
    const task = ctx.step.task as UpdateTask | undefined;
    if (ctx.mode !== "update" && ctx.mode !== "revert") return;
    const group = task ? groupOf(ctx, task.groupName) : undefined;
    if (task && group && group.heldBy === "rolling-update") release(ctx, group, task);
    if (task) task.awaitingSignals = false;
  },
};
