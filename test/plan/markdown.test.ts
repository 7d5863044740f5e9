import { describe, expect, it } from "vitest";
import {
  errorClusterPlan,
  planForRemovedCluster,
  planFromTemplates,
  skippedClusterPlan,
} from "../../src/plan/clusterPlan.js";
import { formatJson } from "../../src/plan/format/json.js";
import {
  formatMarkdown,
  GITHUB_COMMENT_MAX,
  PLAN_COMMENT_MARKER,
} from "../../src/plan/format/markdown.js";
import { formatText } from "../../src/plan/format/text.js";
import { type Plan, planOutcome } from "../../src/plan/model.js";
import { serviceSpecUpdateBehaviour } from "../../src/plan/updateBehaviour.js";
import { changeSetPlan } from "./scenarios.js";
import { etcdTemplate, facts } from "./stack.js";

const spec = serviceSpecUpdateBehaviour();

function manyClusters(
  changed: number,
  unchanged: number,
  name = (i: number) => `cluster-${i}`,
): Plan {
  const clusters = [];
  for (let i = 0; i < changed + unchanged; i++) {
    const before = facts(name(i), { size: 5 });
    const after = i < changed ? facts(name(i), { size: 5, imageId: `ami-${i}` }) : before;
    clusters.push(
      planFromTemplates({
        cluster: before.cluster,
        stackName: before.stackName,
        before: etcdTemplate(before),
        after: etcdTemplate(after),
        updateBehaviour: spec,
      }),
    );
  }
  return { source: "offline", revision: "abc123", baseRevision: "main", clusters };
}

/** The summary: everything before the first details block (or the note). */
function summaryOf(markdown: string): string {
  return markdown.split(/\n\n(?:<details>|> \[!NOTE\])/)[0] ?? "";
}

function expectWellFormed(markdown: string): void {
  expect(markdown.startsWith(`${PLAN_COMMENT_MARKER}\n`)).toBe(true);
  expect(markdown.match(/<details>/g)?.length ?? 0).toBe(
    markdown.match(/<\/details>/g)?.length ?? 0,
  );
  expect((markdown.match(/^```/gm)?.length ?? 0) % 2).toBe(0);
  // A table never ends mid-row: every line starting with "|" ends with "|".
  for (const line of markdown.split("\n"))
    if (line.startsWith("|")) expect(line.endsWith("|")).toBe(true);
}

describe("formatMarkdown size limit", () => {
  it("keeps 200 changed clusters under 65,535 characters and lists every cluster in the summary", () => {
    const plan = manyClusters(200, 300);
    const markdown = formatMarkdown(plan);
    expect(markdown.length).toBeLessThanOrEqual(GITHUB_COMMENT_MAX);
    const summary = summaryOf(markdown);
    for (const cluster of plan.clusters) expect(summary).toContain(cluster.cluster);
    expect(summary).toContain("| cluster-199 |");
    expect(summary).toContain("**No changes (300):**");
    // On a tie in size, the earlier clusters keep their details.
    expect(markdown).toContain("<details><summary><b>cluster-0</b>");
    expect(markdown).toMatch(
      /clusters' details omitted to stay under GitHub's comment size limit: run `quorate plan` locally/,
    );
    expectWellFormed(markdown);
  });

  it("drops the largest details first", () => {
    const plan = changeSetPlan();
    const full = formatMarkdown(plan);
    const fresh = full.slice(full.indexOf("<details><summary><b>fresh"));
    const limit = full.length - 50;
    const cut = formatMarkdown(plan, { maxLength: limit });
    expect(cut.length).toBeLessThanOrEqual(limit);
    // compute and images carry the largest blocks; the small rename block stays
    expect(cut).toContain("<details><summary><b>rename");
    expect(cut).toContain("1 cluster's details omitted");
    expect(fresh.length).toBeGreaterThan(0);
    expectWellFormed(cut);
  });

  it("falls back to a compact, then a cut table, and still stays under the limit", () => {
    const plan = manyClusters(40, 0, (i) => `a-rather-long-cluster-name-for-the-table-${i}`);
    const compact = formatMarkdown(plan, { maxLength: 5000 });
    expect(compact.length).toBeLessThanOrEqual(5000);
    expect(compact).toContain("| Cluster | Status | Roll | Warnings |");
    expectWellFormed(compact);
    const cut = formatMarkdown(plan, { maxLength: 2000 });
    expect(cut.length).toBeLessThanOrEqual(2000);
    expect(cut).toMatch(/\d+ more changed clusters not listed/);
    expectWellFormed(cut);
  });
});

describe("removed, skipped and failed clusters", () => {
  const live = etcdTemplate(facts("gone"));
  const plan: Plan = {
    source: "change-set",
    clusters: [
      planForRemovedCluster({ cluster: "gone", stackName: "quorate-gone", prune: true, live }),
      planForRemovedCluster({ cluster: "kept", stackName: "quorate-kept", prune: false }),
      skippedClusterPlan({ cluster: "paused", stackName: "quorate-paused", reason: "suspended" }),
      errorClusterPlan({
        cluster: "broken",
        stackName: "quorate-broken",
        error: "clusters/broken.yaml:4:3: spec.size must be odd",
      }),
    ],
  };

  it("warns of the deletion and the orphan, and lists every resource the prune deletes", () => {
    const [gone, kept] = plan.clusters;
    expect(gone?.status).toBe("delete");
    expect(gone?.changes.every((c) => c.action === "remove")).toBe(true);
    expect(gone?.changes).toHaveLength(6);
    expect(gone?.impact?.sizeBefore).toBe(3);
    expect(gone?.warnings.map((w) => w.kind)).toEqual(["stack-deletion"]);
    expect(kept?.warnings.map((w) => w.kind)).toEqual(["orphaned-stack"]);
  });

  it("shows them in every format", () => {
    const text = formatText(plan, { color: false });
    expect(text).toContain("- gone  (stack quorate-gone)  delete");
    expect(text).toContain(
      "Plan: 0 to roll, 1 changed, 0 unchanged, 1 orphaned, 1 skipped, 1 failed.",
    );
    const markdown = formatMarkdown(plan);
    expect(markdown).toContain(
      "| gone | `quorate-gone` | delete | all 3 deleted | — | — | ⛔ stack deleted |",
    );
    expect(markdown).toContain("| broken | `quorate-broken` | **error** |");
    expect(JSON.parse(formatJson(plan)).summary).toEqual({
      toRoll: 0,
      changed: 1,
      unchanged: 0,
      orphaned: 1,
      skipped: 1,
      errors: 1,
    });
  });

  it.each([
    ["an error", plan, "error"],
    ["changes", changeSetPlan(), "changes"],
    [
      "only no-change, orphaned and skipped clusters",
      { ...plan, clusters: plan.clusters.slice(1, 3) },
      "no-changes",
    ],
  ])("planOutcome with %s", (_what, p, code) => {
    expect(planOutcome(p)).toBe(code);
  });
});

describe("formatText colour", () => {
  it("writes ANSI colours only when asked", () => {
    const plan = changeSetPlan();
    expect(formatText(plan, { color: false })).not.toContain("\u001b[");
    expect(formatText(plan, { color: true })).toContain("\u001b[31m");
  });
});
