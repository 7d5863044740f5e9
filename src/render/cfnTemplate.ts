// The shape of a rendered CloudFormation template, and the intrinsic
// functions quorate uses. The local cloud evaluates exactly these intrinsics
// (Ref, Fn::GetAtt, Fn::Base64, Fn::Sub, Fn::Join), so the renderer builds
// them only through the helpers below.

export type CfnValue = string | number | boolean | CfnValue[] | { [key: string]: CfnValue };

export interface CfnResource {
  Type: string;
  Properties: Record<string, CfnValue>;
  CreationPolicy?: Record<string, CfnValue>;
  UpdatePolicy?: Record<string, CfnValue>;
  DependsOn?: string[];
  Metadata?: Record<string, CfnValue>;
}

export interface CfnOutput {
  Description: string;
  Value: CfnValue;
}

export interface CfnTemplate {
  AWSTemplateFormatVersion: "2010-09-09";
  Description: string;
  Metadata: Record<string, CfnValue>;
  Resources: Record<string, CfnResource>;
  Outputs: Record<string, CfnOutput>;
}

export type CfnTag = { Key: string; Value: string };

export const INTRINSICS = ["Ref", "Fn::GetAtt", "Fn::Base64", "Fn::Sub", "Fn::Join"] as const;

export const ref = (logicalIdOrPseudo: string): CfnValue => ({ Ref: logicalIdOrPseudo });
export const getAtt = (logicalId: string, attribute: string): CfnValue => ({
  "Fn::GetAtt": [logicalId, attribute],
});
export const sub = (text: string): CfnValue => ({ "Fn::Sub": text });
export const base64 = (value: CfnValue): CfnValue => ({ "Fn::Base64": value });
export const join = (separator: string, values: CfnValue[]): CfnValue => ({
  "Fn::Join": [separator, values],
});
