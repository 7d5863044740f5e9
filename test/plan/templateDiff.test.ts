import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { planFromTemplates } from "../../src/plan/clusterPlan.js";
import { diffTemplates } from "../../src/plan/templateDiff.js";
import {
  serviceSpecUpdateBehaviour,
  tableUpdateBehaviour,
} from "../../src/plan/updateBehaviour.js";
import { etcdTemplate, facts } from "./stack.js";

const spec = serviceSpecUpdateBehaviour();

function offline(before: ReturnType<typeof facts> | undefined, after: ReturnType<typeof facts>) {
  return planFromTemplates({
    cluster: after.cluster,
    stackName: after.stackName,
    before: before ? etcdTemplate(before) : undefined,
    after: etcdTemplate(after),
    updateBehaviour: spec,
  });
}

describe("planFromTemplates (--offline)", () => {
  it("predicts a security group replacement from the resource specification, and the roll it causes", () => {
    // GIVEN a VPC move: VpcId causes replacement of AWS::EC2::SecurityGroup
    const plan = offline(facts("move"), facts("move", { vpcId: "vpc-0ffffffffffffffff" }));
    const sg = plan.changes.find((c) => c.logicalId === "EtcdSecurityGroup");
    expect(sg).toMatchObject({ replacement: "always", causes: ["/Properties/VpcId"] });
    // THEN the launch template takes the new group id, so every member rolls
    const lt = plan.changes.find((c) => c.logicalId === "EtcdLaunchTemplate");
    expect(lt?.properties.map((p) => [p.path, p.afterKnown, p.causedBy])).toEqual([
      ["/Properties/LaunchTemplateData/SecurityGroupIds/0", false, "EtcdSecurityGroup.GroupId"],
    ]);
    // AND the peer ingress, whose GroupId causes replacement, may be replaced
    const ingress = plan.changes.find((c) => c.logicalId === "EtcdPeerIngress");
    expect(ingress?.replacement).toBe("unknown-after-apply");
    expect(plan.impact).toMatchObject({ instancesReplaced: true, members: 3, newGroup: false });
    expect(plan.warnings.map((w) => w.kind)).toEqual(["security-group-replacement"]);
  });

  it("rolls when the subnets change (VPCZoneIdentifier)", () => {
    const plan = offline(
      facts("subnets"),
      facts("subnets", { subnetIds: ["subnet-0a", "subnet-0b", "subnet-0c"] }),
    );
    expect(plan.impact?.reasons).toEqual([
      { logicalId: "EtcdGroup", path: "/Properties/VPCZoneIdentifier" },
    ]);
    expect(plan.impact?.instancesReplaced).toBe(true);
  });

  it.each([
    [5, 3, ["fault-tolerance-lowered"]],
    [3, 4, ["even-size"]],
    [3, 5, []],
  ])("size %i -> %i warns %j", (from, to, kinds) => {
    const plan = offline(facts("s", { size: from }), facts("s", { size: to }));
    expect(plan.warnings.map((w) => w.kind)).toEqual(kinds);
    expect(plan.impact).toMatchObject({
      sizeBefore: from,
      sizeAfter: to,
      instancesReplaced: false,
    });
  });

  it("orders launch-then-terminate when MinInstancesInService equals the size", () => {
    const template = etcdTemplate(facts("first"));
    const after = structuredClone(template);
    const group = after.Resources!.EtcdGroup!;
    (
      group.UpdatePolicy as { AutoScalingRollingUpdate: Record<string, unknown> }
    ).AutoScalingRollingUpdate.MinInstancesInService = 3;
    (group.Properties!.LaunchTemplate as Record<string, unknown>).Version = "2";
    const plan = planFromTemplates({
      cluster: "first",
      stackName: "quorate-first",
      before: template,
      after,
      updateBehaviour: spec,
    });
    expect(plan.impact).toMatchObject({ order: "launch-then-terminate", instancesReplaced: true });
  });

  it("is no-change for identical templates, with numbers and numeric strings alike", () => {
    const before = etcdTemplate(facts("same"));
    const after = structuredClone(before);
    after.Resources!.EtcdGroup!.Properties!.MinSize = 3;
    expect(offline(facts("same"), facts("same")).status).toBe("no-change");
    expect(
      planFromTemplates({ cluster: "same", stackName: "s", before, after, updateBehaviour: spec })
        .status,
    ).toBe("no-change");
  });

  it("marks a type change and an unknown resource type as replacements", () => {
    const table = tableUpdateBehaviour({});
    const changes = diffTemplates(
      { Resources: { A: { Type: "AWS::X::One", Properties: { P: 1 } } } },
      { Resources: { A: { Type: "AWS::X::Two", Properties: { P: 2 } } } },
      table,
    );
    expect(changes[0]).toMatchObject({ replacement: "always", causes: ["/Type", "/Properties/P"] });
  });

  it("never mutates its inputs", () => {
    const before = etcdTemplate(facts("m"));
    const after = etcdTemplate(facts("m", { vpcId: "vpc-1", imageId: "ami-2", size: 5 }));
    const copies = structuredClone({ before, after });
    const plan = planFromTemplates({
      cluster: "m",
      stackName: "s",
      before,
      after,
      updateBehaviour: spec,
    });
    expect({ before, after }).toEqual(copies);
    for (const change of plan.changes) {
      for (const p of change.properties) {
        if (p.before && typeof p.before === "object") (p.before as Record<string, unknown>).x = 1;
      }
    }
    expect({ before, after }).toEqual(copies);
  });

  it("never throws on arbitrary templates", () => {
    const types = fc.constantFrom(
      "AWS::AutoScaling::AutoScalingGroup",
      "AWS::EC2::LaunchTemplate",
      "AWS::EC2::SecurityGroup",
      "AWS::Not::AType",
    );
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
      intrinsic: fc.oneof(
        fc.record({ Ref: fc.constantFrom("A", "B", "EtcdGroup", "missing") }),
        fc.record({ "Fn::GetAtt": fc.tuple(fc.constantFrom("A", "B"), fc.string()) }),
        fc.record({ "Fn::Sub": fc.string() }),
      ),
      node: fc.oneof(
        { depthSize: "small" },
        tie("leaf"),
        tie("intrinsic"),
        fc.array(tie("node"), { maxLength: 3 }),
        fc.dictionary(fc.string(), tie("node"), { maxKeys: 3 }),
      ),
    })).node;
    const resource = fc.record(
      {
        Type: fc.oneof(types, fc.anything()),
        Properties: fc.oneof(fc.dictionary(fc.string(), value), fc.anything()),
        UpdatePolicy: value,
        CreationPolicy: value,
      },
      { requiredKeys: [] },
    );
    const template = fc.oneof(
      fc.record({
        Resources: fc.dictionary(fc.constantFrom("A", "B", "EtcdGroup", "C"), resource),
      }),
      fc.anything(),
    );
    fc.assert(
      fc.property(template, template, (before, after) => {
        const plan = planFromTemplates({
          cluster: "c",
          stackName: "s",
          before,
          after,
          updateBehaviour: spec,
        });
        expect(["create", "update", "no-change"]).toContain(plan.status);
      }),
      { numRuns: 300 },
    );
  });
});
