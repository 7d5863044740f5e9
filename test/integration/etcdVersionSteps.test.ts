// etcd's version rules against what the members really run, on the local
// cloud with real etcd. The members here always run Debian's etcd 3.4, whatever
// the manifest names, as members left behind by an interrupted rollout (or
// changed by hand) would: the live template then says one version and the
// members run another, and only asking the members shows it.
//
// 1. dev is created on 3.4.23 and upgraded to 3.5.26, a minor upgrade: the
//    members roll, and after the rollout quorate asks them for the cluster
//    version. It stays 3.4 (they still run 3.4.23), and the etcd-version event
//    says so and names what they run, instead of calling the upgrade done.
// 2. The manifest then asks for 3.6.0. Against the live template (3.5.26) that
//    is an allowed minor upgrade, but the members run 3.4.23, and 3.4 → 3.6
//    skips 3.5: apply refuses it before executing, and says what to do.
// 3. `quorate apply` says the same with exit code 3.
//
// Each step builds on the one before (one stack): describe.sequential.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClusterPlan } from "../../src/plan/model.js";
import { applyCluster } from "../../src/reconcile/apply.js";
import { cli } from "../cli/run.js";
import { applyDevByCli, writeDev } from "../helpers/cliApply.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";

let h: Harness;
let dir: string;
const atVersion = (version: string) =>
  h.spec("dev", (m) => {
    m.spec.etcd = { ...m.spec.etcd, version };
  });

beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), "quorate-etcd-version-"));
  const created = await applyCluster(h.deps(), atVersion("3.4.23"), { revision: "rev-create" });
  if (created.result !== "applied") throw new Error(`dev was not created: ${created.message}`);
});
afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function executions(): Promise<number> {
  return (await h.cloud.admin.counters())["cloudformation:ExecuteChangeSet"] ?? 0;
}

describe.sequential("etcd version steps against the members' own versions", () => {
  it("0. `quorate plan` of the upgrade names the current members and the versions they run", async () => {
    const plan = await planDev("3.5.26");
    expect(plan.status).toBe("update");
    expect(plan.etcdVersion).toMatchObject({ from: "3.4.23", to: "3.5.26", allowed: true });
    const instances = (await h.instances(h.spec("dev"))).map((i) => i.instanceId).sort();
    const members = plan.currentMembers?.members ?? [];
    expect(members.map((m) => m.instanceId).sort()).toEqual(instances);
    expect(members.filter((m) => m.leader)).toHaveLength(1);
    expect(members.every((m) => m.version === "3.4.23" && !m.learner && m.healthy)).toBe(true);
  });

  it("1. a minor upgrade rolls, and the cluster version that did not follow is reported", async () => {
    const before = await h.instances(h.spec("dev"));
    const outcome = await applyCluster(
      h.deps({ clusterVersionWaitMs: 3000 }),
      atVersion("3.5.26"),
      {
        revision: "rev-3.5",
      },
    );
    expect(outcome.result, outcome.message).toBe("applied");
    expect(outcome.executed).toBe(true);
    const after = await h.instances(h.spec("dev"));
    // Every member was replaced: the rollout really ran.
    expect(after.filter((i) => before.some((b) => b.instanceId === i.instanceId))).toEqual([]);
    const reports = h.events.filter((e) => e.type === "etcd-version");
    expect(reports).toHaveLength(1);
    expect(reports[0]?.clusterVersion).toEqual({
      target: "3.5.26",
      reached: false,
      version: "3.4.0",
    });
    expect(reports[0]?.message).toMatch(
      /^the cluster version is 3\.4, not 3\.5 as the manifest's 3\.5\.26 wants; members run 3\.4\.23 \(/,
    );
  });

  it("2. a step the live template allows but the members' versions refuse is not executed", async () => {
    const executed = await executions();
    const outcome = await applyCluster(h.deps(), atVersion("3.6.0"), { revision: "rev-3.6" });
    expect(outcome.result, outcome.message).toBe("version-refused");
    expect(outcome.executed).toBe(false);
    expect(outcome.plan?.etcdVersion).toMatchObject({ from: "3.5.26", to: "3.6.0", allowed: true });
    expect(outcome.message).toMatch(
      /^not applied: the members' etcd versions refuse spec\.etcd\.version 3\.6\.0: etcd 3\.4\.23 → 3\.6\.0 skips 3\.5/,
    );
    expect(outcome.message).toMatch(
      /set spec\.etcd\.version to 3\.5\.26, apply and let the rollout finish/,
    );
    expect(await executions()).toBe(executed);
    expect(await h.stackStatus(h.spec("dev"))).toBe("UPDATE_COMPLETE");
    // The change set made for the preview is gone, not left for someone to execute.
    const [stack] = (await h.cloud.admin.state()).stacks;
    expect(stack?.changeSets.filter((c) => c.executionStatus === "AVAILABLE")).toEqual([]);
  });

  it("2b. `quorate plan` says so before anything is merged, at the manifest's line", async () => {
    const plan = await planDev("3.6.0");
    expect(plan.status).toBe("error");
    expect(plan.etcdVersion).toMatchObject({
      from: "3.4.23",
      to: "3.6.0",
      allowed: false,
      rule: "minor-skip",
    });
    expect(plan.error).toMatch(
      /dev\.yaml:\d+:\d+: spec\.etcd\.version: .*etcd 3\.4\.23 → 3\.6\.0 skips 3\.5/,
    );
  });

  it("3. `quorate apply` refuses it with exit code 3", async () => {
    const executed = await executions();
    const run = await applyDevByCli(h.endpoint, dir, (m) => {
      m.spec.etcd = { ...m.spec.etcd, version: "3.6.0" };
    });
    expect(run.code, run.stdout + run.stderr).toBe(3);
    expect(run.stdout).toMatch(
      /^dev: version-refused: not applied: the members' etcd versions refuse/m,
    );
    expect(await executions()).toBe(executed);
  });
});

/** `quorate plan --format json` of dev at this etcd version, against the live stack. */
async function planDev(version: string): Promise<ClusterPlan> {
  writeDev(dir, (m) => {
    m.spec.etcd = { ...m.spec.etcd, version };
  });
  const run = await cli(
    ["plan", "--local", "--endpoint", h.endpoint, "--path", dir, "--format", "json"],
    { cwd: dir, env: { ...process.env, XDG_CACHE_HOME: dir } },
  );
  const plan = JSON.parse(run.stdout) as { clusters: ClusterPlan[] };
  const dev = plan.clusters.find((c) => c.cluster === "dev");
  if (!dev) throw new Error(`no plan of dev: ${run.stdout}${run.stderr}`);
  return dev;
}
