// The shipped IAM policies (examples/iam) and the reconciler the IAM stories
// run quorate with, shared by test/integration/iamLeastPrivilege.test.ts and
// test/integration/iamStatementsRemoved.test.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createReconciler, type Reconciler } from "../../src/reconcile/reconciler.js";
import type { RolloutEvent } from "../../src/reconcile/rollout/events.js";
import { createAmiFeed } from "../../src/render/ami.js";
import { createGitSource } from "../../src/source/git.js";
import type { ManifestRepo } from "./manifestRepo.js";
import type { Harness } from "./quorateHarness.js";

export interface PolicyStatement {
  Sid: string;
  Action?: string | string[];
}
export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[];
}

const ROOT = new URL("../../", import.meta.url);

export function shippedPolicy(name: "quorate-controller" | "quorate-plan-only"): PolicyDocument {
  return JSON.parse(
    readFileSync(new URL(`examples/iam/${name}.json`, ROOT), "utf8"),
  ) as PolicyDocument;
}

/** SSE-KMS with a customer managed key, so that S3 asks KMS as quorate (EncryptBackupsWithKmsKeys). */
export const KMS_BACKUP = {
  bucket: "snaps",
  encryption: { type: "SSE-KMS", kmsKeyId: "1234abcd-12ab-34cd-56ef-1234567890ab" },
};

/** quorate without --owner is owner "default"; the policies compare the owner tag with the principal's. */
export const PRINCIPAL_TAGS = { "quorate.dev:owner": "default" };

export function actionsOf(statement: PolicyStatement): string[] {
  return [statement.Action ?? []].flat();
}

/** The policy with one statement removed; throws when it has no such statement. */
export function policyWithout(policy: PolicyDocument, sid: string): PolicyDocument {
  if (!policy.Statement.some((s) => s.Sid === sid)) throw new Error(`no statement ${sid}`);
  return { ...policy, Statement: policy.Statement.filter((s) => s.Sid !== sid) };
}

/** A reconciler over the repo's committed manifests, talking to the harness's local cloud. */
export function storyReconciler(
  h: Harness,
  repo: ManifestRepo,
  cacheDir: string,
  events: RolloutEvent[],
): Reconciler {
  return createReconciler({
    source: createGitSource({ repo: repo.dir, branch: "main", cacheDir: join(cacheDir, "git") }),
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
}
