// A health gate failing before apply, on the local cloud with real etcd: an
// image upgrade of the created dev cluster is refused while etcd has an alarm,
// no leader, a stale member or a member lagging behind. Each time the outcome
// names the failed check, no change set is executed, and the stack stays as
// it was; the CLI says so with exit code 3.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEtcdClient } from "../../src/etcd/client.js";
import { evaluateGate, type GateCheckName } from "../../src/etcd/gate.js";
import { createMembership } from "../../src/etcd/membership.js";
import { probeCluster } from "../../src/etcd/probe.js";
import { buildRoster, type RosterEntry } from "../../src/etcd/roster.js";
import type { ClusterSpec } from "../../src/manifest/types.js";
import { applyCluster } from "../../src/reconcile/apply.js";
import { applyDevByCli } from "../helpers/cliApply.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";
import { waitFor } from "../helpers/waitFor.js";

let h: Harness;
let dir: string;
beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), "quorate-gate-"));
  const created = await applyCluster(h.deps(), h.spec("dev"), { revision: "rev-create" });
  if (created.result !== "applied") throw new Error(`dev was not created: ${created.message}`);
});
afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The upgrade every case tries, with the manifest's gates changed as given. */
const upgrade = (gates: Record<string, number | string> = {}) =>
  h.spec("dev", (m) => {
    m.spec.image.version = "4152.2.0";
    m.spec.gates = { ...m.spec.gates, ...gates };
  });

describe("an upgrade of dev is refused before anything is executed", () => {
  it("while etcd has an alarm (NOSPACE)", async () => {
    await withNospaceAlarm(() =>
      expectBlocked(upgrade(), "no-alarms", /NOSPACE alarm raised by i-\w+ .*disarm/),
    );
  });

  it("while there is no leader (two of three members stopped)", async () => {
    const roster = await rosterNow();
    const [stopped1, stopped2, left] = roster.entries;
    const paused = [stopped1, stopped2].map((e) => e?.member.name ?? "");
    for (const id of paused) await h.cloud.admin.instance(id, "pause");
    try {
      // The one left knows no leader once its election timeout has passed.
      const client = createEtcdClient(left?.probe?.endpoint ?? "", { timeoutMs: 1000 });
      await waitFor("the leader to be lost", async () => (await client.status()).leader === 0n);
      client.close();
      await expectBlocked(upgrade(), "single-leader", /knows no leader/);
    } finally {
      for (const id of paused) await h.cloud.admin.instance(id, "resume");
    }
    await untilHealthy();
  });

  it("while a stale member is in the list (added, never started)", async () => {
    const urls = await h.clientURLs(h.spec("dev"));
    const unused = `http://${new URL(urls[0] ?? "").hostname.replace(/\d+$/, "250")}:2380`;
    const membership = createMembership({ endpoints: urls, timeoutMs: 2000 });
    const { id: stale } = await membership.addLearner(unused);
    try {
      await expectBlocked(
        upgrade(),
        "member-count",
        /\(peer http:\/\/.*\.250:2380\) was added but never started/,
      );
    } finally {
      await membership.removeMember(stale);
      membership.close();
    }
    await untilHealthy();
  });

  it("while a member lags behind the leader (maxAppliedIndexLag 0, a follower stopped now and then under writes)", async () => {
    const roster = await rosterNow();
    const leader = roster.entries.find((e) => e.member.id === roster.leader.id);
    const follower = roster.entries.find((e) => e !== leader);
    const load = startLoad(leader, follower);
    try {
      await expectBlocked(
        upgrade({ maxAppliedIndexLag: 0 }),
        "applied-index-lag",
        /entries behind the leader/,
      );
    } finally {
      await load.stop();
    }
    await untilHealthy();
  });

  it("and `quorate apply` says so with exit code 3", async () => {
    await withNospaceAlarm(async () => {
      const executed = await executions();
      const run = await applyDevByCli(h.endpoint, dir, (m) => {
        m.spec.image.version = "4152.2.0";
      });
      expect(run.code, run.stdout + run.stderr).toBe(3);
      expect(run.stdout).toMatch(
        /^dev: gate-blocked: not applied, the health gate failed: .*no-alarms: NOSPACE alarm/m,
      );
      expect(await executions()).toBe(executed);
    });
  });
});

async function expectBlocked(spec: ClusterSpec, check: GateCheckName, detail: RegExp) {
  const executed = await executions();
  const outcome = await applyCluster(h.deps(), spec, { revision: `rev-${check}` });
  expect(outcome.result, outcome.message).toBe("gate-blocked");
  expect(outcome.executed).toBe(false);
  expect(outcome.gate?.failed).toContain(check);
  const at = outcome.message.indexOf(`${check}: `);
  expect(at, outcome.message).toBeGreaterThanOrEqual(0);
  expect(outcome.message.slice(at)).toMatch(detail);
  expect(await executions()).toBe(executed);
  expect(await h.stackStatus(spec)).toBe("CREATE_COMPLETE");
  // The change set made for the preview is gone, not left for someone to execute.
  const [stack] = (await h.cloud.admin.state()).stacks;
  expect(stack?.changeSets.filter((c) => c.executionStatus === "AVAILABLE")).toEqual([]);
}

async function executions(): Promise<number> {
  return (await h.cloud.admin.counters())["cloudformation:ExecuteChangeSet"] ?? 0;
}

/** Raises NOSPACE through the gateway (as a full database would) for the length of `body`. */
async function withNospaceAlarm(body: () => Promise<void>): Promise<void> {
  const [url] = await h.clientURLs(h.spec("dev"));
  const client = createEtcdClient(url ?? "", { timeoutMs: 2000 });
  const [first] = (await client.memberList()).members;
  await client.activateAlarm(first?.id ?? 0n, "NOSPACE");
  try {
    await body();
  } finally {
    await client.deactivateAlarm(first?.id ?? 0n, "NOSPACE");
    client.close();
  }
  await untilHealthy();
}

async function rosterNow() {
  return buildRoster(await probeCluster(await h.clientURLs(h.spec("dev")), { timeoutMs: 1000 }));
}

/** Every check but the stable clock passes again, so the next case starts from a healthy cluster. */
async function untilHealthy(): Promise<void> {
  const spec = h.spec("dev");
  await waitFor("the cluster to be healthy again", async () => {
    const probe = await probeCluster(await h.clientURLs(spec), { timeoutMs: 1000 });
    const { result } = evaluateGate(probe, { desiredSize: 3 }, spec.gates, undefined, Date.now());
    return result.failed.every((name) => name === "stable");
  });
}

/**
 * Writes through the leader as fast as four clients can, while the follower is
 * stopped for 400 ms out of every 500: whenever it answers, it has a backlog to
 * apply. (A follower stopped for good does not answer at all, which is
 * members-healthy; one running freely keeps up within an entry or two.)
 */
function startLoad(leader: RosterEntry | undefined, follower: RosterEntry | undefined) {
  let stopping = false;
  const writers = Array.from({ length: 4 }, async (_, n) => {
    const client = createEtcdClient(leader?.probe?.endpoint ?? "", {
      timeoutMs: 2000,
      keepAlive: true,
    });
    for (let i = 0; !stopping && i < 100_000; i++) {
      await client.put(`lag/${n}/${i}`, "x".repeat(100)).catch(() => undefined);
    }
    client.close();
  });
  const id = follower?.member.name ?? "";
  const cycle = (async () => {
    while (!stopping) {
      await h.cloud.admin.instance(id, "pause");
      await sleep(400);
      await h.cloud.admin.instance(id, "resume");
      await sleep(100);
    }
  })();
  return {
    async stop() {
      stopping = true;
      await Promise.all([...writers, cycle]);
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
