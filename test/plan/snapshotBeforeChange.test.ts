// Which changes need a snapshot first (spec.backup.beforeChange), on plans of
// templates from the real renderer, and how the plan says so.
import { describe, expect, it } from "vitest";
import type { BackupSpec, ClusterSpec } from "../../src/manifest/types.js";
import {
  formatMarkdown,
  formatText,
  planFromTemplates,
  serviceSpecUpdateBehaviour,
  snapshotNeed,
  withSnapshotRequirement,
} from "../../src/plan/index.js";
import type { ClusterPlan } from "../../src/plan/model.js";
import { renderStack } from "../../src/render/template.js";
import { devSpec, snapsBackup } from "../render/specs.js";

const IMAGE = { imageId: "ami-0123456789abcdef0" };
const NEW_IMAGE = { imageId: "ami-0fedcba9876543210" };

const BACKUP: BackupSpec = snapsBackup("PT15M");

/** GIVEN dev as it is live, WHEN the manifest changes as given, THEN this is the plan. */
function planOf(change: (s: ClusterSpec) => void, image = IMAGE, exists = true): ClusterPlan {
  const after = devSpec();
  change(after);
  return planFromTemplates({
    cluster: after.name,
    stackName: after.stackName,
    before: exists ? renderStack(devSpec(), IMAGE).template : undefined,
    after: renderStack(after, image).template,
    updateBehaviour: serviceSpecUpdateBehaviour(),
  });
}

describe("snapshotNeed", () => {
  const image = planOf(() => {}, NEW_IMAGE);
  it.each<[string, ClusterPlan, BackupSpec | undefined, ReturnType<typeof snapshotNeed>]>([
    [
      "an image change replaces every member: needed",
      image,
      BACKUP,
      {
        needed: true,
        requirement: {
          check: "snapshot-before-change",
          bucket: "snaps",
          prefix: "dev/",
          maxAge: "PT15M",
          maxAgeSeconds: 900,
        },
      },
    ],
    [
      "an instance-type change replaces every member: needed",
      planOf((s) => {
        s.instanceType = "m6i.xlarge";
      }),
      BACKUP,
      expect.objectContaining({ needed: true }),
    ],
    [
      "a change in place (client CIDRs) replaces no member",
      planOf((s) => {
        s.network.clientCidrs = ["10.1.0.0/16"];
      }),
      BACKUP,
      { needed: false, why: "no-replacement" },
    ],
    [
      "a create has no data to lose",
      planOf(() => {}, NEW_IMAGE, false),
      BACKUP,
      { needed: false, why: "not-an-update" },
    ],
    ["no change, nothing to do", planOf(() => {}), BACKUP, { needed: false, why: "not-an-update" }],
    ["no spec.backup", image, undefined, { needed: false, why: "no-backup" }],
    [
      "beforeChange: false accepts the risk",
      image,
      { ...BACKUP, beforeChange: false },
      { needed: false, why: "before-change-off" },
    ],
  ])("%s", (_title, plan, backup, need) => {
    expect(snapshotNeed(plan, backup)).toEqual(need);
  });

  it("an update with no group impact to read replaces no member", () => {
    expect(snapshotNeed({ status: "update" }, BACKUP)).toEqual({
      needed: false,
      why: "no-replacement",
    });
  });
});

describe("a plan whose members roll with spec.backup", () => {
  const spec = { ...devSpec(), backup: BACKUP };
  const plan = withSnapshotRequirement(
    planOf(() => {}, NEW_IMAGE),
    spec,
  );

  it("says in one line that a snapshot is reused or taken first", () => {
    const line = formatText({ source: "offline", clusters: [plan] }, { color: false })
      .split("\n")
      .filter((l) => l.includes("snapshot:"));
    expect(line).toEqual([
      "    snapshot: before any member is replaced, the newest good snapshot under s3://snaps/dev/ is reused if it is at most 15m old, else one is taken; without one nothing is executed (spec.backup.beforeChange)",
    ]);
    expect(formatMarkdown({ source: "offline", clusters: [plan] })).toContain("**Snapshot:** ");
  });

  it("and says nothing of it when no member is replaced", () => {
    const inPlace = withSnapshotRequirement(
      planOf((s) => {
        s.network.clientCidrs = ["10.1.0.0/16"];
      }),
      spec,
    );
    expect(inPlace.snapshotBeforeChange).toBeUndefined();
    expect(formatText({ source: "offline", clusters: [inPlace] }, { color: false })).not.toContain(
      "snapshot:",
    );
  });
});
