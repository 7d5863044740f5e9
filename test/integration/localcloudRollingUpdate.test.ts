// A new image rolled out over a live 3-member etcd cluster on the local cloud:
// the change set names the launch template and the group, and CloudFormation's
// rolling update replaces one instance at a time in the documented order,
// waiting on lifecycle hooks and signals, with AWS's event wordings.
import { DescribeChangeSetCommand, type ResourceChange } from "@aws-sdk/client-cloudformation";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { createEtcdClient } from "../../src/etcd/client.js";
import { localAmiId } from "../../src/localcloud/index.js";
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
  render,
  withRollingUpdate,
} from "../localcloud/stackFlows.js";

const SUSPENDED = [
  "HealthCheck",
  "ReplaceUnhealthy",
  "AZRebalance",
  "AlarmNotification",
  "ScheduledActions",
];

const actors: QuorateActor[] = [];
// PT10M (the dev manifest's signal and hook timeouts) lasts 30 s: room for a busy machine.
const t = useTestCloud("lc-rolling-", { timeScale: 0.05 }, () =>
  Promise.all(actors.map((a) => a.stop())),
);

async function privateIps(ids: string[]): Promise<string[]> {
  const out = await t.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  return out.Reservations!.flatMap((r) => r.Instances ?? []).map((i) => i.PrivateIpAddress!);
}

function change(changes: ResourceChange[], logicalId: string): ResourceChange {
  const found = changes.find((c) => c.LogicalResourceId === logicalId);
  if (!found) throw new Error(`no change for ${logicalId}: ${JSON.stringify(changes)}`);
  return found;
}

/** Lines of the group's events from "Rolling update initiated" on. */
function rollingLines(lines: string[]): string[] {
  const start = lines.findIndex((l) => l.includes("Rolling update initiated"));
  return lines.slice(start).filter((l) => l.startsWith(`${LOGICAL_ID.group} UPDATE_IN_PROGRESS `));
}

describe("rolling a new image over the dev cluster", () => {
  it("replaces one member at a time, terminating first (MinInstancesInService = N-1)", async () => {
    const dev = await devCluster();
    const cluster = await devCluster({
      updatePolicy: { ...dev.updatePolicy, order: "terminateFirst", minInstancesInService: 2 },
    });
    const created = await createCluster(t.clients, cluster);
    actors.push(created.actor);
    const before = await groupOf(t.clients.asg, created.groupName);
    const oldIds = before!.Instances!.map((i) => i.InstanceId!);
    const [firstIp] = await privateIps(oldIds);
    await createEtcdClient(`http://${firstIp}:2379`).put("quorate/kept", "across the rollout");

    const next = render(cluster, "4152.2.0");
    const update = await changeSet(t.clients, {
      stackName: cluster.stackName,
      name: "new-image",
      type: "UPDATE",
      templateBody: next.templateBody,
      tags: next.tags,
    });
    expect(update.status).toBe("CREATE_COMPLETE");
    const described = await t.clients.cfn.send(
      new DescribeChangeSetCommand({ ChangeSetName: update.id, IncludePropertyValues: true }),
    );
    const changes = described.Changes!.map((c) => c.ResourceChange!);
    const template = change(changes, LOGICAL_ID.launchTemplate);
    expect(template).toMatchObject({ Action: "Modify", Replacement: "False" });
    expect(template.Details).toContainEqual(
      expect.objectContaining({
        Target: expect.objectContaining({
          Attribute: "Properties",
          Name: "LaunchTemplateData",
          Path: "/Properties/LaunchTemplateData/ImageId",
          RequiresRecreation: "Never",
          BeforeValue: localAmiId("stable", "4081.2.0", cluster.region),
          AfterValue: localAmiId("stable", "4152.2.0", cluster.region),
        }),
        Evaluation: "Static",
        ChangeSource: "DirectModification",
      }),
    );
    const group = change(changes, LOGICAL_ID.group);
    expect(group).toMatchObject({ Action: "Modify", Replacement: "False" });
    expect(group.Details).toContainEqual({
      Target: {
        Attribute: "Properties",
        Name: "LaunchTemplate",
        Path: "/Properties/LaunchTemplate/Version",
        RequiresRecreation: "Never",
        AttributeChangeType: "Modify",
      },
      Evaluation: "Dynamic",
      ChangeSource: "ResourceAttribute",
      CausingEntity: `${LOGICAL_ID.launchTemplate}.LatestVersionNumber`,
    });
    expect(JSON.parse(group.AfterContext!).Properties.LaunchTemplate.Version).toBe(
      "{{changeSet:KNOWN_AFTER_APPLY}}",
    );

    await execute(t.clients, update.id);
    const during = await waitFor("processes suspended during the update", async () => {
      const g = await groupOf(t.clients.asg, created.groupName);
      const names = g?.SuspendedProcesses?.map((p) => p.ProcessName) ?? [];
      return names.length === SUSPENDED.length && names;
    });
    expect([...during].sort()).toEqual([...SUSPENDED].sort());
    const status = await waitForStatus(
      t.clients.cfn,
      cluster.stackName,
      ["UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"],
      150_000,
    );
    const lines = eventLines(await allEvents(t.clients.cfn, cluster.stackName));
    expect(status, lines.join("\n")).toBe("UPDATE_COMPLETE");

    const rolling = rollingLines(lines);
    expect(rolling[0]).toBe(
      `${LOGICAL_ID.group} UPDATE_IN_PROGRESS Rolling update initiated. Terminating 3 obsolete instance(s) in batches of 1, while keeping at least 2 instance(s) in service. Waiting on resource signals with a timeout of PT10M when new instances are added to the autoscaling group.`,
    );
    // Each batch: terminate one old instance, then launch and wait for its signal.
    const shape = rolling
      .slice(1)
      .map((l) =>
        l.replace(/i-[0-9a-f]+/g, "i-X").replace(`${LOGICAL_ID.group} UPDATE_IN_PROGRESS `, ""),
      );
    const batch = (progress: number) => [
      "Terminating instance(s) [i-X]; replacing with 1 new instance(s).",
      `Successfully terminated instance(s) [i-X] (Progress ${progress}%).`,
      "New instance(s) added to autoscaling group - Waiting on 1 resource signal(s) with a timeout of PT10M.",
      "Received SUCCESS signal with UniqueId i-X",
    ];
    expect(shape).toEqual([...batch(33), ...batch(67), ...batch(100)]);
    for (const id of oldIds)
      expect(rolling.join("\n")).toContain(`Terminating instance(s) [${id}]`);
    // Every batch waited on both hooks: the member was removed before its instance went,
    // and each new one joined as a learner and was promoted.
    const acted = created.actor.log.map((l) => l.split(" ").slice(0, 2).join(" "));
    expect(
      acted.filter((l) => l === "removed member"),
      created.actor.log.join("\n"),
    ).toHaveLength(3);
    expect(acted.filter((l) => l === "added learner")).toHaveLength(3);
    expect(acted.filter((l) => l.startsWith("promoted"))).toHaveLength(3);

    const after = await groupOf(t.clients.asg, created.groupName);
    expect(after?.SuspendedProcesses).toEqual([]);
    expect(after?.Instances?.map((i) => [i.LifecycleState, i.LaunchTemplate?.Version])).toEqual([
      ["InService", "2"],
      ["InService", "2"],
      ["InService", "2"],
    ]);
    const newIds = after!.Instances!.map((i) => i.InstanceId!);
    expect(newIds.some((id) => oldIds.includes(id))).toBe(false);
    const images = await t.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: newIds }));
    for (const i of images.Reservations!.flatMap((r) => r.Instances ?? [])) {
      expect(i.ImageId).toBe(localAmiId("stable", "4152.2.0", cluster.region));
    }
    const [ip] = await privateIps(newIds);
    const etcd = createEtcdClient(`http://${ip}:2379`);
    const members = await etcd.memberList();
    expect(members.members.map((m) => m.name).sort()).toEqual([...newIds].sort());
    expect(members.members.every((m) => !m.isLearner)).toBe(true);
    expect((await etcd.range("quorate/kept")).kvs[0]?.value).toBe("across the rollout");
  });

  it("launches first when MinInstancesInService = N (raising capacity to N+1)", async () => {
    const cluster = await devCluster({ name: "dev-surge", stackName: "quorate-dev-surge" });
    const surge = (body: string) =>
      withRollingUpdate(body, { minInstancesInService: 3, maxSize: 4 });
    const created = await createCluster(
      t.clients,
      cluster,
      surge(render(cluster, "4081.2.0").templateBody),
    );
    actors.push(created.actor);
    const next = render(cluster, "4152.2.0");
    const update = await changeSet(t.clients, {
      stackName: cluster.stackName,
      name: "new-image",
      type: "UPDATE",
      templateBody: surge(next.templateBody),
      tags: next.tags,
    });
    await execute(t.clients, update.id);
    const status = await waitForStatus(
      t.clients.cfn,
      cluster.stackName,
      ["UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"],
      150_000,
    );
    const lines = eventLines(await allEvents(t.clients.cfn, cluster.stackName));
    expect(status, lines.join("\n")).toBe("UPDATE_COMPLETE");
    const start = lines.findIndex((l) =>
      l.includes("Temporarily setting autoscaling group MinSize and DesiredCapacity to 4."),
    );
    expect(start).toBeGreaterThan(0);
    const rolling = rollingLines(lines).map((l) => l.replace(/i-[0-9a-f]+/g, "i-X"));
    expect(rolling[0]).toContain(
      "Terminating 3 obsolete instance(s) in batches of 1, while keeping at least 3 instance(s) in service.",
    );
    // Launch first: the first batch adds an instance before any is terminated.
    const firstLaunch = rolling.findIndex((l) => l.includes("New instance(s) added"));
    const firstTermination = rolling.findIndex((l) => l.includes("Terminating instance(s)"));
    expect(firstLaunch).toBeGreaterThan(0);
    expect(firstLaunch).toBeLessThan(firstTermination);
    expect(rolling).toContain(
      `${LOGICAL_ID.group} UPDATE_IN_PROGRESS Terminating instance(s) [i-X]; replacing with 0 new instance(s).`,
    );
    const after = await groupOf(t.clients.asg, created.groupName);
    expect([after?.MinSize, after?.DesiredCapacity, after?.MaxSize]).toEqual([3, 3, 4]);
    expect(after?.Instances?.map((i) => i.LaunchTemplate?.Version)).toEqual(["2", "2", "2"]);
  });
});
