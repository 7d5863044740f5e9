// How the stack engine creates, updates and deletes a resource of one type.
// A provider is called on every engine pass while its step runs, until it
// answers done or failed; long operations keep their progress in step.task
// (persisted), so they carry on after a restart.
import type {
  JsonObject,
  OperationStep,
  ResourceRecord,
  StackRecord,
  TemplateResource,
} from "../../state/model.js";
import type { World } from "../../world.js";

export interface ProviderContext {
  world: World;
  stack: StackRecord;
  step: OperationStep;
  logicalId: string;
  type: string;
  /** update: to the new template; revert: back to the properties saved before the update. */
  mode: "create" | "update" | "revert" | "delete";
  /** The definition being applied (for revert, the saved one: its UpdatePolicy governs). */
  definition: TemplateResource;
  /** Resolved properties to apply (empty for delete). */
  properties: JsonObject;
  /** The resource as it is now (update, revert, delete). */
  current?: ResourceRecord;
  /** The physical id to delete or update. */
  physicalId?: string;
  /** Writes an IN_PROGRESS event of this resource with a reason (progress of a long operation). */
  progress(reason: string): void;
  /** The physical resource exists (before the step completes): DescribeStackResources shows its id. */
  created(physicalId: string): void;
}

export type Outcome =
  | { kind: "done"; physicalId: string; attributes?: Record<string, string> }
  | { kind: "wait"; wakeAt?: number }
  /** physicalId: what a failed create left behind, for the rollback to delete. */
  | { kind: "failed"; reason: string; physicalId?: string };

export interface ResourceProvider {
  create(ctx: ProviderContext): Outcome;
  update(ctx: ProviderContext): Outcome;
  delete(ctx: ProviderContext): Outcome;
  /** The step stops (CancelUpdateStack, or another failure): leave the resource consistent. */
  cancel?(ctx: ProviderContext): void;
}

export const done = (physicalId: string, attributes?: Record<string, string>): Outcome =>
  attributes ? { kind: "done", physicalId, attributes } : { kind: "done", physicalId };

export const failed = (reason: string, physicalId?: string): Outcome =>
  physicalId === undefined ? { kind: "failed", reason } : { kind: "failed", reason, physicalId };
