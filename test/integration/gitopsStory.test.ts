// The GitOps story (issue 6) on the local cloud with real git and real etcd: a
// bare repository stands in for the remote; every step is a commit, and each
// reconcile pass is what `quorate reconcile --once` runs in CI.
//
// The numbered steps build on each other (step 2 upgrades the cluster step 1
// created, and so on): they run in order, as describe.sequential says.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeStack } from "../../src/aws/stacks.js";
import { conditionOf } from "../../src/reconcile/conditions.js";
import { createReconciler, type Reconciler } from "../../src/reconcile/reconciler.js";
import type { RolloutEvent } from "../../src/reconcile/rollout/events.js";
import type { ClusterStatus } from "../../src/reconcile/status.js";
import { createAmiFeed } from "../../src/render/ami.js";
import { STACK_TAG } from "../../src/render/contract.js";
import { createGitSource } from "../../src/source/git.js";
import { createManifestRepo, type ManifestRepo } from "../helpers/manifestRepo.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";
import { git, removeDir, tempDir } from "../source/gitRepos.js";

let h: Harness;
let repo: ManifestRepo;
let remote: string;
let cache: string;
let reconciler: Reconciler;
const events: RolloutEvent[] = [];

async function commitAndPush(message: string): Promise<string> {
  const sha = await repo.commit(message);
  await git(repo.dir, ["push", "--quiet", "origin", "HEAD:main"]);
  return sha;
}

function status(name: string): ClusterStatus {
  const found = reconciler.statuses().find((s) => s.cluster === name);
  if (!found) throw new Error(`no status for ${name}: ${JSON.stringify(reconciler.statuses())}`);
  return found;
}

const ready = (name: string) => conditionOf(status(name).conditions, "Ready");

beforeAll(async () => {
  h = await startHarness();
  repo = await createManifestRepo({ prefix: "gitops-story" });
  cache = await tempDir("gitops-cache");
  remote = join(cache, "remote.git");
  await git(cache, ["init", "--quiet", "--bare", remote]);
  await git(repo.dir, ["remote", "add", "origin", remote]);
  reconciler = createReconciler({
    source: createGitSource({ repo: remote, branch: "main", cacheDir: join(cache, "git") }),
    path: repo.path,
    aws: h.aws,
    amiFeed: createAmiFeed({
      source: `${h.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
    }),
    etcd: {},
    onEvent: (event) => events.push(event),
    waitForRollouts: true,
    tickMs: 200,
    heartbeatEveryMs: 1000,
  });
});

afterAll(async () => {
  await h?.close();
  await repo?.close();
  await removeDir(cache);
});

describe.sequential("a repository of manifests, reconciled commit by commit", () => {
  it("1. a committed cluster is created, and is Ready at that revision", async () => {
    repo.write("alpha", { name: "alpha", size: 3 });
    const sha = await commitAndPush("Add cluster alpha");
    const summary = await reconciler.pass();
    expect(summary.revision).toBe(sha);
    expect(ready("alpha")).toMatchObject({ status: "True", reason: "ReconciliationSucceeded" });
    expect(status("alpha")).toMatchObject({
      observedRevision: sha,
      lastAppliedRevision: sha,
      lastAttemptedRevision: sha,
      stackStatus: "CREATE_COMPLETE",
    });
    expect(conditionOf(status("alpha").conditions, "HealthGatePassed")?.status).toBe("True");
  });

  it("2. an image upgrade runs a gated rollout, member by member", async () => {
    events.length = 0;
    repo.update("alpha", (m) => {
      m.spec.image.version = "4152.2.0";
    });
    const sha = await commitAndPush("Upgrade alpha to Flatcar 4152.2.0");
    await reconciler.pass();
    expect(ready("alpha")?.status).toBe("True");
    expect(status("alpha")).toMatchObject({
      lastAppliedRevision: sha,
      stackStatus: "UPDATE_COMPLETE",
    });
    expect(events.filter((e) => e.type === "member-removed")).toHaveLength(3);
    expect(events.filter((e) => e.type === "member-promoted")).toHaveLength(3);
    expect(events.some((e) => e.type === "gate" && e.message.startsWith("gate PASSED"))).toBe(true);
  });

  it("3. a broken manifest stalls its cluster with file:line, and another cluster in the same commit still applies", async () => {
    const appliedBefore = status("alpha").lastAppliedRevision;
    repo.update("alpha", (m) => {
      m.spec.size = 4;
    });
    repo.write("beta", { name: "beta", size: 1 });
    const sha = await commitAndPush("Break alpha, add beta");
    await reconciler.pass();
    const stalled = conditionOf(status("alpha").conditions, "Stalled");
    expect(stalled).toMatchObject({ status: "True", reason: "InvalidManifest" });
    expect(stalled?.message).toMatch(
      /^clusters\/alpha\.yaml:\d+:\d+: spec\.size: must be odd and between 1 and 9/,
    );
    expect(status("alpha").lastAppliedRevision).toBe(appliedBefore);
    expect(ready("beta")?.status).toBe("True");
    expect(status("beta")).toMatchObject({
      lastAppliedRevision: sha,
      stackStatus: "CREATE_COMPLETE",
    });
  });

  it("4. a manifest deleted without prune leaves its stack, reported orphaned", async () => {
    repo.remove("beta");
    await commitAndPush("Remove beta (no prune)");
    await reconciler.pass();
    expect(ready("beta")).toMatchObject({ status: "False", reason: "Orphaned" });
    expect(ready("beta")?.message).toMatch(/prune is off, so the stack stays/);
    const stack = await describeStack(h.aws("eu-west-1").cloudFormation, "quorate-beta");
    expect(stack?.status).toBe("CREATE_COMPLETE");
    expect(stack?.tags[STACK_TAG.prune]).toBe("false");
  });
});
