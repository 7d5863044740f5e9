// `quorate reconcile --once`, the CI entry point, run as CI runs it: the CLI
// against a real git repository and the local cloud with a real one-member
// etcd cluster, asserting each exit code of the table (src/cli/exitCodes.ts)
// and the Ready reason behind it. Then a change set that AWS refuses: the
// reconciler makes no new one for the same template on the next pass (the
// local cloud's call counters say so), and the status says exactly that.
//
// The steps build on each other (one cluster, one stack, one repository), so
// the file runs them in order: describe.sequential.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conditionOf } from "../../src/reconcile/conditions.js";
import { createReconciler } from "../../src/reconcile/reconciler.js";
import type { ClusterStatus } from "../../src/reconcile/status.js";
import { createAmiFeed } from "../../src/render/ami.js";
import { LOGICAL_ID } from "../../src/render/contract.js";
import { createGitSource } from "../../src/source/git.js";
import { cli } from "../cli/run.js";
import { createManifestRepo, type ManifestRepo } from "../helpers/manifestRepo.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";

let h: Harness;
let repo: ManifestRepo;
let scratch: string;
const STACK = "quorate-one";

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "quorate-once-"));
  h = await startHarness();
  repo = await createManifestRepo({ prefix: "once" });
});

afterAll(async () => {
  await h?.close();
  await repo?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** One CI run: the real CLI, JSON output; the summary line's statuses by cluster. */
async function reconcileOnce() {
  const result = await cli([
    "reconcile",
    "--once",
    "--repo",
    repo.dir,
    "--branch",
    "main",
    "--path",
    repo.path,
    "--endpoint",
    h.endpoint,
    "--cache-dir",
    join(scratch, "git"),
    "--format",
    "json",
    "--tick",
    "200",
  ]);
  const lines = result.stdout.trim().split("\n");
  const summary = JSON.parse(lines.at(-1) ?? "{}") as { statuses?: ClusterStatus[] };
  const ready = (cluster: string) => {
    const status = summary.statuses?.find((s) => s.cluster === cluster);
    return status ? conditionOf(status.conditions, "Ready") : undefined;
  };
  return { ...result, ready };
}

function setCidr(cidr: string) {
  repo.update("one", (m) => {
    m.spec.network.clientCidrs = [cidr];
  });
}

describe.sequential("quorate reconcile --once: one pass for CI, and its exit code", () => {
  it("exits 0 when every cluster is Ready (a new cluster created through its hooks)", async () => {
    repo.write("one", { name: "one", size: 1 });
    await repo.commit("one: a one-member cluster");
    const run = await reconcileOnce();
    expect(run.stderr).toBe("");
    expect(run.ready("one")).toMatchObject({ status: "True" });
    expect(run.code).toBe(0);
  });

  it("exits 4 when the update fails and the stack rolls back", async () => {
    await h.cloud.admin.resourceFault({
      stackName: STACK,
      logicalId: LOGICAL_ID.securityGroup,
      phase: "update",
      count: 1,
      message: "injected: the security group update failed",
    });
    setCidr("10.1.0.0/16");
    await repo.commit("one: a new client CIDR (its update will fail)");
    const run = await reconcileOnce();
    expect(run.ready("one")).toMatchObject({ status: "False", reason: "RolledBack" });
    expect(run.code).toBe(4);
  });

  it("exits 3 when the health gate fails before execution, executing nothing", async () => {
    const [instance] = await h.instances(oneSpec());
    await h.cloud.admin.instance(instance!.instanceId, "pause");
    try {
      setCidr("10.2.0.0/16");
      await repo.commit("one: another client CIDR, while its only member is paused");
      await h.cloud.admin.resetCounters();
      const run = await reconcileOnce();
      expect(run.ready("one")).toMatchObject({ status: "False", reason: "HealthGateFailed" });
      expect(run.code).toBe(3);
      expect((await h.cloud.admin.counters())["cloudformation:ExecuteChangeSet"]).toBeUndefined();
    } finally {
      await h.cloud.admin.instance(instance!.instanceId, "resume");
    }
  });

  it("exits 5 when the change set fails, and exits 1 for an invalid manifest beside it", async () => {
    await h.cloud.admin.changeSetFault({
      stackName: STACK,
      reason: "injected: Template error: the change set cannot be built",
      count: 1,
    });
    repo.write(
      "broken",
      "apiVersion: quorate.dev/v1alpha1\nkind: EtcdCluster\nmetadata:\n  name: broken\nspec:\n  size: 4\n",
    );
    await repo.commit("broken: an invalid manifest beside one");
    const run = await reconcileOnce();
    expect(run.ready("broken")).toMatchObject({ status: "False", reason: "InvalidManifest" });
    expect(run.ready("one")).toMatchObject({ status: "False", reason: "ChangeSetFailed" });
    // The worst cluster decides: a stack that needs a person (5) outranks an invalid manifest (1).
    expect(run.code).toBe(5);
    repo.remove("broken");
    await repo.commit("broken: removed");
    // The fault was used up: the next CI run (a fresh process) applies the same template.
    const again = await reconcileOnce();
    expect(again.ready("one")).toMatchObject({ status: "True" });
    expect(again.code).toBe(0);
  });
});

describe.sequential("a change set that AWS refuses", () => {
  it("is not made again on the next pass for the same template, and the status says so", async () => {
    const reconciler = createReconciler({
      source: createGitSource({ repo: repo.dir, branch: "main", cacheDir: join(scratch, "rc") }),
      path: repo.path,
      aws: h.aws,
      amiFeed: createAmiFeed({
        source: `${h.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
      }),
      etcd: {},
      onEvent: () => {},
      waitForRollouts: true,
      tickMs: 200,
    });
    await h.cloud.admin.changeSetFault({
      stackName: STACK,
      reason: "injected: Template error: the change set cannot be built",
    });
    setCidr("10.3.0.0/16");
    await repo.commit("one: a CIDR whose change set AWS refuses");

    const created = async () =>
      (await h.cloud.admin.counters())["cloudformation:CreateChangeSet"] ?? 0;
    await h.cloud.admin.resetCounters();
    await reconciler.pass();
    expect(await created()).toBe(1);
    const first = status(reconciler.statuses());
    expect(first.ready).toMatchObject({ status: "False", reason: "ChangeSetFailed" });
    expect(first.ready?.message).toContain("injected: Template error");
    expect(first.ready?.message).toContain(
      "quorate makes no new change set for this template until the manifest changes",
    );
    expect(first.stalled).toMatchObject({ status: "True", reason: "ChangeSetFailed" });

    // The next pass: the same template, so no new change set, as the message promised.
    await h.cloud.admin.resetCounters();
    await reconciler.pass();
    expect(await created()).toBe(0);
    expect(status(reconciler.statuses()).ready).toEqual(first.ready);

    // A new commit changes the template: a new change set (the fault still stands, so it fails too).
    setCidr("10.4.0.0/16");
    await repo.commit("one: another CIDR");
    await h.cloud.admin.resetCounters();
    await reconciler.pass();
    expect(await created()).toBe(1);
    await h.cloud.admin.clearFaults();
  });
});

function oneSpec() {
  return { ...h.spec("dev"), name: "one", stackName: STACK, region: "eu-west-1" };
}

function status(statuses: ClusterStatus[]) {
  const one = statuses.find((s) => s.cluster === "one");
  if (!one) throw new Error("no status for one");
  return {
    ready: conditionOf(one.conditions, "Ready"),
    stalled: conditionOf(one.conditions, "Stalled"),
  };
}
