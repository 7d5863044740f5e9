// What changing a property does to its resource, from the CloudFormation
// resource specification (src/render/resourceSpec.ts reads it from
// @aws-cdk/aws-service-spec): replaced, maybe replaced, or updated in place.
import { propertyUpdateBehaviour, type UpdateBehaviour } from "../../render/resourceSpec.js";

export type { UpdateBehaviour };

export type UpdateBehaviourLookup = (
  resourceType: string,
  path: readonly string[],
) => UpdateBehaviour;

const cache = new Map<string, UpdateBehaviour>();

/**
 * The behaviour of the property at `path` (top-level name first, then nested
 * names). A property the specification does not know is updated in place,
 * as far as a change set can tell; applying it is what would fail on AWS.
 */
export const updateBehaviour: UpdateBehaviourLookup = (resourceType, path) => {
  const key = `${resourceType}\u0000${path.join(".")}`;
  let found = cache.get(key);
  if (found === undefined) {
    try {
      found = propertyUpdateBehaviour(resourceType, path);
    } catch {
      found = "none";
    }
    cache.set(key, found);
  }
  return found;
};
