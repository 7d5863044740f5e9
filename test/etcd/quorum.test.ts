import { describe, expect, it } from "vitest";
import {
  quorumAfterRemoval,
  quorumOf,
  safeToRemove,
  type VoterState,
} from "../../src/etcd/quorum.js";

const voters = (healthy: boolean[]): VoterState[] =>
  healthy.map((h, i) => ({ id: BigInt(i + 1), isLearner: false, healthy: h, label: `m${i + 1}` }));

describe("quorum", () => {
  it.each([
    [1, 1],
    [2, 2],
    [3, 2],
    [4, 3],
    [5, 3],
    [7, 4],
  ])("of %i voters is %i", (n, q) => {
    expect(quorumOf(n)).toBe(q);
  });

  it("after removing one of 3 voters is 2, of 5 is 3", () => {
    expect(quorumAfterRemoval(3)).toBe(2);
    expect(quorumAfterRemoval(5)).toBe(3);
    expect(quorumAfterRemoval(5, 2)).toBe(2);
  });
});

describe("safeToRemove", () => {
  it("allows removing one of 3 healthy voters", () => {
    expect(safeToRemove(voters([true, true, true]), [3n])).toEqual({
      safe: true,
      voters: 3,
      remainingVoters: 2,
      healthyVoters: 3,
      healthyRemaining: 2,
      quorum: 2,
      reason: "",
    });
  });

  it("allows removing the dead member of 3 (that is how a dead member goes)", () => {
    expect(safeToRemove(voters([true, true, false]), [3n]).safe).toBe(true);
  });

  it("refuses removing a healthy member while another is down", () => {
    expect(safeToRemove(voters([true, false, true]), [3n])).toMatchObject({
      safe: false,
      reason:
        "removing m3 would leave 1 healthy of 2 voting members, below their quorum of 2; bring the other members back first",
    });
  });

  it("allows it in a 5-member cluster with one other down (3 healthy of 4, quorum 3)", () => {
    expect(safeToRemove(voters([true, false, true, true, true]), [5n]).safe).toBe(true);
    expect(safeToRemove(voters([true, false, false, true, true]), [5n]).safe).toBe(false);
  });

  it("refuses when the current configuration cannot commit the change", () => {
    expect(safeToRemove(voters([true, false, false, true, false]), [3n, 5n])).toMatchObject({
      safe: false,
      reason:
        "only 2 of 5 voting members are healthy, below the quorum of 3 needed to commit the removal of m3, m5; bring members back first",
    });
  });

  it("refuses removing the last voter", () => {
    expect(safeToRemove(voters([true]), [1n]).reason).toBe(
      "removing m1 would leave no voting member",
    );
  });

  it("does not count learners as voters", () => {
    const members = [...voters([true, true, true]), { id: 9n, isLearner: true, healthy: false }];
    expect(safeToRemove(members, [9n])).toMatchObject({
      safe: true,
      voters: 3,
      remainingVoters: 3,
    });
    expect(safeToRemove(members, [1n])).toMatchObject({
      safe: true,
      remainingVoters: 2,
      quorum: 2,
    });
  });
});
