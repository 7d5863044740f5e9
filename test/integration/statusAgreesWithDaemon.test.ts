// `quorate status` (rebuilt from the live stacks) and the daemon's own status
// come from one matching of manifests with stacks (src/reconcile/planWork.ts),
// so on the same commit and the same stacks they say the same thing: a cluster
// in sync, an invalid manifest whose stack exists, an orphan, a manifest that
// names a stack quorate did not make, and a suspended cluster.
//
// SCALE-TEST MODE: the local cloud runs these instances WITHOUT etcd
// (withoutEtcd: true) and the stacks are created as quorate's apply leaves them
// (test/helpers/stacksAsQuorateLeavesThem.ts). Nothing here is applied: the
// reconciler's pass runs without health probes, so no member needs to answer.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsClients } from "../../src/aws/clients.js";
import type { LocalCloud } from "../../src/localcloud/index.js";
import { loadManifests } from "../../src/manifest/load.js";
import { conditionOf } from "../../src/reconcile/conditions.js";
import { createReconciler } from "../../src/reconcile/reconciler.js";
import type { ClusterStatus } from "../../src/reconcile/status.js";
import { readLiveStatuses } from "../../src/reconcile/statusReport.js";
import type { AmiFeed } from "../../src/render/ami.js";
import { createGitSource } from "../../src/source/git.js";
import { createManifestRepo, type ManifestRepo } from "../helpers/manifestRepo.js";
import {
  createStacksAsQuorateLeavesThem,
  startScaleTestCloud,
} from "../helpers/stacksAsQuorateLeavesThem.js";

const REGION = "eu-west-1";
let cloud: LocalCloud;
let scratch: string;
let aws: (region: string) => AwsClients;
let amiFeed: AmiFeed;
let repo: ManifestRepo;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "quorate-agree-"));
  ({ cloud, aws, amiFeed } = await startScaleTestCloud(scratch));
  repo = await createManifestRepo({ prefix: "agree" });
  for (const name of ["alpha", "bravo", "charlie", "echo"]) repo.write(name, { name });
  repo.write("delta", { name: "delta", stackName: "hand-made" });
  const first = await repo.commit("five clusters");
  const loaded = await loadManifests([repo.path], repo.dir);
  expect(loaded.errors).toEqual([]);
  const byName = (names: string[]) => loaded.clusters.filter((c) => names.includes(c.name));
  await createStacksAsQuorateLeavesThem(
    aws(REGION),
    byName(["alpha", "bravo", "charlie", "echo"]),
    amiFeed,
    first,
  );
  await createStacksAsQuorateLeavesThem(aws(REGION), byName(["delta"]), amiFeed, first, null);

  // Then: bravo's manifest breaks, charlie's is deleted, echo is suspended.
  repo.update("bravo", (m) => {
    m.spec.size = 4;
  });
  repo.remove("charlie");
  repo.update("echo", (m) => {
    m.spec.suspend = true;
  });
  await repo.commit("bravo broken, charlie deleted, echo suspended");
}, 110_000);

afterAll(async () => {
  await cloud?.close();
  await repo?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** What a person reads: each cluster's Ready and Stalled conditions (the gate is left out: only the daemon probes). */
function verdicts(statuses: readonly ClusterStatus[]) {
  return Object.fromEntries(
    statuses.map((s) => {
      const ready = conditionOf(s.conditions, "Ready");
      const stalled = conditionOf(s.conditions, "Stalled");
      return [
        s.cluster,
        {
          ready: `${ready?.status} ${ready?.reason}`,
          stalled: `${stalled?.status} ${stalled?.reason}`,
          // In-sync messages are worded for each view; every other message comes from planWork.
          message: ready?.status === "True" ? "(in sync)" : ready?.message,
          region: s.region,
        },
      ];
    }),
  );
}

describe("the daemon's status and quorate status, on the same commit and stacks", () => {
  it("agree on every cluster, an invalid manifest included", async () => {
    const reconciler = createReconciler({
      source: createGitSource({ repo: repo.dir, branch: "main", cacheDir: join(scratch, "git") }),
      path: repo.path,
      aws,
      amiFeed,
      etcd: {},
      onEvent: () => {},
      waitForRollouts: true,
      probeHealth: false,
    });
    const summary = await reconciler.pass();
    expect(summary.clusters.map((c) => `${c.cluster} ${c.action}`).sort()).toEqual([
      "alpha none",
      "bravo stall",
      "charlie orphan",
      "delta stall",
      "echo suspended",
    ]);
    const daemon = verdicts(reconciler.statuses());

    const loaded = await loadManifests([repo.path], repo.dir);
    const rebuilt = await readLiveStatuses(loaded, { aws, amiFeed, revision: await repo.head() });
    expect(verdicts(rebuilt.clusters)).toEqual(daemon);

    expect(daemon.bravo).toMatchObject({ ready: "False InvalidManifest", region: REGION });
    expect(daemon.bravo?.message).toMatch(/^clusters\/bravo\.yaml:\d+:\d+: spec\.size: /);
    expect(daemon.charlie).toMatchObject({ ready: "False Orphaned", stalled: "False Orphaned" });
    expect(daemon.delta).toMatchObject({
      ready: "False StackNeedsOperator",
      stalled: "True StackNeedsOperator",
    });
    expect(daemon.echo?.ready).toBe("False Suspended");
    expect(daemon.alpha?.ready).toBe("True ReconciliationSucceeded");
  });
});
