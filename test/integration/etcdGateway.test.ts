// The etcd gateway client, probes, gate and membership operations against real
// etcd 3.4 processes on loopback (test/helpers/etcdCluster.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEtcdClient } from "../../src/etcd/client.js";
import { EtcdRequestError, isEtcdError } from "../../src/etcd/errors.js";
import {
  evaluateGate,
  formatGateResult,
  type GateExpectation,
  type GateMemory,
} from "../../src/etcd/gate.js";
import { createMembership } from "../../src/etcd/membership.js";
import { type ProbeOptions, probeCluster } from "../../src/etcd/probe.js";
import type { ClusterProbe } from "../../src/etcd/types.js";
import type { GatePolicy } from "../../src/manifest/types.js";
import {
  type EtcdTestCluster,
  opensslAvailable,
  startEtcdCluster,
} from "../helpers/etcdCluster.js";
import { waitFor } from "../helpers/waitFor.js";

const policy: GatePolicy = {
  stableFor: "PT1S",
  maxAppliedIndexLag: 1000,
  abortAfter: "PT15M",
  deadMemberGrace: "PT3M",
  probeTimeout: "PT1S",
};

function probeOf(
  cluster: EtcdTestCluster,
  extra: ProbeOptions = {},
  endpoints = cluster.endpoints,
) {
  return probeCluster(endpoints, { ...cluster.clientOptions, timeoutMs: 1000, ...extra });
}

/** Probes and evaluates until the gate passes (or `timeoutMs` runs out); returns the last result. */
async function gateUntilPassed(
  cluster: EtcdTestCluster,
  expectation: GateExpectation,
  timeoutMs = 10_000,
) {
  let memory: GateMemory | undefined;
  return waitFor(
    "the gate to pass",
    async () => {
      const probe = await probeOf(cluster);
      const evaluated = evaluateGate(probe, expectation, policy, memory, probe.at);
      memory = evaluated.memory;
      if (!evaluated.result.passed) throw new Error(formatGateResult(evaluated.result));
      return evaluated.result;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

/** Running members that do not lead right now, in index order. */
async function followerIndexes(cluster: EtcdTestCluster): Promise<number[]> {
  const running = cluster.members.filter((m) => m.state === "running");
  const membership = createMembership({
    ...cluster.clientOptions,
    endpoints: running.map((m) => m.clientURL),
  });
  try {
    const leader = await membership.findLeader();
    if (leader === undefined) throw new Error("no leader");
    return running.filter((m) => m.id !== leader.id).map((m) => m.index);
  } finally {
    membership.close();
  }
}

async function followerIndex(cluster: EtcdTestCluster): Promise<number> {
  const [index] = await followerIndexes(cluster);
  if (index === undefined) throw new Error("no follower");
  return index;
}

/** One evaluation on its own (the stable clock starts at this probe). */
const gateOnce = (probe: ClusterProbe, expectation: GateExpectation) =>
  evaluateGate(probe, expectation, policy, undefined, probe.at).result;

const idOf = (cluster: EtcdTestCluster, index: number): bigint => {
  const id = cluster.members[index]?.id;
  if (id === undefined) throw new Error(`member ${index} has no id yet`);
  return id;
};

describe("a healthy 3-member cluster through the gateway", () => {
  let cluster: EtcdTestCluster;
  beforeAll(async () => {
    cluster = await startEtcdCluster({ size: 3 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("probes every member and the gate passes once stableFor has held", async () => {
    const probe = await probeOf(cluster, { linearizableRead: true });
    expect(probe.members?.map((m) => m.name).sort()).toEqual(["m1", "m2", "m3"]);
    expect(probe.memberListDisagreements).toEqual([]);
    expect(probe.alarms).toEqual([]);
    for (const ep of probe.endpoints) {
      expect(ep).toMatchObject({
        reachable: true,
        health: { healthy: true },
        linearizableRead: { ok: true },
      });
      expect(ep.status?.leader).not.toBe(0n);
    }
    // Ids round-trip as bigint, whatever their size.
    expect(probe.members?.map((m) => m.id).sort()).toEqual(cluster.members.map((m) => m.id).sort());

    const first = gateOnce(probe, { desiredSize: 3 });
    expect(first.failed).toEqual(["stable"]);

    const result = await gateUntilPassed(cluster, { desiredSize: 3 });
    expect(result.failed).toEqual([]);
    expect(formatGateResult(result)).toMatch(
      /^gate PASSED: 3\/3 healthy, leader m[123], lag \d+, stable 1s, tolerates 1 failure, etcd 3\.4\.\d+$/,
    );
  });

  it("writes and reads keys (base64 on the wire) linearizably and serializably", async () => {
    const client = cluster.client(0);
    try {
      await client.put("quorate/test/ключ", "value ✓");
      const read = await cluster.client(1).range("quorate/test/ключ");
      expect(read.kvs).toMatchObject([{ key: "quorate/test/ключ", value: "value ✓", version: 1n }]);
      expect(read.count).toBe(1n);
      const local = await cluster.client(2).range("quorate/test/ключ", { serializable: true });
      expect(local.kvs[0]?.value).toBe("value ✓");
    } finally {
      client.close();
    }
  });

  it("a NOSPACE alarm activated through the gateway fails no-alarms until DEACTIVATE clears it", async () => {
    const client = cluster.client(0);
    const memberId = idOf(cluster, 0);
    try {
      expect(await client.activateAlarm(memberId, "NOSPACE")).toEqual([
        { memberId, alarm: "NOSPACE" },
      ]);
      const probe = await probeOf(cluster);
      const result = gateOnce(probe, { desiredSize: 3 });
      const noAlarms = result.checks.find((c) => c.name === "no-alarms");
      expect(noAlarms?.passed).toBe(false);
      expect(noAlarms?.message).toContain(
        `NOSPACE alarm raised by m1 (${cluster.members[0]?.clientURL})`,
      );
      // etcd 3.4 reports every member unhealthy while an alarm is active; the gate says why.
      expect(result.checks.find((c) => c.name === "members-healthy")?.message).toContain(
        "see no-alarms",
      );

      const write = client.put("quorate/test/full", "x");
      await expect(write).rejects.toBeInstanceOf(EtcdRequestError);
      await write.catch((error: unknown) => {
        expect(isEtcdError(error, "noSpace")).toBe(true);
        expect((error as EtcdRequestError).message).toContain(
          "etcdserver: mvcc: database space exceeded",
        );
      });
    } finally {
      await client.deactivateAlarm(memberId, "NOSPACE");
      client.close();
    }
    const result = await gateUntilPassed(cluster, { desiredSize: 3 });
    expect(result.checks.find((c) => c.name === "no-alarms")).toMatchObject({
      passed: true,
      message: "no alarms",
    });
    expect(result.passed).toBe(true);
  });

  it("transfers leadership away from the leader to a caught-up voter", async () => {
    const membership = createMembership({ ...cluster.clientOptions, endpoints: cluster.endpoints });
    try {
      const before = await membership.findLeader();
      expect(before).toBeDefined();
      if (!before) return;
      const follower = cluster.members.find((m) => m.id !== before.id)?.id ?? 0n;
      expect(await membership.transferLeadershipAway(follower)).toEqual({
        moved: false,
        from: follower,
        leader: before.id,
      });

      const transfer = await membership.transferLeadershipAway(before.id, { timeoutMs: 10_000 });
      expect(transfer.moved).toBe(true);
      expect(transfer.leader).not.toBe(before.id);
      const after = await membership.findLeader();
      expect(after?.id).toBe(transfer.leader);
    } finally {
      membership.close();
    }
  });

  it("reports a paused (SIGSTOP) member as unreachable within the probe timeout", async () => {
    // Pause a follower: with the leader paused the others also stall until they elect a new one.
    const index = await followerIndex(cluster);
    const others = cluster.members.filter((m) => m.index !== index);
    const paused = cluster.members[index];
    if (!paused) throw new Error("no follower to pause");
    cluster.pause(index);
    try {
      const started = Date.now();
      const probe = await probeOf(cluster, { timeoutMs: 800 });
      // Bounded by the call time limit (all calls run in parallel), with slack for a loaded machine.
      expect(Date.now() - started).toBeLessThan(800 + 1500);
      expect(probe.endpoints[index]).toMatchObject({
        reachable: false,
        error: "no answer within 800 ms",
      });
      for (const other of others) {
        expect(probe.endpoints[other.index]).toMatchObject({
          reachable: true,
          health: { healthy: true },
        });
      }
      const result = gateOnce(probe, { desiredSize: 3 });
      const healthy = result.checks.find((c) => c.name === "members-healthy");
      expect(healthy?.message).toBe(
        `${paused.name} (${paused.clientURL}) does not answer (no answer within 800 ms); check the instance and its etcd service`,
      );
      expect(result.failed).toEqual(["members-healthy", "stable"]);
    } finally {
      cluster.resume(index);
    }
    await cluster.waitHealthy();
  });

  it("a killed follower fails the gate by name while the others stay fine, and passes again after restart", async () => {
    const index = await followerIndex(cluster);
    const killed = cluster.members[index];
    await cluster.kill(index);
    const probe = await probeOf(cluster);
    const result = gateOnce(probe, { desiredSize: 3 });
    const byName = Object.fromEntries(result.checks.map((c) => [c.name, c]));
    expect(byName["members-healthy"]).toEqual({
      name: "members-healthy",
      passed: false,
      message: `${killed?.name} (${killed?.clientURL}) does not answer (connection refused); check the instance and its etcd service`,
    });
    expect(result.failed).toEqual(["members-healthy", "stable"]);
    expect(formatGateResult(result)).toBe(
      `gate FAILED: members-healthy: ${byName["members-healthy"]?.message}; tolerates 0 failures (1 at rest)`,
    );
    expect(result.summary.faultTolerance).toEqual({
      voters: 3,
      healthyVoters: 2,
      tolerates: 0,
      resting: 1,
    });

    await cluster.restart(index);
    expect((await gateUntilPassed(cluster, { desiredSize: 3 })).passed).toBe(true);
  });

  it("a killed leader: first the gate says the others follow a dead leader, then it names only the dead member", async () => {
    const membership = createMembership({ ...cluster.clientOptions, endpoints: cluster.endpoints });
    const leader = await membership.findLeader();
    membership.close();
    const index = cluster.members.findIndex((m) => m.id === leader?.id);
    const killed = cluster.members[index];
    const dead = `${killed?.name} (${killed?.clientURL}) does not answer (connection refused); check the instance and its etcd service`;
    await cluster.kill(index);
    try {
      // Right after the kill the followers still name it as leader (until their election timeout).
      const seen = new Set<string>();
      const result = await waitFor(
        "the gate to name only the dead member",
        async () => {
          const now = gateOnce(await probeOf(cluster), { desiredSize: 3 });
          for (const name of now.failed) seen.add(name);
          if (now.checks[0]?.message !== dead || now.failed.length > 2) {
            throw new Error(formatGateResult(now));
          }
          return now;
        },
        { timeoutMs: 10_000, intervalMs: 200 },
      );
      expect(seen.has("single-leader")).toBe(true);
      expect(result.failed, formatGateResult(result)).toEqual(["members-healthy", "stable"]);
      expect(result.checks[0]?.message).toBe(dead);
      expect(result.summary.leader?.id).not.toBe(leader?.id);
    } finally {
      await cluster.restart(index);
    }
  });
});

describe("membership operations on a real cluster", () => {
  let cluster: EtcdTestCluster;
  beforeAll(async () => {
    cluster = await startEtcdCluster({ size: 3 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  const membershipOf = () =>
    createMembership({
      ...cluster.clientOptions,
      endpoints: cluster.endpoints,
      operationTimeoutMs: 20_000,
    });

  it("adds a learner, starts it with --initial-cluster-state existing, and promotes it once caught up", async () => {
    const learner = await cluster.startLearner();
    const id = learner.id ?? 0n;
    const membership = membershipOf();
    try {
      // Adding the same peer URL again returns the member already there.
      expect(await membership.addLearner(learner.peerURL)).toEqual({ id, added: false });

      const probe = await probeOf(cluster);
      expect(probe.members?.find((m) => m.id === id)).toMatchObject({
        name: "m4",
        isLearner: true,
      });
      const joining = gateOnce(probe, { desiredSize: 4, joining: [id] });
      expect(joining.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(["stable"]);
      const notJoining = gateOnce(probe, { desiredSize: 4 });
      expect(notJoining.checks.find((c) => c.name === "members-healthy")?.message).toBe(
        `m4 (${learner.clientURL}) is a learner, not a voting member; promote it once it has caught up, or remove it`,
      );

      expect(await membership.promoteWhenCaughtUp(id, { timeoutMs: 15_000 })).toBe("promoted");
      expect(await membership.promoteWhenCaughtUp(id, { timeoutMs: 15_000 })).toBe("already-voter");
      const after = await probeOf(cluster);
      expect(after.members?.find((m) => m.id === id)?.isLearner).toBe(false);
    } finally {
      membership.close();
    }
  });

  it("removes a member; removing it again is success", async () => {
    const id = idOf(cluster, 3);
    const membership = membershipOf();
    try {
      expect(await membership.removeMember(id)).toBe("removed");
      expect(await membership.removeMember(id)).toBe("already-absent");
    } finally {
      membership.close();
    }
    await cluster.kill(3);
    const probe = await probeOf(cluster, {}, cluster.endpoints.slice(0, 3));
    expect(probe.members?.map((m) => m.name).sort()).toEqual(["m1", "m2", "m3"]);
  });

  it("with a member down, the gate refuses a departure that would cost quorum, and so does etcd", async () => {
    const endpoints = cluster.endpoints.slice(0, 3);
    // Both followers: the one leaving, and one that dies. The leader stays up throughout.
    const [a = -1, b = -1] = await followerIndexes(cluster);
    const leaving = cluster.members[a];
    const dying = cluster.members[b];
    const departing = idOf(cluster, a);
    const healthy = await probeOf(cluster, {}, endpoints);
    const ok = gateOnce(healthy, { desiredSize: 2, departing: [departing] });
    expect(ok.failed).toEqual(["stable"]);

    await cluster.kill(b);
    try {
      const probe = await probeOf(cluster, {}, endpoints);
      const result = gateOnce(probe, { desiredSize: 2, departing: [departing] });
      expect(result.checks.find((c) => c.name === "members-healthy")?.message).toBe(
        `${dying?.name} (${dying?.clientURL}) does not answer (connection refused); check the instance and its etcd service; ` +
          `removing ${leaving?.name} (${leaving?.clientURL}) would leave 1 healthy of 2 voting members, below their quorum of 2; bring the other members back first`,
      );

      // --strict-reconfig-check (default on) refuses it too: of the two that would remain, one is down.
      const membership = createMembership({
        ...cluster.clientOptions,
        endpoints,
        operationTimeoutMs: 1500,
      });
      try {
        const removal = await membership.removeMember(departing).catch((error: unknown) => error);
        expect(isEtcdError(removal, "unhealthyCluster")).toBe(true);
        expect(removal).toMatchObject({
          kind: "transient",
          message: expect.stringContaining(
            "/v3/cluster/member/remove: etcdserver: unhealthy cluster",
          ),
        });
      } finally {
        membership.close();
      }
    } finally {
      await cluster.restart(b);
    }
  });
});

describe.skipIf(!opensslAvailable())(
  "a member serving clients over TLS with client certificates",
  () => {
    let cluster: EtcdTestCluster;
    beforeAll(async () => {
      cluster = await startEtcdCluster({ size: 1, tls: { clientCertAuth: true } });
    });
    afterAll(async () => {
      await cluster?.stop();
    });

    it("answers a client with a certificate and the CA", async () => {
      const endpoint = cluster.endpoints[0] ?? "";
      expect(endpoint).toMatch(/^https:\/\//);
      const probe = await probeOf(cluster);
      expect(probe.endpoints[0]).toMatchObject({ reachable: true, health: { healthy: true } });
      expect(probe.members?.[0]?.clientURLs).toEqual([endpoint]);
    });

    it("fails clearly without a client certificate, and without the CA", async () => {
      const endpoint = cluster.endpoints[0] ?? "";
      const noCert = createEtcdClient(endpoint, {
        tls: { ca: cluster.clientOptions.tls?.ca ?? "" },
      });
      const failure = await noCert.status().catch((error: unknown) => error);
      noCert.close();
      expect(failure).toBeInstanceOf(EtcdRequestError);
      expect(failure).toMatchObject({ failure: "tls", kind: "terminal" });
      expect((failure as Error).message).toContain(
        "the member wants a client certificate and we sent none",
      );

      const noCa = createEtcdClient(endpoint, {});
      const untrusted = await noCa.health().catch((error: unknown) => error);
      noCa.close();
      expect(untrusted).toMatchObject({ failure: "tls" });
      expect((untrusted as Error).message).toContain("unable to verify the first certificate");
    });
  },
);

if (!opensslAvailable()) {
  console.warn("etcdGateway.test.ts: openssl is not on PATH; the TLS tests are skipped");
}
