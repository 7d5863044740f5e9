// Shared by the local cloud's tests: a local cloud on a free port with its own
// loopback network and data directory, SDK clients pointed at it, and polling.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import {
  CloudFormationClient,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  type StackEvent,
} from "@aws-sdk/client-cloudformation";
import { EC2Client } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll } from "vitest";
import {
  type LocalCloud,
  type LocalCloudOptions,
  startLocalCloud,
} from "../../src/localcloud/index.js";
import { waitFor } from "../helpers/waitFor.js";

export const REGION = "eu-west-1";

/** 127.<200-249>.<x>.0: apart from other tests' loopback ranges (the runtime's use 127.100-199). */
export function randomNetwork(): string {
  return `127.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 256)}.0`;
}

export interface Clients {
  cfn: CloudFormationClient;
  asg: AutoScalingClient;
  ec2: EC2Client;
}

export function clientsFor(endpoint: string): Clients {
  const config = {
    region: REGION,
    endpoint,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 5,
  };
  return {
    cfn: new CloudFormationClient(config),
    asg: new AutoScalingClient(config),
    ec2: new EC2Client(config),
  };
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

export async function startTestCloud(
  dataDir: string,
  options: LocalCloudOptions = {},
): Promise<LocalCloud> {
  return startLocalCloud({
    port: 0,
    dataDir,
    network: randomNetwork(),
    operationDelayMs: 20,
    bootDelayMs: 100,
    stopGraceMs: 2000,
    etcdBinary: "/usr/bin/etcd",
    ...options,
  });
}

export interface TestCloud {
  readonly cloud: LocalCloud;
  readonly clients: Clients;
  readonly dataDir: string;
}

/**
 * A local cloud for one test file: started before its tests, closed after
 * them (after `beforeClose`, which stops what acts on it), data removed.
 */
export function useTestCloud(
  prefix: string,
  options: LocalCloudOptions = {},
  beforeClose: () => Promise<unknown> = async () => {},
): TestCloud {
  let started: { cloud: LocalCloud; clients: Clients; dataDir: string } | undefined;
  const get = () => {
    if (!started) throw new Error("the test cloud is not started yet (use it inside tests)");
    return started;
  };
  let dataDir: string | undefined;
  beforeAll(async () => {
    dataDir = await tempDir(prefix);
    const cloud = await startTestCloud(dataDir, options);
    started = { cloud, clients: clientsFor(cloud.endpoint), dataDir };
  });
  afterAll(async () => {
    await beforeClose();
    await started?.cloud.close();
    await removeDir(dataDir);
  });
  return {
    get cloud() {
      return get().cloud;
    },
    get clients() {
      return get().clients;
    },
    get dataDir() {
      return get().dataDir;
    },
  };
}

export async function stackStatus(
  cfn: CloudFormationClient,
  stackName: string,
): Promise<string | undefined> {
  const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  return out.Stacks?.[0]?.StackStatus;
}

/** Waits until the stack reaches one of `statuses`, and returns it. */
export function waitForStatus(
  cfn: CloudFormationClient,
  stackName: string,
  statuses: readonly string[],
  timeoutMs = 60_000,
): Promise<string> {
  return waitFor(
    `stack ${stackName} to reach ${statuses.join(" or ")}`,
    async () => {
      const status = await stackStatus(cfn, stackName);
      return status !== undefined && statuses.includes(status) && status;
    },
    { timeoutMs, intervalMs: 150 },
  );
}

export async function waitForChangeSet(cfn: CloudFormationClient, id: string): Promise<string> {
  return waitFor(`change set ${id}`, async () => {
    const out = await cfn.send(new DescribeChangeSetCommand({ ChangeSetName: id }));
    return (out.Status === "CREATE_COMPLETE" || out.Status === "FAILED") && out.Status;
  });
}

/** Every event of the stack, oldest first. */
export async function allEvents(
  cfn: CloudFormationClient,
  stackName: string,
): Promise<StackEvent[]> {
  const events: StackEvent[] = [];
  let next: string | undefined;
  do {
    const out = await cfn.send(
      new DescribeStackEventsCommand({
        StackName: stackName,
        ...(next ? { NextToken: next } : {}),
      }),
    );
    events.push(...(out.StackEvents ?? []));
    next = out.NextToken;
  } while (next);
  return events.reverse();
}

export function eventLines(events: readonly StackEvent[]): string[] {
  return events.map(
    (e) =>
      `${e.LogicalResourceId} ${e.ResourceStatus}${e.ResourceStatusReason ? ` ${e.ResourceStatusReason}` : ""}`,
  );
}

export async function groupOf(asg: AutoScalingClient, name: string) {
  const out = await asg.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return out.AutoScalingGroups?.[0];
}

/** The error a call fails with (a test that expects it to fail says so). */
export async function failure(promise: Promise<unknown>): Promise<Error & { name: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { name: string };
  }
  throw new Error("the call succeeded");
}
