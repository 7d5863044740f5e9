// Reading and checking a template the way CreateChangeSet does, with
// CloudFormation's error wordings. JSON or YAML (short-form tags included).
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html
import { parse as parseYaml, type Tags } from "yaml";
import { AwsError, validationError } from "../protocol/awsError.js";
import type { Json, JsonObject, TemplateResource } from "../state/model.js";
import { dependencyOrder, dependsOnList } from "./dependencies.js";
import { checkIntrinsics } from "./intrinsics.js";
import { SUPPORTED_TYPES } from "./resources/types.js";

export interface TemplateParameter {
  Type: string;
  Default?: string | number;
  Description?: string;
  AllowedValues?: (string | number)[];
  NoEcho?: boolean | string;
}

export interface TemplateOutput {
  Value: Json;
  Description?: string;
  Export?: { Name: Json };
}

export interface Template {
  description?: string;
  /** AWSTemplateFormatVersion, when declared. */
  formatVersion?: string;
  /** The Metadata section, when declared. */
  metadata?: JsonObject;
  parameters: Record<string, TemplateParameter>;
  resources: Record<string, TemplateResource>;
  outputs: Record<string, TemplateOutput>;
}

const SECTIONS = new Set([
  "AWSTemplateFormatVersion",
  "Description",
  "Metadata",
  "Parameters",
  "Mappings",
  "Conditions",
  "Transform",
  "Resources",
  "Outputs",
  "Rules",
]);

const templateFormatError = (what: string) => validationError(`Template format error: ${what}`);

/** Parses and checks a template body; throws ValidationError with CloudFormation's words. */
export function parseTemplate(body: string): Template {
  const raw = parseBody(body);
  const unknown = Object.keys(raw).filter((key) => !SECTIONS.has(key));
  if (unknown.length > 0) {
    throw templateFormatError(`Invalid template property or properties [${unknown.join(", ")}]`);
  }
  for (const section of ["Conditions", "Mappings", "Rules", "Transform"]) {
    if (raw[section] !== undefined) {
      throw validationError(
        `Template error: the quorate local cloud does not implement the ${section} section; render templates without it`,
      );
    }
  }
  const resources = raw.Resources;
  if (!isObject(resources) || Object.keys(resources).length === 0) {
    throw templateFormatError("At least one Resources member must be defined.");
  }
  const checked: Record<string, TemplateResource> = {};
  const unrecognized: string[] = [];
  for (const [logicalId, value] of Object.entries(resources)) {
    if (!/^[A-Za-z0-9]+$/.test(logicalId)) {
      throw templateFormatError(`Resource name ${logicalId} is non alphanumeric.`);
    }
    if (!isObject(value) || typeof value.Type !== "string") {
      throw templateFormatError(
        `[/Resources/${logicalId}] Every Resources object must contain a Type member.`,
      );
    }
    if (!SUPPORTED_TYPES.has(value.Type)) unrecognized.push(value.Type);
    if (value.Condition !== undefined) {
      throw validationError(
        `Template error: resource ${logicalId} has a Condition; the quorate local cloud does not implement Conditions`,
      );
    }
    if (value.Properties !== undefined && !isObject(value.Properties)) {
      throw templateFormatError(`[/Resources/${logicalId}/Properties] must be an object`);
    }
    checked[logicalId] = value as unknown as TemplateResource;
  }
  if (unrecognized.length > 0) {
    throw templateFormatError(
      `Unrecognized resource types: [${[...new Set(unrecognized)].join(", ")}]`,
    );
  }
  const parameters = (isObject(raw.Parameters) ? raw.Parameters : {}) as unknown as Record<
    string,
    TemplateParameter
  >;
  for (const [key, parameter] of Object.entries(parameters)) {
    if (!isObject(parameter) || typeof parameter.Type !== "string") {
      throw templateFormatError(
        `[/Parameters/${key}] Every Parameters object must contain a Type member.`,
      );
    }
  }
  const outputs = (isObject(raw.Outputs) ? raw.Outputs : {}) as unknown as Record<
    string,
    TemplateOutput
  >;
  for (const [key, output] of Object.entries(outputs)) {
    if (!isObject(output) || output.Value === undefined) {
      throw templateFormatError(
        `[/Outputs/${key}] Every Outputs member must contain a Value object`,
      );
    }
  }
  const names = {
    resources: new Set(Object.keys(checked)),
    parameters: new Set(Object.keys(parameters)),
  };
  const missing = new Set<string>();
  for (const resource of Object.values(checked)) {
    for (const dep of dependsOnList(resource)) if (!names.resources.has(dep)) missing.add(dep);
    checkIntrinsics(resource.Properties ?? {}, names, missing);
  }
  for (const output of Object.values(outputs)) checkIntrinsics(output.Value, names, missing);
  if (missing.size > 0) {
    throw templateFormatError(
      `Unresolved resource dependencies [${[...missing].join(", ")}] in the Resources block of the template`,
    );
  }
  dependencyOrder(checked); // throws on a cycle
  const template: Template = { parameters, resources: checked, outputs };
  if (typeof raw.Description === "string") template.description = raw.Description;
  if (raw.AWSTemplateFormatVersion !== undefined)
    template.formatVersion = String(raw.AWSTemplateFormatVersion);
  if (isObject(raw.Metadata)) template.metadata = raw.Metadata;
  return template;
}

/** The value of every parameter, from the request or the template's defaults. */
export function parameterValues(
  template: Template,
  given: { key: string; value: string }[],
): { key: string; value: string }[] {
  const byKey = new Map(given.map((p) => [p.key, p.value]));
  const unknown = [...byKey.keys()].filter((key) => !(key in template.parameters));
  if (unknown.length > 0) {
    throw validationError(`Parameters: [${unknown.join(", ")}] do not exist in the template`);
  }
  const out: { key: string; value: string }[] = [];
  const missing: string[] = [];
  for (const [key, declared] of Object.entries(template.parameters)) {
    const value =
      byKey.get(key) ?? (declared.Default === undefined ? undefined : String(declared.Default));
    if (value === undefined) missing.push(key);
    else out.push({ key, value });
  }
  if (missing.length > 0)
    throw validationError(`Parameters: [${missing.join(", ")}] must have values`);
  return out;
}

const IAM_NAMES: Record<string, string> = {
  "AWS::IAM::Role": "RoleName",
  "AWS::IAM::InstanceProfile": "InstanceProfileName",
};

export type IamCapability = "CAPABILITY_IAM" | "CAPABILITY_NAMED_IAM";

/**
 * IAM resources need CAPABILITY_IAM, named ones CAPABILITY_NAMED_IAM; the
 * types that need it are what ValidateTemplate gives as CapabilitiesReason.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/control-access-with-iam.html#using-iam-capabilities
 */
export function requiredCapabilities(
  template: Template,
): { capability: IamCapability; resourceTypes: string[] } | undefined {
  let capability: IamCapability | undefined;
  const resourceTypes = new Set<string>();
  for (const resource of Object.values(template.resources)) {
    const nameProperty = IAM_NAMES[resource.Type];
    if (!nameProperty) continue;
    resourceTypes.add(resource.Type);
    if (resource.Properties?.[nameProperty] !== undefined) capability = "CAPABILITY_NAMED_IAM";
    else capability ??= "CAPABILITY_IAM";
  }
  return capability ? { capability, resourceTypes: [...resourceTypes] } : undefined;
}

/** Refuses a change set whose template needs a capability the request did not acknowledge. */
export function checkCapabilities(template: Template, capabilities: readonly string[]): void {
  const needed = requiredCapabilities(template)?.capability;
  if (!needed) return;
  const ok =
    needed === "CAPABILITY_IAM"
      ? capabilities.includes("CAPABILITY_IAM") || capabilities.includes("CAPABILITY_NAMED_IAM")
      : capabilities.includes("CAPABILITY_NAMED_IAM");
  if (!ok) {
    throw new AwsError("InsufficientCapabilitiesException", `Requires capabilities : [${needed}]`);
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseBody(body: string): JsonObject {
  const trimmed = body.trimStart();
  let parsed: unknown;
  if (trimmed.startsWith("{")) {
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      throw templateFormatError(`JSON not well-formed. (${(error as Error).message})`);
    }
  } else {
    try {
      parsed = parseYaml(body, { customTags: SHORT_FORMS });
    } catch (error) {
      throw templateFormatError(`YAML not well-formed. (${(error as Error).message})`);
    }
  }
  if (!isObject(parsed)) throw templateFormatError("the template is not a JSON or YAML object");
  return parsed;
}

/** YAML short forms (!Ref X, !GetAtt A.B, !Sub ...) as their long forms. */
const SHORT_FORMS: Tags = (() => {
  const names = [
    "Base64",
    "Join",
    "Sub",
    "Select",
    "Split",
    "GetAZs",
    "ImportValue",
    "FindInMap",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "Cidr",
    "Transform",
  ];
  const tags: Tags = [
    { tag: "!Ref", resolve: (value: string) => ({ Ref: value }) },
    { tag: "!Condition", resolve: (value: string) => ({ Condition: value }) },
    {
      tag: "!GetAtt",
      resolve: (value: string) => ({ "Fn::GetAtt": value.split(/\.(.*)/s).slice(0, 2) }),
    },
    {
      tag: "!GetAtt",
      collection: "seq",
      resolve: (value) => ({ "Fn::GetAtt": (value as { toJSON(): unknown }).toJSON() }),
    },
  ];
  for (const name of names) {
    const key = `Fn::${name}`;
    tags.push({ tag: `!${name}`, resolve: (value: string) => ({ [key]: value }) });
    for (const collection of ["seq", "map"] as const) {
      tags.push({
        tag: `!${name}`,
        collection,
        resolve: (value) => ({ [key]: (value as { toJSON(): unknown }).toJSON() }),
      });
    }
  }
  return tags;
})();
