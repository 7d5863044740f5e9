// `quorate plan` against live stacks on the local cloud, through the real AWS
// SDK (issue 5): a one-member cluster created by quorate with real etcd, then
// plans of an unchanged manifest (exit 0, no change set), of a new image
// (exit 2, a rolling replacement, the change set deleted), with --keep (the
// change set stays), of a cluster with no stack (create, no REVIEW_IN_PROGRESS
// stack left behind), and in the text and markdown formats.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  deleteChangeSet,
  describeStack,
  listChangeSetNames,
  listStacks,
} from "../../src/aws/stacks.js";
import { loadManifests } from "../../src/manifest/load.js";
import type { ClusterPlan } from "../../src/plan/model.js";
import { applyCluster } from "../../src/reconcile/apply.js";
import { STACK_TAG } from "../../src/render/contract.js";
import { cli } from "../cli/run.js";
import { createManifestRepo, type ManifestRepo } from "../helpers/manifestRepo.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";
import { waitFor } from "../helpers/waitFor.js";

const REGION = "eu-west-1";
const NEW_VERSION = "4152.2.0";

let h: Harness;
let repo: ManifestRepo;
let cacheHome: string;
let alphaSha: string;

beforeAll(async () => {
  h = await startHarness();
  repo = await createManifestRepo({ prefix: "plan-live" });
  cacheHome = mkdtempSync(join(tmpdir(), "quorate-plan-cache-"));
  repo.write("alpha", { name: "alpha", size: 1 });
  const revision = await repo.commit("alpha: one member");
  // Loaded the way `quorate plan` loads it, so the rendered template (which
  // names the manifest's file) is the one plan renders.
  const spec = (await loadManifests([repo.path], repo.dir)).clusters.find(
    (c) => c.name === "alpha",
  );
  if (!spec) throw new Error("the alpha manifest did not load");
  const outcome = await applyCluster(h.deps(), spec, { revision });
  if (outcome.result !== "applied") throw new Error(`creating alpha: ${outcome.message}`);
  alphaSha = (await describeStack(cfn(), "quorate-alpha"))?.tags[STACK_TAG.templateSha256] ?? "";
});

afterAll(async () => {
  await h?.close();
  await repo?.close();
  if (cacheHome) rmSync(cacheHome, { recursive: true, force: true });
});

const cfn = () => h.aws(REGION).cloudFormation;

function plan(...args: string[]) {
  return cli(["plan", "--repo", repo.dir, "--path", repo.path, "--endpoint", h.endpoint, ...args], {
    cwd: repo.dir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      XDG_CACHE_HOME: cacheHome,
      NO_COLOR: "1",
      QUORATE_AMI_FEED: `${h.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
    },
  });
}

async function planJson(...args: string[]) {
  const result = await plan("--format", "json", "--detailed-exitcode", ...args);
  const json = JSON.parse(result.stdout || "{}") as {
    hasChanges: boolean;
    clusters: ClusterPlan[];
  };
  const cluster = (name: string) => {
    const found = json.clusters.find((c) => c.cluster === name);
    if (!found) throw new Error(`no plan for ${name} in ${result.stdout}${result.stderr}`);
    return found;
  };
  return { ...result, json, cluster };
}

/** API calls made while `work` runs, by "service:Action". */
async function countCalls<T>(work: () => Promise<T>): Promise<[T, Record<string, number>]> {
  await h.cloud.admin.resetCounters();
  const result = await work();
  return [result, await h.cloud.admin.counters()];
}

/** Waits until DescribeStacks no longer finds the stack (DELETE_COMPLETE is not gone). */
async function waitUntilGone(stackName: string): Promise<void> {
  await waitFor(
    `${stackName} gone`,
    async () => expect((await describeStack(cfn(), stackName))?.status).toBeUndefined(),
    { timeoutMs: 10_000 },
  );
}

describe("quorate plan against live stacks", () => {
  it("exits 0 for an unchanged cluster, at the cost of one DescribeStacks and no change set", async () => {
    const [run, calls] = await countCalls(() => planJson());
    expect(run.code, run.stderr).toBe(0);
    expect(run.json.hasChanges).toBe(false);
    expect(run.cluster("alpha").status).toBe("no-change");
    expect(run.cluster("alpha").changes).toEqual([]);
    // The template-hash tag matched: the stack was read and nothing else.
    expect(calls).toEqual({ "cloudformation:DescribeStacks": 1 });
  });

  it("exits 2 for a new image: one member replaced, launch then terminate; no change set left behind", async () => {
    repo.update("alpha", (m) => {
      m.spec.image.version = NEW_VERSION;
    });
    await repo.commit("alpha: new image");
    const [run, calls] = await countCalls(() => planJson());
    expect(run.code, run.stderr).toBe(2);
    expect(run.json.hasChanges).toBe(true);
    const alpha = run.cluster("alpha");
    expect(alpha.status).toBe("update");
    expect(alpha.impact).toMatchObject({
      instancesReplaced: true,
      members: 1,
      sizeBefore: 1,
      sizeAfter: 1,
      newGroup: false,
      order: "launch-then-terminate",
      batches: 1,
    });
    expect(alpha.impact?.reasons.map((r) => r.logicalId)).toContain("EtcdLaunchTemplate");
    const imageChange = alpha.changes
      .flatMap((c) => c.properties)
      .find((p) => p.path === "/Properties/LaunchTemplateData/ImageId");
    expect(imageChange?.before).not.toEqual(imageChange?.after);

    expect(calls["cloudformation:CreateChangeSet"]).toBe(1);
    expect(calls["cloudformation:DeleteChangeSet"]).toBe(1);
    expect(calls["cloudformation:ExecuteChangeSet"]).toBeUndefined();
    expect(await listChangeSetNames(cfn(), "quorate-alpha")).toEqual([]);
    // Planning changed nothing on the stack.
    const stack = await describeStack(cfn(), "quorate-alpha");
    expect(stack?.status).toBe("CREATE_COMPLETE");
    expect(stack?.tags[STACK_TAG.templateSha256]).toBe(alphaSha);
  });

  it("keeps the change set with --keep", async () => {
    const run = await planJson("--keep");
    expect(run.code, run.stderr).toBe(2);
    const kept = await listChangeSetNames(cfn(), "quorate-alpha");
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatch(/^quorate-/);
    for (const name of kept) await deleteChangeSet(cfn(), name, "quorate-alpha");
    expect(await listChangeSetNames(cfn(), "quorate-alpha")).toEqual([]);
  });

  it("plans a cluster with no stack as a create and leaves no REVIEW_IN_PROGRESS stack; an unchanged one beside it still costs no change set", async () => {
    repo.update("alpha", (m) => {
      m.spec.image.version = "4081.2.0";
    });
    repo.write("beta", { name: "beta", size: 3 });
    await repo.commit("alpha back; beta added");
    const [run, calls] = await countCalls(() => planJson());
    expect(run.code, run.stderr).toBe(2);
    expect(run.cluster("alpha").status).toBe("no-change");
    const beta = run.cluster("beta");
    expect(beta.status).toBe("create");
    expect(beta.impact).toMatchObject({ newGroup: true, sizeAfter: 3, members: 0 });
    expect(beta.changes.map((c) => c.action)).not.toContain("modify");
    expect(beta.changes.map((c) => c.logicalId)).toContain("EtcdGroup");
    // One change set in all: beta's CREATE. Its empty stack was deleted with it.
    expect(calls["cloudformation:CreateChangeSet"]).toBe(1);
    expect(calls["cloudformation:DeleteStack"]).toBe(1);
    await waitUntilGone("quorate-beta");
    const left = await listStacks(cfn());
    expect(left.map((s) => `${s.stackName} ${s.status}`)).toEqual([
      "quorate-alpha CREATE_COMPLETE",
    ]);
  });

  it("names every cluster in the text and markdown formats", async () => {
    const text = await plan("--format", "text");
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("alpha");
    expect(text.stdout).toContain("beta");
    expect(text.stdout).not.toContain("\u001b[");
    const markdown = await plan("--format", "markdown", "--detailed-exitcode");
    expect(markdown.code, markdown.stderr).toBe(2);
    expect(markdown.stdout).toContain("alpha");
    expect(markdown.stdout).toContain("beta");
    expect(markdown.stdout).toContain("quorate-beta");
    await waitUntilGone("quorate-beta");
    expect(await listChangeSetNames(cfn(), "quorate-alpha")).toEqual([]);
  });
});
