// The steps of a rollout decision, in the order decideRollout tries them. Each
// looks at one kind of work and returns a decision, or undefined to pass to
// the next step. Pure.
import type { GateExpectation } from "../../etcd/gate.js";
import { safeToRemove } from "../../etcd/quorum.js";
import { buildRoster, chooseTransferee, isHealthyVoter } from "../../etcd/roster.js";
import type { Member } from "../../etcd/types.js";
import { hexId } from "../../etcd/wire.js";
import { bootstrap } from "./bootstrap.js";
import type { RolloutContext, RolloutStep } from "./decide.js";
import {
  abandon,
  clearHold,
  decided,
  evaluateFor,
  gateWords,
  heartbeatsDue,
  hold,
  label,
  learnerBehind,
  nonStableChecksPass,
  type RolloutAction,
  type RolloutDecision,
  release,
} from "./decision.js";
import { HELD_LAUNCHING, instanceOfMember, memberOfInstance, peerURL } from "./observation.js";
import { compactReplayedMembers } from "./replayedDb.js";

const IN_PROGRESS = /_IN_PROGRESS$/;

/** A stack being deleted or rolled back from a failed create takes its cluster with it. */
const releaseWhenStackGoes: RolloutStep = (ctx) => {
  if (!/^(DELETE|ROLLBACK)_IN_PROGRESS$/.test(ctx.stackStatus)) return undefined;
  return decided(ctx.memory, "idle", `stack is ${ctx.stackStatus}; releasing its instances`, [
    ...ctx.terminating.map((i) => release(i, "terminating", "the stack is going away")),
    ...ctx.launching.map((i) => abandon(i, "the stack is going away")),
  ]);
};

/**
 * No member answers: a new stack bootstraps, and so does a restore's new group
 * while the stack creates it (its members start a new cluster from the
 * snapshot); otherwise hold every hook.
 */
const bootstrapOrHoldWithoutMembers: RolloutStep = (ctx) => {
  if (ctx.members && ctx.members.length > 0) return undefined;
  const restoring =
    ctx.facts.restoreGroupName !== undefined &&
    ctx.observation.groupName === ctx.facts.restoreGroupName &&
    ctx.stackStatus === "UPDATE_IN_PROGRESS";
  if (ctx.stackStatus === "CREATE_IN_PROGRESS" || restoring)
    return bootstrap(ctx.observation, ctx.facts, ctx.memory);
  const why = ctx.observation.probe?.memberListError
    ? `no member answers (${ctx.observation.probe.memberListError})`
    : "no member of the cluster answers";
  return hold(
    ctx.memory,
    ctx.facts,
    ctx.now,
    ctx.stackStatus,
    [...ctx.launching, ...ctx.terminating],
    why,
  );
};

/**
 * Dead members past their grace period, when removing them keeps quorum. A
 * stale member fails the member-count check, so it would hold everything else.
 */
const removeDeadMembers: RolloutStep = (ctx) => {
  for (const m of ctx.dead) {
    const since = ctx.memory.missingSince[hexId(m.id)] ?? ctx.now;
    if (ctx.now - since < ctx.facts.deadMemberGraceMs) continue;
    if (!removalVerdict(ctx, m).safe) continue;
    return decided(ctx.memory, "replacing", `removing ${label(m)}: its instance is gone`, [
      { kind: "remove", memberId: m.id, label: label(m), why: "dead" },
    ]);
  }
  return undefined;
};

/**
 * A member whose etcd has not answered for deadMemberGrace on an instance in
 * service has failed: etcd's rule for a failed member applies, remove it
 * first, then add its replacement (adding a voter first would raise the quorum
 * while one is down). Its instance is marked unhealthy, so the group replaces
 * it and the new instance joins as a learner as any other does.
 */
const replaceFailedMembers: RolloutStep = (ctx) => {
  // Only on a settled stack (before a rollout, or between two): mid-update the
  // group replaces nothing (ReplaceUnhealthy is suspended) and the failed
  // member is held for, as any gate failure is, until it is back or abortAfter.
  if (IN_PROGRESS.test(ctx.stackStatus)) return undefined;
  const members = ctx.members ?? [];
  for (const instance of ctx.inService) {
    const since = ctx.memory.unansweringSince[instance.instanceId];
    if (since === undefined || ctx.now - since < ctx.facts.deadMemberGraceMs) continue;
    const silent = `its etcd has not answered for ${Math.round((ctx.now - since) / 1000)}s`;
    const replace: RolloutAction = {
      kind: "replace-instance",
      instanceId: instance.instanceId,
      why: `${silent}; removed first, then replaced (etcd's rule for a failed member)`,
    };
    const member = memberOfInstance(instance, members);
    if (!member) {
      return decided(ctx.memory, "replacing", `replacing ${instance.instanceId}: ${silent}`, [
        replace,
      ]);
    }
    if (!removalVerdict(ctx, member).safe) continue;
    return decided(ctx.memory, "replacing", `removing ${label(member)}: ${silent}`, [
      {
        kind: "remove",
        memberId: member.id,
        label: label(member),
        why: "failed",
        instanceId: instance.instanceId,
      },
      replace,
    ]);
  }
  return undefined;
};

/**
 * A terminating instance's member leaves once the gate passes with it counted
 * as gone; when it leads, leadership moves first, to a member already on the
 * new image when there is one (so that it moves once per rollout).
 */
const retireTerminating: RolloutStep = (ctx) => {
  const members = ctx.members ?? [];
  for (const instance of ctx.terminating) {
    const member = memberOfInstance(instance, members);
    if (!member) {
      return decided(
        ctx.memory,
        "replacing",
        `${instance.instanceId} is not a member; releasing it`,
        [release(instance, "terminating", "it is not an etcd member")],
      );
    }
    const expectation: GateExpectation = {
      desiredSize: ctx.matched.length - 1,
      departing: [member.id],
      joining: ctx.matched.filter((m) => m.isLearner).map((m) => m.id),
    };
    // Launching instances wait behind the termination (a rollback launches while one is
    // held): their hooks are held too, or they would time out unheeded.
    const held = [instance, ...ctx.launching];
    const { gate, memory } = evaluateFor(
      ctx.observation,
      ctx.facts,
      ctx.previous,
      ctx.memory,
      expectation,
    );
    if (!gate.passed)
      return hold(memory, ctx.facts, ctx.now, ctx.stackStatus, held, gateWords(gate), gate);
    const unheld = clearHold(memory);
    if (gate.summary.leaderDeparting) {
      const to = ctx.observation.probe
        ? chooseTransferee(ctx.observation.probe, member.id, currentMembers(ctx))
        : undefined;
      if (to === undefined) {
        return hold(
          unheld,
          ctx.facts,
          ctx.now,
          ctx.stackStatus,
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
  return undefined;
};

/** Held launching instances that are members already (a restart between add and release). */
const releaseJoinedLaunching: RolloutStep = (ctx) => {
  const members = ctx.members ?? [];
  for (const instance of ctx.launching) {
    if (!memberOfInstance(instance, members)) continue;
    const action: RolloutAction = instance.peerList
      ? release(instance, "launching", "it is a member and has its peer list")
      : {
          kind: "join",
          instanceId: instance.instanceId,
          peerURL: peerURL(ctx.facts, instance.privateIp ?? ""),
          hookHeld: true,
        };
    return decided(clearHold(ctx.memory), "replacing", `releasing ${instance.instanceId}`, [
      action,
    ]);
  }
  return undefined;
};

/** Learners whose instance is in service: promoted once caught up (etcd refuses before). */
const promoteLearners: RolloutStep = (ctx) => {
  for (const learner of ctx.matched.filter((m) => m.isLearner)) {
    const instance = instanceOfMember(learner, ctx.observation.instances);
    if (instance?.lifecycleState !== "InService") continue;
    const { gate, memory } = evaluateFor(ctx.observation, ctx.facts, ctx.previous, ctx.memory, {
      desiredSize: ctx.matched.length,
      joining: [learner.id],
    });
    if (!nonStableChecksPass(gate)) {
      return decided(
        memory,
        "replacing",
        `waiting to promote ${label(learner)}: ${gateWords(gate)}`,
        [],
        gate,
      );
    }
    const behind = learnerBehind(ctx, learner);
    if (behind) {
      return decided(
        memory,
        "replacing",
        `waiting to promote ${label(learner)}: ${behind}`,
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
  return undefined;
};

/** Instances that are not members yet join one at a time (etcd 3.4 allows one learner). */
const joinNewInstances: RolloutStep = (ctx) => {
  const members = ctx.members ?? [];
  const learners = ctx.matched.filter((m) => m.isLearner);
  for (const instance of [...ctx.launching, ...ctx.inService]) {
    if (memberOfInstance(instance, members)) continue;
    const held = instance.lifecycleState === HELD_LAUNCHING ? [instance] : [];
    if (!instance.privateIp) {
      return decided(
        ctx.memory,
        "replacing",
        `waiting for the address of ${instance.instanceId}`,
        [],
      );
    }
    if (learners.length > 0) {
      const due = heartbeatsDue(ctx.memory, ctx.facts, ctx.now, held);
      const waiting = `${instance.instanceId} waits for learner ${label(learners[0]!)} to be promoted`;
      return decided(due.memory, "replacing", waiting, due.actions);
    }
    const { gate, memory } = evaluateFor(ctx.observation, ctx.facts, ctx.previous, ctx.memory, {
      desiredSize: ctx.matched.length,
    });
    if (!nonStableChecksPass(gate)) {
      return hold(memory, ctx.facts, ctx.now, ctx.stackStatus, held, gateWords(gate), gate);
    }
    return decided(
      clearHold(memory),
      "replacing",
      `adding ${instance.instanceId} as a learner`,
      [
        {
          kind: "join",
          instanceId: instance.instanceId,
          peerURL: peerURL(ctx.facts, instance.privateIp),
          hookHeld: held.length > 0,
        },
      ],
      gate,
    );
  }
  return undefined;
};

export const ROLLOUT_STEPS: readonly RolloutStep[] = [
  releaseWhenStackGoes,
  bootstrapOrHoldWithoutMembers,
  removeDeadMembers,
  replaceFailedMembers,
  compactReplayedMembers,
  retireTerminating,
  releaseJoinedLaunching,
  promoteLearners,
  joinNewInstances,
];

/** Nothing to do: the cluster's health against the group's size. */
export function reportIdle(ctx: RolloutContext): RolloutDecision {
  const { gate, memory } = evaluateFor(ctx.observation, ctx.facts, ctx.previous, ctx.memory, {
    desiredSize: ctx.matched.length,
  });
  const busy = IN_PROGRESS.test(ctx.stackStatus);
  const waitingDead =
    ctx.dead.length > 0
      ? `; ${ctx.dead.length} member(s) without an instance, removed after the grace period`
      : "";
  return decided(
    clearHold(memory),
    busy ? "replacing" : "idle",
    `${busy ? `stack ${ctx.stackStatus}; ` : ""}${gateWords(gate)}${waitingDead}`,
    [],
    gate,
  );
}

/** Members whose instance was launched from the group's current template: already rolled. */
function currentMembers(ctx: RolloutContext): Set<bigint> {
  const ids = new Set<bigint>();
  for (const m of ctx.matched) {
    if (instanceOfMember(m, ctx.observation.instances)?.current) ids.add(m.id);
  }
  return ids;
}

function removalVerdict(ctx: RolloutContext, member: Member) {
  const probe = ctx.observation.probe;
  if (!probe) return { safe: false, reason: "no probe" };
  const roster = buildRoster(probe);
  if (roster.leader.id === undefined) return { safe: false, reason: "no leader" };
  const voters = roster.entries.map((e) => ({
    id: e.member.id,
    isLearner: e.member.isLearner,
    healthy: isHealthyVoter(e),
    label: e.label,
  }));
  return safeToRemove(voters, [member.id]);
}
