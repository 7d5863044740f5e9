// A group replacement starts a new, empty cluster: it is executed only as a
// restore. The plans here come from the rendered templates of real specs,
// diffed with the resource specification (as offline plans are), so the
// replacement is the one CloudFormation would report for the group's name.
import { describe, expect, it } from "vitest";
import type { ClusterSpec } from "../../src/manifest/types.js";
import { planFromTemplates } from "../../src/plan/clusterPlan.js";
import { serviceSpecUpdateBehaviour } from "../../src/plan/updateBehaviour.js";
import { refuseGroupReplacement } from "../../src/reconcile/replacementGuard.js";
import { renderStack } from "../../src/render/template.js";
import { devSpec, snapsBackup } from "../render/specs.js";

const updateBehaviour = serviceSpecUpdateBehaviour();
const pin = {
  id: "r1",
  snapshot: "dev/20261207T070000000Z.db",
  sha256: "a".repeat(64),
  revision: "2003",
};

function withBackup(restoreId?: string): ClusterSpec {
  const spec: ClusterSpec = {
    ...devSpec(),
    backup: snapsBackup(),
  };
  return restoreId ? { ...spec, restore: { id: restoreId, snapshot: "latest" } } : spec;
}

/** The plan from `before`'s stack to `after`'s, marked a restore as preview marks a new one. */
function plan(before: ClusterSpec, after: ClusterSpec, restoreApplies: boolean) {
  const render = (spec: ClusterSpec) =>
    renderStack(spec, { imageId: "ami-0123456789abcdef0" }).template;
  const planned = planFromTemplates({
    cluster: after.name,
    stackName: after.stackName,
    before: render(before),
    after: render(after),
    updateBehaviour,
  });
  return restoreApplies
    ? {
        ...planned,
        restore: {
          id: after.restore?.id ?? "",
          applies: true,
          bucket: "snaps",
          snapshot: "latest",
        },
      }
    : planned;
}

describe("refuseGroupReplacement", () => {
  it("lets a new restore replace the group", () => {
    const planned = plan(withBackup(), withBackup("r1"), true);
    expect(planned.warnings.map((w) => w.kind)).toContain("group-replacement");
    expect(refuseGroupReplacement(planned, withBackup("r1"), undefined)).toBe(planned);
  });

  it("refuses spec.restore removed after a restore, and says to put it back", () => {
    const spec = withBackup();
    const refused = refuseGroupReplacement(plan(withBackup("r1"), spec, false), spec, pin);
    expect(refused.status).toBe("error");
    expect(refused.error).toMatch(
      /^not applied: stack quorate-dev was restored \(restore r1, from dev\/20261207T070000000Z\.db\), and without spec\.restore in .*dev\.yaml:\d+ its group is renamed back, which replaces it with a new, EMPTY etcd cluster\. Put back spec\.restore with id r1/,
    );
    expect(refused.warnings.map((w) => w.kind)).toEqual(["group-replacement"]);
  });

  it("refuses any other replacement of the group, naming its cause", () => {
    const before = withBackup();
    const renamed = { ...before, restore: { id: "hand-edit", snapshot: "latest" } };
    // The same rename as a restore's, but not planned as one (no restore applies).
    const refused = refuseGroupReplacement(plan(before, renamed, false), before, undefined);
    expect(refused.error).toMatch(
      /^not applied: the Auto Scaling Group EtcdGroup will be REPLACED \(.*AutoScalingGroupName.*\).* quorate replaces a group only for a restore: revert the change in .*dev\.yaml:\d+, or set spec\.restore with a new id/,
    );
  });

  it("passes a rolling update, which keeps the group", () => {
    const before = withBackup();
    const after = { ...before, image: { ...before.image, imageId: "ami-0fedcba9876543210" } };
    const planned = planFromTemplates({
      cluster: "dev",
      stackName: "dev",
      before: renderStack(before, { imageId: "ami-0123456789abcdef0" }).template,
      after: renderStack(after, { imageId: "ami-0fedcba9876543210" }).template,
      updateBehaviour,
    });
    expect(planned.impact?.instancesReplaced).toBe(true);
    expect(refuseGroupReplacement(planned, after, pin)).toBe(planned);
  });
});
