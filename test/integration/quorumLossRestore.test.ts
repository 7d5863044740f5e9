// Story (#9, must show): quorum loss and restore, on the local cloud with real
// etcd, real git and the real S3 client. dev is created by the daemon's
// reconciler and gets 2,000 keys; spec.backup is then committed and the
// scheduled snapshot is taken; 100 more keys are written. Two of the three
// members are killed and their data directories deleted, so the cluster has
// lost quorum for good: the status says QuorumLost and names the snapshot.
// spec.restore (id r1, snapshot latest) is committed: the stack gets a new
// group (dev's stack name + -restore-r1) whose members restore the snapshot
// and start one new cluster, which holds exactly the snapshot's 2,000 keys.
// What was said before it executed: this is a restore, from which snapshot,
// and that every write after its revision is lost. A write probe on the new
// cluster succeeds, and the old group is gone.
//
// The steps build on each other (one cluster): describe.sequential.
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bucketFor, readCatalog } from "../../src/reconcile/backup/snapshots.js";
import { conditionOf } from "../../src/reconcile/conditions.js";
import { createReconciler, type Reconciler } from "../../src/reconcile/reconciler.js";
import type { RolloutEvent } from "../../src/reconcile/rollout/events.js";
import type { ClusterStatus } from "../../src/reconcile/status.js";
import { createAmiFeed } from "../../src/render/ami.js";
import { restoreGroupName } from "../../src/render/contract.js";
import { createGitSource } from "../../src/source/git.js";
import { createManifestRepo, type ManifestRepo } from "../helpers/manifestRepo.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";
import { waitFor } from "../helpers/waitFor.js";
import { removeDir, tempDir } from "../source/gitRepos.js";

let h: Harness;
let repo: ManifestRepo;
let cache: string;
let reconciler: Reconciler;
const events: RolloutEvent[] = [];
let snapshot: { key: string; revision: string };
const BACKUP = { bucket: "snaps", every: "PT1H" };
const dev = () => h.spec("dev", (m) => (m.spec.backup = BACKUP));

beforeAll(async () => {
  h = await startHarness();
  await h.aws("eu-west-1").s3.send(new CreateBucketCommand({ Bucket: "snaps" }));
  repo = await createManifestRepo({ prefix: "quorum-restore" });
  repo.write("dev", readFileSync(new URL("../../clusters/dev.yaml", import.meta.url), "utf8"));
  repo.update("dev", (m) => {
    m.spec.gates = { ...m.spec.gates, ...dev().gates };
  });
  await repo.commit("dev");
  cache = await tempDir("quorum-restore-cache");
  reconciler = createReconciler({
    source: createGitSource({ repo: repo.dir, branch: "main", cacheDir: cache }),
    path: repo.path,
    aws: h.aws,
    amiFeed: createAmiFeed({
      source: `${h.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
    }),
    etcd: {},
    onEvent: (event) => events.push(event),
    waitForRollouts: true,
    scheduleBackups: true,
    tickMs: 200,
    heartbeatEveryMs: 1000,
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
  await repo?.close();
  await removeDir(cache);
});

const status = (): ClusterStatus | undefined =>
  reconciler.statuses().find((s) => s.cluster === "dev");
const ready = () => conditionOf(status()?.conditions ?? [], "Ready");

async function passUntil(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 90_000) {
  await waitFor(
    what,
    async () => {
      await reconciler.pass();
      return done();
    },
    { timeoutMs },
  );
}

const b64 = (text: string) => Buffer.from(text).toString("base64");

async function put(url: string, key: string, value: string): Promise<void> {
  const response = await fetch(`${url}/v3/kv/put`, {
    method: "POST",
    body: JSON.stringify({ key: b64(key), value: b64(value) }),
  });
  if (!response.ok) throw new Error(`put ${key}: HTTP ${response.status} ${await response.text()}`);
}

async function writeKeys(url: string, from: number, count: number): Promise<void> {
  const keys = Array.from({ length: count }, (_, i) => from + i);
  // Twenty writers: a sequential loop would take most of the story's time.
  for (let i = 0; i < keys.length; i += 20) {
    await Promise.all(
      keys.slice(i, i + 20).map((n) => put(url, `story/${String(n).padStart(5, "0")}`, `v${n}`)),
    );
  }
}

/** How many story/ keys a member serves (a linearizable count). */
async function storyKeys(url: string): Promise<number> {
  const response = await fetch(`${url}/v3/kv/range`, {
    method: "POST",
    body: JSON.stringify({ key: b64("story/"), range_end: b64("story0"), count_only: true }),
  });
  const body = (await response.json()) as { count?: string };
  return Number(body.count ?? 0);
}

describe.sequential("dev loses its quorum for good and is restored from git", () => {
  it("1. is created, holds 2,000 keys, and gets a scheduled snapshot once spec.backup is committed", async () => {
    await passUntil("dev Ready", () => ready()?.status === "True", 120_000);
    const [url] = await h.clientURLs(dev());
    await writeKeys(url ?? "", 0, 2000);
    repo.update("dev", (m) => {
      m.spec.backup = BACKUP;
    });
    await repo.commit("dev: spec.backup");
    const bucket = bucketFor({ aws: h.aws }, dev());
    await passUntil("a scheduled snapshot of dev", async () =>
      (await readCatalog(bucket)).some((s) => s.state === "good"),
    );
    const good = (await readCatalog(bucket)).filter((s) => s.state === "good");
    expect(good).toHaveLength(1);
    snapshot = { key: good[0]?.objectKey ?? "", revision: good[0]?.manifest?.revision ?? "" };
    // Then 100 more writes, which the snapshot does not hold.
    await writeKeys(url ?? "", 2000, 100);
    expect(await storyKeys(url ?? "")).toBe(2100);
  });

  it("2. loses two members with their data: QuorumLost names the snapshot", async () => {
    const instances = await h.instances(dev());
    for (const i of instances.slice(1)) {
      await h.cloud.admin.instance(i.instanceId, "kill");
      await rm(join(h.cloud.dataDir, "instances", i.instanceId, "etcd"), {
        recursive: true,
        force: true,
      });
    }
    await passUntil("dev QuorumLost", () => ready()?.reason === "QuorumLost");
    expect(ready()?.message).toContain(`newest good snapshot: ${snapshot.key} (`);
    expect(ready()?.message).toContain(`revision ${snapshot.revision})`);
  });

  it("3. is restored by committing spec.restore: a new group, exactly the snapshot's keys, writes work", async () => {
    const oldInstances = (await h.instances(dev())).map((i) => i.instanceId);
    repo.update("dev", (m) => {
      m.spec.restore = { id: "r1" };
    });
    await repo.commit("dev: restore r1 from the latest snapshot");
    const restored = h.spec("dev", (m) => {
      m.spec.backup = BACKUP;
      m.spec.restore = { id: "r1" };
    });
    await passUntil("dev Ready after the restore", () => ready()?.status === "True", 150_000);
    // What was said before anything was executed.
    const said = events.find((e) => e.type === "restore")?.message ?? "";
    expect(said).toContain(`THIS IS A RESTORE (r1)`);
    expect(said).toContain(`s3://snaps/${snapshot.key}`);
    expect(said).toContain(`every write after revision ${snapshot.revision} is lost`);
    // The stack's group is the restore's own, and the old instances are gone.
    const groups = (await h.cloud.admin.state()).groups.map((g) => g.name);
    expect(groups).toContain(restoreGroupName(restored.stackName, "r1"));
    const now = await h.instances(restored);
    expect(now).toHaveLength(3);
    for (const i of now) expect(oldInstances).not.toContain(i.instanceId);
    // Exactly the snapshot's keys, on every member of the new cluster.
    const urls = await h.clientURLs(restored);
    expect(urls).toHaveLength(3);
    for (const url of urls) expect(await storyKeys(url)).toBe(2000);
    const members = await h.members(restored);
    expect(members.map((m) => m.name).sort()).toEqual(now.map((i) => i.instanceId).sort());
    // A write probe: a put through each member, read back through the next.
    for (const [i, url] of urls.entries()) await put(url, `probe/${i}`, "ok");
    for (const url of urls) {
      const response = await fetch(`${url}/v3/kv/range`, {
        method: "POST",
        body: JSON.stringify({ key: b64("probe/"), range_end: b64("probe0"), count_only: true }),
      });
      expect(((await response.json()) as { count?: string }).count).toBe("3");
    }
  });
});
