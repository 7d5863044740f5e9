// The work of one pass: every desired cluster matched with its live stack, and
// every stack of this quorate's without a manifest, each with the action the
// pure decision gives. One matching for the reconciler (which then acts) and
// for `quorate status` (which only reports), so that the two never disagree.
// Pure: plain data in, plain data out.
import type { LiveStack } from "../aws/stacks.js";
import type { ManifestError } from "../manifest/manifestError.js";
import type { ClusterSpec } from "../manifest/types.js";
import { STACK_TAG } from "../render/contract.js";
import {
  type DecisionMemory,
  type DesiredCluster,
  decide,
  holdRemoval,
  manifestErrorMessage,
  type ReconcileAction,
} from "./decide.js";
import { isOurs, ownershipProblem } from "./ownership.js";

export interface RegionStack {
  region: string;
  stack: LiveStack;
}

export type WorkAction =
  | ReconcileAction
  /** The stacks of the cluster's region could not be listed: retried after a backoff. */
  | { kind: "unreachable"; message: string }
  /** The manifest's stackName names a stack that is not this quorate's. */
  | { kind: "not-ours"; message: string }
  /** The stack is being deleted. */
  | { kind: "being-deleted"; message: string }
  /** Mid-operation, but with no valid manifest to supervise it by. */
  | { kind: "unsupervisable"; message: string };

export type WorkKind = WorkAction["kind"];

export interface WorkItem {
  cluster: string;
  spec?: ClusterSpec;
  /** What the manifest renders to, when it rendered. */
  templateSha256?: string;
  stack?: LiveStack;
  region?: string;
  action: WorkAction;
}

export interface WorkInput {
  desired: readonly DesiredCluster[];
  /** Every stack listed, in every region read. */
  stacks: readonly RegionStack[];
  /** region -> why its stacks could not be listed. */
  unreachable: ReadonlyMap<string, string>;
  /** This quorate's owner: only its stacks are matched to invalid manifests or orphaned. */
  owner: string;
  /** What the reconciler remembers per cluster (none for a status rebuild). */
  memory?: ReadonlyMap<string, DecisionMemory>;
  /** A manifest error naming no cluster: while it stands, no stack is deleted or orphaned. */
  unread?: ManifestError;
}

export function planWork(input: WorkInput): WorkItem[] {
  const bySpec = new Map(input.stacks.map((s) => [`${s.region}/${s.stack.stackName}`, s]));
  const ours = input.stacks.filter((s) => isOurs(s.stack.tags, input.owner));
  const byCluster = new Map<string, RegionStack>();
  for (const s of ours) {
    const cluster = clusterOf(s.stack);
    if (!byCluster.has(cluster)) byCluster.set(cluster, s);
  }
  const work: WorkItem[] = [];
  for (const want of input.desired) {
    const spec = want.spec;
    // A valid manifest names its stack; an invalid one is found by the cluster tag.
    const found = spec ? bySpec.get(`${spec.region}/${spec.stackName}`) : byCluster.get(want.name);
    const region = spec?.region ?? found?.region;
    work.push({
      cluster: want.name,
      ...(spec ? { spec } : {}),
      ...(want.templateSha256 ? { templateSha256: want.templateSha256 } : {}),
      ...(found ? { stack: found.stack } : {}),
      ...(region ? { region } : {}),
      action: desiredAction(want, found?.stack, region, input),
    });
  }
  const wanted = new Set(input.desired.map((d) => d.name));
  for (const { region, stack } of ours) {
    const cluster = clusterOf(stack);
    if (wanted.has(cluster)) continue;
    work.push({ cluster, stack, region, action: removedAction(stack, input.unread) });
  }
  return work.sort((a, b) => a.cluster.localeCompare(b.cluster));
}

function desiredAction(
  want: DesiredCluster,
  stack: LiveStack | undefined,
  region: string | undefined,
  input: WorkInput,
): WorkAction {
  const unreachable = region ? input.unreachable.get(region) : undefined;
  if (unreachable !== undefined) {
    return {
      kind: "unreachable",
      message: `stacks in ${region} could not be listed: ${unreachable}`,
    };
  }
  const notOurs = stack ? ownershipProblem(stack, input.owner) : undefined;
  if (notOurs) return { kind: "not-ours", message: notOurs };
  if (stack?.status === "DELETE_IN_PROGRESS") return beingDeleted(stack);
  const action = decide(stack, want, input.memory?.get(want.name));
  if (action.kind === "supervise" && !want.spec) {
    return {
      kind: "unsupervisable",
      message: `stack ${stack?.stackName} is ${stack?.status}, and its manifest is invalid, so quorate cannot supervise the members: ${manifestErrorMessage(want)}`,
    };
  }
  return action;
}

function removedAction(stack: LiveStack, unread: ManifestError | undefined): WorkAction {
  if (stack.status === "DELETE_IN_PROGRESS") return beingDeleted(stack);
  const action = holdRemoval(decide(stack, undefined), stack.stackName, unread);
  if (action.kind === "supervise") {
    return {
      kind: "unsupervisable",
      message: `stack ${stack.stackName} is ${stack.status}; its manifest was deleted, so quorate cannot supervise it: restore the manifest`,
    };
  }
  return action;
}

function beingDeleted(stack: LiveStack): WorkAction {
  return { kind: "being-deleted", message: `stack ${stack.stackName} is being deleted` };
}

function clusterOf(stack: LiveStack): string {
  return stack.tags[STACK_TAG.cluster] ?? stack.stackName;
}

/** For a `switch` over a closed union: the compiler proves every kind was handled. */
export function unhandled(value: never): never {
  throw new Error(`unhandled work kind: ${JSON.stringify(value)}`);
}
