// What a change does to the etcd members: whether CloudFormation replaces the
// group's instances, how many, in what order and how long it may take.
// Rules: the UpdatePolicy attribute, AutoScalingRollingUpdate
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-updatepolicy.html).
import { parseIsoDuration } from "../manifest/duration.js";
import type {
  ClusterStatus,
  ResourceChange,
  RolloutImpact,
  RolloutOrder,
  RolloutReason,
} from "./model.js";
import {
  type CfnResource,
  intValue,
  isRecord,
  propertiesOf,
  referencesIn,
  resourcesOf,
} from "./template.js";
import { faultTolerance } from "./warnings.js";

export const GROUP_TYPE = "AWS::AutoScaling::AutoScalingGroup";
const LAUNCH_TEMPLATE_TYPE = "AWS::EC2::LaunchTemplate";
const HOOK_TYPE = "AWS::AutoScaling::LifecycleHook";

/** Group properties whose change starts a rolling update of every instance. */
const ROLLING_TRIGGERS = ["LaunchTemplate", "LaunchConfigurationName", "VPCZoneIdentifier"];

/** Defaults of AutoScalingRollingUpdate and of a lifecycle hook's HeartbeatTimeout. */
const DEFAULT_BATCH_SIZE = 1;
const DEFAULT_MIN_IN_SERVICE = 0;
const DEFAULT_PAUSE_WITH_SIGNALS_S = 300;
const DEFAULT_HOOK_HEARTBEAT_S = 3600;

/** What the rendered template says about the group's rollouts. */
export interface GroupFacts {
  logicalId: string;
  size: number | undefined;
  batchSize: number;
  minInService: number;
  pauseSeconds: number;
  terminatingHookSeconds: number;
  creationTimeoutSeconds: number;
  /** Logical id of the launch template the group follows through LatestVersionNumber. */
  launchTemplate?: string;
}

export function groupFacts(template: unknown): GroupFacts | undefined {
  const resources = resourcesOf(template);
  const entry = [...resources].find(([, r]) => r.Type === GROUP_TYPE);
  if (!entry) return undefined;
  const [logicalId, group] = entry;
  const props = propertiesOf(group);
  const rolling = isRecord(group.UpdatePolicy) ? group.UpdatePolicy.AutoScalingRollingUpdate : {};
  const policy = isRecord(rolling) ? rolling : {};
  const waits = policy.WaitOnResourceSignals === true || policy.WaitOnResourceSignals === "true";
  const signal = isRecord(group.CreationPolicy) ? group.CreationPolicy.ResourceSignal : undefined;
  const facts: GroupFacts = {
    logicalId,
    size: intValue(props.DesiredCapacity) ?? intValue(props.MinSize),
    batchSize: intValue(policy.MaxBatchSize) ?? DEFAULT_BATCH_SIZE,
    minInService: intValue(policy.MinInstancesInService) ?? DEFAULT_MIN_IN_SERVICE,
    pauseSeconds: seconds(policy.PauseTime) ?? (waits ? DEFAULT_PAUSE_WITH_SIGNALS_S : 0),
    terminatingHookSeconds: terminatingHookSeconds(logicalId, group, resources),
    creationTimeoutSeconds: seconds(isRecord(signal) ? signal.Timeout : undefined) ?? 0,
  };
  const versionRef = referencesIn(props.LaunchTemplate, "/Properties/LaunchTemplate").find(
    (ref) => ref.attribute === "LatestVersionNumber",
  );
  if (versionRef) facts.launchTemplate = versionRef.target;
  return facts;
}

function seconds(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const ms = parseIsoDuration(value);
  return ms === undefined ? undefined : ms / 1000;
}

function terminatingHookSeconds(
  groupId: string,
  group: CfnResource,
  resources: Map<string, CfnResource>,
): number {
  const hooks: unknown[] = [];
  const inline = propertiesOf(group).LifecycleHookSpecificationList;
  if (Array.isArray(inline)) hooks.push(...inline);
  for (const resource of resources.values()) {
    if (resource.Type !== HOOK_TYPE) continue;
    const props = propertiesOf(resource);
    const refs = referencesIn(props.AutoScalingGroupName, "");
    if (refs.some((ref) => ref.target === groupId)) hooks.push(props);
  }
  let longest = 0;
  for (const hook of hooks) {
    if (!isRecord(hook) || hook.LifecycleTransition !== "autoscaling:EC2_INSTANCE_TERMINATING") {
      continue;
    }
    longest = Math.max(longest, intValue(hook.HeartbeatTimeout) ?? DEFAULT_HOOK_HEARTBEAT_S);
  }
  return longest;
}

export interface RolloutInput {
  status: ClusterStatus;
  changes: readonly ResourceChange[];
  /** The template that would be applied; undefined when the stack is deleted. */
  desired?: unknown;
  /** The template now applied (the live stack, or the base revision offline), when known. */
  live?: unknown;
}

export function rolloutImpact(input: RolloutInput): RolloutImpact | undefined {
  const after = input.desired === undefined ? undefined : groupFacts(input.desired);
  const before = input.live === undefined ? undefined : groupFacts(input.live);
  const facts = after ?? before;
  if (!facts) return undefined;
  const groupChange = input.changes.find((c) => c.logicalId === facts.logicalId);
  const sizeBefore =
    input.status === "create"
      ? undefined
      : (before?.size ?? sizeBeforeFrom(groupChange) ?? after?.size);
  const sizeAfter = input.status === "delete" ? undefined : after?.size;
  const impact: RolloutImpact = {
    instancesReplaced: false,
    members: 0,
    newGroup: false,
    order: order(facts, sizeAfter ?? sizeBefore ?? 0),
    minInService: facts.minInService,
    batchSize: facts.batchSize,
    batches: 0,
    signalTimeoutSeconds: facts.pauseSeconds,
    hookTimeoutSeconds: facts.terminatingHookSeconds,
    worstCaseSeconds: 0,
    reasons: [],
  };
  if (sizeBefore !== undefined) impact.sizeBefore = sizeBefore;
  if (sizeAfter !== undefined) impact.sizeAfter = sizeAfter;
  if (input.status === "delete" || input.status === "orphaned") return impact;

  const created = input.status === "create" || groupChange?.action === "add";
  const replaced = groupChange?.action === "modify" && groupChange.replacement !== "never";
  if (created || replaced) {
    // CloudFormation creates the new group (all members at once, a new etcd cluster), then
    // deletes the old one; the creation policy's signal timeout bounds the wait.
    impact.newGroup = true;
    impact.instancesReplaced = replaced;
    impact.members = replaced ? (sizeBefore ?? 0) : 0;
    impact.order = "launch-then-terminate";
    impact.batches = 1;
    impact.worstCaseSeconds = facts.creationTimeoutSeconds;
    if (replaced)
      impact.reasons = groupChange.causes.map((path) => ({
        logicalId: groupChange.logicalId,
        path,
      }));
    return impact;
  }
  const reasons = rollingReasons(facts, input.changes);
  if (reasons.length === 0) return impact;
  const members = sizeBefore ?? sizeAfter ?? 0;
  impact.instancesReplaced = members > 0;
  impact.members = members;
  impact.batches = Math.ceil(members / Math.max(1, facts.batchSize));
  impact.worstCaseSeconds = impact.batches * (facts.pauseSeconds + facts.terminatingHookSeconds);
  impact.reasons = reasons;
  if (members > 0) {
    // Launching first adds a learner, which never votes, then promotes it beside
    // the member it replaces; terminating first runs on one voter fewer.
    const resting = faultTolerance(members);
    const duringRollout =
      impact.order === "launch-then-terminate" ? resting : faultTolerance(members - 1);
    impact.faultTolerance = { resting, duringRollout };
  }
  return impact;
}

function order(facts: GroupFacts, size: number): RolloutOrder {
  return facts.minInService + facts.batchSize > size
    ? "launch-then-terminate"
    : "terminate-then-launch";
}

function sizeBeforeFrom(change: ResourceChange | undefined): number | undefined {
  const diff = change?.properties.find((p) => p.path === "/Properties/DesiredCapacity");
  return intValue(diff?.before);
}

/**
 * A rolling update starts when the group's LaunchTemplate, LaunchConfigurationName or
 * VPCZoneIdentifier changes, including a new launch template version reached through
 * !GetAtt LT.LatestVersionNumber when the launch template's data changes.
 */
function rollingReasons(facts: GroupFacts, changes: readonly ResourceChange[]): RolloutReason[] {
  const reasons: RolloutReason[] = [];
  const seen = new Set<string>();
  const add = (logicalId: string, path: string) => {
    if (seen.has(`${logicalId}${path}`)) return;
    seen.add(`${logicalId}${path}`);
    reasons.push({ logicalId, path });
  };
  const template = changes.find(
    (c) => c.logicalId === facts.launchTemplate && c.type === LAUNCH_TEMPLATE_TYPE,
  );
  if (template?.action === "modify") {
    for (const p of template.properties) {
      if (p.path.startsWith("/Properties/LaunchTemplateData")) add(template.logicalId, p.path);
    }
  }
  const group = changes.find((c) => c.logicalId === facts.logicalId);
  for (const p of group?.properties ?? []) {
    const name = p.path.split("/")[2] ?? "";
    // The version reference itself is implied by the launch template's change above.
    if (p.attribute !== "Properties" || !ROLLING_TRIGGERS.includes(name)) continue;
    if (reasons.length > 0 && p.causedBy === `${facts.launchTemplate}.LatestVersionNumber`)
      continue;
    add(facts.logicalId, p.path);
  }
  return reasons;
}
