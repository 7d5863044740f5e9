// GIVEN a live stack, WHEN a new template (and tags) come in, THEN the change
// set lists what CloudFormation would list. Pure: the update behaviours come
// from a small table instead of the resource specification.
import { describe, expect, it } from "vitest";
import {
  type ChangeSetInput,
  computeChanges,
  diffPaths,
  type LiveResource,
  replacementOf,
} from "../../src/localcloud/cloudformation/changeSet.js";
import { parseTemplate } from "../../src/localcloud/cloudformation/template.js";
import type { UpdateBehaviourLookup } from "../../src/localcloud/cloudformation/updateBehaviour.js";
import type { ChangeDetailRecord, TemplateResource } from "../../src/localcloud/state/model.js";

const REPLACING: Record<string, string[]> = {
  "AWS::EC2::SecurityGroup": ["GroupDescription", "VpcId"],
  "AWS::AutoScaling::AutoScalingGroup": ["AutoScalingGroupName"],
};
const behaviour: UpdateBehaviourLookup = (type, path) =>
  REPLACING[type]?.includes(path[0] ?? "") ? "replacement" : "none";

const resources: Record<string, TemplateResource> = {
  SG: {
    Type: "AWS::EC2::SecurityGroup",
    Properties: { GroupDescription: "members", VpcId: "vpc-1" },
  },
  LT: {
    Type: "AWS::EC2::LaunchTemplate",
    Properties: {
      LaunchTemplateData: {
        ImageId: "ami-old",
        SecurityGroupIds: [{ "Fn::GetAtt": ["SG", "GroupId"] }],
      },
    },
  },
  Group: {
    Type: "AWS::AutoScaling::AutoScalingGroup",
    Properties: {
      MinSize: "3",
      MaxSize: "3",
      LaunchTemplate: {
        LaunchTemplateId: { Ref: "LT" },
        Version: { "Fn::GetAtt": ["LT", "LatestVersionNumber"] },
      },
    },
    UpdatePolicy: { AutoScalingRollingUpdate: { MinInstancesInService: 2 } },
  },
};

const live: Record<string, LiveResource> = {
  SG: {
    type: "AWS::EC2::SecurityGroup",
    physicalId: "sg-1",
    definition: resources.SG!,
    properties: { GroupDescription: "members", VpcId: "vpc-1" },
    attributes: { GroupId: "sg-1", VpcId: "vpc-1" },
  },
  LT: {
    type: "AWS::EC2::LaunchTemplate",
    physicalId: "lt-1",
    definition: resources.LT!,
    properties: { LaunchTemplateData: { ImageId: "ami-old", SecurityGroupIds: ["sg-1"] } },
    attributes: { LaunchTemplateId: "lt-1", LatestVersionNumber: "1", DefaultVersionNumber: "1" },
  },
  Group: {
    type: "AWS::AutoScaling::AutoScalingGroup",
    physicalId: "group-1",
    definition: resources.Group!,
    properties: {
      MinSize: "3",
      MaxSize: "3",
      LaunchTemplate: { LaunchTemplateId: "lt-1", Version: "1" },
    },
    attributes: {},
  },
};

function changesFor(
  edit: (r: Record<string, TemplateResource>) => void,
  options: Partial<ChangeSetInput> = {},
) {
  const next = structuredClone(resources);
  edit(next);
  return computeChanges({
    template: parseTemplate(JSON.stringify({ Resources: next })),
    parameters: [],
    live,
    liveTags: [{ Key: "team", Value: "a" }],
    tags: [{ Key: "team", Value: "a" }],
    stack: { stackName: "s", stackId: "arn:s", region: "eu-west-1" },
    updateBehaviour: behaviour,
    ...options,
  });
}

describe("computeChanges", () => {
  it("a new image: the launch template is modified and the group follows through LatestVersionNumber", () => {
    const changes = changesFor((r) => {
      (r.LT!.Properties!.LaunchTemplateData as Record<string, unknown>).ImageId = "ami-new";
    });
    expect(changes.map((c) => [c.LogicalResourceId, c.Action, c.Replacement])).toEqual([
      ["LT", "Modify", "False"],
      ["Group", "Modify", "False"],
    ]);
    expect(changes[0]!.Details).toEqual([
      {
        Target: {
          Attribute: "Properties",
          Name: "LaunchTemplateData",
          Path: "/Properties/LaunchTemplateData/ImageId",
          RequiresRecreation: "Never",
          AttributeChangeType: "Modify",
          BeforeValue: "ami-old",
          AfterValue: "ami-new",
        },
        Evaluation: "Static",
        ChangeSource: "DirectModification",
      },
    ]);
    expect(changes[1]!.Details).toEqual([
      {
        Target: {
          Attribute: "Properties",
          Name: "LaunchTemplate",
          Path: "/Properties/LaunchTemplate/Version",
          RequiresRecreation: "Never",
          AttributeChangeType: "Modify",
        },
        Evaluation: "Dynamic",
        ChangeSource: "ResourceAttribute",
        CausingEntity: "LT.LatestVersionNumber",
      },
    ]);
    expect(JSON.parse(changes[1]!.AfterContext!)).toEqual({
      Properties: {
        MinSize: "3",
        MaxSize: "3",
        LaunchTemplate: { LaunchTemplateId: "lt-1", Version: "{{changeSet:KNOWN_AFTER_APPLY}}" },
      },
    });
    expect(JSON.parse(changes[1]!.BeforeContext!).Properties.LaunchTemplate.Version).toBe("1");
  });

  it("a property that requires replacement replaces, and what refers to it changes dynamically", () => {
    const changes = changesFor((r) => {
      r.SG!.Properties!.GroupDescription = "new description";
    });
    const sg = changes.find((c) => c.LogicalResourceId === "SG")!;
    expect(sg).toMatchObject({
      Action: "Modify",
      Replacement: "True",
      PhysicalResourceId: "sg-1",
      Scope: ["Properties"],
    });
    expect(sg.Details[0]!.Target.RequiresRecreation).toBe("Always");
    const lt = changes.find((c) => c.LogicalResourceId === "LT")!;
    expect(lt.Details).toEqual([
      expect.objectContaining({
        Evaluation: "Dynamic",
        ChangeSource: "ResourceAttribute",
        CausingEntity: "SG.GroupId",
        Target: expect.objectContaining({
          Path: "/Properties/LaunchTemplateData/SecurityGroupIds/0",
        }),
      }),
    ]);
    // The group refers to the launch template, which is modified: a new version.
    expect(changes.find((c) => c.LogicalResourceId === "Group")?.Details[0]?.CausingEntity).toBe(
      "LT.LatestVersionNumber",
    );
  });

  it("adds and removes", () => {
    const changes = changesFor((r) => {
      delete r.SG;
      (r.LT!.Properties!.LaunchTemplateData as Record<string, unknown>).SecurityGroupIds = [
        "sg-fixed",
      ];
      r.Extra = { Type: "AWS::IAM::Role", Properties: { Path: "/" } };
    });
    expect(changes.map((c) => [c.LogicalResourceId, c.Action])).toEqual([
      ["Extra", "Add"],
      ["LT", "Modify"],
      ["Group", "Modify"],
      ["SG", "Remove"],
    ]);
    expect(changes[0]).toEqual({
      Action: "Add",
      LogicalResourceId: "Extra",
      ResourceType: "AWS::IAM::Role",
      Scope: [],
      Details: [],
      AfterContext: JSON.stringify({ Properties: { Path: "/" } }),
    });
    expect(changes[3]).toMatchObject({
      PhysicalResourceId: "sg-1",
      ResourceType: "AWS::EC2::SecurityGroup",
    });
  });

  it("an UpdatePolicy change modifies the group with that scope", () => {
    const changes = changesFor((r) => {
      r.Group!.UpdatePolicy = { AutoScalingRollingUpdate: { MinInstancesInService: 3 } };
    });
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      LogicalResourceId: "Group",
      Scope: ["UpdatePolicy"],
      Replacement: "False",
    });
  });

  it("new stack tags modify the taggable resources (not the launch template)", () => {
    const changes = changesFor(() => {}, { tags: [{ Key: "team", Value: "b" }] });
    expect(changes.map((c) => [c.LogicalResourceId, c.Scope])).toEqual([
      ["SG", ["Tags"]],
      ["Group", ["Tags"]],
    ]);
  });

  it("nothing changed: no changes", () => {
    expect(changesFor(() => {})).toEqual([]);
  });

  it("refuses a change of resource type", () => {
    expect(() =>
      changesFor((r) => {
        r.SG = { Type: "AWS::IAM::Role", Properties: {} };
      }),
    ).toThrow(
      "Update of resource type is not permitted. The new template modifies resource type of the following resources: [SG]",
    );
  });
});

describe("replacementOf", () => {
  const detail = (
    RequiresRecreation: "Never" | "Conditionally" | "Always",
    Evaluation: "Static" | "Dynamic",
  ): ChangeDetailRecord => ({
    Target: { Attribute: "Properties", RequiresRecreation },
    Evaluation,
    ChangeSource: "DirectModification",
  });
  it.each([
    { details: [detail("Never", "Static")], expected: "False" },
    { details: [detail("Always", "Static")], expected: "True" },
    { details: [detail("Always", "Dynamic")], expected: "Conditional" },
    {
      details: [detail("Conditionally", "Static"), detail("Never", "Static")],
      expected: "Conditional",
    },
    { details: [detail("Always", "Dynamic"), detail("Always", "Static")], expected: "True" },
  ])("$expected", ({ details, expected }) => {
    expect(replacementOf(details)).toBe(expected);
  });
});

describe("diffPaths", () => {
  it("goes down objects and equal-length lists; an intrinsic is one leaf", () => {
    expect(
      diffPaths(
        { A: { B: 1, C: [1, 2] }, D: { Ref: "X" }, E: [1] },
        { A: { B: 2, C: [1, 3] }, D: { Ref: "Y" }, E: [1, 2] },
        [],
      ),
    ).toEqual([
      { path: ["A", "B"], before: 1, after: 2 },
      { path: ["A", "C", "1"], before: 2, after: 3 },
      { path: ["D"], before: { Ref: "X" }, after: { Ref: "Y" } },
      { path: ["E"], before: [1], after: [1, 2] },
    ]);
  });
});
