// The replacement-database step (replayedDb.ts) on hand-made observations: a
// 8 MiB quota, so the margin is 409.6 KiB; the old members are not "current".
import { describe, expect, it } from "vitest";
import type { MemberDb } from "../../../src/maintenance/decide.js";
import { decideRollout, emptyMemory } from "../../../src/reconcile/rollout/decide.js";
import { replayedMembers } from "../../../src/reconcile/rollout/replayedDb.js";
import { FACTS, type FakeMember, member, observation } from "../clusterFixture.js";

const MiB = 1024n * 1024n;
const QUOTA = 8n * MiB;
const facts = { ...FACTS, quotaBytes: QUOTA };
const db = (size: number, inUse: number) => ({
  size: BigInt(Math.round(size * 1024)) * 1024n,
  inUse: BigInt(Math.round(inUse * 1024)) * 1024n,
});

describe("replayedMembers: a new voter far over the others, with most of it free", () => {
  const m = (id: number, size: number, inUse: number, extra: Partial<MemberDb> = {}): MemberDb => ({
    id: BigInt(id),
    name: `i-${id}`,
    endpoint: `http://10.0.0.${id}:2379`,
    leader: false,
    learner: false,
    dbSize: BigInt(Math.round(size * 1024 * 1024)),
    dbSizeInUse: BigInt(Math.round(inUse * 1024 * 1024)),
    ...extra,
  });
  const isNew = (x: MemberDb) => x.id >= 4n;
  it.each<[string, MemberDb[], string[]]>([
    ["replayed over the quota", [m(1, 7.3, 5.6), m(2, 7.3, 5.6), m(4, 9.4, 5.6)], ["i-4"]],
    ["two new ones, the larger first", [m(1, 5, 4), m(4, 7, 4), m(5, 9, 4)], ["i-5", "i-4"]],
    ["an old member as big is left alone", [m(1, 5, 4), m(2, 9.4, 5.6)], []],
    ["mostly in use (real data) is left alone", [m(1, 7.3, 7), m(4, 8.2, 8)], []],
    ["within the margin of the others", [m(1, 7.3, 5.6), m(4, 7.6, 5.6)], []],
    ["a learner waits until it votes", [m(1, 5, 4), m(4, 9.4, 5.6, { learner: true })], []],
    ["alone, it has no one to compare with", [m(4, 9.4, 5.6)], []],
    [
      "as big as the old ones, beside a new one that was sent a snapshot",
      [m(1, 7.3, 5.6), m(2, 7.3, 5.6), m(4, 5.6, 5.6), m(5, 7.4, 5.6)],
      [],
    ],
  ])("%s", (_, members, expected) => {
    expect(replayedMembers(members, isNew, QUOTA).map((x) => x.name)).toEqual(expected);
  });

  it("takes etcd's 2 GiB default for a quota of 0: 9.4 MiB is then no replay", () => {
    expect(replayedMembers([m(1, 5, 4), m(4, 9.4, 5.6)], isNew, 0n)).toEqual([]);
  });
});

describe("the rollout step", () => {
  const old = (n: number, extra: Partial<FakeMember> = {}) =>
    member(n, { current: false, db: db(7.3, 5.6), ...extra });
  const fresh = (n: number, extra: Partial<FakeMember> = {}) =>
    member(n, { current: true, db: db(9.4, 5.6), ...extra });
  const decide = (members: FakeMember[], leader?: bigint) =>
    decideRollout(
      observation(members, leader === undefined ? {} : { leader }),
      facts,
      emptyMemory(),
    );

  it("defragments the promoted replacement before the member it replaces leaves", () => {
    const decision = decide([old(1), old(2), old(3, { lifecycle: "Terminating:Wait" }), fresh(4)]);
    expect(decision.actions.map((a) => a.kind)).toEqual(["heartbeat", "defrag"]);
    expect(decision.actions[1]).toMatchObject({
      kind: "defrag",
      label: "i-4",
      endpoint: "http://10.0.0.4:2379",
    });
    expect(decision.message).toMatch(
      /^defragmenting new member i-4: its database replayed to 9.4 MiB with 5.6 MiB in use/,
    );
  });

  it("once it has room, the old member leaves as before", () => {
    const decision = decide([
      old(1),
      old(2),
      old(3, { lifecycle: "Terminating:Wait" }),
      fresh(4, { db: db(5.6, 5.6) }),
    ]);
    expect(decision.actions.map((a) => a.kind)).toEqual(["remove"]);
  });

  it("moves leadership off a replayed leader first, to a member with room", () => {
    const decision = decide([old(1), old(2), fresh(4)], member(4).id);
    expect(decision.actions).toEqual([
      expect.objectContaining({
        kind: "transfer-leadership",
        from: member(4).id,
        to: member(1).id,
      }),
    ]);
  });

  it("does nothing before the group has the new template (every member counts as current)", () => {
    const decision = decide([member(1, { current: true, db: db(5, 4) }), fresh(4)]);
    expect(decision.actions.map((a) => a.kind)).not.toContain("defrag");
  });

  it("a NOSPACE a replacement raised: defragmented first, then disarmed", () => {
    const raised = decide([old(1), old(2), fresh(4, { alarm: "NOSPACE" })]);
    expect(raised.actions.map((a) => a.kind)).toEqual(["defrag"]);
    const compacted = decide([old(1), old(2), fresh(4, { alarm: "NOSPACE", db: db(5.6, 5.6) })]);
    expect(compacted.actions).toEqual([
      expect.objectContaining({
        kind: "disarm",
        alarms: [{ memberId: member(4).id, alarm: "NOSPACE" }],
      }),
    ]);
    expect(compacted.message).toMatch(/^disarming the NOSPACE alarm raised by new member/);
  });

  it("a learner that raised NOSPACE while it replayed is promoted, since etcd defragments only voters", () => {
    const decision = decide([old(1), old(2), fresh(4, { alarm: "NOSPACE", learner: true })]);
    expect(decision.actions).toEqual([
      expect.objectContaining({ kind: "promote", instanceId: "i-4" }),
    ]);
  });

  it("a NOSPACE an old member raised is real data: nothing is disarmed and the rollout holds", () => {
    const decision = decide([
      old(1, { alarm: "NOSPACE" }),
      old(2),
      old(3, { lifecycle: "Terminating:Wait" }),
      fresh(4),
    ]);
    const kinds = decision.actions.map((a) => a.kind);
    expect(kinds).not.toContain("disarm");
    expect(kinds).not.toContain("defrag");
    expect(kinds).not.toContain("remove");
    expect(decision.message).toContain("NOSPACE alarm raised by i-1");
  });

  it("a replacement at the quota with its pages still in use is defragmented once, then held as data", () => {
    const atQuota = [old(1), old(2), fresh(4, { alarm: "NOSPACE", db: db(8.2, 8.1) })];
    const first = decide(atQuota);
    expect(first.actions).toEqual([expect.objectContaining({ kind: "defrag", label: "i-4" })]);
    expect(first.memory.defragmentedForNoSpace).toEqual([
      member(4).id.toString(16).padStart(16, "0"),
    ]);
    const after = decideRollout(observation(atQuota), facts, first.memory);
    expect(after.actions.map((a) => a.kind)).not.toContain("disarm");
    expect(after.actions.map((a) => a.kind)).not.toContain("defrag");
    expect(after.phase).toBe("holding");
    expect(after.message).toContain("which defragmentation did not clear");
    expect(after.message).toContain("still at or over the quota");
  });
});
