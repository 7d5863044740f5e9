// A change set computed the way CloudFormation presents one: per resource Add,
// Modify or Remove; for a Modify, the details of what changed and whether it
// replaces the resource, from the resource specification's update behaviour;
// changes that reach a resource through a reference to a changed one as
// Dynamic details (a new launch template version reaches the group through
// Fn::GetAtt LatestVersionNumber: that is how a rolling update shows).
// Pure: the live stack and the new template come in as data.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceChange.html
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceChangeDetail.html
import { validationError } from "../protocol/awsError.js";
import type {
  ChangeDetailRecord,
  Json,
  JsonObject,
  ResourceChangeRecord,
  Tag,
  TemplateResource,
} from "../state/model.js";
import { dependencyOrder } from "./dependencies.js";
import {
  hasUnknown,
  type IntrinsicContext,
  resolveProperties,
  resourceReferences,
  UNKNOWN,
} from "./intrinsics.js";
import { ATTRIBUTES_CHANGED_BY_UPDATE, STACK_TAGGABLE } from "./resources/types.js";
import type { Template } from "./template.js";
import type { UpdateBehaviour, UpdateBehaviourLookup } from "./updateBehaviour.js";

export interface LiveResource {
  type: string;
  physicalId?: string;
  definition: TemplateResource;
  properties: JsonObject;
  attributes: Record<string, string>;
}

export interface ChangeSetInput {
  template: Template;
  parameters: { key: string; value: string }[];
  live: Record<string, LiveResource>;
  liveTags: Tag[];
  tags: Tag[];
  stack: { stackName: string; stackId: string; region: string };
  updateBehaviour: UpdateBehaviourLookup;
}

/** How a resource changes, as far as the resources that refer to it are concerned. */
type Effect = "add" | "replace" | "maybe-replace" | "modify" | "none";

const POLICY_ATTRIBUTES = [
  "Metadata",
  "CreationPolicy",
  "UpdatePolicy",
  "DeletionPolicy",
  "UpdateReplacePolicy",
] as const;

const RECREATION: Record<UpdateBehaviour, "Always" | "Conditionally" | "Never"> = {
  replacement: "Always",
  conditional: "Conditionally",
  none: "Never",
};

export function computeChanges(input: ChangeSetInput): ResourceChangeRecord[] {
  const { template, live } = input;
  const newIds = dependencyOrder(template.resources);
  const names = new Set(newIds);
  for (const id of newIds) {
    const before = live[id];
    const after = template.resources[id];
    if (before && after && before.type !== after.Type) {
      throw validationError(
        `Update of resource type is not permitted. The new template modifies resource type of the following resources: [${id}]`,
      );
    }
  }
  const effects = new Map<string, Effect>();
  const ctx = afterContext(input, effects);
  const tagsChanged = !sameTags(input.liveTags, input.tags);
  const changes: ResourceChangeRecord[] = [];

  for (const id of newIds) {
    const resource = template.resources[id]!;
    const after = resolveProperties(resource.Properties ?? {}, ctx);
    const before = live[id];
    if (!before) {
      effects.set(id, "add");
      changes.push({
        Action: "Add",
        LogicalResourceId: id,
        ResourceType: resource.Type,
        Scope: [],
        Details: [],
        AfterContext: JSON.stringify({ Properties: after }),
      });
      continue;
    }
    const details = [
      ...propertyDetails(input, resource, before, after),
      ...referenceDetails(input, resource, before, names, effects),
      ...policyDetails(resource, before.definition),
    ];
    if (tagsChanged && STACK_TAGGABLE.has(resource.Type)) {
      details.push({
        Target: { Attribute: "Tags", RequiresRecreation: "Never" },
        Evaluation: "Static",
        ChangeSource: "DirectModification",
      });
    }
    if (details.length === 0) {
      effects.set(id, "none");
      continue;
    }
    const replacement = replacementOf(details);
    effects.set(
      id,
      replacement === "True"
        ? "replace"
        : replacement === "Conditional"
          ? "maybe-replace"
          : "modify",
    );
    const change: ResourceChangeRecord = {
      Action: "Modify",
      LogicalResourceId: id,
      ResourceType: resource.Type,
      Replacement: replacement,
      Scope: [...new Set(details.map((d) => d.Target.Attribute))],
      Details: details,
      BeforeContext: JSON.stringify({ Properties: before.properties }),
      AfterContext: JSON.stringify({ Properties: after }),
    };
    if (before.physicalId) change.PhysicalResourceId = before.physicalId;
    changes.push(change);
  }

  for (const id of Object.keys(live).sort()) {
    if (names.has(id)) continue;
    const before = live[id]!;
    const change: ResourceChangeRecord = {
      Action: "Remove",
      LogicalResourceId: id,
      ResourceType: before.type,
      Scope: [],
      Details: [],
      BeforeContext: JSON.stringify({ Properties: before.properties }),
    };
    if (before.physicalId) change.PhysicalResourceId = before.physicalId;
    changes.push(change);
  }
  return changes;
}

/** The most severe detail decides: Always + Static is True; Always + Dynamic or Conditionally is Conditional. */
export function replacementOf(
  details: readonly ChangeDetailRecord[],
): "True" | "False" | "Conditional" {
  let out: "True" | "False" | "Conditional" = "False";
  for (const d of details) {
    const r = d.Target.RequiresRecreation;
    if (r === "Always" && d.Evaluation === "Static") return "True";
    if (r === "Always" || r === "Conditionally") out = "Conditional";
  }
  return out;
}

/** Values as the change set's AfterContext shows them: unknown until applied where they depend on a change. */
function afterContext(input: ChangeSetInput, effects: Map<string, Effect>): IntrinsicContext {
  const params = new Map(input.parameters.map((p) => [p.key, p.value]));
  return {
    ...input.stack,
    ref(name) {
      const param = params.get(name);
      if (param !== undefined) return param;
      const effect = effects.get(name);
      const live = input.live[name];
      if (
        !live?.physicalId ||
        effect === "add" ||
        effect === "replace" ||
        effect === "maybe-replace"
      ) {
        return UNKNOWN;
      }
      return live.physicalId;
    },
    getAtt(logicalId, attribute) {
      const effect = effects.get(logicalId);
      const live = input.live[logicalId];
      if (!live || effect === "add" || effect === "replace" || effect === "maybe-replace")
        return UNKNOWN;
      if (effect === "modify" && changesOnUpdate(live.type, attribute)) return UNKNOWN;
      return live.attributes[attribute] ?? UNKNOWN;
    },
  };
}

function changesOnUpdate(type: string, attribute: string): boolean {
  return ATTRIBUTES_CHANGED_BY_UPDATE[type]?.includes(attribute) ?? false;
}

/** Direct modifications: template values that differ, one detail per changed leaf. */
function propertyDetails(
  input: ChangeSetInput,
  resource: TemplateResource,
  before: LiveResource,
  after: JsonObject,
): ChangeDetailRecord[] {
  const oldRaw = before.definition.Properties ?? {};
  const newRaw = resource.Properties ?? {};
  const details: ChangeDetailRecord[] = [];
  for (const diff of diffPaths(oldRaw, newRaw, [])) {
    const [name] = diff.path;
    if (name === undefined) continue;
    const afterValue = valueAt(after, diff.path);
    const beforeValue = valueAt(before.properties, diff.path);
    const target: ChangeDetailRecord["Target"] = {
      Attribute: "Properties",
      Name: name,
      Path: pointer(["Properties", ...diff.path]),
      RequiresRecreation:
        RECREATION[input.updateBehaviour(resource.Type, propertyNames(diff.path))],
      AttributeChangeType:
        diff.before === undefined ? "Add" : diff.after === undefined ? "Remove" : "Modify",
    };
    if (beforeValue !== undefined) target.BeforeValue = valueText(beforeValue);
    if (afterValue !== undefined) target.AfterValue = valueText(afterValue);
    details.push({
      Target: target,
      Evaluation: afterValue !== undefined && hasUnknown(afterValue) ? "Dynamic" : "Static",
      ChangeSource: "DirectModification",
    });
  }
  return details;
}

/** Unchanged template values that refer to a resource whose value will change. */
function referenceDetails(
  input: ChangeSetInput,
  resource: TemplateResource,
  before: LiveResource,
  names: ReadonlySet<string>,
  effects: Map<string, Effect>,
): ChangeDetailRecord[] {
  const oldRaw = before.definition.Properties ?? {};
  const details: ChangeDetailRecord[] = [];
  for (const [name, value] of Object.entries(resource.Properties ?? {})) {
    if (!deepEqual(oldRaw[name], value)) continue; // a direct modification covers it
    for (const reference of resourceReferences(value, names, `/Properties/${name}`)) {
      const effect = effects.get(reference.logicalId) ?? "none";
      const liveType = input.live[reference.logicalId]?.type ?? "";
      const replaced = effect === "add" || effect === "replace" || effect === "maybe-replace";
      const changes =
        reference.kind === "Ref"
          ? replaced
          : replaced ||
            (effect === "modify" && changesOnUpdate(liveType, reference.attribute ?? ""));
      if (!changes) continue;
      const path = reference.path.split("/").slice(2);
      details.push({
        Target: {
          Attribute: "Properties",
          Name: name,
          Path: reference.path,
          RequiresRecreation: RECREATION[input.updateBehaviour(resource.Type, propertyNames(path))],
          AttributeChangeType: "Modify",
        },
        Evaluation: "Dynamic",
        ChangeSource: reference.kind === "Ref" ? "ResourceReference" : "ResourceAttribute",
        CausingEntity:
          reference.kind === "Ref"
            ? reference.logicalId
            : `${reference.logicalId}.${reference.attribute}`,
      });
    }
  }
  return details;
}

function policyDetails(resource: TemplateResource, old: TemplateResource): ChangeDetailRecord[] {
  return POLICY_ATTRIBUTES.filter(
    (attribute) => !deepEqual(old[attribute], resource[attribute]),
  ).map((attribute) => ({
    Target: { Attribute: attribute, RequiresRecreation: "Never" },
    Evaluation: "Static",
    ChangeSource: "DirectModification",
  }));
}

export interface PathDiff {
  path: string[];
  before: Json | undefined;
  after: Json | undefined;
}

/** The leaf paths where two template values differ; an intrinsic counts as one leaf. */
export function diffPaths(
  before: Json | undefined,
  after: Json | undefined,
  path: string[],
): PathDiff[] {
  if (deepEqual(before, after)) return [];
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => diffPaths(before[key], after[key], [...path, key]));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, i) => diffPaths(item, after[i], [...path, String(i)]));
  }
  return [{ path, before, after }];
}

function isPlainObject(value: unknown): value is JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return !(keys.length === 1 && (keys[0] === "Ref" || keys[0]!.startsWith("Fn::")));
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((item, i) => deepEqual(item, bb[i]));
  }
  const ak = Object.keys(a as object);
  const bk = Object.keys(b as object);
  return (
    ak.length === bk.length &&
    ak.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

export function sameTags(a: readonly Tag[], b: readonly Tag[]): boolean {
  const norm = (tags: readonly Tag[]) =>
    JSON.stringify(
      [...tags].sort((x, y) => x.Key.localeCompare(y.Key)).map((t) => [t.Key, t.Value]),
    );
  return norm(a) === norm(b);
}

function valueAt(value: Json | undefined, path: readonly string[]): Json | undefined {
  let cur: Json | undefined = value;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = Array.isArray(cur) ? cur[Number(key)] : cur[key];
  }
  return cur;
}

/** The property names of a path, without list indices (what the resource specification is keyed by). */
function propertyNames(path: readonly string[]): string[] {
  return path.filter((segment) => !/^\d+$/.test(segment));
}

function pointer(path: readonly string[]): string {
  return `/${path.map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join("/")}`;
}

function valueText(value: Json): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}
