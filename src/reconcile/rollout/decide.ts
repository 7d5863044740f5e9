// The membership authority's decision, as a pure function of what it sees:
// which lifecycle hook to release, which member to remove, add or promote, and
// when to hold or cancel (docs/architecture.md#rollout-supervision). It is a
// short chain of named steps (steps.ts): each returns a decision or passes to
// the next. One membership change at a time; every step is idempotent, so a
// restarted quorate decides the same. Memory is returned, never mutated.
import type { Member } from "../../etcd/types.js";
import { hexId } from "../../etcd/wire.js";
import type { RolloutDecision, RolloutMemory } from "./decision.js";
import {
  clientURL,
  HELD_LAUNCHING,
  HELD_TERMINATING,
  instanceOfMember,
  type ObservedInstance,
  type RolloutFacts,
  type RolloutObservation,
} from "./observation.js";
import { ROLLOUT_STEPS, reportIdle } from "./steps.js";

export {
  emptyMemory,
  type Hook,
  type RolloutAction,
  type RolloutDecision,
  type RolloutMemory,
  type RolloutPhase,
} from "./decision.js";

/** What every step reads: the observation, sorted once, and the memory so far. */
export interface RolloutContext {
  observation: RolloutObservation;
  facts: RolloutFacts;
  now: number;
  /** The memory of the last decision: the gates' clocks are read from it. */
  previous: RolloutMemory;
  /** The memory this decision starts from (dead-member clocks brought up to date). */
  memory: RolloutMemory;
  stackStatus: string;
  launching: ObservedInstance[];
  terminating: ObservedInstance[];
  inService: ObservedInstance[];
  /** The member list, when a member answered. */
  members?: Member[];
  /** Members in the list whose instance no longer runs in the group. */
  dead: Member[];
  /** Members with an instance. */
  matched: Member[];
}

export type RolloutStep = (ctx: RolloutContext) => RolloutDecision | undefined;

export function decideRollout(
  observation: RolloutObservation,
  facts: RolloutFacts,
  previous: RolloutMemory,
): RolloutDecision {
  const ctx = contextOf(observation, facts, previous);
  for (const step of ROLLOUT_STEPS) {
    const decision = step(ctx);
    if (decision) return decision;
  }
  return reportIdle(ctx);
}

function contextOf(
  observation: RolloutObservation,
  facts: RolloutFacts,
  previous: RolloutMemory,
): RolloutContext {
  const now = observation.at;
  const { instances } = observation;
  const members = observation.probe?.members;
  const dead = (members ?? []).filter((m) => !instanceOfMember(m, instances));
  // How long each member has been without an instance; a member that is back is forgotten.
  const missingSince: Record<string, number> = {};
  for (const m of dead) missingSince[hexId(m.id)] = previous.missingSince[hexId(m.id)] ?? now;
  // How long each in-service instance's etcd has not answered; one that answers is forgotten.
  const unansweringSince: Record<string, number> = {};
  for (const instance of instances) {
    if (instance.lifecycleState !== "InService" || !instance.privateIp || !observation.probe)
      continue;
    const url = clientURL(facts, instance.privateIp);
    const answered = observation.probe.endpoints.some((e) => e.endpoint === url && e.reachable);
    if (!answered) {
      unansweringSince[instance.instanceId] =
        previous.unansweringSince?.[instance.instanceId] ?? now;
    }
  }
  return {
    observation,
    facts,
    now,
    previous,
    memory: {
      ...previous,
      gates: {},
      heartbeats: { ...previous.heartbeats },
      missingSince,
      unansweringSince,
    },
    stackStatus: observation.stack?.status ?? "",
    launching: instances.filter((i) => i.lifecycleState === HELD_LAUNCHING),
    terminating: instances.filter((i) => i.lifecycleState === HELD_TERMINATING),
    inService: instances.filter((i) => i.lifecycleState === "InService"),
    ...(members ? { members } : {}),
    dead,
    matched: (members ?? []).filter((m) => !dead.includes(m)),
  };
}
