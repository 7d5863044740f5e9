// A member that is not being replaced dies mid-rollout (its etcd killed with
// SIGKILL through the local cloud's fault API), on the local cloud with real
// etcd. quorate holds the termination it was about to allow, so the cluster
// keeps its quorum and its leader. When the member comes back, the rollout
// goes on. When it stays down past gates.abortAfter, quorate cancels the
// update; the rollback (a second rolling update, back to the old image) is
// held with the same care while the member is down, and completes once it is
// back. It cannot complete while the member stays down: the held instance may
// only go once two healthy voters remain without it, and the rollback's new
// instance joins only a healthy cluster; past the rollback's signal timeout
// CloudFormation would give up (UPDATE_ROLLBACK_FAILED), so the member comes
// back within it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeCluster } from "../../src/etcd/probe.js";
import { buildRoster } from "../../src/etcd/roster.js";
import { startWriteProbe, type WriteProbeReport } from "../../src/etcd/writeProbe.js";
import { localAmiId } from "../../src/localcloud/index.js";
import type { ClusterSpec } from "../../src/manifest/types.js";
import { type ApplyOutcome, applyCluster } from "../../src/reconcile/apply.js";
import type { RolloutEvent } from "../../src/reconcile/rollout/events.js";
import { type QuorumSample, sustainedQuorumLoss, watchQuorum } from "../helpers/naiveOperator.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";
import { waitFor } from "../helpers/waitFor.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  const created = await applyCluster(h.deps(), h.spec("dev"), { revision: "rev-create" });
  if (created.result !== "applied") throw new Error(`dev was not created: ${created.message}`);
});
afterAll(async () => {
  await h?.close();
});

const VERSIONS = ["4081.2.0", "4152.2.0"] as const;
const amiOf = (version: string) => localAmiId("stable", version, "eu-west-1");

/**
 * Upgrades dev to the image it does not run, and kills a member as soon as
 * quorate holds the first termination: one that is neither being replaced nor
 * leading (killing the leader costs an election, which is not what this shows).
 */
async function upgradeAndKill(gates: Record<string, string> = {}) {
  const current = (await h.instances(h.spec("dev")))[0]?.imageId;
  const version = VERSIONS.find((v) => amiOf(v) !== current) ?? VERSIONS[0];
  const spec = h.spec("dev", (m) => {
    m.spec.image.version = version;
    m.spec.gates = { ...m.spec.gates, ...gates };
  });
  const before = await h.instances(spec);
  const events: RolloutEvent[] = [];
  const fault: { first?: string; victim?: string; done?: Promise<void> } = {};
  const deps = h.deps();
  const quorum = watchQuorum(() => h.clientURLs(spec));
  const writer = startWriteProbe({
    endpoints: () => h.clientURLs(spec),
    prefix: `killed-${version}`,
    maxWrites: 5000,
  });
  const controller = new AbortController();
  const outcome = applyCluster(
    {
      ...deps,
      signal: controller.signal,
      onEvent: (event) => {
        deps.onEvent(event);
        events.push(event);
        if (fault.done || event.type !== "hook-held" || !event.instanceId) return;
        fault.first = event.instanceId;
        fault.done = (async () => {
          const leader = await leaderOf(spec);
          fault.victim = before.find(
            (i) => i.instanceId !== fault.first && i.instanceId !== leader,
          )?.instanceId;
          await h.cloud.admin.instance(fault.victim ?? "", "kill");
        })();
      },
    },
    spec,
    { revision: `rev-${version}` },
  ).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  const killed = async () => {
    await waitFor("the first termination to be held", () => fault.done !== undefined);
    await fault.done;
    return { first: fault.first ?? "", victim: fault.victim ?? "" };
  };
  let finished: Promise<{
    result: ApplyOutcome;
    writes: WriteProbeReport;
    samples: QuorumSample[];
  }>;
  /** The outcome, once the writer and the sampler have stopped too. */
  const finish = () => {
    finished ??= (async () => {
      const result = await outcome;
      const writes = await writer.stop();
      const samples = await quorum.stop();
      if (result instanceof Error) throw result;
      return { result, writes, samples };
    })();
    return finished;
  };
  /** After a failure too: nothing of this run outlives the test. */
  const stop = async () => {
    controller.abort(new Error("the test is over"));
    await finish().catch(() => undefined);
  };
  return { spec, version, before, events, killed, finish, stop };
}

describe("a member killed mid-rollout", () => {
  it("holds the next termination while the member is down, and completes the rollout once it is back", async () => {
    const run = await upgradeAndKill();
    try {
      const { first, victim } = await run.killed();
      await expectHeld(run.spec, first, 12);
      await h.cloud.admin.instance(victim, "restart");
      const { result, writes, samples } = await run.finish();

      expect(result.result, result.message).toBe("applied");
      expect(await h.stackStatus(run.spec)).toBe("UPDATE_COMPLETE");
      const held = run.events.find((e) => e.type === "waiting" && e.message.includes(victim));
      expect(held?.message).toMatch(
        new RegExp(`^holding ${first}: gate failed: members-healthy: ${victim} .* does not answer`),
      );
      // What a team hears (--notify-url): the hold once, on the failing check, then its end.
      const said = run.events.findIndex((e) => e.type === "held" && e.message.includes(victim));
      expect(run.events[said]?.failedChecks).toContain("members-healthy");
      const resumed = run.events.slice(said + 1).find((e) => e.type === "resumed");
      expect(resumed?.message).toBe("resumed: members-healthy passes again");
      const heldBeforeKill = run.events.slice(0, said).filter((e) => e.type === "held");
      expect(heldBeforeKill, "the stable clock alone is no hold").toEqual([]);
      expectQuorumKept(samples);
      expect(writes.failed, writes.failures.join("\n")).toBe(0);
      expect(writes.lost).toEqual([]);
      await expectReplaced(run.spec, run.before, run.version);
    } finally {
      await run.stop();
    }
  });

  it("cancels the update past abortAfter while the member is down; the rollback is held too, and completes once it is back", async () => {
    const run = await upgradeAndKill({ abortAfter: "PT5S" });
    try {
      const { first, victim } = await run.killed();
      await waitFor(
        "the update to be cancelled",
        async () => (await h.stackStatus(run.spec)) === "UPDATE_ROLLBACK_IN_PROGRESS",
      );
      const cancelled = run.events.find((e) => e.type === "update-cancelled");
      expect(cancelled?.message).toMatch(
        new RegExp(`abortAfter PT5S\\): gate failed: members-healthy: ${victim} `),
      );
      // The rollback replaces members too (its launch template is a new version): held alike.
      await expectHeld(run.spec, first, 8);
      expect(await h.stackStatus(run.spec)).toBe("UPDATE_ROLLBACK_IN_PROGRESS");
      await h.cloud.admin.instance(victim, "restart");
      const { result, writes, samples } = await run.finish();

      expect(result.result, result.message).toBe("rolled-back");
      expect(result.executed).toBe(true);
      expect(await h.stackStatus(run.spec)).toBe("UPDATE_ROLLBACK_COMPLETE");
      expect(run.events.filter((e) => e.type === "update-cancelled")).toHaveLength(1);
      expectQuorumKept(samples);
      expect(writes.failed, writes.failures.join("\n")).toBe(0);
      expect(writes.lost).toEqual([]);
      // Back on the original image: the first instance is gone, and so is whatever was
      // launched with the new image; exactly three voting members, one per instance.
      const after = await h.instances(run.spec);
      expect(after.map((i) => i.instanceId)).not.toContain(first);
      expect(after.every((i) => i.imageId === run.before[0]?.imageId)).toBe(true);
      await expectMembersAre(run.spec, after);
    } finally {
      await run.stop();
    }
  });
});

/**
 * quorate looks at the cluster `looks` more times (one DescribeStacks a tick;
 * the test makes none meanwhile), and decides each time to keep holding: the
 * first instance is in Terminating:Wait whenever the test looks, and still a
 * member after the last of them.
 */
async function expectHeld(spec: ClusterSpec, instanceId: string, looks: number): Promise<void> {
  const looked = async () => (await h.cloud.admin.counters())["cloudformation:DescribeStacks"] ?? 0;
  const from = await looked();
  const states = new Set<string>();
  await waitFor(
    `quorate to look at the held cluster ${looks} more times`,
    async () => {
      const state = (await h.instances(spec)).find((i) => i.instanceId === instanceId)?.state;
      states.add(state ?? "gone");
      return (await looked()) >= from + looks;
    },
    { intervalMs: 250 },
  );
  expect([...states]).toEqual(["Terminating:Wait"]);
  expect((await h.members(spec)).map((m) => m.name)).toContain(instanceId);
}

/** Never fewer healthy voters than quorum, and always a leader (beyond one sample). */
function expectQuorumKept(samples: QuorumSample[]) {
  expect(samples.length).toBeGreaterThan(20);
  expect(sustainedQuorumLoss(samples, (s) => s.healthyVoters < s.quorum || !s.leader)).toEqual([]);
}

/** Every old instance replaced, all on `version`'s image, exactly size voting members. */
async function expectReplaced(
  spec: ClusterSpec,
  before: { instanceId: string }[],
  version: string,
): Promise<void> {
  const after = await h.instances(spec);
  expect(after.every((i) => i.imageId === amiOf(version))).toBe(true);
  expect(after.some((i) => before.some((b) => b.instanceId === i.instanceId))).toBe(false);
  await expectMembersAre(spec, after);
}

async function expectMembersAre(spec: ClusterSpec, instances: { instanceId: string }[]) {
  const members = await h.members(spec);
  expect(instances).toHaveLength(3);
  expect(members.filter((m) => !m.isLearner)).toHaveLength(3);
  expect(members.map((m) => m.name).sort()).toEqual(instances.map((i) => i.instanceId).sort());
}

async function leaderOf(spec: ClusterSpec): Promise<string | undefined> {
  const roster = buildRoster(await probeCluster(await h.clientURLs(spec), { timeoutMs: 1000 }));
  return roster.leader.id === undefined
    ? undefined
    : roster.byId.get(roster.leader.id)?.member.name;
}
