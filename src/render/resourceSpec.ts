// The CloudFormation resource specification (@aws-cdk/aws-service-spec), used
// to check rendered templates and to tell which property changes replace a
// resource. Loading reads the package's database once; everything after that
// is a pure function of the loaded spec.
import { loadAwsServiceSpecSync } from "@aws-cdk/aws-service-spec";
import { terminal } from "../errors.js";
import { INTRINSICS } from "./cfnTemplate.js";

// The few shapes of the spec database this module reads, declared here so that
// it does not depend on the types of a transitive package.
type SpecPropertyType =
  | { type: "string" | "number" | "integer" | "boolean" | "json" | "date-time" | "null" | "tag" }
  | { type: "ref"; reference: { $ref: string } }
  | { type: "array" | "map"; element: SpecPropertyType }
  | { type: "union"; types: SpecPropertyType[] };

interface SpecProperty {
  type: SpecPropertyType;
  previousTypes?: SpecPropertyType[];
  required?: boolean;
  causesReplacement?: "yes" | "no" | "maybe";
}

interface SpecResource {
  cloudFormationType: string;
  properties: Record<string, SpecProperty>;
  attributes: Record<string, unknown>;
  additionalReplacementProperties?: string[][];
}

export interface ResourceSpec {
  resource(cloudFormationType: string): SpecResource | undefined;
  typeDefinition(
    id: string,
  ): { name: string; properties: Record<string, SpecProperty> } | undefined;
}

let loaded: ResourceSpec | undefined;

/** The resource specification, loaded once per process (about a third of a second). */
export function loadResourceSpec(): ResourceSpec {
  if (loaded) return loaded;
  const db = loadAwsServiceSpecSync();
  const resources = new Map<string, SpecResource | undefined>();
  loaded = {
    resource(type) {
      if (!resources.has(type)) {
        const found = db.lookup("resource", "cloudFormationType", "equals", type);
        resources.set(type, found.length === 1 ? (found[0] as unknown as SpecResource) : undefined);
      }
      return resources.get(type);
    },
    typeDefinition(id) {
      return db.get("typeDefinition", id) as unknown as ReturnType<ResourceSpec["typeDefinition"]>;
    },
  };
  return loaded;
}

export type UpdateBehaviour = "replacement" | "conditional" | "none";

/**
 * What changing a property does to its resource: "replacement" (causes
 * replacement), "conditional" (may), or "none" (updated in place).
 * `propertyPath` is a top-level property name, or a path into nested
 * property types ("LaunchTemplateData.ImageId" or ["LaunchTemplateData", "ImageId"]).
 */
export function propertyUpdateBehaviour(
  resourceType: string,
  propertyPath: string | readonly string[],
  spec: ResourceSpec = loadResourceSpec(),
): UpdateBehaviour {
  const path = typeof propertyPath === "string" ? propertyPath.split(".") : [...propertyPath];
  const resource = spec.resource(resourceType);
  if (!resource) {
    throw terminal(`${resourceType} is not in the CloudFormation resource specification`);
  }
  const extra = resource.additionalReplacementProperties ?? [];
  if (extra.some((p) => p.length <= path.length && p.every((name, i) => path[i] === name))) {
    return "replacement";
  }
  let properties = resource.properties;
  let worst: UpdateBehaviour = "none";
  for (const [i, name] of path.entries()) {
    const property = properties[name];
    if (!property) {
      throw terminal(
        `${resourceType} has no property ${path.slice(0, i + 1).join(".")} in the resource specification`,
      );
    }
    if (property.causesReplacement === "yes") return "replacement";
    if (property.causesReplacement === "maybe") worst = "conditional";
    if (i === path.length - 1) break;
    const nested = nestedDefinition(property.type, spec);
    if (!nested) break;
    properties = nested;
  }
  return worst;
}

/** The properties of the object type a property holds (through arrays and maps), if any. */
function nestedDefinition(
  type: SpecPropertyType,
  spec: ResourceSpec,
): Record<string, SpecProperty> | undefined {
  if (type.type === "ref") return spec.typeDefinition(type.reference.$ref)?.properties;
  if (type.type === "array" || type.type === "map") return nestedDefinition(type.element, spec);
  return undefined;
}

const PSEUDO_PARAMETERS = new Set([
  "AWS::AccountId",
  "AWS::NotificationARNs",
  "AWS::NoValue",
  "AWS::Partition",
  "AWS::Region",
  "AWS::StackId",
  "AWS::StackName",
  "AWS::URLSuffix",
]);

/**
 * Problems of a template against the resource specification, as sentences
 * naming the resource and the property path; empty when there are none. It
 * checks resource types, property names and required properties (recursively
 * into nested property types), primitive types, that only the intrinsics the
 * local cloud implements are used, and that Ref and Fn::GetAtt name existing
 * resources and attributes.
 */
export function checkTemplateAgainstSpec(
  template: unknown,
  spec: ResourceSpec = loadResourceSpec(),
): string[] {
  const problems: string[] = [];
  const resources = (template as { Resources?: unknown } | null)?.Resources;
  if (typeof resources !== "object" || resources === null) return ["template has no Resources"];
  const logicalIds = new Map<string, string>();
  for (const [id, resource] of Object.entries(resources as Record<string, unknown>)) {
    const type = (resource as { Type?: unknown } | null)?.Type;
    logicalIds.set(id, typeof type === "string" ? type : "");
  }
  const ctx: CheckContext = { spec, problems, logicalIds };
  for (const [id, resource] of Object.entries(resources as Record<string, unknown>)) {
    const { Type: type, Properties: properties } = resource as {
      Type: string;
      Properties?: unknown;
    };
    const where = `${id} (${type})`;
    const specResource = spec.resource(type);
    if (!specResource) {
      problems.push(`${where}: no such resource type`);
      continue;
    }
    checkObject(ctx, where, "", properties ?? {}, specResource.properties);
    for (const attribute of ["CreationPolicy", "UpdatePolicy", "Metadata"]) {
      checkIntrinsics(
        ctx,
        `${where} ${attribute}`,
        (resource as Record<string, unknown>)[attribute],
      );
    }
  }
  checkIntrinsics(ctx, "Outputs", (template as { Outputs?: unknown }).Outputs);
  return problems;
}

interface CheckContext {
  spec: ResourceSpec;
  problems: string[];
  /** Logical id -> resource type. */
  logicalIds: Map<string, string>;
}

function checkObject(
  ctx: CheckContext,
  where: string,
  path: string,
  value: unknown,
  properties: Record<string, SpecProperty>,
): void {
  if (isIntrinsic(value)) {
    checkIntrinsics(ctx, `${where} ${path}`, value);
    return;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    ctx.problems.push(`${where}: ${path || "Properties"} must be an object`);
    return;
  }
  const record = value as Record<string, unknown>;
  for (const [name, child] of Object.entries(record)) {
    const childPath = path ? `${path}.${name}` : name;
    const property = properties[name];
    if (!property) {
      ctx.problems.push(`${where}: ${childPath} is not a property in the resource specification`);
      continue;
    }
    const accepted = [property.type, ...(property.previousTypes ?? [])];
    const attempts = accepted.map((type) =>
      collect(ctx, (sub) => checkValue(sub, where, childPath, child, type)),
    );
    const passing = attempts.find((problems) => problems.length === 0);
    if (!passing) ctx.problems.push(...(attempts[0] ?? []));
  }
  for (const [name, property] of Object.entries(properties)) {
    if (property.required && record[name] === undefined) {
      ctx.problems.push(`${where}: ${path ? `${path}.${name}` : name} is required`);
    }
  }
}

function checkValue(
  ctx: CheckContext,
  where: string,
  path: string,
  value: unknown,
  type: SpecPropertyType,
): void {
  if (isIntrinsic(value)) {
    checkIntrinsics(ctx, `${where} ${path}`, value);
    return;
  }
  const wrong = (expected: string): void => {
    ctx.problems.push(`${where}: ${path} must be ${expected} (got ${JSON.stringify(value)})`);
  };
  switch (type.type) {
    case "string":
    case "date-time":
      if (typeof value !== "string") wrong("a string");
      return;
    case "integer":
      if (!Number.isInteger(value)) wrong("an integer");
      return;
    case "number":
      if (typeof value !== "number") wrong("a number");
      return;
    case "boolean":
      if (typeof value !== "boolean") wrong("a boolean");
      return;
    case "null":
      if (value !== null) wrong("null");
      return;
    case "json":
      checkIntrinsics(ctx, `${where} ${path}`, value);
      return;
    case "tag":
      checkObject(ctx, where, path, value, TAG_PROPERTIES);
      return;
    case "ref": {
      const definition = ctx.spec.typeDefinition(type.reference.$ref);
      if (!definition) throw new Error(`resource specification has no type ${type.reference.$ref}`);
      checkObject(ctx, where, path, value, definition.properties);
      return;
    }
    case "array":
      if (!Array.isArray(value)) {
        wrong("a list");
        return;
      }
      value.forEach((item, i) => {
        checkValue(ctx, where, `${path}[${i}]`, item, type.element);
      });
      return;
    case "map":
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        wrong("a map");
        return;
      }
      for (const [key, item] of Object.entries(value)) {
        checkValue(ctx, where, `${path}.${key}`, item, type.element);
      }
      return;
    case "union": {
      const attempts = type.types.map((t) =>
        collect(ctx, (sub) => checkValue(sub, where, path, value, t)),
      );
      if (!attempts.some((problems) => problems.length === 0))
        ctx.problems.push(...(attempts[0] ?? []));
      return;
    }
  }
}

const TAG_PROPERTIES: Record<string, SpecProperty> = {
  Key: { type: { type: "string" }, required: true },
  Value: { type: { type: "string" }, required: true },
};

/** Runs a check against a scratch problem list, for trying the types of a union. */
function collect(ctx: CheckContext, check: (ctx: CheckContext) => void): string[] {
  const scratch: CheckContext = { ...ctx, problems: [] };
  check(scratch);
  return scratch.problems;
}

function isIntrinsic(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === "Ref" || (keys[0]?.startsWith("Fn::") ?? false));
}

/** Walks any value for intrinsics: only the supported ones, naming things that exist. */
function checkIntrinsics(ctx: CheckContext, where: string, value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) checkIntrinsics(ctx, where, item);
    return;
  }
  if (typeof value !== "object" || value === null) return;
  if (!isIntrinsic(value)) {
    for (const child of Object.values(value)) checkIntrinsics(ctx, where, child);
    return;
  }
  const [name, argument] = Object.entries(value)[0] as [string, unknown];
  if (!(INTRINSICS as readonly string[]).includes(name)) {
    ctx.problems.push(
      `${where}: ${name} is not one of the intrinsics quorate renders (${INTRINSICS.join(", ")})`,
    );
    return;
  }
  if (name === "Ref") {
    if (
      typeof argument !== "string" ||
      !(ctx.logicalIds.has(argument) || PSEUDO_PARAMETERS.has(argument))
    ) {
      ctx.problems.push(
        `${where}: Ref ${JSON.stringify(argument)} names no resource or pseudo parameter`,
      );
    }
    return;
  }
  if (name === "Fn::GetAtt") {
    checkGetAtt(ctx, where, argument);
    return;
  }
  if (name === "Fn::Sub" && typeof argument === "string") {
    for (const match of argument.matchAll(/\$\{([^}!]+)\}/g)) {
      const [target = "", attribute] = (match[1] ?? "").split(".", 2);
      if (attribute !== undefined) checkGetAtt(ctx, where, [target, attribute]);
      else if (!ctx.logicalIds.has(target) && !PSEUDO_PARAMETERS.has(target)) {
        ctx.problems.push(`${where}: Fn::Sub refers to \${${target}}, which names nothing`);
      }
    }
    return;
  }
  checkIntrinsics(ctx, where, argument);
}

function checkGetAtt(ctx: CheckContext, where: string, argument: unknown): void {
  const [target, attribute] = Array.isArray(argument) ? argument : [];
  const type = typeof target === "string" ? ctx.logicalIds.get(target) : undefined;
  if (type === undefined || typeof attribute !== "string") {
    ctx.problems.push(`${where}: Fn::GetAtt ${JSON.stringify(argument)} names no resource`);
    return;
  }
  const attributes = ctx.spec.resource(type)?.attributes ?? {};
  if (!(attribute in attributes)) {
    ctx.problems.push(`${where}: ${type} has no attribute ${attribute} for Fn::GetAtt`);
  }
}
