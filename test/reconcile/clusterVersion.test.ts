// The live version rules apply meets: the members' versions against the
// manifest's before executing, and the cluster version after a minor upgrade.
// confirmClusterVersion talks HTTP to loopback servers that answer GET /version
// as etcd 3.5 members would: only etcd 3.4 runs on this machine, so a cluster
// whose version moves to 3.5 cannot be started here (the real-etcd story in
// test/integration/etcdVersionSteps.test.ts shows the 3.4 side).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { GateResult } from "../../src/etcd/gate.js";
import type { MemberVersion } from "../../src/etcd/versionRules.js";
import {
  confirmClusterVersion,
  liveVersionRefusal,
  minorUpgradeTarget,
} from "../../src/reconcile/clusterVersion.js";

function gateWith(versions: MemberVersion[]): GateResult {
  return {
    passed: true,
    at: 0,
    checks: [],
    failed: [],
    summary: {
      judged: versions.length,
      healthyVoters: versions.length,
      leaderDeparting: false,
      departing: [],
      joining: [],
      heldForMs: 0,
      stableForMs: 0,
      versions,
    },
  };
}

const three = (version: string) =>
  ["i-1", "i-2", "i-3"].map((name) => ({ name, version }) as MemberVersion);

describe("liveVersionRefusal: what the members run against spec.etcd.version", () => {
  it.each([
    ["3.4.23", "3.5.26"],
    ["3.5.26", "3.6.0"],
    ["3.5.17", "3.5.21"],
    ["3.5.21", "3.5.17"],
    ["3.5.17", "3.5.17"],
  ])("allows %s → %s", (from, to) => {
    expect(liveVersionRefusal(gateWith(three(from)), to)).toBeUndefined();
  });

  it("refuses a minor skip from what the members really run, with the step to take", () => {
    const message = liveVersionRefusal(gateWith(three("3.4.23")), "3.6.0");
    expect(message).toMatch(/^the members' etcd versions refuse spec\.etcd\.version 3\.6\.0: /);
    expect(message).toMatch(/etcd 3\.4\.23 → 3\.6\.0 skips 3\.5/);
    expect(message).toMatch(/set spec\.etcd\.version to 3\.5\.26, apply/);
  });

  it("refuses a downgrade below what the members run", () => {
    expect(liveVersionRefusal(gateWith(three("3.5.17")), "3.4.23")).toMatch(
      /is a downgrade: etcd before 3\.6 cannot downgrade.*restore a snapshot/,
    );
  });

  it("refuses going back from the newest version of a mixed cluster, naming the members", () => {
    const mixed = [
      { name: "i-1", version: "3.4.23" },
      { name: "i-2", version: "3.5.26" },
      { name: "i-3", version: "3.5.26" },
    ];
    expect(liveVersionRefusal(gateWith(mixed), "3.4.23")).toMatch(
      /3\.4\.23 \(i-1\), 3\.5\.26 \(i-2, i-3\).*only continuing towards the newest, 3\.5\.26/,
    );
    expect(liveVersionRefusal(gateWith(mixed), "3.5.26")).toBeUndefined();
  });

  it("says nothing when no member reported a version", () => {
    expect(liveVersionRefusal(gateWith([]), "3.6.0")).toBeUndefined();
  });
});

describe("minorUpgradeTarget", () => {
  it("is the target of a minor upgrade only", () => {
    const step = (s: "minor-upgrade" | "patch-upgrade") => ({
      etcdVersion: { from: "3.4.23", to: "3.5.26", allowed: true as const, step: s, message: "" },
    });
    expect(minorUpgradeTarget(step("minor-upgrade"))).toBe("3.5.26");
    expect(minorUpgradeTarget(step("patch-upgrade"))).toBeUndefined();
    expect(minorUpgradeTarget({})).toBeUndefined();
  });
});

describe("confirmClusterVersion against members answering GET /version", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  /** A member answering with the cluster version answer(n) on its n-th call (0-based). */
  async function member(server: string, answer: (n: number) => string | "silent") {
    let calls = 0;
    const s = createServer((_req, res) => {
      const cluster = answer(calls++);
      if (cluster === "silent") return; // never answers: the client's timeout ends it
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ etcdserver: server, etcdcluster: cluster }));
    });
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }

  it("waits until etcd moves the cluster version, then reports it reached", async () => {
    const endpoints = [
      await member("3.5.26", (n) => (n < 2 ? "3.4.0" : "3.5.0")),
      await member("3.5.26", () => "3.5.0"),
    ];
    const check = await confirmClusterVersion({
      endpoints,
      etcd: { timeoutMs: 500 },
      target: "3.5.26",
      waitMs: 5000,
      intervalMs: 50,
    });
    expect(check).toMatchObject({ reached: true, clusterVersion: "3.5.0" });
    expect(check.message).toMatch(
      /^cluster version 3\.5, as the manifest's 3\.5\.26 wants; members run 3\.5\.26/,
    );
  });

  it("reports the member that holds it back when the time is up, leaving out a silent one", async () => {
    const endpoints = [
      await member("3.4.23", () => "3.4.0"),
      await member("3.5.26", () => "3.4.0"),
      await member("3.5.26", () => "silent"),
    ];
    const started = Date.now();
    const check = await confirmClusterVersion({
      endpoints,
      etcd: { timeoutMs: 200 },
      target: "3.5.26",
      waitMs: 600,
      intervalMs: 100,
    });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(check).toMatchObject({ reached: false, clusterVersion: "3.4.0" });
    expect(check.message).toMatch(
      /^the cluster version is 3\.4, not 3\.5 .*members run 3\.4\.23 \(127\.0\.0\.1\), 3\.5\.26 \(127\.0\.0\.1\)/,
    );
    expect(check.message).toMatch(/check the members still on another version/);
  });

  it("says the cluster version is unknown when no member answers", async () => {
    const check = await confirmClusterVersion({
      endpoints: [await member("3.5.26", () => "silent")],
      etcd: { timeoutMs: 100 },
      target: "3.5.26",
      waitMs: 150,
      intervalMs: 50,
    });
    expect(check).toMatchObject({ reached: false });
    expect(check.message).toMatch(/not known yet .*no member answered/);
  });
});
