// Each cluster's current (or last) rollout as a per-member timeline, folded
// from what the daemon already has: the rollout events (learner added,
// promoted, removed, replaced, with their times) and the status outcomes that
// open and close a rollout (Progressing at its start, anything else at its
// end: a gate-blocked attempt ends with no "done" event). The fold is pure;
// createTimelines holds the latest fold per cluster for the dashboard.

import type { RolloutEvent, RolloutEventType } from "../reconcile/rollout/events.js";
import type { ReconcileOutcome } from "../reconcile/status.js";

export interface TimelineStep {
  at: string;
  type: RolloutEventType;
  message: string;
  /** The same step said again right after (a held hook's heartbeats): how often, and the last time. */
  repeats?: number;
  lastAt?: string;
}

export interface MemberTrack {
  /** The instance id, or the member id (hex) while no event has joined it to an instance. */
  key: string;
  memberId?: string;
  steps: TimelineStep[];
}

export interface RolloutTimeline {
  cluster: string;
  startedAt: string;
  /** Why it started: the Progressing message (apply, or supervising a stack mid-update). */
  reason: string;
  ended?: { at: string; outcome: ReconcileOutcome["kind"]; message: string };
  /** What happened to the cluster as a whole: plan, gate, stack status, holds. */
  steps: TimelineStep[];
  /** In the order their first step came. */
  members: MemberTrack[];
}

/** Not part of a rollout: they happen between rollouts, on their own schedule. */
const NOT_ROLLOUT = new Set<RolloutEventType>(["backup-taken", "backup-failed", "defrag"]);
/** A long rollout keeps its latest steps; the log keeps them all. */
export const MAX_STEPS = 60;

export function startTimeline(cluster: string, at: string, reason: string): RolloutTimeline {
  return { cluster, startedAt: at, reason, steps: [], members: [] };
}

export function withEvent(timeline: RolloutTimeline, event: RolloutEvent): RolloutTimeline {
  if (timeline.ended || NOT_ROLLOUT.has(event.type)) return timeline;
  const step: TimelineStep = { at: event.at, type: event.type, message: event.message };
  const key = trackKey(timeline, event);
  if (key === undefined) return { ...timeline, steps: appendStep(timeline.steps, step) };
  const found = timeline.members.find((m) => m.key === key);
  const track: MemberTrack = found
    ? { ...found, steps: appendStep(found.steps, step) }
    : { key, steps: [step] };
  if (event.memberId && event.instanceId) track.memberId = event.memberId;
  const members = found
    ? timeline.members.map((m) => (m === found ? track : m))
    : [...timeline.members, track];
  // A member first seen by its id alone and later named with its instance: one track.
  const merged = track.memberId ? mergeById(members, track) : members;
  return { ...timeline, members: merged };
}

export function endTimeline(
  timeline: RolloutTimeline,
  at: string,
  outcome: ReconcileOutcome["kind"],
  message: string,
): RolloutTimeline {
  return timeline.ended ? timeline : { ...timeline, ended: { at, outcome, message } };
}

function trackKey(timeline: RolloutTimeline, event: RolloutEvent): string | undefined {
  if (event.instanceId) return event.instanceId;
  if (!event.memberId) return undefined;
  return timeline.members.find((m) => m.memberId === event.memberId)?.key ?? event.memberId;
}

function appendStep(steps: readonly TimelineStep[], step: TimelineStep): TimelineStep[] {
  const last = steps[steps.length - 1];
  if (last && last.type === step.type && last.message === step.message) {
    return [...steps.slice(0, -1), { ...last, repeats: (last.repeats ?? 1) + 1, lastAt: step.at }];
  }
  return [...steps, step].slice(-MAX_STEPS);
}

function mergeById(members: MemberTrack[], named: MemberTrack): MemberTrack[] {
  const byId = members.find((m) => m !== named && m.key === named.memberId);
  if (!byId) return members;
  const steps = [...byId.steps, ...named.steps].sort((a, b) => a.at.localeCompare(b.at));
  return members
    .filter((m) => m !== byId)
    .map((m) => (m === named ? { ...named, steps: steps.slice(-MAX_STEPS) } : m));
}

export interface Timelines {
  onEvent(event: RolloutEvent): void;
  /** The reconciler's StatusSink: a Progressing outcome opens a rollout, any other closes it. */
  onStatus(previous: unknown, next: { cluster: string }, outcome: ReconcileOutcome): void;
  /** The current or last rollout of each cluster, by cluster name. */
  list(): RolloutTimeline[];
}

export function createTimelines(now: () => number = Date.now): Timelines {
  const byCluster = new Map<string, RolloutTimeline>();
  return {
    onEvent(event) {
      const open = byCluster.get(event.cluster);
      if (open) byCluster.set(event.cluster, withEvent(open, event));
    },
    onStatus(_previous, next, outcome) {
      const at = new Date(now()).toISOString();
      const open = byCluster.get(next.cluster);
      const running = open !== undefined && open.ended === undefined;
      if (outcome.kind === "progressing") {
        if (!running) byCluster.set(next.cluster, startTimeline(next.cluster, at, outcome.message));
      } else if (running) {
        const message = "message" in outcome ? outcome.message : outcome.kind;
        byCluster.set(next.cluster, endTimeline(open, at, outcome.kind, message));
      }
    },
    list: () => [...byCluster.values()].sort((a, b) => a.cluster.localeCompare(b.cluster)),
  };
}
