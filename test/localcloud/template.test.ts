import { describe, expect, it } from "vitest";
import {
  deletionOrder,
  dependencyOrder,
} from "../../src/localcloud/cloudformation/dependencies.js";
import { checkCapabilities, parseTemplate } from "../../src/localcloud/cloudformation/template.js";
import { localAmiId } from "../../src/localcloud/index.js";
import type { TemplateResource } from "../../src/localcloud/state/model.js";
import { renderStack } from "../../src/render/template.js";
import { devSpec } from "../render/specs.js";

const sg = (props: Record<string, unknown> = {}) => ({
  Type: "AWS::EC2::SecurityGroup",
  Properties: { GroupDescription: "d", ...props },
});

describe("parseTemplate", () => {
  const errors: { name: string; template: unknown; message: string }[] = [
    {
      name: "a resource type the local cloud does not implement",
      template: {
        Resources: { A: { Type: "AWS::S3::Bucket" }, B: { Type: "AWS::SQS::Queue" }, C: sg() },
      },
      message:
        "Template format error: Unrecognized resource types: [AWS::S3::Bucket, AWS::SQS::Queue]",
    },
    {
      name: "no resources",
      template: { Resources: {} },
      message: "Template format error: At least one Resources member must be defined.",
    },
    {
      name: "an unknown section",
      template: { Resource: {}, Resources: { A: sg() } },
      message: "Template format error: Invalid template property or properties [Resource]",
    },
    {
      name: "a resource without a Type",
      template: { Resources: { A: { Properties: {} } } },
      message:
        "Template format error: [/Resources/A] Every Resources object must contain a Type member.",
    },
    {
      name: "a Ref to nothing",
      template: { Resources: { A: sg({ VpcId: { Ref: "Vpc" } }) } },
      message:
        "Template format error: Unresolved resource dependencies [Vpc] in the Resources block of the template",
    },
    {
      name: "a DependsOn to nothing",
      template: { Resources: { A: { ...sg(), DependsOn: "B" } } },
      message:
        "Template format error: Unresolved resource dependencies [B] in the Resources block of the template",
    },
    {
      name: "a cycle",
      template: {
        Resources: {
          A: sg({ VpcId: { "Fn::GetAtt": ["B", "VpcId"] } }),
          B: sg({ VpcId: { "Fn::GetAtt": ["A", "VpcId"] } }),
        },
      },
      message: "Circular dependency between resources: [A, B]",
    },
    {
      name: "Conditions, which the local cloud does not implement",
      template: { Conditions: { C: { "Fn::Equals": ["a", "a"] } }, Resources: { A: sg() } },
      message:
        "Template error: the quorate local cloud does not implement the Conditions section; render templates without it",
    },
  ];
  it.each(errors)("refuses $name", ({ template, message }) => {
    expect(() => parseTemplate(JSON.stringify(template))).toThrow(message);
  });

  it("reads YAML with short-form intrinsics as their long forms", () => {
    const yaml = [
      "Resources:",
      "  Group:",
      "    Type: AWS::EC2::SecurityGroup",
      "    Properties:",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not JavaScript
      "      GroupDescription: !Sub '${AWS::StackName} members'",
      "      VpcId: !GetAtt Other.VpcId",
      "  Other:",
      "    Type: AWS::EC2::SecurityGroup",
      "    Properties:",
      "      GroupDescription: !Join ['-', [a, !Ref AWS::Region]]",
    ].join("\n");
    const template = parseTemplate(yaml);
    expect(template.resources.Group?.Properties).toEqual({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not JavaScript
      GroupDescription: { "Fn::Sub": "${AWS::StackName} members" },
      VpcId: { "Fn::GetAtt": ["Other", "VpcId"] },
    });
    expect(template.resources.Other?.Properties?.GroupDescription).toEqual({
      "Fn::Join": ["-", ["a", { Ref: "AWS::Region" }]],
    });
  });

  it("accepts the rendered dev stack", () => {
    const rendered = renderStack(devSpec(), {
      imageId: localAmiId("stable", "4081.2.0", "eu-west-1"),
    });
    const template = parseTemplate(rendered.templateBody);
    expect(dependencyOrder(template.resources)).toEqual([
      "EtcdRole",
      "EtcdSecurityGroup",
      "EtcdInstanceProfile",
      "EtcdPeerClientIngress",
      "EtcdPeerIngress",
      "EtcdLaunchTemplate",
      "EtcdGroup",
    ]);
  });
});

describe("dependencyOrder", () => {
  const resources: Record<string, TemplateResource> = {
    Hook: {
      Type: "AWS::AutoScaling::LifecycleHook",
      Properties: { AutoScalingGroupName: { Ref: "Group" } },
    },
    Group: {
      Type: "AWS::AutoScaling::AutoScalingGroup",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not JavaScript
      Properties: { Name: { "Fn::Sub": "${LT}-${Profile.Arn}" } },
      DependsOn: ["Role"],
    },
    LT: { Type: "AWS::EC2::LaunchTemplate", Properties: {} },
    Profile: { Type: "AWS::IAM::InstanceProfile", Properties: {} },
    Role: { Type: "AWS::IAM::Role", Properties: {} },
  };

  it("creates after every Ref, GetAtt, Sub and DependsOn target; ties by name", () => {
    expect(dependencyOrder(resources)).toEqual(["LT", "Profile", "Role", "Group", "Hook"]);
  });

  it("deletes in reverse", () => {
    expect(deletionOrder(resources)).toEqual(["Hook", "Group", "Role", "Profile", "LT"]);
  });
});

describe("checkCapabilities", () => {
  const role = (props: Record<string, unknown> = {}) =>
    parseTemplate(
      JSON.stringify({ Resources: { R: { Type: "AWS::IAM::Role", Properties: props } } }),
    );
  const cases: { name: string; named: boolean; capabilities: string[]; error?: string }[] = [
    {
      name: "an unnamed role without capabilities",
      named: false,
      capabilities: [],
      error: "Requires capabilities : [CAPABILITY_IAM]",
    },
    { name: "an unnamed role with CAPABILITY_IAM", named: false, capabilities: ["CAPABILITY_IAM"] },
    {
      name: "an unnamed role with CAPABILITY_NAMED_IAM",
      named: false,
      capabilities: ["CAPABILITY_NAMED_IAM"],
    },
    {
      name: "a named role with CAPABILITY_IAM",
      named: true,
      capabilities: ["CAPABILITY_IAM"],
      error: "Requires capabilities : [CAPABILITY_NAMED_IAM]",
    },
    {
      name: "a named role with CAPABILITY_NAMED_IAM",
      named: true,
      capabilities: ["CAPABILITY_NAMED_IAM"],
    },
  ];
  it.each(cases)("$name", ({ named, capabilities, error }) => {
    const template = role(named ? { RoleName: "r" } : {});
    if (error) expect(() => checkCapabilities(template, capabilities)).toThrow(error);
    else expect(() => checkCapabilities(template, capabilities)).not.toThrow();
  });

  it("throws InsufficientCapabilitiesException", () => {
    let caught: unknown;
    try {
      checkCapabilities(role(), []);
    } catch (error) {
      caught = error;
    }
    expect((caught as { code?: string } | undefined)?.code).toBe(
      "InsufficientCapabilitiesException",
    );
  });
});
