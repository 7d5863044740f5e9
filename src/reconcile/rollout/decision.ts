// The vocabulary of a rollout decision, and the pure helpers its steps share:
// evaluating the gate, holding hooks with heartbeats, and building a decision.
// Every helper returns the memory it changes; none mutates what it was given.
import {
  evaluateGate,
  expectationKey,
  type GateExpectation,
  type GateMemory,
  type GateResult,
} from "../../etcd/gate.js";
import { buildRoster } from "../../etcd/roster.js";
import type { Alarm, Member } from "../../etcd/types.js";
import { hexId } from "../../etcd/wire.js";
import type { RolloutContext } from "./decide.js";
import {
  HELD_TERMINATING,
  type ObservedInstance,
  type RolloutFacts,
  type RolloutObservation,
} from "./observation.js";

export type Hook = "launching" | "terminating";

export type RolloutAction =
  /** New cluster: publish the same "new" peer list to every launching instance, then release them. */
  | { kind: "bootstrap"; instanceIds: string[]; initialCluster: string; token: string }
  /** Add the instance as a learner (unless it is one already), publish its peer list, release its hook. */
  | { kind: "join"; instanceId: string; peerURL: string; hookHeld: boolean }
  | {
      kind: "complete";
      instanceId: string;
      hook: Hook;
      result: "CONTINUE" | "ABANDON";
      why: string;
    }
  | { kind: "heartbeat"; instanceId: string; hook: Hook }
  | { kind: "transfer-leadership"; from: bigint; to: bigint; label: string }
  /** Remove a member; with `release`, complete that instance's terminating hook afterwards. */
  | {
      kind: "remove";
      memberId: bigint;
      label: string;
      why: "departing" | "dead" | "failed";
      release?: string;
      /** The member's instance, for the event (a failed member's, which is replaced next). */
      instanceId?: string;
    }
  | { kind: "promote"; memberId: bigint; label: string; instanceId: string }
  /** Mark an instance Unhealthy so that the group replaces it (a failed member's, once removed). */
  | { kind: "replace-instance"; instanceId: string; why: string }
  | { kind: "cancel-update"; why: string }
  /** Defragment a new member whose replayed database is far bigger than the others' (replayedDb.ts). */
  | { kind: "defrag"; memberId: bigint; label: string; endpoint: string; why: string }
  /** Disarm NOSPACE alarms that only new members raised, once every database has room. */
  | { kind: "disarm"; alarms: Alarm[]; why: string };

export type RolloutPhase = "idle" | "bootstrapping" | "replacing" | "holding" | "needs-operator";

export interface RolloutMemory {
  /**
   * The stable-window clock of each gate expectation evaluated at the last
   * decision (keyed by expectationKey): what the gate expects of a removal and
   * of a promotion are different questions, each with its own clock.
   */
  gates: Record<string, GateMemory>;
  /** Since when a failed gate has held a hook. */
  holdingSince?: number;
  /** Last heartbeat per held instance. */
  heartbeats: Record<string, number>;
  /** Since when each member (hex id) has had no instance. */
  missingSince: Record<string, number>;
  /** Since when each in-service instance's etcd has not answered at all. */
  unansweringSince: Record<string, number>;
  cancelRequested?: boolean;
  /** New members (hex ids) defragmented for a NOSPACE they raised: once each (replayedDb.ts). */
  defragmentedForNoSpace?: string[];
}

export interface RolloutDecision {
  actions: RolloutAction[];
  memory: RolloutMemory;
  phase: RolloutPhase;
  /** One line for a person: what quorate is doing or waiting for. */
  message: string;
  gate?: GateResult;
}

export function emptyMemory(): RolloutMemory {
  return { gates: {}, heartbeats: {}, missingSince: {}, unansweringSince: {} };
}

/** The gate for `expectation`, its clock carried from `previous`, recorded in the returned memory. */
export function evaluateFor(
  observation: RolloutObservation,
  facts: RolloutFacts,
  previous: RolloutMemory,
  memory: RolloutMemory,
  expectation: GateExpectation,
): { gate: GateResult; memory: RolloutMemory } {
  if (!observation.probe) throw new Error("a gate needs a probe");
  const key = expectationKey(expectation);
  const { result, memory: clock } = evaluateGate(
    observation.probe,
    expectation,
    facts.gates,
    memory.gates[key] ?? previous.gates[key],
    observation.at,
  );
  return { gate: result, memory: { ...memory, gates: { ...memory.gates, [key]: clock } } };
}

/** Heartbeats for the held instances whose last one is older than heartbeatEveryMs. */
export function heartbeatsDue(
  memory: RolloutMemory,
  facts: RolloutFacts,
  now: number,
  instances: readonly ObservedInstance[],
): { actions: RolloutAction[]; memory: RolloutMemory } {
  const actions: RolloutAction[] = [];
  const heartbeats = { ...memory.heartbeats };
  for (const instance of instances) {
    const last = heartbeats[instance.instanceId];
    if (last === undefined || now - last >= facts.heartbeatEveryMs) {
      heartbeats[instance.instanceId] = now;
      const hook: Hook = instance.lifecycleState === HELD_TERMINATING ? "terminating" : "launching";
      actions.push({ kind: "heartbeat", instanceId: instance.instanceId, hook });
    }
  }
  return { actions, memory: { ...memory, heartbeats } };
}

/** Holds the hooks of `instances`: heartbeats when due, and a cancel once abortAfter has passed. */
export function hold(
  memory: RolloutMemory,
  facts: RolloutFacts,
  now: number,
  stackStatus: string,
  instances: readonly ObservedInstance[],
  why: string,
  gate?: GateResult,
): RolloutDecision {
  const since = memory.holdingSince ?? now;
  const due = heartbeatsDue({ ...memory, holdingSince: since }, facts, now, instances);
  const actions = due.actions;
  const heldFor = now - since;
  if (heldFor >= facts.abortAfterMs) {
    if (stackStatus === "UPDATE_IN_PROGRESS" && !memory.cancelRequested) {
      actions.push({
        kind: "cancel-update",
        why: `the gate has failed for ${Math.round(heldFor / 1000)}s (abortAfter ${facts.gates.abortAfter}): ${why}`,
      });
      const cancelled = { ...due.memory, cancelRequested: true };
      return decided(cancelled, "holding", `cancelling the update: ${why}`, actions, gate);
    }
    return decided(
      due.memory,
      "needs-operator",
      `holding for ${Math.round(heldFor / 1000)}s, past abortAfter: ${why}`,
      actions,
      gate,
    );
  }
  const what = instances.length
    ? `holding ${instances.map((i) => i.instanceId).join(", ")}: `
    : "waiting: ";
  return decided(due.memory, "holding", `${what}${why}`, actions, gate);
}

/**
 * Whether the decision holds the rollout on something a person may need to
 * hear about: a failing gate check besides its stable clock (which every step
 * waits on), no member answering, no member to hand leadership to. Undefined
 * when it does not hold.
 */
export function holdOf(decision: RolloutDecision): { failedChecks: string[] } | undefined {
  if (decision.phase !== "holding" && decision.phase !== "needs-operator") return undefined;
  if (!decision.gate || decision.gate.passed) return { failedChecks: [] };
  const failedChecks = decision.gate.failed.filter((name) => name !== "stable");
  return failedChecks.length > 0 ? { failedChecks } : undefined;
}

export function clearHold(memory: RolloutMemory): RolloutMemory {
  const { holdingSince: _since, ...rest } = memory;
  return rest;
}

/** Adding or promoting a learner needs a healthy cluster, but not the stable clock: only removals wait on it. */
export function nonStableChecksPass(gate: GateResult): boolean {
  return gate.failed.every((name) => name === "stable");
}

export function gateWords(gate: GateResult): string {
  if (gate.passed) return "gate passed";
  const failed = gate.checks.filter(
    (c) => !c.passed && (c.name !== "stable" || gate.failed.length === 1),
  );
  return `gate failed: ${failed.map((c) => `${c.name}: ${c.message}`).join("; ")}`;
}

export function release(instance: ObservedInstance, hook: Hook, why: string): RolloutAction {
  return { kind: "complete", instanceId: instance.instanceId, hook, result: "CONTINUE", why };
}

export function abandon(instance: ObservedInstance, why: string): RolloutAction {
  return {
    kind: "complete",
    instanceId: instance.instanceId,
    hook: "launching",
    result: "ABANDON",
    why,
  };
}

export function label(member: Member): string {
  return member.name ? member.name : `member ${hexId(member.id)}`;
}

export function decided(
  memory: RolloutMemory,
  phase: RolloutPhase,
  message: string,
  actions: RolloutAction[],
  gate?: GateResult,
): RolloutDecision {
  return gate ? { actions, memory, phase, message, gate } : { actions, memory, phase, message };
}

/**
 * Why a learner is not ready to vote yet, if it is not. etcd promotes a learner
 * whose log the leader has matched; quorate also waits until the learner has
 * applied it (a snapshot of a large database takes a while) and answers, so
 * that it is a healthy voter from its first moment and the cluster tolerates
 * as many failures as at rest.
 */
export function learnerBehind(ctx: RolloutContext, learner: Member): string | undefined {
  const probe = ctx.observation.probe;
  if (!probe) return "no probe";
  const roster = buildRoster(probe);
  const own = roster.byId.get(learner.id)?.probe;
  const leaderId = roster.leader.id;
  const leader = leaderId === undefined ? undefined : roster.byId.get(leaderId)?.probe?.status;
  if (!own?.reachable || !own.status) return "it does not answer yet";
  if (!leader) return "no leader to compare with";
  const lag = leader.raftAppliedIndex - own.status.raftAppliedIndex;
  if (lag > BigInt(ctx.facts.gates.maxAppliedIndexLag)) {
    return `it has applied ${own.status.raftAppliedIndex} of the leader's ${leader.raftAppliedIndex}; it is still catching up`;
  }
  return undefined;
}
