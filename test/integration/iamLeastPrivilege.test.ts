// The shipped policies against the local cloud enforcing them (issue 12), with
// real git, real etcd and the real SDK clients: every call quorate makes, and
// everything CloudFormation provisions as quorate (it passes no service role),
// is evaluated by a real IAM policy evaluator.
//
// Under examples/iam/quorate-controller.json a cluster with backups is created,
// upgraded through a gated rollout that first takes a snapshot, and pruned when
// its manifest is deleted, with no call denied. `quorate plan` runs under
// examples/iam/quorate-plan-only.json. Then every statement of the controller
// policy is shown needed: without it, one of the requests the story made is
// denied (test/integration/iamStatementsRemoved.test.ts removes each for real
// and shows quorate's message).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeStack } from "../../src/aws/stacks.js";
import { PolicyEnforcer } from "../../src/localcloud/iam/policyEnforcer.js";
import type { IamReport } from "../../src/localcloud/index.js";
import { conditionOf } from "../../src/reconcile/conditions.js";
import type { Reconciler } from "../../src/reconcile/reconciler.js";
import type { RolloutEvent } from "../../src/reconcile/rollout/events.js";
import { cli } from "../cli/run.js";
import {
  actionsOf,
  KMS_BACKUP,
  PRINCIPAL_TAGS,
  policyWithout,
  shippedPolicy,
  storyReconciler,
} from "../helpers/iamPolicies.js";
import { createManifestRepo, type ManifestRepo } from "../helpers/manifestRepo.js";
import { type Harness, startHarness, TEST_GATES } from "../helpers/quorateHarness.js";
import { removeDir, tempDir } from "../source/gitRepos.js";

const ROOT = new URL("../../", import.meta.url);
const CONTROLLER = shippedPolicy("quorate-controller");
const PLAN_ONLY = shippedPolicy("quorate-plan-only");
const BACKUP = KMS_BACKUP;

let h: Harness;
let repo: ManifestRepo;
let cache: string;
let reconciler: Reconciler;
const events: RolloutEvent[] = [];
/** Everything the controller policy evaluated during the story. */
const story: IamReport["evaluated"] = [];

const denials = async () =>
  Object.entries(await h.cloud.admin.counters()).filter(([key]) => key.startsWith("denied:"));

beforeAll(async () => {
  h = await startHarness();
  // Set up as an administrator would, before quorate's policy is enforced.
  await h.aws("eu-west-1").s3.send(new CreateBucketCommand({ Bucket: BACKUP.bucket }));
  await h.cloud.admin.enforceIam({ policy: CONTROLLER, principalTags: PRINCIPAL_TAGS });
  repo = await createManifestRepo({ prefix: "iam-story" });
  cache = await tempDir("iam-cache");
  reconciler = storyReconciler(h, repo, cache, events);
}, 60_000);

afterAll(async () => {
  await h?.close();
  await repo?.close();
  if (cache) await removeDir(cache);
});

const ready = (name: string) =>
  conditionOf(reconciler.statuses().find((s) => s.cluster === name)?.conditions ?? [], "Ready");

const cliEnv = () => ({ ...process.env, XDG_CACHE_HOME: join(cache, "cli-cache") });

describe.sequential("quorate under the shipped policies", () => {
  it("1. controller: creates a cluster and upgrades it through a gated rollout after a snapshot, with no call denied", async () => {
    repo.write("alpha", {
      name: "alpha",
      size: 1,
      spec: { prune: true, backup: BACKUP, gates: TEST_GATES },
    });
    await repo.commit("Add alpha");
    await reconciler.pass();
    expect(ready("alpha"), JSON.stringify(await denials())).toMatchObject({ status: "True" });

    repo.update("alpha", (m) => {
      m.spec.image.version = "4152.2.0";
    });
    await repo.commit("Upgrade alpha");
    await reconciler.pass();
    expect(ready("alpha"), JSON.stringify(await denials())).toMatchObject({ status: "True" });
    expect(events.filter((e) => e.type === "member-removed")).toHaveLength(1);
    expect(events.some((e) => e.type === "snapshot")).toBe(true);
    expect(await denials()).toEqual([]);
    story.push(...(await h.cloud.admin.iam()).evaluated);
  }, 180_000);

  it("2. plan-only: quorate plan previews an upgrade and a new cluster; only the preview's empty stack stays", async () => {
    await h.cloud.admin.resetCounters();
    await h.cloud.admin.enforceIam({ policy: PLAN_ONLY, principalTags: PRINCIPAL_TAGS });
    // Working-tree edits only: plan reads the files, the reconciler reads the commits.
    repo.update("alpha", (m) => {
      m.spec.instanceType = "t3.large";
    });
    repo.write("beta", { name: "beta", size: 1, spec: { gates: TEST_GATES } });
    const run = await cli(["plan", "--endpoint", h.endpoint, "--path", repo.path], {
      cwd: repo.dir,
      env: cliEnv(),
    });
    repo.update("alpha", (m) => {
      m.spec.instanceType = "t3.medium";
    });
    repo.remove("beta");
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^~ alpha .* update: /m);
    expect(run.stdout).toMatch(/^\+ beta .* create: /m);
    // A plan-only principal may not delete stacks: the CREATE preview's empty
    // stack under review is left for the next apply, which creates the cluster in it.
    expect(await denials()).toEqual([["denied:cloudformation:DeleteStack", 1]]);
    const cfn = h.aws("eu-west-1").cloudFormation;
    expect((await describeStack(cfn, "quorate-beta"))?.status).toBe("REVIEW_IN_PROGRESS");
    // The controller's next pass leaves it too (a plan may be using it), and says what it is.
    await reconciler.pass();
    expect(ready("beta")?.message).toMatch(/^stack quorate-beta is an empty stack under review/);
  }, 60_000);

  it("3. controller: prunes the cluster whose manifest is deleted, with no call denied", async () => {
    await h.cloud.admin.resetCounters();
    await h.cloud.admin.enforceIam({ policy: CONTROLLER, principalTags: PRINCIPAL_TAGS });
    repo.remove("alpha");
    // The directory stays in git, so that its last manifest's deletion reads as a deletion.
    writeFileSync(join(repo.dir, repo.path, ".gitkeep"), "");
    await repo.commit("Drop alpha (prune: true)");
    const pruned = await reconciler.pass();
    expect(
      pruned.clusters.map((c) => `${c.cluster} ${c.action}/${c.outcome}`),
      JSON.stringify(pruned),
    ).toContain("alpha delete/deleting");
    const cfn = h.aws("eu-west-1").cloudFormation;
    for (let i = 0; i < 100 && (await describeStack(cfn, "quorate-alpha")); i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await describeStack(cfn, "quorate-alpha")).toBeUndefined();
    expect(await denials()).toEqual([]);
    story.push(...(await h.cloud.admin.iam()).evaluated);
    // CloudFormation's provisioning was evaluated too, not only quorate's own calls.
    expect(story.map((e) => e.request.action)).toEqual(
      expect.arrayContaining([
        "iam:CreateRole",
        "autoscaling:CreateAutoScalingGroup",
        "autoscaling:DeleteAutoScalingGroup",
        "s3:PutObject",
      ]),
    );
  }, 60_000);

  it("4. controller: every statement is needed, since without it a request of the story is denied", async () => {
    expect(story.length).toBeGreaterThan(0);
    const needs: Record<string, string> = {};
    // The story's cluster is in quorate's own account; test/localcloud/iamIsolation.test.ts
    // shows that a cluster in another account (spec.account.roleArn) needs this one.
    const elsewhere = new Set(["AssumeClusterAccountRoles"]);
    for (const statement of CONTROLLER.Statement.filter((s) => !elsewhere.has(s.Sid))) {
      const enforcer = await PolicyEnforcer.create(
        policyWithout(CONTROLLER, statement.Sid),
        statement.Sid,
        PRINCIPAL_TAGS,
      );
      for (const { principal, request } of story) {
        const denial = await enforcer.evaluate(principal, [request]);
        if (denial) {
          needs[statement.Sid] = denial.action;
          break;
        }
      }
    }
    expect(Object.keys(needs)).toEqual(
      CONTROLLER.Statement.map((s) => s.Sid).filter((sid) => !elsewhere.has(sid)),
    );
    // An action the story did not ask for is one of the calls quorate makes on
    // paths the story does not walk (a cancelled update, a dead member, backup
    // retention, a failed upload...): each is an SDK command src/aws sends.
    const asked = new Set(story.filter((e) => e.allowed).map((e) => e.request.action));
    const sent = readdirSync(new URL("src/aws/", ROOT))
      .map((f) => readFileSync(new URL(`src/aws/${f}`, ROOT), "utf8"))
      .join("\n");
    const listed = CONTROLLER.Statement.flatMap(actionsOf);
    const unused = listed.filter(
      (action) =>
        !asked.has(action) &&
        !sent.includes(`new ${action.split(":")[1]}Command(`) &&
        action !== "sts:AssumeRole", // the SDK's credential provider sends it (src/aws/clients.ts)
    );
    expect(unused).toEqual([]);
  });
});
