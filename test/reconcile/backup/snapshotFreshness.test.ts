// Table tests of whether the newest good snapshot is recent enough before a
// member-replacing change, and of what a held change tells the operator.
import { describe, expect, it } from "vitest";
import type { Snapshot, SnapshotState } from "../../../src/reconcile/backup/catalog.js";
import { snapshotId } from "../../../src/reconcile/backup/catalog.js";
import { heldChangeMessage, snapshotFreshness } from "../../../src/reconcile/backup/freshness.js";

const NOW = new Date("2026-12-07T12:00:00Z");
const MAX_AGE_MS = 15 * 60_000;
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);

function snapshot(m: number, state: SnapshotState = "good"): Snapshot {
  const at = minutesAgo(m);
  const id = snapshotId(at);
  return { id, objectKey: `dev/${id}.db`, manifestKey: `dev/${id}.manifest.json`, state, at };
}

describe("snapshotFreshness", () => {
  it.each<[string, Snapshot[], { fresh: boolean; minutes?: number }]>([
    ["no snapshot at all", [], { fresh: false }],
    [
      "only broken ones, however recent",
      [snapshot(1, "incomplete"), snapshot(2, "mismatched"), snapshot(3, "missing-object")],
      { fresh: false },
    ],
    [
      "the newest good one is 5 minutes old",
      [snapshot(5), snapshot(60)],
      { fresh: true, minutes: 5 },
    ],
    ["exactly maxAge old still counts", [snapshot(15)], { fresh: true, minutes: 15 }],
    ["just over maxAge does not", [snapshot(15.01)], { fresh: false, minutes: 15.01 }],
    [
      "a broken newer one is passed over for the good one behind it",
      [snapshot(1, "incomplete"), snapshot(10)],
      { fresh: true, minutes: 10 },
    ],
    [
      "a broken newer one does not make an old good one fresh",
      [snapshot(1, "mismatched"), snapshot(120)],
      { fresh: false, minutes: 120 },
    ],
    [
      "the newest by date, whatever the order given",
      [snapshot(90), snapshot(3), snapshot(30)],
      { fresh: true, minutes: 3 },
    ],
    [
      "dated a little ahead (another box's clock): skew, fresh",
      [snapshot(-2)],
      { fresh: true, minutes: -2 },
    ],
    ["dated more than maxAge ahead: not trusted", [snapshot(-20)], { fresh: false, minutes: -20 }],
  ])("%s", (_title, catalog, want) => {
    const got = snapshotFreshness(catalog, NOW, MAX_AGE_MS);
    expect(got.fresh).toBe(want.fresh);
    const newest = got.fresh ? got : got.newest;
    if (want.minutes === undefined) expect(newest).toBeUndefined();
    else expect(newest?.ageMs).toBeCloseTo(want.minutes * 60_000);
  });

  it("never mutates the catalog it is given", () => {
    const catalog = [snapshot(90), snapshot(3)];
    const copy = structuredClone(catalog);
    snapshotFreshness(catalog, NOW, MAX_AGE_MS);
    expect(catalog).toEqual(copy);
  });
});

describe("heldChangeMessage", () => {
  it("names the S3 error, the newest snapshot's age and both ways on", () => {
    expect(
      heldChangeMessage({
        where: "s3://snaps/dev/",
        maxAge: "PT15M",
        cause: "bucket",
        why: "snapshot of dev from i-1 failed after 20480 bytes: InternalError",
        newest: { ageMs: 2 * 3600_000 },
      }),
    ).toBe(
      "not applied, snapshot-before-change failed: no good snapshot under s3://snaps/dev/ is at most PT15M old (the newest good one is 2h old) and none could be taken: snapshot of dev from i-1 failed after 20480 bytes: InternalError. To go on, fix quorate's access to s3://snaps/dev/, or set spec.backup.beforeChange: false to accept replacing members without a snapshot",
    );
  });

  it("names the member problem, and that there is no snapshot", () => {
    const message = heldChangeMessage({
      where: "s3://snaps/dev/",
      maxAge: "PT15M",
      cause: "member",
      why: "no healthy member to take a snapshot from: m1: connection refused",
    });
    expect(message).toContain("(there is none)");
    expect(message).toContain("none could be taken: no healthy member to take a snapshot from");
    expect(message).toContain("bring a member back to health");
    expect(message).toContain("spec.backup.beforeChange: false");
  });
});
