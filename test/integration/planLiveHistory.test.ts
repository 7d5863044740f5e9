// Story (issue 11, must show): a 3-member cluster on the local cloud with real
// etcd, created and then rolled once onto a new image by quorate. The finished
// rollout's member durations are recorded in a tag on the cluster's Auto
// Scaling group, with CreateOrUpdateTags and no stack operation, so nothing
// rolls again. The next live `quorate plan` (a fresh process, as a CI job is)
// of another image names the three current members and the leader, and its
// expected duration is derived from that tag; when the tag changes, so does
// the estimate.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateOrUpdateTagsCommand } from "@aws-sdk/client-auto-scaling";
import { DescribeStackEventsCommand } from "@aws-sdk/client-cloudformation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsClientPool } from "../../src/aws/clients.js";
import { describeGroups } from "../../src/aws/groups.js";
import { describeInstances } from "../../src/aws/instances.js";
import { describeStack, stackResourceId } from "../../src/aws/stacks.js";
import { localAmiId } from "../../src/localcloud/index.js";
import { loadManifests } from "../../src/manifest/load.js";
import { expectedSentence } from "../../src/plan/format/describe.js";
import type { ClusterPlan } from "../../src/plan/model.js";
import { parseRolloutHistory } from "../../src/plan/rolloutHistory.js";
import { applyCluster } from "../../src/reconcile/apply.js";
import { GROUP_TAG, LOGICAL_ID } from "../../src/render/contract.js";
import { cli } from "../cli/run.js";
import { createManifestRepo, type ManifestRepo } from "../helpers/manifestRepo.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";

const REGION = "eu-west-1";
const STACK = "quorate-hist";

let h: Harness;
let repo: ManifestRepo;
let cacheHome: string;

const aws = () => h.aws(REGION);

async function loadHist() {
  const spec = (await loadManifests([repo.path], repo.dir)).clusters.find((c) => c.name === "hist");
  if (!spec) throw new Error("the hist manifest did not load");
  return spec;
}

async function applyCommitted(revision: string, deps = h.deps()) {
  const spec = await loadHist();
  const outcome = await applyCluster(deps, spec, { revision });
  expect(outcome.result, outcome.message).toBe("applied");
  return spec;
}

async function groupName(): Promise<string> {
  const name = await stackResourceId(aws().cloudFormation, STACK, LOGICAL_ID.group);
  if (!name) throw new Error(`${STACK} has no group`);
  return name;
}

async function groupTags(): Promise<Record<string, string>> {
  const name = await groupName();
  return (await describeGroups(aws().autoScaling, [name])).get(name)?.tags ?? {};
}

/** The stack's own events that start an operation: every create and update it went through. */
async function stackOperations(): Promise<string[]> {
  const out = await aws().cloudFormation.send(new DescribeStackEventsCommand({ StackName: STACK }));
  return (out.StackEvents ?? [])
    .filter(
      (e) =>
        e.LogicalResourceId === STACK &&
        (e.ResourceStatus === "CREATE_IN_PROGRESS" || e.ResourceStatus === "UPDATE_IN_PROGRESS"),
    )
    .map((e) => e.ResourceStatus ?? "")
    .reverse();
}

async function plan(format: "json" | "text" | "markdown") {
  return cli(
    ["plan", "--repo", repo.dir, "--path", repo.path, "--endpoint", h.endpoint, "--format", format],
    {
      cwd: repo.dir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        XDG_CACHE_HOME: cacheHome,
        NO_COLOR: "1",
        QUORATE_AMI_FEED: `${h.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
      },
    },
  );
}

async function planJson(): Promise<ClusterPlan> {
  const result = await plan("json");
  const json = JSON.parse(result.stdout || "{}") as { clusters: ClusterPlan[] };
  const found = json.clusters?.find((c) => c.cluster === "hist");
  if (!found) throw new Error(`no plan for hist: ${result.stdout}${result.stderr}`);
  return found;
}

beforeAll(async () => {
  h = await startHarness();
  repo = await createManifestRepo({ prefix: "plan-history" });
  cacheHome = mkdtempSync(join(tmpdir(), "quorate-plan-cache-"));
  repo.write("hist", { name: "hist", size: 3 });
  await applyCommitted(await repo.commit("hist: three members"));
});

afterAll(async () => {
  await h?.close();
  await repo?.close();
  if (cacheHome) rmSync(cacheHome, { recursive: true, force: true });
});

describe("a live plan after a completed rollout", () => {
  let recorded: number[] = [];
  let firstExpected: unknown;
  let backToFirstImage = "";

  it("records the rollout's member durations on the group, with no stack operation and no instance replaced", async () => {
    // A create replaces no member: nothing is recorded.
    expect((await groupTags())[GROUP_TAG.rolloutHistory]).toBeUndefined();

    repo.update("hist", (m) => {
      m.spec.image.version = "4152.2.0";
    });
    const revision = await repo.commit("hist: new image");
    h.events.length = 0;
    await h.cloud.admin.resetCounters();
    const spec = await applyCommitted(revision);
    const calls = await h.cloud.admin.counters();

    const history = parseRolloutHistory((await groupTags())[GROUP_TAG.rolloutHistory]);
    expect(history.rollouts).toHaveLength(1);
    recorded = history.rollouts[0]?.memberSeconds ?? [];
    expect(recorded).toHaveLength(3);
    expect(recorded.every((s) => s > 0 && s < 300)).toBe(true);
    expect(h.events.filter((e) => e.type === "history-recorded")).toHaveLength(1);
    expect(h.events.filter((e) => e.type === "history-failed")).toEqual([]);

    // One tag write, and the rollout's change set the only stack operation.
    expect(calls["autoscaling:CreateOrUpdateTags"]).toBe(1);
    expect(calls["cloudformation:ExecuteChangeSet"]).toBe(1);
    expect(await stackOperations()).toEqual(["CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS"]);
    const live = await describeStack(aws().cloudFormation, STACK);
    expect(live?.status).toBe("UPDATE_COMPLETE");
    expect(live?.tags[GROUP_TAG.rolloutHistory]).toBeUndefined();

    // Every instance is one the rollout launched, the three of them the members,
    // and none carries the tag (PropagateAtLaunch false).
    const instances = await h.instances(spec);
    expect(instances).toHaveLength(3);
    const newAmi = localAmiId("stable", "4152.2.0", REGION);
    expect(instances.every((i) => i.imageId === newAmi)).toBe(true);
    const ids = instances.map((i) => i.instanceId).sort();
    expect((await h.members(spec)).map((m) => m.name).sort()).toEqual(ids);
    const ec2 = await describeInstances(aws().ec2, ids);
    expect([...ec2.values()].some((i) => GROUP_TAG.rolloutHistory in i.tags)).toBe(false);
  });

  it("names the three current members and the leader, and expects the recorded duration in every format", async () => {
    repo.update("hist", (m) => {
      m.spec.image.version = "4081.2.0";
    });
    backToFirstImage = await repo.commit("hist: back to the first image");
    const planned = await planJson();
    expect(planned.status).toBe("update");
    const instances = (await h.instances(await loadHist())).map((i) => i.instanceId).sort();
    const members = planned.currentMembers?.members ?? [];
    expect(members.map((m) => m.instanceId).sort()).toEqual(instances);
    expect(members.map((m) => m.name).sort()).toEqual(instances);
    expect(members.filter((m) => m.leader)).toHaveLength(1);
    expect(members.every((m) => !m.learner && m.healthy === true)).toBe(true);

    const median = [...recorded].sort((a, b) => a - b)[1] ?? 0;
    expect(planned.impact?.expected).toEqual({
      kind: "measured",
      perMemberSeconds: median,
      expectedSeconds: median * 3,
      rollouts: 1,
      samples: 3,
    });
    firstExpected = planned.impact?.expected;
    const sentence = expectedSentence(planned);
    expect(sentence).toContain("the median of 3 member replacements over the last 1 recorded");
    for (const format of ["text", "markdown"] as const) {
      const out = await plan(format);
      expect(out.stdout, out.stderr).toContain(sentence);
    }
  });

  it("expects another duration once the group's tag changes", async () => {
    // A person (or another quorate) rewrites the history: slower rollouts, newer.
    const before = (await groupTags())[GROUP_TAG.rolloutHistory] ?? "";
    await aws().autoScaling.send(
      new CreateOrUpdateTagsCommand({
        Tags: [
          {
            ResourceId: await groupName(),
            ResourceType: "auto-scaling-group",
            Key: GROUP_TAG.rolloutHistory,
            Value: `29990101T0000Z=600/610/620 ${before}`,
            PropagateAtLaunch: false,
          },
        ],
      }),
    );

    const planned = await planJson();
    const samples = [...recorded, 600, 610, 620].sort((a, b) => a - b);
    const median = ((samples[2] ?? 0) + (samples[3] ?? 0)) / 2;
    expect(planned.impact?.expected).toEqual({
      kind: "measured",
      perMemberSeconds: Math.round(median),
      expectedSeconds: Math.round(median * 3),
      rollouts: 2,
      samples: 6,
    });
    expect(planned.impact?.expected).not.toEqual(firstExpected);
  });

  it("a tag write that fails is a history-failed event: the rollout is still applied and the tag keeps its history", async () => {
    const before = (await groupTags())[GROUP_TAG.rolloutHistory];
    // Throttled on every attempt the SDK makes, as a busy account may be. Two
    // attempts here rather than the default six: the same failure, without
    // half a minute of throttling backoff.
    await h.cloud.admin.throttle({
      service: "autoscaling",
      action: "CreateOrUpdateTags",
      count: 2,
    });
    h.events.length = 0;
    const twoAttempts = createAwsClientPool({ endpoint: h.endpoint, maxAttempts: 2 }, {});
    await applyCommitted(backToFirstImage, h.deps({ aws: twoAttempts }));

    expect((await h.cloud.admin.faults()).throttles).toEqual([]);
    const failed = h.events.filter((e) => e.type === "history-failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.message).toMatch(/not recorded/);
    expect(h.events.filter((e) => e.type === "history-recorded")).toEqual([]);
    expect((await groupTags())[GROUP_TAG.rolloutHistory]).toBe(before);
    expect((await describeStack(aws().cloudFormation, STACK))?.status).toBe("UPDATE_COMPLETE");
  });
});
