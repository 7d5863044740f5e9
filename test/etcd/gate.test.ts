import { describe, expect, it } from "vitest";
import {
  evaluateGate,
  formatGateResult,
  GATE_CHECKS,
  type GateCheckName,
  type GateExpectation,
  type GateMemory,
  type GateResult,
} from "../../src/etcd/gate.js";
import type { ClusterProbe } from "../../src/etcd/types.js";
import {
  down,
  healthyProbe,
  hex,
  id,
  member,
  peer,
  policy,
  unstartedMember,
  up,
  url,
  withEndpoint,
} from "./probeFixtures.js";

const NOW = 5_000_000;

/** Evaluates with stableFor PT0S, so that each table isolates one check. */
function gate(probe: ClusterProbe, expectation: GateExpectation = { desiredSize: 3 }): GateResult {
  return evaluateGate(probe, expectation, { ...policy, stableFor: "PT0S" }, undefined, NOW).result;
}

function check(result: GateResult, name: GateCheckName) {
  const found = result.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no ${name} check`);
  return found;
}

describe("a healthy cluster", () => {
  it("passes every check, reported in a fixed order, once stableFor has held", () => {
    const first = evaluateGate(healthyProbe(), { desiredSize: 3 }, policy, undefined, NOW - 60_000);
    const { result } = evaluateGate(healthyProbe(), { desiredSize: 3 }, policy, first.memory, NOW);
    expect(result.passed).toBe(true);
    expect(result.failed).toEqual([]);
    expect(result.checks.map((c) => c.name)).toEqual(GATE_CHECKS);
    expect(result.checks.map((c) => c.message)).toEqual([
      "3/3 members healthy and voting",
      `leader m1 (${url(1)}), agreed by 3 members`,
      "3 members, as desired",
      "no alarms",
      "lag 0 (at most 1000)",
      "held for 1m (at least 30s)",
    ]);
    expect(formatGateResult(result)).toBe(
      "gate PASSED: 3/3 healthy, leader m1, lag 0, stable 1m, tolerates 1 failure, etcd 3.4.23",
    );
  });
});

describe("member versions", () => {
  it("the summary and the line show the version each member runs", () => {
    const probe = healthyProbe();
    const second = probe.endpoints[1];
    if (second?.status) second.status = { ...second.status, version: "3.5.17" };
    const result = gate(probe);
    expect(result.summary.versions).toEqual([
      { name: "m1", version: "3.4.23" },
      { name: "m2", version: "3.5.17" },
      { name: "m3", version: "3.4.23" },
    ]);
    expect(formatGateResult(result)).toBe(
      "gate PASSED: 3/3 healthy, leader m1, lag 0, stable 0ms, tolerates 1 failure, etcd 3.4.23 (m1, m3), 3.5.17 (m2)",
    );
  });
});

describe("members-healthy", () => {
  const cases: [string, ClusterProbe, string][] = [
    [
      "a member that does not answer",
      withEndpoint(healthyProbe(), 2, down(2)),
      `m2 (${url(2)}) does not answer (connection refused); check the instance and its etcd service`,
    ],
    [
      "a member whose /health call failed while status answered",
      withEndpoint(healthyProbe(), 2, {
        ...up(2),
        health: undefined,
        error: "no answer within 2000 ms",
      }),
      `m2 (${url(2)}) did not answer GET /health (no answer within 2000 ms); check its etcd service`,
    ],
    [
      "a member that reports unhealthy",
      withEndpoint(healthyProbe(), 2, up(2, {}, { health: { healthy: false } })),
      `m2 (${url(2)}) reports unhealthy; check its log`,
    ],
    [
      "a member with no leader (3.5 gives a reason)",
      withEndpoint(
        healthyProbe(),
        3,
        up(
          3,
          { leader: 0n, errors: ["etcdserver: no leader"] },
          { health: { healthy: false, reason: "RAFT NO LEADER" } },
        ),
      ),
      `m3 (${url(3)}) reports unhealthy: RAFT NO LEADER (etcdserver: no leader); it has no leader; check that a quorum of members is up`,
    ],
    [
      "a learner that is not expected to join",
      withEndpoint(
        healthyProbe(3, { members: [member(1), member(2), member(3, { isLearner: true })] }),
        3,
        up(3, { isLearner: true }),
      ),
      `m3 (${url(3)}) is a learner, not a voting member; promote it once it has caught up, or remove it`,
    ],
    [
      "a member that cannot serve a linearizable read",
      withEndpoint(
        healthyProbe(),
        2,
        up(2, {}, { linearizableRead: { ok: false, error: "no answer within 2000 ms" } }),
      ),
      `m2 (${url(2)}) cannot serve a linearizable read (no answer within 2000 ms); it may be cut off from the quorum`,
    ],
    [
      "an endpoint that answers as a member of another cluster",
      withEndpoint(healthyProbe(), 4, up(4)),
      `${url(4)} answers as member ${hex(4)}, which is not in the member list (cluster 000000000000002a); it was removed or belongs to another cluster: replace its instance`,
    ],
    [
      "an endpoint that does not answer and that no member accounts for",
      withEndpoint(healthyProbe(), 4, down(4)),
      `${url(4)} does not answer (connection refused) and no member in the list has this client URL; check the instance and add it as a member`,
    ],
  ];

  it.each(cases)("fails for %s", (_, probe, message) => {
    const result = check(gate(probe), "members-healthy");
    expect(result).toEqual({ name: "members-healthy", passed: false, message });
  });

  it("says an alarm is why etcd 3.4 reports every member unhealthy", () => {
    const probe = healthyProbe(3, {
      alarms: [{ memberId: id(1), alarm: "NOSPACE" }],
      endpoints: [1, 2, 3].map((n) => up(n, {}, { health: { healthy: false } })),
    });
    expect(check(gate(probe), "members-healthy").message).toBe(
      [1, 2, 3]
        .map(
          (n) =>
            `m${n} (${url(n)}) reports unhealthy; etcd reports unhealthy while an alarm is active; see no-alarms`,
        )
        .join("; "),
    );
  });

  it("judges endpoints directly when no member list could be read", () => {
    const probe = withEndpoint(
      healthyProbe(3, { members: undefined, memberListError: "x" }),
      2,
      down(2),
    );
    expect(check(gate(probe), "members-healthy").message).toBe(
      `${url(2)} does not answer (connection refused); check the instance and its etcd service`,
    );
  });

  describe("departing members", () => {
    it("are not judged: the gate passes as if they were gone", () => {
      const probe = withEndpoint(healthyProbe(), 3, down(3));
      const result = gate(probe, { desiredSize: 2, departing: [id(3)] });
      expect(result.passed).toBe(true);
      expect(check(result, "members-healthy").message).toBe("2/2 members healthy and voting");
      expect(formatGateResult(result)).toBe(
        "gate PASSED: 2/2 healthy, leader m1, lag 0, stable 0ms, tolerates 0 failures (1 at rest), departing m3, etcd 3.4.23",
      );
    });

    it("fail the gate when removing them would leave too few healthy voters", () => {
      const probe = withEndpoint(healthyProbe(), 2, down(2));
      expect(
        check(gate(probe, { desiredSize: 2, departing: [id(3)] }), "members-healthy").message,
      ).toBe(
        `m2 (${url(2)}) does not answer (connection refused); check the instance and its etcd service; ` +
          `removing m3 (${url(3)}) would leave 1 healthy of 2 voting members, below their quorum of 2; bring the other members back first`,
      );
    });

    it("stay safe to remove in a 5-member cluster with one other member down", () => {
      const probe = withEndpoint(healthyProbe(5), 2, down(2));
      const result = gate(probe, { desiredSize: 4, departing: [id(5)] });
      // m2 is still a failure of its own; the removal itself keeps quorum (3 healthy of 4, quorum 3).
      expect(check(result, "members-healthy").message).toBe(
        `m2 (${url(2)}) does not answer (connection refused); check the instance and its etcd service`,
      );
    });

    it("that lead are flagged so leadership moves first", () => {
      const result = gate(healthyProbe(), { desiredSize: 2, departing: [id(1)] });
      expect(result.passed).toBe(true);
      expect(result.summary.leaderDeparting).toBe(true);
      expect(formatGateResult(result)).toBe(
        "gate PASSED: 2/2 healthy, leader m1 (departing), lag 0, stable 0ms, tolerates 1 failure, departing m1, etcd 3.4.23",
      );
    });
  });

  describe("joining members", () => {
    const joiningProbe = (learner: ReturnType<typeof up> | ReturnType<typeof down>) =>
      withEndpoint(
        healthyProbe(3, {
          members: [member(1), member(2), member(3), member(4, { isLearner: true })],
        }),
        4,
        learner,
      );

    it("may be learners that are still catching up", () => {
      const probe = joiningProbe(up(4, { isLearner: true, raftAppliedIndex: 1n }));
      const result = gate(probe, { desiredSize: 4, joining: [id(4)] });
      expect(result.passed).toBe(true);
      expect(formatGateResult(result)).toBe(
        "gate PASSED: 3/3 healthy, leader m1, lag 0, stable 0ms, tolerates 1 failure, joining m4, etcd 3.4.23",
      );
    });

    it("may not answer yet, or not be started", () => {
      expect(gate(joiningProbe(down(4)), { desiredSize: 4, joining: [id(4)] }).passed).toBe(true);
      const unstarted = healthyProbe(3, {
        members: [member(1), member(2), member(3), unstartedMember(4)],
      });
      expect(gate(unstarted, { desiredSize: 4, joining: [id(4)] }).passed).toBe(true);
    });

    it("are judged like any voter once promoted", () => {
      const probe = withEndpoint(healthyProbe(4), 4, down(4));
      expect(
        check(gate(probe, { desiredSize: 4, joining: [id(4)] }), "members-healthy").passed,
      ).toBe(false);
    });
  });
});

describe("single-leader", () => {
  it("fails when a member knows no leader", () => {
    const probe = withEndpoint(healthyProbe(), 3, up(3, { leader: 0n }));
    expect(check(gate(probe), "single-leader")).toMatchObject({
      passed: false,
      message: `m3 (${url(3)}) knows no leader; wait for an election and check that a quorum of members is up`,
    });
  });

  it("fails when members disagree on the leader", () => {
    const probe = withEndpoint(healthyProbe(), 3, up(3, { leader: id(3) }));
    expect(check(gate(probe), "single-leader").message).toBe(
      `members disagree on the leader: m1 (${url(1)}), m2 (${url(2)}) follow m1 (${url(1)}); m3 (${url(3)}) follows m3 (${url(3)}); wait for the election to settle`,
    );
  });

  it("fails when the leader the others follow does not answer", () => {
    const probe = withEndpoint(healthyProbe(), 1, down(1));
    expect(check(gate(probe), "single-leader").message).toBe(
      `the others follow m1 (${url(1)}), which does not answer; wait for them to elect a new leader, and check that instance`,
    );
  });

  it("fails when no member answers", () => {
    const probe = healthyProbe(3, { endpoints: [down(1), down(2), down(3)] });
    expect(check(gate(probe), "single-leader").message).toBe(
      "no member answers, so no leader can be seen; check that the members run",
    );
  });

  it("fails when the leader is not in the member list", () => {
    const probe = healthyProbe(3, { endpoints: [1, 2, 3].map((n) => up(n, { leader: id(9) })) });
    expect(check(gate(probe), "single-leader").message).toBe(
      `the leader ${hex(9)} is not in the member list; wait for the membership change to settle`,
    );
  });

  it("ignores endpoints that are not members of this cluster", () => {
    const probe = withEndpoint(healthyProbe(), 4, up(4, { leader: id(4) }));
    expect(check(gate(probe), "single-leader").passed).toBe(true);
  });
});

describe("member-count", () => {
  it("fails when the list is shorter than the desired size, not counting departing members", () => {
    const result = gate(healthyProbe(), { desiredSize: 3, departing: [id(3)] });
    expect(check(result, "member-count").message).toBe(
      `2 members in the list (not counting departing m3 (${url(3)})) but the desired size is 3; add members (one at a time, as learners)`,
    );
  });

  it("fails for a stale member whose instance is not expected", () => {
    const probe = healthyProbe(3, { members: [1, 2, 3, 4].map((n) => member(n)) });
    expect(check(gate(probe), "member-count").message).toBe(
      `4 members in the list but the desired size is 3; remove the extra members; ` +
        `m4 (${url(4)}) is in the member list but is not one of the expected instances; remove it (member id ${hex(4)}) once its instance is gone`,
    );
  });

  it("fails for a member that was added but never started, unless it is joining", () => {
    const probe = healthyProbe(3, {
      members: [member(1), member(2), member(3), unstartedMember(4)],
    });
    expect(check(gate(probe, { desiredSize: 4 }), "member-count").message).toBe(
      `member ${hex(4)} (peer ${peer(4)}) was added but never started; start its instance or remove the member`,
    );
    expect(check(gate(probe, { desiredSize: 4, joining: [id(4)] }), "member-count").passed).toBe(
      true,
    );
  });

  it("fails when the member list could not be read", () => {
    const probe = healthyProbe(3, {
      members: undefined,
      memberListError: `${url(1)}: no answer within 2000 ms`,
    });
    expect(check(gate(probe), "member-count").message).toBe(
      `the member list could not be read from any member (${url(1)}: no answer within 2000 ms); check that a quorum of members is up`,
    );
  });

  it("fails while members disagree on the list", () => {
    const probe = healthyProbe(3, {
      memberListDisagreements: [{ endpoint: url(3), memberIds: [id(1), id(3)] }],
    });
    expect(check(gate(probe), "member-count").message).toBe(
      `${url(3)} lists different members (m1 (${url(1)}), m3 (${url(3)})); a membership change may still be spreading, wait for it`,
    );
  });
});

describe("no-alarms", () => {
  it.each([
    [
      "NOSPACE" as const,
      `NOSPACE alarm raised by m2 (${url(2)}): the database exceeded its space quota and etcd refuses writes; run \`quorate maintain CLUSTER --compact --defrag --disarm\` to compact, defragment and disarm it`,
    ],
    [
      "CORRUPT" as const,
      `CORRUPT alarm raised by m2 (${url(2)}): etcd found inconsistent data; replace the corrupt member from a healthy one before disarming`,
    ],
  ])("fails on a %s alarm", (alarm, message) => {
    const result = gate(healthyProbe(3, { alarms: [{ memberId: id(2), alarm }] }));
    expect(check(result, "no-alarms")).toEqual({ name: "no-alarms", passed: false, message });
  });

  it("names the cluster in the command that clears NOSPACE", () => {
    const result = gate(healthyProbe(3, { alarms: [{ memberId: id(2), alarm: "NOSPACE" }] }), {
      desiredSize: 3,
      cluster: "dev",
    });
    expect(check(result, "no-alarms").message).toContain(
      "run `quorate maintain dev --compact --defrag --disarm` to compact, defragment and disarm it",
    );
  });

  describe("while quorate maintain clears NOSPACE (tolerateNoSpace)", () => {
    // etcd 3.4 answers /health false on every member while NOSPACE stands.
    const nospace = (extra: Partial<ClusterProbe> = {}) => {
      const probe = healthyProbe(3, { alarms: [{ memberId: id(2), alarm: "NOSPACE" }], ...extra });
      return {
        ...probe,
        endpoints: probe.endpoints.map((ep) => ({
          ...ep,
          health: { healthy: false },
          ...(ep.status
            ? { status: { ...ep.status, errors: [`memberID:${id(2)} alarm:NOSPACE `] } }
            : {}),
        })),
      };
    };
    it("passes: NOSPACE is what is being cleared", () => {
      const result = gate(nospace(), { desiredSize: 3, tolerateNoSpace: true });
      expect(result.passed).toBe(true);
      expect(check(result, "no-alarms").message).toBe(
        "no alarms but NOSPACE, which maintenance clears",
      );
      expect(result.summary.healthyVoters).toBe(3);
    });
    it("fails without the toleration, on members-healthy and no-alarms", () => {
      expect(gate(nospace()).failed).toEqual(["members-healthy", "no-alarms", "stable"]);
    });
    it("still fails on a CORRUPT alarm", () => {
      const probe = nospace();
      probe.alarms = [...(probe.alarms ?? []), { memberId: id(3), alarm: "CORRUPT" }];
      const result = gate(probe, { desiredSize: 3, tolerateNoSpace: true });
      expect(result.failed).toContain("no-alarms");
      expect(result.failed).toContain("members-healthy");
    });
    it("still fails on a member that knows no leader", () => {
      const probe = nospace();
      const first = probe.endpoints[0];
      if (first?.status) first.status = { ...first.status, leader: 0n };
      expect(gate(probe, { desiredSize: 3, tolerateNoSpace: true }).failed).toContain(
        "members-healthy",
      );
    });
  });

  it("fails when no member could list the alarms", () => {
    const probe = healthyProbe(3, { alarms: undefined, alarmsError: "no member answered" });
    expect(check(gate(probe), "no-alarms").message).toBe(
      "the alarm list could not be read from any member (no member answered); check that a quorum of members is up",
    );
  });
});

describe("applied-index-lag", () => {
  it("passes at exactly maxAppliedIndexLag behind the leader and fails one entry past it", () => {
    const leaderAt = (applied: bigint) =>
      withEndpoint(healthyProbe(), 1, up(1, { raftAppliedIndex: applied }));
    expect(check(gate(leaderAt(1100n)), "applied-index-lag")).toMatchObject({
      passed: true,
      message: "lag 1000 (at most 1000)",
    });
    expect(check(gate(leaderAt(1101n)), "applied-index-lag").passed).toBe(false);
  });

  it("fails for a member further behind than maxAppliedIndexLag", () => {
    const probe = withEndpoint(healthyProbe(), 1, up(1, { raftAppliedIndex: 5000n }));
    expect(check(gate(probe), "applied-index-lag").message).toBe(
      `m2 (${url(2)}) is 4900 entries behind the leader (applied 100, leader 5000, at most 1000 allowed); wait for it to catch up, or check its disk and network; ` +
        `m3 (${url(3)}) is 4900 entries behind the leader (applied 100, leader 5000, at most 1000 allowed); wait for it to catch up, or check its disk and network`,
    );
  });

  it("reports the largest lag and counts a follower read after the leader as 0", () => {
    const probe = withEndpoint(
      withEndpoint(healthyProbe(), 1, up(1, { raftAppliedIndex: 1000n })),
      2,
      up(2, { raftAppliedIndex: 1010n }),
    );
    const result = gate(probe);
    expect(check(result, "applied-index-lag").message).toBe("lag 900 (at most 1000)");
    expect(result.summary.maxLag).toBe(900n);
  });

  it("cannot measure without an agreed leader, or when the leader does not answer", () => {
    const noLeader = healthyProbe(3, { endpoints: [1, 2, 3].map((n) => up(n, { leader: 0n })) });
    expect(check(gate(noLeader), "applied-index-lag").message).toBe(
      "cannot measure the lag without a leader all members agree on",
    );
    const silentLeader = withEndpoint(healthyProbe(), 1, { ...up(1), status: undefined });
    expect(check(gate(silentLeader), "applied-index-lag").message).toBe(
      `cannot measure the lag: the leader m1 (${url(1)}) did not report its applied index`,
    );
  });

  it("leaves departing members and joining learners out", () => {
    const probe = withEndpoint(
      healthyProbe(3, {
        members: [member(1), member(2), member(3), member(4, { isLearner: true })],
      }),
      4,
      up(4, { raftAppliedIndex: 1n, isLearner: true }),
    );
    const behind = withEndpoint(probe, 3, up(3, { raftAppliedIndex: 1n }));
    expect(
      check(
        gate(behind, { desiredSize: 3, departing: [id(3)], joining: [id(4)] }),
        "applied-index-lag",
      ).passed,
    ).toBe(true);
  });
});

describe("several failures at once", () => {
  it("names every failed check, not just the first", () => {
    let probe = healthyProbe(3, { alarms: [{ memberId: id(1), alarm: "NOSPACE" }] });
    probe = withEndpoint(probe, 1, up(1, { raftAppliedIndex: 5000n }));
    probe = withEndpoint(probe, 2, down(2, "no answer within 2000 ms"));
    probe = withEndpoint(probe, 3, up(3, { raftAppliedIndex: 1n }));
    const result = gate(probe);
    expect(result.failed).toEqual(["members-healthy", "no-alarms", "applied-index-lag", "stable"]);
    expect(formatGateResult(result)).toBe(
      `gate FAILED: members-healthy: m2 (${url(2)}) does not answer (no answer within 2000 ms); check the instance and its etcd service; ` +
        `no-alarms: NOSPACE alarm raised by m1 (${url(1)}): the database exceeded its space quota and etcd refuses writes; run \`quorate maintain CLUSTER --compact --defrag --disarm\` to compact, defragment and disarm it; ` +
        `applied-index-lag: m3 (${url(3)}) is 4999 entries behind the leader (applied 1, leader 5000, at most 1000 allowed); wait for it to catch up, or check its disk and network; ` +
        // m2 is down: 2 healthy voters of 3, a quorum of 2.
        "tolerates 0 failures (1 at rest)",
    );
  });
});

describe("stable", () => {
  const expectation = { desiredSize: 3 };
  const healthy = healthyProbe();
  const blip = withEndpoint(healthy, 2, down(2));

  /** Runs evaluations at the given seconds, carrying the memory; returns each result. */
  function timeline(
    steps: [seconds: number, probe: ClusterProbe, e?: GateExpectation][],
  ): GateResult[] {
    let memory: GateMemory | undefined;
    return steps.map(([seconds, probe, e]) => {
      const evaluated = evaluateGate(probe, e ?? expectation, policy, memory, seconds * 1000);
      memory = evaluated.memory;
      return evaluated.result;
    });
  }

  it("fails until the other checks have held for stableFor, then passes", () => {
    const [t0, t10, t29, t30, t45] = timeline([
      [0, healthy],
      [10, healthy],
      [29.9, healthy],
      [30, healthy],
      [45, healthy],
    ]);
    expect(t0?.failed).toEqual(["stable"]);
    expect(check(t0 as GateResult, "stable").message).toBe(
      "all checks have held for 0ms of the required 30s; wait",
    );
    expect(formatGateResult(t10 as GateResult)).toBe(
      "gate FAILED: stable: all checks have held for 10s of the required 30s; wait",
    );
    expect(t29?.passed).toBe(false);
    expect(t30?.passed).toBe(true);
    expect(t45?.summary.heldForMs).toBe(45_000);
    expect(formatGateResult(t45 as GateResult)).toBe(
      "gate PASSED: 3/3 healthy, leader m1, lag 0, stable 45s, tolerates 1 failure, etcd 3.4.23",
    );
  });

  it("restarts the clock on any failure", () => {
    const results = timeline([
      [0, healthy],
      [40, healthy],
      [41, blip],
      [42, healthy],
      [71, healthy],
      [72, healthy],
    ]);
    expect(results.map((r) => r.passed)).toEqual([false, true, false, false, false, true]);
    const [, , failed] = results;
    expect(check(failed as GateResult, "stable").message).toBe(
      "the 30s clock restarts once the other checks pass",
    );
    // The stable failure is implied by the others, so the summary line leaves it out.
    expect(formatGateResult(failed as GateResult)).toBe(
      `gate FAILED: members-healthy: m2 (${url(2)}) does not answer (connection refused); check the instance and its etcd service; tolerates 0 failures (1 at rest)`,
    );
  });

  it("restarts the clock when the expectation changes", () => {
    const results = timeline([
      [0, healthy],
      [40, healthy],
      [41, healthy, { desiredSize: 2, departing: [id(3)] }],
      [71, healthy, { desiredSize: 2, departing: [id(3)] }],
    ]);
    expect(results.map((r) => r.passed)).toEqual([false, true, false, true]);
  });

  it("restarts the clock when time runs backwards", () => {
    const results = timeline([
      [100, healthy],
      [50, healthy],
      [79, healthy],
      [80, healthy],
    ]);
    expect(results.map((r) => r.passed)).toEqual([false, false, false, true]);
  });

  it("passes at once with stableFor PT0S", () => {
    const result = evaluateGate(
      healthy,
      expectation,
      { ...policy, stableFor: "PT0S" },
      undefined,
      0,
    ).result;
    expect(result.passed).toBe(true);
  });

  it("refuses a stableFor that is not an ISO 8601 duration", () => {
    expect(() =>
      evaluateGate(healthy, expectation, { ...policy, stableFor: "30s" }, undefined, 0),
    ).toThrow("gates.stableFor is not an ISO 8601 duration: 30s");
  });
});

describe("the gate is pure", () => {
  it("does not change its inputs and gives the same answer twice", () => {
    const probe = withEndpoint(healthyProbe(), 2, down(2));
    const copy = structuredClone(probe);
    const memory = evaluateGate(probe, { desiredSize: 3 }, policy, undefined, 0).memory;
    const memoryCopy = structuredClone(memory);
    const a = evaluateGate(probe, { desiredSize: 3 }, policy, memory, NOW);
    const b = evaluateGate(probe, { desiredSize: 3 }, policy, memory, NOW);
    expect(probe).toEqual(copy);
    expect(memory).toEqual(memoryCopy);
    expect(a).toEqual(b);
  });

  it("keeps status fields it does not use out of the decision", () => {
    const probe = withEndpoint(
      healthyProbe(),
      2,
      up(2, { dbSize: 9_999_999_999n, version: "3.5.0" }),
    );
    expect(gate(probe).passed).toBe(true);
  });
});

describe("fault tolerance", () => {
  const tolerance = (result: GateResult) => result.summary.faultTolerance;

  it("is healthy voters beyond the quorum, beside what the cluster tolerates at rest", () => {
    expect(tolerance(gate(healthyProbe()))).toEqual({
      voters: 3,
      healthyVoters: 3,
      tolerates: 1,
      resting: 1,
    });
    const five = gate(withEndpoint(healthyProbe(5), 4, down(4)), { desiredSize: 5 });
    expect(tolerance(five)).toEqual({ voters: 5, healthyVoters: 4, tolerates: 1, resting: 2 });
    expect(formatGateResult(five)).toMatch(/; tolerates 1 failure \(2 at rest\)$/);
  });

  it("stays at rest while a promoted newcomer and the member it replaces both vote (launch first)", () => {
    const result = gate(healthyProbe(4), { desiredSize: 3, departing: [id(1)], restingSize: 3 });
    expect(tolerance(result)).toEqual({ voters: 4, healthyVoters: 4, tolerates: 1, resting: 1 });
  });

  it("does not count a learner, which never votes", () => {
    const probe = healthyProbe(4);
    probe.members = probe.members?.map((m) => (m.id === id(4) ? { ...m, isLearner: true } : m));
    const learner = probe.endpoints[3];
    if (learner?.status) learner.status = { ...learner.status, isLearner: true };
    const result = gate(probe, { desiredSize: 4, joining: [id(4)], restingSize: 3 });
    expect(tolerance(result)).toEqual({ voters: 3, healthyVoters: 3, tolerates: 1, resting: 1 });
  });

  it("says quorum is lost when fewer healthy voters than a quorum are left", () => {
    const probe = withEndpoint(withEndpoint(healthyProbe(), 2, down(2)), 3, down(3));
    const result = gate(probe);
    expect(tolerance(result)?.tolerates).toBe(-1);
    expect(formatGateResult(result)).toMatch(/; quorum lost \(1 at rest\)$/);
  });
});
