// The order CloudFormation creates, updates and deletes resources in: a
// resource waits for every resource it names through Ref, Fn::GetAtt, Fn::Sub
// or DependsOn; deletion goes the other way round.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html
import { validationError } from "../protocol/awsError.js";
import type { TemplateResource } from "../state/model.js";
import { referencedResources } from "./intrinsics.js";

export function dependsOnList(resource: TemplateResource): string[] {
  const d = resource.DependsOn;
  if (d === undefined) return [];
  return Array.isArray(d) ? d : [d];
}

/** logicalId -> the logical ids it depends on. */
export function dependencies(
  resources: Record<string, TemplateResource>,
): Map<string, Set<string>> {
  const names = new Set(Object.keys(resources));
  const out = new Map<string, Set<string>>();
  for (const [logicalId, resource] of Object.entries(resources)) {
    const deps = referencedResources(resource.Properties ?? {}, names);
    for (const d of dependsOnList(resource)) if (names.has(d)) deps.add(d);
    deps.delete(logicalId);
    out.set(logicalId, deps);
  }
  return out;
}

/**
 * Logical ids in creation order: each after everything it depends on; among
 * the ready ones, by name, so the order is the same on every run. Throws
 * CloudFormation's error on a cycle.
 */
export function dependencyOrder(resources: Record<string, TemplateResource>): string[] {
  const deps = dependencies(resources);
  const done = new Set<string>();
  const order: string[] = [];
  const remaining = new Set([...deps.keys()].sort());
  while (remaining.size > 0) {
    const ready = [...remaining].filter((id) =>
      [...(deps.get(id) ?? [])].every((d) => done.has(d)),
    );
    if (ready.length === 0) {
      throw validationError(
        `Circular dependency between resources: [${[...remaining].join(", ")}]`,
      );
    }
    for (const id of ready) {
      remaining.delete(id);
      done.add(id);
      order.push(id);
    }
  }
  return order;
}

/** Deletion order: dependents before what they depend on. */
export function deletionOrder(resources: Record<string, TemplateResource>): string[] {
  return dependencyOrder(resources).reverse();
}
