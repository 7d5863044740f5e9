import { describe, expect, it } from "vitest";
import {
  checkIntrinsics,
  type IntrinsicContext,
  KNOWN_AFTER_APPLY,
  resolveProperties,
  resolveValue,
  resourceReferences,
  UNKNOWN,
} from "../../src/localcloud/cloudformation/intrinsics.js";
import type { Json } from "../../src/localcloud/state/model.js";

const ctx: IntrinsicContext = {
  stackName: "quorate-dev",
  stackId: "arn:aws:cloudformation:eu-west-1:000000000000:stack/quorate-dev/1",
  region: "eu-west-1",
  ref: (name) => (name === "Pending" ? UNKNOWN : name === "Size" ? "3" : `${name}-physical`),
  getAtt: (id, attribute) => (id === "Pending" ? UNKNOWN : `${id}.${attribute}-value`),
};

describe("resolveValue", () => {
  const cases: { name: string; value: Json; expected: Json }[] = [
    { name: "Ref of a resource", value: { Ref: "Group" }, expected: "Group-physical" },
    { name: "Ref of a parameter", value: { Ref: "Size" }, expected: "3" },
    { name: "AWS::StackName", value: { Ref: "AWS::StackName" }, expected: "quorate-dev" },
    { name: "AWS::StackId", value: { Ref: "AWS::StackId" }, expected: ctx.stackId },
    { name: "AWS::Region", value: { Ref: "AWS::Region" }, expected: "eu-west-1" },
    { name: "AWS::AccountId", value: { Ref: "AWS::AccountId" }, expected: "000000000000" },
    { name: "AWS::Partition", value: { Ref: "AWS::Partition" }, expected: "aws" },
    { name: "AWS::URLSuffix", value: { Ref: "AWS::URLSuffix" }, expected: "amazonaws.com" },
    {
      name: "Fn::GetAtt as a list",
      value: { "Fn::GetAtt": ["LT", "LatestVersionNumber"] },
      expected: "LT.LatestVersionNumber-value",
    },
    {
      name: "Fn::GetAtt as a dotted string",
      value: { "Fn::GetAtt": "Role.Arn" },
      expected: "Role.Arn-value",
    },
    { name: "Fn::Base64", value: { "Fn::Base64": "hello" }, expected: "aGVsbG8=" },
    {
      name: "Fn::Join",
      value: { "Fn::Join": ["-", ["a", { Ref: "AWS::Region" }, "b"]] },
      expected: "a-eu-west-1-b",
    },
    {
      name: "Fn::Sub with pseudo parameters, GetAtt and a literal",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not JavaScript
      value: { "Fn::Sub": "arn:${AWS::Partition}:x:${AWS::Region}:${Role.Arn}:${!Literal}" },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not JavaScript
      expected: "arn:aws:x:eu-west-1:Role.Arn-value:${Literal}",
    },
    {
      name: "Fn::Sub with a variable map",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not JavaScript
      value: { "Fn::Sub": ["${Name}-${Group}", { Name: { Ref: "AWS::StackName" } }] },
      expected: "quorate-dev-Group-physical",
    },
    {
      name: "AWS::NoValue drops the property and the list element",
      value: { A: { Ref: "AWS::NoValue" }, B: ["x", { Ref: "AWS::NoValue" }] },
      expected: { B: ["x"] },
    },
    {
      name: "a value not known yet",
      value: { "Fn::Join": ["", ["a", { Ref: "Pending" }]] },
      expected: KNOWN_AFTER_APPLY,
    },
    {
      name: "nested values keep what is known",
      value: {
        Id: { Ref: "Group" },
        Version: { "Fn::GetAtt": ["Pending", "LatestVersionNumber"] },
      },
      expected: { Id: "Group-physical", Version: KNOWN_AFTER_APPLY },
    },
  ];
  it.each(cases)("$name", ({ value, expected }) => {
    expect(resolveValue(value, ctx)).toEqual(expected);
  });

  it("refuses the functions it does not implement, saying which it does", () => {
    expect(() => resolveProperties({ A: { "Fn::Select": [0, ["a"]] } }, ctx)).toThrow(
      "Template error: the quorate local cloud does not implement Fn::Select (it evaluates Ref, Fn::GetAtt, Fn::Base64, Fn::Sub, Fn::Join); render the template without it",
    );
  });
});

describe("checkIntrinsics", () => {
  const names = { resources: new Set(["Group", "LT"]), parameters: new Set(["Size"]) };
  const check = (value: Json) => {
    const missing = new Set<string>();
    checkIntrinsics(value, names, missing);
    return [...missing];
  };

  it("collects names that are neither resources, parameters nor pseudo parameters", () => {
    expect(check({ A: { Ref: "Group" }, B: { Ref: "Size" }, C: { Ref: "AWS::Region" } })).toEqual(
      [],
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not JavaScript
    expect(check({ A: { Ref: "Nope" }, B: { "Fn::Sub": "${Other}-${AWS::StackName}" } })).toEqual([
      "Nope",
      "Other",
    ]);
  });

  it("rejects Fn::GetAtt of an undefined resource with CloudFormation's words", () => {
    expect(() => check({ "Fn::GetAtt": ["Ghost", "Arn"] })).toThrow(
      "Template error: instance of Fn::GetAtt references undefined resource Ghost",
    );
  });

  it("rejects unimplemented functions before anything is created", () => {
    expect(() => check({ "Fn::If": ["C", "a", "b"] })).toThrow("does not implement Fn::If");
  });
});

describe("resourceReferences", () => {
  it("finds Ref, Fn::GetAtt and Fn::Sub references with their paths", () => {
    const value = {
      LaunchTemplate: {
        LaunchTemplateId: { Ref: "LT" },
        Version: { "Fn::GetAtt": ["LT", "LatestVersionNumber"] },
      },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not JavaScript
      Name: { "Fn::Sub": "${Group}-${LT.LaunchTemplateId}-${AWS::Region}" },
    };
    expect(resourceReferences(value, new Set(["LT", "Group"]))).toEqual([
      { kind: "Ref", logicalId: "LT", path: "/LaunchTemplate/LaunchTemplateId" },
      {
        kind: "GetAtt",
        logicalId: "LT",
        attribute: "LatestVersionNumber",
        path: "/LaunchTemplate/Version",
      },
      { kind: "Ref", logicalId: "Group", path: "/Name" },
      { kind: "GetAtt", logicalId: "LT", attribute: "LaunchTemplateId", path: "/Name" },
    ]);
  });
});
