// How long each member replacement of a rollout took, measured from one
// observation of the group to the next (docs/plan-json.md#expected says what a
// member's duration measures). Pure: the supervisor feeds it observations and
// promotions; the finished rollout's durations become the group's history tag.
import type { ObservedInstance } from "./observation.js";

/** Instances that have left service, or are leaving it. */
const LEAVING = /^(Terminating|Terminated|Detaching|Detached)/;

export interface MemberClock {
  /** Instances in service at the first observation: the members the rollout replaces. */
  original?: ReadonlySet<string>;
  /** Every instance seen so far: one not among them is a new launch. */
  seen: ReadonlySet<string>;
  /** Original instances seen leaving already (each starts at most one clock). */
  left: ReadonlySet<string>;
  /** When the replacement under way was first seen (ms), if one is. */
  startedAt?: number;
  /** Finished replacements, in seconds, in the order their members were promoted. */
  memberSeconds: readonly number[];
}

export function startClock(): MemberClock {
  return { seen: new Set(), left: new Set(), memberSeconds: [] };
}

/**
 * One observation of the group. The first one says which instances are the
 * old members; after that, a new instance or an old one leaving service is the
 * first sign of a replacement and starts its clock, unless one runs already.
 */
export function observeGroup(
  clock: MemberClock,
  at: number,
  instances: readonly ObservedInstance[],
): MemberClock {
  if (!clock.original) {
    const ids = instances.map((i) => i.instanceId);
    return {
      ...clock,
      original: new Set(
        instances.filter((i) => i.lifecycleState === "InService").map((i) => i.instanceId),
      ),
      seen: new Set(ids),
    };
  }
  const original = clock.original;
  const launched = instances.some((i) => !clock.seen.has(i.instanceId));
  const ids = new Set(instances.map((i) => i.instanceId));
  // An old instance gone from the group between two observations has left too.
  const leaving = [...original].filter(
    (id) =>
      !clock.left.has(id) &&
      (!ids.has(id) ||
        instances.some((i) => i.instanceId === id && LEAVING.test(i.lifecycleState))),
  );
  const sign = launched || leaving.length > 0;
  return {
    ...clock,
    seen: new Set([...clock.seen, ...ids]),
    left: new Set([...clock.left, ...leaving]),
    ...(sign && clock.startedAt === undefined ? { startedAt: at } : {}),
  };
}

/** A new member was promoted to a voter: the replacement under way ends. */
export function memberPromoted(clock: MemberClock, at: number): MemberClock {
  if (clock.startedAt === undefined) return clock;
  const { startedAt: _, ...rest } = clock;
  return {
    ...rest,
    memberSeconds: [...clock.memberSeconds, Math.max(0, Math.round((at - clock.startedAt) / 1000))],
  };
}
