// What changing a property does to its resource, from the CloudFormation
// resource specification (@aws-cdk/aws-service-spec): replaced, maybe
// replaced, or updated in place.
import { createRequire } from "node:module";

export type UpdateBehaviour = "replacement" | "conditional" | "none";

export type UpdateBehaviourLookup = (
  resourceType: string,
  path: readonly string[],
) => UpdateBehaviour;

interface SpecProperty {
  causesReplacement?: "yes" | "no" | "maybe";
  type: { type: string; reference?: { $ref: string }; element?: SpecProperty["type"] };
}

interface SpecDb {
  lookup(
    kind: "resource",
    key: "cloudFormationType",
    op: "equals",
    value: string,
  ): { properties: Record<string, SpecProperty> }[];
  get(kind: "typeDefinition", id: string): { properties: Record<string, SpecProperty> } | undefined;
}

let db: SpecDb | undefined;

function spec(): SpecDb {
  if (!db) {
    const require = createRequire(import.meta.url);
    const { loadAwsServiceSpecSync } = require("@aws-cdk/aws-service-spec") as {
      loadAwsServiceSpecSync(): SpecDb;
    };
    db = loadAwsServiceSpecSync();
  }
  return db;
}

const cache = new Map<string, UpdateBehaviour>();

/**
 * The behaviour of the property at `path` (top-level name first, then nested
 * names). The most severe behaviour along the path wins; a property the spec
 * does not know is treated as updatable in place.
 */
export const updateBehaviour: UpdateBehaviourLookup = (resourceType, path) => {
  const key = `${resourceType}\u0000${path.join(".")}`;
  let found = cache.get(key);
  if (found === undefined) {
    found = lookup(resourceType, path);
    cache.set(key, found);
  }
  return found;
};

function lookup(resourceType: string, path: readonly string[]): UpdateBehaviour {
  const resources = spec().lookup("resource", "cloudFormationType", "equals", resourceType);
  let properties = resources.length === 1 ? resources[0]?.properties : undefined;
  let worst: UpdateBehaviour = "none";
  for (const name of path) {
    const property = properties?.[name];
    if (!property) return worst;
    if (property.causesReplacement === "yes") return "replacement";
    if (property.causesReplacement === "maybe") worst = "conditional";
    properties = nestedProperties(property.type);
  }
  return worst;
}

function nestedProperties(
  type: SpecProperty["type"] | undefined,
): Record<string, SpecProperty> | undefined {
  if (!type) return undefined;
  if (type.type === "ref" && type.reference)
    return spec().get("typeDefinition", type.reference.$ref)?.properties;
  if (type.type === "array" || type.type === "map") return nestedProperties(type.element);
  return undefined;
}
