// The prod example (5 members) upgraded to a new image by quorate, on the local
// cloud with real etcd: every member replaced one by one under a concurrent
// writer that sees no failed and no lost write, and a quorum that never falls.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWriteProbe } from "../../src/etcd/writeProbe.js";
import { localAmiId } from "../../src/localcloud/index.js";
import { applyCluster } from "../../src/reconcile/apply.js";
import { sustainedQuorumLoss, watchQuorum } from "../helpers/naiveOperator.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe("the prod example (5 members)", () => {
  it("is upgraded to a new image one member at a time, with no failed or lost write", async () => {
    const created = await applyCluster(h.deps(), h.spec("prod"), { revision: "rev-create" });
    expect(created.result, created.message).toBe("applied");
    const spec = h.spec("prod", (m) => {
      m.spec.image.version = "4152.2.0";
    });
    const before = await h.instances(spec);
    expect(before).toHaveLength(5);

    const quorum = watchQuorum(() => h.clientURLs(spec));
    const writer = startWriteProbe({
      endpoints: () => h.clientURLs(spec),
      prefix: "prod-upgrade",
      maxWrites: 8000,
    });
    h.events.length = 0;
    const outcome = await applyCluster(h.deps(), spec, { revision: "rev-upgrade" });
    const writes = await writer.stop();
    const samples = await quorum.stop();
    expect(outcome.result, outcome.message).toBe("applied");
    expect(outcome.executed).toBe(true);
    expect(await h.stackStatus(spec)).toBe("UPDATE_COMPLETE");
    expect(writes.failed, writes.failures.join("\n")).toBe(0);
    expect(writes.lost).toEqual([]);
    expect(writes.acknowledged).toBeGreaterThan(50);
    expect(samples.length).toBeGreaterThan(10);
    expect(sustainedQuorumLoss(samples)).toEqual([]);

    const after = await h.instances(spec);
    const members = await h.members(spec);
    const newAmi = localAmiId("stable", "4152.2.0", "eu-west-1");
    expect(after).toHaveLength(5);
    expect(after.every((i) => i.imageId === newAmi)).toBe(true);
    expect(after.some((i) => before.some((b) => b.instanceId === i.instanceId))).toBe(false);
    expect(members).toHaveLength(5);
    expect(members.every((m) => !m.isLearner)).toBe(true);
    expect(members.map((m) => m.name).sort()).toEqual(after.map((i) => i.instanceId).sort());

    // One by one, launching first: each old member removed once, after a replacement was promoted.
    const changes = h.events.filter((e) =>
      ["member-removed", "learner-added", "member-promoted"].includes(e.type),
    );
    expect(changes.map((e) => e.type)).toEqual(
      before.flatMap(() => ["learner-added", "member-promoted", "member-removed"]),
    );
    const removed = changes.filter((e) => e.type === "member-removed").map((e) => e.instanceId);
    expect(removed.sort()).toEqual(before.map((b) => b.instanceId).sort());
    expect(h.events.filter((e) => e.type === "member-promoted")).toHaveLength(5);
  });
});
