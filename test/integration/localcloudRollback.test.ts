// Rollbacks of a rolling update on the local cloud, with real etcd members:
// CancelUpdateStack in the middle of it, and a batch whose signal never comes.
// Either way CloudFormation rolls back to the previous template, itself a
// rolling update back to the old launch template version.
import {
  CancelUpdateStackCommand,
  ContinueUpdateRollbackCommand,
  GetTemplateCommand,
} from "@aws-sdk/client-cloudformation";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { createEtcdClient } from "../../src/etcd/client.js";
import { LOGICAL_ID } from "../../src/render/contract.js";
import { waitFor } from "../helpers/waitFor.js";
import {
  allEvents,
  eventLines,
  groupOf,
  useTestCloud,
  waitForStatus,
} from "../localcloud/cloudHelpers.js";
import type { QuorateActor } from "../localcloud/quorateActor.js";
import {
  changeSet,
  createCluster,
  devCluster,
  execute,
  groupNameOf,
  render,
} from "../localcloud/stackFlows.js";

const actors: QuorateActor[] = [];
// PT10M lasts 24 s: the missed signal fails its batch after 24 s, and a busy
// machine still completes every other hook and signal in time.
const t = useTestCloud("lc-rollback-", { timeScale: 0.04 }, () =>
  Promise.all(actors.map((a) => a.stop())),
);

/** Creates a cluster and starts its image update; returns the template body it replaced. */
async function startImageUpdate(
  stackName: string,
  name: string,
  beforeExecute: () => Promise<void> = async () => {},
  signalTimeout?: string,
): Promise<string> {
  const dev = await devCluster({ name, stackName });
  const cluster = signalTimeout
    ? { ...dev, updatePolicy: { ...dev.updatePolicy, signalTimeout } }
    : dev;
  const created = await createCluster(t.clients, cluster);
  actors.push(created.actor);
  const original = await t.clients.cfn.send(new GetTemplateCommand({ StackName: stackName }));
  const next = render(cluster, "4152.2.0");
  const update = await changeSet(t.clients, {
    stackName,
    name: "new-image",
    type: "UPDATE",
    templateBody: next.templateBody,
    tags: next.tags,
  });
  await beforeExecute();
  await execute(t.clients, update.id);
  return original.TemplateBody!;
}

/** After the rollback: the old template, every instance on launch template version 1, etcd whole. */
async function expectRolledBack(stackName: string, originalTemplate: string): Promise<void> {
  const template = await t.clients.cfn.send(new GetTemplateCommand({ StackName: stackName }));
  expect(template.TemplateBody).toBe(originalTemplate);
  const group = await groupOf(t.clients.asg, await groupNameOf(t.clients, stackName));
  expect(group?.LaunchTemplate?.Version).toBe("1");
  expect(group?.SuspendedProcesses).toEqual([]);
  expect(group?.Instances?.map((i) => [i.LifecycleState, i.LaunchTemplate?.Version])).toEqual([
    ["InService", "1"],
    ["InService", "1"],
    ["InService", "1"],
  ]);
  const ids = group!.Instances!.map((i) => i.InstanceId!);
  const described = await t.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  const ip = described.Reservations![0]!.Instances![0]!.PrivateIpAddress!;
  const etcd = createEtcdClient(`http://${ip}:2379`);
  const members = (await etcd.memberList()).members;
  expect(members.map((m) => m.name).sort()).toEqual([...ids].sort());
  expect(members.every((m) => !m.isLearner)).toBe(true);
  // The last replacement may have just moved leadership; /health says false
  // until a leader is elected, so etcd gets a bounded moment to settle.
  await waitFor("etcd healthy after the rollback", async () => (await etcd.health()).healthy, {
    timeoutMs: 20_000,
  });
}

describe("rolling back a rolling update", () => {
  it("CancelUpdateStack mid-update stops the batch and rolls back to the previous template", async () => {
    const stackName = "quorate-dev-cancel";
    // Every signal of this story comes: PT30M (72 s here) lets the rollback's
    // replacement boot and join on a loaded machine (CI once saw 24 s run out).
    const original = await startImageUpdate(stackName, "dev-cancel", undefined, "PT30M");
    await waitFor(
      "the first new instance",
      async () => {
        const lines = eventLines(await allEvents(t.clients.cfn, stackName));
        return lines.some((l) => l.includes("New instance(s) added to autoscaling group"));
      },
      { timeoutMs: 60_000 },
    );
    await t.clients.cfn.send(new CancelUpdateStackCommand({ StackName: stackName }));
    const status = await waitForStatus(
      t.clients.cfn,
      stackName,
      ["UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED"],
      150_000,
    );
    const lines = eventLines(await allEvents(t.clients.cfn, stackName));
    const group = await groupOf(t.clients.asg, await groupNameOf(t.clients, stackName));
    const seen = [
      ...lines,
      "-- the actor (quorate's stand-in) did:",
      ...(actors.at(-1)?.log ?? []),
      "-- the group's instances now:",
      ...(group?.Instances ?? []).map(
        (i) => `${i.InstanceId} ${i.LifecycleState} v${i.LaunchTemplate?.Version}`,
      ),
    ];
    expect(status, seen.join("\n")).toBe("UPDATE_ROLLBACK_COMPLETE");
    expect(lines).toContain(`${LOGICAL_ID.group} UPDATE_FAILED Resource update cancelled`);
    expect(lines).toContain(`${stackName} UPDATE_ROLLBACK_IN_PROGRESS Stack update cancelled`);
    const cancelledAt = lines.indexOf(
      `${stackName} UPDATE_ROLLBACK_IN_PROGRESS Stack update cancelled`,
    );
    const rollback = lines.slice(cancelledAt);
    // The rollback is a rolling update of its own, back to the old version.
    expect(
      rollback.some((l) =>
        /Rolling update initiated\. Terminating [12] obsolete instance\(s\)/.test(l),
      ),
    ).toBe(true);
    expect(rollback.slice(-2)).toEqual([
      `${stackName} UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS`,
      `${stackName} UPDATE_ROLLBACK_COMPLETE`,
    ]);
    await expectRolledBack(stackName, original);
  });

  it("a missed signal fails the batch; a rollback that fails waits for ContinueUpdateRollback", async () => {
    const stackName = "quorate-dev-missed";
    // Once the cluster is created: the next signal (the first new instance's) is lost,
    // and the first attempt to roll the launch template back fails.
    const original = await startImageUpdate(stackName, "dev-missed", async () => {
      await t.cloud.admin.signalFault({ mode: "drop", count: 1 });
      await t.cloud.admin.resourceFault({
        stackName,
        logicalId: LOGICAL_ID.launchTemplate,
        phase: "rollback",
        count: 1,
        message: "Injected: the launch template could not be rolled back",
      });
    });
    expect(
      await waitForStatus(
        t.clients.cfn,
        stackName,
        ["UPDATE_ROLLBACK_FAILED", "UPDATE_COMPLETE"],
        120_000,
      ),
    ).toBe("UPDATE_ROLLBACK_FAILED");
    let lines = eventLines(await allEvents(t.clients.cfn, stackName));
    expect(lines).toContain(
      `${LOGICAL_ID.group} UPDATE_IN_PROGRESS Failed to receive 1 resource signal(s) for the current batch.  Each resource signal timeout is counted as a FAILURE.`,
    );
    expect(lines).toContain(
      `${LOGICAL_ID.group} UPDATE_FAILED Received 0 SUCCESS signal(s) out of 1.  Unable to satisfy 100% MinSuccessfulInstancesPercent requirement`,
    );
    expect(lines).toContain(
      `${stackName} UPDATE_ROLLBACK_IN_PROGRESS The following resource(s) failed to update: [${LOGICAL_ID.group}].`,
    );
    expect(lines).toContain(
      `${LOGICAL_ID.launchTemplate} UPDATE_FAILED Injected: the launch template could not be rolled back`,
    );
    expect(lines.at(-1)).toBe(
      `${stackName} UPDATE_ROLLBACK_FAILED The following resource(s) failed to update: [${LOGICAL_ID.launchTemplate}].`,
    );

    await t.clients.cfn.send(new ContinueUpdateRollbackCommand({ StackName: stackName }));
    const status = await waitForStatus(
      t.clients.cfn,
      stackName,
      ["UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED"],
      150_000,
    );
    lines = eventLines(await allEvents(t.clients.cfn, stackName));
    expect(status, lines.join("\n")).toBe("UPDATE_ROLLBACK_COMPLETE");
    await expectRolledBack(stackName, original);
  });
});
