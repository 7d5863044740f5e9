// The test helper other integration tests build on: addresses, restarts, cleanup.
import { existsSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { type EtcdTestCluster, startEtcdCluster } from "../helpers/etcdCluster.js";

describe("startEtcdCluster", () => {
  const started: EtcdTestCluster[] = [];
  afterAll(async () => {
    await Promise.all(started.map((c) => c.stop()));
  });

  it("gives each cluster and member its own loopback address and restarts members on their data", async () => {
    const [a, b] = await Promise.all([
      startEtcdCluster({ size: 1 }),
      startEtcdCluster({ size: 1 }),
    ]);
    started.push(a, b);
    const ips = [...a.members, ...b.members].map((m) => m.ip);
    expect(new Set(ips).size).toBe(2);
    for (const ip of ips) expect(ip).toMatch(/^127\.(1\d\d)\.\d+\.1$/);

    const before = a.members[0]?.id;
    await a.kill(0);
    expect(a.members[0]?.state).toBe("stopped");
    await a.restart(0);
    expect(a.members[0]).toMatchObject({ state: "running", id: before });
    const client = a.client(0);
    expect((await client.health()).healthy).toBe(true);
    client.close();
  });

  it("removes its directory on stop, and stop twice is fine", async () => {
    const cluster = await startEtcdCluster({ size: 1 });
    expect(existsSync(cluster.dir)).toBe(true);
    await cluster.stop();
    await cluster.stop();
    expect(existsSync(cluster.dir)).toBe(false);
  });

  it("fails clearly when etcd cannot start", async () => {
    await expect(startEtcdCluster({ size: 1, etcdBinary: "/nonexistent/etcd" })).rejects.toThrow(
      "could not start /nonexistent/etcd for m1; etcd 3.4+ must be installed (Debian: etcd-server)",
    );
  });
});
