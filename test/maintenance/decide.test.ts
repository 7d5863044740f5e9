// The pure decisions of quorate maintain: step order, compaction margin,
// defragmentation order, and when NOSPACE may be disarmed.
import { describe, expect, it } from "vitest";
import {
  compactionTarget,
  defragOrder,
  disarmDecision,
  inUseRatio,
  type MemberDb,
  stepsInOrder,
} from "../../src/maintenance/decide.js";

const MiB = 1024n * 1024n;
const db = (name: string, over: Partial<MemberDb> = {}): MemberDb => ({
  id: BigInt(name.charCodeAt(1)),
  name,
  endpoint: `http://${name}:2379`,
  leader: false,
  learner: false,
  dbSize: 10n * MiB,
  dbSizeInUse: 4n * MiB,
  ...over,
});

describe("stepsInOrder", () => {
  it.each([
    [
      ["disarm", "defrag", "compact"],
      ["compact", "defrag", "disarm"],
    ],
    [["defrag"], ["defrag"]],
    [
      ["disarm", "compact"],
      ["compact", "disarm"],
    ],
  ] as const)("%j runs as %j", (given, expected) => {
    expect(stepsInOrder(given)).toEqual(expected);
  });
});

describe("compactionTarget", () => {
  it.each([
    [5000n, 1000n, { compact: true, revision: 4000n }],
    [1001n, 1000n, { compact: false }],
    [500n, 1000n, { compact: false }],
    [1002n, 1000n, { compact: true, revision: 2n }],
  ] as const)("current %s, keep %s", (current, keep, expected) => {
    expect(compactionTarget(current, keep)).toMatchObject(expected);
  });
  it("says what it keeps", () => {
    expect(compactionTarget(5000n, 1000n).message).toBe(
      "compact to revision 4000 (current 5000, the last 1000 kept)",
    );
  });
});

describe("defragOrder", () => {
  it("followers first by name, the leader last", () => {
    const order = defragOrder([db("m2", { leader: true }), db("m3"), db("m1")]);
    expect(order.map((m) => m.name)).toEqual(["m1", "m3", "m2"]);
  });
  it("with no leader known, by name", () => {
    expect(defragOrder([db("m3"), db("m1")]).map((m) => m.name)).toEqual(["m1", "m3"]);
  });
});

describe("disarmDecision", () => {
  const nospace = [{ memberId: 1n, alarm: "NOSPACE" as const }];
  it("disarms when every database is under the quota", () => {
    expect(disarmDecision(nospace, [db("m1"), db("m2")], 100n * MiB)).toEqual({
      disarm: true,
      alarms: nospace,
      message: "every database is under the quota of 100.0 MiB (largest 10.0 MiB)",
    });
  });
  it("refuses while a database is at or over the quota, and says what to do", () => {
    const decision = disarmDecision(
      nospace,
      [db("m1", { dbSize: 5n * MiB }), db("m2", { dbSize: 10n * MiB })],
      10n * MiB,
    );
    expect(decision).toEqual({
      disarm: false,
      refused: true,
      message:
        "NOSPACE stays armed: m2 10.0 MiB still at or over the quota of 10.0 MiB; compact and defragment (quorate maintain --compact --defrag, with a smaller --keep-revisions), or raise spec.etcd.quotaBackendBytes and roll the cluster",
    });
  });
  it("warns when the database is still close to the quota", () => {
    const decision = disarmDecision(nospace, [db("m1", { dbSize: 9n * MiB })], 10n * MiB);
    expect(decision.disarm).toBe(true);
    expect(decision.message).toContain("still 90% of it, so NOSPACE will soon be back");
  });
  it("nothing to do without NOSPACE (a CORRUPT alarm is not maintenance's)", () => {
    expect(disarmDecision([{ memberId: 1n, alarm: "CORRUPT" }], [db("m1")], 100n * MiB)).toEqual({
      disarm: false,
      refused: false,
      message: "no NOSPACE alarm",
    });
  });
});

describe("inUseRatio", () => {
  it("in-use over total, 1 for an empty database", () => {
    expect(inUseRatio(db("m1"))).toBe(0.4);
    expect(inUseRatio({ dbSize: 0n, dbSizeInUse: 0n })).toBe(1);
  });
});
