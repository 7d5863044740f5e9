// Stories of quorate as the membership authority, on the local cloud with real
// etcd: creating the dev cluster through its launching hooks, then an image
// upgrade that replaces every member one by one under a concurrent writer.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWriteProbe } from "../../src/etcd/writeProbe.js";
import { localAmiId } from "../../src/localcloud/index.js";
import { applyCluster } from "../../src/reconcile/apply.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe("the dev example (3 members)", () => {
  it("is created by quorate apply: all members bootstrapped through the launching hooks", async () => {
    const spec = h.spec("dev");
    const outcome = await applyCluster(h.deps(), spec, { revision: "rev-create" });
    expect(outcome.result, outcome.message).toBe("applied");
    expect(outcome.executed).toBe(true);
    expect(await h.stackStatus(spec)).toBe("CREATE_COMPLETE");
    const members = await h.members(spec);
    const instances = await h.instances(spec);
    expect(members).toHaveLength(3);
    expect(members.every((m) => !m.isLearner)).toBe(true);
    expect(members.map((m) => m.name).sort()).toEqual(instances.map((i) => i.instanceId).sort());
    expect(h.events.filter((e) => e.type === "bootstrap")).toHaveLength(1);
    expect(outcome.gate?.passed).toBe(true);
  });

  it("is upgraded to a new image one member at a time, with no failed or lost write", async () => {
    const spec = h.spec("dev", (m) => {
      m.spec.image.version = "4152.2.0";
    });
    const before = await h.instances(spec);
    const writer = startWriteProbe({
      endpoints: () => h.clientURLs(spec),
      prefix: "dev-upgrade",
      maxWrites: 5000,
    });
    h.events.length = 0;
    const outcome = await applyCluster(h.deps(), spec, { revision: "rev-upgrade" });
    const writes = await writer.stop();
    expect(outcome.result, outcome.message).toBe("applied");
    expect(await h.stackStatus(spec)).toBe("UPDATE_COMPLETE");
    expect(writes.failed, writes.failures.join("\n")).toBe(0);
    expect(writes.lost).toEqual([]);
    expect(writes.acknowledged).toBeGreaterThan(20);

    const after = await h.instances(spec);
    const members = await h.members(spec);
    const newAmi = localAmiId("stable", "4152.2.0", "eu-west-1");
    expect(after).toHaveLength(3);
    expect(after.every((i) => i.imageId === newAmi)).toBe(true);
    expect(after.some((i) => before.some((b) => b.instanceId === i.instanceId))).toBe(false);
    expect(members).toHaveLength(3);
    expect(members.every((m) => !m.isLearner)).toBe(true);
    expect(members.map((m) => m.name).sort()).toEqual(after.map((i) => i.instanceId).sort());

    // One by one, launching first: each replacement joined and was promoted before an old member left.
    const order = h.events
      .filter((e) => ["member-removed", "learner-added", "member-promoted"].includes(e.type))
      .map((e) => e.type);
    expect(order).toEqual([
      "learner-added",
      "member-promoted",
      "member-removed",
      "learner-added",
      "member-promoted",
      "member-removed",
      "learner-added",
      "member-promoted",
      "member-removed",
    ]);
    expect(h.events.filter((e) => e.type === "member-promoted")).toHaveLength(3);
  });
});
