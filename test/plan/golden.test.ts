// GIVEN the six scenarios of the issue (image upgrade, instance type, size 3 -> 5, new
// cluster, group replacement, no-op) WHEN planned from change sets and offline THEN each
// format matches its golden file.
import { describe, expect, it } from "vitest";
import { formatJson } from "../../src/plan/format/json.js";
import { formatMarkdown } from "../../src/plan/format/markdown.js";
import { formatText } from "../../src/plan/format/text.js";
import { serviceSpecUpdateBehaviour } from "../../src/plan/updateBehaviour.js";
import { expectGolden } from "./golden.js";
import { changeSetPlan, offlinePlan } from "./scenarios.js";

describe("golden plans", () => {
  const plans = {
    changeset: changeSetPlan(),
    offline: offlinePlan(serviceSpecUpdateBehaviour()),
  };

  describe.each(Object.entries(plans))("%s", (name, plan) => {
    it("text", () => expectGolden(`${name}.golden.txt`, formatText(plan, { color: false })));
    it("text in colour", () =>
      expectGolden(`${name}.color.golden.txt`, formatText(plan, { color: true })));
    it("markdown", () => expectGolden(`${name}.golden.md`, formatMarkdown(plan)));
    it("json", () => expectGolden(`${name}.golden.json`, formatJson(plan)));
  });

  it("offline and change-set plans agree on every cluster's status and rollout", () => {
    const brief = (plan: typeof plans.changeset) =>
      plan.clusters.map((c) => ({
        cluster: c.cluster,
        status: c.status,
        instancesReplaced: c.impact?.instancesReplaced,
        members: c.impact?.members,
        newGroup: c.impact?.newGroup,
        warnings: c.warnings.map((w) => w.kind),
      }));
    expect(brief(plans.offline)).toEqual(brief(plans.changeset));
  });
});
