import { describe, expect, it } from "vitest";
import {
  type MemberClock,
  memberPromoted,
  observeGroup,
  startClock,
} from "../../../src/reconcile/rollout/memberDurations.js";
import type { ObservedInstance } from "../../../src/reconcile/rollout/observation.js";

const i = (instanceId: string, lifecycleState = "InService"): ObservedInstance => ({
  instanceId,
  lifecycleState,
});

type Step = { at: number; see: ObservedInstance[] } | { at: number; promoted: true };

function run(steps: Step[]): MemberClock {
  let clock = startClock();
  for (const step of steps) {
    clock =
      "see" in step
        ? observeGroup(clock, step.at * 1000, step.see)
        : memberPromoted(clock, step.at * 1000);
  }
  return clock;
}

describe("member durations (terminate or launch -> new member promoted)", () => {
  it.each<[string, Step[], number[]]>([
    [
      "launch first: each clock starts at the launch, or at the old one's termination after a promotion",
      [
        { at: 0, see: [i("a"), i("b")] },
        { at: 10, see: [i("a"), i("b"), i("n1", "Pending:Wait")] },
        { at: 40, promoted: true },
        { at: 45, see: [i("a", "Terminating:Wait"), i("b"), i("n1")] },
        { at: 50, see: [i("b"), i("n1"), i("n2", "Pending")] },
        { at: 95, promoted: true },
        // The last old member leaves after the last promotion: in no member's duration.
        { at: 100, see: [i("b", "Terminating"), i("n1"), i("n2")] },
      ],
      [30, 50],
    ],
    [
      "terminate first: the termination starts the clock, the launch that follows belongs to it",
      [
        { at: 0, see: [i("a"), i("b"), i("c")] },
        { at: 5, see: [i("a", "Terminating:Wait"), i("b"), i("c")] },
        { at: 12, see: [i("b"), i("c"), i("n1", "Pending:Wait")] },
        { at: 65, promoted: true },
        { at: 70, see: [i("b", "Terminating:Wait"), i("c"), i("n1")] },
        { at: 75, see: [i("c"), i("n1"), i("n2", "Pending:Wait")] },
        { at: 170, promoted: true },
      ],
      [60, 100],
    ],
    [
      "an old instance gone between two observations counts as leaving",
      [
        { at: 0, see: [i("a"), i("b")] },
        { at: 20, see: [i("b")] },
        { at: 50, see: [i("b"), i("n1", "InService")] },
        { at: 80, promoted: true },
      ],
      [60],
    ],
    [
      "a promotion with no sign seen first (quorate joined mid-replacement) measures nothing",
      [
        { at: 0, see: [i("a"), i("n1", "Pending:Wait")] },
        { at: 30, promoted: true },
      ],
      [],
    ],
    [
      "nothing changes: no duration",
      [
        { at: 0, see: [i("a"), i("b")] },
        { at: 10, see: [i("a"), i("b")] },
      ],
      [],
    ],
  ])("%s", (_, steps, seconds) => {
    expect(run(steps).memberSeconds).toEqual(seconds);
  });

  it("takes instances not in service at the first observation for new ones, not old members", () => {
    const clock = run([{ at: 0, see: [i("a"), i("n1", "Pending:Wait")] }]);
    expect([...(clock.original ?? [])]).toEqual(["a"]);
  });
});
