// Whether changing a property replaces its resource, for --offline plans, from
// the CloudFormation resource specification (src/render/resourceSpec.ts, over
// @aws-cdk/aws-service-spec: "Update requires: Replacement" in the template
// reference is causesReplacement "yes").
//
// The planner takes the lookup as a parameter, so it stays pure and tests can
// pass a table; serviceSpecUpdateBehaviour() is the default the CLI passes.
import {
  loadResourceSpec,
  propertyUpdateBehaviour,
  type UpdateBehaviour,
} from "../render/resourceSpec.js";
import { RENDERED_TYPES_BEHAVIOUR } from "./renderedTypesBehaviour.js";

export type { UpdateBehaviour };

/** propertyPath: property names from the top (array indexes left out), e.g. ["LaunchTemplateData", "ImageId"]. */
export type UpdateBehaviourLookup = (
  resourceType: string,
  propertyPath: readonly string[],
) => UpdateBehaviour;

/**
 * A lookup over the bundled resource specification (loaded on first use, about 0.3 s),
 * memoised per path. It never throws: a type the specification does not know may be anything,
 * so every change to it is "conditional"; a nested name it does not know is judged by the
 * longest known part of its path.
 */
export function serviceSpecUpdateBehaviour(): UpdateBehaviourLookup {
  const memo = new Map<string, UpdateBehaviour>();
  return (resourceType, propertyPath) => {
    const key = `${resourceType}\u0000${propertyPath.join("\u0000")}`;
    let behaviour = memo.get(key);
    if (behaviour === undefined) {
      behaviour = lookup(resourceType, propertyPath);
      memo.set(key, behaviour);
    }
    return behaviour;
  };
}

function lookup(resourceType: string, propertyPath: readonly string[]): UpdateBehaviour {
  // The types quorate renders are answered from a built-in table (checked against the
  // specification by a test), so a one-off plan does not pay the specification's load.
  const known = RENDERED_TYPES_BEHAVIOUR[resourceType];
  if (known) {
    for (let n = propertyPath.length; n >= 1; n--) {
      const behaviour = known[propertyPath.slice(0, n).join(".")];
      if (behaviour) return behaviour;
    }
  }
  const spec = loadResourceSpec();
  if (!spec.resource(resourceType)) return "conditional";
  for (let n = propertyPath.length; n >= 1; n--) {
    try {
      return propertyUpdateBehaviour(resourceType, propertyPath.slice(0, n), spec);
    } catch {
      // not in the specification at this depth: try the parent
    }
  }
  return "none";
}

/** A lookup from a fixed table of top-level properties, for tests and known types. */
export function tableUpdateBehaviour(
  table: Record<string, Record<string, UpdateBehaviour>>,
): UpdateBehaviourLookup {
  return (resourceType, propertyPath) => {
    const properties = table[resourceType];
    if (!properties) return "conditional";
    return properties[propertyPath[0] ?? ""] ?? "none";
  };
}
