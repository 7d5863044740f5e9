// The pure part of membership operations; the operations themselves run
// against real etcd in test/integration/etcdGateway.test.ts.
import { describe, expect, it } from "vitest";
import { chooseTransferee } from "../../src/etcd/roster.js";
import { down, healthyProbe, id, member, up, withEndpoint } from "./probeFixtures.js";

describe("chooseTransferee", () => {
  it("picks the healthy voter with the highest applied index", () => {
    let probe = withEndpoint(healthyProbe(), 2, up(2, { raftAppliedIndex: 90n }));
    probe = withEndpoint(probe, 3, up(3, { raftAppliedIndex: 99n }));
    expect(chooseTransferee(probe, id(1))).toBe(id(3));
  });

  it("breaks ties by the lower id", () => {
    expect(chooseTransferee(healthyProbe(), id(1))).toBe(id(2));
  });

  it("skips members that are down, unhealthy or learners", () => {
    const members = [member(1), member(2), member(3), member(4, { isLearner: true })];
    let probe = healthyProbe(3, { members });
    probe = withEndpoint(probe, 4, up(4, { isLearner: true, raftAppliedIndex: 500n }));
    probe = withEndpoint(probe, 2, down(2));
    probe = withEndpoint(probe, 3, up(3, {}, { health: { healthy: false } }));
    expect(chooseTransferee(probe, id(1))).toBeUndefined();
    probe = withEndpoint(probe, 3, up(3));
    expect(chooseTransferee(probe, id(1))).toBe(id(3));
  });
});
