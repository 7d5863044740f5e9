// A dashboard view as the daemon would hand it over mid-rollout: one cluster
// with conditions, members from a probe (a learner joining) and a timeline of
// real event shapes, and a pass. Names and messages are the test's to choose,
// hostile ones included.
import type { DashboardView } from "../../src/dashboard/page.js";
import type { PassRecord } from "../../src/dashboard/passHistory.js";
import { startTimeline, withEvent } from "../../src/dashboard/timeline.js";
import { memberViews } from "../../src/reconcile/memberView.js";
import type { RolloutEvent } from "../../src/reconcile/rollout/events.js";
import { initialStatus, nextStatus } from "../../src/reconcile/status.js";
import { healthyProbe, member, up } from "../etcd/probeFixtures.js";

export interface ViewText {
  cluster: string;
  message: string;
  subject: string;
}

export const AT = "2026-12-07T10:00:00.000Z";

export function event(
  cluster: string,
  type: RolloutEvent["type"],
  message: string,
  who: { instanceId?: string; memberId?: string } = {},
  at = AT,
): RolloutEvent {
  return { at, cluster, type, message, ...who };
}

export function viewOf(words: ViewText): DashboardView {
  const { cluster, message, subject } = words;
  const probe = healthyProbe(3);
  probe.members = [...(probe.members ?? []), member(4, { isLearner: true })];
  probe.endpoints = [...probe.endpoints, up(4, { isLearner: true, raftAppliedIndex: 90n })];
  const clusterStatus = {
    ...nextStatus(
      initialStatus(cluster),
      { kind: "progressing", reason: "Progressing", message },
      {
        now: new Date(AT),
        revision: "a".repeat(40),
        attempted: true,
        stack: { stackName: `quorate-${cluster}`, status: "UPDATE_IN_PROGRESS" },
      },
    ),
    members: memberViews(probe),
  };
  let timeline = startTimeline(cluster, AT, message);
  for (const e of [
    event(cluster, "plan", message),
    event(cluster, "stack-status", "executed change set x", {}),
    event(cluster, "learner-added", message, {
      instanceId: "i-0004",
      memberId: "00000000000000a4",
    }),
    event(cluster, "member-promoted", "promoted to voting member", { instanceId: "i-0004" }),
  ])
    timeline = withEvent(timeline, e);
  const pass: PassRecord = {
    ok: true,
    startedAt: AT,
    durationMs: 1234,
    revision: "a".repeat(40),
    sourceOk: true,
    results: [{ cluster, result: "apply-started" }],
  };
  return {
    source: { repo: "acme/clusters", ok: true, revision: "a".repeat(40), subject },
    clusters: [clusterStatus],
    busy: [cluster],
    timelines: [timeline],
    passes: [pass, { ok: false, startedAt: AT, durationMs: 10, error: message }],
  };
}
