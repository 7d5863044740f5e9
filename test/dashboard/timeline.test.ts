// The rollout timeline folded from events and outcomes: one track per
// member whatever id an event names it by, repeats collapsed, and a rollout
// opened by Progressing and closed by any other outcome.
import { describe, expect, it } from "vitest";
import {
  createTimelines,
  MAX_STEPS,
  startTimeline,
  withEvent,
} from "../../src/dashboard/timeline.js";
import { renderTimeline } from "../../src/dashboard/timelineHtml.js";
import type { ReconcileOutcome } from "../../src/reconcile/status.js";
import { event } from "./fixtures.js";

const at = (s: number) => `2026-12-07T10:00:${String(s).padStart(2, "0")}.000Z`;
const fold = (...events: ReturnType<typeof event>[]) =>
  events.reduce(withEvent, startTimeline("dev", at(0), "applying"));

describe("withEvent", () => {
  it("gives each member its own track, in the order of their first step", () => {
    const t = fold(
      event("dev", "plan", "plan: replace 3", {}, at(1)),
      event("dev", "learner-added", "joined", { instanceId: "i-4", memberId: "a4" }, at(2)),
      event("dev", "member-removed", "removed m1", { instanceId: "i-1", memberId: "a1" }, at(3)),
      event("dev", "member-promoted", "promoted", { instanceId: "i-4", memberId: "a4" }, at(4)),
    );
    expect(t.steps.map((s) => s.type)).toEqual(["plan"]);
    expect(t.members.map((m) => [m.key, m.steps.map((s) => s.type)])).toEqual([
      ["i-4", ["learner-added", "member-promoted"]],
      ["i-1", ["member-removed"]],
    ]);
  });

  it("puts an event naming only the member id on the track of its instance", () => {
    const t = fold(
      event("dev", "learner-added", "joined", { instanceId: "i-4", memberId: "a4" }, at(1)),
      event("dev", "leadership-moved", "moved", { memberId: "a4" }, at(2)),
    );
    expect(t.members).toHaveLength(1);
    expect(t.members[0]?.steps.map((s) => s.type)).toEqual(["learner-added", "leadership-moved"]);
  });

  it("joins a track first known by member id to its instance once an event names both", () => {
    const t = fold(
      event("dev", "leadership-moved", "moved", { memberId: "a1" }, at(1)),
      event("dev", "member-removed", "removed", { instanceId: "i-1", memberId: "a1" }, at(2)),
    );
    expect(t.members.map((m) => [m.key, m.memberId, m.steps.length])).toEqual([["i-1", "a1", 2]]);
  });

  it("collapses the same step said again into one, with a count and the last time", () => {
    const held = (s: number) => event("dev", "hook-held", "held", { instanceId: "i-4" }, at(s));
    const t = fold(held(1), held(2), held(3));
    expect(t.members[0]?.steps).toEqual([
      { at: at(1), type: "hook-held", message: "held", repeats: 3, lastAt: at(3) },
    ]);
  });

  it("keeps the latest MAX_STEPS steps of a long rollout", () => {
    const events = Array.from({ length: MAX_STEPS + 5 }, (_, i) =>
      event("dev", "waiting", `waiting ${i}`, {}, at(i % 60)),
    );
    const t = fold(...events);
    expect(t.steps).toHaveLength(MAX_STEPS);
    expect(t.steps[MAX_STEPS - 1]?.message).toBe(`waiting ${MAX_STEPS + 4}`);
  });

  it("leaves out scheduled snapshots and defragmentations, which are not the rollout", () => {
    const t = fold(
      event("dev", "backup-taken", "snapshot"),
      event("dev", "defrag", "defragmented", { instanceId: "i-1" }),
    );
    expect(t.steps).toEqual([]);
    expect(t.members).toEqual([]);
  });
});

describe("createTimelines", () => {
  const progressing: ReconcileOutcome = {
    kind: "progressing",
    reason: "Progressing",
    message: "applying b",
  };
  const blocked: ReconcileOutcome = { kind: "gate-blocked", message: "gate failed" };

  it("opens a rollout on Progressing, follows its events, and closes it on the outcome", () => {
    let now = Date.parse(at(0));
    const timelines = createTimelines(() => now);
    timelines.onEvent(event("dev", "plan", "before any rollout: not kept"));
    expect(timelines.list()).toEqual([]);
    timelines.onStatus(undefined, { cluster: "dev" }, progressing);
    timelines.onEvent(event("dev", "learner-added", "joined", { instanceId: "i-4" }, at(1)));
    now = Date.parse(at(2));
    timelines.onStatus(undefined, { cluster: "dev" }, blocked);
    timelines.onEvent(event("dev", "gate", "after the end: not kept", {}, at(3)));
    expect(timelines.list()).toEqual([
      {
        cluster: "dev",
        startedAt: at(0),
        reason: "applying b",
        ended: { at: at(2), outcome: "gate-blocked", message: "gate failed" },
        steps: [],
        members: [
          {
            key: "i-4",
            steps: [{ at: at(1), type: "learner-added", message: "joined" }],
          },
        ],
      },
    ]);
  });

  it("starts afresh at the next rollout, and a repeated Progressing keeps the one running", () => {
    const timelines = createTimelines(() => Date.parse(at(5)));
    timelines.onStatus(undefined, { cluster: "dev" }, progressing);
    timelines.onEvent(event("dev", "plan", "first"));
    timelines.onStatus(undefined, { cluster: "dev" }, { kind: "applied", message: "done" });
    timelines.onStatus(undefined, { cluster: "dev" }, { ...progressing, message: "second" });
    timelines.onStatus(undefined, { cluster: "dev" }, { ...progressing, message: "again" });
    const [only] = timelines.list();
    expect(only).toMatchObject({ reason: "second", steps: [] });
    expect(only?.ended).toBeUndefined();
  });
});

describe("renderTimeline's labels for the steps added after the dashboard", () => {
  it("names a replacement's defragmentation, a disarm and the history, a failed write in the warning colour", () => {
    const html = renderTimeline(
      fold(
        event("dev", "member-defragmented", "defragmented i-4", { memberId: "a4" }, at(1)),
        event("dev", "alarm-disarmed", "disarmed NOSPACE raised by a4", {}, at(2)),
        event("dev", "history-failed", "rollout history not recorded", {}, at(3)),
      ),
      false,
    );
    expect(html).toContain("defragmented");
    expect(html).toContain("NOSPACE disarmed");
    expect(html).toMatch(
      /<li class="step warn"[^>]*><time[^>]*>[^<]*<\/time> history not recorded/,
    );
  });
});
