// The measured history of a cluster's rollouts, kept in one tag on the
// cluster's Auto Scaling group (GROUP_TAG.rolloutHistory) so that any quorate
// (a fresh process, a CI job running `quorate plan`) reads it with the
// DescribeAutoScalingGroups call a live plan makes anyway. Pure: parse, append,
// format, estimate. What a member's duration measures is in
// docs/plan-json.md#expected.
//
// The tag value holds the newest rollouts first, one per word:
//   20240506T1213Z=95/102/98 20240501T0840Z=91/99/97
// finished-at (UTC, to the minute) = each replaced member's seconds. Only
// letters, digits, space and _ . : / = + - @ appear: what the tags of every
// AWS service accept (IAM's are the narrowest: no comma), so the value stays
// valid wherever it is copied.
import type { RolloutEstimate } from "./model.js";

/** Tag values hold at most 256 characters (CloudFormation, EC2 and IAM alike). */
const TAG_VALUE_MAX = 256;
/** Rollouts kept: enough for a median that one odd rollout does not move. */
export const HISTORY_MAX_ROLLOUTS = 10;
/** Rollouts the expected duration is taken from: recent ones say most about the next. */
export const ESTIMATE_ROLLOUTS = 5;

export interface RecordedRollout {
  /** ISO 8601, to the minute. */
  finishedAt: string;
  /** Seconds per replaced member, in the order they were promoted. */
  memberSeconds: number[];
}

/** Newest first. */
export interface RolloutHistory {
  rollouts: RecordedRollout[];
}

const ENTRY = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z=(\d+(?:\/\d+)*)$/;

/** Reads the tag; words it cannot read are skipped (a hand edit must not break a plan). */
export function parseRolloutHistory(value: string | undefined): RolloutHistory {
  const rollouts: RecordedRollout[] = [];
  for (const word of (value ?? "").split(/\s+/)) {
    const m = ENTRY.exec(word);
    if (!m) continue;
    const [, y, mo, d, h, mi, seconds] = m;
    const finishedAt = `${y}-${mo}-${d}T${h}:${mi}:00Z`;
    if (Number.isNaN(Date.parse(finishedAt))) continue;
    const memberSeconds = (seconds ?? "").split("/").map(Number);
    if (memberSeconds.some((s) => !Number.isSafeInteger(s))) continue;
    rollouts.push({ finishedAt, memberSeconds });
  }
  return { rollouts };
}

/** The tag value: as many of the newest rollouts as fit in 256 characters. */
export function formatRolloutHistory(history: RolloutHistory): string {
  let value = "";
  for (const rollout of history.rollouts.slice(0, HISTORY_MAX_ROLLOUTS)) {
    const word = `${compactTime(rollout.finishedAt)}=${rollout.memberSeconds.map((s) => Math.max(0, Math.round(s))).join("/")}`;
    const next = value ? `${value} ${word}` : word;
    if (next.length > TAG_VALUE_MAX) break;
    value = next;
  }
  return value;
}

/** The history with a newly finished rollout in front. */
export function withRollout(history: RolloutHistory, rollout: RecordedRollout): RolloutHistory {
  return { rollouts: [rollout, ...history.rollouts].slice(0, HISTORY_MAX_ROLLOUTS) };
}

/**
 * The tag value with a newly finished rollout in front of what `value` holds:
 * what is written after a rollout. Older rollouts that no longer fit in 256
 * characters are dropped, oldest first; words a hand edit left unreadable too.
 */
export function appendRollout(value: string | undefined, rollout: RecordedRollout): string {
  return formatRolloutHistory(withRollout(parseRolloutHistory(value), rollout));
}

function compactTime(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}T${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}Z`;
}

/**
 * The expected duration of replacing `members` members: the median member
 * duration of the last few recorded rollouts, times the members (quorate makes
 * one membership change at a time, so members are replaced one after another).
 */
export function estimateRollout(history: RolloutHistory, members: number): RolloutEstimate {
  const recent = history.rollouts.slice(0, ESTIMATE_ROLLOUTS);
  const samples = recent.flatMap((r) => r.memberSeconds);
  if (samples.length === 0) return { kind: "unknown", reason: "no-history" };
  const perMember = median(samples);
  return {
    kind: "measured",
    expectedSeconds: Math.round(perMember * members),
    perMemberSeconds: Math.round(perMember),
    rollouts: recent.length,
    samples: samples.length,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}
