// Every statement of examples/iam/quorate-controller.json removed for real
// (issue 12), with real git, real etcd and the real SDK clients against the
// local cloud enforcing what is left: some step of the story is denied with
// AWS's error, and quorate's message names a permission of that statement.
//
// quorate's message says "allow ACTION on RESOURCE in the policy of quorate's
// principal", whether quorate made the denied call itself or CloudFormation made
// it while provisioning as quorate (it passes no service role), rolling the stack
// back with that first failure. AssumeClusterAccountRoles is shown in
// test/localcloud/iamIsolation.test.ts (a cluster in another account).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeStack, stackEventsSince } from "../../src/aws/stacks.js";
import { conditionOf } from "../../src/reconcile/conditions.js";
import type { Reconciler } from "../../src/reconcile/reconciler.js";
import type { RolloutEvent } from "../../src/reconcile/rollout/events.js";
import { LOGICAL_ID } from "../../src/render/contract.js";
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
import { waitFor } from "../helpers/waitFor.js";
import { removeDir, tempDir } from "../source/gitRepos.js";

const CONTROLLER = shippedPolicy("quorate-controller");
const BACKUP = KMS_BACKUP;

/** Where each statement is first needed: creating a cluster, or upgrading one (after its snapshot). */
const NEEDED_WHEN: Record<string, "create" | "upgrade"> = {
  ListStacks: "create",
  ReadQuorateStacks: "create",
  ProposeChangesToOwnStacks: "create",
  ChangeOwnStacks: "create",
  ReadGroupsAndInstances: "create",
  ChangeOwnGroups: "create",
  TagOwnInstances: "create",
  CreateGroups: "create",
  LaunchMembers: "create",
  CreateInstanceRoles: "create",
  ChangeOwnInstanceRoles: "create",
  PassOwnInstanceRolesToEc2: "create",
  CreateSecurityGroupsAndLaunchTemplates: "create",
  ChangeOwnSecurityGroupsAndLaunchTemplates: "create",
  ListBackups: "upgrade",
  ReadAndWriteBackups: "upgrade",
  EncryptBackupsWithKmsKeys: "upgrade",
};

let h: Harness;
let repo: ManifestRepo;
let cache: string;
let reconciler: Reconciler;
const events: RolloutEvent[] = [];

beforeAll(async () => {
  h = await startHarness();
  await h.aws("eu-west-1").s3.send(new CreateBucketCommand({ Bucket: BACKUP.bucket }));
  repo = await createManifestRepo({ prefix: "iam-removed" });
  // The directory stays in git when a case's manifest is removed again.
  writeFileSync(join(repo.dir, repo.path, ".gitkeep"), "");
  cache = await tempDir("iam-removed-cache");
  reconciler = storyReconciler(h, repo, cache, events);
}, 60_000);

afterAll(async () => {
  await h?.close();
  await repo?.close();
  if (cache) await removeDir(cache);
});

const enforce = (policy: typeof CONTROLLER) =>
  h.cloud.admin.enforceIam({ policy, principalTags: PRINCIPAL_TAGS });

/** What quorate says about the cluster: its conditions' messages, one per line. */
const saidAbout = (name: string) =>
  (reconciler.statuses().find((s) => s.cluster === name)?.conditions ?? [])
    .map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`)
    .join("\n");

/** The action of the statement that AWS denied and quorate says to allow, or undefined. */
function deniedActionNamed(said: string, actions: string[]): string | undefined {
  return actions.find(
    (action) =>
      said.includes(`is not authorized to perform: ${action} on resource: `) &&
      said.includes(`allow ${action} on `),
  );
}

const statements = CONTROLLER.Statement.filter((s) => s.Sid !== "AssumeClusterAccountRoles");

describe.sequential("each controller statement removed for real", () => {
  it("lists every statement but the cross-account one", () => {
    expect(Object.keys(NEEDED_WHEN).sort()).toEqual(statements.map((s) => s.Sid).sort());
  });

  const creating = statements.filter((s) => NEEDED_WHEN[s.Sid] === "create");
  creating.forEach((statement, index) => {
    it(`without ${statement.Sid}, creating a cluster is denied and quorate names the permission`, async () => {
      const name = `c${index}`;
      await enforce(policyWithout(CONTROLLER, statement.Sid));
      // A member that never gets in fails the create at its signal timeout (6 s at the local cloud's pace).
      repo.write(name, {
        name,
        size: 1,
        spec: { gates: TEST_GATES, updatePolicy: { signalTimeout: "PT2M" } },
      });
      await repo.commit(`Add ${name} without ${statement.Sid}`);
      await reconciler.pass();
      const said = saidAbout(name);
      expect(deniedActionNamed(said, actionsOf(statement)), said).toBeDefined();
      expect(
        conditionOf(
          reconciler.statuses().find((s) => s.cluster === name)?.conditions ?? [],
          "Ready",
        )?.status,
      ).not.toBe("True");
      // Put things back: the full policy, and the manifest gone (without prune its stack is left).
      await enforce(CONTROLLER);
      repo.remove(name);
      await repo.commit(`Drop ${name}`);
    }, 90_000);
  });

  const upgrading = statements.filter((s) => NEEDED_WHEN[s.Sid] === "upgrade");
  it("creates a cluster with backups under the whole policy", async () => {
    await enforce(CONTROLLER);
    repo.write("up", { name: "up", size: 1, spec: { backup: BACKUP, gates: TEST_GATES } });
    await repo.commit("Add up");
    await reconciler.pass();
    expect(saidAbout("up")).toMatch(/^Ready=True/m);
  }, 90_000);

  upgrading.forEach((statement, index) => {
    it(`without ${statement.Sid}, the upgrade's snapshot is denied and quorate names the permission`, async () => {
      await enforce(policyWithout(CONTROLLER, statement.Sid));
      // A reconciler of its own, which is not backing off from the case before.
      reconciler = storyReconciler(h, repo, cache, events);
      repo.update("up", (m) => {
        m.spec.image.version = `4152.2.${index + 1}`;
      });
      await repo.commit(`Upgrade up without ${statement.Sid}`);
      await reconciler.pass();
      const said = saidAbout("up");
      expect(deniedActionNamed(said, actionsOf(statement)), said).toBeDefined();
      // The snapshot comes first: nothing was replaced.
      expect(events.filter((e) => e.type === "member-removed")).toEqual([]);
    }, 90_000);
  });

  it("taken away mid-update, ChangeOwnSecurityGroupsAndLaunchTemplates leaves the rollback failed, and quorate names the permission", async () => {
    // CloudFormation rolls back as the principal that started the update, so the
    // rollback needs what the update needed: here, to put back the security group
    // and launch template, which the update re-tagged and gave a new version.
    const statement = CONTROLLER.Statement.find(
      (s) => s.Sid === "ChangeOwnSecurityGroupsAndLaunchTemplates",
    )!;
    await enforce(CONTROLLER);
    reconciler = storyReconciler(h, repo, cache, events);
    // The new member's signal is lost: the group's update fails at its signal timeout (6 s here).
    await h.cloud.admin.signalFault({ mode: "drop", count: 1 });
    repo.update("up", (m) => {
      m.spec.image.version = "4152.3.0";
      m.spec.updatePolicy = { signalTimeout: "PT2M" };
    });
    await repo.commit("Upgrade up, whose new member's signal is lost");
    const pass = reconciler.pass();
    const cfn = h.aws("eu-west-1").cloudFormation;
    await waitFor(
      "the launch template's new version",
      async () =>
        (await stackEventsSince(cfn, "quorate-up", undefined)).some(
          (e) => e.logicalId === LOGICAL_ID.launchTemplate && e.status === "UPDATE_COMPLETE",
        ),
      { timeoutMs: 60_000 },
    );
    await enforce(policyWithout(CONTROLLER, statement.Sid));
    await pass;
    expect(await describeStack(cfn, "quorate-up")).toMatchObject({
      status: "UPDATE_ROLLBACK_FAILED",
    });
    const said = saidAbout("up");
    expect(said).toMatch(
      /; the rollback stopped at: Etcd\w+ UPDATE_FAILED: Resource handler returned message: "User: /,
    );

    expect(deniedActionNamed(said, actionsOf(statement)), said).toBeDefined();
  }, 120_000);
});
