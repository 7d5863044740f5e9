// The steps of each stack operation, in the order CloudFormation takes them:
// create and update in dependency order, delete in reverse; an update's
// removals and the old copies of replaced resources in its cleanup stage; a
// rollback undoes only what the failed operation touched.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks.html
import type {
  OperationKind,
  OperationStep,
  ResourceChangeRecord,
  ResourceRecord,
  StackOperation,
  StackRecord,
  StackSnapshot,
  TemplateResource,
} from "../state/model.js";
import { deletionOrder, dependencyOrder } from "./dependencies.js";
import type { Template } from "./template.js";

const step = (
  logicalId: string,
  verb: OperationStep["verb"],
  extra: Partial<OperationStep> = {},
): OperationStep => ({
  logicalId,
  verb,
  status: "pending",
  ...extra,
});

function operation(kind: OperationKind, now: number, steps: OperationStep[]): StackOperation {
  return { kind, startedAt: now, stage: "main", steps, cleanupSteps: [], failed: [] };
}

function definitionsOf(
  resources: Record<string, ResourceRecord>,
): Record<string, TemplateResource> {
  const out: Record<string, TemplateResource> = {};
  for (const [id, r] of Object.entries(resources)) out[id] = r.definition;
  return out;
}

export function snapshotOf(stack: StackRecord): StackSnapshot {
  const snapshot: StackSnapshot = {
    parameters: structuredClone(stack.parameters),
    tags: structuredClone(stack.tags),
    resources: structuredClone(stack.resources),
    outputs: structuredClone(stack.outputs),
  };
  if (stack.templateBody !== undefined) snapshot.templateBody = stack.templateBody;
  if (stack.description !== undefined) snapshot.description = stack.description;
  return snapshot;
}

export function createOperation(template: Template, now: number): StackOperation {
  return operation(
    "CREATE",
    now,
    dependencyOrder(template.resources).map((id) => step(id, "create")),
  );
}

/** The resources a change set adds or modifies, in the new template's dependency order. */
export function updateOperation(
  stack: StackRecord,
  template: Template,
  changes: readonly ResourceChangeRecord[],
  now: number,
): StackOperation {
  const changed = new Map(changes.map((c) => [c.LogicalResourceId, c.Action]));
  const steps = dependencyOrder(template.resources)
    .filter((id) => changed.get(id) === "Add" || changed.get(id) === "Modify")
    .map((id) => step(id, stack.resources[id] ? "update" : "create"));
  const op = operation("UPDATE", now, steps);
  op.previous = snapshotOf(stack);
  op.replaced = [];
  return op;
}

/** The cleanup stage of a successful update: removed resources, then old copies of replaced ones. */
export function updateCleanupSteps(op: StackOperation, template: Template): OperationStep[] {
  const previous = op.previous?.resources ?? {};
  const removed = deletionOrder(definitionsOf(previous)).filter(
    (id) => !(id in template.resources),
  );
  return [
    ...removed.map((id) => step(id, "delete")),
    ...(op.replaced ?? []).map((r) => step(r.logicalId, "delete", { physicalId: r.physicalId })),
  ];
}

/** Everything that exists, in reverse dependency order (DeleteStack, or a failed creation's rollback). */
export function deleteOperation(
  kind: "DELETE" | "ROLLBACK",
  stack: StackRecord,
  now: number,
  retain: readonly string[] = [],
): StackOperation {
  const existing = Object.fromEntries(
    Object.entries(stack.resources).filter(
      ([, r]) => r.status !== "DELETE_COMPLETE" && r.status !== "DELETE_SKIPPED",
    ),
  );
  const op = operation(
    kind,
    now,
    deletionOrder(definitionsOf(existing)).map((id) => step(id, "delete")),
  );
  if (retain.length > 0) op.retain = [...retain];
  return op;
}

/**
 * Rolling back a failed (or cancelled) update: every resource it updated goes
 * back to its saved properties, in the old template's dependency order; a
 * replaced one gets its old copy back; the cleanup stage deletes what the
 * update created (added resources and new copies of replaced ones).
 */
export function updateRollbackOperation(
  stack: StackRecord,
  failed: StackOperation,
  now: number,
): StackOperation {
  const previous = failed.previous!;
  const touched = failed.steps.filter((s) => s.status !== "pending");
  const touchedIds = new Map(touched.map((s) => [s.logicalId, s]));
  const main = dependencyOrder(definitionsOf(previous.resources))
    .filter((id) => {
      const s = touchedIds.get(id);
      return s !== undefined && (s.verb === "update" || s.verb === "create");
    })
    .map((id) => step(id, touchedIds.get(id)!.replacement ? "restore" : "revert"));
  const op = operation("UPDATE_ROLLBACK", now, main);
  // Rolled back with the permissions of whoever started the update, as on AWS without a service role.
  if (failed.principal) op.principal = failed.principal;
  op.previous = previous;
  op.created = [];
  for (const s of touched) {
    const current = stack.resources[s.logicalId];
    const added = !(s.logicalId in previous.resources);
    // An added resource's physical id is on its record; a replacement's new copy on its step.
    const physicalId = added ? current?.physicalId : s.replacement ? s.physicalId : undefined;
    if (!physicalId || !current) continue;
    op.created.push({
      logicalId: s.logicalId,
      physicalId,
      type: current.type,
      properties: current.properties,
    });
  }
  if (failed.changeSetId) op.changeSetId = failed.changeSetId;
  return op;
}

/** The rollback's cleanup: what the update created, newest first. */
export function rollbackCleanupSteps(op: StackOperation): OperationStep[] {
  return [...(op.created ?? [])]
    .reverse()
    .map((c) => step(c.logicalId, "delete", { physicalId: c.physicalId }));
}

/** The step the operation is at: the first of its current stage not done yet. */
export function currentStep(op: StackOperation): OperationStep | undefined {
  const list = op.stage === "main" ? op.steps : op.cleanupSteps;
  return list.find((s) => s.status !== "done" && s.status !== "failed");
}
