// Listing stacks per account and region against the local cloud, through the
// real SDK: each location fails on its own. A throttled account and a refused
// role mark only their own location; every other location is still listed.
import { CreateChangeSetCommand } from "@aws-sdk/client-cloudformation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { createAwsClientPool } from "../../src/aws/clients.js";
import type { LocalCloud } from "../../src/localcloud/index.js";
import { parseManifests } from "../../src/manifest/parse.js";
import type { AccountSpec } from "../../src/manifest/types.js";
import { conditionOf, REASON } from "../../src/reconcile/conditions.js";
import { locationKey } from "../../src/reconcile/locations.js";
import { listLocations } from "../../src/reconcile/stackListing.js";
import { readLiveStatuses } from "../../src/reconcile/statusReport.js";
import { createAmiFeed } from "../../src/render/ami.js";
import { clusterManifest } from "../helpers/manifestRepo.js";
import { removeDir, startTestCloud, tempDir } from "../localcloud/cloudHelpers.js";

const EU = "eu-west-1";
const A: AccountSpec = { roleArn: "arn:aws:iam::111111111111:role/quorate", sessionName: "q-a" };
const B: AccountSpec = { roleArn: "arn:aws:iam::222222222222:role/quorate", sessionName: "q-b" };
const REFUSED: AccountSpec = {
  roleArn: "arn:aws:iam::333333333333:role/quorate",
  sessionName: "q-c",
};

describe("listLocations", () => {
  let dataDir: string;
  let cloud: LocalCloud;
  beforeAll(async () => {
    dataDir = await tempDir("quorate-listing-");
    cloud = await startTestCloud(dataDir, { roles: [A.roleArn, B.roleArn] });
  });
  afterAll(async () => {
    await cloud?.close();
    await removeDir(dataDir);
  });

  it("lists each account's own stacks, and one throttled or refused account marks only itself", async () => {
    const aws = createAwsClientPool({ endpoint: cloud.endpoint, maxAttempts: 2 }, {});
    const cfnA = aws(EU, A).cloudFormation;
    await cfnA.send(
      new CreateChangeSetCommand({
        StackName: "quorate-alpha",
        ChangeSetName: "c1",
        ChangeSetType: "CREATE",
        TemplateBody: JSON.stringify({
          Resources: {
            G: { Type: "AWS::EC2::SecurityGroup", Properties: { GroupDescription: "g" } },
          },
        }),
      }),
    );
    // Account B has its first session before its faults can be set (its world is made on AssumeRole).
    expect((await listLocations(aws, [{ region: EU, account: B }])).stacks).toEqual([]);
    await cloud.admin
      .forAccount("222222222222")
      .throttle({ service: "cloudformation", action: "DescribeStacks", count: 10 });

    const listing = await listLocations(aws, [
      { region: EU },
      { region: EU, account: A },
      { region: EU, account: B },
      { region: EU, account: REFUSED },
    ]);
    expect(
      listing.stacks.map((s) => `${s.account?.sessionName ?? "ambient"} ${s.stack.stackName}`),
    ).toEqual(["q-a quorate-alpha"]);
    expect([...listing.unreachable.keys()]).toEqual([locationKey({ region: EU, account: B })]);
    expect(listing.unreachable.get(locationKey({ region: EU, account: B }))).toMatch(/throttled/);
    expect([...listing.refused.keys()]).toEqual([locationKey({ region: EU, account: REFUSED })]);
    expect(listing.refused.get(locationKey({ region: EU, account: REFUSED }))).toContain(
      `cannot assume role ${REFUSED.roleArn}: AccessDenied`,
    );
    // The default account was listed too, and has no stack of account A's.
    const counters = await cloud.admin.counters();
    expect(counters["cloudformation:DescribeStacks"]).toBeGreaterThanOrEqual(4);
  });

  it("goes on without a location still being retried past its patience, and waits for it in full when asked", async () => {
    const aws = createAwsClientPool({ endpoint: cloud.endpoint, maxAttempts: 6 }, {});
    const b = cloud.admin.forAccount("222222222222");
    await b.throttle({ service: "cloudformation", action: "DescribeStacks", count: 1000 });
    try {
      const locations = [
        { region: EU, account: A },
        { region: EU, account: B },
      ];
      const keyB = locationKey({ region: EU, account: B });
      const first = await listLocations(aws, locations, { patienceMs: 100 });
      expect(first.stacks.map((s) => `${s.account?.sessionName} ${s.stack.stackName}`)).toEqual([
        "q-a quorate-alpha",
      ]);
      expect([...first.cutOff]).toEqual([keyB]);
      expect(first.unreachable.get(keyB)).toBe(
        `its stacks were still being listed 100ms after the other locations' (CloudFormation throttling or slow in eu-west-1 in account 222222222222 (role ${B.roleArn})); the others went on without waiting, and this one is waited for at the next pass`,
      );
      // The next pass waits for it, so a slow account is never skipped twice in a row
      // (here with fewer retries than the first's, which goes on in the background).
      const fewerRetries = createAwsClientPool({ endpoint: cloud.endpoint, maxAttempts: 2 }, {});
      const second = await listLocations(fewerRetries, locations, {
        patienceMs: 100,
        waitInFull: first.cutOff,
      });
      expect([...second.cutOff]).toEqual([]);
      expect(second.unreachable.get(keyB)).toMatch(/AWS throttled the call after retries/);
    } finally {
      await b.clearFaults();
    }
  }, 60_000);

  it("rebuilds `quorate status`: the refused account's cluster Stalled, said with its account and role", async () => {
    const aws = createAwsClientPool({ endpoint: cloud.endpoint, maxAttempts: 2 }, {});
    const manifest = (name: string, roleArn: string) =>
      stringify(clusterManifest({ name, spec: { account: { roleArn } } }));
    const loaded = parseManifests([
      { file: "alpha.yaml", text: manifest("alpha", A.roleArn) },
      { file: "gamma.yaml", text: manifest("gamma", REFUSED.roleArn) },
    ]);
    expect(loaded.errors).toEqual([]);
    const live = await readLiveStatuses(loaded, {
      aws,
      amiFeed: createAmiFeed({
        source: `${cloud.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
      }),
    });
    expect(Object.keys(live.unreachable)).toEqual([
      `${EU} in account 333333333333 (role ${REFUSED.roleArn})`,
    ]);
    const gamma = live.clusters.find((c) => c.cluster === "gamma");
    const stalled = conditionOf(gamma?.conditions ?? [], "Stalled");
    expect(stalled?.status).toBe("True");
    expect(stalled?.reason).toBe(REASON.AssumeRoleRefused);
    expect(stalled?.message).toContain(REFUSED.roleArn);
    // alpha's stack is account A's quorate-alpha from the test above: found there, out of sync.
    const alpha = live.clusters.find((c) => c.cluster === "alpha");
    expect(alpha?.stackStatus).toBe("REVIEW_IN_PROGRESS");
  });
});
