// quorate's maintenance against a real 3-member etcd 3.4 on loopback: the
// defragmentation order is read from etcd's own answers, not from quorate's
// words. Every call of quorate goes through a recording loopback proxy (not a
// mock: it forwards bytes to the real members). For each defragment request
// it asks the member itself, directly, whether it leads at that moment, and
// notes when the request started and when etcd answered it.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEtcdClient } from "../../src/etcd/client.js";
import { probeCluster } from "../../src/etcd/probe.js";
import { runMaintenance } from "../../src/maintenance/maintain.js";
import { type EtcdTestCluster, startEtcdCluster } from "../helpers/etcdCluster.js";
import { TEST_GATES } from "../helpers/quorateHarness.js";

interface DefragCall {
  member: string;
  startedAt: number;
  answeredAt: number;
  /** What the member said of itself (POST /v3/maintenance/status) just before the request. */
  ledWhenAsked: boolean;
  dbSizeBefore: bigint;
  dbSizeAfter: bigint;
}

interface RecordingProxy {
  url: string;
  close(): Promise<void>;
}

function startProxy(target: string, name: string, calls: DefragCall[]): Promise<RecordingProxy> {
  const etcd = createEtcdClient(target);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const defrag = req.url === "/v3/maintenance/defragment";
      const before = defrag ? await etcd.status() : undefined;
      const startedAt = performance.now();
      const upstream = http.request(
        `${target}${req.url}`,
        { method: req.method, headers: req.headers },
        (answer) => {
          const body: Buffer[] = [];
          answer.on("data", (c: Buffer) => body.push(c));
          answer.on("end", async () => {
            if (before) {
              const answeredAt = performance.now();
              const after = await etcd.status();
              calls.push({
                member: name,
                startedAt,
                answeredAt,
                ledWhenAsked: before.leader === before.header.memberId,
                dbSizeBefore: before.dbSize,
                dbSizeAfter: after.dbSize,
              });
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(body));
          });
        },
      );
      upstream.on("error", () => {
        res.destroy();
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            etcd.close();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

let cluster: EtcdTestCluster;
const proxies: RecordingProxy[] = [];
const calls: DefragCall[] = [];

beforeAll(async () => {
  cluster = await startEtcdCluster({ size: 3 });
  await cluster.waitHealthy();
  for (const [i, endpoint] of cluster.endpoints.entries()) {
    proxies.push(await startProxy(endpoint, cluster.members[i]?.name ?? `m${i}`, calls));
  }
  // History to compact and pages to give back: the same keys written over and over.
  const writer = cluster.client(0);
  const value = "x".repeat(8 * 1024);
  for (let i = 0; i < 600; i++) await writer.put(`fill/${i % 20}`, value);
}, 120_000);

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await cluster?.stop();
});

describe("quorate maintain --compact --defrag (real etcd, through a recording proxy)", () => {
  it("defragments one member at a time, followers first, the leader last after leadership moved away", async () => {
    const endpoints = proxies.map((p) => p.url);
    const leaderBefore = (
      await Promise.all(
        cluster.endpoints.map((e, i) =>
          createEtcdClient(e)
            .status()
            .then((s) => ({ s, i })),
        ),
      )
    ).find(({ s }) => s.leader === s.header.memberId);
    expect(leaderBefore).toBeDefined();
    const leaderName = cluster.members[leaderBefore?.i ?? -1]?.name;

    const events: string[] = [];
    const outcome = await runMaintenance(
      {
        cluster: "test",
        gates: { ...TEST_GATES, deadMemberGrace: "PT3M", stableFor: "PT1S" },
        abortAfterMs: 30_000,
        quotaBytes: 2n * 1024n * 1024n * 1024n,
        etcd: {},
        intervalMs: 200,
        observe: async () => ({
          probe: await probeCluster(endpoints, { timeoutMs: 1000 }),
          desiredSize: 3,
        }),
        onEvent: (line) => events.push(line),
      },
      { steps: ["defrag", "compact"], keepRevisions: 10n },
    );
    expect(outcome.result, events.join("\n")).toBe("done");

    // Every member once, never two at once (each answer before the next request).
    expect(calls.map((c) => c.member).sort()).toEqual(cluster.members.map((m) => m.name).sort());
    for (let i = 1; i < calls.length; i++) {
      expect(calls[i]?.startedAt).toBeGreaterThanOrEqual(calls[i - 1]?.answeredAt ?? Infinity);
    }
    // The leader at the start went last, and no member led while it was defragmented.
    expect(calls[calls.length - 1]?.member).toBe(leaderName);
    expect(calls.map((c) => c.ledWhenAsked)).toEqual([false, false, false]);
    // Compaction ran first, so defragmentation gave space back on every member.
    for (const c of calls) expect(c.dbSizeAfter).toBeLessThan(c.dbSizeBefore);
  }, 120_000);
});
