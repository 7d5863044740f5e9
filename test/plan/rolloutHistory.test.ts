import { describe, expect, it } from "vitest";
import {
  appendRollout,
  estimateRollout,
  formatRolloutHistory,
  HISTORY_MAX_ROLLOUTS,
  parseRolloutHistory,
  type RecordedRollout,
  withRollout,
} from "../../src/plan/rolloutHistory.js";

// IAM's tag value pattern, the narrowest of AWS's: the value stays valid wherever it is copied.
const IAM_TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

const rollout = (minute: number, seconds: number[]): RecordedRollout => ({
  finishedAt: `2024-05-06T12:${String(minute).padStart(2, "0")}:00Z`,
  memberSeconds: seconds,
});

describe("the rollout history tag", () => {
  it("round-trips, newest first", () => {
    const history = withRollout(
      withRollout({ rollouts: [] }, rollout(1, [90, 91])),
      rollout(2, [95]),
    );
    const value = formatRolloutHistory(history);
    expect(value).toBe("20240506T1202Z=95 20240506T1201Z=90/91");
    expect(parseRolloutHistory(value)).toEqual(history);
  });

  it("keeps within 256 characters and IAM's characters, dropping the oldest rollouts", () => {
    let history = { rollouts: [] as RecordedRollout[] };
    for (let i = 0; i < 30; i++)
      history = withRollout(history, rollout(i, [3600, 3599, 3598, 3597, 3596, 3595, 3594]));
    const value = formatRolloutHistory(history);
    expect(value.length).toBeLessThanOrEqual(256);
    expect(value).toMatch(IAM_TAG_VALUE);
    const kept = parseRolloutHistory(value).rollouts;
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThanOrEqual(HISTORY_MAX_ROLLOUTS);
    expect(kept[0]?.finishedAt).toBe("2024-05-06T12:29:00Z");
  });

  it("skips words it cannot read instead of failing the plan", () => {
    expect(parseRolloutHistory("junk 20240506T1202Z=95/x 20240506T1203Z=80").rollouts).toEqual([
      rollout(3, [80]),
    ]);
    expect(parseRolloutHistory(undefined).rollouts).toEqual([]);
  });
});

describe("estimateRollout", () => {
  it("is unknown without history", () => {
    expect(estimateRollout({ rollouts: [] }, 3)).toEqual({ kind: "unknown", reason: "no-history" });
  });

  // 90 95 100 105 110 120: the median is 102.5 s, times 3 members.
  it("takes the median member duration of the last five rollouts, times the members", () => {
    const history = {
      rollouts: [
        rollout(6, [100, 110]),
        rollout(5, [90]),
        rollout(4, [95]),
        rollout(3, [105]),
        rollout(2, [120]),
        // sixth: too old to count
        rollout(1, [5000, 5000, 5000]),
      ],
    };
    expect(estimateRollout(history, 3)).toEqual({
      kind: "measured",
      expectedSeconds: 308,
      perMemberSeconds: 103,
      rollouts: 5,
      samples: 6,
    });
  });
});

describe("appending a finished rollout to the group's tag", () => {
  it("puts it in front of what the tag holds, and starts a history on a group without one", () => {
    expect(appendRollout(undefined, rollout(5, [40, 41, 39]))).toBe("20240506T1205Z=40/41/39");
    expect(appendRollout("", rollout(5, [40]))).toBe("20240506T1205Z=40");
    expect(appendRollout("20240501T0840Z=91/99/97", rollout(5, [40, 41]))).toBe(
      "20240506T1205Z=40/41 20240501T0840Z=91/99/97",
    );
  });

  it("drops words a hand edit left unreadable", () => {
    expect(appendRollout("oops 20240501T0840Z=91", rollout(5, [40]))).toBe(
      "20240506T1205Z=40 20240501T0840Z=91",
    );
  });

  it("stays within 256 characters however long the history, dropping the oldest first", () => {
    // Each word of seven four-digit members is 49 characters: five fit, with spaces (249).
    let value = "";
    for (let minute = 0; minute < 12; minute++) {
      value = appendRollout(value, rollout(minute, [3600, 3599, 3598, 3597, 3596, 3595, 3594]));
      expect(value.length).toBeLessThanOrEqual(256);
      expect(value).toMatch(IAM_TAG_VALUE);
      expect(parseRolloutHistory(value).rollouts[0]?.finishedAt).toBe(
        rollout(minute, []).finishedAt,
      );
    }
    const kept = parseRolloutHistory(value).rollouts.map((r) => r.finishedAt);
    expect(kept).toEqual([11, 10, 9, 8, 7].map((m) => rollout(m, []).finishedAt));
  });

  it("keeps the ten newest rollouts when all of them fit", () => {
    let value = "";
    for (let minute = 0; minute < 14; minute++) value = appendRollout(value, rollout(minute, [9]));
    const kept = parseRolloutHistory(value).rollouts;
    expect(kept).toHaveLength(HISTORY_MAX_ROLLOUTS);
    expect(kept[0]?.finishedAt).toBe("2024-05-06T12:13:00Z");
    expect(kept.at(-1)?.finishedAt).toBe("2024-05-06T12:04:00Z");
  });
});
