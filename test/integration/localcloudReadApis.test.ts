// What people point their own AWS tools at first: ListStacks, ValidateTemplate,
// DescribeStackResource, ListStackResources and GetTemplateSummary, the SDK's
// waiters (the same fields boto3's change_set_create_complete,
// stack_create_complete and stack_delete_complete poll), and the
// IamInstanceProfile of instances, through the real SDK clients, in the
// shapes and wordings of the CloudFormation and EC2 API references. Instances
// run no etcd (they signal once booted): etcd is not the point here.
import {
  CreateChangeSetCommand,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackResourceCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateSummaryCommand,
  ListStackResourcesCommand,
  ListStacksCommand,
  paginateListStackResources,
  paginateListStacks,
  type StackSummary,
  ValidateTemplateCommand,
  waitUntilChangeSetCreateComplete,
  waitUntilStackCreateComplete,
  waitUntilStackDeleteComplete,
} from "@aws-sdk/client-cloudformation";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/waitFor.js";
import {
  allEvents,
  eventLines,
  failure,
  useTestCloud,
  waitForStatus,
} from "../localcloud/cloudHelpers.js";
import { ignitionUserData, testBootSettings } from "../localcloud/instances/fakeHost.js";

const t = useTestCloud("lc-read-", {
  withoutEtcd: true,
  timeScale: 0.01,
  pageSize: { stacks: 2, resources: 2 },
});

/** The SDK's waiters poll every 30 s by default; the local cloud answers in milliseconds. */
const waiter = () => ({ client: t.clients.cfn, maxWaitTime: 60, minDelay: 0.1, maxDelay: 0.5 });

const GROUP_METADATA = { Purpose: "members", Owner: { Team: "platform" } };

/** A cluster-like stack: a group whose instances get an instance profile through their launch template. */
function clusterTemplate(
  profile: Record<string, unknown> = { Arn: { "Fn::GetAtt": ["Profile", "Arn"] } },
) {
  return JSON.stringify({
    AWSTemplateFormatVersion: "2010-09-09",
    Description: "an etcd group with an instance profile",
    Metadata: { Generator: "quorate test" },
    Parameters: {
      Env: { Type: "String", Default: "dev", AllowedValues: ["dev", "prod"], Description: "where" },
      Secret: { Type: "String", NoEcho: true },
    },
    Resources: {
      Group: {
        Type: "AWS::AutoScaling::AutoScalingGroup",
        Metadata: GROUP_METADATA,
        Properties: {
          MinSize: "1",
          MaxSize: "1",
          DesiredCapacity: "1",
          VPCZoneIdentifier: ["subnet-aaaa"],
          LaunchTemplate: {
            LaunchTemplateId: { Ref: "LT" },
            Version: { "Fn::GetAtt": ["LT", "LatestVersionNumber"] },
          },
        },
        CreationPolicy: { ResourceSignal: { Count: 1, Timeout: "PT10M" } },
      },
      LT: {
        Type: "AWS::EC2::LaunchTemplate",
        Properties: {
          LaunchTemplateData: {
            ImageId: "ami-0123456789abcdef0",
            InstanceType: "t3.micro",
            IamInstanceProfile: profile,
            SecurityGroupIds: [{ "Fn::GetAtt": ["SG", "GroupId"] }],
            UserData: ignitionUserData(testBootSettings()),
          },
        },
      },
      SG: {
        Type: "AWS::EC2::SecurityGroup",
        Properties: { GroupDescription: "etcd", VpcId: "vpc-1" },
      },
      Rule: {
        Type: "AWS::EC2::SecurityGroupIngress",
        Properties: {
          GroupId: { Ref: "SG" },
          IpProtocol: "tcp",
          FromPort: 2379,
          ToPort: 2379,
          CidrIp: "10.0.0.0/16",
        },
      },
      Role: {
        Type: "AWS::IAM::Role",
        Properties: { AssumeRolePolicyDocument: { Version: "2012-10-17", Statement: [] } },
      },
      Profile: { Type: "AWS::IAM::InstanceProfile", Properties: { Roles: [{ Ref: "Role" }] } },
    },
  });
}

const SG_ONLY = JSON.stringify({
  Description: "just a group",
  Resources: { SG: { Type: "AWS::EC2::SecurityGroup", Properties: { GroupDescription: "d" } } },
});

/** Creates a stack through a change set, waiting with the SDK's own waiters. */
async function createWithWaiters(stackName: string, body: string, parameters = true) {
  const created = await t.clients.cfn.send(
    new CreateChangeSetCommand({
      StackName: stackName,
      ChangeSetName: "create",
      ChangeSetType: "CREATE",
      TemplateBody: body,
      Capabilities: ["CAPABILITY_IAM"],
      ...(parameters ? { Parameters: [{ ParameterKey: "Secret", ParameterValue: "s3cret" }] } : {}),
    }),
  );
  const ready = await waitUntilChangeSetCreateComplete(waiter(), {
    ChangeSetName: created.Id!,
  });
  expect(ready.state).toBe("SUCCESS");
  await t.clients.cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: created.Id }));
  return created;
}

let mainStackId = "";

beforeAll(async () => {
  const created = await createWithWaiters("read-main", clusterTemplate());
  mainStackId = created.StackId!;
  const done = await waitUntilStackCreateComplete(waiter(), { StackName: "read-main" });
  expect(done.state).toBe("SUCCESS");
});

describe("the SDK's waiters", () => {
  it("stack_create_complete ends in SUCCESS on CREATE_COMPLETE (the stack made in beforeAll)", async () => {
    const out = await t.clients.cfn.send(new DescribeStacksCommand({ StackName: "read-main" }));
    expect(out.Stacks?.[0]?.StackStatus).toBe("CREATE_COMPLETE");
  });

  it("change_set_create_complete fails on a FAILED change set (no changes), with its reason", async () => {
    const again = await t.clients.cfn.send(
      new CreateChangeSetCommand({
        StackName: "read-main",
        ChangeSetName: "same",
        ChangeSetType: "UPDATE",
        UsePreviousTemplate: true,
        Capabilities: ["CAPABILITY_IAM"],
        Parameters: [
          { ParameterKey: "Secret", UsePreviousValue: true },
          { ParameterKey: "Env", UsePreviousValue: true },
        ],
      }),
    );
    const error = await failure(
      waitUntilChangeSetCreateComplete(waiter(), { ChangeSetName: again.Id! }),
    );
    expect(error.message).toContain('"state":"FAILURE"');
    expect(error.message).toContain("The submitted information didn't contain changes.");
  });

  it("stack_create_complete fails when the stack rolls back", async () => {
    await createWithWaiters("read-badprofile", clusterTemplate({ Name: "no-such-profile" }));
    const error = await failure(
      waitUntilStackCreateComplete(waiter(), { StackName: "read-badprofile" }),
    );
    expect(error.message).toContain('"state":"FAILURE"');
    expect(error.message).toMatch(/ROLLBACK_(IN_PROGRESS|COMPLETE)/);
  });

  it("stack_delete_complete succeeds by name (the stack is gone) and by id (DELETE_COMPLETE)", async () => {
    const created = await createWithWaiters("read-deleted", SG_ONLY, false);
    await waitUntilStackCreateComplete(waiter(), { StackName: "read-deleted" });
    await t.clients.cfn.send(new DeleteStackCommand({ StackName: "read-deleted" }));
    const byName = await waitUntilStackDeleteComplete(waiter(), { StackName: "read-deleted" });
    expect(byName.state).toBe("SUCCESS");
    const byId = await waitUntilStackDeleteComplete(waiter(), { StackName: created.StackId! });
    expect(byId.state).toBe("SUCCESS");
    const described = await t.clients.cfn.send(
      new DescribeStacksCommand({ StackName: created.StackId! }),
    );
    expect(described.Stacks?.[0]?.StackStatus).toBe("DELETE_COMPLETE");
  });
});

describe("ListStacks", () => {
  let all: StackSummary[] = [];
  beforeAll(async () => {
    await waitForStatus(t.clients.cfn, "read-badprofile", ["ROLLBACK_COMPLETE"]);
    await createWithWaiters("read-extra", SG_ONLY, false);
    await waitUntilStackCreateComplete(waiter(), { StackName: "read-extra" });
    all = [];
    for await (const page of paginateListStacks({ client: t.clients.cfn }, {})) {
      all.push(...(page.StackSummaries ?? []));
    }
  });

  it("lists every stack of the region, deleted ones too, newest first, in pages (NextToken)", async () => {
    const first = await t.clients.cfn.send(new ListStacksCommand({}));
    expect(first.StackSummaries).toHaveLength(2);
    expect(first.NextToken).toBeDefined();
    const names = all.map((s) => s.StackName);
    expect(names).toEqual(["read-extra", "read-deleted", "read-badprofile", "read-main"]);
    const main = all.find((s) => s.StackName === "read-main")!;
    expect(main).toMatchObject({
      StackId: mainStackId,
      StackStatus: "CREATE_COMPLETE",
      TemplateDescription: "an etcd group with an instance profile",
      DriftInformation: { StackDriftStatus: "NOT_CHECKED" },
    });
    expect(main.CreationTime).toBeInstanceOf(Date);
    expect(main.DeletionTime).toBeUndefined();
    const deleted = all.find((s) => s.StackName === "read-deleted")!;
    expect(deleted.StackStatus).toBe("DELETE_COMPLETE");
    expect(deleted.DeletionTime).toBeInstanceOf(Date);
  });

  it("StackStatusFilter keeps the stacks in those statuses", async () => {
    const out = await t.clients.cfn.send(
      new ListStacksCommand({ StackStatusFilter: ["DELETE_COMPLETE", "ROLLBACK_COMPLETE"] }),
    );
    expect(out.StackSummaries?.map((s) => `${s.StackName} ${s.StackStatus}`)).toEqual([
      "read-deleted DELETE_COMPLETE",
      "read-badprofile ROLLBACK_COMPLETE",
    ]);
    expect(out.NextToken).toBeUndefined();
    const none = await t.clients.cfn.send(
      new ListStacksCommand({ StackStatusFilter: ["UPDATE_ROLLBACK_FAILED"] }),
    );
    expect(none.StackSummaries).toEqual([]);
  });

  it("refuses an unknown status and a NextToken it did not give, as ValidationError", async () => {
    const badStatus = await failure(
      t.clients.cfn.send(new ListStacksCommand({ StackStatusFilter: ["DONE" as never] })),
    );
    expect(badStatus.name).toBe("ValidationError");
    expect(badStatus.message).toContain(
      "Value '[DONE]' at 'stackStatusFilter' failed to satisfy constraint",
    );
    const badToken = await failure(t.clients.cfn.send(new ListStacksCommand({ NextToken: "eA" })));
    expect(badToken.name).toBe("ValidationError");
  });
});

describe("DescribeStackResource", () => {
  it("describes one resource with its metadata, as DescribeStackResources does", async () => {
    const out = await t.clients.cfn.send(
      new DescribeStackResourceCommand({ StackName: "read-main", LogicalResourceId: "Group" }),
    );
    const all = await t.clients.cfn.send(
      new DescribeStackResourcesCommand({ StackName: "read-main" }),
    );
    const group = all.StackResources?.find((r) => r.LogicalResourceId === "Group");
    const detail = out.StackResourceDetail!;
    expect(detail).toMatchObject({
      StackName: "read-main",
      StackId: mainStackId,
      LogicalResourceId: "Group",
      PhysicalResourceId: group?.PhysicalResourceId,
      ResourceType: "AWS::AutoScaling::AutoScalingGroup",
      ResourceStatus: "CREATE_COMPLETE",
      DriftInformation: { StackResourceDriftStatus: "NOT_CHECKED" },
    });
    expect(detail.PhysicalResourceId).toMatch(/^read-main-Group-/);
    expect(detail.LastUpdatedTimestamp).toBeInstanceOf(Date);
    expect(JSON.parse(detail.Metadata!)).toEqual(GROUP_METADATA);
    // By the stack's id too.
    const byId = await t.clients.cfn.send(
      new DescribeStackResourceCommand({ StackName: mainStackId, LogicalResourceId: "SG" }),
    );
    expect(byId.StackResourceDetail?.PhysicalResourceId).toMatch(/^sg-/);
    expect(byId.StackResourceDetail?.Metadata).toBeUndefined();
  });

  it("a missing resource or stack is a ValidationError in AWS's words", async () => {
    const resource = await failure(
      t.clients.cfn.send(
        new DescribeStackResourceCommand({ StackName: "read-main", LogicalResourceId: "Nope" }),
      ),
    );
    expect([resource.name, resource.message]).toEqual([
      "ValidationError",
      "Resource Nope does not exist for stack read-main",
    ]);
    const stack = await failure(
      t.clients.cfn.send(
        new DescribeStackResourceCommand({ StackName: "read-nope", LogicalResourceId: "Group" }),
      ),
    );
    expect([stack.name, stack.message]).toEqual([
      "ValidationError",
      "Stack 'read-nope' does not exist",
    ]);
  });
});

describe("ListStackResources", () => {
  it("pages through every resource's summary", async () => {
    const first = await t.clients.cfn.send(
      new ListStackResourcesCommand({ StackName: "read-main" }),
    );
    expect(first.StackResourceSummaries).toHaveLength(2);
    expect(first.NextToken).toBeDefined();
    const summaries = [];
    for await (const page of paginateListStackResources(
      { client: t.clients.cfn },
      { StackName: "read-main" },
    )) {
      summaries.push(...(page.StackResourceSummaries ?? []));
    }
    expect(summaries.map((s) => s.LogicalResourceId).sort()).toEqual(
      ["Group", "LT", "Profile", "Role", "Rule", "SG"].sort(),
    );
    const described = await t.clients.cfn.send(
      new DescribeStackResourcesCommand({ StackName: "read-main" }),
    );
    for (const s of summaries) {
      const r = described.StackResources?.find((d) => d.LogicalResourceId === s.LogicalResourceId);
      expect(s).toMatchObject({
        PhysicalResourceId: r?.PhysicalResourceId,
        ResourceType: r?.ResourceType,
        ResourceStatus: "CREATE_COMPLETE",
        DriftInformation: { StackResourceDriftStatus: "NOT_CHECKED" },
      });
      expect(s.LastUpdatedTimestamp).toBeInstanceOf(Date);
    }
  });

  it("a missing stack is 'Stack with id X does not exist'", async () => {
    const error = await failure(
      t.clients.cfn.send(new ListStackResourcesCommand({ StackName: "read-nope" })),
    );
    expect([error.name, error.message]).toEqual([
      "ValidationError",
      "Stack with id read-nope does not exist",
    ]);
  });
});

describe("ValidateTemplate", () => {
  it("gives the parameters, the description and the IAM capability with the types that need it", async () => {
    const out = await t.clients.cfn.send(
      new ValidateTemplateCommand({ TemplateBody: clusterTemplate() }),
    );
    expect(out.Parameters).toEqual([
      { ParameterKey: "Env", DefaultValue: "dev", NoEcho: false, Description: "where" },
      { ParameterKey: "Secret", NoEcho: true },
    ]);
    expect(out.Description).toBe("an etcd group with an instance profile");
    expect(out.Capabilities).toEqual(["CAPABILITY_IAM"]);
    expect(out.CapabilitiesReason).toBe(
      "The following resource(s) require capabilities: [AWS::IAM::Role, AWS::IAM::InstanceProfile]",
    );
  });

  it("a named role needs CAPABILITY_NAMED_IAM; a template without IAM needs none", async () => {
    const named = await t.clients.cfn.send(
      new ValidateTemplateCommand({
        TemplateBody: JSON.stringify({
          Resources: {
            R: {
              Type: "AWS::IAM::Role",
              Properties: { RoleName: "etcd", AssumeRolePolicyDocument: {} },
            },
          },
        }),
      }),
    );
    expect(named.Capabilities).toEqual(["CAPABILITY_NAMED_IAM"]);
    expect(named.CapabilitiesReason).toBe(
      "The following resource(s) require capabilities: [AWS::IAM::Role]",
    );
    const plain = await t.clients.cfn.send(new ValidateTemplateCommand({ TemplateBody: SG_ONLY }));
    expect(plain.Capabilities ?? []).toEqual([]);
    expect(plain.CapabilitiesReason).toBeUndefined();
    expect(plain.Parameters ?? []).toEqual([]);
  });

  it.each([
    {
      what: "a type CloudFormation would not recognise here",
      body: JSON.stringify({ Resources: { B: { Type: "AWS::S3::Bucket" } } }),
      message: "Template format error: Unrecognized resource types: [AWS::S3::Bucket]",
    },
    {
      what: "a reference to nothing",
      body: JSON.stringify({
        Resources: {
          G: { Type: "AWS::EC2::SecurityGroup", Properties: { VpcId: { Ref: "Vpc" } } },
        },
      }),
      message:
        "Template format error: Unresolved resource dependencies [Vpc] in the Resources block of the template",
    },
    {
      what: "a parameter without a Type",
      body: JSON.stringify({
        Parameters: { P: { Default: "x" } },
        Resources: JSON.parse(SG_ONLY).Resources,
      }),
      message:
        "Template format error: [/Parameters/P] Every Parameters object must contain a Type member.",
    },
    {
      what: "JSON that does not parse",
      body: '{"Resources": {',
      message: /^Template format error: JSON not well-formed\./,
    },
    {
      what: "no template at all",
      body: undefined,
      message: "Either Template URL or Template Body must be specified.",
    },
  ])("refuses $what as ValidationError, as CreateChangeSet would", async ({ body, message }) => {
    const error = await failure(
      t.clients.cfn.send(
        new ValidateTemplateCommand(body === undefined ? {} : { TemplateBody: body }),
      ),
    );
    expect(error.name).toBe("ValidationError");
    if (typeof message === "string") expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
  });
});

describe("GetTemplateSummary", () => {
  it("summarises a template body: parameters, types, identifiers, metadata, capabilities", async () => {
    const out = await t.clients.cfn.send(
      new GetTemplateSummaryCommand({ TemplateBody: clusterTemplate() }),
    );
    expect(out.Parameters).toEqual([
      {
        ParameterKey: "Env",
        DefaultValue: "dev",
        ParameterType: "String",
        NoEcho: false,
        Description: "where",
        ParameterConstraints: { AllowedValues: ["dev", "prod"] },
      },
      { ParameterKey: "Secret", ParameterType: "String", NoEcho: true, ParameterConstraints: {} },
    ]);
    expect(out.ResourceTypes).toEqual([
      "AWS::AutoScaling::AutoScalingGroup",
      "AWS::EC2::LaunchTemplate",
      "AWS::EC2::SecurityGroup",
      "AWS::EC2::SecurityGroupIngress",
      "AWS::IAM::Role",
      "AWS::IAM::InstanceProfile",
    ]);
    expect(out.Version).toBe("2010-09-09");
    expect(JSON.parse(out.Metadata!)).toEqual({ Generator: "quorate test" });
    expect(out.Capabilities).toEqual(["CAPABILITY_IAM"]);
    expect(out.CapabilitiesReason).toContain("AWS::IAM::Role");
    expect(out.ResourceIdentifierSummaries).toContainEqual({
      ResourceType: "AWS::AutoScaling::AutoScalingGroup",
      LogicalResourceIds: ["Group"],
      ResourceIdentifiers: ["AutoScalingGroupName"],
    });
    expect(out.ResourceIdentifierSummaries).toHaveLength(6);
  });

  it("summarises a live stack's template by its name, the same as its body", async () => {
    const byStack = await t.clients.cfn.send(
      new GetTemplateSummaryCommand({ StackName: "read-main" }),
    );
    const byBody = await t.clients.cfn.send(
      new GetTemplateSummaryCommand({ TemplateBody: clusterTemplate() }),
    );
    const { $metadata: _a, ...stackSummary } = byStack;
    const { $metadata: _b, ...bodySummary } = byBody;
    expect(stackSummary).toEqual(bodySummary);
  });

  it("a missing stack, or two sources at once, is a ValidationError", async () => {
    const missing = await failure(
      t.clients.cfn.send(new GetTemplateSummaryCommand({ StackName: "read-nope" })),
    );
    expect([missing.name, missing.message]).toEqual([
      "ValidationError",
      "Stack with id read-nope does not exist",
    ]);
    const both = await failure(
      t.clients.cfn.send(
        new GetTemplateSummaryCommand({ StackName: "read-main", TemplateBody: SG_ONLY }),
      ),
    );
    expect(both.name).toBe("ValidationError");
  });
});

describe("instances and their instance profile", () => {
  it("DescribeInstances gives IamInstanceProfile (Arn, Id) for an instance whose launch template names one", async () => {
    const profile = await t.clients.cfn.send(
      new DescribeStackResourceCommand({ StackName: "read-main", LogicalResourceId: "Profile" }),
    );
    const name = profile.StackResourceDetail!.PhysicalResourceId!;
    const instances = await waitFor("the instance of read-main", async () => {
      const out = await t.clients.ec2.send(
        new DescribeInstancesCommand({
          Filters: [{ Name: "tag:aws:cloudformation:stack-name", Values: ["read-main"] }],
        }),
      );
      const found = out.Reservations?.flatMap((r) => r.Instances ?? []) ?? [];
      return found.length > 0 && found;
    });
    expect(instances).toHaveLength(1);
    const iam = instances[0]!.IamInstanceProfile;
    expect(iam?.Arn).toBe(`arn:aws:iam::000000000000:instance-profile/${name}`);
    expect(iam?.Id).toMatch(/^AIPA[A-Z0-9]{17}$/);
  });

  it("a launch template naming a profile that does not exist fails the launch in EC2's words", async () => {
    await waitForStatus(t.clients.cfn, "read-badprofile", ["ROLLBACK_COMPLETE"]);
    const lines = eventLines(await allEvents(t.clients.cfn, "read-badprofile"));
    expect(lines.find((l) => l.startsWith("Group CREATE_FAILED"))).toContain(
      "Value (no-such-profile) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
    );
  });
});

describe("calls the local cloud does not serve", () => {
  it("get AWS's InvalidAction, naming the action", async () => {
    const error = await failure(
      t.clients.cfn.send(new CreateStackCommand({ StackName: "direct", TemplateBody: SG_ONLY })),
    );
    expect(error.name).toBe("InvalidAction");
    expect(error.message).toBe(
      "The action CreateStack is not valid for this web service: the quorate local cloud does not implement cloudformation:CreateStack",
    );
  });
});
