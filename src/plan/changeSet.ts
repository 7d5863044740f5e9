// DescribeChangeSet's Changes[] (with IncludePropertyValues) -> ResourceChange[].
// The input is plain data shaped like the SDK's Change; the SDK itself is never
// imported here (its Change type is assignable to ChangeSetChange, a test says so).
// Field meanings: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceChange.html
import {
  type ChangeAction,
  type ChangeAttribute,
  KNOWN_AFTER_APPLY,
  type PropertyDiff,
  type Replacement,
  type ResourceChange,
} from "./model.js";
import { detailReplacement, mostSevere } from "./replacement.js";
import { escapePathSegment, resourcesOf, valueAtPath } from "./template.js";
import { diffValue } from "./templateDiff.js";

export interface ChangeSetTarget {
  Attribute?: string;
  Name?: string;
  RequiresRecreation?: string;
  Path?: string;
  BeforeValue?: string;
  AfterValue?: string;
  AttributeChangeType?: string;
}

export interface ChangeSetDetail {
  Target?: ChangeSetTarget;
  Evaluation?: string;
  ChangeSource?: string;
  CausingEntity?: string;
}

export interface ChangeSetResourceChange {
  Action?: string;
  LogicalResourceId?: string;
  PhysicalResourceId?: string;
  ResourceType?: string;
  Replacement?: string;
  Scope?: string[];
  Details?: ChangeSetDetail[];
  BeforeContext?: string;
  AfterContext?: string;
}

export interface ChangeSetChange {
  Type?: string;
  ResourceChange?: ChangeSetResourceChange;
}

const ACTIONS: Record<string, ChangeAction> = {
  Add: "add",
  Import: "add",
  Modify: "modify",
  Dynamic: "modify",
  Remove: "remove",
};

const ATTRIBUTES = new Set<string>([
  "Properties",
  "Metadata",
  "CreationPolicy",
  "UpdatePolicy",
  "DeletionPolicy",
  "UpdateReplacePolicy",
  "Tags",
]);

/**
 * The templates the change set was made from, when known. CloudFormation gives no values for
 * changes of policy attributes (UpdatePolicy, CreationPolicy...); they are read from these.
 */
export interface ChangeSetTemplates {
  live?: unknown;
  desired?: unknown;
}

export function resourceChangesFromChangeSet(
  changes: readonly ChangeSetChange[],
  templates: ChangeSetTemplates = {},
): ResourceChange[] {
  const out: ResourceChange[] = [];
  for (const change of changes) {
    const rc = change.ResourceChange;
    if (change.Type !== "Resource" || !rc?.LogicalResourceId) continue;
    const action = ACTIONS[rc.Action ?? ""];
    if (!action) continue; // SyncWithActual changes nothing
    const before = parseContext(rc.BeforeContext);
    const after = parseContext(rc.AfterContext);
    const properties =
      action === "modify"
        ? fillPolicyValues(
            propertyDiffs(rc.Details ?? [], before, after),
            rc.LogicalResourceId,
            templates,
          )
        : [];
    const replacement =
      action === "modify" ? resourceReplacement(rc, properties) : ("never" as const);
    const resource: ResourceChange = {
      logicalId: rc.LogicalResourceId,
      type: rc.ResourceType ?? "UNKNOWN",
      action,
      replacement,
      causes: [...new Set(properties.filter((p) => p.replacement !== "never").map((p) => p.path))],
      properties,
    };
    if (rc.PhysicalResourceId) resource.physicalId = rc.PhysicalResourceId;
    out.push(resource);
  }
  return out;
}

function resourceReplacement(rc: ChangeSetResourceChange, properties: PropertyDiff[]): Replacement {
  const derived = mostSevere(properties.map((p) => p.replacement));
  switch (rc.Replacement) {
    case "True":
      // True only because of values CloudFormation cannot know yet: "may be replaced".
      return derived === "unknown-after-apply" ? derived : "always";
    case "Conditional":
      return "conditional";
    case "False":
      return rc.Action === "Dynamic" ? "conditional" : "never";
    default:
      return rc.Action === "Dynamic" ? mostSevere([derived, "conditional"]) : derived;
  }
}

/**
 * CloudFormation often lists one path twice (a Dynamic DirectModification and a Static
 * ResourceAttribute detail); they become one PropertyDiff with the most severe replacement.
 */
function propertyDiffs(
  details: readonly ChangeSetDetail[],
  before: unknown,
  after: unknown,
): PropertyDiff[] {
  const byPath = new Map<string, ChangeSetDetail[]>();
  for (const detail of details) {
    const target = detail.Target ?? {};
    const attribute = ATTRIBUTES.has(target.Attribute ?? "") ? target.Attribute! : "Properties";
    const path =
      target.Path ??
      (attribute === "Properties" && target.Name
        ? `/Properties/${escapePathSegment(target.Name)}`
        : `/${attribute}`);
    const key = `${attribute}\u0000${path}`;
    byPath.set(key, [...(byPath.get(key) ?? []), detail]);
  }
  const out: PropertyDiff[] = [];
  for (const [key, group] of byPath) {
    const [attribute, path] = key.split("\u0000") as [ChangeAttribute, string];
    const targets = group.map((d) => d.Target ?? {});
    const contextAfter = valueAtPath(after, path);
    const afterKnown =
      contextAfter !== KNOWN_AFTER_APPLY &&
      !targets.some((t) => t.AfterValue === KNOWN_AFTER_APPLY);
    const first = targets[0] ?? {};
    const diff: PropertyDiff = {
      attribute,
      path,
      action: targetAction(first.AttributeChangeType),
      afterKnown,
      replacement: mostSevere(
        group.map((d) => detailReplacement(d.Target?.RequiresRecreation, d.Evaluation, afterKnown)),
      ),
    };
    const beforeValue = valueAtPath(before, path) ?? first.BeforeValue;
    if (beforeValue !== undefined && diff.action !== "add") diff.before = beforeValue;
    const afterValue = contextAfter ?? targets.find((t) => t.AfterValue)?.AfterValue;
    if (afterKnown && afterValue !== undefined && diff.action !== "remove") diff.after = afterValue;
    const causedBy = group.find((d) => d.CausingEntity)?.CausingEntity;
    if (causedBy) diff.causedBy = causedBy;
    out.push(diff);
  }
  return out;
}

/** A policy attribute change without values becomes the leaf diffs of the two templates. */
function fillPolicyValues(
  diffs: PropertyDiff[],
  logicalId: string,
  templates: ChangeSetTemplates,
): PropertyDiff[] {
  const live = resourcesOf(templates.live).get(logicalId);
  const desired = resourcesOf(templates.desired).get(logicalId);
  if (!live || !desired) return diffs;
  return diffs.flatMap((diff) => {
    if (diff.attribute === "Properties" || diff.before !== undefined || diff.after !== undefined) {
      return [diff];
    }
    const leaves: PropertyDiff[] = [];
    const path = diff.path === `/${diff.attribute}` ? diff.path : undefined;
    if (path) {
      diffValue(live[diff.attribute], desired[diff.attribute], path, (leaf) =>
        leaves.push({ ...diff, ...leaf }),
      );
    }
    return leaves.length > 0 ? leaves : [diff];
  });
}

function targetAction(type: string | undefined): ChangeAction {
  return type === "Add" ? "add" : type === "Remove" ? "remove" : "modify";
}

function parseContext(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // a truncated context: fall back on the details' values
  }
}
