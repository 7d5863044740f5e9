// The pure parts of a restore: whether spec.restore is new against the pin in
// the stack's tags, the pin's tags, the plan section and its wording, and the
// rendered stack of a restore (its own group, the read-only S3 statement, the
// restore step in the user-data).
import { describe, expect, it } from "vitest";
import type { ClusterSpec } from "../../../src/manifest/types.js";
import { restoreSentence } from "../../../src/plan/format/describe.js";
import type { ClusterPlan } from "../../../src/plan/model.js";
import type { Snapshot } from "../../../src/reconcile/backup/catalog.js";
import {
  pinProblem,
  restorePinFromTags,
  restorePinTags,
  restorePlan,
  restoreStep,
} from "../../../src/reconcile/backup/restorePin.js";
import { RESTORE_SCRIPT_PATH, RESTORE_SETTINGS_PATH } from "../../../src/render/bootSettings.js";
import { readRestoreSettingsFromUserData } from "../../../src/render/readUserData.js";
import { renderStack } from "../../../src/render/template.js";
import { renderUserData } from "../../../src/render/userData.js";
import { userDataContents } from "../../render/instanceRoot.js";
import { devSpec, snapsBackup } from "../../render/specs.js";

const pin = {
  id: "r1",
  snapshot: "dev/20261207T070000000Z.db",
  sha256: "a".repeat(64),
  revision: "2003",
};

function restoring(id = "r1", snapshot = "latest"): ClusterSpec {
  return {
    ...devSpec(),
    backup: snapsBackup(),
    restore: { id, snapshot },
  };
}

const snapshot: Snapshot = {
  id: "20261207T070000000Z",
  objectKey: pin.snapshot,
  manifestKey: "dev/20261207T070000000Z.manifest.json",
  state: "good",
  at: new Date("2026-12-07T07:00:00Z"),
  manifest: {
    apiVersion: "quorate.dev/v1alpha1",
    kind: "EtcdSnapshot",
    cluster: "dev",
    id: "20261207T070000000Z",
    object: pin.snapshot,
    revision: "2003",
    etcdVersion: "3.4.23",
    member: { name: "i-0abc", id: "1", endpoint: "http://127.0.0.2:2379" },
    size: 4096,
    sha256: "a".repeat(64),
    takenAt: "2026-12-07T07:00:00Z",
    completedAt: "2026-12-07T07:00:01Z",
  },
};

describe("restoreStep: is spec.restore new for this stack?", () => {
  it.each([
    ["no spec.restore", undefined, pin, "none"],
    ["a restore the stack never had", { id: "r1", snapshot: "latest" }, undefined, "new"],
    ["the restore the stack has", { id: "r1", snapshot: "latest" }, pin, "kept"],
    ["a new id after an earlier restore", { id: "r2", snapshot: "latest" }, pin, "new"],
  ] as const)("%s -> %s", (_name, restore, live, kind) => {
    expect(restoreStep(restore, live).kind).toBe(kind);
  });

  it("reads back the tags it writes, and nothing from incomplete tags", () => {
    const tags = restorePinTags(pin);
    expect(restorePinFromTags(tags)).toEqual(pin);
    const { ["quorate.dev:restore-sha256"]: _gone, ...partial } = tags;
    expect(restorePinFromTags(partial)).toBeUndefined();
  });

  it("refuses a key a stack tag cannot hold", () => {
    expect(pinProblem(pin)).toBeUndefined();
    expect(pinProblem({ ...pin, snapshot: "dev/it's(1).db" })).toMatch(
      /characters a stack tag cannot hold/,
    );
  });
});

describe("the plan's restore section", () => {
  const now = new Date("2026-12-07T07:30:00Z");
  const sentence = (restore: ClusterPlan["restore"]) => restoreSentence({ restore } as ClusterPlan);

  it("a new restore names the snapshot, its age and revision, and what is lost", () => {
    const spec = restoring();
    const plan = restorePlan(spec, restoreStep(spec.restore, undefined), now, snapshot);
    expect(plan).toMatchObject({
      id: "r1",
      applies: true,
      snapshot: pin.snapshot,
      revision: "2003",
      ageSeconds: 1800,
    });
    expect(sentence(plan)).toBe(
      "THIS IS A RESTORE (r1): a new group's members start a new etcd cluster from snapshot s3://snaps/dev/20261207T070000000Z.db (taken 30m ago from member i-0abc, at revision 2003), and the old group and its data are deleted; every write after revision 2003 is lost; the health gate and spec.backup.beforeChange do not apply",
    );
  });

  it("offline, it says the snapshot is chosen when applied", () => {
    const spec = restoring();
    const plan = restorePlan(spec, restoreStep(spec.restore, undefined), now);
    expect(sentence(plan)).toContain(
      "from snapshot s3://snaps/latest (chosen when the restore is applied",
    );
    expect(sentence(plan)).toContain("every write after the snapshot's revision is lost");
  });

  it("a restore already applied is kept and says so", () => {
    const spec = restoring();
    const plan = restorePlan(spec, restoreStep(spec.restore, pin), now);
    expect(plan?.applies).toBe(false);
    expect(sentence(plan)).toMatch(
      /^restore r1 is done: .*revision 2003\); nothing is restored again/,
    );
  });
});

describe("the rendered stack of a restore", () => {
  it("has its own group, reads only its prefix, and carries the restore step", () => {
    const template = renderStack(restoring(), { imageId: "ami-0123456789abcdef0" }).template as any;
    expect(template.Resources.EtcdGroup.Properties.AutoScalingGroupName).toBe(
      "quorate-dev-restore-r1",
    );
    const statements = template.Resources.EtcdRole.Properties.Policies[0].PolicyDocument.Statement;
    expect(statements).toContainEqual({
      Sid: "ReadOwnSnapshots",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: { "Fn::Sub": "arn:${AWS::Partition}:s3:::snaps/dev/*" },
    });
    const text = renderUserData(restoring());
    const paths = userDataContents(text).files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining([RESTORE_SETTINGS_PATH, RESTORE_SCRIPT_PATH]));
    expect(readRestoreSettingsFromUserData(Buffer.from(text).toString("base64"))).toEqual({
      id: "r1",
      bucket: "snaps",
      tool: "etcdutl", // dev runs 3.5: etcdctl lost its restore in 3.6, etcdutl has it from 3.5
      etcdImage: `quay.io/coreos/etcd:v${devSpec().etcd.version}`,
    });
    // EC2 refuses user-data over 16 KB in raw form, before base64.
    expect(new TextEncoder().encode(text).length).toBeLessThan(16 * 1024);
  });

  it("without spec.restore: no group name, no S3 statement, no restore files", () => {
    const template = renderStack(devSpec(), { imageId: "ami-0123456789abcdef0" }).template as any;
    expect(template.Resources.EtcdGroup.Properties.AutoScalingGroupName).toBeUndefined();
    expect(JSON.stringify(template.Resources.EtcdRole)).not.toContain("s3:");
    const paths = userDataContents(renderUserData(devSpec())).files.map((f) => f.path);
    expect(paths).not.toContain(RESTORE_SCRIPT_PATH);
  });
});
