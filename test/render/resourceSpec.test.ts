import { beforeAll, describe, expect, it } from "vitest";
import type { ClusterSpec } from "../../src/manifest/types.js";
import type { CfnTemplate } from "../../src/render/cfnTemplate.js";
import { LOGICAL_ID } from "../../src/render/contract.js";
import { USER_DATA_MAX_BYTES } from "../../src/render/launchTemplate.js";
import {
  checkTemplateAgainstSpec,
  loadResourceSpec,
  propertyUpdateBehaviour,
  type ResourceSpec,
} from "../../src/render/resourceSpec.js";
import { renderStack } from "../../src/render/template.js";
import { renderUserData } from "../../src/render/userData.js";
import { coreosLegacySpec, devSpec, prodSpec, tlsSpec } from "./specs.js";

const IMAGE = { imageId: "ami-0199c4f8b5d417905" };
const VARIANTS: [string, ClusterSpec][] = [
  ["dev", devSpec()],
  ["prod", prodSpec()],
  ["prod with TLS", tlsSpec()],
  ["coreos-legacy", coreosLegacySpec()],
];

type Json = any;

function rendered(spec: ClusterSpec): Json {
  return structuredClone(renderStack(spec, IMAGE).template) as CfnTemplate;
}

describe("rendered templates against the CloudFormation resource specification", () => {
  let spec: ResourceSpec;
  beforeAll(() => {
    spec = loadResourceSpec();
  });

  it.each(VARIANTS)(
    "%s: every type, property and required property checks out",
    (_name, cluster) => {
      expect(checkTemplateAgainstSpec(renderStack(cluster, IMAGE).template, spec)).toEqual([]);
    },
  );

  it.each(VARIANTS)("%s: user-data fits EC2's 16 KB with room to spare", (_name, cluster) => {
    expect(new TextEncoder().encode(renderUserData(cluster)).length).toBeLessThan(
      USER_DATA_MAX_BYTES * 0.85,
    );
  });

  // Each mutation must be caught: otherwise the check above proves nothing.
  it.each([
    [
      "an unknown resource type",
      (t: Json) => {
        t.Resources.Extra = { Type: "AWS::EC2::Nope", Properties: {} };
      },
      "Extra (AWS::EC2::Nope): no such resource type",
    ],
    [
      "a misspelt nested property (MetadataOptions)",
      (t: Json) => {
        t.Resources[
          LOGICAL_ID.launchTemplate
        ].Properties.LaunchTemplateData.MetadataOptions.HttpTokenz = "required";
      },
      "EtcdLaunchTemplate (AWS::EC2::LaunchTemplate): LaunchTemplateData.MetadataOptions.HttpTokenz is not a property in the resource specification",
    ],
    [
      "a misspelt property in a list (BlockDeviceMappings)",
      (t: Json) => {
        t.Resources[
          LOGICAL_ID.launchTemplate
        ].Properties.LaunchTemplateData.BlockDeviceMappings[0].Ebs.Size = 1;
      },
      "LaunchTemplateData.BlockDeviceMappings[0].Ebs.Size is not a property",
    ],
    [
      "a missing required property (LifecycleHookSpecification)",
      (t: Json) => {
        delete t.Resources[LOGICAL_ID.group].Properties.LifecycleHookSpecificationList[1]
          .LifecycleTransition;
      },
      "EtcdGroup (AWS::AutoScaling::AutoScalingGroup): LifecycleHookSpecificationList[1].LifecycleTransition is required",
    ],
    [
      "a missing required tag field (ASG Tags)",
      (t: Json) => {
        delete t.Resources[LOGICAL_ID.group].Properties.Tags[0].PropagateAtLaunch;
      },
      "Tags[0].PropagateAtLaunch is required",
    ],
    [
      "a missing required top-level property",
      (t: Json) => {
        delete t.Resources[LOGICAL_ID.group].Properties.MaxSize;
      },
      "EtcdGroup (AWS::AutoScaling::AutoScalingGroup): MaxSize is required",
    ],
    [
      "a number where CloudFormation wants a string",
      (t: Json) => {
        t.Resources[LOGICAL_ID.group].Properties.MinSize = 3;
      },
      "MinSize must be a string (got 3)",
    ],
    [
      "an intrinsic the local cloud does not implement",
      (t: Json) => {
        t.Resources[LOGICAL_ID.launchTemplate].Properties.LaunchTemplateData.ImageId = {
          "Fn::FindInMap": ["a", "b", "c"],
        };
      },
      "Fn::FindInMap is not one of the intrinsics quorate renders",
    ],
    [
      "a GetAtt of an attribute that does not exist",
      (t: Json) => {
        t.Resources[LOGICAL_ID.group].Properties.LaunchTemplate.Version = {
          "Fn::GetAtt": [LOGICAL_ID.launchTemplate, "LatestVersion"],
        };
      },
      "AWS::EC2::LaunchTemplate has no attribute LatestVersion for Fn::GetAtt",
    ],
    [
      "a Ref to nothing",
      (t: Json) => {
        t.Outputs.GroupName.Value = { Ref: "EtcdGroupp" };
      },
      'Outputs: Ref "EtcdGroupp" names no resource or pseudo parameter',
    ],
  ])("catches %s", (_name, mutate, problem) => {
    const template = rendered(prodSpec());
    mutate(template);
    const problems = checkTemplateAgainstSpec(template, spec);
    expect(
      problems.some((p) => p.includes(problem)),
      problems.join("\n"),
    ).toBe(true);
  });
});

describe("propertyUpdateBehaviour", () => {
  it.each([
    ["AWS::EC2::SecurityGroup", "VpcId", "replacement"],
    ["AWS::EC2::SecurityGroup", "GroupDescription", "replacement"],
    ["AWS::EC2::SecurityGroup", "SecurityGroupIngress", "none"],
    ["AWS::EC2::SecurityGroupIngress", "FromPort", "replacement"],
    ["AWS::EC2::LaunchTemplate", "LaunchTemplateData", "none"],
    ["AWS::EC2::LaunchTemplate", "LaunchTemplateData.ImageId", "none"],
    ["AWS::EC2::LaunchTemplate", "LaunchTemplateName", "replacement"],
    ["AWS::AutoScaling::AutoScalingGroup", "LaunchTemplate", "none"],
    ["AWS::AutoScaling::AutoScalingGroup", "VPCZoneIdentifier", "none"],
    ["AWS::AutoScaling::AutoScalingGroup", "AutoScalingGroupName", "replacement"],
    ["AWS::IAM::Role", "Path", "replacement"],
    ["AWS::IAM::InstanceProfile", "Roles", "none"],
  ] as const)("%s %s -> %s", (type, property, behaviour) => {
    expect(propertyUpdateBehaviour(type, property)).toBe(behaviour);
  });

  it("says conditional for a property that may cause replacement", () => {
    // Found from the spec itself, so the test does not hard-code a property that may change.
    const spec = loadResourceSpec();
    const group = spec.resource("AWS::EC2::Instance");
    const maybe = Object.entries(group?.properties ?? {}).find(
      ([, p]) => p.causesReplacement === "maybe",
    );
    expect(maybe).toBeDefined();
    expect(propertyUpdateBehaviour("AWS::EC2::Instance", maybe?.[0] ?? "")).toBe("conditional");
  });

  it("refuses unknown types and properties", () => {
    expect(() => propertyUpdateBehaviour("AWS::Nope::Nope", "X")).toThrow(
      /not in the CloudFormation resource specification/,
    );
    expect(() =>
      propertyUpdateBehaviour("AWS::EC2::LaunchTemplate", "LaunchTemplateData.Nope"),
    ).toThrow("AWS::EC2::LaunchTemplate has no property LaunchTemplateData.Nope");
  });
});
