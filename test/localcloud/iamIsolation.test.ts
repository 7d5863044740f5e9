// Owner isolation under examples/iam/quorate-controller.json, shown with the
// SDK called directly with the controller's credentials, as a quorate whose
// code asked for it would: a principal tagged owner team-a cannot change,
// take over or delete team-b's stack, its group or its instances. And the
// local cloud's denials in each service's shape, and its refusal of a policy
// that is no policy.
//
// SCALE-TEST MODE: instances WITHOUT etcd (nothing here needs a member).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CompleteLifecycleActionCommand,
  CreateOrUpdateTagsCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CreateChangeSetCommand,
  DeleteStackCommand,
  GetTemplateCommand,
  UpdateTerminationProtectionCommand,
} from "@aws-sdk/client-cloudformation";
import { CreateTagsCommand } from "@aws-sdk/client-ec2";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsClients, createAwsClientPool } from "../../src/aws/clients.js";
import { describeStack, listStacks, stackResourceId } from "../../src/aws/stacks.js";
import { type LocalCloud, startLocalCloud } from "../../src/localcloud/index.js";
import { loadManifests } from "../../src/manifest/load.js";
import type { AmiFeed } from "../../src/render/ami.js";
import { STACK_TAG } from "../../src/render/contract.js";
import { createManifestRepo, type ManifestRepo } from "../helpers/manifestRepo.js";
import {
  createStacksAsQuorateLeavesThem,
  startScaleTestCloud,
} from "../helpers/stacksAsQuorateLeavesThem.js";

const REGION = "eu-west-1";
const CONTROLLER = JSON.parse(
  readFileSync(new URL("../../examples/iam/quorate-controller.json", import.meta.url), "utf8"),
);

let cloud: LocalCloud;
let scratch: string;
let aws: (region: string) => AwsClients;
let amiFeed: AmiFeed;
let repo: ManifestRepo;
let groupName: string;
let instanceId: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "quorate-iam-isolation-"));
  ({ cloud, aws, amiFeed } = await startScaleTestCloud(scratch));
  repo = await createManifestRepo({ prefix: "iam-isolation" });
  repo.write("beta", { name: "beta" });
  const rev = await repo.commit("team B: beta");
  const loaded = await loadManifests([repo.path], repo.dir);
  // Team B's stack, made before any policy is enforced.
  await createStacksAsQuorateLeavesThem(aws(REGION), loaded.clusters, amiFeed, rev, "team-b");
  groupName = (await stackResourceId(aws(REGION).cloudFormation, "quorate-beta", "EtcdGroup"))!;
  const state = await cloud.admin.state();
  instanceId = state.instances.find((i) => i.state === "running")!.instanceId;
  await aws(REGION).s3.send(new CreateBucketCommand({ Bucket: "snaps" }));
}, 60_000);

afterAll(async () => {
  await cloud?.close();
  await repo?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** The error a call fails with, as the SDK raises it. */
async function failure(
  call: Promise<unknown>,
): Promise<{ name: string; status?: number; message: string }> {
  try {
    await call;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return {
      name: e.name,
      message: e.message,
      ...(e.$metadata?.httpStatusCode ? { status: e.$metadata.httpStatusCode } : {}),
    };
  }
  throw new Error("the call was allowed");
}

describe("a controller tagged quorate.dev:owner=team-a, against team-b's stack", () => {
  beforeAll(async () => {
    await cloud.admin.resetCounters();
    await cloud.admin.enforceIam({
      policy: CONTROLLER,
      principalTags: { "quorate.dev:owner": "team-a" },
    });
  });

  const cfn = () => aws(REGION).cloudFormation;
  const denied = (action: string, resource: string) =>
    `User: arn:aws:iam::000000000000:user/local is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;

  it("can read it (reads are not owner-scoped), but not change, take over or delete it", async () => {
    const stack = (await describeStack(cfn(), "quorate-beta"))!;
    expect(stack.tags[STACK_TAG.owner]).toBe("team-b");
    await cfn().send(new GetTemplateCommand({ StackName: "quorate-beta" }));

    expect(
      await failure(cfn().send(new DeleteStackCommand({ StackName: "quorate-beta" }))),
    ).toEqual({
      name: "AccessDenied",
      status: 403,
      message: denied("cloudformation:DeleteStack", stack.stackId),
    });
    expect(
      await failure(
        cfn().send(
          new UpdateTerminationProtectionCommand({
            StackName: "quorate-beta",
            EnableTerminationProtection: true,
          }),
        ),
      ),
    ).toMatchObject({
      name: "AccessDenied",
      message: denied("cloudformation:UpdateTerminationProtection", stack.stackId),
    });
    // Re-tagging it as team-a's in a change set is the takeover the ResourceTag condition stops.
    const takeover = await failure(
      cfn().send(
        new CreateChangeSetCommand({
          StackName: "quorate-beta",
          ChangeSetName: "takeover",
          UsePreviousTemplate: true,
          Tags: [{ Key: STACK_TAG.owner, Value: "team-a" }],
        }),
      ),
    );
    expect(takeover).toMatchObject({
      name: "AccessDenied",
      message: denied("cloudformation:CreateChangeSet", stack.stackId),
    });
  });

  it("cannot act on its group or tag its instances", async () => {
    const asg = aws(REGION).autoScaling;
    expect(
      await failure(
        asg.send(
          new CompleteLifecycleActionCommand({
            AutoScalingGroupName: groupName,
            LifecycleHookName: "quorate-launching",
            LifecycleActionResult: "ABANDON",
            InstanceId: instanceId,
          }),
        ),
      ),
    ).toMatchObject({
      name: "AccessDenied",
      status: 403,
      message: expect.stringContaining(
        "autoscaling:CompleteLifecycleAction on resource: arn:aws:autoscaling:eu-west-1:000000000000:autoScalingGroup:",
      ),
    });
    expect(
      await failure(
        asg.send(
          new CreateOrUpdateTagsCommand({
            Tags: [
              {
                ResourceId: groupName,
                ResourceType: "auto-scaling-group",
                Key: STACK_TAG.owner,
                Value: "team-a",
                PropagateAtLaunch: false,
              },
            ],
          }),
        ),
      ),
    ).toMatchObject({ name: "AccessDenied" });
    // EC2 says UnauthorizedOperation, with the same sentence after its own.
    expect(
      await failure(
        aws(REGION).ec2.send(
          new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: "x", Value: "y" }] }),
        ),
      ),
    ).toEqual({
      name: "UnauthorizedOperation",
      status: 403,
      message: `You are not authorized to perform this operation. ${denied("ec2:CreateTags", `arn:aws:ec2:eu-west-1:000000000000:instance/${instanceId}`)}.`,
    });
  });

  it("left the stack as it was, and counted every denial", async () => {
    const stack = (await describeStack(cfn(), "quorate-beta"))!;
    expect(stack.status).toBe("CREATE_COMPLETE");
    expect(stack.tags[STACK_TAG.owner]).toBe("team-b");
    expect(stack.changeSetId).not.toMatch(/takeover/);
    const counters = await cloud.admin.counters();
    expect(
      Object.keys(counters)
        .filter((k) => k.startsWith("denied:"))
        .sort(),
    ).toEqual([
      "denied:autoscaling:CompleteLifecycleAction",
      "denied:autoscaling:CreateOrUpdateTags",
      "denied:cloudformation:CreateChangeSet",
      "denied:cloudformation:DeleteStack",
      "denied:cloudformation:UpdateTerminationProtection",
      "denied:ec2:CreateTags",
    ]);
  });

  it("as team-b, the same principal may change it: the owner tag is what decides", async () => {
    await cloud.admin.enforceIam({
      policy: CONTROLLER,
      principalTags: { "quorate.dev:owner": "team-b" },
    });
    await cfn().send(
      new UpdateTerminationProtectionCommand({
        StackName: "quorate-beta",
        EnableTerminationProtection: false,
      }),
    );
  });
});

describe("S3 under the controller policy", () => {
  it("writes and reads objects, and refuses what the policy does not list with S3's AccessDenied", async () => {
    await cloud.admin.enforceIam({ policy: CONTROLLER, principalTags: {} });
    const s3 = aws(REGION).s3;
    await s3.send(new PutObjectCommand({ Bucket: "snaps", Key: "beta/x", Body: "x" }));
    await s3.send(new GetObjectCommand({ Bucket: "snaps", Key: "beta/x" }));
    expect(await failure(s3.send(new CreateBucketCommand({ Bucket: "other" })))).toEqual({
      name: "AccessDenied",
      status: 403,
      message:
        'User: arn:aws:iam::000000000000:user/local is not authorized to perform: s3:CreateBucket on resource: "arn:aws:s3:::other" because no identity-based policy allows the s3:CreateBucket action',
    });
    await cloud.admin.stopEnforcingIam();
  });
});

describe("clusters in other accounts under the controller policy", () => {
  const ROLE_A = "arn:aws:iam::111111111111:role/quorate";
  const ROLE_B = "arn:aws:iam::222222222222:role/quorate";
  let accounts: LocalCloud | undefined;
  afterAll(async () => {
    await accounts?.close();
  });

  it("may assume the roles it allows, and a role it does not allow stops as AssumeRoleRefused naming the role", async () => {
    // The operator narrowed the shipped statement to account A's role: B's trust policy would let quorate in, its own policy does not.
    const narrowed = {
      ...CONTROLLER,
      Statement: CONTROLLER.Statement.map((s: { Sid: string }) =>
        s.Sid === "AssumeClusterAccountRoles" ? { ...s, Resource: ROLE_A } : s,
      ),
    };
    accounts = await startLocalCloud({
      port: 0,
      dataDir: join(scratch, "accounts"),
      withoutEtcd: true,
      roles: [ROLE_A, ROLE_B],
      iamPolicy: narrowed,
      iamPrincipalTags: { "quorate.dev:owner": "default" },
    });
    const pool = createAwsClientPool({ endpoint: accounts.endpoint }, {});
    expect(
      await listStacks(
        pool(REGION, { roleArn: ROLE_A, sessionName: "quorate-alpha" }).cloudFormation,
      ),
    ).toEqual([]);
    const refused = await failure(
      listStacks(pool(REGION, { roleArn: ROLE_B, sessionName: "quorate-beta" }).cloudFormation),
    );
    expect(refused.name).toBe("AssumeRoleRefused");
    expect(refused.message).toBe(
      `cannot assume role ${ROLE_B}: AccessDenied: User: arn:aws:iam::000000000000:user/local is not authorized to perform: sts:AssumeRole on resource: ${ROLE_B} because no identity-based policy allows the sts:AssumeRole action`,
    );
    expect(await accounts.admin.counters()).toMatchObject({ "denied:sts:AssumeRole": 1 });

    // Without the statement, no account's role at all.
    await accounts.admin.enforceIam({
      policy: {
        ...CONTROLLER,
        Statement: CONTROLLER.Statement.filter(
          (s: { Sid: string }) => s.Sid !== "AssumeClusterAccountRoles",
        ),
      },
      principalTags: { "quorate.dev:owner": "default" },
    });
    const fresh = createAwsClientPool({ endpoint: accounts.endpoint }, {});
    expect(
      (
        await failure(
          listStacks(
            fresh(REGION, { roleArn: ROLE_A, sessionName: "quorate-alpha" }).cloudFormation,
          ),
        )
      ).name,
    ).toBe("AssumeRoleRefused");
  });
});

describe("a policy that is no policy", () => {
  it("is refused at start, naming what is wrong", async () => {
    await expect(
      startLocalCloud({
        port: 0,
        dataDir: join(scratch, "bad"),
        withoutEtcd: true,
        iamPolicy: { Statement: "allow everything" },
      }),
    ).rejects.toThrow(/^the IAM policy is not a valid IAM policy: /);
    await expect(
      startLocalCloud({
        port: 0,
        dataDir: join(scratch, "bad"),
        withoutEtcd: true,
        iamPolicy: join(scratch, "missing.json"),
      }),
    ).rejects.toThrow(/^cannot read the IAM policy .*missing\.json/);
  });
});
