// The stack engine on its own (no instances): replacements and removals in an
// update's cleanup stage, REVIEW_IN_PROGRESS stacks, change sets going away
// when one is executed, pagination, deletion failures, and the Flatcar feed.
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  ListChangeSetsCommand,
  paginateDescribeStackEvents,
  paginateDescribeStacks,
} from "@aws-sdk/client-cloudformation";
import { describe, expect, it } from "vitest";
import { feedUrlTemplate, localAmiId } from "../../src/localcloud/index.js";
import { createAmiFeed } from "../../src/render/ami.js";
import {
  allEvents,
  eventLines,
  useTestCloud,
  waitForChangeSet,
  waitForStatus,
} from "../localcloud/cloudHelpers.js";
import { devSpec } from "../render/specs.js";

const t = useTestCloud("lc-stacks-", { withoutEtcd: true, pageSize: { stacks: 2, events: 5 } });

const groupAndRule = (description: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    Resources: {
      Group: {
        Type: "AWS::EC2::SecurityGroup",
        Properties: { GroupDescription: description, VpcId: "vpc-1" },
      },
      Rule: {
        Type: "AWS::EC2::SecurityGroupIngress",
        Properties: {
          GroupId: { "Fn::GetAtt": ["Group", "GroupId"] },
          IpProtocol: "tcp",
          FromPort: 2379,
          ToPort: 2379,
          CidrIp: "10.0.0.0/16",
        },
      },
      ...extra,
    },
    Outputs: { GroupId: { Value: { Ref: "Group" } } },
  });

async function changeSet(stackName: string, name: string, type: "CREATE" | "UPDATE", body: string) {
  const out = await t.clients.cfn.send(
    new CreateChangeSetCommand({
      StackName: stackName,
      ChangeSetName: name,
      ChangeSetType: type,
      TemplateBody: body,
    }),
  );
  return { id: out.Id!, status: await waitForChangeSet(t.clients.cfn, out.Id!) };
}

async function create(stackName: string, body: string): Promise<void> {
  const { id } = await changeSet(stackName, "create", "CREATE", body);
  await t.clients.cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: id }));
  expect(
    await waitForStatus(t.clients.cfn, stackName, ["CREATE_COMPLETE", "ROLLBACK_COMPLETE"]),
  ).toBe("CREATE_COMPLETE");
}

async function physicalIds(stackName: string): Promise<Record<string, string>> {
  const out = await t.clients.cfn.send(new DescribeStackResourcesCommand({ StackName: stackName }));
  return Object.fromEntries(
    out.StackResources!.map((r) => [r.LogicalResourceId!, r.PhysicalResourceId!]),
  );
}

describe("the stack engine", () => {
  it("replaces a resource whose replacing property changed, and deletes the old copy in cleanup", async () => {
    await create("replace", groupAndRule("first"));
    const before = await physicalIds("replace");
    const { id, status } = await changeSet("replace", "describe", "UPDATE", groupAndRule("second"));
    expect(status).toBe("CREATE_COMPLETE");
    const described = await t.clients.cfn.send(new DescribeChangeSetCommand({ ChangeSetName: id }));
    expect(
      described.Changes!.map((c) => [
        c.ResourceChange!.LogicalResourceId,
        c.ResourceChange!.Replacement,
      ]),
    ).toEqual([
      ["Group", "True"],
      // The rule's GroupId changes only once the new group exists: Always, but Dynamic.
      ["Rule", "Conditional"],
    ]);
    await t.clients.cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: id }));
    expect(
      await waitForStatus(t.clients.cfn, "replace", [
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
      ]),
    ).toBe("UPDATE_COMPLETE");
    const after = await physicalIds("replace");
    expect(after.Group).not.toBe(before.Group);
    expect(after.Rule).not.toBe(before.Rule);
    const events = await allEvents(t.clients.cfn, "replace");
    const lines = eventLines(events);
    expect(lines).toContain(
      "Group UPDATE_IN_PROGRESS Requested update requires the creation of a new physical resource; hence creating one.",
    );
    const cleanup = lines.indexOf("replace UPDATE_COMPLETE_CLEANUP_IN_PROGRESS");
    const oldDeleted = events.findIndex(
      (e) => e.PhysicalResourceId === before.Group && e.ResourceStatus === "DELETE_COMPLETE",
    );
    expect(oldDeleted).toBeGreaterThan(cleanup);
    const stack = (await t.clients.cfn.send(new DescribeStacksCommand({ StackName: "replace" })))
      .Stacks![0]!;
    expect(stack.Outputs).toEqual([{ OutputKey: "GroupId", OutputValue: after.Group }]);
  });

  it("deletes a removed resource in the cleanup stage", async () => {
    const role = { Role: { Type: "AWS::IAM::Role", Properties: { Path: "/" } } };
    const out = await t.clients.cfn.send(
      new CreateChangeSetCommand({
        StackName: "remove",
        ChangeSetName: "create",
        ChangeSetType: "CREATE",
        TemplateBody: groupAndRule("g", role),
        Capabilities: ["CAPABILITY_IAM"],
      }),
    );
    await waitForChangeSet(t.clients.cfn, out.Id!);
    await t.clients.cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: out.Id }));
    await waitForStatus(t.clients.cfn, "remove", ["CREATE_COMPLETE"]);
    const { id } = await changeSet("remove", "drop-role", "UPDATE", groupAndRule("g"));
    await t.clients.cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: id }));
    await waitForStatus(t.clients.cfn, "remove", ["UPDATE_COMPLETE"]);
    const lines = eventLines(await allEvents(t.clients.cfn, "remove"));
    expect(lines.slice(-4)).toEqual([
      "remove UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
      "Role DELETE_IN_PROGRESS",
      "Role DELETE_COMPLETE",
      "remove UPDATE_COMPLETE",
    ]);
    expect(Object.keys(await physicalIds("remove")).sort()).toEqual(["Group", "Rule"]);
  });

  it("a CREATE change set makes a REVIEW_IN_PROGRESS stack that outlives the change set", async () => {
    const { id } = await changeSet("review", "first", "CREATE", groupAndRule("r"));
    const stack = (await t.clients.cfn.send(new DescribeStacksCommand({ StackName: "review" })))
      .Stacks![0]!;
    expect(stack.StackStatus).toBe("REVIEW_IN_PROGRESS");
    await t.clients.cfn.send(new DeleteChangeSetCommand({ ChangeSetName: id }));
    expect(
      (await t.clients.cfn.send(new DescribeStacksCommand({ StackName: "review" }))).Stacks![0]!
        .StackStatus,
    ).toBe("REVIEW_IN_PROGRESS");
    await t.clients.cfn.send(new DeleteStackCommand({ StackName: "review" }));
    expect(await waitForStatus(t.clients.cfn, stack.StackId!, ["DELETE_COMPLETE"])).toBe(
      "DELETE_COMPLETE",
    );
  });

  it("executing one change set deletes the stack's others", async () => {
    await create("many", groupAndRule("a"));
    const b = await changeSet("many", "to-b", "UPDATE", groupAndRule("b"));
    await changeSet("many", "to-c", "UPDATE", groupAndRule("c"));
    const listed = await t.clients.cfn.send(new ListChangeSetsCommand({ StackName: "many" }));
    expect(listed.Summaries!.map((s) => [s.ChangeSetName, s.Status, s.ExecutionStatus])).toEqual([
      ["to-b", "CREATE_COMPLETE", "AVAILABLE"],
      ["to-c", "CREATE_COMPLETE", "AVAILABLE"],
    ]);
    await t.clients.cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: b.id }));
    expect(
      (await t.clients.cfn.send(new ListChangeSetsCommand({ StackName: "many" }))).Summaries,
    ).toEqual([]);
    await waitForStatus(t.clients.cfn, "many", ["UPDATE_COMPLETE"]);
    const executed = await t.clients.cfn.send(
      new DescribeChangeSetCommand({ ChangeSetName: b.id }),
    );
    expect(executed.ExecutionStatus).toBe("EXECUTE_COMPLETE");
  });

  it("pages DescribeStacks and DescribeStackEvents with NextToken", async () => {
    const names: string[] = [];
    for await (const page of paginateDescribeStacks({ client: t.clients.cfn }, {})) {
      expect(page.Stacks!.length).toBeLessThanOrEqual(2);
      names.push(...page.Stacks!.map((s) => s.StackName!));
    }
    expect(names.sort()).toEqual(["many", "remove", "replace"]);
    const events: string[] = [];
    for await (const page of paginateDescribeStackEvents(
      { client: t.clients.cfn },
      { StackName: "many" },
    )) {
      events.push(...page.StackEvents!.map((e) => e.EventId!));
    }
    expect(new Set(events).size).toBe(events.length);
    expect(events).toEqual(
      (await allEvents(t.clients.cfn, "many")).map((e) => e.EventId).reverse(),
    );
  });

  it("a resource that fails to delete leaves DELETE_FAILED; RetainResources then deletes the rest", async () => {
    await create("stuck", groupAndRule("s"));
    await t.cloud.admin.resourceFault({
      stackName: "stuck",
      logicalId: "Group",
      phase: "delete",
      count: 1,
    });
    await t.clients.cfn.send(new DeleteStackCommand({ StackName: "stuck" }));
    expect(await waitForStatus(t.clients.cfn, "stuck", ["DELETE_FAILED", "DELETE_COMPLETE"])).toBe(
      "DELETE_FAILED",
    );
    const stack = (await t.clients.cfn.send(new DescribeStacksCommand({ StackName: "stuck" })))
      .Stacks![0]!;
    expect(stack.StackStatusReason).toBe("The following resource(s) failed to delete: [Group]. ");
    await t.clients.cfn.send(
      new DeleteStackCommand({ StackName: "stuck", RetainResources: ["Group"] }),
    );
    expect(await waitForStatus(t.clients.cfn, stack.StackId!, ["DELETE_COMPLETE"])).toBe(
      "DELETE_COMPLETE",
    );
    expect(eventLines(await allEvents(t.clients.cfn, stack.StackId!))).toContain(
      "Group DELETE_SKIPPED",
    );
  });
});

describe("regions", () => {
  it("each region has its own stacks, as on AWS", async () => {
    const elsewhere = new CloudFormationClient({
      region: "us-east-1",
      endpoint: t.cloud.endpoint,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    expect((await elsewhere.send(new DescribeStacksCommand({}))).Stacks).toEqual([]);
    const missing = await elsewhere
      .send(new DescribeStacksCommand({ StackName: "many" }))
      .catch((e: Error) => e);
    expect((missing as Error).message).toBe("Stack with id many does not exist");
    const out = await elsewhere.send(
      new CreateChangeSetCommand({
        StackName: "many",
        ChangeSetName: "c",
        ChangeSetType: "CREATE",
        TemplateBody: groupAndRule("x"),
      }),
    );
    expect(out.StackId).toMatch(/^arn:aws:cloudformation:us-east-1:000000000000:stack\/many\//);
  });
});

describe("the Flatcar release feed", () => {
  it("knows every version, with AMI ids that stay the same", async () => {
    const feed = createAmiFeed({
      source: `${t.cloud.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
    });
    const spec = devSpec();
    expect(await feed.resolve(spec)).toBe(localAmiId("stable", "4081.2.0", "eu-west-1"));
    const bumped = { ...spec, image: { ...spec.image, version: "9999.0.0" } };
    const ami = await feed.resolve(bumped);
    expect(ami).toMatch(/^ami-[0-9a-f]{17}$/);
    expect(ami).not.toBe(localAmiId("stable", "4081.2.0", "eu-west-1"));
    expect(await feed.resolve(bumped)).toBe(ami);
  });

  it("serves an arm64-usr feed for Graviton members, and the old amd64 path as before", async () => {
    const feed = createAmiFeed({ source: feedUrlTemplate(t.cloud.endpoint) });
    const spec = devSpec();
    expect(await feed.resolve(spec)).toBe(localAmiId("stable", "4081.2.0", "eu-west-1"));
    const graviton = { ...spec, instanceType: "m7g.large" };
    expect(await feed.resolve(graviton)).toBe(
      localAmiId("stable", "4081.2.0", "eu-west-1", "arm64-usr"),
    );
  });
});
