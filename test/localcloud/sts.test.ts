// The local cloud's STS and its accounts, through the real SDK: AssumeRole of
// a granted role gives keys that sign into the role's account (its own stacks
// and ARNs), a refused one is AWS's AccessDenied, and a restarted local cloud
// still knows the keys it handed out.
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  ListStacksCommand,
} from "@aws-sdk/client-cloudformation";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, describe, expect, it } from "vitest";
import { Accounts, DEFAULT_CALLER, parseRoleArn } from "../../src/localcloud/accounts.js";
import type { LocalCloud } from "../../src/localcloud/index.js";
import { accountNetwork } from "../../src/localcloud/localCloud.js";
import { failure, REGION, removeDir, startTestCloud, tempDir } from "./cloudHelpers.js";

const ROLE = "arn:aws:iam::111111111111:role/quorate";
const LOCAL = { accessKeyId: "local", secretAccessKey: "local" };

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

function sts(endpoint: string, credentials: Credentials = LOCAL): STSClient {
  return new STSClient({ region: REGION, endpoint, credentials, maxAttempts: 1 });
}

function cfn(endpoint: string, credentials: Credentials = LOCAL): CloudFormationClient {
  return new CloudFormationClient({ region: REGION, endpoint, credentials, maxAttempts: 1 });
}

async function assume(endpoint: string, roleArn = ROLE): Promise<Credentials> {
  const out = await sts(endpoint).send(
    new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "quorate-test" }),
  );
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error("AssumeRole returned no credentials");
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
  };
}

const TEMPLATE = JSON.stringify({
  Resources: { Group: { Type: "AWS::EC2::SecurityGroup", Properties: { GroupDescription: "x" } } },
});

async function stackNames(client: CloudFormationClient): Promise<string[]> {
  const out = await client.send(new ListStacksCommand({}));
  return (out.StackSummaries ?? []).map((s) => s.StackName ?? "");
}

describe("the local cloud's STS", () => {
  let dataDir: string | undefined;
  let cloud: LocalCloud | undefined;
  afterAll(async () => {
    await cloud?.close();
    await removeDir(dataDir);
  });

  it("answers GetCallerIdentity with the default account for any key", async () => {
    dataDir = await tempDir("quorate-sts-");
    cloud = await startTestCloud(dataDir, { roles: [ROLE] });
    const who = await sts(cloud.endpoint).send(new GetCallerIdentityCommand({}));
    expect(who).toMatchObject({ Account: "000000000000", Arn: DEFAULT_CALLER.arn });
  });

  it("gives a granted role's keys, which sign into the role's account", async () => {
    if (!cloud) throw new Error("no cloud");
    const keys = await assume(cloud.endpoint);
    expect(keys.accessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
    const who = await sts(cloud.endpoint, keys).send(new GetCallerIdentityCommand({}));
    expect(who).toMatchObject({
      Account: "111111111111",
      Arn: "arn:aws:sts::111111111111:assumed-role/quorate/quorate-test",
    });
    const created = await cfn(cloud.endpoint, keys).send(
      new CreateChangeSetCommand({
        StackName: "in-b",
        ChangeSetName: "c1",
        ChangeSetType: "CREATE",
        TemplateBody: TEMPLATE,
      }),
    );
    // The stack is the role's account's: its ARN says so, and the default account has no such stack.
    expect(created.StackId).toMatch(/^arn:aws:cloudformation:eu-west-1:111111111111:stack\/in-b\//);
    expect(await stackNames(cfn(cloud.endpoint, keys))).toContain("in-b");
    expect(await stackNames(cfn(cloud.endpoint))).not.toContain("in-b");
    const b = await cloud.admin.forAccount("111111111111").state();
    expect(b.accountId).toBe("111111111111");
    expect(b.stacks.map((s) => s.stackName)).toEqual(["in-b"]);
    expect((await cloud.admin.state()).stacks).toEqual([]);
    const { accounts, roles } = await cloud.admin.accounts();
    expect(roles).toEqual([ROLE]);
    expect(accounts.map((a) => a.accountId).sort()).toEqual(["000000000000", "111111111111"]);
  });

  it("refuses any other role with AWS's AccessDenied, naming the caller and the role", async () => {
    if (!cloud) throw new Error("no cloud");
    const other = "arn:aws:iam::222222222222:role/quorate";
    const error = (await failure(assume(cloud.endpoint, other))) as Error & {
      $metadata?: { httpStatusCode?: number };
    };
    expect(error.name).toBe("AccessDenied");
    expect(error.$metadata?.httpStatusCode).toBe(403);
    expect(error.message).toBe(
      `User: ${DEFAULT_CALLER.arn} is not authorized to perform: sts:AssumeRole on resource: ${other}`,
    );
  });

  it("still knows the keys it handed out, and the account's stacks, after a restart", async () => {
    if (!cloud || !dataDir) throw new Error("no cloud");
    const keys = await assume(cloud.endpoint);
    await cloud.close();
    cloud = await startTestCloud(dataDir, { roles: [ROLE] });
    const who = await sts(cloud.endpoint, keys).send(new GetCallerIdentityCommand({}));
    expect(who.Account).toBe("111111111111");
    expect(await stackNames(cfn(cloud.endpoint, keys))).toContain("in-b");
    expect(await stackNames(cfn(cloud.endpoint))).not.toContain("in-b");
  });
});

describe("accounts", () => {
  it.each([
    ["arn:aws:iam::111111111111:role/quorate", { accountId: "111111111111", roleName: "quorate" }],
    [
      "arn:aws:iam::111111111111:role/ops/quorate",
      { accountId: "111111111111", roleName: "quorate" },
    ],
    ["arn:aws-us-gov:iam::123456789012:role/q", { accountId: "123456789012", roleName: "q" }],
    ["arn:aws:iam::1111:role/quorate", undefined],
    ["arn:aws:iam::111111111111:user/quorate", undefined],
  ])("parseRoleArn(%s)", (arn, expected) => {
    expect(parseRoleArn(arn)).toEqual(expected);
  });

  it("gives each account its own loopback range, the default account the given one", () => {
    expect(accountNetwork("127.0.1.0", 0)).toBe("127.0.1.0");
    expect(accountNetwork("127.0.1.0", 1)).toBe("127.1.1.0");
    expect(accountNetwork("127.200.7.0", 2)).toBe("127.202.7.0");
    expect(() => accountNetwork("127.255.1.0", 1)).toThrow(/no loopback range left/);
  });

  it("maps a session key to its account until it expires, and every other key to the default", async () => {
    const dir = await tempDir("quorate-accounts-");
    try {
      let now = 1_000_000;
      const accounts = Accounts.open(`${dir}/accounts.json`, [ROLE], () => now);
      const issued = accounts.assumeRole(DEFAULT_CALLER, {
        roleArn: ROLE,
        sessionName: "s1",
        durationSeconds: 900,
      });
      expect(accounts.callerOf(issued.accessKeyId).accountId).toBe("111111111111");
      expect(accounts.callerOf("AKIAOTHER").accountId).toBe("000000000000");
      // Slots are kept: the same account gets the same range after a reload.
      expect(accounts.slotOf("111111111111")).toBe(1);
      const reloaded = Accounts.open(`${dir}/accounts.json`, [ROLE], () => now);
      expect(reloaded.callerOf(issued.accessKeyId).accountId).toBe("111111111111");
      expect(reloaded.slotOf("333333333333")).toBe(2);
      now += 900_000;
      expect(() => reloaded.callerOf(issued.accessKeyId)).toThrow(/security token .* expired/);
    } finally {
      await removeDir(dir);
    }
  });

  it("refuses a role whose trust policy asks for an external id, unless it is given", () => {
    const accounts = Accounts.open("/nonexistent/never-written-2.json", [
      { roleArn: ROLE, externalId: "acme-1" },
    ]);
    const denied = `User: ${DEFAULT_CALLER.arn} is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`;
    expect(() => accounts.assumeRole(DEFAULT_CALLER, { roleArn: ROLE, sessionName: "s1" })).toThrow(
      denied,
    );
    expect(() =>
      accounts.assumeRole(DEFAULT_CALLER, { roleArn: ROLE, sessionName: "s1", externalId: "x" }),
    ).toThrow(denied);
  });

  it("refuses a session name or duration AssumeRole would refuse", () => {
    const accounts = Accounts.open("/nonexistent/never-written.json", [ROLE]);
    expect(() =>
      accounts.assumeRole(DEFAULT_CALLER, { roleArn: ROLE, sessionName: "has space" }),
    ).toThrow(/roleSessionName/);
    expect(() =>
      accounts.assumeRole(DEFAULT_CALLER, {
        roleArn: ROLE,
        sessionName: "ok",
        durationSeconds: 60,
      }),
    ).toThrow(/durationSeconds/);
  });
});
