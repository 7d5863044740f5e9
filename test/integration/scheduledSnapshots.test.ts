// Story: scheduled snapshots in the daemon, on the local cloud with real git,
// real etcd and the real S3 client. Two clusters, bk and ot, have spec.backup
// with every: PT5S. Without any command, each gets a snapshot in S3 once its
// stack is created, and /metrics and /status show it. With S3 failing for bk
// only, bk's BackupReady turns False naming the InternalError, its failures
// counter grows (after a backoff, not at every pass), and the passes and ot's
// snapshots go on. Once the fault clears, bk gets a new snapshot and
// BackupReady is True again; retention keeps its newest three.
import { PassThrough } from "node:stream";
import { DescribeStackEventsCommand } from "@aws-sdk/client-cloudformation";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { runDaemon } from "../../src/cli/daemon.js";
import { createLogger } from "../../src/cli/log.js";
import { createEtcdClient } from "../../src/etcd/client.js";
import { parseManifests } from "../../src/manifest/parse.js";
import type { ClusterSpec } from "../../src/manifest/types.js";
import type { Snapshot } from "../../src/reconcile/backup/catalog.js";
import { bucketFor, readCatalog } from "../../src/reconcile/backup/snapshots.js";
import { conditionOf } from "../../src/reconcile/conditions.js";
import { createReconciler, type Reconciler } from "../../src/reconcile/reconciler.js";
import type { DaemonStatusBody } from "../../src/reconcile/server.js";
import type { ClusterStatus } from "../../src/reconcile/status.js";
import { createAmiFeed } from "../../src/render/ami.js";
import { createGitSource } from "../../src/source/git.js";
import { clusterManifest } from "../helpers/manifestRepo.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";
import { waitFor } from "../helpers/waitFor.js";
import { commit, createRemote, removeDir, tempDir } from "../source/gitRepos.js";

const BUCKET = "snaps";
const backupOf = () => ({ bucket: BUCKET, every: "PT5S", retention: { keepLast: 3 } });
const manifestOf = (name: string) => clusterManifest({ name, spec: { backup: backupOf() } });

let h: Harness;
let root: string;
beforeAll(async () => {
  h = await startHarness();
  root = await tempDir("scheduled-snapshots");
  await h.aws("eu-west-1").s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  await h?.close();
  await removeDir(root);
});

/** The spec the reconciler reads, for the S3 and stack readers. */
function specOf(name: string): ClusterSpec {
  const parsed = parseManifests([{ file: `${name}.yaml`, text: stringify(manifestOf(name)) }]);
  const [spec] = parsed.clusters;
  if (!spec) throw new Error(JSON.stringify(parsed.errors));
  return spec;
}

async function good(name: string): Promise<Snapshot[]> {
  return (await readCatalog(bucketFor({ aws: h.aws }, specOf(name)))).filter(
    (s) => s.state === "good",
  );
}

/** `name{cluster="x"} value` from a Prometheus scrape, as a number (undefined when absent). */
function sample(text: string, name: string, cluster: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{cluster="${cluster}"}`));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : undefined;
}
function passes(text: string): number {
  const line = text
    .split("\n")
    .find((l) => l.startsWith("quorate_reconcile_duration_seconds_count"));
  return Number(line?.split(" ")[1] ?? 0);
}

describe("scheduled snapshots in the daemon", () => {
  it("takes them without a command, shows them, reports an S3 fault on one cluster, and recovers", async () => {
    const remote = await createRemote(root);
    await commit(
      remote.work,
      {
        "clusters/bk.yaml": stringify(manifestOf("bk")),
        "clusters/ot.yaml": stringify(manifestOf("ot")),
      },
      "Add bk and ot with scheduled snapshots",
      { push: true },
    );
    const lines: string[] = [];
    const logStream = new PassThrough();
    logStream.on("data", (chunk: Buffer) =>
      lines.push(...chunk.toString().split("\n").filter(Boolean)),
    );
    const stop = new AbortController();
    let reconciler: Reconciler | undefined;
    let url = "";
    const daemon = runDaemon({
      reconciler: (onEvent) => {
        reconciler = createReconciler({
          source: createGitSource({
            repo: remote.remote,
            branch: "main",
            cacheDir: `${root}/cache`,
          }),
          path: "clusters",
          aws: h.aws,
          amiFeed: createAmiFeed({
            source: `${h.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
          }),
          etcd: {},
          onEvent,
          waitForRollouts: false,
          scheduleBackups: true,
          tickMs: 200,
          heartbeatEveryMs: 1000,
        });
        return reconciler;
      },
      branch: "main",
      log: createLogger({ stream: logStream, format: "json", level: "info" }),
      pollIntervalMs: 1000,
      listen: { host: "127.0.0.1", port: 0 },
      signal: stop.signal,
      onListening: (u) => {
        url = u;
      },
    });
    const metrics = async () => (await fetch(`${url}/metrics`)).text();
    const status = async (name: string): Promise<ClusterStatus | undefined> => {
      const body = (await (await fetch(`${url}/status`)).json()) as DaemonStatusBody;
      return body.clusters.find((c) => c.cluster === name);
    };
    const backupReady = async (name: string) =>
      conditionOf((await status(name))?.conditions ?? [], "BackupReady");

    try {
      // 1. Created by the daemon, and a snapshot of each appears with no command.
      for (const name of ["bk", "ot"])
        await waitFor(
          `${name} created`,
          async () => expect((await status(name))?.stackStatus).toBe("CREATE_COMPLETE"),
          {
            timeoutMs: 120_000,
            intervalMs: 500,
          },
        );
      // Keys for the snapshots to hold: the revision they record counts them.
      const [bkUrl] = await h.clientURLs(specOf("bk"));
      const client = createEtcdClient(bkUrl ?? "", { timeoutMs: 2000 });
      try {
        for (let i = 0; i < 50; i++) await client.put(`k/${i}`, "v".repeat(100));
      } finally {
        client.close();
      }
      const [bkNewest] = await waitFor(
        "a scheduled snapshot of bk in S3, holding the keys",
        async () => {
          const found = await good("bk");
          expect(Number(found[0]?.manifest?.revision)).toBeGreaterThanOrEqual(51);
          expect((await good("ot")).length).toBeGreaterThan(0);
          return found;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      // Never during the rollout: every one was taken after the stack's create completed.
      const created = await createdAt(specOf("bk"));
      expect(bkNewest!.at.getTime()).toBeGreaterThanOrEqual(created);
      expect(await oldestTakenAt("bk")).toBeGreaterThanOrEqual(created);

      // 2. /status and /metrics show the newest one.
      const shown = await waitFor(
        "BackupReady True for bk",
        async () => {
          const s = await status("bk");
          const c = conditionOf(s?.conditions ?? [], "BackupReady");
          expect(c?.status).toBe("True");
          return s;
        },
        { timeoutMs: 30_000, intervalMs: 300 },
      );
      const newest = shown?.backup?.newest;
      expect(Number(newest?.revision)).toBeGreaterThanOrEqual(51);
      expect(conditionOf(shown?.conditions ?? [], "BackupReady")).toMatchObject({
        reason: "BackupSucceeded",
        message: expect.stringMatching(
          /^the newest good snapshot bk\/\d{8}T\d{9}Z\.db is \d+s old, revision \d+, .+ \(every PT5S\)$/,
        ),
      });
      await waitFor("the metrics of bk's snapshots", async () => {
        const text = await metrics();
        expect(
          sample(text, "quorate_backup_last_success_timestamp_seconds", "bk"),
        ).toBeGreaterThanOrEqual(created / 1000);
        expect(sample(text, "quorate_backup_bytes", "bk")).toBeGreaterThan(0);
        expect(sample(text, "quorate_backup_duration_seconds_count", "bk")).toBeGreaterThanOrEqual(
          1,
        );
        expect(sample(text, "quorate_backup_failures_total", "bk")).toBe(0);
      });
      process.stdout.write(`before the fault: ${JSON.stringify(shown?.backup)}\n`);

      // 3. S3 fails for bk's prefix only.
      const before = await metrics();
      const faultAt = Date.now();
      await h.cloud.admin.s3Fault({ mode: "fail", bucket: BUCKET, keyPrefix: "bk/" });
      try {
        const failed = await waitFor(
          "BackupReady False for bk, with the S3 error",
          async () => {
            const c = await backupReady("bk");
            expect(c).toMatchObject({ status: "False", reason: "BackupFailed" });
            return c;
          },
          { timeoutMs: 30_000, intervalMs: 300 },
        );
        expect(failed?.message).toMatch(
          /^the scheduled snapshot failed \(attempt \d+\): snapshot of bk from i-\w+ failed after \d+ bytes: .*InternalError.*\. The newest good snapshot bk\/\S+ is \d+s old, revision \d+, .+\. It is tried again after \S+Z\. Fix quorate's access to s3:\/\/snaps\/bk\/ or the members' health; `quorate backup bk` tries at once$/,
        );
        process.stdout.write(`during the fault: ${failed?.message}\n`);
        // The second failure comes after a backoff; passes go on meanwhile, and ot's snapshots too.
        const during = await waitFor(
          "a second failure of bk, and a snapshot of ot taken under the fault",
          async () => {
            const text = await metrics();
            expect(sample(text, "quorate_backup_failures_total", "bk")).toBeGreaterThanOrEqual(2);
            expect((await good("ot")).some((s) => s.at.getTime() > faultAt)).toBe(true);
            return text;
          },
          { timeoutMs: 60_000, intervalMs: 500 },
        );
        const failures = sample(during, "quorate_backup_failures_total", "bk") ?? 0;
        const passesMeanwhile = passes(during) - passes(before);
        process.stdout.write(
          `under the fault: ${failures} failures of bk in ${passesMeanwhile} passes\n`,
        );
        expect(passesMeanwhile).toBeGreaterThan(failures);
        const bk = await status("bk");
        expect(bk?.backup?.failures).toBeGreaterThanOrEqual(1);
        const { lastFailure, nextAttemptAt } = bk?.backup ?? {};
        expect(
          Date.parse(nextAttemptAt ?? "") - Date.parse(lastFailure?.at ?? ""),
        ).toBeGreaterThanOrEqual(2_500);
        expect(conditionOf(bk?.conditions ?? [], "Ready")?.status).toBe("True");
        expect(await backupReady("ot")).toMatchObject({
          status: "True",
          reason: "BackupSucceeded",
        });
        const logged = lines.map((l) => JSON.parse(l)).find((l) => l.event === "backup-failed");
        expect(logged).toMatchObject({
          level: "warn",
          msg: expect.stringMatching(
            /^scheduled snapshot failed \(attempt 1, tried again after \S+\): .*InternalError/,
          ),
          cluster: "bk",
          event: "backup-failed",
          attempt: 1,
          retryAt: expect.any(String),
        });
      } finally {
        await h.cloud.admin.clearFaults();
      }

      // 4. The fault cleared: a new snapshot, BackupReady True again.
      const cleared = Date.now();
      const recovered = await waitFor(
        "BackupReady True for bk after the fault",
        async () => {
          const s = await status("bk");
          expect(conditionOf(s?.conditions ?? [], "BackupReady")).toMatchObject({
            status: "True",
            reason: "BackupSucceeded",
          });
          return s;
        },
        { timeoutMs: 90_000, intervalMs: 500 },
      );
      const after = recovered?.backup?.newest;
      expect(Date.parse(after?.takenAt ?? "")).toBeGreaterThan(cleared - 1000);
      expect((await good("bk")).map((s) => s.objectKey)).toContain(after?.key);
      const text = await metrics();
      expect(sample(text, "quorate_backup_last_success_timestamp_seconds", "bk")).toBe(
        Date.parse(after?.completedAt ?? "") / 1000,
      );
      expect(sample(text, "quorate_backup_failures_total", "bk")).toBeGreaterThanOrEqual(2);
      // Retention ran after each: never more than keepLast good ones.
      expect((await good("bk")).length).toBeLessThanOrEqual(3);
      process.stdout.write(`after the fault: ${JSON.stringify(recovered?.backup)}\n`);
    } finally {
      stop.abort();
      await daemon;
      await reconciler?.settle();
    }
  });
});

/** The oldest snapshot object of any state under the prefix (retention has kept them all so far). */
async function oldestTakenAt(name: string): Promise<number> {
  const all = await readCatalog(bucketFor({ aws: h.aws }, specOf(name)));
  return Math.min(...all.map((s) => s.at.getTime()));
}

/** When the local cloud recorded the stack's CREATE_COMPLETE. */
async function createdAt(spec: ClusterSpec): Promise<number> {
  const { StackEvents = [] } = await h
    .aws(spec.region)
    .cloudFormation.send(new DescribeStackEventsCommand({ StackName: spec.stackName }));
  const done = StackEvents.filter(
    (e) => e.LogicalResourceId === spec.stackName && e.ResourceStatus === "CREATE_COMPLETE",
  ).map((e) => e.Timestamp?.getTime() ?? 0);
  expect(done).toHaveLength(1);
  return done[0]!;
}
