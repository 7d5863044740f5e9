import { describe, expect, it } from "vitest";
import { summarizeTolerance, toleratesAt } from "../../src/etcd/faultToleranceTimeline.js";

const s = (at: number, voters: number | undefined, healthyVoters: number, leader?: string) => ({
  at,
  ...(voters !== undefined ? { voters } : {}),
  healthyVoters,
  ...(leader ? { leader } : {}),
});

describe("toleratesAt", () => {
  it.each([
    [3, 3, 1],
    [3, 2, 0],
    [4, 4, 1], // a promoted newcomer beside the member it replaces
    [2, 2, 0], // terminate first: the old member is gone, its replacement not yet a voter
    [5, 4, 1],
    [3, 1, -1],
  ])("%i voters, %i healthy: tolerates %i", (voters, healthy, tolerates) => {
    expect(toleratesAt(s(0, voters, healthy))).toBe(tolerates);
  });
});

describe("summarizeTolerance", () => {
  it("adds up the time below resting, each sample's value holding until the next", () => {
    const summary = summarizeTolerance(
      [s(0, 3, 3, "a"), s(100, 2, 2, "a"), s(250, 3, 2, "a"), s(400, 3, 3, "a"), s(500, 3, 3, "a")],
      1,
    );
    expect(summary).toMatchObject({
      samples: 5,
      msBelowResting: 300,
      minTolerates: 0,
      leaderChanges: 0,
    });
  });

  it("counts a sample nobody answered as below resting, and a leader change only to another member", () => {
    const summary = summarizeTolerance(
      [s(0, 3, 3, "a"), s(100, undefined, 0), s(300, 3, 3, "b"), s(400, 3, 3), s(500, 3, 3, "b")],
      1,
    );
    expect(summary).toMatchObject({
      msBelowResting: 200,
      unanswered: 1,
      leaderChanges: 1,
      leaders: ["a", "b"],
    });
  });

  it("is zero below resting through a launch-first replacement", () => {
    const summary = summarizeTolerance(
      [s(0, 3, 3, "a"), s(100, 3, 3, "a"), s(200, 4, 4, "a"), s(300, 3, 3, "a")],
      1,
    );
    expect(summary.msBelowResting).toBe(0);
    expect(summary.minTolerates).toBe(1);
  });
});
