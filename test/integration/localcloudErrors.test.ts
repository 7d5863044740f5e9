// Every error the local cloud returns reaches the AWS SDK as the exception
// class (or error name) AWS's own would, with AWS's message; a throttled call
// is retried by the SDK and succeeds.
import {
  AutoScalingServiceException,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  AlreadyExistsException,
  CancelUpdateStackCommand,
  ChangeSetNotFoundException,
  CloudFormationServiceException,
  CreateChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  InsufficientCapabilitiesException,
  InvalidChangeSetStatusException,
  TokenAlreadyExistsException,
  UpdateTerminationProtectionCommand,
} from "@aws-sdk/client-cloudformation";
import { DescribeInstancesCommand, EC2ServiceException } from "@aws-sdk/client-ec2";
import { beforeAll, describe, expect, it } from "vitest";
import {
  failure,
  useTestCloud,
  waitForChangeSet,
  waitForStatus,
} from "../localcloud/cloudHelpers.js";

const t = useTestCloud("lc-errors-", { withoutEtcd: true });

const SG_TEMPLATE = JSON.stringify({
  Resources: {
    Group: {
      Type: "AWS::EC2::SecurityGroup",
      Properties: { GroupDescription: "d", VpcId: "vpc-1" },
    },
  },
});
const IAM_TEMPLATE = JSON.stringify({
  Resources: {
    Role: {
      Type: "AWS::IAM::Role",
      Properties: { AssumeRolePolicyDocument: { Version: "2012-10-17", Statement: [] } },
    },
  },
});

async function createStack(stackName: string, templateBody: string): Promise<void> {
  const out = await t.clients.cfn.send(
    new CreateChangeSetCommand({
      StackName: stackName,
      ChangeSetName: "create",
      ChangeSetType: "CREATE",
      TemplateBody: templateBody,
    }),
  );
  await waitForChangeSet(t.clients.cfn, out.Id!);
  await t.clients.cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: out.Id }));
  await waitForStatus(t.clients.cfn, stackName, ["CREATE_COMPLETE"]);
}

beforeAll(async () => {
  await createStack("steady", SG_TEMPLATE);
});

describe("errors reach the SDK as AWS's exceptions", () => {
  const cases: {
    name: string;
    call: () => Promise<unknown>;
    klass: abstract new (...args: never[]) => Error;
    errorName: string;
    message: string | RegExp;
  }[] = [
    {
      name: "DescribeStacks of a missing stack",
      call: () => t.clients.cfn.send(new DescribeStacksCommand({ StackName: "missing" })),
      klass: CloudFormationServiceException,
      errorName: "ValidationError",
      message: "Stack with id missing does not exist",
    },
    {
      name: "DescribeChangeSet of a missing change set",
      call: () =>
        t.clients.cfn.send(
          new DescribeChangeSetCommand({ StackName: "steady", ChangeSetName: "nope" }),
        ),
      klass: ChangeSetNotFoundException,
      errorName: "ChangeSetNotFoundException",
      message: "ChangeSet [nope] does not exist",
    },
    {
      name: "a template with a type the local cloud does not implement",
      call: () =>
        t.clients.cfn.send(
          new CreateChangeSetCommand({
            StackName: "bucket",
            ChangeSetName: "c",
            ChangeSetType: "CREATE",
            TemplateBody: JSON.stringify({ Resources: { B: { Type: "AWS::S3::Bucket" } } }),
          }),
        ),
      klass: CloudFormationServiceException,
      errorName: "ValidationError",
      message: "Template format error: Unrecognized resource types: [AWS::S3::Bucket]",
    },
    {
      name: "an IAM role without CAPABILITY_IAM",
      call: () =>
        t.clients.cfn.send(
          new CreateChangeSetCommand({
            StackName: "iam",
            ChangeSetName: "c",
            ChangeSetType: "CREATE",
            TemplateBody: IAM_TEMPLATE,
          }),
        ),
      klass: InsufficientCapabilitiesException,
      errorName: "InsufficientCapabilitiesException",
      message: "Requires capabilities : [CAPABILITY_IAM]",
    },
    {
      name: "CancelUpdateStack of a stack that is not updating",
      call: () => t.clients.cfn.send(new CancelUpdateStackCommand({ StackName: "steady" })),
      klass: CloudFormationServiceException,
      errorName: "ValidationError",
      message: "CancelUpdateStack cannot be called from current stack status",
    },
    {
      name: "CompleteLifecycleAction without an action",
      call: () =>
        t.clients.asg.send(
          new CompleteLifecycleActionCommand({
            AutoScalingGroupName: "none",
            LifecycleHookName: "h",
            InstanceId: "i-0123456789abcdef0",
            LifecycleActionResult: "CONTINUE",
          }),
        ),
      klass: AutoScalingServiceException,
      errorName: "ValidationError",
      message: "No active Lifecycle Action found with instance ID i-0123456789abcdef0",
    },
    {
      name: "DescribeAutoScalingGroups with more names than a page holds",
      call: () =>
        t.clients.asg.send(
          new DescribeAutoScalingGroupsCommand({
            AutoScalingGroupNames: Array.from({ length: 51 }, (_, i) => `group-${i}`),
          }),
        ),
      klass: AutoScalingServiceException,
      errorName: "ValidationError",
      message: "The number of group names that may be passed in is limited to 50",
    },
    {
      name: "DescribeInstances of an unknown instance",
      call: () =>
        t.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: ["i-0123456789abcdef0"] })),
      klass: EC2ServiceException,
      errorName: "InvalidInstanceID.NotFound",
      message: "The instance ID 'i-0123456789abcdef0' does not exist",
    },
    {
      name: "DescribeInstances of a malformed id",
      call: () => t.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: ["bogus"] })),
      klass: EC2ServiceException,
      errorName: "InvalidInstanceID.Malformed",
      message: 'Invalid id: "bogus"',
    },
  ];

  it.each(cases)("$name", async ({ call, klass, errorName, message }) => {
    const error = await failure(call());
    expect(error).toBeInstanceOf(klass);
    expect(error.name).toBe(errorName);
    if (typeof message === "string") expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
  });

  it("the same change set name twice is AlreadyExistsException", async () => {
    const input = {
      StackName: "twice",
      ChangeSetName: "same",
      ChangeSetType: "CREATE" as const,
      TemplateBody: SG_TEMPLATE,
    };
    await t.clients.cfn.send(new CreateChangeSetCommand(input));
    const error = await failure(t.clients.cfn.send(new CreateChangeSetCommand(input)));
    expect(error).toBeInstanceOf(AlreadyExistsException);
    expect(error.message).toBe("ChangeSet [same] already exists");
  });

  it("a change set without changes ends FAILED and cannot be executed", async () => {
    const out = await t.clients.cfn.send(
      new CreateChangeSetCommand({
        StackName: "steady",
        ChangeSetName: "same-again",
        TemplateBody: SG_TEMPLATE,
      }),
    );
    expect(await waitForChangeSet(t.clients.cfn, out.Id!)).toBe("FAILED");
    const described = await t.clients.cfn.send(
      new DescribeChangeSetCommand({ ChangeSetName: out.Id }),
    );
    expect(described.StatusReason).toBe(
      "The submitted information didn't contain changes. Submit different information to create a change set.",
    );
    expect(described.ExecutionStatus).toBe("UNAVAILABLE");
    const error = await failure(
      t.clients.cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: out.Id })),
    );
    expect(error).toBeInstanceOf(InvalidChangeSetStatusException);
    expect(error.message).toBe(
      `ChangeSet [${out.Id}] cannot be executed in its current status of [FAILED]`,
    );
  });

  it("a ClientRequestToken retries its own action and is refused for another", async () => {
    const out = await t.clients.cfn.send(
      new CreateChangeSetCommand({
        StackName: "tokens",
        ChangeSetName: "c",
        ChangeSetType: "CREATE",
        TemplateBody: SG_TEMPLATE,
      }),
    );
    await waitForChangeSet(t.clients.cfn, out.Id!);
    const execute = new ExecuteChangeSetCommand({
      ChangeSetName: out.Id,
      ClientRequestToken: "token-1",
    });
    await t.clients.cfn.send(execute);
    await t.clients.cfn.send(execute); // a retry of the same request
    await waitForStatus(t.clients.cfn, "tokens", ["CREATE_COMPLETE"]);
    const error = await failure(
      t.clients.cfn.send(
        new DeleteStackCommand({ StackName: "tokens", ClientRequestToken: "token-1" }),
      ),
    );
    expect(error).toBeInstanceOf(TokenAlreadyExistsException);
  });

  it("DeleteStack refuses a stack with termination protection", async () => {
    await t.clients.cfn.send(
      new UpdateTerminationProtectionCommand({
        StackName: "steady",
        EnableTerminationProtection: true,
      }),
    );
    const error = await failure(
      t.clients.cfn.send(new DeleteStackCommand({ StackName: "steady" })),
    );
    expect(error.name).toBe("ValidationError");
    expect(error.message).toBe(
      "Stack [steady] cannot be deleted while TerminationProtection is enabled",
    );
    const { StackId } = await t.clients.cfn.send(
      new UpdateTerminationProtectionCommand({
        StackName: "steady",
        EnableTerminationProtection: false,
      }),
    );
    await t.clients.cfn.send(new DeleteStackCommand({ StackName: "steady" }));
    expect(await waitForStatus(t.clients.cfn, StackId!, ["DELETE_COMPLETE"])).toBe(
      "DELETE_COMPLETE",
    );
    // A deleted stack is found by its id only.
    expect(
      (await failure(t.clients.cfn.send(new DescribeStacksCommand({ StackName: "steady" })))).name,
    ).toBe("ValidationError");
  });
});

describe("throttling", () => {
  it("a throttled call is retried by the SDK and succeeds", async () => {
    await t.cloud.admin.resetCounters();
    await t.cloud.admin.throttle({ service: "cloudformation", action: "DescribeStacks", count: 2 });
    const out = await t.clients.cfn.send(new DescribeStacksCommand({}));
    expect(out.$metadata.attempts).toBe(3);
    expect((await t.cloud.admin.counters())["cloudformation:DescribeStacks"]).toBe(3);
  });

  it("EC2 throttles with RequestLimitExceeded, which the SDK retries too", async () => {
    await t.cloud.admin.resetCounters();
    await t.cloud.admin.throttle({ service: "ec2", action: "DescribeInstances", count: 1 });
    const out = await t.clients.ec2.send(new DescribeInstancesCommand({}));
    expect(out.$metadata.attempts).toBe(2);
    expect(await t.cloud.admin.counters()).toEqual({ "ec2:DescribeInstances": 2 });
  });
});
