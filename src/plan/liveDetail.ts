// What only the live cluster knows, added to a cluster's plan: its current
// members (who leads, who is a learner) and the expected duration from its own
// recorded rollouts. Pure: the members and the history are read at the edge
// (src/reconcile/liveMembers.ts, with the group's history tag) and passed in as data.
import type { ClusterPlan, LiveMembers } from "./model.js";
import { estimateRollout, type RolloutHistory } from "./rolloutHistory.js";

export interface LiveDetail {
  /** The group's recorded rollouts; an empty history gives "unknown, no history". */
  history?: RolloutHistory;
  members?: LiveMembers;
}

/** Whether the members roll one by one (a rolling update), so member detail and an estimate apply. */
export function membersRoll(plan: ClusterPlan): boolean {
  return (
    plan.status === "update" && plan.impact?.instancesReplaced === true && !plan.impact.newGroup
  );
}

/** A copy of the plan with the live detail; a plan whose members do not roll is returned as is. */
export function withLiveDetail(plan: ClusterPlan, detail: LiveDetail): ClusterPlan {
  if (!membersRoll(plan) || !plan.impact) return plan;
  const next: ClusterPlan = structuredClone(plan);
  if (next.impact && detail.history)
    next.impact.expected = estimateRollout(detail.history, next.impact.members);
  if (detail.members) next.currentMembers = structuredClone(detail.members);
  return next;
}
