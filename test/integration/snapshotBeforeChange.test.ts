// Story: a rollout under spec.backup.beforeChange, on the local cloud with real
// etcd and the real S3 client. dev is created with backups on (a create takes
// no snapshot). With S3 failing, its image upgrade is held by the check
// snapshot-before-change, named with the S3 error, and nothing is executed,
// through applyCluster and through `quorate apply` (exit 3). Once the fault
// clears, a snapshot is in the bucket before the stack update starts and
// before the first new instance launches, and the rollout runs with no failed
// write. A change that replaces no member takes no snapshot.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeStackEventsCommand } from "@aws-sdk/client-cloudformation";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeInstances } from "../../src/aws/instances.js";
import { startWriteProbe } from "../../src/etcd/writeProbe.js";
import { localAmiId } from "../../src/localcloud/index.js";
import type { ClusterSpec } from "../../src/manifest/types.js";
import { applyCluster } from "../../src/reconcile/apply.js";
import { bucketFor, readCatalog } from "../../src/reconcile/backup/snapshots.js";
import { applyDevByCli } from "../helpers/cliApply.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";

const BACKUP = { bucket: "snaps" };
const UPGRADE = "4152.2.0";
const NEXT = "4230.2.0";

let h: Harness;
let dir: string;
beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), "quorate-beforechange-"));
  await h.aws("eu-west-1").s3.send(new CreateBucketCommand({ Bucket: BACKUP.bucket }));
});
afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const dev = (change: (m: Record<string, any>) => void = () => {}) =>
  h.spec("dev", (m) => {
    m.spec.backup = BACKUP;
    change(m);
  });
const upgraded = () =>
  dev((m) => {
    m.spec.image.version = UPGRADE;
  });

describe("dev with spec.backup, beforeChange on by default", () => {
  it("is created without a snapshot: a new cluster has no data to lose", async () => {
    const outcome = await applyCluster(h.deps(), dev(), { revision: "rev-create" });
    expect(outcome.result, outcome.message).toBe("applied");
    expect(outcome.plan?.snapshotBeforeChange).toBeUndefined();
    expect(await snapshots(dev())).toEqual([]);
  });

  it("holds its image upgrade while S3 fails: snapshot-before-change named, nothing executed", async () => {
    await h.cloud.admin.s3Fault({ mode: "fail", bucket: BACKUP.bucket, keyPrefix: "dev/" });
    try {
      const before = await h.instances(dev());
      const executed = await executions();
      const outcome = await applyCluster(h.deps(), upgraded(), { revision: "rev-held" });
      expect(outcome.result, outcome.message).toBe("snapshot-missing");
      expect(outcome.check).toBe("snapshot-before-change");
      expect(outcome.executed).toBe(false);
      expect(outcome.plan?.snapshotBeforeChange).toMatchObject({ bucket: "snaps", prefix: "dev/" });
      expect(outcome.message).toMatch(
        /^not applied, snapshot-before-change failed: no good snapshot under s3:\/\/snaps\/dev\/ is at most PT15M old \(there is none\) and none could be taken: snapshot of dev from i-\w+ failed after \d+ bytes: .*InternalError.*\. To go on, fix quorate's access to s3:\/\/snaps\/dev\/, or set spec\.backup\.beforeChange: false/,
      );
      process.stdout.write(`held: ${outcome.message}\n`);
      await expectUnchanged(before, executed);

      // The same through the CLI: exit 3, as for a failed gate.
      const run = await applyDevByCli(h.endpoint, dir, (m) => {
        m.spec.image.version = UPGRADE;
        m.spec.backup = BACKUP;
      });
      expect(run.code, run.stdout + run.stderr).toBe(3);
      expect(run.stdout).toMatch(
        /^\s+snapshot: before any member is replaced, the newest good snapshot under s3:\/\/snaps\/dev\/ is reused if it is at most 15m old, else one is taken/m,
      );
      expect(run.stdout).toMatch(
        /^dev: snapshot-missing: not applied, snapshot-before-change failed: .*InternalError/m,
      );
      await expectUnchanged(before, executed);
    } finally {
      await h.cloud.admin.clearFaults();
    }
    expect((await snapshots(dev())).filter((s) => s.state === "good")).toEqual([]);
  });

  it("once S3 works again, takes a snapshot before the update starts, then rolls with no failed write", async () => {
    const spec = upgraded();
    const before = await h.instances(spec);
    const writer = startWriteProbe({
      endpoints: () => h.clientURLs(spec),
      prefix: "beforechange",
      maxWrites: 5000,
    });
    h.events.length = 0;
    const outcome = await applyCluster(h.deps(), spec, { revision: "rev-upgrade" });
    const writes = await writer.stop();
    expect(outcome.result, outcome.message).toBe("applied");
    expect(await h.stackStatus(spec)).toBe("UPDATE_COMPLETE");
    expect(writes.failed, writes.failures.join("\n")).toBe(0);
    expect(writes.lost).toEqual([]);

    const good = (await snapshots(spec)).filter((s) => s.state === "good");
    expect(good).toHaveLength(1);
    const manifest = good[0]?.manifest;
    expect(manifest?.cluster).toBe("dev");
    const completedAt = Date.parse(manifest?.completedAt ?? "");
    // Dated by the local cloud, not by quorate: when CloudFormation began the
    // update, and when each replacement instance launched.
    const updateStarted = await stackUpdateStartedAt(spec);
    const newIds = (await h.instances(spec))
      .map((i) => i.instanceId)
      .filter((id) => !before.some((b) => b.instanceId === id));
    expect(newIds).toHaveLength(3);
    const launches = [...(await describeInstances(h.aws("eu-west-1").ec2, newIds)).values()].map(
      (i) => i.launchTime?.getTime() ?? 0,
    );
    const firstLaunch = Math.min(...launches);
    process.stdout.write(
      `snapshot completed ${new Date(completedAt).toISOString()}, update started ${new Date(updateStarted).toISOString()}, first new instance ${new Date(firstLaunch).toISOString()}\n`,
    );
    expect(completedAt).toBeLessThanOrEqual(updateStarted);
    expect(updateStarted).toBeLessThanOrEqual(firstLaunch);
    const order = h.events
      .map((e) => e.type)
      .filter((t) => t === "snapshot" || t === "learner-added");
    expect(order[0]).toBe("snapshot");
    expect(h.events.find((e) => e.type === "snapshot")?.message).toMatch(
      /^snapshot: took dev\/\d{8}T\d{9}Z\.db from i-\w+ at revision \d+/,
    );
    const ami = localAmiId("stable", UPGRADE, "eu-west-1");
    expect((await h.instances(spec)).every((i) => i.imageId === ami)).toBe(true);
  });

  it("reuses that snapshot for the next upgrade within maxAge, so failing S3 writes no longer hold it", async () => {
    const taken = (await snapshots(upgraded())).map((s) => s.id);
    const spec = dev((m) => {
      m.spec.image.version = NEXT;
    });
    await h.cloud.admin.s3Fault({ mode: "fail", bucket: BACKUP.bucket, keyPrefix: "dev/" });
    h.events.length = 0;
    try {
      const outcome = await applyCluster(h.deps(), spec, { revision: "rev-next" });
      expect(outcome.result, outcome.message).toBe("applied");
    } finally {
      await h.cloud.admin.clearFaults();
    }
    expect(h.events.find((e) => e.type === "snapshot")?.message).toMatch(
      new RegExp(
        `^snapshot: reusing dev/${taken[0]}\\.db \\(\\d+s old, revision \\d+\\), within spec\\.backup\\.maxAge PT15M$`,
      ),
    );
    expect((await snapshots(spec)).map((s) => s.id)).toEqual(taken);
  });

  it("takes no snapshot for a change that replaces no member", async () => {
    const before = await snapshots(upgraded());
    const spec = dev((m) => {
      m.spec.image.version = NEXT;
      m.spec.network.clientCidrs = ["10.1.0.0/16"];
    });
    h.events.length = 0;
    const outcome = await applyCluster(h.deps(), spec, { revision: "rev-in-place" });
    expect(outcome.result, outcome.message).toBe("applied");
    expect(outcome.plan?.impact?.instancesReplaced).toBe(false);
    expect(outcome.plan?.snapshotBeforeChange).toBeUndefined();
    expect(h.events.filter((e) => e.type === "snapshot")).toEqual([]);
    expect((await snapshots(spec)).map((s) => s.id)).toEqual(before.map((s) => s.id));
  });
});

async function snapshots(spec: ClusterSpec) {
  return readCatalog(bucketFor({ aws: h.aws }, spec));
}

async function executions(): Promise<number> {
  return (await h.cloud.admin.counters())["cloudformation:ExecuteChangeSet"] ?? 0;
}

/** Nothing executed, the same instances, and no change set left for someone to execute. */
async function expectUnchanged(
  before: Awaited<ReturnType<Harness["instances"]>>,
  executed: number,
): Promise<void> {
  expect(await executions()).toBe(executed);
  expect(await h.stackStatus(dev())).toBe("CREATE_COMPLETE");
  expect((await h.instances(dev())).map((i) => i.instanceId).sort()).toEqual(
    before.map((i) => i.instanceId).sort(),
  );
  const [stack] = (await h.cloud.admin.state()).stacks;
  expect(stack?.changeSets.filter((c) => c.executionStatus === "AVAILABLE")).toEqual([]);
}

/** The stack's own UPDATE_IN_PROGRESS event, as the local cloud recorded it. */
async function stackUpdateStartedAt(spec: ClusterSpec): Promise<number> {
  const cfn = h.aws("eu-west-1").cloudFormation;
  const { StackEvents = [] } = await cfn.send(
    new DescribeStackEventsCommand({ StackName: spec.stackName }),
  );
  const started = StackEvents.filter(
    (e) => e.LogicalResourceId === spec.stackName && e.ResourceStatus === "UPDATE_IN_PROGRESS",
  ).map((e) => e.Timestamp?.getTime() ?? 0);
  expect(started.length).toBeGreaterThan(0);
  return Math.min(...started);
}
