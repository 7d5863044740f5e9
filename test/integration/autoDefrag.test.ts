// spec.maintenance.autoDefrag in `quorate run`, on the local cloud with a real
// 3-member etcd 3.4: an operator's keys are rewritten over and over and the
// history compacted, so every member's database is mostly free pages. The
// daemon shows it in its metrics; then a commit turns autoDefrag on (no
// template change, so no rollout) and, with no command, the daemon
// defragments every member, one at a time, the leader last. What happened is
// read from etcd itself: each member's own status (dbSize) and its own log
// ("starting defragment" / "finished defragment", with times), not from
// quorate's words. Every wait is bounded.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { runDaemon } from "../../src/cli/daemon.js";
import { createLogger } from "../../src/cli/log.js";
import { createEtcdClient } from "../../src/etcd/client.js";
import { createReconciler, type Reconciler } from "../../src/reconcile/reconciler.js";
import type { RolloutEvent } from "../../src/reconcile/rollout/events.js";
import { createAmiFeed } from "../../src/render/ami.js";
import { createGitSource } from "../../src/source/git.js";
import { clusterManifest } from "../helpers/manifestRepo.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";
import { waitFor } from "../helpers/waitFor.js";
import { commit, createRemote, removeDir, tempDir } from "../source/gitRepos.js";

const NAME = "frag";
const MiB = 1024 * 1024;

let h: Harness;
let root: string;
beforeAll(async () => {
  h = await startHarness();
  root = await tempDir("auto-defrag");
});
afterAll(async () => {
  await h?.close();
  await removeDir(root);
});

const manifest = (maintenance?: Record<string, unknown>) =>
  stringify(
    clusterManifest({ name: NAME, size: 3, ...(maintenance ? { spec: { maintenance } } : {}) }),
  );

/** `{member: value}` of one per-member metric family of cluster frag. */
async function perMember(url: string, name: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Record<string, number> = {};
  const line = new RegExp(`^${name}\\{cluster="${NAME}",member="([^"]+)"\\} (\\S+)$`, "gm");
  for (const m of text.matchAll(line)) out[m[1] ?? ""] = Number(m[2]);
  return out;
}

async function metric(url: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

interface Defragmentation {
  instanceId: string;
  started: number;
  finished: number;
}

/** What each member's etcd logged of its defragmentations (zap JSON lines, ms times). */
function defragmentationsInLogs(instanceIds: readonly string[]): Defragmentation[] {
  const found: Defragmentation[] = [];
  for (const instanceId of instanceIds) {
    const log = readFileSync(join(h.cloud.dataDir, "instances", instanceId, "etcd.log"), "utf8");
    let started: number | undefined;
    for (const text of log.split("\n")) {
      if (!text.startsWith("{")) continue;
      const line = JSON.parse(text) as { msg?: string; ts?: string };
      if (line.msg === "starting defragment") started = Date.parse(line.ts ?? "");
      if (line.msg === "finished defragment" && started !== undefined) {
        found.push({ instanceId, started, finished: Date.parse(line.ts ?? "") });
        started = undefined;
      }
    }
  }
  return found.sort((a, b) => a.started - b.started);
}

describe("quorate run with spec.maintenance.autoDefrag", () => {
  it("defragments a fragmented cluster on its own, one member at a time, the leader last", async () => {
    const { remote, work } = await createRemote(root);
    await commit(work, { [`clusters/${NAME}.yaml`]: manifest() }, "Add frag", { push: true });
    const stop = new AbortController();
    const events: RolloutEvent[] = [];
    const logged: string[] = [];
    const logStream = new PassThrough();
    logStream.on("data", (chunk: Buffer) => logged.push(...chunk.toString().trim().split("\n")));
    let reconciler: Reconciler | undefined;
    let url = "";
    const daemon = runDaemon({
      reconciler: (onEvent) => {
        reconciler = createReconciler({
          source: createGitSource({ repo: remote, branch: "main", cacheDir: join(root, "cache") }),
          path: "clusters",
          aws: h.aws,
          amiFeed: createAmiFeed({
            source: `${h.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
          }),
          etcd: {},
          onEvent,
          waitForRollouts: false,
          autoDefrag: true,
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
      onEvent: (event) => events.push(event),
      onListening: (u) => {
        url = u;
      },
    });
    daemon.catch(() => {});
    const status = () => reconciler?.statuses().find((s) => s.cluster === NAME);
    try {
      await waitFor(
        "frag created and Ready",
        () => {
          expect(status()?.stackStatus).toBe("CREATE_COMPLETE");
          expect(status()?.conditions.find((c) => c.type === "Ready")?.status).toBe("True");
        },
        { timeoutMs: 180_000, intervalMs: 250 },
      );
      // The helper reads the group through a spec: the example's, named as this stack.
      const spec = { ...h.spec("dev"), region: "eu-west-1", stackName: `quorate-${NAME}` };
      const urls = await waitFor("three members in service", async () => {
        const list = (await h.instances(spec))
          .filter((i) => i.state === "InService" && i.ip)
          .map((i) => ({ instanceId: i.instanceId, url: `http://${i.ip}:2379` }));
        return list.length === 3 ? list : false;
      });
      const clients = urls.map((u) => ({ ...u, etcd: createEtcdClient(u.url) }));
      try {
        // Fragment: the same keys rewritten, then the history compacted away.
        const writer = clients[0]?.etcd;
        if (!writer) throw new Error("no member");
        const value = "x".repeat(8 * 1024);
        for (let i = 0; i < 600; i++) await writer.put(`fill/${i % 20}`, value);
        const { header } = await writer.status();
        await writer.compact(header.revision, { timeoutMs: 60_000 });

        // Before: the daemon's own probe shows every member mostly free pages.
        const before = await waitFor(
          "metrics show three fragmented databases",
          async () => {
            // bbolt frees a commit's pages only at a later write transaction: one small write each round.
            await writer.put("nudge", String(Date.now()));
            const ratios = await perMember(url, "quorate_etcd_db_fragmentation_ratio");
            const sizes = await perMember(url, "quorate_etcd_db_size_bytes");
            expect(Object.keys(ratios).sort()).toEqual(clients.map((c) => c.instanceId).sort());
            const seen = JSON.stringify({ ratios, sizes });
            for (const r of Object.values(ratios)) expect(r, seen).toBeGreaterThan(0.5);
            for (const s of Object.values(sizes)) expect(s, seen).toBeGreaterThan(MiB);
            return sizes;
          },
          { timeoutMs: 60_000, intervalMs: 500 },
        );
        expect(defragmentationsInLogs(clients.map((c) => c.instanceId))).toEqual([]);
        const leaderBefore = await leaderOf(clients);

        // Turning it on changes no template: nothing rolls, the daemon defragments.
        await commit(
          work,
          {
            [`clusters/${NAME}.yaml`]: manifest({
              autoDefrag: true,
              minDbSizeBytes: MiB,
              minInterval: "PT1S",
            }),
          },
          "frag: autoDefrag on",
          { push: true },
        );
        await waitFor(
          "every member defragmented, per its own status",
          async () => {
            for (const c of clients) {
              const s = await c.etcd.status();
              expect(Number(s.dbSize)).toBeLessThan((before[c.instanceId] ?? 0) / 2);
            }
          },
          { timeoutMs: 150_000, intervalMs: 500 },
        );

        // etcd's logs: one defragmentation per member, never two at once, the leader last.
        const done = defragmentationsInLogs(clients.map((c) => c.instanceId));
        expect(done.map((d) => d.instanceId).sort()).toEqual(
          clients.map((c) => c.instanceId).sort(),
        );
        for (let i = 1; i < done.length; i++)
          expect(done[i]?.started).toBeGreaterThanOrEqual(done[i - 1]?.finished ?? Infinity);
        expect(done.at(-1)?.instanceId).toBe(leaderBefore);
        expect(await leaderOf(clients)).not.toBe(leaderBefore);
        expect(events.map((e) => e.message)).toContainEqual(
          expect.stringMatching(/^moved leadership from .* before defragmenting it$/),
        );

        // After: the metrics follow at the next probe, and count three done.
        await waitFor(
          "metrics show the smaller databases",
          async () => {
            const sizes = await perMember(url, "quorate_etcd_db_size_bytes");
            for (const c of clients)
              expect(sizes[c.instanceId]).toBeLessThan((before[c.instanceId] ?? 0) / 2);
            const ratios = await perMember(url, "quorate_etcd_db_fragmentation_ratio");
            for (const r of Object.values(ratios)) expect(r).toBeLessThan(0.5);
            expect(await metric(url, `quorate_defrag_total{cluster="${NAME}",result="done"}`)).toBe(
              3,
            );
          },
          { timeoutMs: 30_000, intervalMs: 500 },
        );
        // The log says it in structured lines; nothing rolled.
        const lines = logged.map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(
          lines.filter((l) => l.event === "defrag" && l.result === "done").map((l) => l.cluster),
        ).toEqual([NAME, NAME, NAME]);
        expect(status()?.stackStatus).toBe("CREATE_COMPLETE");
        expect(events.filter((e) => e.type === "member-removed")).toEqual([]);
      } finally {
        for (const c of clients) c.etcd.close();
      }
    } finally {
      stop.abort();
      await daemon.catch(() => {});
    }
  }, 420_000);
});

/** The instance whose member leads, by what each member says of itself. */
async function leaderOf(
  clients: { instanceId: string; etcd: ReturnType<typeof createEtcdClient> }[],
) {
  for (const c of clients) {
    const s = await c.etcd.status();
    if (s.leader === s.header.memberId) return c.instanceId;
  }
  return undefined;
}
