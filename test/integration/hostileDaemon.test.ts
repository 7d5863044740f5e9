// Story (issue 19): hostile commits never stop supervision. `quorate run`, the
// real process, on the local cloud with real git and etcd, rolls a 3-member
// cluster to a new image. Once the first new instance has joined, two commits
// land: a 14 MB manifest (a cluster with 150,000 annotation keys, the input
// that once froze the daemon for minutes until a terminating hook expired on a
// voter) and a file whose document is a bare scalar. Throughout, /healthz
// answers within 1 s, the held hooks get their heartbeats, and no instance is
// terminated while etcd's member list still counts it as a voter. The rollout
// finishes on the new image; /status names each bad file (the 14 MB one by
// the 1 MiB cap, the scalar at file:line:column); and a later commit that
// deletes them is picked up, so the loop still polls. SIGTERM then stops it.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { createEtcdClient, type EtcdClient } from "../../src/etcd/client.js";
import { watchFaultTolerance } from "../../src/etcd/faultToleranceWatch.js";
import { restingFaultTolerance } from "../../src/etcd/roster.js";
import { localAmiId } from "../../src/localcloud/index.js";
import { conditionOf } from "../../src/reconcile/conditions.js";
import type { DaemonStatusBody } from "../../src/reconcile/server.js";
import { clusterManifest } from "../helpers/manifestRepo.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";
import { waitFor } from "../helpers/waitFor.js";
import { commit, createRemote, removeDir, tempDir } from "../source/gitRepos.js";

const MAIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const NEW_AMI = localAmiId("stable", "4152.2.0", "eu-west-1");
const CLIENT_PORT = 2379;

let h: Harness;
let root: string;
beforeAll(async () => {
  h = await startHarness();
  root = await tempDir("hostile-daemon");
});
afterAll(async () => {
  await h?.close();
  await removeDir(root);
});

const roll = (imageVersion?: string) =>
  stringify(clusterManifest({ name: "roll", size: 3, ...(imageVersion ? { imageVersion } : {}) }));

/** A valid-looking cluster of ~14 MB: 150,000 annotation keys under metadata. */
function hugeManifest(): string {
  const note = "x".repeat(76);
  const annotations = Array.from(
    { length: 150_000 },
    (_, i) => `    note-${String(i).padStart(6, "0")}: "${note}"`,
  );
  const { spec } = clusterManifest({ name: "huge", size: 3 });
  return [
    "apiVersion: quorate.dev/v1alpha1",
    "kind: EtcdCluster",
    "metadata:",
    "  name: huge",
    "  annotations:",
    ...annotations,
    stringify({ spec }),
  ].join("\n");
}

/** GET /healthz every 200 ms; every answer's latency, and what failed. */
function pollHealthz(url: () => string) {
  const latencies: number[] = [];
  const failures: string[] = [];
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      const started = Date.now();
      if (url()) {
        try {
          const response = await fetch(`${url()}/healthz`, { signal: AbortSignal.timeout(5000) });
          await response.text();
          if (response.status !== 200) failures.push(`HTTP ${response.status}`);
        } catch (error) {
          failures.push(error instanceof Error ? error.message : String(error));
        }
        latencies.push(Date.now() - started);
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 200 - (Date.now() - started))));
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
      return { latencies, failures, max: Math.max(0, ...latencies) };
    },
  };
}

/**
 * Every 100 ms, the instances the local cloud is terminating (shutting-down or
 * terminated) against etcd's member list as the members that stay in service
 * tell it (a departing member may not know it was removed): every instance
 * seen going while the list still held it as a voter.
 */
function watchDepartures() {
  const clients = new Map<string, EtcdClient>();
  const client = (url: string) => {
    let c = clients.get(url);
    if (!c) {
      c = createEtcdClient(url, { timeoutMs: 1000, keepAlive: true });
      clients.set(url, c);
    }
    return c;
  };
  const departed = new Set<string>();
  const violations: string[] = [];
  let samples = 0;
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      const started = Date.now();
      const state = await h.cloud.admin.state().catch(() => undefined);
      if (!state) break; // the local cloud is closing: the story has failed already
      const going = state.instances.filter(
        (i) => i.state === "shutting-down" || i.state === "terminated",
      );
      const staying = state.instances.filter((i) => {
        const inGroup = state.groups
          .flatMap((g) => g.instances)
          .find((g) => g.instanceId === i.instanceId);
        return i.state === "running" && inGroup?.lifecycleState === "InService";
      });
      const fresh = going.filter((i) => !departed.has(i.instanceId));
      if (fresh.length > 0) {
        let voters: string[] | undefined;
        for (const i of staying) {
          try {
            const { members } = await client(`http://${i.privateIp}:${CLIENT_PORT}`).memberList();
            voters = members.filter((m) => !m.isLearner).map((m) => m.name);
            break;
          } catch {
            // the next member
          }
        }
        for (const i of fresh) {
          // Unanswered: looked at again at the next sample.
          if (voters === undefined) continue;
          departed.add(i.instanceId);
          if (voters.includes(i.instanceId))
            violations.push(`${i.instanceId} ${i.state} while a voter of [${voters.join(", ")}]`);
        }
      }
      samples += 1;
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - started))));
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
      for (const c of clients.values()) c.close();
      return { samples, departed: [...departed], violations };
    },
  };
}

describe("hostile commits while quorate run rolls a cluster", () => {
  it("keeps /healthz and the hooks alive, terminates no voter, names both bad files, and keeps polling", async () => {
    const { remote, work } = await createRemote(root);
    await commit(work, { "clusters/roll.yaml": roll() }, "Add roll", { push: true });
    // Built before anything is measured: 14 MB of text takes the test's own event loop a moment.
    const huge = hugeManifest();
    expect(huge.length).toBeGreaterThan(14_000_000);

    const lines: string[] = [];
    const logged = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const child: ChildProcess = spawn(
      process.execPath,
      [
        MAIN,
        "run",
        "--repo",
        remote,
        "--branch",
        "main",
        "--endpoint",
        h.endpoint,
        "--listen",
        "127.0.0.1:0",
        "--interval",
        "PT1S",
        "--tick",
        "200",
        "--heartbeat-every",
        "PT1S",
        "--log-format",
        "json",
        "--cache-dir",
        join(root, "cache"),
      ],
      {
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      },
    );
    let pending = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      const parts = (pending + chunk.toString()).split("\n");
      pending = parts.pop() ?? "";
      lines.push(...parts.filter((l) => l.startsWith("{")));
    });
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    const tail = () => lines.slice(-20).join("\n");
    const event = (type: string, also: (l: Record<string, unknown>) => boolean = () => true) =>
      logged().some((l) => l.event === type && also(l));

    let url = "";
    const healthz = pollHealthz(() => url);
    let watchers: { stop(): Promise<unknown> }[] = [];
    let stopped = false;
    try {
      url = await waitFor(
        "the daemon listening",
        () => {
          const line = logged().find((l) => typeof l.url === "string");
          return line ? String(line.url) : false;
        },
        { timeoutMs: 30_000 },
      );
      const status = async () =>
        (await (
          await fetch(`${url}/status`, { signal: AbortSignal.timeout(5000) })
        ).json()) as DaemonStatusBody;
      const cluster = async (name: string) =>
        (await status()).clusters.find((c) => c.cluster === name);

      await waitFor(
        "roll created",
        async () => expect((await cluster("roll"))?.stackStatus).toBe("CREATE_COMPLETE"),
        { timeoutMs: 90_000, intervalMs: 500 },
      );
      const before = await h.cloud.admin.state();
      const tolerance = watchFaultTolerance({
        endpoints: () => before.instances.map((i) => `http://${i.privateIp}:${CLIENT_PORT}`),
        resting: restingFaultTolerance(3),
      });
      const departures = watchDepartures();
      watchers = [tolerance, departures];
      await h.cloud.admin.resetCounters();
      const rolloutStarted = Date.now();
      await commit(work, { "clusters/roll.yaml": roll("4152.2.0") }, "Upgrade roll", {
        push: true,
      });

      // The hostile commits land mid-rollout: the first new instance has joined as a learner.
      await waitFor("the first learner added", () => expect(event("learner-added")).toBe(true), {
        timeoutMs: 60_000,
        intervalMs: 100,
      });
      const hugeSha = await commit(work, { "clusters/huge.yaml": huge }, "Add a 14 MB manifest", {
        push: true,
      });
      await waitFor(
        "the 14 MB commit synced",
        async () => expect((await status()).source.revision).toBe(hugeSha),
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      const scalarSha = await commit(
        work,
        { "clusters/scalar.yaml": "hello\n" },
        "Add a scalar document",
        { push: true },
      );
      const reported = await waitFor(
        "both bad files named in /status",
        async () => {
          const body = await status();
          expect(body.source.revision).toBe(scalarSha);
          const stalled = body.clusters
            .map((c) => conditionOf(c.conditions, "Stalled"))
            .filter((c) => c?.status === "True" && c.reason === "InvalidManifest")
            .map((c) => c?.message ?? "");
          expect(stalled).toEqual(
            expect.arrayContaining([
              expect.stringMatching(
                /^clusters\/huge\.yaml:1:1: is 1\d{7} bytes, more than the 1048576 bytes \(1 MiB\)/,
              ),
              expect.stringMatching(/^clusters\/scalar\.yaml:1:1: the document is not a map/),
            ]),
          );
          return stalled;
        },
        { timeoutMs: 30_000, intervalMs: 300 },
      );
      // The rollout was still going when both were reported.
      expect(
        event("done", (l) => String(l.msg).includes("UPDATE_COMPLETE")),
        tail(),
      ).toBe(false);

      await waitFor(
        "the rollout finished",
        async () => expect((await cluster("roll"))?.stackStatus).toBe("UPDATE_COMPLETE"),
        { timeoutMs: 120_000, intervalMs: 500 },
      );
      const rolloutMs = Date.now() - rolloutStarted;
      await waitFor(
        "the last old instance gone",
        async () => {
          const state = await h.cloud.admin.state();
          const live = state.instances.filter((i) => i.state !== "terminated");
          expect(live.map((i) => i.imageId)).toEqual([NEW_AMI, NEW_AMI, NEW_AMI]);
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      const gone = await departures.stop();
      const measured = await tolerance.stop();
      const counters = await h.cloud.admin.counters();

      // The loop still polls: a later good commit is picked up.
      const cleanSha = await commit(
        work,
        { "clusters/huge.yaml": null, "clusters/scalar.yaml": null },
        "Remove the bad files",
        { push: true },
      );
      await waitFor(
        "the clean commit observed",
        async () => {
          const body = await status();
          expect(body.clusters.find((c) => c.cluster === "roll")?.observedRevision).toBe(cleanSha);
          expect(body.clusters.map((c) => c.cluster)).toEqual(["roll"]);
        },
        { timeoutMs: 30_000, intervalMs: 300 },
      );
      const health = await healthz.stop();

      process.stdout.write(
        `hostile daemon: /healthz ${health.latencies.length} answers, max ${health.max} ms; rollout ${rolloutMs} ms; ${gone.samples} departure samples, ${gone.departed.length} instances gone; tolerance ${measured.samples} samples, ${measured.msBelowResting} ms below resting (lowest ${measured.minTolerates}); ${counters["autoscaling:RecordLifecycleActionHeartbeat"] ?? 0} heartbeats\nreported:\n  ${reported.join("\n  ")}\n`,
      );
      expect(health.failures).toEqual([]);
      expect(health.latencies.length).toBeGreaterThan(50);
      expect(health.max).toBeLessThan(1000);
      expect(gone.violations).toEqual([]);
      expect(gone.departed).toHaveLength(3);
      // Below resting only for the instant of a membership call (a sample or two), as at rest.
      expect(measured.msBelowResting).toBeLessThanOrEqual(2000);
      expect(counters["autoscaling:RecordLifecycleActionHeartbeat"] ?? 0).toBeGreaterThan(0);
      expect(event("error"), tail()).toBe(false);

      // A bounded stop: SIGTERM with nothing in flight ends the process at once, cleanly.
      const stopAt = Date.now();
      child.kill("SIGTERM");
      const code = await Promise.race([
        exited,
        new Promise<string>((r) => setTimeout(() => r("still running"), 15_000)),
      ]);
      stopped = true;
      expect(code).toBe(0);
      expect(Date.now() - stopAt).toBeLessThan(15_000);
    } finally {
      await healthz.stop();
      await Promise.all(watchers.map((w) => w.stop()));
      if (!stopped) {
        child.kill("SIGKILL");
        await exited;
      }
    }
  });
});
