// Quorum loss, seen and explained, on the local cloud with real etcd: dev (3
// members, spec.backup) is reconciled by the daemon's reconciler from a git
// repository, a snapshot is taken, and two of its members are stopped
// (SIGSTOP: instances that do not answer, as a partition or a hung host looks).
// Past gates.deadMemberGrace the status says QuorumLost: Ready False, Stalled
// True, a message that names the member that answers, the two that do not,
// the snapshot (its key and revision) and the two ways out. Nothing is
// restored or changed. Once the members answer again, the cluster is Ready.
//
// The steps build on each other (one cluster): describe.sequential.
import { readFileSync } from "node:fs";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { takeSnapshot } from "../../src/reconcile/backup/snapshots.js";
import { conditionOf } from "../../src/reconcile/conditions.js";
import { createReconciler, type Reconciler } from "../../src/reconcile/reconciler.js";
import type { ClusterStatus } from "../../src/reconcile/status.js";
import { createAmiFeed } from "../../src/render/ami.js";
import { createGitSource } from "../../src/source/git.js";
import { createManifestRepo, type ManifestRepo } from "../helpers/manifestRepo.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";
import { waitFor } from "../helpers/waitFor.js";
import { removeDir, tempDir } from "../source/gitRepos.js";

let h: Harness;
let repo: ManifestRepo;
let cache: string;
let reconciler: Reconciler;
let snapshotKey: string;
let snapshotRevision: string;
const paused: string[] = [];
const dev = () =>
  h.spec("dev", (m) => {
    m.spec.backup = { bucket: "snaps" };
  });

beforeAll(async () => {
  h = await startHarness();
  await h.aws("eu-west-1").s3.send(new CreateBucketCommand({ Bucket: "snaps" }));
  repo = await createManifestRepo({ prefix: "quorum-lost" });
  // The example manifest, with spec.backup and the harness's test gates.
  repo.write("dev", readFileSync(new URL("../../clusters/dev.yaml", import.meta.url), "utf8"));
  repo.update("dev", (m) => {
    m.spec.backup = { bucket: "snaps" };
    m.spec.gates = { ...m.spec.gates, ...dev().gates };
  });
  await repo.commit("dev with backups");
  cache = await tempDir("quorum-lost-cache");
  reconciler = createReconciler({
    source: createGitSource({ repo: repo.dir, branch: "main", cacheDir: cache }),
    path: repo.path,
    aws: h.aws,
    amiFeed: createAmiFeed({
      source: `${h.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
    }),
    etcd: {},
    onEvent: () => {},
    waitForRollouts: true,
    tickMs: 200,
    heartbeatEveryMs: 1000,
  });
}, 60_000);

afterAll(async () => {
  for (const id of paused) await h.cloud.admin.instance(id, "resume").catch(() => undefined);
  await h?.close();
  await repo?.close();
  await removeDir(cache);
});

function devStatus(): ClusterStatus | undefined {
  return reconciler.statuses().find((s) => s.cluster === "dev");
}
const ready = () => conditionOf(devStatus()?.conditions ?? [], "Ready");

describe.sequential("dev loses its quorum", () => {
  it("1. is created and Ready, and has a snapshot", async () => {
    await reconciler.pass();
    await waitFor("dev Ready", async () => {
      await reconciler.pass();
      return ready()?.status === "True";
    });
    const taken = await takeSnapshot({ aws: h.aws, etcd: {} }, dev());
    snapshotKey = taken.manifest.object;
    snapshotRevision = taken.manifest.revision;
    expect(snapshotKey).toMatch(/^dev\/\d{8}T\d+Z\.db$/);
  });

  it("2. says QuorumLost past deadMemberGrace, naming who answers, the snapshot and the way out", async () => {
    const members = await h.instances(dev());
    const [kept, ...stopped] = members.map((i) => i.instanceId);
    for (const id of stopped) {
      await h.cloud.admin.instance(id, "pause");
      paused.push(id);
    }
    const lostAt = Date.now();
    await waitFor(
      "dev QuorumLost",
      async () => {
        await reconciler.pass();
        return ready()?.reason === "QuorumLost";
      },
      { timeoutMs: 60_000 },
    );
    // Not before deadMemberGrace (PT5S in the test gates): an election is not a loss.
    expect(Date.now() - lostAt).toBeGreaterThanOrEqual(5_000);
    const status = devStatus();
    expect(ready()?.status).toBe("False");
    expect(conditionOf(status?.conditions ?? [], "Stalled")).toMatchObject({
      status: "True",
      reason: "QuorumLost",
    });
    const message = ready()?.message ?? "";
    expect(message).toMatch(
      /^quorum lost for \d+s: [01] of 3 voters healthy, 2 needed; answering: /,
    );
    expect(message).toContain(`answering: ${kept} (`);
    for (const id of stopped) expect(message.split("not answering:")[1]).toContain(id ?? "");
    expect(message).toContain(`newest good snapshot: ${snapshotKey} (`);
    expect(message).toContain(`revision ${snapshotRevision})`);
    expect(message).toMatch(/way out: if the silent members may come back.*restore that snapshot/);
    expect(message).toMatch(/quorate never restores on its own$/);
    // Nothing was changed: the same three instances, no change set executed.
    expect((await h.instances(dev())).map((i) => i.instanceId)).toEqual(
      members.map((i) => i.instanceId),
    );
    expect((await h.cloud.admin.counters())["cloudformation:ExecuteChangeSet"]).toBe(1);
  });

  it("3. is Ready again once the members answer", async () => {
    for (const id of paused.splice(0)) await h.cloud.admin.instance(id, "resume");
    await waitFor(
      "dev Ready again",
      async () => {
        await reconciler.pass();
        return ready()?.status === "True";
      },
      { timeoutMs: 60_000 },
    );
    expect(conditionOf(devStatus()?.conditions ?? [], "Stalled")?.status).toBe("False");
  });
});
