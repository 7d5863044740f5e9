// The client pool: one set of clients per region and account role, every
// client of a role signed by one AssumeRole session, and a refused AssumeRole
// reported as AssumeRoleRefused naming the role. Against the local cloud's
// STS, through the real SDK.
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AccountRole,
  AssumeRoleRefused,
  accountRoleKey,
  createAwsClientPool,
} from "../../src/aws/clients.js";
import { listStacks } from "../../src/aws/stacks.js";
import type { LocalCloud } from "../../src/localcloud/index.js";
import { removeDir, startTestCloud, tempDir } from "../localcloud/cloudHelpers.js";

const B: AccountRole = {
  roleArn: "arn:aws:iam::111111111111:role/quorate",
  sessionName: "quorate-b",
};
const REFUSED: AccountRole = {
  roleArn: "arn:aws:iam::222222222222:role/quorate",
  sessionName: "quorate-c",
};

describe("the AWS client pool", () => {
  let dataDir: string;
  let cloud: LocalCloud;
  beforeAll(async () => {
    dataDir = await tempDir("quorate-pool-");
    cloud = await startTestCloud(dataDir, { roles: [B.roleArn] });
  });
  afterAll(async () => {
    await cloud?.close();
    await removeDir(dataDir);
  });

  it("keeps one set of clients per region and account role", () => {
    const aws = createAwsClientPool({ endpoint: cloud.endpoint }, {});
    expect(aws("eu-west-1")).toBe(aws("eu-west-1"));
    expect(aws("eu-west-1", B)).toBe(aws("eu-west-1", { ...B }));
    expect(aws("eu-west-1", B)).not.toBe(aws("eu-west-1"));
    expect(aws("eu-west-1", B)).not.toBe(aws("us-east-1", B));
    expect(aws("eu-west-1", B)).not.toBe(aws("eu-west-1", { ...B, externalId: "ext-1" }));
    expect(aws("eu-west-1", B).account).toEqual(B);
    expect(aws("eu-west-1").account).toBeUndefined();
  });

  it.each([
    [undefined, ""],
    [B, '["arn:aws:iam::111111111111:role/quorate","","quorate-b"]'],
    [{ ...B, externalId: "x1" }, '["arn:aws:iam::111111111111:role/quorate","x1","quorate-b"]'],
  ])("keys %j as %s", (account, key) => {
    expect(accountRoleKey(account)).toBe(key);
  });

  it("signs a role's clients, in every region, with one AssumeRole session in its account", async () => {
    const aws = createAwsClientPool({ endpoint: cloud.endpoint }, {});
    await cloud.admin.resetCounters();
    const inB = aws("eu-west-1", B);
    await listStacks(inB.cloudFormation);
    await listStacks(aws("us-east-1", B).cloudFormation);
    await listStacks(aws("eu-west-1").cloudFormation);
    const counters = await cloud.admin.counters();
    expect(counters["sts:AssumeRole"]).toBe(1);
    // The session's credentials are the account's: what STS says of them.
    const credentials = await inB.cloudFormation.config.credentials();
    const who = await new STSClient({
      region: "eu-west-1",
      endpoint: cloud.endpoint,
      credentials,
    }).send(new GetCallerIdentityCommand({}));
    expect(who.Account).toBe("111111111111");
    expect(who.Arn).toBe("arn:aws:sts::111111111111:assumed-role/quorate/quorate-b");
  });

  it("reports a refused AssumeRole as AssumeRoleRefused, naming the role and what to check", async () => {
    const aws = createAwsClientPool({ endpoint: cloud.endpoint, maxAttempts: 1 }, {});
    const error = await listStacks(aws("eu-west-1", REFUSED).cloudFormation).catch((e) => e);
    expect(error).toBeInstanceOf(AssumeRoleRefused);
    expect(error.kind).toBe("terminal");
    expect(error.roleArn).toBe(REFUSED.roleArn);
    expect(error.message).toContain(`cannot assume role ${REFUSED.roleArn}: AccessDenied: User:`);
    expect(error.hint).toMatch(/trust policy.*sts:AssumeRole/);
    // The other account's clients are untouched by it.
    await expect(listStacks(aws("eu-west-1", B).cloudFormation)).resolves.toEqual([]);
  });
});
