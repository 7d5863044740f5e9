// The rendered dev cluster (clusters/dev.yaml) created on the local cloud
// through a CREATE change set, with real etcd members. The test plays
// quorate's part through the AWS SDK and the etcd gateway only.
import {
  CreateChangeSetCommand,
  DescribeStackResourcesCommand,
  ExecuteChangeSetCommand,
} from "@aws-sdk/client-cloudformation";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { beforeAll, describe, expect, it } from "vitest";
import { createEtcdClient } from "../../src/etcd/client.js";
import { localAmiId } from "../../src/localcloud/index.js";
import { loadManifests } from "../../src/manifest/load.js";
import type { ClusterSpec } from "../../src/manifest/types.js";
import { INSTANCE_TAG, LOGICAL_ID, STACK_TAG } from "../../src/render/contract.js";
import { renderStack } from "../../src/render/template.js";
import { waitFor } from "../helpers/waitFor.js";
import {
  allEvents,
  eventLines,
  groupOf,
  useTestCloud,
  waitForChangeSet,
  waitForStatus,
} from "../localcloud/cloudHelpers.js";
import { QuorateActor } from "../localcloud/quorateActor.js";

// PT10M (the dev manifest's signal and hook timeouts) lasts 12 s.
const t = useTestCloud("lc-create-", { timeScale: 0.02 });

let spec: ClusterSpec;

beforeAll(async () => {
  const loaded = await loadManifests(["clusters/dev.yaml"], process.cwd());
  spec = loaded.clusters.find((c) => c.name === "dev")!;
});

async function createStack(stackName: string, cluster: ClusterSpec): Promise<string> {
  const rendered = renderStack(cluster, {
    imageId: localAmiId("stable", "4081.2.0", cluster.region),
  });
  const created = await t.clients.cfn.send(
    new CreateChangeSetCommand({
      StackName: stackName,
      ChangeSetName: "create-1",
      ChangeSetType: "CREATE",
      TemplateBody: rendered.templateBody,
      Tags: rendered.tags,
      Capabilities: ["CAPABILITY_IAM"],
    }),
  );
  expect(await waitForChangeSet(t.clients.cfn, created.Id!)).toBe("CREATE_COMPLETE");
  await t.clients.cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: created.Id }));
  return rendered.templateSha256;
}

/** As quorate finds it: the group's physical id, shown as soon as CloudFormation has created it. */
async function groupName(stackName: string): Promise<string> {
  return waitFor("the group to exist", async () => {
    const out = await t.clients.cfn.send(
      new DescribeStackResourcesCommand({
        StackName: stackName,
        LogicalResourceId: LOGICAL_ID.group,
      }),
    );
    return out.StackResources?.[0]?.PhysicalResourceId || false;
  });
}

describe("creating the rendered dev cluster", () => {
  it("forms a healthy 3-member etcd cluster and reaches CREATE_COMPLETE after three signals", async () => {
    const stackName = spec.stackName;
    const sha = await createStack(stackName, spec);
    const name = await groupName(stackName);
    const actor = new QuorateActor({ ...t.clients, groupName: name, size: 3, token: spec.name });
    actor.start();
    try {
      // The instances wait in Pending:Wait until the peer list is published.
      expect(
        await waitForStatus(
          t.clients.cfn,
          stackName,
          ["CREATE_COMPLETE", "ROLLBACK_COMPLETE"],
          90_000,
        ),
      ).toBe("CREATE_COMPLETE");
    } finally {
      await actor.stop();
    }
    const group = await groupOf(t.clients.asg, name);
    expect(group?.Instances?.map((i) => i.LifecycleState)).toEqual([
      "InService",
      "InService",
      "InService",
    ]);

    const ids = group!.Instances!.map((i) => i.InstanceId!);
    const described = await t.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
    const instances = described.Reservations!.flatMap((r) => r.Instances ?? []);
    expect(instances.map((i) => i.State?.Name)).toEqual(["running", "running", "running"]);
    const tags = Object.fromEntries(instances[0]!.Tags!.map((t) => [t.Key, t.Value]));
    // Stack tags and CloudFormation's own reach the instances, as do the published peers.
    expect(tags[STACK_TAG.templateSha256]).toBe(sha);
    expect(tags["aws:cloudformation:stack-name"]).toBe(stackName);
    expect(tags["aws:cloudformation:logical-id"]).toBe(LOGICAL_ID.group);
    expect(tags["aws:autoscaling:groupName"]).toBe(name);
    expect(tags[INSTANCE_TAG.initialClusterState]).toBe("new");

    const etcd = createEtcdClient(`http://${instances[0]!.PrivateIpAddress}:2379`);
    const list = await etcd.memberList();
    expect(list.members).toHaveLength(3);
    expect(list.members.every((m) => !m.isLearner)).toBe(true);
    expect((await etcd.health()).healthy).toBe(true);
    await etcd.put("quorate/test", "written");

    const lines = eventLines(await allEvents(t.clients.cfn, stackName));
    expect(
      lines.filter((l) =>
        l.startsWith(
          `${LOGICAL_ID.group} CREATE_IN_PROGRESS Received SUCCESS signal with UniqueId i-`,
        ),
      ),
    ).toHaveLength(3);
    expect(lines.at(-1)).toBe(`${stackName} CREATE_COMPLETE`);
  });

  it("without anyone completing the hooks, times out in AWS's words and rolls back", async () => {
    const stackName = "quorate-dev-unattended";
    // Hooks outlast the creation timeout, so the instances just wait.
    const cluster: ClusterSpec = {
      ...spec,
      name: "dev-unattended",
      stackName,
      updatePolicy: { ...spec.updatePolicy, signalTimeout: "PT5M", lifecycleHookTimeout: "PT1H" },
    };
    await createStack(stackName, cluster);
    const name = await groupName(stackName);
    const waiting = await waitFor("three instances in Pending:Wait", async () => {
      const group = await groupOf(t.clients.asg, name);
      const states = group?.Instances?.map((i) => i.LifecycleState) ?? [];
      return states.length === 3 && states.every((s) => s === "Pending:Wait") && states;
    });
    expect(waiting).toHaveLength(3);
    expect(await waitForStatus(t.clients.cfn, stackName, ["ROLLBACK_COMPLETE"], 60_000)).toBe(
      "ROLLBACK_COMPLETE",
    );
    const lines = eventLines(await allEvents(t.clients.cfn, stackName));
    expect(lines).toContain(
      `${LOGICAL_ID.group} CREATE_FAILED Failed to receive 3 resource signal(s) within the specified duration`,
    );
    expect(lines).toContain(
      `${stackName} ROLLBACK_IN_PROGRESS The following resource(s) failed to create: [${LOGICAL_ID.group}]. Rollback requested by user.`,
    );
    // The group and its instances are gone.
    expect(await groupOf(t.clients.asg, name)).toBeUndefined();
    const state = await t.cloud.admin.state();
    const mine = state.instances.filter((i) => i.group === name);
    expect(mine.every((i) => i.state === "terminated")).toBe(true);
  });
});
