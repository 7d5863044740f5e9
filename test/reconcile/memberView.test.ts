// Members as /status and the dashboard show them, from a probe: who leads,
// who learns, who is silent or not started yet, with plain-JSON numbers.
import { describe, expect, it } from "vitest";
import { memberViews } from "../../src/reconcile/memberView.js";
import {
  down,
  healthyProbe,
  hex,
  unstartedMember,
  url,
  withEndpoint,
} from "../etcd/probeFixtures.js";

describe("memberViews", () => {
  it("says health, role, version, sizes and applied index of each member, by name", () => {
    const probe = withEndpoint(healthyProbe(3), 3, down(3, "connect ECONNREFUSED"));
    probe.members = [...(probe.members ?? []), unstartedMember(4)];
    const views = memberViews(probe);
    expect(views.at).toBe(new Date(1_000_000).toISOString());
    expect(views.members.map((m) => [m.name, m.health, m.leader, m.learner])).toEqual([
      ["", "unstarted", false, true],
      ["m1", "healthy", true, false],
      ["m2", "healthy", false, false],
      ["m3", "unreachable", false, false],
    ]);
    expect(views.members[1]).toEqual({
      name: "m1",
      id: hex(1),
      endpoint: url(1),
      health: "healthy",
      leader: true,
      learner: false,
      version: "3.4.23",
      dbSize: 20480,
      dbSizeInUse: 16384,
      appliedIndex: 100,
    });
    expect(views.members[3]).toMatchObject({ why: "connect ECONNREFUSED" });
    expect(views.members[3]).not.toHaveProperty("version");
    // Plain JSON: what /status serves.
    expect(JSON.parse(JSON.stringify(views))).toEqual(views);
  });

  it("names no leader when the members disagree on one", () => {
    const probe = healthyProbe(3);
    const [first] = probe.endpoints;
    if (first?.status) first.status = { ...first.status, leader: 0n };
    expect(memberViews(probe).members.some((m) => m.leader)).toBe(false);
  });
});
