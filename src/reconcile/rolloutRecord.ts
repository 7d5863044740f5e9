// Writing a finished rollout's member durations into the history tag on the
// cluster's Auto Scaling group (plan/rolloutHistory.ts), where any later
// `quorate plan`, a CI job or a fresh process, reads them with the
// DescribeAutoScalingGroups call it makes anyway.
//
// A tag on the group is no stack operation: CreateOrUpdateTags changes the tag
// and nothing else, and CloudFormation leaves alone a tag that neither the
// template nor the stack declares, so later updates keep it. Recording is a
// nicety: every failure is returned as a value, logged and counted by the
// caller, and never fails or holds the rollout it describes.
import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { describeGroups, tagGroup } from "../aws/groups.js";
import { describeError } from "../errors.js";
import { appendRollout } from "../plan/rolloutHistory.js";
import { GROUP_TAG } from "../render/contract.js";

export type RecordResult =
  | { kind: "recorded"; value: string; message: string }
  | { kind: "skipped"; message: string }
  | { kind: "failed"; message: string };

export interface RecordOptions {
  asg: AutoScalingClient;
  /** The group the rollout ran on, as supervision last saw it. */
  groupName: string | undefined;
  /** Seconds per member, as the supervisor measured them. */
  memberSeconds: readonly number[];
  now?: () => number;
}

export async function recordRollout(options: RecordOptions): Promise<RecordResult> {
  if (options.memberSeconds.length === 0) {
    return { kind: "skipped", message: "no member replacement was measured: nothing to record" };
  }
  const groupName = options.groupName;
  if (!groupName) {
    return { kind: "failed", message: "the rollout's group is not known: nothing recorded" };
  }
  try {
    // Read again just before writing: another rollout may have been recorded
    // since this one started, and the new word goes in front of it.
    const group = (await describeGroups(options.asg, [groupName])).get(groupName);
    if (!group) {
      return { kind: "failed", message: `the group ${groupName} is gone: nothing recorded` };
    }
    const value = appendRollout(group.tags[GROUP_TAG.rolloutHistory], {
      finishedAt: new Date((options.now ?? Date.now)()).toISOString(),
      memberSeconds: [...options.memberSeconds],
    });
    await tagGroup(options.asg, { group: groupName, key: GROUP_TAG.rolloutHistory, value });
    return {
      kind: "recorded",
      value,
      message: `rollout recorded on the group ${groupName} (${GROUP_TAG.rolloutHistory}): ${value}`,
    };
  } catch (error) {
    return {
      kind: "failed",
      message: `the rollout's durations were not recorded on ${groupName}: ${describeError(error)}`,
    };
  }
}
