// Writing a finished rollout's member durations into the stack's history tag
// (plan/rolloutHistory.ts), where any later `quorate plan`, a CI job or a fresh
// process, reads them with the DescribeStacks it makes anyway.
//
// Stack tags change only through a stack update. This one is a change set with
// the stack's own template (UsePreviousTemplate) and the same tags but one, so
// CloudFormation retags resources in place and the group does not roll: the
// change set is read before it is executed, and anything beyond retagging is
// refused. It runs only on a settled stack (never against another update), and
// waits for its own update to settle so that the next pass finds the stack at
// rest. Recording is a nicety: every failure is returned as a value, logged and
// counted by the caller, and never fails or holds the rollout it describes.
import { randomBytes } from "node:crypto";
import type { AwsClients } from "../aws/clients.js";
import {
  createChangeSet,
  deleteChangeSet,
  describeStack,
  executeChangeSet,
  type LiveStack,
  sleep,
  waitForChangeSet,
} from "../aws/stacks.js";
import { describeError } from "../errors.js";
import {
  beyondRetagging,
  formatRolloutHistory,
  parseRolloutHistory,
  tagsWithHistory,
  withRollout,
} from "../plan/rolloutHistory.js";
import { STACK_TAG } from "../render/contract.js";
import { stackState } from "./preview.js";

export type RecordResult =
  | { kind: "recorded"; value: string; message: string }
  | { kind: "skipped"; message: string }
  | { kind: "failed"; message: string };

export interface RecordOptions {
  aws: AwsClients;
  stackName: string;
  /** Seconds per member, as the supervisor measured them. */
  memberSeconds: readonly number[];
  now?: () => number;
  signal?: AbortSignal;
  pollMs?: number;
  /** How long the tag update may take to settle (default 10 minutes). */
  settleTimeoutMs?: number;
}

export async function recordRollout(options: RecordOptions): Promise<RecordResult> {
  const { aws, stackName } = options;
  if (options.memberSeconds.length === 0) {
    return { kind: "skipped", message: "no member replacement was measured: nothing to record" };
  }
  try {
    const live = await describeStack(aws.cloudFormation, stackName);
    if (!live || stackState(live) !== "settled") {
      // Another operation (a second quorate's change) is under way: retagging
      // now would be refused, or would queue behind it and hold this task.
      return {
        kind: "failed",
        message: `stack is ${live?.status ?? "gone"}: the rollout's durations are not recorded`,
      };
    }
    const finishedAt = new Date((options.now ?? Date.now)()).toISOString();
    const history = withRollout(parseRolloutHistory(live.tags[STACK_TAG.rolloutHistory]), {
      finishedAt,
      memberSeconds: [...options.memberSeconds],
    });
    const value = formatRolloutHistory(history);
    return await retag(options, live, value);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    return { kind: "failed", message: `recording the rollout failed: ${describeError(error)}` };
  }
}

async function retag(
  options: RecordOptions,
  live: LiveStack,
  value: string,
): Promise<RecordResult> {
  const { aws, stackName } = options;
  const cfn = aws.cloudFormation;
  const id = await createChangeSet(cfn, {
    stackName,
    changeSetName: `quorate-history-${randomBytes(4).toString("hex")}`,
    tags: tagsWithHistory(live.tags, STACK_TAG.rolloutHistory, value),
    type: "UPDATE",
    description: "quorate: record the rollout's member durations (tags only)",
  });
  const waitOptions = {
    stackName,
    ...(options.pollMs ? { pollMs: options.pollMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const outcome = await waitForChangeSet(cfn, id, waitOptions);
  if (outcome.kind !== "changes") {
    await deleteChangeSet(cfn, id, stackName);
    if (outcome.kind === "no-changes") return recorded(value);
    return { kind: "failed", message: `the history change set failed: ${outcome.reason}` };
  }
  const beyond = beyondRetagging(outcome.changes);
  if (beyond || !outcome.executable) {
    await deleteChangeSet(cfn, id, stackName);
    return {
      kind: "failed",
      message: beyond
        ? `the history change set would do more than retag (${beyond}): not executed`
        : "the history change set is not executable",
    };
  }
  await executeChangeSet(cfn, id, stackName);
  const settled = await waitUntilSettled(options);
  if (settled?.status !== "UPDATE_COMPLETE") {
    return {
      kind: "failed",
      message: `the history update ended ${settled?.status ?? "without a stack"}`,
    };
  }
  return recorded(value);
}

function recorded(value: string): RecordResult {
  return { kind: "recorded", value, message: `rollout recorded in the stack's history: ${value}` };
}

async function waitUntilSettled(options: RecordOptions): Promise<LiveStack | undefined> {
  const deadline = Date.now() + (options.settleTimeoutMs ?? 600_000);
  for (;;) {
    const live = await describeStack(options.aws.cloudFormation, options.stackName);
    if (stackState(live) !== "in-progress") return live;
    if (Date.now() > deadline) {
      throw new Error(`stack still ${live?.status} after the time limit`);
    }
    await sleep(options.pollMs ?? 1000, options.signal);
  }
}
