// CloudFormation as plain data: live stacks, change sets, events. Every
// function takes the SDK client and returns values the pure core can read.
import { randomUUID } from "node:crypto";
import type {
  Change,
  CloudFormationClient,
  DescribeChangeSetCommandOutput,
  Stack,
} from "@aws-sdk/client-cloudformation";
import { classifyAwsError, isNoChangeReason, isStackMissing } from "./awsErrors.js";
import {
  CancelUpdateStackCommand,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  ListChangeSetsCommand,
  UpdateTerminationProtectionCommand,
} from "./sdk.js";

export interface LiveStack {
  stackId: string;
  stackName: string;
  status: string;
  statusReason?: string;
  tags: Record<string, string>;
  outputs: Record<string, string>;
  terminationProtection: boolean;
  lastUpdated?: Date;
  /** The change set last executed on the stack (DescribeStacks ChangeSetId). */
  changeSetId?: string;
}

function toLiveStack(stack: Stack): LiveStack {
  const tags: Record<string, string> = {};
  for (const tag of stack.Tags ?? []) if (tag.Key) tags[tag.Key] = tag.Value ?? "";
  const outputs: Record<string, string> = {};
  for (const o of stack.Outputs ?? []) if (o.OutputKey) outputs[o.OutputKey] = o.OutputValue ?? "";
  const updated = stack.LastUpdatedTime ?? stack.CreationTime;
  return {
    stackId: stack.StackId ?? "",
    stackName: stack.StackName ?? "",
    status: stack.StackStatus ?? "UNKNOWN",
    ...(stack.StackStatusReason ? { statusReason: stack.StackStatusReason } : {}),
    tags,
    outputs,
    terminationProtection: Boolean(stack.EnableTerminationProtection),
    ...(updated ? { lastUpdated: updated } : {}),
    ...(stack.ChangeSetId ? { changeSetId: stack.ChangeSetId } : {}),
  };
}

/** The live stack, or undefined when there is none (DELETE_COMPLETE stacks are not returned by name). */
export async function describeStack(
  cfn: CloudFormationClient,
  stackName: string,
): Promise<LiveStack | undefined> {
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = out.Stacks?.[0];
    return stack ? toLiveStack(stack) : undefined;
  } catch (error) {
    if (isStackMissing(error)) return undefined;
    throw classifyAwsError(error, `reading stack ${stackName}`);
  }
}

/** Every live stack of the account and region, one DescribeStacks page at a time. */
export async function listStacks(cfn: CloudFormationClient): Promise<LiveStack[]> {
  const stacks: LiveStack[] = [];
  let nextToken: string | undefined;
  do {
    try {
      const out = await cfn.send(
        new DescribeStacksCommand(nextToken ? { NextToken: nextToken } : {}),
      );
      for (const stack of out.Stacks ?? []) stacks.push(toLiveStack(stack));
      nextToken = out.NextToken;
    } catch (error) {
      throw classifyAwsError(error, "listing stacks");
    }
  } while (nextToken);
  return stacks;
}

export interface ChangeSetRequest {
  stackName: string;
  changeSetName: string;
  templateBody: string;
  tags: { Key: string; Value: string }[];
  type: "CREATE" | "UPDATE";
  description?: string;
}

export async function createChangeSet(
  cfn: CloudFormationClient,
  request: ChangeSetRequest,
): Promise<string> {
  try {
    const out = await cfn.send(
      new CreateChangeSetCommand({
        StackName: request.stackName,
        ChangeSetName: request.changeSetName,
        ChangeSetType: request.type,
        TemplateBody: request.templateBody,
        Tags: request.tags,
        Capabilities: ["CAPABILITY_IAM"],
        ...(request.description ? { Description: request.description } : {}),
      }),
    );
    return out.Id ?? request.changeSetName;
  } catch (error) {
    throw classifyAwsError(error, `creating change set for ${request.stackName}`);
  }
}

export type ChangeSetOutcome =
  | { kind: "changes"; id: string; changes: Change[]; executable: boolean }
  | { kind: "no-changes"; id: string; reason: string }
  | { kind: "failed"; id: string; reason: string };

/** Polls until the change set is computed, then reads every page of its changes. */
export async function waitForChangeSet(
  cfn: CloudFormationClient,
  id: string,
  options: { stackName: string; pollMs?: number; timeoutMs?: number; signal?: AbortSignal },
): Promise<ChangeSetOutcome> {
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  for (;;) {
    const first = await describeChangeSetPage(cfn, id, options.stackName);
    const status = first.Status ?? "";
    if (status === "FAILED") {
      const reason = first.StatusReason ?? "no reason given";
      return isNoChangeReason(reason)
        ? { kind: "no-changes", id, reason }
        : { kind: "failed", id, reason };
    }
    if (status === "CREATE_COMPLETE") {
      const changes = [...(first.Changes ?? [])];
      let next = first.NextToken;
      while (next) {
        const page = await describeChangeSetPage(cfn, id, options.stackName, next);
        changes.push(...(page.Changes ?? []));
        next = page.NextToken;
      }
      return { kind: "changes", id, changes, executable: first.ExecutionStatus === "AVAILABLE" };
    }
    if (Date.now() > deadline) {
      return { kind: "failed", id, reason: `change set still ${status} after the time limit` };
    }
    await sleep(options.pollMs ?? 500, options.signal);
  }
}

async function describeChangeSetPage(
  cfn: CloudFormationClient,
  id: string,
  stackName: string,
  nextToken?: string,
): Promise<DescribeChangeSetCommandOutput> {
  try {
    return await cfn.send(
      new DescribeChangeSetCommand({
        ChangeSetName: id,
        StackName: stackName,
        IncludePropertyValues: true,
        ...(nextToken ? { NextToken: nextToken } : {}),
      }),
    );
  } catch (error) {
    throw classifyAwsError(error, `reading change set ${id}`);
  }
}

export async function executeChangeSet(
  cfn: CloudFormationClient,
  id: string,
  stackName: string,
): Promise<void> {
  try {
    // The token makes the SDK's own retries of this call idempotent: a retry after
    // a lost response must not fail as "already executed".
    await cfn.send(
      new ExecuteChangeSetCommand({
        ChangeSetName: id,
        StackName: stackName,
        ClientRequestToken: `quorate-${randomUUID()}`,
      }),
    );
  } catch (error) {
    throw classifyAwsError(error, `executing change set for ${stackName}`);
  }
}

export async function deleteChangeSet(
  cfn: CloudFormationClient,
  id: string,
  stackName: string,
): Promise<void> {
  try {
    await cfn.send(new DeleteChangeSetCommand({ ChangeSetName: id, StackName: stackName }));
  } catch (error) {
    const name = (error as { name?: string }).name ?? "";
    if (name.startsWith("ChangeSetNotFound") || isStackMissing(error)) return;
    throw classifyAwsError(error, `deleting change set ${id}`);
  }
}

export async function listChangeSetNames(
  cfn: CloudFormationClient,
  stackName: string,
): Promise<string[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const out = await cfn.send(
        new ListChangeSetsCommand({
          StackName: stackName,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      for (const s of out.Summaries ?? []) if (s.ChangeSetName) names.push(s.ChangeSetName);
      nextToken = out.NextToken;
    } while (nextToken);
  } catch (error) {
    if (isStackMissing(error)) return [];
    throw classifyAwsError(error, `listing change sets of ${stackName}`);
  }
  return names;
}

export async function deleteStack(cfn: CloudFormationClient, stackName: string): Promise<void> {
  try {
    await cfn.send(new DeleteStackCommand({ StackName: stackName }));
  } catch (error) {
    throw classifyAwsError(error, `deleting stack ${stackName}`);
  }
}

export async function cancelUpdate(cfn: CloudFormationClient, stackName: string): Promise<void> {
  try {
    await cfn.send(new CancelUpdateStackCommand({ StackName: stackName }));
  } catch (error) {
    throw classifyAwsError(error, `cancelling the update of ${stackName}`);
  }
}

export async function setTerminationProtection(
  cfn: CloudFormationClient,
  stackName: string,
  enabled: boolean,
): Promise<void> {
  try {
    await cfn.send(
      new UpdateTerminationProtectionCommand({
        StackName: stackName,
        EnableTerminationProtection: enabled,
      }),
    );
  } catch (error) {
    throw classifyAwsError(error, `setting termination protection of ${stackName}`);
  }
}

export async function getTemplateBody(
  cfn: CloudFormationClient,
  stackName: string,
): Promise<string | undefined> {
  try {
    const out = await cfn.send(new GetTemplateCommand({ StackName: stackName }));
    return out.TemplateBody;
  } catch (error) {
    if (isStackMissing(error)) return undefined;
    throw classifyAwsError(error, `reading the template of ${stackName}`);
  }
}

export interface StackEvent {
  id: string;
  at: Date;
  logicalId: string;
  resourceType: string;
  status: string;
  reason?: string;
}

/** Events newer than `afterId`, oldest first (AWS lists newest first). */
export async function stackEventsSince(
  cfn: CloudFormationClient,
  stackName: string,
  afterId: string | undefined,
): Promise<StackEvent[]> {
  const collected: StackEvent[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const out = await cfn.send(
        new DescribeStackEventsCommand({
          StackName: stackName,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      for (const e of out.StackEvents ?? []) {
        if (e.EventId === afterId) return collected.reverse();
        collected.push({
          id: e.EventId ?? "",
          at: e.Timestamp ?? new Date(0),
          logicalId: e.LogicalResourceId ?? "",
          resourceType: e.ResourceType ?? "",
          status: e.ResourceStatus ?? "",
          ...(e.ResourceStatusReason ? { reason: e.ResourceStatusReason } : {}),
        });
      }
      nextToken = afterId === undefined ? undefined : out.NextToken;
    } while (nextToken);
  } catch (error) {
    throw classifyAwsError(error, `reading events of ${stackName}`);
  }
  return collected.reverse();
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The physical id of one resource of a stack (the group's name, say), while it exists. */
export async function stackResourceId(
  cfn: CloudFormationClient,
  stackName: string,
  logicalId: string,
): Promise<string | undefined> {
  try {
    const out = await cfn.send(
      new DescribeStackResourcesCommand({ StackName: stackName, LogicalResourceId: logicalId }),
    );
    return out.StackResources?.[0]?.PhysicalResourceId || undefined;
  } catch (error) {
    if (isStackMissing(error)) return undefined;
    throw classifyAwsError(error, `reading resource ${logicalId} of ${stackName}`);
  }
}
