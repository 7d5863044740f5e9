// Table tests of the pure parts of backups: which member a snapshot comes
// from, how a bucket listing is judged, what retention deletes, and which
// snapshot a restore names.
import { describe, expect, it } from "vitest";
import {
  buildCatalog,
  type ListedKey,
  type Snapshot,
  selectRestoreSnapshot,
  snapshotId,
} from "../../../src/reconcile/backup/catalog.js";
import { formatAge, formatSnapshotsText } from "../../../src/reconcile/backup/listing.js";
import { chooseSnapshotMember } from "../../../src/reconcile/backup/memberChoice.js";
import { BROKEN_GRACE_MS, retentionPlan } from "../../../src/reconcile/backup/retention.js";
import { down, healthyProbe, id, status, up, url, withEndpoint } from "../../etcd/probeFixtures.js";

describe("chooseSnapshotMember", () => {
  it.each([
    ["a healthy cluster: a follower, not the leader m1", healthyProbe(3), url(2)],
    [
      "the most caught-up follower",
      withEndpoint(
        healthyProbe(3),
        3,
        up(3, { header: { clusterId: 42n, memberId: id(3), revision: 9n, raftTerm: 2n } }),
      ),
      url(3),
    ],
    ["a follower down: the other follower", withEndpoint(healthyProbe(3), 2, down(2)), url(3)],
    [
      "both followers down: the leader",
      withEndpoint(withEndpoint(healthyProbe(3), 2, down(2)), 3, down(3)),
      url(1),
    ],
    ["a single member: itself", healthyProbe(1), url(1)],
  ])("%s", (_name, probe, endpoint) => {
    const choice = chooseSnapshotMember(probe);
    expect("source" in choice && choice.source.endpoint).toBe(endpoint);
  });

  it("names why each member was passed over when none will do", () => {
    let probe = withEndpoint(healthyProbe(3), 1, down(1));
    probe = withEndpoint(probe, 2, up(2, { leader: 0n }));
    probe = withEndpoint(probe, 3, up(3, { isLearner: true }));
    expect(chooseSnapshotMember(probe)).toEqual({
      problem:
        "no healthy member to take a snapshot from: m1 (http://10.0.0.1:2379): connection refused; m2 (http://10.0.0.2:2379): knows no leader; m3 (http://10.0.0.3:2379): a learner, still catching up",
    });
    void status;
  });
});

const NOW = new Date("2026-12-04T12:00:00Z");
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3600_000);

function manifestFor(at: Date, size = 100) {
  const id = snapshotId(at);
  return {
    apiVersion: "quorate.dev/v1alpha1",
    kind: "EtcdSnapshot",
    cluster: "dev",
    id,
    object: `dev/${id}.db`,
    revision: "2001",
    etcdVersion: "3.4.23",
    member: { name: "i-1", id: "1", endpoint: "http://10.0.0.1:2379" },
    size,
    sha256: "a".repeat(64),
    takenAt: at.toISOString(),
    completedAt: at.toISOString(),
  };
}

/** A listing and manifests: "good", "incomplete" (no manifest), "mismatched" (size), "gone" (no object). */
function bucketOf(rows: [number, "good" | "incomplete" | "mismatched" | "gone"][]): Snapshot[] {
  const listed: ListedKey[] = [];
  const manifests = new Map<string, unknown>();
  for (const [h, kind] of rows) {
    const m = manifestFor(hoursAgo(h));
    if (kind !== "gone")
      listed.push({
        key: m.object,
        size: kind === "mismatched" ? 50 : 100,
        lastModified: hoursAgo(h),
      });
    if (kind !== "incomplete") {
      const key = `dev/${m.id}.manifest.json`;
      listed.push({ key, size: 300, lastModified: hoursAgo(h) });
      manifests.set(key, m);
    }
  }
  listed.push(
    { key: "dev/notes.txt", size: 1, lastModified: NOW },
    { key: "dev/sub/x.db", size: 1, lastModified: NOW },
  );
  return buildCatalog("dev/", listed, manifests);
}

describe("buildCatalog", () => {
  it("judges each snapshot, newest first, and ignores other keys", () => {
    const catalog = bucketOf([
      [5, "good"],
      [4, "incomplete"],
      [3, "mismatched"],
      [2, "gone"],
      [1, "good"],
    ]);
    expect(catalog.map((s) => [s.id, s.state, s.problem ?? ""])).toEqual([
      [snapshotId(hoursAgo(1)), "good", ""],
      [snapshotId(hoursAgo(2)), "missing-object", "its data object is gone"],
      [snapshotId(hoursAgo(3)), "mismatched", "the object holds 50 bytes, the manifest says 100"],
      [
        snapshotId(hoursAgo(4)),
        "incomplete",
        "no manifest: the upload failed or was cut short, or is still being written",
      ],
      [snapshotId(hoursAgo(5)), "good", ""],
    ]);
  });

  it("takes a manifest that is not one for no manifest", () => {
    const m = manifestFor(hoursAgo(1));
    const catalog = buildCatalog(
      "dev/",
      [
        { key: m.object, size: 100, lastModified: NOW },
        { key: `dev/${m.id}.manifest.json`, size: 3, lastModified: NOW },
      ],
      new Map([[`dev/${m.id}.manifest.json`, { ...m, sha256: "short" }]]),
    );
    expect(catalog[0]).toMatchObject({
      state: "incomplete",
      problem: "the manifest has no size or sha256",
    });
  });
});

describe("retentionPlan", () => {
  const plan = (catalog: Snapshot[], keepLast: number, deleteAfterH?: number) =>
    retentionPlan(
      catalog,
      {
        keepLast,
        brokenGraceMs: BROKEN_GRACE_MS,
        ...(deleteAfterH ? { deleteAfterMs: deleteAfterH * 3600_000 } : {}),
      },
      NOW,
    ).map((v) => [Math.round((NOW.getTime() - v.snapshot.at.getTime()) / 3600_000), v.why]);

  it.each([
    [
      "keeps the newest N",
      [
        [1, "good"],
        [2, "good"],
        [3, "good"],
        [4, "good"],
      ],
      2,
      undefined,
      [
        [4, "beyond the newest 2 good snapshot(s)"],
        [3, "beyond the newest 2 good snapshot(s)"],
      ],
    ],
    [
      "deletes past deleteAfter within N",
      [
        [1, "good"],
        [30, "good"],
        [50, "good"],
      ],
      10,
      24,
      [
        [50, "older than retention.deleteAfter"],
        [30, "older than retention.deleteAfter"],
      ],
    ],
    [
      "never the newest good one, however old",
      [
        [100, "good"],
        [200, "good"],
      ],
      1,
      24,
      [[200, "beyond the newest 1 good snapshot(s)"]],
    ],
    [
      "never the newest good one, even when newer ones are broken",
      [
        [0.5, "incomplete"],
        [2, "mismatched"],
        [48, "good"],
      ],
      1,
      24,
      [[2, "mismatched: the object holds 50 bytes, the manifest says 100"]],
    ],
    [
      "broken ones after the grace hour; a young one may still be written",
      [
        [0.5, "incomplete"],
        [3, "incomplete"],
        [1, "good"],
      ],
      5,
      undefined,
      [
        [
          3,
          "incomplete: no manifest: the upload failed or was cut short, or is still being written",
        ],
      ],
    ],
    ["nothing to do", [[1, "good"]], 24, undefined, []],
  ] as const)("%s", (_name, rows, keepLast, deleteAfterH, expected) => {
    expect(plan(bucketOf(rows as never), keepLast, deleteAfterH)).toEqual(expected);
  });
});

describe("selectRestoreSnapshot", () => {
  const catalog = bucketOf([
    [3, "good"],
    [2, "mismatched"],
    [1, "incomplete"],
  ]);
  it.each([
    ["latest: the newest good one", "latest", { id: snapshotId(hoursAgo(3)) }],
    ["a good key", `dev/${snapshotId(hoursAgo(3))}.db`, { id: snapshotId(hoursAgo(3)) }],
    [
      "a broken key",
      `dev/${snapshotId(hoursAgo(2))}.db`,
      {
        problem: `snapshot dev/${snapshotId(hoursAgo(2))}.db is mismatched: the object holds 50 bytes, the manifest says 100`,
      },
    ],
    ["an unknown key", "dev/nope.db", { problem: "there is no snapshot dev/nope.db" }],
  ])("%s", (_name, wanted, expected) => {
    const got = selectRestoreSnapshot(catalog, wanted);
    expect("snapshot" in got ? { id: got.snapshot.id } : got).toEqual(expected);
  });

  it("latest with no good snapshot", () => {
    expect(selectRestoreSnapshot(bucketOf([[1, "incomplete"]]), "latest")).toEqual({
      problem: "there is no good snapshot under the prefix",
    });
  });
});

describe("listing", () => {
  it.each([
    [45_000, "45s"],
    [180_000, "3m"],
    [7_500_000, "2h5m"],
    [3 * 86_400_000 + 4 * 3_600_000, "3d4h"],
  ])("formatAge(%i) = %s", (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });

  it("prints a table and says which snapshots cannot be used", () => {
    const text = formatSnapshotsText(
      [
        {
          cluster: "dev",
          bucket: "snaps",
          prefix: "dev/",
          snapshots: bucketOf([
            [2, "incomplete"],
            [1, "good"],
          ]),
        },
      ],
      NOW,
    );
    expect(text).toBe(
      [
        "CLUSTER  SNAPSHOT                    STATE       AGE  REVISION  SIZE   MEMBER",
        "dev      dev/20261204T110000000Z.db  good        1h   2001      100 B  i-1",
        "dev      dev/20261204T100000000Z.db  incomplete  2h   -         100 B  -",
        "dev: dev/20261204T100000000Z.db is not usable: no manifest: the upload failed or was cut short, or is still being written",
        "",
      ].join("\n"),
    );
  });
});
