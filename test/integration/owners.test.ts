// Two quorates, two repositories, one account and region. Each acts only on
// the stacks tagged with its own owner: neither takes the other's stacks for
// orphans (with prune on, that would delete another team's etcd cluster), and a
// manifest that names a stack someone else owns is stalled, never applied.
// And a quorate never prunes because its manifests directory went missing, or
// while a manifest file does not parse (it may declare the "missing" cluster).
//
// SCALE-TEST MODE: the local cloud runs these instances WITHOUT etcd
// (withoutEtcd: true), and the stacks are created the way quorate's apply leaves
// them (test/helpers/stacksAsQuorateLeavesThem.ts). Nothing here needs a member
// to answer: the passes run without health probes, and what is checked is
// which stacks each quorate touches, counted by the local cloud's own counters.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsClients } from "../../src/aws/clients.js";
import { describeStack, listStacks } from "../../src/aws/stacks.js";
import type { LocalCloud } from "../../src/localcloud/index.js";
import { loadManifests } from "../../src/manifest/load.js";
import { conditionOf } from "../../src/reconcile/conditions.js";
import { createReconciler, type PassSummary } from "../../src/reconcile/reconciler.js";
import type { AmiFeed } from "../../src/render/ami.js";
import { STACK_TAG } from "../../src/render/contract.js";
import { createGitSource } from "../../src/source/git.js";
import { cli } from "../cli/run.js";
import { createManifestRepo, type ManifestRepo } from "../helpers/manifestRepo.js";
import {
  countedPass,
  createStacksAsQuorateLeavesThem,
  startScaleTestCloud,
} from "../helpers/stacksAsQuorateLeavesThem.js";
import { waitFor } from "../helpers/waitFor.js";

const REGION = "eu-west-1";

let cloud: LocalCloud;
let scratch: string;
let aws: (region: string) => AwsClients;
let amiFeed: AmiFeed;
/** Team A's repository (owner team-a) and team B's (owner team-b). */
let repoA: ManifestRepo;
let repoB: ManifestRepo;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "quorate-owners-"));
  ({ cloud, aws, amiFeed } = await startScaleTestCloud(scratch));

  repoA = await createManifestRepo({ prefix: "owners-a" });
  repoA.write("alpha", { name: "alpha", spec: { prune: true } });
  repoA.write("anchor", { name: "anchor", spec: { prune: true } });
  const revA = await repoA.commit("team A: alpha and anchor (prune: true)");

  repoB = await createManifestRepo({ prefix: "owners-b" });
  repoB.write("beta", { name: "beta", spec: { prune: true } });
  // Names team A's stack, and a stack somebody made by hand.
  repoB.write("gamma", { name: "gamma", stackName: "quorate-alpha" });
  repoB.write("delta", { name: "delta", stackName: "hand-made" });
  const revB = await repoB.commit("team B: beta, and two manifests naming stacks not theirs");

  const loadedA = await loadManifests([repoA.path], repoA.dir);
  const loadedB = await loadManifests([repoB.path], repoB.dir);
  expect([...loadedA.errors, ...loadedB.errors]).toEqual([]);
  const beta = loadedB.clusters.filter((c) => c.name === "beta");
  const delta = loadedB.clusters.filter((c) => c.name === "delta");
  await createStacksAsQuorateLeavesThem(aws(REGION), loadedA.clusters, amiFeed, revA, "team-a");
  await createStacksAsQuorateLeavesThem(aws(REGION), beta, amiFeed, revB, "team-b");
  await createStacksAsQuorateLeavesThem(aws(REGION), delta, amiFeed, revB, null);
}, 110_000);

afterAll(async () => {
  await cloud?.close();
  await repoA?.close();
  await repoB?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** `sourceKnowsPath: false`: a source that leaves the path check to the reconciler. */
function reconcilerOf(
  repo: ManifestRepo,
  owner: string,
  regions?: string[],
  { sourceKnowsPath = true, cache = owner } = {},
) {
  return createReconciler({
    ...(regions ? { regions } : {}),
    source: createGitSource({
      repo: repo.dir,
      branch: "main",
      cacheDir: join(scratch, cache),
      ...(sourceKnowsPath ? { manifestsPath: repo.path } : {}),
    }),
    path: repo.path,
    aws,
    amiFeed,
    etcd: {},
    onEvent: () => {},
    waitForRollouts: true,
    probeHealth: false,
    owner,
  });
}

const actions = (summary: PassSummary) =>
  Object.fromEntries(summary.clusters.map((c) => [c.cluster, `${c.action}/${c.outcome}`]));

const stackNames = async () =>
  (await listStacks(aws(REGION).cloudFormation)).map((s) => `${s.stackName} ${s.status}`).sort();

describe("two quorates with their own owners in one account and region", () => {
  it("team B's pass leaves team A's stacks alone and stalls manifests that name stacks not its own", async () => {
    const before = await stackNames();
    expect(before).toEqual([
      "hand-made CREATE_COMPLETE",
      "quorate-alpha CREATE_COMPLETE",
      "quorate-anchor CREATE_COMPLETE",
      "quorate-beta CREATE_COMPLETE",
    ]);
    const teamB = reconcilerOf(repoB, "team-b");
    const { summary, calls } = await countedPass(cloud, () => teamB.pass());

    expect(summary.source.ok, summary.source.message).toBe(true);
    expect(summary.source.owner).toBe("team-b");
    // Team A's alpha has prune: true and no manifest in B's repository: B must not touch it.
    expect(actions(summary)).toEqual({
      beta: "none/ready",
      gamma: "stall/stalled",
      delta: "stall/stalled",
    });
    expect(calls["cloudformation:CreateChangeSet"]).toBeUndefined();
    expect(calls["cloudformation:DeleteStack"]).toBeUndefined();
    expect(await stackNames()).toEqual(before);

    const message = (cluster: string) =>
      conditionOf(teamB.statuses().find((s) => s.cluster === cluster)?.conditions ?? [], "Ready")
        ?.message;
    expect(message("gamma")).toMatch(
      /^stack quorate-alpha belongs to the quorate with owner "team-a" \(tag quorate.dev:owner\), not to this one \(owner "team-b"\)/,
    );
    expect(message("delta")).toMatch(/^stack hand-made exists but quorate did not create it/);
    expect(teamB.statuses().map((s) => s.cluster)).toEqual(
      expect.not.arrayContaining(["alpha", "anchor"]),
    );
  });

  it("quorate apply as team B refuses team A's stack without a change set; a bad --owner is a usage error", async () => {
    await cloud.admin.resetCounters();
    const env = { ...process.env, XDG_CACHE_HOME: join(scratch, "cli-cache") };
    const base = ["apply", "--yes", "--endpoint", cloud.endpoint, "--path", repoB.path];
    const run = await cli([...base, "--owner", "team-b", "--cluster", "gamma"], {
      cwd: repoB.dir,
      env,
    });
    expect(run.code, run.stdout + run.stderr).toBe(5);
    expect(run.stdout).toMatch(
      /^gamma: needs-operator: stack quorate-alpha belongs to the quorate with owner "team-a"/m,
    );
    const calls = await cloud.admin.counters();
    expect(calls["cloudformation:CreateChangeSet"]).toBeUndefined();

    const bad = await cli([...base, "--owner", "Team B"], { cwd: repoB.dir, env });
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/--owner must be 1 to 63 lowercase letters.*\(got "Team B"\)/);
  });

  it("team A prunes its own deleted manifest's stack, and only that one", async () => {
    repoA.remove("alpha");
    await repoA.commit("team A: drop alpha");
    const teamA = reconcilerOf(repoA, "team-a");
    const { summary, calls } = await countedPass(cloud, () => teamA.pass());

    expect(actions(summary)).toEqual({ anchor: "none/ready", alpha: "delete/deleting" });
    expect(calls["cloudformation:DeleteStack"]).toBe(1);
    await waitFor(
      "quorate-alpha deleted",
      async () => (await describeStack(aws(REGION).cloudFormation, "quorate-alpha")) === undefined,
    );
    expect(await stackNames()).toEqual([
      "hand-made CREATE_COMPLETE",
      "quorate-anchor CREATE_COMPLETE",
      "quorate-beta CREATE_COMPLETE",
    ]);
    const beta = await describeStack(aws(REGION).cloudFormation, "quorate-beta");
    expect(beta?.tags[STACK_TAG.owner]).toBe("team-b");
  });
});

describe("a commit that removes the manifests directory", () => {
  it("prunes nothing: a running quorate keeps its last revision, and so does a restarted one", async () => {
    const running = reconcilerOf(repoA, "team-a");
    const first = await running.pass();
    expect(actions(first)).toEqual({ anchor: "none/ready" });

    // anchor was the last manifest: git keeps no empty directory, so clusters/ is gone.
    repoA.remove("anchor");
    const gone = await repoA.commit("team A: manifests moved away (by mistake)");
    const kept = await countedPass(cloud, () => running.pass());
    expect(kept.summary.source).toMatchObject({ ok: false, reason: "ManifestsPathMissing" });
    expect(kept.summary.source.message).toMatch(
      new RegExp(
        `^The head of "main", ${gone.slice(0, 12)} .*, has no clusters, so it is refused: nothing was applied or pruned\\. Restore the directory in git, or fix --path .* Keeping the last good revision ${first.revision?.slice(0, 12)}\\.$`,
      ),
    );
    expect(kept.summary.revision).toBe(first.revision);
    expect(actions(kept.summary)).toEqual({ anchor: "none/ready" });

    // The refused head never became the last good revision on disk either.
    const restarted = await countedPass(cloud, () => reconcilerOf(repoA, "team-a").pass());
    expect(restarted.summary.source).toMatchObject({ ok: false, reason: "ManifestsPathMissing" });
    expect(restarted.summary.revision).toBe(first.revision);
    expect(actions(restarted.summary)).toEqual({ anchor: "none/ready" });

    // A source that does not know the path: the reconciler itself refuses to act on nothing.
    const blind = reconcilerOf(repoA, "team-a", undefined, {
      sourceKnowsPath: false,
      cache: "team-a-blind",
    });
    const fresh = await countedPass(cloud, () => blind.pass());
    expect(fresh.summary.source).toMatchObject({ ok: false, reason: "ManifestsPathMissing" });
    expect(fresh.summary.source.message).toMatch(/nothing is reconciled until it is back/);
    expect(fresh.summary.clusters).toEqual([]);
    expect(fresh.summary.revision).toBeUndefined();
    for (const { calls } of [kept, restarted, fresh])
      expect(calls["cloudformation:DeleteStack"]).toBeUndefined();
    expect(await describeStack(aws(REGION).cloudFormation, "quorate-anchor")).toBeDefined();
  });

  it("a manifest that does not parse holds every deletion: it may declare the cluster", async () => {
    repoA.write("anchor", "apiVersion: quorate.dev/v1alpha1\nmetadata: [name: anchor\n");
    await repoA.commit("team A: anchor, mangled");
    const ci = reconcilerOf(repoA, "team-a", [REGION]);
    const { summary, calls } = await countedPass(cloud, () => ci.pass());
    expect(summary.source.ok, summary.source.message).toBe(true);
    expect(calls["cloudformation:DeleteStack"]).toBeUndefined();
    const anchor = ci.statuses().find((s) => s.cluster === "anchor");
    expect(conditionOf(anchor?.conditions ?? [], "Ready")?.message).toMatch(
      /^no manifest names this cluster, but clusters\/anchor\.yaml:\d+:\d+: YAML syntax error/,
    );
    expect(await describeStack(aws(REGION).cloudFormation, "quorate-anchor")).toBeDefined();
  });

  it("an emptied directory that is kept in git is a deliberate deletion, and prune applies", async () => {
    repoA.remove("anchor");
    writeFileSync(join(repoA.dir, repoA.path, ".gitkeep"), "");
    await repoA.commit("team A: delete every cluster, keep the directory");
    // A new process (a CI job) knows no region from the manifests any more: --region names it.
    const ci = reconcilerOf(repoA, "team-a", [REGION]);
    const { summary, calls } = await countedPass(cloud, () => ci.pass());
    expect(summary.source.ok, summary.source.message).toBe(true);
    expect(actions(summary)).toEqual({ anchor: "delete/deleting" });
    expect(calls["cloudformation:DeleteStack"]).toBe(1);
  });
});
