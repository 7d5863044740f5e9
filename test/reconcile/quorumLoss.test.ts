// The pure part of QuorumLost: when quorum counts as lost, since when, and
// the message an operator reads (who answers, the snapshot, the way out).
import { describe, expect, it } from "vitest";
import type { GateResult } from "../../src/etcd/gate.js";
import {
  type NewestSnapshot,
  quorumIsLost,
  quorumLostMessage,
  quorumLostSince,
} from "../../src/reconcile/quorumLoss.js";

function gate(healthyVoters: number, voters = 3): GateResult {
  return {
    passed: false,
    at: 0,
    checks: [],
    failed: ["members-healthy"],
    summary: {
      judged: voters,
      healthyVoters,
      leaderDeparting: false,
      departing: [],
      joining: [],
      heldForMs: 0,
      stableForMs: 0,
      versions: [],
      answering: ["i-1 (http://10.0.0.1:2379)"],
      silent: ["i-2 (http://10.0.0.2:2379)", "i-3 (http://10.0.0.3:2379)"],
      faultTolerance: {
        voters,
        healthyVoters,
        tolerates: healthyVoters - (Math.floor(voters / 2) + 1),
        resting: voters - (Math.floor(voters / 2) + 1),
      },
    },
  };
}

describe("quorumIsLost and quorumLostSince", () => {
  it.each([
    [3, 3, false],
    [2, 3, false],
    [1, 3, true],
    [0, 3, true],
    [3, 5, false],
    [2, 5, true],
  ])("%i of %i healthy voters: lost %s", (healthy, voters, lost) => {
    expect(quorumIsLost(gate(healthy, voters))).toBe(lost);
  });

  it("keeps the first moment of a loss, and forgets it once a quorum is back", () => {
    expect(quorumLostSince(undefined, gate(1), 1000)).toBe(1000);
    expect(quorumLostSince(1000, gate(1), 5000)).toBe(1000);
    expect(quorumLostSince(1000, gate(2), 6000)).toBeUndefined();
  });

  it("counts nothing probed as no loss (no fault tolerance known)", () => {
    const g = gate(0);
    delete g.summary.faultTolerance;
    expect(quorumIsLost(g)).toBe(false);
  });
});

describe("quorumLostMessage", () => {
  const message = (newest: NewestSnapshot) =>
    quorumLostMessage({ cluster: "dev", gate: gate(1), lostForMs: 42_000, newest });

  it("names the voters, who answers and who does not", () => {
    expect(message({ kind: "none-configured" })).toMatch(
      /^quorum lost for 42s: 1 of 3 voters healthy, 2 needed; answering: i-1 \(http:\/\/10\.0\.0\.1:2379\); not answering: i-2 \(http:\/\/10\.0\.0\.2:2379\), i-3 \(http:\/\/10\.0\.0\.3:2379\); etcd accepts no write/,
    );
  });

  it.each<[NewestSnapshot, RegExp]>([
    [
      { kind: "found", key: "dev/20261207T010000Z.db", ageMs: 3_600_000, revision: "2001" },
      /newest good snapshot: dev\/20261207T010000Z\.db \(1h old, revision 2001\); writes after that revision are lost by a restore/,
    ],
    [
      { kind: "empty", where: "s3://snaps/dev/" },
      /no good snapshot in s3:\/\/snaps\/dev\/: a restore has nothing to start from/,
    ],
    [
      { kind: "unreadable", where: "s3://snaps/dev/", error: "AccessDenied" },
      /the snapshots in s3:\/\/snaps\/dev\/ could not be listed \(AccessDenied\)/,
    ],
    [{ kind: "none-configured" }, /no spec\.backup: there is no snapshot to restore from/],
  ])("says what the bucket holds: %j", (newest, words) => {
    expect(message(newest)).toMatch(words);
  });

  it("gives both ways out and never promises an automatic restore", () => {
    expect(message({ kind: "none-configured" })).toMatch(
      /way out: if the silent members may come back .* bring them back and wait; if they and their data are gone for good, restore that snapshot into a new cluster: `quorate restore dev` checks it and prints the spec\.restore block to commit\. quorate never restores on its own$/,
    );
  });
});
