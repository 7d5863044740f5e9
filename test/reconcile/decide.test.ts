import { describe, expect, it } from "vitest";
import {
  decideRollout,
  emptyMemory,
  type RolloutMemory,
} from "../../src/reconcile/rollout/decide.js";
import { FACTS, member, observation } from "./clusterFixture.js";

const kinds = (memory: RolloutMemory, obs: ReturnType<typeof observation>) =>
  decideRollout(obs, FACTS, memory).actions.map((a) => a.kind);

describe("creating a cluster", () => {
  const launching = (n: number, ip = true) => ({
    instanceId: `i-${n}`,
    lifecycleState: "Pending:Wait",
    ...(ip ? { privateIp: `10.0.0.${n}` } : {}),
  });

  it("waits until every instance of the group has launched and has an address", () => {
    const obs = observation([], {
      stack: "CREATE_IN_PROGRESS",
      extraInstances: [launching(1), launching(2, false)],
      desiredCapacity: 3,
      noProbe: true,
    });
    const decision = decideRollout(obs, FACTS, emptyMemory());
    expect(decision.actions).toEqual([]);
    expect(decision.message).toBe("waiting for instances to launch: 1 of 3 ready");
  });

  it("bootstraps all members with one peer list, in a stable order", () => {
    const obs = observation([], {
      stack: "CREATE_IN_PROGRESS",
      extraInstances: [launching(3), launching(1), launching(2)],
      noProbe: true,
    });
    const [action] = decideRollout(obs, FACTS, emptyMemory()).actions;
    expect(action).toMatchObject({
      kind: "bootstrap",
      instanceIds: ["i-1", "i-2", "i-3"],
      initialCluster: "i-1=http://10.0.0.1:2380,i-2=http://10.0.0.2:2380,i-3=http://10.0.0.3:2380",
    });
    const again = decideRollout(obs, FACTS, emptyMemory()).actions[0];
    expect(again).toEqual(action);
  });

  it("after a restart mid-bootstrap, releases the instances that already have their peer list", () => {
    const peerList = { state: "new" as const, token: "t", initialCluster: "x" };
    const obs = observation([], {
      stack: "CREATE_IN_PROGRESS",
      extraInstances: [
        { ...launching(1), lifecycleState: "InService", peerList },
        { ...launching(2), peerList },
      ],
      noProbe: true,
    });
    expect(decideRollout(obs, FACTS, emptyMemory()).actions).toEqual([
      expect.objectContaining({
        kind: "complete",
        instanceId: "i-2",
        hook: "launching",
        result: "CONTINUE",
      }),
    ]);
  });
});

describe("a terminating instance", () => {
  const three = () => [member(1), member(2), member(3, { lifecycle: "Terminating:Wait" })];

  it("is removed from etcd, then its hook is released, when the rest of the cluster is healthy", () => {
    const decision = decideRollout(
      observation(three(), { leader: member(1).id }),
      FACTS,
      emptyMemory(),
    );
    expect(decision.actions).toEqual([
      { kind: "remove", memberId: member(3).id, label: "i-3", why: "departing", release: "i-3" },
    ]);
  });

  it("hands leadership away first when it leads", () => {
    const decision = decideRollout(
      observation(three(), { leader: member(3).id }),
      FACTS,
      emptyMemory(),
    );
    expect(decision.actions).toEqual([
      expect.objectContaining({ kind: "transfer-leadership", from: member(3).id }),
    ]);
  });

  it("is released at once when it runs no member", () => {
    const obs = observation([member(1), member(2), member(3)], {
      extraInstances: [
        { instanceId: "i-9", lifecycleState: "Terminating:Wait", privateIp: "10.0.0.9" },
      ],
    });
    expect(decideRollout(obs, FACTS, emptyMemory()).actions).toEqual([
      expect.objectContaining({ kind: "complete", instanceId: "i-9", hook: "terminating" }),
    ]);
  });

  it("is held with a heartbeat while another member is down, naming the failed check", () => {
    const members = [
      member(1),
      member(2, { down: true }),
      member(3, { lifecycle: "Terminating:Wait" }),
    ];
    const decision = decideRollout(observation(members), FACTS, emptyMemory());
    expect(decision.actions).toEqual([
      { kind: "heartbeat", instanceId: "i-3", hook: "terminating" },
    ]);
    expect(decision.phase).toBe("holding");
    expect(decision.message).toMatch(
      /^holding i-3: gate failed: members-healthy: i-2 \(http:\/\/10\.0\.0\.2:2379\) does not answer/,
    );
    expect(decision.memory.holdingSince).toBe(1_000_000);
  });

  it("gets the next heartbeat only when it is due, and a cancel once abortAfter has passed", () => {
    const members = [
      member(1),
      member(2, { down: true }),
      member(3, { lifecycle: "Terminating:Wait" }),
    ];
    let memory = decideRollout(
      observation(members, { at: 1_000_000 }),
      FACTS,
      emptyMemory(),
    ).memory;
    expect(kinds(memory, observation(members, { at: 1_005_000 }))).toEqual([]);
    const later = decideRollout(observation(members, { at: 1_010_000 }), FACTS, memory);
    expect(later.actions.map((a) => a.kind)).toEqual(["heartbeat"]);
    memory = later.memory;
    const abort = decideRollout(observation(members, { at: 1_060_000 }), FACTS, memory);
    expect(abort.actions.map((a) => a.kind)).toEqual(["heartbeat", "cancel-update"]);
    expect(abort.message).toMatch(/^cancelling the update/);
    const after = decideRollout(observation(members, { at: 1_061_000 }), FACTS, abort.memory);
    expect(after.actions.map((a) => a.kind)).toEqual([]);
    expect(after.phase).toBe("needs-operator");
  });

  it("is held during a rollback past abortAfter, which it never cancels", () => {
    const members = [
      member(1),
      member(2, { down: true }),
      member(3, { lifecycle: "Terminating:Wait" }),
    ];
    const memory = { ...emptyMemory(), holdingSince: 0 };
    const decision = decideRollout(
      observation(members, { stack: "UPDATE_ROLLBACK_IN_PROGRESS" }),
      FACTS,
      memory,
    );
    expect(decision.actions.map((a) => a.kind)).toEqual(["heartbeat"]);
    expect(decision.phase).toBe("needs-operator");
  });

  it("holds a launching instance behind it too, with its own heartbeat (a rollback launches first)", () => {
    const members = [
      member(1),
      member(2, { down: true }),
      member(3, { lifecycle: "Terminating:Wait" }),
    ];
    const obs = observation(members, {
      stack: "UPDATE_ROLLBACK_IN_PROGRESS",
      extraInstances: [
        { instanceId: "i-9", lifecycleState: "Pending:Wait", privateIp: "10.0.0.9" },
      ],
    });
    const decision = decideRollout(obs, FACTS, emptyMemory());
    expect(decision.actions).toEqual([
      { kind: "heartbeat", instanceId: "i-3", hook: "terminating" },
      { kind: "heartbeat", instanceId: "i-9", hook: "launching" },
    ]);
    expect(decision.message).toMatch(/^holding i-3, i-9: gate failed: members-healthy/);
  });

  it("is never removed when that would cost quorum (5 members, 2 down)", () => {
    const members = [
      member(1),
      member(2),
      member(3, { down: true }),
      member(4, { down: true }),
      member(5, { lifecycle: "Terminating:Wait" }),
    ];
    const decision = decideRollout(observation(members), FACTS, emptyMemory());
    expect(decision.actions.map((a) => a.kind)).toEqual(["heartbeat"]);
  });
});

describe("a launching instance", () => {
  const joining = { instanceId: "i-4", lifecycleState: "Pending:Wait", privateIp: "10.0.0.4" };

  it("joins as a learner when the cluster is healthy", () => {
    const obs = observation([member(1), member(2)], { extraInstances: [joining] });
    expect(decideRollout(obs, FACTS, emptyMemory()).actions).toEqual([
      { kind: "join", instanceId: "i-4", peerURL: "http://10.0.0.4:2380", hookHeld: true },
    ]);
  });

  it("waits while another learner is not promoted yet", () => {
    const obs = observation(
      [member(1), member(2), member(3, { learner: true, lifecycle: "Pending:Wait" })],
      {
        extraInstances: [{ ...joining, instanceId: "i-5", privateIp: "10.0.0.5" }],
      },
    );
    // i-3 is a member already (a restart between add and release): its hook is released first.
    const first = decideRollout(obs, FACTS, emptyMemory());
    expect(first.actions).toEqual([
      expect.objectContaining({ kind: "join", instanceId: "i-3", hookHeld: true }),
    ]);
  });

  it("is released when it is a member and has its peer list", () => {
    const peerList = { state: "existing" as const, token: "dev", initialCluster: "x" };
    const obs = observation([
      member(1),
      member(2),
      member(4, { learner: true, unstarted: true, lifecycle: "Pending:Wait" }),
    ]);
    obs.instances[2] = { ...obs.instances[2]!, peerList };
    expect(decideRollout(obs, FACTS, emptyMemory()).actions).toEqual([
      expect.objectContaining({
        kind: "complete",
        instanceId: "i-4",
        hook: "launching",
        result: "CONTINUE",
      }),
    ]);
  });

  it("is held while the cluster has an alarm", () => {
    const obs = observation([member(1), member(2)], { extraInstances: [joining] });
    obs.probe!.alarms = [{ memberId: member(1).id, alarm: "NOSPACE" }];
    const decision = decideRollout(obs, FACTS, emptyMemory());
    expect(decision.actions).toEqual([{ kind: "heartbeat", instanceId: "i-4", hook: "launching" }]);
    expect(decision.message).toContain("no-alarms: NOSPACE alarm raised by i-1");
  });
});

describe("learners and dead members", () => {
  it("promotes a learner whose instance is in service", () => {
    const obs = observation([member(1), member(2), member(3, { learner: true })]);
    expect(decideRollout(obs, FACTS, emptyMemory()).actions).toEqual([
      { kind: "promote", memberId: member(3).id, label: "i-3", instanceId: "i-3" },
    ]);
  });

  it("waits to promote a learner until it has applied the log, not only received it", () => {
    const leader = { applied: 5000n };
    const behind = observation([
      member(1, leader),
      member(2, leader),
      member(3, { learner: true, applied: 10n }),
    ]);
    const decision = decideRollout(behind, FACTS, emptyMemory());
    expect(decision.actions).toEqual([]);
    expect(decision.message).toBe(
      "waiting to promote i-3: it has applied 10 of the leader's 5000; it is still catching up",
    );
    const caughtUp = observation([
      member(1, leader),
      member(2, leader),
      member(3, { learner: true, applied: 4950n }),
    ]);
    expect(kinds(emptyMemory(), caughtUp)).toEqual(["promote"]);
  });

  it("removes a member whose instance is gone, only after the grace period", () => {
    const members = [member(1), member(2), member(3), member(4, { orphan: true, down: true })];
    const first = decideRollout(observation(members, { at: 0 }), FACTS, emptyMemory());
    expect(first.actions).toEqual([]);
    expect(first.memory.missingSince).toEqual({ [member(4).id.toString(16).padStart(16, "0")]: 0 });
    const later = decideRollout(observation(members, { at: 30_000 }), FACTS, first.memory);
    expect(later.actions).toEqual([
      { kind: "remove", memberId: member(4).id, label: "i-4", why: "dead" },
    ]);
  });

  it("forgets a missing member that comes back", () => {
    const gone = decideRollout(
      observation([member(1), member(2, { orphan: true })], { at: 0 }),
      FACTS,
      emptyMemory(),
    );
    const back = decideRollout(observation([member(1), member(2)], { at: 10 }), FACTS, gone.memory);
    expect(back.memory.missingSince).toEqual({});
  });

  it("reports the gate when there is nothing to do", () => {
    const decision = decideRollout(
      observation([member(1), member(2), member(3)], { stack: "UPDATE_COMPLETE" }),
      FACTS,
      emptyMemory(),
    );
    expect(decision.actions).toEqual([]);
    expect(decision.phase).toBe("idle");
    expect(decision.gate?.passed).toBe(true);
  });

  it("releases every held instance of a stack being deleted", () => {
    const obs = observation(
      [member(1, { lifecycle: "Terminating:Wait" }), member(2, { lifecycle: "Pending:Wait" })],
      {
        stack: "DELETE_IN_PROGRESS",
      },
    );
    expect(decideRollout(obs, FACTS, emptyMemory()).actions.map((a) => a.kind)).toEqual([
      "complete",
      "complete",
    ]);
  });
});

describe("the decision's memory", () => {
  const deepFreeze = <T>(value: T): T => {
    if (value && typeof value === "object") {
      for (const inner of Object.values(value)) deepFreeze(inner);
      Object.freeze(value);
    }
    return value;
  };

  it("is returned, never mutated: a frozen memory and observation go through every step", () => {
    const members = [
      member(1),
      member(2, { down: true }),
      member(3, { lifecycle: "Terminating:Wait" }),
      member(4, { orphan: true }),
    ];
    const first = decideRollout(observation(members), FACTS, deepFreeze(emptyMemory()));
    const frozen = deepFreeze(first.memory);
    const later = decideRollout(deepFreeze(observation(members, { at: 1_070_000 })), FACTS, frozen);
    // Past the grace period, the member without an instance is removed (the dead-member step).
    expect(later.actions.map((a) => a.kind)).toEqual(["remove"]);
    expect(later.memory).not.toBe(frozen);
    expect(frozen.missingSince).toEqual(first.memory.missingSince);
    expect(frozen.heartbeats["i-3"]).toBe(1_000_000);
  });

  it("keeps one stable clock per gate expectation, only for those evaluated", () => {
    const terminating = [member(1), member(2), member(3, { lifecycle: "Terminating:Wait" })];
    const removal = decideRollout(observation(terminating), FACTS, emptyMemory());
    expect(Object.keys(removal.memory.gates)).toEqual([`2|${member(3).id}||`]);
    const idle = decideRollout(observation([member(1), member(2)]), FACTS, removal.memory);
    expect(Object.keys(idle.memory.gates)).toEqual(["2|||"]);
  });
});

describe("leadership during a launch-first rollout", () => {
  it("goes to a member already on the new image, not to the old member with the highest index", () => {
    const members = [
      member(1, { current: false, applied: 100n }),
      member(2, { current: false, applied: 105n }),
      member(3, { current: false, lifecycle: "Terminating:Wait" }),
      member(4, { current: true, applied: 100n }),
    ];
    const decision = decideRollout(
      observation(members, { leader: member(3).id }),
      FACTS,
      emptyMemory(),
    );
    expect(decision.actions).toEqual([
      expect.objectContaining({
        kind: "transfer-leadership",
        from: member(3).id,
        to: member(4).id,
      }),
    ]);
  });
});

describe("a member whose etcd stopped answering on an instance in service", () => {
  const down = [member(1), member(2), member(3, { down: true })];
  const settled = (at: number) => observation(down, { stack: "UPDATE_COMPLETE", at });

  it("is removed first and its instance then replaced, once silent for deadMemberGrace", () => {
    const first = decideRollout(settled(1_000_000), FACTS, emptyMemory());
    expect(first.actions).toEqual([]);
    expect(first.memory.unansweringSince).toEqual({ "i-3": 1_000_000 });
    const early = decideRollout(settled(1_029_000), FACTS, first.memory);
    expect(early.actions).toEqual([]);
    const due = decideRollout(settled(1_030_000), FACTS, early.memory);
    expect(due.actions).toEqual([
      expect.objectContaining({ kind: "remove", memberId: member(3).id, why: "failed" }),
      expect.objectContaining({ kind: "replace-instance", instanceId: "i-3" }),
    ]);
    expect(due.message).toMatch(/its etcd has not answered for 30s/);
  });

  it("forgets the clock when the member answers again", () => {
    const first = decideRollout(settled(1_000_000), FACTS, emptyMemory());
    const back = observation([member(1), member(2), member(3)], {
      stack: "UPDATE_COMPLETE",
      at: 1_010_000,
    });
    const again = decideRollout(back, FACTS, first.memory);
    expect(again.memory.unansweringSince).toEqual({});
    const later = decideRollout(settled(1_040_000), FACTS, again.memory);
    expect(later.actions).toEqual([]);
  });

  it("replaces an instance in service that is no member and does not answer (a removal done, its replacement not)", () => {
    const removed = observation([member(1), member(2)], {
      stack: "UPDATE_COMPLETE",
      extraInstances: [{ instanceId: "i-3", lifecycleState: "InService", privateIp: "10.0.0.3" }],
    });
    const memory = { ...emptyMemory(), unansweringSince: { "i-3": 0 } };
    expect(kinds(memory, removed)).toEqual(["replace-instance"]);
  });

  it("is never removed mid-update (the failed member is held for instead), nor when quorum would go", () => {
    const memory = { ...emptyMemory(), unansweringSince: { "i-3": 0 } };
    const updating = observation(down, { stack: "UPDATE_IN_PROGRESS" });
    expect(kinds(memory, updating)).not.toContain("remove");
    const two = observation([member(1), member(2, { down: true }), member(3, { down: true })], {
      stack: "UPDATE_COMPLETE",
    });
    const both = { ...emptyMemory(), unansweringSince: { "i-2": 0, "i-3": 0 } };
    expect(kinds(both, two)).toEqual([]);
  });
});
