// Whether changing a property replaces its resource, for --offline plans, from
// the CloudFormation resource specification as the maintained npm package
// @aws-cdk/aws-service-spec carries it ("Update requires: Replacement" in the
// CloudFormation template reference becomes causesReplacement "yes").
//
// The planner takes the lookup as a parameter, so it stays pure and tests can
// pass a table; serviceSpecUpdateBehaviour() is the default the CLI passes.
// TODO: switch to src/render/resourceSpec.ts (propertyUpdateBehaviour) once it lands.
import { createRequire } from "node:module";

export type UpdateBehaviour = "replacement" | "conditional" | "none";

export type UpdateBehaviourLookup = (resourceType: string, propertyName: string) => UpdateBehaviour;

interface SpecDatabaseLike {
  lookup(
    collection: "resource",
    index: "cloudFormationType",
    op: "equals",
    value: string,
  ): { only(): { properties: Record<string, { causesReplacement?: "yes" | "no" | "maybe" }> } };
}

let database: SpecDatabaseLike | undefined;

/**
 * A lookup over the bundled resource specification. The database (about 0.3 s to load) is read
 * on first use and each resource type once; a type the specification does not know may be
 * anything, so every change to it is "conditional".
 */
export function serviceSpecUpdateBehaviour(): UpdateBehaviourLookup {
  const byType = new Map<string, Record<string, UpdateBehaviour> | undefined>();
  return (resourceType, propertyName) => {
    if (!byType.has(resourceType)) byType.set(resourceType, loadType(resourceType));
    const properties = byType.get(resourceType);
    if (!properties) return "conditional";
    return properties[propertyName] ?? "none";
  };
}

function loadType(resourceType: string): Record<string, UpdateBehaviour> | undefined {
  if (!database) {
    const require = createRequire(import.meta.url);
    const spec = require("@aws-cdk/aws-service-spec") as {
      loadAwsServiceSpecSync(): SpecDatabaseLike;
    };
    database = spec.loadAwsServiceSpecSync();
  }
  let resource: ReturnType<ReturnType<SpecDatabaseLike["lookup"]>["only"]>;
  try {
    resource = database.lookup("resource", "cloudFormationType", "equals", resourceType).only();
  } catch {
    return undefined; // not exactly one match: not a type the specification knows
  }
  const out: Record<string, UpdateBehaviour> = {};
  for (const [name, property] of Object.entries(resource.properties)) {
    out[name] =
      property.causesReplacement === "yes"
        ? "replacement"
        : property.causesReplacement === "maybe"
          ? "conditional"
          : "none";
  }
  return out;
}

/** A lookup from a fixed table, for tests and for callers that know their types. */
export function tableUpdateBehaviour(
  table: Record<string, Record<string, UpdateBehaviour>>,
): UpdateBehaviourLookup {
  return (resourceType, propertyName) => {
    const properties = table[resourceType];
    if (!properties) return "conditional";
    return properties[propertyName] ?? "none";
  };
}
