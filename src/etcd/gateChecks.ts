// The checks of the etcd health gate, each a pure function of a probe (joined
// into a roster) that returns the problems it found in operator words. The
// gate (gate.ts) runs them all and adds the stableFor clock.
import { safeToRemove } from "./quorum.js";
import { isHealthyVoter, labelOf, type Roster, type RosterEntry } from "./roster.js";
import type { ClusterProbe, EndpointProbe } from "./types.js";
import { hexId } from "./wire.js";

export interface CheckContext {
  probe: ClusterProbe;
  roster: Roster;
  desiredSize: number;
  /** Counted as gone already. */
  departing: ReadonlySet<bigint>;
  /** May be learners, unstarted or catching up. */
  joining: ReadonlySet<bigint>;
  maxAppliedIndexLag: number;
  /** The cluster's name, for messages that give a command to run. */
  cluster?: string;
  /** NOSPACE is what is being cleared (quorate maintain): it fails no check. */
  tolerateNoSpace: boolean;
}

/** The command that clears NOSPACE, in the order its steps run. */
export function maintainCommand(cluster: string | undefined): string {
  return `quorate maintain ${cluster ?? "CLUSTER"} --compact --defrag --disarm`;
}

/**
 * While NOSPACE stands, etcd 3.4 answers /health false on every member though
 * raft works. When NOSPACE is tolerated, such a member counts as healthy if
 * it knows a leader and NOSPACE is all its status complains of.
 */
function unhealthyOnlyOfNoSpace(ctx: CheckContext, ep: EndpointProbe): boolean {
  const alarms = ctx.probe.alarms ?? [];
  return (
    ctx.tolerateNoSpace &&
    alarms.length > 0 &&
    alarms.every((a) => a.alarm === "NOSPACE") &&
    ep.status !== undefined &&
    ep.status.leader !== 0n &&
    ep.status.errors.every((e) => /alarm:NOSPACE/.test(e))
  );
}

/** A healthy voter, where a member unhealthy only of a tolerated NOSPACE counts as healthy. */
export function isHealthyVoterIn(ctx: CheckContext, entry: RosterEntry): boolean {
  if (isHealthyVoter(entry)) return true;
  const p = entry.probe;
  return (
    p?.reachable === true &&
    p.health?.healthy === false &&
    unhealthyOnlyOfNoSpace(ctx, p) &&
    p.linearizableRead?.ok !== false &&
    !entry.member.isLearner &&
    p.status?.isLearner !== true
  );
}

export interface CheckOutcome {
  problems: string[];
  /** What a pass means, for the result when there are no problems. */
  passed: string;
}

/** A joining member is left out of the voter checks while it is still a learner or unstarted. */
export function isExemptJoining(ctx: CheckContext, entry: RosterEntry): boolean {
  return (
    ctx.joining.has(entry.member.id) &&
    (entry.member.isLearner || entry.unstarted || entry.probe?.status?.isLearner === true)
  );
}

/** Members the gate holds to the voter standard: in the list, not departing, not an exempt joiner. */
export function judgedMembers(ctx: CheckContext): RosterEntry[] {
  return ctx.roster.entries.filter(
    (e) => !ctx.departing.has(e.member.id) && !isExemptJoining(ctx, e),
  );
}

function endpointLabel(roster: Roster, ep: EndpointProbe): string {
  return roster.entries.find((e) => e.probe === ep)?.label ?? ep.endpoint;
}

/** What is wrong with one expected member's endpoint, if anything. */
function endpointProblem(
  ctx: CheckContext,
  label: string,
  ep: EndpointProbe,
  learner: boolean,
): string | undefined {
  if (!ep.reachable) {
    return `${label} does not answer (${ep.error ?? "no answer"}); check the instance and its etcd service`;
  }
  if (!ep.health) {
    return `${label} did not answer GET /health (${ep.error ?? "no answer"}); check its etcd service`;
  }
  if (!ep.health.healthy && !unhealthyOnlyOfNoSpace(ctx, ep)) {
    const why = ep.health.reason ? `: ${ep.health.reason}` : "";
    const errors = ep.status?.errors.length
      ? ` (${ep.status.errors.map((e) => e.trim()).join("; ")})`
      : "";
    const todo =
      (ctx.probe.alarms?.length ?? 0) > 0
        ? "etcd reports unhealthy while an alarm is active; see no-alarms"
        : ep.status?.leader === 0n
          ? "it has no leader; check that a quorum of members is up"
          : "check its log";
    return `${label} reports unhealthy${why}${errors}; ${todo}`;
  }
  if (ep.linearizableRead && !ep.linearizableRead.ok) {
    return `${label} cannot serve a linearizable read (${ep.linearizableRead.error ?? "failed"}); it may be cut off from the quorum`;
  }
  if (learner) {
    return `${label} is a learner, not a voting member; promote it once it has caught up, or remove it`;
  }
  return undefined;
}

export function checkMembersHealthy(ctx: CheckContext): CheckOutcome {
  const { roster, probe } = ctx;
  const problems: string[] = [];
  for (const entry of judgedMembers(ctx)) {
    if (!entry.probe) continue; // a member no endpoint stands for is stale or unstarted: member-count says so
    const learner = entry.member.isLearner || entry.probe.status?.isLearner === true;
    const problem = endpointProblem(ctx, entry.label, entry.probe, learner);
    if (problem) problems.push(problem);
  }
  for (const ep of roster.orphans) {
    const self = ep.status?.header.memberId;
    if (!probe.members) {
      const problem = endpointProblem(ctx, ep.endpoint, ep, ep.status?.isLearner === true);
      if (problem) problems.push(problem);
    } else if (self !== undefined) {
      problems.push(
        `${ep.endpoint} answers as member ${hexId(self)}, which is not in the member list (cluster ${hexId(ep.status?.header.clusterId ?? 0n)}); it was removed or belongs to another cluster: replace its instance`,
      );
    } else {
      problems.push(
        `${ep.endpoint} ${ep.reachable ? "answers" : `does not answer (${ep.error ?? "no answer"})`} and no member in the list has this client URL; check the instance and add it as a member`,
      );
    }
  }
  if (ctx.departing.size > 0 && probe.members) {
    const present = [...ctx.departing].filter((id) => roster.byId.has(id));
    const verdict = safeToRemove(
      roster.entries.map((e) => ({
        id: e.member.id,
        isLearner: e.member.isLearner,
        healthy: isHealthyVoterIn(ctx, e),
        label: e.label,
      })),
      present,
    );
    if (!verdict.safe) problems.push(verdict.reason);
  }
  const judged = judgedMembers(ctx);
  const healthy = judged.filter((e) => isHealthyVoterIn(ctx, e)).length;
  return { problems, passed: `${healthy}/${judged.length} members healthy and voting` };
}

export function checkSingleLeader(ctx: CheckContext): CheckOutcome {
  const { roster } = ctx;
  const reports = roster.leader.reports;
  if (reports.size === 0) {
    return {
      problems: ["no member answers, so no leader can be seen; check that the members run"],
      passed: "",
    };
  }
  const problems: string[] = [];
  const labels = (eps: EndpointProbe[]) => eps.map((ep) => endpointLabel(roster, ep)).join(", ");
  const leaderless = reports.get(0n);
  if (leaderless) {
    problems.push(
      `${labels(leaderless)} ${leaderless.length === 1 ? "knows" : "know"} no leader; wait for an election and check that a quorum of members is up`,
    );
  }
  const leaders = [...reports.keys()].filter((id) => id !== 0n);
  if (leaders.length > 1) {
    const sides = leaders.map((id) => {
      const eps = reports.get(id) ?? [];
      return `${labels(eps)} ${eps.length === 1 ? "follows" : "follow"} ${labelOf(roster, id)}`;
    });
    problems.push(
      `members disagree on the leader: ${sides.join("; ")}; wait for the election to settle`,
    );
  }
  const id = roster.leader.id;
  if (id !== undefined && ctx.probe.members && !roster.byId.has(id)) {
    problems.push(
      `the leader ${hexId(id)} is not in the member list; wait for the membership change to settle`,
    );
  }
  // Followers keep naming a dead leader until their election timeout runs out.
  const leaderEntry = id === undefined ? undefined : roster.byId.get(id);
  if (leaderEntry?.probe && !leaderEntry.probe.status) {
    problems.push(
      `the others follow ${leaderEntry.label}, which does not answer; wait for them to elect a new leader, and check that instance`,
    );
  }
  const count = [...reports.values()].reduce((n, eps) => n + eps.length, 0);
  const passed =
    id === undefined ? "" : `leader ${labelOf(roster, id)}, agreed by ${count} members`;
  return { problems, passed };
}

export function checkMemberCount(ctx: CheckContext): CheckOutcome {
  const { probe, roster, departing } = ctx;
  if (!probe.members) {
    return {
      problems: [
        `the member list could not be read from any member (${probe.memberListError ?? "no answer"}); check that a quorum of members is up`,
      ],
      passed: "",
    };
  }
  const problems: string[] = [];
  const counted = roster.entries.filter((e) => !departing.has(e.member.id));
  const gone = roster.entries.filter((e) => departing.has(e.member.id));
  if (counted.length !== ctx.desiredSize) {
    const note = gone.length
      ? ` (not counting departing ${gone.map((e) => e.label).join(", ")})`
      : "";
    const todo =
      counted.length > ctx.desiredSize
        ? "remove the extra members"
        : "add members (one at a time, as learners)";
    problems.push(
      `${counted.length} members in the list${note} but the desired size is ${ctx.desiredSize}; ${todo}`,
    );
  }
  for (const e of counted) {
    if (e.unstarted && !ctx.joining.has(e.member.id)) {
      problems.push(
        `${e.label} was added but never started; start its instance or remove the member`,
      );
    } else if (!e.unstarted && !e.probe) {
      problems.push(
        `${e.label} is in the member list but is not one of the expected instances; remove it (member id ${hexId(e.member.id)}) once its instance is gone`,
      );
    }
  }
  for (const d of probe.memberListDisagreements) {
    const ids = d.memberIds.map((id) => labelOf(roster, id)).join(", ");
    problems.push(
      `${d.endpoint} lists different members (${ids}); a membership change may still be spreading, wait for it`,
    );
  }
  return { problems, passed: `${counted.length} members, as desired` };
}

export function checkNoAlarms(ctx: CheckContext): CheckOutcome {
  const { probe, roster } = ctx;
  if (!probe.alarms) {
    return {
      problems: [
        `the alarm list could not be read from any member (${probe.alarmsError ?? "no answer"}); check that a quorum of members is up`,
      ],
      passed: "",
    };
  }
  const counted = ctx.tolerateNoSpace
    ? probe.alarms.filter((a) => a.alarm !== "NOSPACE")
    : probe.alarms;
  const problems = counted.map((a) =>
    a.alarm === "NOSPACE"
      ? `NOSPACE alarm raised by ${labelOf(roster, a.memberId)}: the database exceeded its space quota and etcd refuses writes; run \`${maintainCommand(ctx.cluster)}\` to compact, defragment and disarm it`
      : `CORRUPT alarm raised by ${labelOf(roster, a.memberId)}: etcd found inconsistent data; replace the corrupt member from a healthy one before disarming`,
  );
  const tolerated = probe.alarms.length - counted.length;
  return {
    problems,
    passed: tolerated > 0 ? `no alarms but NOSPACE, which maintenance clears` : "no alarms",
  };
}

export function checkAppliedIndexLag(ctx: CheckContext): CheckOutcome & { maxLag?: bigint } {
  const { roster } = ctx;
  const leaderId = roster.leader.id;
  if (leaderId === undefined) {
    return {
      problems: ["cannot measure the lag without a leader all members agree on"],
      passed: "",
    };
  }
  const leaderStatus = roster.byId.get(leaderId)?.probe?.status;
  if (!leaderStatus) {
    return {
      problems: [
        `cannot measure the lag: the leader ${labelOf(roster, leaderId)} did not report its applied index`,
      ],
      passed: "",
    };
  }
  const limit = BigInt(ctx.maxAppliedIndexLag);
  const leaderApplied = leaderStatus.raftAppliedIndex;
  const problems: string[] = [];
  let maxLag = 0n;
  for (const entry of judgedMembers(ctx)) {
    const status = entry.probe?.status;
    if (!status) continue; // members-healthy reports members that do not answer
    // Statuses are read in parallel, so a follower may look ahead of the leader.
    const lag =
      leaderApplied > status.raftAppliedIndex ? leaderApplied - status.raftAppliedIndex : 0n;
    if (lag > maxLag) maxLag = lag;
    if (lag > limit) {
      problems.push(
        `${entry.label} is ${lag} entries behind the leader (applied ${status.raftAppliedIndex}, leader ${leaderApplied}, at most ${limit} allowed); wait for it to catch up, or check its disk and network`,
      );
    }
  }
  return { problems, passed: `lag ${maxLag} (at most ${limit})`, maxLag };
}
