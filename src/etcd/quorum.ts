// Quorum arithmetic for membership changes. Pure.
// Raft commits a configuration change with a quorum of the OLD configuration,
// and from then on needs a quorum of the NEW one; learners never vote.
// https://etcd.io/docs/v3.4/faq/ ("Should I add a member before removing an unhealthy member?")
// and https://etcd.io/docs/v3.4/learning/design-learner/
import { hexId } from "./wire.js";

/** Votes needed to commit in a configuration of `voters` voting members. */
export function quorumOf(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** The quorum of the configuration left after removing `removing` voting members. */
export function quorumAfterRemoval(voters: number, removing = 1): number {
  return quorumOf(Math.max(0, voters - removing));
}

export interface VoterState {
  id: bigint;
  isLearner: boolean;
  /** Answers and reports healthy. A member nobody could ask is not healthy. */
  healthy: boolean;
  /** For messages; the hex id when absent. */
  label?: string;
}

export interface RemovalVerdict {
  safe: boolean;
  /** Voting members now, and after the removal. */
  voters: number;
  remainingVoters: number;
  healthyVoters: number;
  healthyRemaining: number;
  /** Quorum of the remaining configuration. */
  quorum: number;
  /** Why it is unsafe, in operator words; empty when safe. */
  reason: string;
}

/**
 * Whether removing the members `remove` keeps the cluster able to commit:
 * the current configuration must have a healthy quorum to commit the change,
 * and the remaining voters must hold a healthy quorum of their own.
 */
export function safeToRemove(
  members: readonly VoterState[],
  remove: readonly bigint[],
): RemovalVerdict {
  const removing = new Set(remove);
  const voters = members.filter((m) => !m.isLearner);
  const remaining = voters.filter((m) => !removing.has(m.id));
  const healthyVoters = voters.filter((m) => m.healthy).length;
  const healthyRemaining = remaining.filter((m) => m.healthy).length;
  const quorum = quorumOf(remaining.length);
  const names = members
    .filter((m) => removing.has(m.id))
    .map((m) => m.label ?? `member ${hexId(m.id)}`)
    .join(", ");
  const verdict = {
    voters: voters.length,
    remainingVoters: remaining.length,
    healthyVoters,
    healthyRemaining,
    quorum,
  };
  if (remaining.length === 0) {
    return { ...verdict, safe: false, reason: `removing ${names} would leave no voting member` };
  }
  if (healthyVoters < quorumOf(voters.length)) {
    return {
      ...verdict,
      safe: false,
      reason: `only ${healthyVoters} of ${voters.length} voting members are healthy, below the quorum of ${quorumOf(voters.length)} needed to commit the removal of ${names}; bring members back first`,
    };
  }
  if (healthyRemaining < quorum) {
    return {
      ...verdict,
      safe: false,
      reason: `removing ${names} would leave ${healthyRemaining} healthy of ${remaining.length} voting members, below their quorum of ${quorum}; bring the other members back first`,
    };
  }
  return { ...verdict, safe: true, reason: "" };
}
