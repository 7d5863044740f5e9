// A member whose etcd is dead before a rollout: etcd's rule for a failed
// member applies (remove it first, then add its replacement), and the rest of
// the rollout still launches first. Split from rolloutFaultTolerance.test.ts,
// whose filled clusters it does not need, so that the two run side by side.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyCluster } from "../../src/reconcile/apply.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe("a member whose etcd is dead before the rollout", () => {
  it("is removed first and replaced (remove, then add), then the rest roll launch first", async () => {
    const spec = h.spec("dev", (m) => {
      m.metadata.name = "healing";
      m.spec.stackName = "quorate-healing";
    });
    const created = await applyCluster(h.deps(), spec, { revision: "healing-create" });
    expect(created.result, created.message).toBe("applied");
    const leader = (await h.members(spec)).find((m) => !m.isLearner)?.name;
    const instances = await h.instances(spec);
    // Any member but the one the first member list named, so the pick does not depend on timing.
    const victim = instances.find((i) => i.instanceId !== leader)?.instanceId ?? "";
    await h.cloud.admin.instance(victim, "kill");

    const upgraded = h.spec("dev", (m) => {
      m.metadata.name = "healing";
      m.spec.stackName = "quorate-healing";
      m.spec.image.version = "4152.2.0";
    });
    h.events.length = 0;
    const outcome = await applyCluster(h.deps(), upgraded, { revision: "healing-upgrade" });
    expect(outcome.result, outcome.message).toBe("applied");
    expect(outcome.executed).toBe(true);

    const types = h.events.map((e) => `${e.type} ${e.instanceId ?? ""}`.trim());
    const removedAt = types.indexOf(`dead-member-removed ${victim}`);
    const replacedAt = types.indexOf(`instance-replaced ${victim}`);
    const executedAt = h.events.findIndex((e) => /^executed change set/.test(e.message));
    expect(removedAt, types.join("\n")).toBeGreaterThanOrEqual(0);
    expect(replacedAt).toBeGreaterThan(removedAt);
    // Healed before the change was executed, and nothing joined before the dead member left.
    expect(executedAt).toBeGreaterThan(replacedAt);
    expect(types.slice(0, removedAt).some((t) => t.startsWith("learner-added"))).toBe(false);
    // The rollout itself launched first: at every removal more members had been promoted than removed.
    const rollout = h.events.slice(executedAt);
    let promoted = 0;
    let removed = 0;
    for (const e of rollout) {
      if (e.type === "member-promoted" && /^promoted/.test(e.message)) promoted += 1;
      if (e.type === "member-removed" && /^removed/.test(e.message)) {
        removed += 1;
        expect(promoted, rollout.map((x) => x.message).join("\n")).toBeGreaterThanOrEqual(removed);
      }
    }
    expect(removed).toBe(3);
    const members = await h.members(upgraded);
    expect(members.filter((m) => !m.isLearner)).toHaveLength(3);
    expect(members.map((m) => m.name)).not.toContain(victim);
  });
});
