// Story (issue 11, must show): a 3-member cluster on the local cloud with real
// etcd, created and then rolled once onto a new image by quorate. The finished
// rollout's member durations are recorded in the stack's history tag, by a
// tags-only update that rolls nothing. The next live `quorate plan` of another
// image names the three current members and the leader, and its expected
// duration is derived from that history; when the history changes, so does
// the estimate, and a later change set carries the history on.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateChangeSetCommand,
  DescribeChangeSetCommand,
  ExecuteChangeSetCommand,
} from "@aws-sdk/client-cloudformation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteChangeSet, describeStack, listChangeSetNames } from "../../src/aws/stacks.js";
import { loadManifests } from "../../src/manifest/load.js";
import type { ClusterPlan } from "../../src/plan/model.js";
import { parseRolloutHistory } from "../../src/plan/rolloutHistory.js";
import { applyCluster } from "../../src/reconcile/apply.js";
import { STACK_TAG } from "../../src/render/contract.js";
import { cli } from "../cli/run.js";
import { createManifestRepo, type ManifestRepo } from "../helpers/manifestRepo.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";
import { waitFor } from "../helpers/waitFor.js";

const REGION = "eu-west-1";
const STACK = "quorate-hist";

let h: Harness;
let repo: ManifestRepo;
let cacheHome: string;

const cfn = () => h.aws(REGION).cloudFormation;

async function applyCommitted(revision: string) {
  const spec = (await loadManifests([repo.path], repo.dir)).clusters.find((c) => c.name === "hist");
  if (!spec) throw new Error("the hist manifest did not load");
  const outcome = await applyCluster(h.deps(), spec, { revision });
  expect(outcome.result, outcome.message).toBe("applied");
  return spec;
}

async function planJson(...args: string[]) {
  const result = await cli(
    [
      "plan",
      "--repo",
      repo.dir,
      "--path",
      repo.path,
      "--endpoint",
      h.endpoint,
      "--format",
      "json",
      ...args,
    ],
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
  const json = JSON.parse(result.stdout || "{}") as { clusters: ClusterPlan[] };
  const plan = json.clusters.find((c) => c.cluster === "hist");
  if (!plan) throw new Error(`no plan for hist: ${result.stdout}${result.stderr}`);
  return plan;
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

  it("records the rollout's member durations in the stack's tag, without rolling the group again", async () => {
    const created = await describeStack(cfn(), STACK);
    // A create replaces no member: nothing is recorded.
    expect(created?.tags[STACK_TAG.rolloutHistory]).toBeUndefined();

    repo.update("hist", (m) => {
      m.spec.image.version = "4152.2.0";
    });
    h.events.length = 0;
    const revision = await repo.commit("hist: new image");
    const spec = await applyCommitted(revision);
    const instancesAfterRollout = (await h.instances(spec)).map((i) => i.instanceId).sort();

    const live = await describeStack(cfn(), STACK);
    expect(live?.status).toBe("UPDATE_COMPLETE");
    const history = parseRolloutHistory(live?.tags[STACK_TAG.rolloutHistory]);
    expect(history.rollouts).toHaveLength(1);
    recorded = history.rollouts[0]?.memberSeconds ?? [];
    expect(recorded).toHaveLength(3);
    expect(recorded.every((s) => s >= 0 && s < 300)).toBe(true);
    expect(h.events.filter((e) => e.type === "history-recorded")).toHaveLength(1);
    expect(h.events.filter((e) => e.type === "history-failed")).toEqual([]);
    // The retagging kept the rollout's revision and replaced no instance.
    expect(live?.tags[STACK_TAG.revision]).toBe(revision);
    expect((await h.instances(spec)).map((i) => i.instanceId).sort()).toEqual(
      instancesAfterRollout,
    );
    expect((await h.members(spec)).map((m) => m.name).sort()).toEqual(instancesAfterRollout);
  });

  it("names the three current members and the leader, and expects the recorded duration", async () => {
    repo.update("hist", (m) => {
      m.spec.image.version = "4081.2.0";
    });
    await repo.commit("hist: back to the first image");
    const plan = await planJson("--keep");
    expect(plan.status).toBe("update");
    const spec = (await loadManifests([repo.path], repo.dir)).clusters.find(
      (c) => c.name === "hist",
    );
    const instances = spec ? (await h.instances(spec)).map((i) => i.instanceId).sort() : [];
    const members = plan.currentMembers?.members ?? [];
    expect(members.map((m) => m.instanceId).sort()).toEqual(instances);
    expect(members.map((m) => m.name).sort()).toEqual(instances);
    expect(members.filter((m) => m.leader)).toHaveLength(1);
    expect(members.every((m) => !m.learner && m.healthy === true)).toBe(true);

    const sorted = [...recorded].sort((a, b) => a - b);
    const median = sorted[1] ?? 0;
    expect(plan.impact?.expected).toEqual({
      kind: "measured",
      perMemberSeconds: median,
      expectedSeconds: median * 3,
      rollouts: 1,
      samples: 3,
    });

    // The kept change set carries the history on: the next change does not erase it.
    const [kept] = await listChangeSetNames(cfn(), STACK);
    if (!kept) throw new Error("plan --keep kept no change set");
    const described = await cfn().send(
      new DescribeChangeSetCommand({ StackName: STACK, ChangeSetName: kept }),
    );
    const carried = described.Tags?.find((t) => t.Key === STACK_TAG.rolloutHistory)?.Value;
    expect(carried).toBe((await describeStack(cfn(), STACK))?.tags[STACK_TAG.rolloutHistory]);
    await deleteChangeSet(cfn(), kept, STACK);
  });

  it("expects another duration once the history changes", async () => {
    // A person (or another quorate) rewrites the history: slower rollouts, newer.
    const live = await describeStack(cfn(), STACK);
    const tags = Object.entries({
      ...live?.tags,
      [STACK_TAG.rolloutHistory]:
        `29990101T0000Z=600/610/620 ${live?.tags[STACK_TAG.rolloutHistory] ?? ""}`.trim(),
    }).map(([Key, Value]) => ({ Key, Value }));
    const created = await cfn().send(
      new CreateChangeSetCommand({
        StackName: STACK,
        ChangeSetName: "hand-edit",
        ChangeSetType: "UPDATE",
        UsePreviousTemplate: true,
        Tags: tags,
        Capabilities: ["CAPABILITY_IAM"],
      }),
    );
    await waitFor("hand-edit change set ready", async () => {
      const cs = await cfn().send(
        new DescribeChangeSetCommand({ StackName: STACK, ChangeSetName: created.Id }),
      );
      expect(cs.ExecutionStatus).toBe("AVAILABLE");
    });
    await cfn().send(new ExecuteChangeSetCommand({ StackName: STACK, ChangeSetName: created.Id }));
    await waitFor(
      "hand edit settled",
      async () => expect((await describeStack(cfn(), STACK))?.status).toBe("UPDATE_COMPLETE"),
      { timeoutMs: 30_000 },
    );

    const plan = await planJson();
    const samples = [...recorded, 600, 610, 620].sort((a, b) => a - b);
    const median = ((samples[2] ?? 0) + (samples[3] ?? 0)) / 2;
    expect(plan.impact?.expected).toEqual({
      kind: "measured",
      perMemberSeconds: Math.round(median),
      expectedSeconds: Math.round(median * 3),
      rollouts: 2,
      samples: 6,
    });
  });
});
