// Which stacks a quorate may act on. Several quorates (a repo per team or per
// environment) can share one AWS account and region. Each one tags the stacks it
// applies with its owner name and touches only those: otherwise one quorate
// would take another's stacks for orphans and, with prune on, delete them.
// Pure: tags in, verdict and operator message out.
import { STACK_TAG } from "../render/contract.js";

/** The owner of a quorate run without --owner, and of stacks applied before owners existed. */
export const DEFAULT_OWNER = "default";

/** Lowercase letters, digits, '-', '.' and '_': safe as a tag value and readable in a console. */
export const OWNER_PATTERN = /^[a-z0-9]([-a-z0-9._]{0,61}[a-z0-9])?$/;

export type StackOwnership =
  | { kind: "ours" }
  /** No quorate managed-by tag: created by hand or by another tool. */
  | { kind: "not-quorate" }
  /** Applied by another quorate (another repo, or another environment's box). */
  | { kind: "other-owner"; owner: string };

export function stackOwnership(
  tags: Readonly<Record<string, string>>,
  owner: string,
): StackOwnership {
  if (tags[STACK_TAG.managedBy] !== "quorate") return { kind: "not-quorate" };
  const theirs = tags[STACK_TAG.owner] ?? DEFAULT_OWNER;
  return theirs === owner ? { kind: "ours" } : { kind: "other-owner", owner: theirs };
}

export function isOurs(tags: Readonly<Record<string, string>>, owner: string): boolean {
  return stackOwnership(tags, owner).kind === "ours";
}

/** Why a manifest may not touch the stack its stackName names, and what to do; undefined when it may. */
export function ownershipProblem(
  stack: { stackName: string; tags: Readonly<Record<string, string>> },
  owner: string,
): string | undefined {
  const ownership = stackOwnership(stack.tags, owner);
  if (ownership.kind === "ours") return undefined;
  if (ownership.kind === "not-quorate") {
    return `stack ${stack.stackName} exists but quorate did not create it (no ${STACK_TAG.managedBy} tag); rename spec.stackName or import it by hand`;
  }
  return `stack ${stack.stackName} belongs to the quorate with owner "${ownership.owner}" (tag ${STACK_TAG.owner}), not to this one (owner "${owner}"): two repositories declare the same stack. Rename spec.stackName in one of them, or run this quorate with --owner ${ownership.owner} if it is meant to manage that stack`;
}
