// The etcd health gate: a pure function of a probe, what the cluster should
// look like now, the manifest's gate policy, and the gate's memory of the
// previous evaluation (for stableFor). docs/architecture.md#the-health-gate
import { terminal } from "../errors.js";
import { parseIsoDuration } from "../manifest/duration.js";
import type { GatePolicy } from "../manifest/types.js";
import {
  type CheckContext,
  type CheckOutcome,
  checkAppliedIndexLag,
  checkMemberCount,
  checkMembersHealthy,
  checkNoAlarms,
  checkSingleLeader,
  isHealthyVoterIn,
  judgedMembers,
} from "./gateChecks.js";
import {
  buildRoster,
  type FaultTolerance,
  faultToleranceOf,
  restingFaultTolerance,
  shortName,
} from "./roster.js";
import type { ClusterProbe } from "./types.js";
import { groupVersions, type MemberVersion } from "./versionRules.js";

export type GateCheckName =
  | "members-healthy"
  | "single-leader"
  | "member-count"
  | "no-alarms"
  | "applied-index-lag"
  | "stable";

export const GATE_CHECKS: readonly GateCheckName[] = [
  "members-healthy",
  "single-leader",
  "member-count",
  "no-alarms",
  "applied-index-lag",
  "stable",
];

/**
 * What the cluster should look like right now.
 *
 * Terminating instance X of a 3-member cluster: `{desiredSize: 2, departing:
 * [X]}` passes only when the other two are healthy voters and removing X keeps
 * quorum. Joining Y after that: `{desiredSize: 3, joining: [Y]}` lets Y be an
 * unstarted or catching-up learner.
 */
export interface GateExpectation {
  /** Members the list should hold, not counting departing ones; learners count. */
  desiredSize: number;
  /** Member ids counted as gone already (the instance being terminated). */
  departing?: readonly bigint[];
  /** Learner ids that may be unstarted, learners or behind without failing the gate. */
  joining?: readonly bigint[];
  /** The cluster's name, for messages that name a command (the NOSPACE one). */
  cluster?: string;
  /** quorate maintain clears NOSPACE: the alarm fails no check while it runs. */
  tolerateNoSpace?: boolean;
  /** The manifest's size, for the resting fault tolerance (default: desiredSize plus departing). */
  restingSize?: number;
}

export interface GateCheck {
  name: GateCheckName;
  passed: boolean;
  /** Every problem found, joined with "; ", or what passing means. */
  message: string;
}

export interface GateSummary {
  /** Members held to the voter standard (neither departing nor joining learners). */
  judged: number;
  healthyVoters: number;
  leader?: { id: bigint; name: string };
  /** The agreed leader is departing: move leadership before removing it. */
  leaderDeparting: boolean;
  maxLag?: bigint;
  departing: string[];
  joining: string[];
  /** How long every other check has passed in a row (0 when one fails now). */
  heldForMs: number;
  stableForMs: number;
  /** The server version each answering member reports (status), by short name. */
  versions: MemberVersion[];
  /** Members that answered the probe, and members that did not (labels, with their URL). */
  answering?: string[];
  silent?: string[];
  /** Failures survived now, and what the cluster survives at rest (absent: nothing probed). */
  faultTolerance?: FaultTolerance & { resting: number };
}

export interface GateResult {
  passed: boolean;
  /** The `now` of the evaluation. */
  at: number;
  /** All checks, in GATE_CHECKS order. */
  checks: GateCheck[];
  /** Every failed check, in GATE_CHECKS order. */
  failed: GateCheckName[];
  summary: GateSummary;
}

/** Carried from one evaluation to the next; start with undefined. */
export interface GateMemory {
  /** Since when every check other than stable has passed; undefined after a failure. */
  passingSince?: number;
  lastEvaluatedAt: number;
  /** The expectation the clock ran under: a different expectation restarts it. */
  expectationKey: string;
}

/** Identifies what a gate expects: a different expectation runs its own stable clock. */
export function expectationKey(e: GateExpectation): string {
  const ids = (list: readonly bigint[] | undefined) => [...(list ?? [])].sort().join(",");
  return `${e.desiredSize}|${ids(e.departing)}|${ids(e.joining)}|${e.tolerateNoSpace ? "nospace" : ""}`;
}

function policyMs(policy: GatePolicy, field: "stableFor"): number {
  const ms = parseIsoDuration(policy[field]);
  if (ms === undefined) {
    throw terminal(
      `gates.${field} is not an ISO 8601 duration: ${policy[field]}`,
      "write it like PT30S",
    );
  }
  return ms;
}

export function evaluateGate(
  probe: ClusterProbe,
  expectation: GateExpectation,
  policy: GatePolicy,
  previous: GateMemory | undefined,
  now: number,
): { result: GateResult; memory: GateMemory } {
  const departing = new Set(expectation.departing ?? []);
  const ctx: CheckContext = {
    probe,
    roster: buildRoster(probe),
    desiredSize: expectation.desiredSize,
    departing,
    joining: new Set((expectation.joining ?? []).filter((id) => !departing.has(id))),
    maxAppliedIndexLag: policy.maxAppliedIndexLag,
    tolerateNoSpace: expectation.tolerateNoSpace === true,
    ...(expectation.cluster !== undefined ? { cluster: expectation.cluster } : {}),
  };
  const lag = checkAppliedIndexLag(ctx);
  const outcomes: [GateCheckName, CheckOutcome][] = [
    ["members-healthy", checkMembersHealthy(ctx)],
    ["single-leader", checkSingleLeader(ctx)],
    ["member-count", checkMemberCount(ctx)],
    ["no-alarms", checkNoAlarms(ctx)],
    ["applied-index-lag", lag],
  ];
  const checks: GateCheck[] = outcomes.map(([name, o]) => ({
    name,
    passed: o.problems.length === 0,
    message: o.problems.length ? o.problems.join("; ") : o.passed,
  }));

  // stableFor: every other check must have passed at each evaluation for that long.
  const stableForMs = policyMs(policy, "stableFor");
  const key = expectationKey(expectation);
  const othersPass = checks.every((c) => c.passed);
  const continues =
    previous !== undefined &&
    previous.passingSince !== undefined &&
    previous.expectationKey === key &&
    now >= previous.lastEvaluatedAt;
  const since = othersPass ? (continues ? (previous?.passingSince ?? now) : now) : undefined;
  const heldForMs = since === undefined ? 0 : now - since;
  const stablePassed = othersPass && heldForMs >= stableForMs;
  checks.push({
    name: "stable",
    passed: stablePassed,
    message: !othersPass
      ? `the ${formatDuration(stableForMs)} clock restarts once the other checks pass`
      : stablePassed
        ? `held for ${formatDuration(heldForMs)} (at least ${formatDuration(stableForMs)})`
        : `all checks have held for ${formatDuration(heldForMs)} of the required ${formatDuration(stableForMs)}; wait`,
  });

  const { roster } = ctx;
  const leaderId = roster.leader.id;
  const judged = judgedMembers(ctx);
  const summary: GateSummary = {
    judged: judged.length,
    healthyVoters: judged.filter((e) => isHealthyVoterIn(ctx, e)).length,
    leaderDeparting: leaderId !== undefined && departing.has(leaderId),
    departing: [...departing].map((id) => shortName(roster, id)),
    joining: [...ctx.joining].map((id) => shortName(roster, id)),
    heldForMs,
    stableForMs,
    versions: roster.entries.flatMap((e) =>
      e.probe?.status?.version
        ? [{ name: shortName(roster, e.member.id), version: e.probe.status.version }]
        : [],
    ),
    answering: [
      ...roster.entries.filter((e) => e.probe?.reachable).map((e) => e.label),
      ...roster.orphans.filter((o) => o.reachable).map((o) => o.endpoint),
    ],
    silent: [
      ...roster.entries.filter((e) => !e.probe?.reachable).map((e) => e.label),
      ...roster.orphans.filter((o) => !o.reachable).map((o) => o.endpoint),
    ],
    faultTolerance: {
      ...faultToleranceOf(probe),
      resting: restingFaultTolerance(
        expectation.restingSize ?? expectation.desiredSize + departing.size,
      ),
    },
  };
  if (leaderId !== undefined) summary.leader = { id: leaderId, name: shortName(roster, leaderId) };
  if (lag.maxLag !== undefined) summary.maxLag = lag.maxLag;

  const failed = checks.filter((c) => !c.passed).map((c) => c.name);
  const memory: GateMemory = { lastEvaluatedAt: now, expectationKey: key };
  if (since !== undefined) memory.passingSince = since;
  return { result: { passed: failed.length === 0, at: now, checks, failed, summary }, memory };
}

/** "12s", "1m30s", "450ms". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const rest = seconds % 60;
  return `${Math.floor(seconds / 60)}m${rest ? `${rest}s` : ""}`;
}

/**
 * One line for logs, status and pull requests. A failed stable check is left
 * out when other checks failed: it only says the clock restarted.
 */
export function formatGateResult(result: GateResult): string {
  const s = result.summary;
  if (result.passed) {
    const parts = [
      `${s.healthyVoters}/${s.judged} healthy`,
      `leader ${s.leader?.name ?? "none"}${s.leaderDeparting ? " (departing)" : ""}`,
      `lag ${s.maxLag ?? "?"}`,
      `stable ${formatDuration(s.heldForMs)}`,
    ];
    if (s.faultTolerance) parts.push(formatFaultTolerance(s.faultTolerance));
    if (s.departing.length) parts.push(`departing ${s.departing.join(", ")}`);
    if (s.joining.length) parts.push(`joining ${s.joining.join(", ")}`);
    const versions = formatMemberVersions(s.versions);
    if (versions) parts.push(versions);
    return `gate PASSED: ${parts.join(", ")}`;
  }
  const failed = result.checks.filter((c) => !c.passed);
  // A failing gate names the tolerance only when it is below its resting value.
  const t = s.faultTolerance;
  const reduced = t && t.tolerates < t.resting ? t : undefined;
  const shown = failed.length > 1 ? failed.filter((c) => c.name !== "stable") : failed;
  return `gate FAILED: ${shown.map((c) => `${c.name}: ${c.message}`).join("; ")}${reduced ? `; ${formatFaultTolerance(reduced)}` : ""}`;
}

/** "tolerates 1 failure", "tolerates 0 failures (1 at rest)", "quorum lost (1 at rest)". */
export function formatFaultTolerance(t: { tolerates: number; resting: number }): string {
  const now =
    t.tolerates < 0
      ? "quorum lost"
      : `tolerates ${t.tolerates} failure${t.tolerates === 1 ? "" : "s"}`;
  return t.tolerates < t.resting ? `${now} (${t.resting} at rest)` : now;
}

/** "etcd 3.5.17" when every member runs it, else "etcd 3.4.23 (m1), 3.5.17 (m2, m3)". */
export function formatMemberVersions(versions: readonly MemberVersion[]): string {
  const groups = groupVersions(versions);
  if (groups.length === 0) return "";
  if (groups.length === 1) return `etcd ${groups[0]?.version}`;
  return `etcd ${groups.map((g) => `${g.version} (${g.members.join(", ")})`).join(", ")}`;
}
