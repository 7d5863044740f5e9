// Issue 6, economy: a no-op reconcile pass over 100 in-sync clusters creates
// no change set and makes at most 2 AWS calls per cluster, counted by the
// local cloud's own per-action counters.
//
// SCALE-TEST MODE: the local cloud runs these instances WITHOUT etcd
// (withoutEtcd: true); they signal CloudFormation right after boot. quorate's
// own apply cannot create such clusters (a member that never runs etcd never
// joins), so the stacks are created the way quorate leaves them
// (test/helpers/stacksAsQuorateLeavesThem.ts). With no
// etcd, the members' health gate fails (HealthGatePassed False); Ready only
// says the stacks match git, which is what this test is about.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsClients } from "../../src/aws/clients.js";
import type { LocalCloud } from "../../src/localcloud/index.js";
import { loadManifests } from "../../src/manifest/load.js";
import { conditionOf } from "../../src/reconcile/conditions.js";
import { createReconciler } from "../../src/reconcile/reconciler.js";
import type { RolloutEvent } from "../../src/reconcile/rollout/events.js";
import type { AmiFeed } from "../../src/render/ami.js";
import { createGitSource } from "../../src/source/git.js";
import { createManifestRepo, type ManifestRepo } from "../helpers/manifestRepo.js";
import {
  countedPass,
  createStacksAsQuorateLeavesThem,
  startScaleTestCloud,
} from "../helpers/stacksAsQuorateLeavesThem.js";

const CLUSTERS = 100;
const REGION = "eu-west-1";

let cloud: LocalCloud;
let repo: ManifestRepo;
let scratch: string;
let aws: (region: string) => AwsClients;
let amiFeed: AmiFeed;
let revision: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "quorate-economy-"));
  ({ cloud, aws, amiFeed } = await startScaleTestCloud(scratch));
  repo = await createManifestRepo({ prefix: "economy" });
  repo.generate(CLUSTERS, { size: 1 });
  revision = await repo.commit(`${CLUSTERS} one-member clusters`);
  const loaded = await loadManifests([repo.path], repo.dir);
  expect(loaded.errors).toEqual([]);
  await createStacksAsQuorateLeavesThem(aws(REGION), loaded.clusters, amiFeed, revision);
}, 110_000);

afterAll(async () => {
  await cloud?.close();
  await repo?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe(`a no-op reconcile pass over ${CLUSTERS} clusters`, () => {
  it("creates no change set and makes at most 2 AWS calls per cluster", async () => {
    const events: RolloutEvent[] = [];
    const groupNamesPerCall = recordGroupNamesPerCall(aws(REGION).autoScaling);
    const reconciler = createReconciler({
      source: createGitSource({ repo: repo.dir, branch: "main", cacheDir: join(scratch, "git") }),
      path: repo.path,
      aws,
      amiFeed,
      etcd: {},
      onEvent: (e) => events.push(e),
      waitForRollouts: true,
      probeHealth: true,
    });
    // The first pass of a new reconciler (source fetched, manifests loaded and
    // rendered) and a second one (everything cached) must cost the same calls.
    const first = await countedPass(cloud, () => reconciler.pass());
    const second = await countedPass(cloud, () => reconciler.pass());
    for (const [n, pass] of [first, second].entries())
      console.log(
        `no-op pass ${n + 1} over ${CLUSTERS} clusters: ${pass.total} AWS calls (${(pass.total / CLUSTERS).toFixed(2)} per cluster) in ${pass.wallMs.toFixed(0)} ms\n` +
          Object.entries(pass.calls)
            .map(([action, count]) => `  ${action}: ${count}`)
            .join("\n"),
      );
    expect(second.calls).toEqual(first.calls);
    const { summary, calls, total } = second;

    expect(summary.source.ok, summary.source.message).toBe(true);
    expect(summary.revision).toBe(revision);
    expect(calls["cloudformation:CreateChangeSet"]).toBeUndefined();
    expect(calls["cloudformation:ExecuteChangeSet"]).toBeUndefined();
    expect(total).toBeLessThanOrEqual(2 * CLUSTERS);
    // Read-only: nothing but listing and describing.
    expect(Object.keys(calls).every((a) => /:(Describe|List|Get)/.test(a))).toBe(true);
    expect(events).toEqual([]);
    // AWS refuses more than 50 group names per call unless MaxRecords is raised
    // (ValidationError "The number of group names that may be passed in is
    // limited to 50"); the local cloud does not check it, so it is checked here.
    expect(groupNamesPerCall.length).toBeGreaterThan(0);
    expect(groupNamesPerCall.filter((c) => c.names > Math.max(50, c.maxRecords))).toEqual([]);

    expect(summary.clusters).toHaveLength(CLUSTERS);
    expect(new Set(summary.clusters.map((c) => `${c.action}/${c.outcome}`))).toEqual(
      new Set(["none/ready"]),
    );
    const statuses = reconciler.statuses();
    expect(statuses).toHaveLength(CLUSTERS);
    for (const status of statuses) {
      expect(conditionOf(status.conditions, "Ready")?.status, status.cluster).toBe("True");
      expect(status.lastAppliedRevision).toBe(revision);
      // Probed, and failed as it must: these instances run no etcd (scale-test mode).
      expect(conditionOf(status.conditions, "HealthGatePassed")?.status).toBe("False");
    }
  });
});

/** Names and MaxRecords of every DescribeAutoScalingGroups call this client sends from now on. */
function recordGroupNamesPerCall(asg: AutoScalingClient): { names: number; maxRecords: number }[] {
  const calls: { names: number; maxRecords: number }[] = [];
  asg.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "DescribeAutoScalingGroupsCommand") {
        const input = args.input as { AutoScalingGroupNames?: string[]; MaxRecords?: number };
        calls.push({
          names: input.AutoScalingGroupNames?.length ?? 0,
          maxRecords: input.MaxRecords ?? 50,
        });
      }
      return next(args);
    },
    { step: "initialize", name: "recordGroupNamesPerCall" },
  );
  return calls;
}
