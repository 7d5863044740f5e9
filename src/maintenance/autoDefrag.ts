// Whether `quorate run` defragments a member of a settled cluster now, and
// which one: a pure function of the last probe's database sizes, the
// manifest's spec.maintenance and when the cluster was last defragmented.
// The defragmentation itself goes through maintain.ts, gated like `quorate
// maintain --defrag`. Why fragmentation matters and how defragmentation gives
// the pages back: https://etcd.io/docs/v3.4/op-guide/maintenance/#defragmentation
import { formatBytes, inUseRatio, type MemberDb } from "./decide.js";

export interface AutoDefragPolicy {
  autoDefrag: boolean;
  fragmentationThreshold: number;
  minDbSizeBytes: number;
  minIntervalMs: number;
}

export interface AutoDefragFacts {
  policy: AutoDefragPolicy;
  /** The members the last probe reached, with their database sizes. */
  members: readonly MemberDb[];
  /**
   * Why the cluster is not settled, when it is not: a rollout or another task
   * runs, the stack is mid-operation, the cluster is not Ready, the gate failed.
   */
  unsettled?: string;
  /** When the last automatic defragmentation of the cluster ended (ms), whatever its result. */
  lastDefragAt?: number;
  now: number;
}

export type AutoDefragSkip = "disabled" | "unsettled" | "interval" | "nothing-to-do";

export type AutoDefragDecision =
  | { defrag: true; member: MemberDb; message: string }
  | { defrag: false; why: AutoDefragSkip; message: string };

/** A member worth defragmenting: big enough, fragmented enough, and a voter. */
export function isFragmented(member: MemberDb, policy: AutoDefragPolicy): boolean {
  // A learner is left alone: it is still catching up, and becomes a voter (and a candidate) soon.
  if (member.learner) return false;
  if (member.dbSize < BigInt(policy.minDbSizeBytes)) return false;
  return inUseRatio(member) < policy.fragmentationThreshold;
}

/**
 * At most one member per decision. Followers come first, the most fragmented
 * of them first (it gives the most back); the leader only when no follower
 * needs it, since its stall holds every write (maintain.ts moves leadership
 * away before defragmenting it).
 */
export function decideAutoDefrag(facts: AutoDefragFacts): AutoDefragDecision {
  const { policy } = facts;
  if (!policy.autoDefrag)
    return { defrag: false, why: "disabled", message: "spec.maintenance.autoDefrag is off" };
  if (facts.unsettled)
    return { defrag: false, why: "unsettled", message: `not now: ${facts.unsettled}` };
  const candidates = facts.members
    .filter((m) => isFragmented(m, policy))
    .sort(
      (a, b) =>
        Number(a.leader) - Number(b.leader) ||
        inUseRatio(a) - inUseRatio(b) ||
        a.name.localeCompare(b.name),
    );
  const member = candidates[0];
  if (!member) {
    return {
      defrag: false,
      why: "nothing-to-do",
      message: `no member is over ${formatBytes(BigInt(policy.minDbSizeBytes))} with under ${percent(policy.fragmentationThreshold)} of its database in use`,
    };
  }
  if (facts.lastDefragAt !== undefined) {
    const next = facts.lastDefragAt + policy.minIntervalMs;
    if (facts.now < next) {
      return {
        defrag: false,
        why: "interval",
        message: `${member.name} is fragmented, but the last automatic defragmentation ended ${Math.round((facts.now - facts.lastDefragAt) / 1000)} s ago (spec.maintenance.minInterval: ${Math.round(policy.minIntervalMs / 1000)} s)`,
      };
    }
  }
  return {
    defrag: true,
    member,
    message: `${member.name}${member.leader ? " (leader)" : ""}: ${formatBytes(member.dbSizeInUse)} of ${formatBytes(member.dbSize)} in use (${percent(inUseRatio(member))}, under ${percent(policy.fragmentationThreshold)})`,
  };
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 100)}%`;
}
