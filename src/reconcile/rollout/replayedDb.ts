// A replacement member must not have less room under the quota than the one it
// replaces. A new member catches up by replaying the leader's raft log (every
// entry since the last raft snapshot), not by copying its database, so the
// pages of revisions that were compacted away come back: after `quorate
// maintain --compact --defrag` cleared a NOSPACE, the replacements of the next
// rollout came up at 95% of the quota with half of it free, and with a little
// more data over it, so that the first write after the "successful" rollout
// raised NOSPACE again (test/integration/maintainNospace.test.ts).
//
// This step, pure like the others, defragments such a member once it votes and
// before the member it replaces leaves, and disarms a NOSPACE alarm that only
// such members raised once every database has room again. A NOSPACE of real
// data (a member whose database is mostly in use) is never touched here: the
// gate holds and names `quorate maintain`.
import type { Alarm, Member } from "../../etcd/types.js";
import { hexId } from "../../etcd/wire.js";
import { disarmDecision, formatBytes, type MemberDb, membersOf } from "../../maintenance/decide.js";
import type { RolloutStep } from "./decide.js";
import {
  decided,
  evaluateFor,
  heartbeatsDue,
  hold,
  label,
  learnerBehind,
  nonStableChecksPass,
  type RolloutAction,
} from "./decision.js";
import { instanceOfMember } from "./observation.js";

/** etcd's own default for --quota-backend-bytes 0. */
const ETCD_DEFAULT_QUOTA = 2n * 1024n * 1024n * 1024n;

/** A twentieth of the quota: differences below it are ordinary fragmentation, not a replay. */
export function replayMargin(quotaBytes: bigint): bigint {
  return (quotaBytes > 0n ? quotaBytes : ETCD_DEFAULT_QUOTA) / 20n;
}

/**
 * The voters launched by this rollout whose database is bigger than the
 * smallest of the old voters' (the members being replaced) by more than the
 * margin, and whose free pages are more than the margin too (a defragmentation
 * gives them back), largest first. Not against another new voter: one that
 * was sent a snapshot starts compact, and a replayed member as big as the
 * members it replaces has as much room as they had (at 1 GiB this compared
 * with such a member and defragmented two replacements for 47 and 49 s).
 */
export function replayedMembers(
  members: readonly MemberDb[],
  isNew: (m: MemberDb) => boolean,
  quotaBytes: bigint,
): MemberDb[] {
  const margin = replayMargin(quotaBytes);
  const voters = members.filter((m) => !m.learner);
  return voters
    .filter((m) => {
      if (!isNew(m) || m.dbSize - m.dbSizeInUse <= margin) return false;
      return voters.some((o) => !isNew(o) && m.dbSize - o.dbSize > margin);
    })
    .sort((a, b) => (b.dbSize > a.dbSize ? 1 : b.dbSize < a.dbSize ? -1 : 0));
}

/** NOSPACE alarms, when every one of them was raised by a member this rollout added. */
export function nospaceOfNewMembers(
  alarms: readonly Alarm[] | undefined,
  isNewId: (id: bigint) => boolean,
): Alarm[] | undefined {
  const nospace = (alarms ?? []).filter((a) => a.alarm === "NOSPACE");
  if (nospace.length === 0 || nospace.length !== (alarms ?? []).length) return undefined;
  return nospace.every((a) => isNewId(a.memberId)) ? nospace : undefined;
}

export const compactReplayedMembers: RolloutStep = (ctx) => {
  const probe = ctx.observation.probe;
  if (!probe || !ctx.members) return undefined;
  // New: launched from the template being rolled to, while members of the old one remain (before
  // the group takes the new template, every member counts as current).
  const current = (m: Member) => instanceOfMember(m, ctx.observation.instances)?.current === true;
  if (!ctx.matched.some((m) => !current(m))) return undefined;
  const isNewId = (id: bigint) => ctx.matched.some((m) => m.id === id && current(m));
  const members = membersOf(probe);
  const quota = ctx.facts.quotaBytes;
  const replayed = replayedMembers(members, (m) => isNewId(m.id), quota);
  const alarms = nospaceOfNewMembers(probe.alarms, isNewId);
  if (replayed.length === 0 && !alarms) return undefined;

  const { gate, memory } = evaluateFor(ctx.observation, ctx.facts, ctx.previous, ctx.memory, {
    desiredSize: ctx.matched.length,
    joining: ctx.matched.filter((m) => m.isLearner).map((m) => m.id),
    tolerateNoSpace: alarms !== undefined,
  });
  // Anything else wrong (a member down, no leader) is for the other steps and the gate to hold on.
  if (!nonStableChecksPass(gate)) return undefined;
  const due = heartbeatsDue(memory, ctx.facts, ctx.now, [...ctx.terminating, ...ctx.launching]);
  const act = (message: string, action: RolloutAction, next = due.memory) =>
    decided(next, "replacing", message, [...due.actions, action], gate);

  // A learner that raised NOSPACE while it replayed is promoted first: etcd defragments only voters.
  const learner = alarms
    ? ctx.matched.find((m) => m.isLearner && alarms.some((a) => a.memberId === m.id))
    : undefined;
  if (learner) {
    const instance = instanceOfMember(learner, ctx.observation.instances);
    const behind = learnerBehind(ctx, learner);
    if (behind || !instance)
      return decided(
        due.memory,
        "replacing",
        `waiting to promote ${label(learner)}: ${behind ?? "no instance"}`,
        due.actions,
        gate,
      );
    return act(`promoting ${label(learner)}, which raised NOSPACE while it replayed the log`, {
      kind: "promote",
      memberId: learner.id,
      label: label(learner),
      instanceId: instance.instanceId,
    });
  }
  const member = replayed[0];
  if (member) {
    const margin = replayMargin(quota);
    const why = `its database replayed to ${formatBytes(member.dbSize)} with ${formatBytes(member.dbSizeInUse)} in use, over the old members' by more than ${formatBytes(margin)} (a twentieth of the quota)`;
    if (member.leader) {
      const to = members
        .filter((m) => !m.learner && m.id !== member.id && !replayed.includes(m))
        .sort((a, b) => a.name.localeCompare(b.name))[0];
      if (!to) return undefined;
      return act(`moving leadership from ${member.name} before defragmenting it`, {
        kind: "transfer-leadership",
        from: member.id,
        to: to.id,
        label: member.name,
      });
    }
    return act(`defragmenting new member ${member.name}: ${why}`, {
      kind: "defrag",
      memberId: member.id,
      label: member.name,
      endpoint: member.endpoint,
      why,
    });
  }
  if (!alarms) return undefined;
  const effectiveQuota = quota > 0n ? quota : ETCD_DEFAULT_QUOTA;
  // A raiser at the quota that the replay rule does not pick (its compaction may not have
  // freed its pages yet) is defragmented once; what is then still over the quota is data.
  const done = new Set(ctx.memory.defragmentedForNoSpace ?? []);
  const raiser = members.find(
    (m) =>
      !m.learner &&
      !m.leader &&
      alarms.some((a) => a.memberId === m.id) &&
      !done.has(hexId(m.id)) &&
      m.dbSize + replayMargin(quota) >= effectiveQuota,
  );
  if (raiser) {
    const why = `it raised NOSPACE at ${formatBytes(raiser.dbSize)} with ${formatBytes(raiser.dbSizeInUse)} in use`;
    const marked = { ...due.memory, defragmentedForNoSpace: [...done, hexId(raiser.id)] };
    const action: RolloutAction = {
      kind: "defrag",
      memberId: raiser.id,
      label: raiser.name,
      endpoint: raiser.endpoint,
      why,
    };
    return act(`defragmenting new member ${raiser.name}: ${why}`, action, marked);
  }
  const verdict = disarmDecision(alarms, members, effectiveQuota);
  if (!verdict.disarm) {
    // Data, not a replay: say so, and hold (abortAfter applies) as the gate would.
    return hold(
      memory,
      ctx.facts,
      ctx.now,
      ctx.stackStatus,
      [...ctx.terminating, ...ctx.launching],
      `NOSPACE raised by new member ${alarms.map((a) => hexId(a.memberId)).join(", ")}, which defragmentation did not clear: ${verdict.message}`,
      gate,
    );
  }
  const raisers = alarms.map((a) => hexId(a.memberId)).join(", ");
  return act(`disarming the NOSPACE alarm raised by new member ${raisers}: ${verdict.message}`, {
    kind: "disarm",
    alarms,
    why: verdict.message,
  });
};
