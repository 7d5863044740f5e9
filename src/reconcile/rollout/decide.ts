// The membership authority's decision, as a pure function of what it sees:
// which lifecycle hook to release, which member to remove, add or promote, and
// when to hold or cancel (docs/architecture.md#rollout-supervision). One membership change at a
// time; every step is idempotent, so a restarted quorate decides the same.
import {
  evaluateGate,
  type GateExpectation,
  type GateMemory,
  type GateResult,
} from "../../etcd/gate.js";
import { chooseTransferee } from "../../etcd/membership.js";
import { safeToRemove } from "../../etcd/quorum.js";
import { buildRoster, isHealthyVoter } from "../../etcd/roster.js";
import type { Member } from "../../etcd/types.js";
import { hexId } from "../../etcd/wire.js";
import {
  HELD_LAUNCHING,
  HELD_TERMINATING,
  instanceOfMember,
  memberOfInstance,
  type ObservedInstance,
  peerURL,
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
  | { kind: "remove"; memberId: bigint; label: string; why: "departing" | "dead"; release?: string }
  | { kind: "promote"; memberId: bigint; label: string; instanceId: string }
  | { kind: "cancel-update"; why: string };

export type RolloutPhase = "idle" | "bootstrapping" | "replacing" | "holding" | "needs-operator";

export interface RolloutMemory {
  gate?: GateMemory;
  /** Since when a failed gate has held a hook. */
  holdingSince?: number;
  /** Last heartbeat per held instance. */
  heartbeats: Record<string, number>;
  /** Since when each member (hex id) has had no instance. */
  missingSince: Record<string, number>;
  cancelRequested?: boolean;
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
  return { heartbeats: {}, missingSince: {} };
}

const IN_PROGRESS = /_IN_PROGRESS$/;

export function decideRollout(
  observation: RolloutObservation,
  facts: RolloutFacts,
  previous: RolloutMemory,
): RolloutDecision {
  const now = observation.at;
  const memory: RolloutMemory = {
    ...previous,
    heartbeats: { ...previous.heartbeats },
    missingSince: { ...previous.missingSince },
  };
  const { instances } = observation;
  const launching = instances.filter((i) => i.lifecycleState === HELD_LAUNCHING);
  const terminating = instances.filter((i) => i.lifecycleState === HELD_TERMINATING);
  const members = observation.probe?.members;
  const stackStatus = observation.stack?.status ?? "";

  // A stack being deleted or rolled back from a failed create takes its cluster with it.
  if (/^(DELETE|ROLLBACK)_IN_PROGRESS$/.test(stackStatus)) {
    return decided(memory, "idle", `stack is ${stackStatus}; releasing its instances`, [
      ...terminating.map((i) => release(i, "terminating", "the stack is going away")),
      ...launching.map((i) => abandon(i, "the stack is going away")),
    ]);
  }

  const inService = instances.filter((i) => i.lifecycleState === "InService");
  if (!members || members.length === 0) {
    if (stackStatus === "CREATE_IN_PROGRESS") return bootstrap(observation, facts, memory);
    return hold(
      memory,
      facts,
      now,
      stackStatus,
      [...launching, ...terminating],
      observation.probe?.memberListError
        ? `no member answers (${observation.probe.memberListError})`
        : "no member of the cluster answers",
    );
  }

  // Dead members: in the list, but no instance of the group runs them.
  const dead = members.filter((m) => !instanceOfMember(m, instances));
  for (const key of Object.keys(memory.missingSince)) {
    if (!dead.some((m) => hexId(m.id) === key)) delete memory.missingSince[key];
  }
  for (const m of dead) memory.missingSince[hexId(m.id)] ??= now;
  const matched = members.filter((m) => !dead.includes(m));

  // 1. Dead members past their grace period, when removing them keeps quorum. A
  //    stale member fails the member-count check, so it would hold everything else.
  for (const m of dead) {
    const since = memory.missingSince[hexId(m.id)] ?? now;
    if (now - since < facts.deadMemberGraceMs) continue;
    const verdict = removalVerdict(observation, m);
    if (verdict.safe) {
      return decided(memory, "replacing", `removing ${label(m)}: its instance is gone`, [
        { kind: "remove", memberId: m.id, label: label(m), why: "dead" },
      ]);
    }
  }

  // 2. Terminating first: CloudFormation (MinInstancesInService = size-1) removes before it adds.
  for (const instance of terminating) {
    const member = memberOfInstance(instance, members);
    if (!member) {
      return decided(memory, "replacing", `${instance.instanceId} is not a member; releasing it`, [
        release(instance, "terminating", "it is not an etcd member"),
      ]);
    }
    const expectation: GateExpectation = {
      desiredSize: matched.length - 1,
      departing: [member.id],
      joining: learnerIds(matched),
    };
    // Launching instances wait behind the termination (a rollback launches while one is
    // held): their hooks are held too, or they would time out unheeded.
    const held = [instance, ...launching];
    const gate = gateFor(observation, expectation, facts, memory);
    if (!gate.passed) {
      return hold(memory, facts, now, stackStatus, held, gateWords(gate), gate);
    }
    const unheld = clearHold(memory);
    if (gate.summary.leaderDeparting) {
      const to = observation.probe ? chooseTransferee(observation.probe, member.id) : undefined;
      if (to === undefined) {
        return hold(
          unheld,
          facts,
          now,
          stackStatus,
          held,
          "no healthy voter to hand leadership to",
          gate,
        );
      }
      return decided(
        unheld,
        "replacing",
        `moving leadership away from ${label(member)}`,
        [{ kind: "transfer-leadership", from: member.id, to, label: label(member) }],
        gate,
      );
    }
    return decided(
      unheld,
      "replacing",
      `removing ${label(member)} before its instance terminates`,
      [
        {
          kind: "remove",
          memberId: member.id,
          label: label(member),
          why: "departing",
          release: instance.instanceId,
        },
      ],
      gate,
    );
  }

  // 3. Held launching instances that are members already (a restart between add and release).
  for (const instance of launching) {
    if (!memberOfInstance(instance, members)) continue;
    const action: RolloutAction = instance.peerList
      ? release(instance, "launching", "it is a member and has its peer list")
      : {
          kind: "join",
          instanceId: instance.instanceId,
          peerURL: peerURL(facts, instance.privateIp ?? ""),
          hookHeld: true,
        };
    return decided(clearHold(memory), "replacing", `releasing ${instance.instanceId}`, [action]);
  }

  // 4. Learners whose instance is in service: promote once caught up (etcd refuses before).
  const learners = matched.filter((m) => m.isLearner);
  for (const learner of learners) {
    const instance = instanceOfMember(learner, instances);
    if (instance?.lifecycleState !== "InService") continue;
    const gate = gateFor(
      observation,
      { desiredSize: matched.length, joining: [learner.id] },
      facts,
      memory,
    );
    if (!nonStableChecksPass(gate)) {
      return decided(
        memory,
        "replacing",
        `waiting to promote ${label(learner)}: ${gateWords(gate)}`,
        [],
        gate,
      );
    }
    return decided(
      memory,
      "replacing",
      `promoting ${label(learner)}`,
      [
        {
          kind: "promote",
          memberId: learner.id,
          label: label(learner),
          instanceId: instance.instanceId,
        },
      ],
      gate,
    );
  }

  // 5. Instances that are not members yet join one at a time (etcd 3.4 allows one learner).
  for (const instance of [...launching, ...inService]) {
    if (memberOfInstance(instance, members)) continue;
    const held = instance.lifecycleState === HELD_LAUNCHING;
    if (!instance.privateIp) {
      return decided(memory, "replacing", `waiting for the address of ${instance.instanceId}`, []);
    }
    if (learners.length > 0) {
      const waiting = `${instance.instanceId} waits for learner ${label(learners[0]!)} to be promoted`;
      return decided(
        memory,
        "replacing",
        waiting,
        heartbeatsDue(memory, facts, now, held ? [instance] : []),
      );
    }
    const gate = gateFor(observation, { desiredSize: matched.length }, facts, memory);
    if (!nonStableChecksPass(gate)) {
      return hold(memory, facts, now, stackStatus, held ? [instance] : [], gateWords(gate), gate);
    }
    return decided(
      clearHold(memory),
      "replacing",
      `adding ${instance.instanceId} as a learner`,
      [
        {
          kind: "join",
          instanceId: instance.instanceId,
          peerURL: peerURL(facts, instance.privateIp),
          hookHeld: held,
        },
      ],
      gate,
    );
  }

  // Nothing to do: report the cluster's health against the group's size.
  const gate = gateFor(observation, { desiredSize: matched.length }, facts, memory);
  const busy = IN_PROGRESS.test(stackStatus);
  const waitingDead =
    dead.length > 0
      ? `; ${dead.length} member(s) without an instance, removed after the grace period`
      : "";
  return decided(
    clearHold(memory),
    busy ? "replacing" : "idle",
    `${busy ? `stack ${stackStatus}; ` : ""}${gateWords(gate)}${waitingDead}`,
    [],
    gate,
  );
}

/**
 * A new stack: once every instance of the group has launched and waits in its
 * hook, all get the same "new" peer list and are released together. Instances
 * that already have theirs (a restart mid-bootstrap) are released as they are.
 */
function bootstrap(
  observation: RolloutObservation,
  facts: RolloutFacts,
  memory: RolloutMemory,
): RolloutDecision {
  const live = observation.instances.filter((i) => i.lifecycleState !== "Terminated");
  const expected = Math.max(observation.desiredCapacity ?? 0, live.length);
  const published = live.filter((i) => i.peerList?.state === "new");
  const heldPublished = published.filter((i) => i.lifecycleState === HELD_LAUNCHING);
  if (heldPublished.length > 0) {
    return decided(
      memory,
      "bootstrapping",
      "releasing the bootstrapped instances",
      heldPublished.map((i) => release(i, "launching", "it has the new cluster's peer list")),
    );
  }
  if (published.length > 0) {
    return decided(
      memory,
      "bootstrapping",
      `waiting for the ${published.length} new members to start`,
      [],
    );
  }
  const ready = live.filter((i) => i.lifecycleState === HELD_LAUNCHING && i.privateIp);
  if (expected === 0) {
    return decided(memory, "bootstrapping", "waiting for the group to launch its instances", []);
  }
  if (ready.length < expected) {
    return decided(
      memory,
      "bootstrapping",
      `waiting for instances to launch: ${ready.length} of ${expected} ready`,
      [],
    );
  }
  const sorted = [...ready].sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  const initialCluster = sorted
    .map((i) => `${i.instanceId}=${peerURL(facts, i.privateIp ?? "")}`)
    .join(",");
  // A token per bootstrap: a new cluster never mistakes an old one's members for its own.
  const token = `${facts.cluster}-${shortHash(initialCluster)}`;
  return decided(memory, "bootstrapping", `bootstrapping a ${sorted.length}-member cluster`, [
    { kind: "bootstrap", instanceIds: sorted.map((i) => i.instanceId), initialCluster, token },
  ]);
}

/** Holds the hooks of `instances`: heartbeats when due, and a cancel once abortAfter has passed. */
function hold(
  memory: RolloutMemory,
  facts: RolloutFacts,
  now: number,
  stackStatus: string,
  instances: ObservedInstance[],
  why: string,
  gate?: GateResult,
): RolloutDecision {
  const since = memory.holdingSince ?? now;
  const next: RolloutMemory = { ...memory, holdingSince: since };
  const actions = heartbeatsDue(next, facts, now, instances);
  const heldFor = now - since;
  if (heldFor >= facts.abortAfterMs) {
    if (stackStatus === "UPDATE_IN_PROGRESS" && !memory.cancelRequested) {
      next.cancelRequested = true;
      actions.push({
        kind: "cancel-update",
        why: `the gate has failed for ${Math.round(heldFor / 1000)}s (abortAfter ${facts.gates.abortAfter}): ${why}`,
      });
      return decided(next, "holding", `cancelling the update: ${why}`, actions, gate);
    }
    return decided(
      next,
      "needs-operator",
      `holding for ${Math.round(heldFor / 1000)}s, past abortAfter: ${why}`,
      actions,
      gate,
    );
  }
  const what = instances.length
    ? `holding ${instances.map((i) => i.instanceId).join(", ")}: `
    : "waiting: ";
  return decided(next, "holding", `${what}${why}`, actions, gate);
}

function heartbeatsDue(
  memory: RolloutMemory,
  facts: RolloutFacts,
  now: number,
  instances: ObservedInstance[],
): RolloutAction[] {
  const actions: RolloutAction[] = [];
  for (const instance of instances) {
    const last = memory.heartbeats[instance.instanceId];
    if (last === undefined || now - last >= facts.heartbeatEveryMs) {
      memory.heartbeats[instance.instanceId] = now;
      const hook: Hook = instance.lifecycleState === HELD_TERMINATING ? "terminating" : "launching";
      actions.push({ kind: "heartbeat", instanceId: instance.instanceId, hook });
    }
  }
  return actions;
}

function clearHold(memory: RolloutMemory): RolloutMemory {
  const { holdingSince: _since, ...rest } = memory;
  return rest;
}

function gateFor(
  observation: RolloutObservation,
  expectation: GateExpectation,
  facts: RolloutFacts,
  memory: RolloutMemory,
): GateResult {
  if (!observation.probe) throw new Error("gateFor needs a probe");
  const { result, memory: gateMemory } = evaluateGate(
    observation.probe,
    { ...expectation, cluster: facts.cluster },
    facts.gates,
    memory.gate,
    observation.at,
  );
  memory.gate = gateMemory;
  return result;
}

/** Adding or promoting a learner needs a healthy cluster, but not the stable clock: only removals wait on it. */
function nonStableChecksPass(gate: GateResult): boolean {
  return gate.failed.every((name) => name === "stable");
}

function removalVerdict(observation: RolloutObservation, member: Member) {
  if (!observation.probe) return { safe: false, reason: "no probe" };
  const roster = buildRoster(observation.probe);
  if (roster.leader.id === undefined) return { safe: false, reason: "no leader" };
  const voters = roster.entries.map((e) => ({
    id: e.member.id,
    isLearner: e.member.isLearner,
    healthy: isHealthyVoter(e),
    label: e.label,
  }));
  return safeToRemove(voters, [member.id]);
}

function gateWords(gate: GateResult): string {
  if (gate.passed) return "gate passed";
  const failed = gate.checks.filter(
    (c) => !c.passed && (c.name !== "stable" || gate.failed.length === 1),
  );
  return `gate failed: ${failed.map((c) => `${c.name}: ${c.message}`).join("; ")}`;
}

function learnerIds(members: readonly Member[]): bigint[] {
  return members.filter((m) => m.isLearner).map((m) => m.id);
}

function release(instance: ObservedInstance, hook: Hook, why: string): RolloutAction {
  return { kind: "complete", instanceId: instance.instanceId, hook, result: "CONTINUE", why };
}

function abandon(instance: ObservedInstance, why: string): RolloutAction {
  return {
    kind: "complete",
    instanceId: instance.instanceId,
    hook: "launching",
    result: "ABANDON",
    why,
  };
}

function label(member: Member): string {
  return member.name ? member.name : `member ${hexId(member.id)}`;
}

function decided(
  memory: RolloutMemory,
  phase: RolloutPhase,
  message: string,
  actions: RolloutAction[],
  gate?: GateResult,
): RolloutDecision {
  return gate ? { actions, memory, phase, message, gate } : { actions, memory, phase, message };
}

function shortHash(text: string): string {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}
