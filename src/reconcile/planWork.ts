// The work of one pass: every desired cluster matched with its live stack, and
// every stack of this quorate's without a manifest, each with the action the
// pure decision gives. One matching for the reconciler (which then acts) and
// for `quorate status` (which only reports), so that the two never disagree.
// Pure: plain data in, plain data out.
import type { LiveStack } from "../aws/stacks.js";
import type { ManifestError } from "../manifest/manifestError.js";
import type { AccountSpec, ClusterSpec } from "../manifest/types.js";
import { STACK_TAG } from "../render/contract.js";
import { REASON } from "./conditions.js";
import {
  type DecisionMemory,
  type DesiredCluster,
  decide,
  holdRemoval,
  manifestErrorMessage,
  type ReconcileAction,
} from "./decide.js";
import { describeLocation, type Location, locationKey } from "./locations.js";
import { isOurs, ownershipProblem } from "./ownership.js";

/** A stack as listed: where (account and region) and what. */
export interface RegionStack {
  region: string;
  /** The role its account was listed through; absent: the ambient account. */
  account?: AccountSpec;
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
  /** The role of the cluster's account (the manifest's, or the one its stack was listed through). */
  account?: AccountSpec;
  action: WorkAction;
}

export interface WorkInput {
  desired: readonly DesiredCluster[];
  /** Every stack listed, in every region read. */
  stacks: readonly RegionStack[];
  /** locationKey -> why its stacks could not be listed (retried after a backoff). */
  unreachable: ReadonlyMap<string, string>;
  /** locationKey -> why its account refused quorate (AssumeRole refused): its clusters are Stalled. */
  refused?: ReadonlyMap<string, string>;
  /** This quorate's owner: only its stacks are matched to invalid manifests or orphaned. */
  owner: string;
  /** What the reconciler remembers per cluster (none for a status rebuild). */
  memory?: ReadonlyMap<string, DecisionMemory>;
  /** A manifest error naming no cluster: while it stands, no stack is deleted or orphaned. */
  unread?: ManifestError;
}

export function planWork(input: WorkInput): WorkItem[] {
  // A manifest is matched only with a stack listed in its own account and region.
  const bySpec = new Map(input.stacks.map((s) => [`${locationKey(s)}/${s.stack.stackName}`, s]));
  // Two roles into one account (or a role into the ambient one) list the same
  // stack twice: it is one stack, by its ARN, for orphans and prune.
  const seen = new Set<string>();
  const ours = input.stacks.filter((s) => {
    if (!isOurs(s.stack.tags, input.owner) || seen.has(s.stack.stackId)) return false;
    seen.add(s.stack.stackId);
    return true;
  });
  const byCluster = new Map<string, RegionStack>();
  for (const s of ours) {
    const cluster = clusterOf(s.stack);
    if (!byCluster.has(cluster)) byCluster.set(cluster, s);
  }
  const work: WorkItem[] = [];
  for (const want of input.desired) {
    const spec = want.spec;
    // A valid manifest names its stack; an invalid one is found by the cluster tag.
    const found = spec
      ? bySpec.get(`${locationKey(spec)}/${spec.stackName}`)
      : byCluster.get(want.name);
    const region = spec?.region ?? found?.region;
    const account = spec ? spec.account : found?.account;
    work.push({
      cluster: want.name,
      ...(spec ? { spec } : {}),
      ...(want.templateSha256 ? { templateSha256: want.templateSha256 } : {}),
      ...(found ? { stack: found.stack } : {}),
      ...(region ? { region } : {}),
      ...(account ? { account } : {}),
      action: desiredAction(
        want,
        found?.stack,
        region ? { region, ...(account ? { account } : {}) } : undefined,
        input,
      ),
    });
  }
  const wanted = new Set(input.desired.map((d) => d.name));
  for (const { region, account, stack } of ours) {
    const cluster = clusterOf(stack);
    if (wanted.has(cluster)) continue;
    work.push({
      cluster,
      stack,
      region,
      ...(account ? { account } : {}),
      action: removedAction(stack, input.unread),
    });
  }
  return work.sort((a, b) => a.cluster.localeCompare(b.cluster));
}

function desiredAction(
  want: DesiredCluster,
  stack: LiveStack | undefined,
  location: Location | undefined,
  input: WorkInput,
): WorkAction {
  const key = location ? locationKey(location) : undefined;
  const refused = key !== undefined ? input.refused?.get(key) : undefined;
  if (location && refused !== undefined) {
    return {
      kind: "stall",
      reason: REASON.AssumeRoleRefused,
      message: `stacks in ${describeLocation(location)} could not be listed: ${refused}`,
    };
  }
  const unreachable = key !== undefined ? input.unreachable.get(key) : undefined;
  if (location && unreachable !== undefined) {
    return {
      kind: "unreachable",
      message: `stacks in ${describeLocation(location)} could not be listed: ${unreachable}`,
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
