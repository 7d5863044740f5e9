// What supervision sees of one cluster at one moment, as plain data: the
// stack's status, the group's instances and their lifecycle states, and an
// etcd probe. Built by observe.ts; read by the pure decide.ts.
import type { ClusterProbe, Member } from "../../etcd/types.js";
import type { GatePolicy } from "../../manifest/types.js";
import type { PeerList } from "../../render/contract.js";

export interface ObservedInstance {
  instanceId: string;
  /** Auto Scaling's LifecycleState: Pending, Pending:Wait, InService, Terminating:Wait, ... */
  lifecycleState: string;
  privateIp?: string;
  imageId?: string;
  /**
   * Launched from the group's current launch template version: on what the
   * rollout rolls to (the new image, or the old one during a rollback).
   */
  current?: boolean;
  /** The peer list quorate published in the instance's tags, when it did. */
  peerList?: PeerList;
}

export interface RolloutObservation {
  /** Wall-clock ms of the observation. */
  at: number;
  stack?: { stackId: string; status: string };
  groupName?: string;
  /** The group's DesiredCapacity: how many instances a new cluster waits for. */
  desiredCapacity?: number;
  instances: ObservedInstance[];
  /** Undefined when no instance has an address to probe yet. */
  probe?: ClusterProbe;
}

/** The facts of the manifest supervision needs, with durations in ms. */
export interface RolloutFacts {
  cluster: string;
  stackName: string;
  scheme: "http" | "https";
  clientPort: number;
  peerPort: number;
  gates: GatePolicy;
  deadMemberGraceMs: number;
  abortAfterMs: number;
  /** How often a held lifecycle hook gets a heartbeat. */
  heartbeatEveryMs: number;
  /** spec.etcd.quotaBackendBytes (0: etcd's default), to judge a replacement's replayed database. */
  quotaBytes: bigint;
  /** The manifest's size: what the cluster tolerates at rest (absent: not reported). */
  size?: number;
  /**
   * With spec.restore: the restore's group (contract.ts restoreGroupName).
   * While the stack creates it, its members bootstrap a new cluster.
   */
  restoreGroupName?: string;
}

export const WAITING_TO_LAUNCH = new Set(["Pending", "Pending:Wait"]);
export const HELD_LAUNCHING = "Pending:Wait";
export const HELD_TERMINATING = "Terminating:Wait";
/** States in which an instance is (or is about to be) a member. */
export const MEMBER_STATES = new Set([
  "Pending:Wait",
  "Pending:Proceed",
  "InService",
  "Terminating",
  "Terminating:Wait",
  "Terminating:Proceed",
]);

/** In service, or held on its way out while it is still a member. */
const PROBED_STATES = new Set(["InService", "Terminating:Wait"]);

export function peerURL(facts: RolloutFacts, ip: string): string {
  return `${facts.scheme}://${ip}:${facts.peerPort}`;
}

export function clientURL(facts: RolloutFacts, ip: string): string {
  return `${facts.scheme}://${ip}:${facts.clientPort}`;
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

/** The member an instance runs: named after the instance, or (before it starts) at its address. */
export function memberOfInstance(
  instance: ObservedInstance,
  members: readonly Member[],
): Member | undefined {
  return (
    members.find((m) => m.name === instance.instanceId) ??
    members.find(
      (m) =>
        instance.privateIp !== undefined &&
        m.peerURLs.some((u) => hostOf(u) === instance.privateIp),
    )
  );
}

/** The instance a member runs on, among the group's instances in member states. */
export function instanceOfMember(
  member: Member,
  instances: readonly ObservedInstance[],
): ObservedInstance | undefined {
  return instances.find(
    (i) =>
      MEMBER_STATES.has(i.lifecycleState) &&
      (member.name === i.instanceId ||
        (i.privateIp !== undefined && member.peerURLs.some((u) => hostOf(u) === i.privateIp))),
  );
}

/**
 * Client URLs worth probing: every instance in service or held on its way out,
 * and every member's own. A launching instance is probed only once it is a
 * started member, and a released terminating one not at all: neither is part
 * of the cluster, and an endpoint no member accounts for would fail the gate.
 */
export function probeEndpoints(
  facts: RolloutFacts,
  instances: readonly ObservedInstance[],
  members: readonly Member[] = [],
): string[] {
  const urls = new Set<string>();
  for (const i of instances) {
    if (i.privateIp && PROBED_STATES.has(i.lifecycleState)) {
      urls.add(clientURL(facts, i.privateIp));
    }
  }
  // A member's own URL is probed unless its instance has left (a released terminating
  // instance whose member was just removed); a member on no known instance is probed
  // so that the gate sees it (a dead or stale member).
  const gone = new Set(
    instances
      .filter((i) => i.privateIp && !PROBED_STATES.has(i.lifecycleState))
      .map((i) => i.privateIp),
  );
  for (const m of members) {
    for (const u of m.clientURLs) if (!gone.has(hostOf(u))) urls.add(u);
  }
  return [...urls].sort();
}
