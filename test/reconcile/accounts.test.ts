// Clusters in several accounts: stacks are listed per account and region,
// a manifest is matched only with a stack of its own account, a stack is
// orphaned only by its own account's listing, and an account that cannot be
// read (refused or throttled) leaves the others alone.
import { describe, expect, it } from "vitest";
import type { LiveStack } from "../../src/aws/stacks.js";
import type { AccountSpec } from "../../src/manifest/types.js";
import { REASON } from "../../src/reconcile/conditions.js";
import type { DesiredCluster } from "../../src/reconcile/decide.js";
import { describeLocation, listingLocations, locationKey } from "../../src/reconcile/locations.js";
import { planWork, type RegionStack, type WorkInput } from "../../src/reconcile/planWork.js";
import { STACK_TAG } from "../../src/render/contract.js";
import { devSpec } from "../render/specs.js";

const A: AccountSpec = { roleArn: "arn:aws:iam::111111111111:role/quorate", sessionName: "q-a" };
const B: AccountSpec = { roleArn: "arn:aws:iam::222222222222:role/quorate", sessionName: "q-b" };
const EU = "eu-west-1";

function live(name: string, accountId: string, account?: AccountSpec, region = EU): RegionStack {
  const stack: LiveStack = {
    stackId: `arn:aws:cloudformation:${region}:${accountId}:stack/${name}/1`,
    stackName: name,
    status: "UPDATE_COMPLETE",
    tags: {
      [STACK_TAG.managedBy]: "quorate",
      [STACK_TAG.cluster]: name.replace(/^quorate-/, ""),
      [STACK_TAG.templateSha256]: "sha",
      [STACK_TAG.prune]: "true",
    },
    outputs: {},
    terminationProtection: false,
  };
  return { region, ...(account ? { account } : {}), stack };
}

function desired(name: string, account?: AccountSpec): DesiredCluster {
  const spec = {
    ...devSpec(),
    name,
    stackName: `quorate-${name}`,
    ...(account ? { account } : {}),
  };
  return { name, spec, templateSha256: "sha" };
}

function plan(input: Partial<WorkInput>): string[] {
  return planWork({ desired: [], stacks: [], unreachable: new Map(), owner: "default", ...input })
    .map(
      (w) =>
        `${w.cluster} ${w.action.kind}${w.account ? ` in ${w.account.roleArn.slice(13, 25)}` : ""}`,
    )
    .sort();
}

describe("locations", () => {
  it.each([
    [{ region: EU }, EU],
    [{ region: EU, account: A }, `${EU} ${A.roleArn}`],
    // Another session of the same role is the same account: listed once.
    [
      { region: EU, account: { ...A, sessionName: "other", externalId: "x1" } },
      `${EU} ${A.roleArn}`,
    ],
  ])("locationKey(%j) is %s", (location, key) => {
    expect(locationKey(location)).toBe(key);
  });

  it("says where, for people", () => {
    expect(describeLocation({ region: EU })).toBe(EU);
    expect(describeLocation({ region: EU, account: A })).toBe(
      `${EU} in account 111111111111 (role ${A.roleArn})`,
    );
  });

  it("lists every account and region once: the clusters', the extra regions and those before", () => {
    const locations = listingLocations({
      clusters: [
        { region: EU, account: A },
        { region: EU, account: { ...A, sessionName: "again" } },
        { region: EU },
        { region: "us-east-1", account: B },
      ],
      regions: ["eu-central-1", EU],
      before: [{ region: "ap-south-1", account: B }],
    });
    expect(locations.map(locationKey)).toEqual([
      "eu-central-1",
      EU,
      `ap-south-1 ${B.roleArn}`,
      `${EU} ${A.roleArn}`,
      `us-east-1 ${B.roleArn}`,
    ]);
  });
});

describe("planWork across accounts", () => {
  it("matches each manifest with its own account's stack, never another's of the same name", () => {
    expect(
      plan({
        desired: [desired("dev", A)],
        // Account B holds a stack of the same name and cluster tag; account A has none.
        stacks: [live("quorate-dev", "222222222222", B)],
      }),
    ).toEqual(["dev apply in 111111111111"]);
    expect(
      plan({ desired: [desired("dev", A)], stacks: [live("quorate-dev", "111111111111", A)] }),
    ).toEqual(["dev none in 111111111111"]);
  });

  it("orphans or prunes a stack only from its own account's listing", () => {
    // prod was deleted from git; its stack is in B and is pruned there, while dev in A is fine.
    const work = planWork({
      desired: [desired("dev", A)],
      stacks: [live("quorate-dev", "111111111111", A), live("quorate-prod", "222222222222", B)],
      unreachable: new Map(),
      owner: "default",
    });
    const prod = work.find((w) => w.cluster === "prod");
    expect(prod?.action.kind).toBe("delete");
    expect(prod?.account).toEqual(B);
    expect(work.find((w) => w.cluster === "dev")?.action.kind).toBe("none");
  });

  it("takes a stack listed through two roles of one account for one stack", () => {
    const twice = live("quorate-old", "111111111111", A);
    const again = { ...live("quorate-old", "111111111111", { ...A, roleArn: `${A.roleArn}-2` }) };
    expect(plan({ stacks: [twice, again] })).toEqual(["old delete in 111111111111"]);
  });

  it("stalls the clusters of an account whose role was refused, and only those", () => {
    const work = planWork({
      desired: [desired("dev", A), desired("prod", B), desired("plain")],
      stacks: [live("quorate-dev", "111111111111", A), live("quorate-plain", "000000000000")],
      unreachable: new Map(),
      refused: new Map([[locationKey({ region: EU, account: B }), "cannot assume role ..."]]),
      owner: "default",
    });
    const byName = new Map(work.map((w) => [w.cluster, w.action]));
    expect(byName.get("dev")?.kind).toBe("none");
    expect(byName.get("plain")?.kind).toBe("none");
    const prod = byName.get("prod");
    expect(prod).toEqual({
      kind: "stall",
      reason: REASON.AssumeRoleRefused,
      message: `stacks in ${EU} in account 222222222222 (role ${B.roleArn}) could not be listed: cannot assume role ...`,
    });
  });

  it("backs off only the clusters of a throttled account", () => {
    expect(
      plan({
        desired: [desired("dev", A), desired("prod", B)],
        stacks: [live("quorate-dev", "111111111111", A)],
        unreachable: new Map([[locationKey({ region: EU, account: B }), "Throttling"]]),
      }),
    ).toEqual(["dev none in 111111111111", "prod unreachable in 222222222222"]);
  });
});
