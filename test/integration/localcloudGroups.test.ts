// Auto Scaling and EC2 behaviour on the local cloud, with instances that run
// no etcd (they signal as soon as they boot): instance tags and the rule
// instance metadata tags put on their keys, replacing an unhealthy instance,
// and lifecycle hooks declared as separate resources.
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  CreateOrUpdateTagsCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  RecordLifecycleActionHeartbeatCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  type CloudFormationClient,
  CreateChangeSetCommand,
  ExecuteChangeSetCommand,
} from "@aws-sdk/client-cloudformation";
import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeTagsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { waitFor } from "../helpers/waitFor.js";
import {
  allEvents,
  eventLines,
  failure,
  groupOf,
  useTestCloud,
  waitForChangeSet,
  waitForStatus,
} from "../localcloud/cloudHelpers.js";
import { ignitionUserData, testBootSettings } from "../localcloud/instances/fakeHost.js";
import { groupNameOf } from "../localcloud/stackFlows.js";

// Instances run no etcd and signal once booted; PT10M lasts 6 s.
const t = useTestCloud("lc-groups-", { withoutEtcd: true, timeScale: 0.01 });

function template(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    Resources: {
      LT: {
        Type: "AWS::EC2::LaunchTemplate",
        Properties: {
          LaunchTemplateData: {
            ImageId: "ami-0123456789abcdef0",
            InstanceType: "t3.micro",
            MetadataOptions: { HttpTokens: "required", InstanceMetadataTags: "enabled" },
            TagSpecifications: [
              { ResourceType: "instance", Tags: [{ Key: "from-template", Value: "yes" }] },
            ],
            // The boot reads its etcd settings from the user-data, as the rendered bootstrap does.
            UserData: ignitionUserData(testBootSettings()),
          },
        },
      },
      Group: {
        Type: "AWS::AutoScaling::AutoScalingGroup",
        Properties: {
          MinSize: "2",
          MaxSize: "2",
          DesiredCapacity: "2",
          VPCZoneIdentifier: ["subnet-aaaa", "subnet-bbbb"],
          LaunchTemplate: {
            LaunchTemplateId: { Ref: "LT" },
            Version: { "Fn::GetAtt": ["LT", "LatestVersionNumber"] },
          },
          Tags: [{ Key: "Name", Value: "member", PropagateAtLaunch: true }],
        },
        CreationPolicy: { ResourceSignal: { Count: 2, Timeout: "PT10M" } },
      },
      ...extra,
    },
  });
}

async function create(
  stackName: string,
  body: string,
  tags: { Key: string; Value: string }[] = [],
) {
  const out = await t.clients.cfn.send(
    new CreateChangeSetCommand({
      StackName: stackName,
      ChangeSetName: "c",
      ChangeSetType: "CREATE",
      TemplateBody: body,
      Tags: tags,
    }),
  );
  await waitForChangeSet(t.clients.cfn, out.Id!);
  await t.clients.cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: out.Id }));
  return waitForStatus(t.clients.cfn, stackName, ["CREATE_COMPLETE", "ROLLBACK_COMPLETE"]);
}

function settled(cfn: CloudFormationClient, stackName: string) {
  return waitForStatus(cfn, stackName, ["UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"]);
}

function inService(groupName: string, count: number) {
  return waitFor(`${count} instances InService`, async () => {
    const group = await groupOf(t.clients.asg, groupName);
    const ids =
      group?.Instances?.filter((i) => i.LifecycleState === "InService").map((i) => i.InstanceId!) ??
      [];
    return ids.length === count && group?.Instances?.length === count && ids;
  });
}

describe("groups and instances", () => {
  it("launches with the template's, the group's and the stack's tags, and serves them", async () => {
    expect(await create("tags", template(), [{ Key: "team", Value: "platform" }])).toBe(
      "CREATE_COMPLETE",
    );
    const groupName = await groupNameOf(t.clients, "tags", "Group");
    const ids = await inService(groupName, 2);
    const described = await t.clients.ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: "tag:aws:cloudformation:stack-name", Values: ["tags"] },
          { Name: "instance-state-name", Values: ["running"] },
        ],
      }),
    );
    const instances = described.Reservations!.flatMap((r) => r.Instances ?? []);
    expect(instances.map((i) => i.InstanceId).sort()).toEqual([...ids].sort());
    const tags = Object.fromEntries(instances[0]!.Tags!.map((t) => [t.Key, t.Value]));
    expect(tags).toMatchObject({
      "from-template": "yes",
      Name: "member",
      team: "platform",
      "aws:cloudformation:stack-name": "tags",
      "aws:cloudformation:logical-id": "Group",
      "aws:autoscaling:groupName": groupName,
    });
    expect(instances.map((i) => i.SubnetId).sort()).toEqual(["subnet-aaaa", "subnet-bbbb"]);
    expect(instances[0]!.MetadataOptions?.InstanceMetadataTags).toBe("enabled");

    // Another region's EC2 and Auto Scaling do not know them.
    const elsewhere = {
      region: "us-east-1",
      endpoint: t.cloud.endpoint,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    };
    const otherEc2 = await new EC2Client(elsewhere).send(new DescribeInstancesCommand({}));
    expect(otherEc2.Reservations).toEqual([]);
    const otherAsg = await new AutoScalingClient(elsewhere).send(
      new DescribeAutoScalingGroupsCommand({}),
    );
    expect(otherAsg.AutoScalingGroups).toEqual([]);

    const details = await t.clients.asg.send(
      new DescribeAutoScalingInstancesCommand({ InstanceIds: ids }),
    );
    expect(
      details.AutoScalingInstances!.map((i) => [
        i.AutoScalingGroupName,
        i.LifecycleState,
        i.HealthStatus,
      ]),
    ).toEqual([
      [groupName, "InService", "HEALTHY"],
      [groupName, "InService", "HEALTHY"],
    ]);

    const id = ids[0]!;
    await t.clients.ec2.send(
      new CreateTagsCommand({ Resources: [id], Tags: [{ Key: "peers", Value: "a,b" }] }),
    );
    const byKey = await t.clients.ec2.send(
      new DescribeTagsCommand({
        Filters: [
          { Name: "resource-id", Values: [id] },
          { Name: "key", Values: ["peers"] },
        ],
      }),
    );
    expect(byKey.Tags).toEqual([
      { ResourceId: id, ResourceType: "instance", Key: "peers", Value: "a,b" },
    ]);
    await t.clients.ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: "peers" }] }));
    const gone = await t.clients.ec2.send(
      new DescribeTagsCommand({
        Filters: [
          { Name: "resource-id", Values: [id] },
          { Name: "key", Values: ["peers"] },
        ],
      }),
    );
    expect(gone.Tags).toEqual([]);

    // With metadata tags on, a key with "/" is refused, as EC2 refuses it.
    const refused = await t.clients.ec2
      .send(
        new CreateTagsCommand({
          Resources: [id],
          Tags: [{ Key: "quorate.dev/peers", Value: "x" }],
        }),
      )
      .catch((error: Error) => error);
    expect((refused as Error).name).toBe("InvalidParameterValue");
  });

  it("keeps a tag written with CreateOrUpdateTags through a stack update, which changes only the tags it declares", async () => {
    expect(
      await create("written", template(), [
        { Key: "team", Value: "platform" },
        { Key: "old", Value: "1" },
      ]),
    ).toBe("CREATE_COMPLETE");
    const groupName = await groupNameOf(t.clients, "written", "Group");
    const write = (Value: string, ResourceId = groupName) =>
      t.clients.asg.send(
        new CreateOrUpdateTagsCommand({
          Tags: [
            {
              ResourceId,
              ResourceType: "auto-scaling-group",
              Key: "quorate.dev:rollout-history",
              Value,
              PropagateAtLaunch: false,
            },
          ],
        }),
      );
    await write("first");
    // A key that exists is overwritten without an error.
    await write("20240506T1213Z=95/102/98");
    const tagsOf = async () =>
      Object.fromEntries(
        ((await groupOf(t.clients.asg, groupName))?.Tags ?? []).map((tag) => [
          tag.Key,
          `${tag.Value} ${tag.PropagateAtLaunch}`,
        ]),
      );
    expect(await tagsOf()).toMatchObject({
      "quorate.dev:rollout-history": "20240506T1213Z=95/102/98 false",
      team: "platform true",
      old: "1 true",
      Name: "member true",
    });
    expect((await failure(write("x", "no-such-group"))).name).toBe("ValidationError");

    // The update declares other stack tags and another group tag: it changes
    // those, removes the one it no longer declares, and keeps the written one.
    const update = await t.clients.cfn.send(
      new CreateChangeSetCommand({
        StackName: "written",
        ChangeSetName: "retag",
        ChangeSetType: "UPDATE",
        TemplateBody: template().replace('"Value":"member"', '"Value":"voter"'),
        Tags: [
          { Key: "team", Value: "data" },
          { Key: "new", Value: "2" },
        ],
      }),
    );
    await waitForChangeSet(t.clients.cfn, update.Id!);
    await t.clients.cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: update.Id }));
    expect(await settled(t.clients.cfn, "written")).toBe("UPDATE_COMPLETE");
    const after = await tagsOf();
    expect(after).toMatchObject({
      "quorate.dev:rollout-history": "20240506T1213Z=95/102/98 false",
      team: "data true",
      new: "2 true",
      Name: "voter true",
    });
    expect(after.old).toBeUndefined();
  });

  it("a stack tag key with '/' makes the launch fail when metadata tags are on", async () => {
    expect(await create("slash", template(), [{ Key: "team/name", Value: "platform" }])).toBe(
      "ROLLBACK_COMPLETE",
    );
    const lines = eventLines(await allEvents(t.clients.cfn, "slash"));
    const failed = lines.find((l) => l.startsWith("Group CREATE_FAILED"));
    expect(failed).toContain(
      "the tag key 'team/name' is not valid with instance metadata tags enabled",
    );
  });

  it("replaces an instance whose EC2 status check fails (ReplaceUnhealthy not suspended)", async () => {
    expect(await create("unhealthy", template())).toBe("CREATE_COMPLETE");
    const groupName = await groupNameOf(t.clients, "unhealthy", "Group");
    const [sick, healthy] = await inService(groupName, 2);
    await t.cloud.admin.instance(sick!, "fail");
    const after = await waitFor("the sick instance replaced", async () => {
      const ids = await inService(groupName, 2).catch(() => false as const);
      return ids !== false && !ids.includes(sick!) && ids;
    });
    expect(after).toContain(healthy);
    const described = await t.clients.ec2.send(
      new DescribeInstancesCommand({ InstanceIds: [sick!] }),
    );
    expect(described.Reservations![0]!.Instances![0]!.State?.Name).toBe("terminated");
  });

  it("a lifecycle hook resource holds new launches; ABANDON terminates, CONTINUE lets in", async () => {
    const hook = {
      Hook: {
        Type: "AWS::AutoScaling::LifecycleHook",
        Properties: {
          AutoScalingGroupName: { Ref: "Group" },
          LifecycleHookName: "hold",
          LifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
          DefaultResult: "ABANDON",
          HeartbeatTimeout: 3600,
        },
      },
    };
    expect(await create("hooked", template(hook))).toBe("CREATE_COMPLETE");
    const groupName = await groupNameOf(t.clients, "hooked", "Group");
    const hooks = await t.clients.asg.send(
      new DescribeLifecycleHooksCommand({ AutoScalingGroupName: groupName }),
    );
    expect(hooks.LifecycleHooks).toEqual([
      {
        LifecycleHookName: "hold",
        AutoScalingGroupName: groupName,
        LifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
        HeartbeatTimeout: 3600,
        GlobalTimeout: 172800,
        DefaultResult: "ABANDON",
      },
    ]);
    const [first] = await inService(groupName, 2);
    await t.cloud.admin.instance(first!, "fail");
    const waiting = async () =>
      waitFor("a replacement in Pending:Wait", async () => {
        const group = await groupOf(t.clients.asg, groupName);
        return (
          group?.Instances?.find((i) => i.LifecycleState === "Pending:Wait")?.InstanceId ?? false
        );
      });
    const held = await waiting();
    const call = { AutoScalingGroupName: groupName, LifecycleHookName: "hold", InstanceId: held };
    await t.clients.asg.send(new RecordLifecycleActionHeartbeatCommand(call));
    await t.clients.asg.send(
      new CompleteLifecycleActionCommand({ ...call, LifecycleActionResult: "ABANDON" }),
    );
    const next = await waiting();
    expect(next).not.toBe(held);
    await t.clients.asg.send(
      new CompleteLifecycleActionCommand({
        ...call,
        InstanceId: next,
        LifecycleActionResult: "CONTINUE",
      }),
    );
    const ids = await inService(groupName, 2);
    expect(ids).toContain(next);
    const abandoned = await t.clients.ec2.send(
      new DescribeInstancesCommand({ InstanceIds: [held] }),
    );
    expect(abandoned.Reservations![0]!.Instances![0]!.State?.Name).toBe("terminated");
    // The action is gone once completed.
    const again = await t.clients.asg
      .send(
        new CompleteLifecycleActionCommand({
          ...call,
          InstanceId: next,
          LifecycleActionResult: "CONTINUE",
        }),
      )
      .catch((error: Error) => error);
    expect((again as Error).message).toBe(
      `No active Lifecycle Action found with instance ID ${next}`,
    );
  });
});
