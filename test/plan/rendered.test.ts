// The offline planner on templates from the real renderer (src/render), so that what the
// golden tests show of hand-written templates holds for what quorate actually renders.
import { describe, expect, it } from "vitest";
import type { ClusterSpec } from "../../src/manifest/types.js";
import { planFromTemplates } from "../../src/plan/clusterPlan.js";
import { serviceSpecUpdateBehaviour } from "../../src/plan/updateBehaviour.js";
import { renderStack } from "../../src/render/template.js";
import { devSpec } from "../render/specs.js";

const spec = serviceSpecUpdateBehaviour();
const IMAGE = { imageId: "ami-0123456789abcdef0" };

function plan(change: (s: ClusterSpec) => void, image = IMAGE) {
  const before = devSpec();
  const after = devSpec();
  change(after);
  return planFromTemplates({
    cluster: after.name,
    stackName: after.stackName,
    before: renderStack(before, IMAGE).template,
    after: renderStack(after, image).template,
    updateBehaviour: spec,
  });
}

describe("offline plans of rendered stacks", () => {
  it("an image upgrade rolls every member, one at a time, launch first, at resting tolerance", () => {
    const p = plan(() => {}, { imageId: "ami-0fedcba9876543210" });
    expect(p.impact).toMatchObject({
      instancesReplaced: true,
      members: 3,
      order: "launch-then-terminate",
      minInService: 3,
      batchSize: 1,
      worstCaseSeconds: 3 * (600 + 600),
      faultTolerance: { resting: 1, duringRollout: 1 },
    });
    expect(p.impact?.reasons).toContainEqual({
      logicalId: "EtcdLaunchTemplate",
      path: "/Properties/LaunchTemplateData/ImageId",
    });
    expect(p.warnings).toEqual([]);
  });

  it("terminateFirst rolls terminate first, and says that tolerance drops to 0 while it does", () => {
    const p = plan(
      (s) => {
        s.updatePolicy.order = "terminateFirst";
        s.updatePolicy.minInstancesInService = 2;
      },
      { imageId: "ami-0fedcba9876543210" },
    );
    expect(p.impact).toMatchObject({
      order: "terminate-then-launch",
      minInService: 2,
      faultTolerance: { resting: 1, duringRollout: 0 },
    });
  });

  it("an instance-type change rolls every member", () => {
    const p = plan((s) => {
      s.instanceType = "m6i.large";
    });
    expect(p.impact).toMatchObject({ instancesReplaced: true, members: 3 });
  });

  it("a size change 3 -> 5 replaces no member and adds two", () => {
    const p = plan((s) => {
      s.size = 5;
      s.updatePolicy.minInstancesInService = 4;
    });
    expect(p.impact).toMatchObject({ instancesReplaced: false, sizeBefore: 3, sizeAfter: 5 });
    expect(p.changes.every((c) => c.replacement === "never")).toBe(true);
  });

  it("moving to another VPC replaces the security group and rolls the members onto it", () => {
    const p = plan((s) => {
      s.network.vpcId = "vpc-0ffffffffffffffff";
    });
    expect(p.warnings.map((w) => w.kind)).toContain("security-group-replacement");
    expect(p.warnings.map((w) => w.kind)).not.toContain("group-replacement");
    expect(p.impact).toMatchObject({ instancesReplaced: true, newGroup: false });
  });

  it("an unchanged manifest plans no change", () => {
    expect(plan(() => {}).status).toBe("no-change");
  });
});
