// The offline diff: two rendered templates -> the resource changes CloudFormation
// would make, with replacements predicted from the resource specification.
// Pure; never throws, whatever the templates hold (a property test says so).
import type {
  ChangeAction,
  ChangeAttribute,
  PropertyDiff,
  Replacement,
  ResourceChange,
} from "./model.js";
import { mostSevere } from "./replacement.js";
import {
  type CfnResource,
  deepEqual,
  escapePathSegment,
  isRecord,
  propertiesOf,
  referencesIn,
  resourcesOf,
  valueAtPath,
} from "./template.js";
import type { UpdateBehaviourLookup } from "./updateBehaviour.js";

/** Resource attributes besides Properties whose changes CloudFormation applies. */
const POLICY_ATTRIBUTES = [
  "Metadata",
  "CreationPolicy",
  "UpdatePolicy",
  "DeletionPolicy",
  "UpdateReplacePolicy",
] as const satisfies readonly ChangeAttribute[];

/**
 * Attributes that take a new value when their resource is updated in place. A launch template
 * gets a new version on every change of LaunchTemplateData, so a group that points at
 * !GetAtt LT.LatestVersionNumber is updated (and rolls) with it.
 */
const ATTRIBUTES_CHANGED_BY_UPDATE: Record<string, readonly string[]> = {
  "AWS::EC2::LaunchTemplate": ["LatestVersionNumber"],
};

export function diffTemplates(
  before: unknown,
  after: unknown,
  updateBehaviour: UpdateBehaviourLookup,
): ResourceChange[] {
  const old = resourcesOf(before);
  const next = resourcesOf(after);
  const changes = new Map<string, ResourceChange>();
  for (const [logicalId, resource] of next) {
    const previous = old.get(logicalId);
    if (!previous) {
      changes.set(logicalId, bare(logicalId, resource.Type, "add"));
    } else {
      const change = diffResource(logicalId, previous, resource, updateBehaviour);
      if (change) changes.set(logicalId, change);
    }
  }
  for (const [logicalId, resource] of old) {
    if (!next.has(logicalId)) changes.set(logicalId, bare(logicalId, resource.Type, "remove"));
  }
  propagateReferences(next, changes, updateBehaviour);
  // Template order: the order the renderer wrote the resources in, removed ones last.
  const order = [...next.keys(), ...[...old.keys()].filter((id) => !next.has(id))];
  return order.flatMap((id) => changes.get(id) ?? []);
}

function bare(logicalId: string, type: string, action: ChangeAction): ResourceChange {
  return { logicalId, type, action, replacement: "never", causes: [], properties: [] };
}

function diffResource(
  logicalId: string,
  before: CfnResource,
  after: CfnResource,
  updateBehaviour: UpdateBehaviourLookup,
): ResourceChange | undefined {
  const properties: PropertyDiff[] = [];
  if (before.Type !== after.Type) {
    properties.push({
      attribute: "Properties",
      path: "/Type",
      action: "modify",
      before: before.Type,
      after: after.Type,
      afterKnown: true,
      replacement: "always",
    });
  }
  const oldProps = propertiesOf(before);
  const newProps = propertiesOf(after);
  for (const name of unionKeys(oldProps, newProps)) {
    diffValue(oldProps[name], newProps[name], `/Properties/${escapePathSegment(name)}`, (diff) => {
      const behaviour = updateBehaviour(after.Type, propertyNames(diff.path));
      properties.push({
        attribute: "Properties",
        ...diff,
        replacement: replacementFor(behaviour, true),
      });
    });
  }
  for (const attribute of POLICY_ATTRIBUTES) {
    diffValue(before[attribute], after[attribute], `/${attribute}`, (diff) =>
      properties.push({ attribute, ...diff, replacement: "never" }),
    );
  }
  if (properties.length === 0) return undefined;
  return withReplacement({ ...bare(logicalId, after.Type, "modify"), properties });
}

export type LeafDiff = Pick<PropertyDiff, "path" | "action" | "before" | "after" | "afterKnown">;

/** Calls emit for each changed leaf; records are walked, arrays and intrinsics compared whole. */
export function diffValue(
  before: unknown,
  after: unknown,
  path: string,
  emit: (d: LeafDiff) => void,
) {
  if (deepEqual(before, after)) return;
  if (before === undefined) {
    emit({ path, action: "add", after, afterKnown: true });
  } else if (after === undefined) {
    emit({ path, action: "remove", before, afterKnown: true });
  } else if (isPlainRecord(before) && isPlainRecord(after)) {
    for (const key of unionKeys(before, after)) {
      diffValue(before[key], after[key], `${path}/${escapePathSegment(key)}`, emit);
    }
  } else {
    emit({ path, action: "modify", before, after, afterKnown: true });
  }
}

/** An object that is not an intrinsic function call ({"Ref": ...}, {"Fn::...": ...}). */
function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value)) return false;
  const keys = Object.keys(value);
  return !(keys.length === 1 && (keys[0] === "Ref" || keys[0]?.startsWith("Fn::")));
}

/** /Properties/A/0/B -> ["A", "B"]: the property names the specification knows, without indexes. */
function propertyNames(path: string): string[] {
  return path
    .split("/")
    .slice(2)
    .filter((segment) => !/^\d+$/.test(segment))
    .map((segment) => segment.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function unionKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = Object.keys(a);
  for (const key of Object.keys(b)) if (!Object.hasOwn(a, key)) keys.push(key);
  return keys;
}

/** How a changed property replaces its resource; a value only known later cannot be "always". */
function replacementFor(
  behaviour: ReturnType<UpdateBehaviourLookup>,
  afterKnown: boolean,
): Replacement {
  if (behaviour === "replacement") return afterKnown ? "always" : "unknown-after-apply";
  return behaviour === "conditional" ? "conditional" : "never";
}

export function withReplacement(change: ResourceChange): ResourceChange {
  const replacement = mostSevere(change.properties.map((p) => p.replacement));
  const causes = change.properties.filter((p) => p.replacement !== "never").map((p) => p.path);
  return { ...change, replacement, causes: [...new Set(causes)] };
}

/**
 * A resource that is replaced gets a new physical id, and one updated in place may change some
 * attributes; every resource referring to them then changes too, with a value known only during
 * the update. Repeated until nothing more changes, as CloudFormation's own change sets do.
 */
function propagateReferences(
  resources: Map<string, CfnResource>,
  changes: Map<string, ResourceChange>,
  updateBehaviour: UpdateBehaviourLookup,
): void {
  // Each pass adds at least one resource diff, and a resource's references are finite.
  for (let pass = 0; pass <= resources.size; pass++) {
    let grew = false;
    for (const [logicalId, resource] of resources) {
      const change = changes.get(logicalId);
      if (change && change.action !== "modify") continue;
      const added: PropertyDiff[] = [];
      for (const attribute of ["Properties", ...POLICY_ATTRIBUTES] as const) {
        const value = attribute === "Properties" ? resource.Properties : resource[attribute];
        for (const ref of referencesIn(value, `/${attribute}`)) {
          if (!referenceChanges(ref.target, ref.attribute, resources, changes)) continue;
          const covered = [...(change?.properties ?? []), ...added].some(
            (p) => ref.path === p.path || ref.path.startsWith(`${p.path}/`),
          );
          if (covered) continue;
          const replacement =
            attribute === "Properties"
              ? replacementFor(updateBehaviour(resource.Type, propertyNames(ref.path)), false)
              : "never";
          added.push({
            attribute,
            path: ref.path,
            action: "modify",
            before: structuredClone(valueAtPath(resource, ref.path)),
            afterKnown: false,
            replacement,
            causedBy: ref.attribute ? `${ref.target}.${ref.attribute}` : ref.target,
          });
        }
      }
      if (added.length === 0) continue;
      const base = change ?? bare(logicalId, resource.Type, "modify");
      changes.set(
        logicalId,
        withReplacement({ ...base, properties: [...base.properties, ...added] }),
      );
      grew = true;
    }
    if (!grew) return;
  }
}

function referenceChanges(
  target: string,
  attribute: string | undefined,
  resources: Map<string, CfnResource>,
  changes: Map<string, ResourceChange>,
): boolean {
  const change = changes.get(target);
  if (change?.action !== "modify") return false;
  if (change.replacement !== "never") return true;
  const type = resources.get(target)?.Type ?? "";
  return (
    attribute !== undefined &&
    (ATTRIBUTES_CHANGED_BY_UPDATE[type]?.includes(attribute) ?? false) &&
    change.properties.some((p) => p.attribute === "Properties")
  );
}
