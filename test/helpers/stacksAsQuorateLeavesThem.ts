// Stacks created the way quorate's apply leaves them, for tests whose local
// cloud runs instances WITHOUT etcd (scale-test mode): a CREATE change set with
// the rendered template and quorate's stack tags, executed, and the launching
// hooks completed through the SDK. That last step stands in for quorate's
// bootstrap, because there is no etcd to bootstrap.
import { join } from "node:path";
import {
  type AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
} from "@aws-sdk/client-auto-scaling";
import { type AwsClients, createAwsClientPool } from "../../src/aws/clients.js";
import { completeLifecycleAction } from "../../src/aws/groups.js";
import {
  createChangeSet,
  executeChangeSet,
  listStacks,
  sleep,
  waitForChangeSet,
} from "../../src/aws/stacks.js";
import { type LocalCloud, startLocalCloud } from "../../src/localcloud/index.js";
import type { ClusterSpec } from "../../src/manifest/types.js";
import { DEFAULT_OWNER } from "../../src/reconcile/ownership.js";
import { mapBounded } from "../../src/reconcile/planRepo.js";
import type { PassSummary } from "../../src/reconcile/reconciler.js";
import { type AmiFeed, createAmiFeed } from "../../src/render/ami.js";
import { HOOK_NAME } from "../../src/render/contract.js";
import { renderStack, stackTags } from "../../src/render/template.js";
import { waitFor } from "./waitFor.js";

/**
 * A fast local cloud whose instances run without etcd (scale-test mode), with
 * SDK clients and the AMI feed pointed at it. State lives under `scratch`.
 */
export async function startScaleTestCloud(
  scratch: string,
): Promise<{ cloud: LocalCloud; aws: (region: string) => AwsClients; amiFeed: AmiFeed }> {
  const cloud = await startLocalCloud({
    port: 0,
    dataDir: join(scratch, "cloud"),
    // 127.250-254.x: no etcd of another test listens there (and none of ours does).
    network: `127.${250 + Math.floor(Math.random() * 5)}.${Math.floor(Math.random() * 200)}.0`,
    timeScale: 0.05,
    bootDelayMs: 20,
    operationDelayMs: 2,
    stopGraceMs: 1000,
    withoutEtcd: true,
  });
  const aws = createAwsClientPool({ endpoint: cloud.endpoint }, {});
  const amiFeed = createAmiFeed({
    source: `${cloud.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
  });
  return { cloud, aws, amiFeed };
}

/** One reconcile pass, with the AWS calls it made by action (the local cloud's counters). */
export async function countedPass(cloud: LocalCloud, pass: () => Promise<PassSummary>) {
  await cloud.admin.resetCounters();
  const started = performance.now();
  const summary = await pass();
  const wallMs = performance.now() - started;
  const calls = await cloud.admin.counters();
  const total = Object.values(calls).reduce((a, b) => a + b, 0);
  return { summary, calls, total, wallMs };
}

/**
 * Creates every cluster's stack as quorate's apply would leave it, several at
 * a time, and waits until each is CREATE_COMPLETE with its instance InService.
 */
export async function createStacksAsQuorateLeavesThem(
  clients: AwsClients,
  specs: readonly ClusterSpec[],
  feed: AmiFeed,
  at: string,
  /** The applying quorate's owner; null leaves quorate's tags off (a stack made by hand). */
  owner: string | null = DEFAULT_OWNER,
): Promise<void> {
  const cfn = clients.cloudFormation;
  const hooks = completeLaunchingHooks(clients.autoScaling);
  try {
    await mapBounded(specs, 16, async (spec) => {
      const rendered = renderStack(spec, { imageId: await feed.resolve(spec) });
      const id = await createChangeSet(cfn, {
        stackName: spec.stackName,
        changeSetName: `quorate-${rendered.templateSha256.slice(0, 10)}`,
        templateBody: rendered.templateBody,
        tags: owner === null ? [] : stackTags(rendered, { revision: at, owner }),
        type: "CREATE",
      });
      const outcome = await waitForChangeSet(cfn, id, { stackName: spec.stackName, pollMs: 50 });
      if (outcome.kind !== "changes") throw new Error(`${spec.name}: change set ${outcome.kind}`);
      await executeChangeSet(cfn, id, spec.stackName);
    });
    const failed = await waitFor(
      `${specs.length} stacks created`,
      async () => {
        const stacks = await listStacks(cfn);
        const failed = stacks.filter((s) => /FAILED|ROLLBACK/.test(s.status));
        if (failed.length > 0) return failed.map((s) => `${s.stackName} ${s.status}`).join(",");
        const wanted = new Set(specs.map((s) => s.stackName));
        const complete = stacks.filter(
          (s) => wanted.has(s.stackName) && s.status === "CREATE_COMPLETE",
        ).length;
        if (complete === specs.length && hooks.pending() === 0) return "";
        throw new Error(`only ${complete} of ${specs.length} stacks are created`);
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    );
    // A failed stack will not be created: say so at once.
    if (failed) throw new Error(`stacks failed: ${failed}`);
  } finally {
    await hooks.stop();
  }
}

/**
 * The stand-in for quorate's bootstrap: completes every launching hook that
 * holds an instance (CONTINUE), polling every group.
 */
function completeLaunchingHooks(asg: AutoScalingClient) {
  let stopped = false;
  let pending = -1;
  let failure: unknown;
  const loop = (async () => {
    while (!stopped && failure === undefined) {
      const waiting: { group: string; instanceId: string }[] = [];
      let notInService = 0;
      let nextToken: string | undefined;
      do {
        const out = await asg.send(
          new DescribeAutoScalingGroupsCommand({ MaxRecords: 100, NextToken: nextToken }),
        );
        for (const g of out.AutoScalingGroups ?? [])
          for (const i of g.Instances ?? []) {
            if (i.LifecycleState !== "InService") notInService++;
            if (i.LifecycleState === "Pending:Wait")
              waiting.push({ group: g.AutoScalingGroupName ?? "", instanceId: i.InstanceId ?? "" });
          }
        nextToken = out.NextToken;
      } while (nextToken);
      pending = notInService;
      await mapBounded(waiting, 8, (w) =>
        completeLifecycleAction(asg, {
          ...w,
          hook: HOOK_NAME.launching,
          result: "CONTINUE",
        }),
      );
      await sleep(100);
    }
  })().catch((error: unknown) => {
    failure = error;
  });
  return {
    /** Instances not yet InService at the last look (-1 before the first). */
    pending: () => {
      if (failure !== undefined) throw failure;
      return pending;
    },
    stop: async () => {
      stopped = true;
      await loop;
      if (failure !== undefined) throw failure;
    },
  };
}
