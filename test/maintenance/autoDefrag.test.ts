// Which member, if any, `quorate run` defragments now: ratios against the
// threshold, the minimum size, the interval, a cluster that is not settled,
// and the leader last.
import { describe, expect, it } from "vitest";
import {
  type AutoDefragFacts,
  type AutoDefragPolicy,
  decideAutoDefrag,
} from "../../src/maintenance/autoDefrag.js";
import type { MemberDb } from "../../src/maintenance/decide.js";

const MiB = 1024n * 1024n;
const HOUR = 3_600_000;
const NOW = 10 * HOUR;

/** A member whose database is `size` MiB with `inUse` MiB of it in use. */
const db = (name: string, size: number, inUse: number, over: Partial<MemberDb> = {}): MemberDb => ({
  id: BigInt(name.charCodeAt(1)),
  name,
  endpoint: `http://${name}:2379`,
  leader: false,
  learner: false,
  dbSize: BigInt(size) * MiB,
  dbSizeInUse: BigInt(inUse) * MiB,
  ...over,
});

const POLICY: AutoDefragPolicy = {
  autoDefrag: true,
  fragmentationThreshold: 0.5,
  minDbSizeBytes: 100 * 1024 * 1024,
  minIntervalMs: HOUR,
};

const facts = (members: MemberDb[], over: Partial<AutoDefragFacts> = {}): AutoDefragFacts => ({
  policy: POLICY,
  members,
  now: NOW,
  ...over,
});

/** The member chosen, or why none was. */
function verdict(f: AutoDefragFacts): string {
  const d = decideAutoDefrag(f);
  return d.defrag ? d.member.name : `none: ${d.why}`;
}

describe("decideAutoDefrag", () => {
  it.each<[string, AutoDefragFacts, string]>([
    [
      "a follower under the threshold",
      facts([db("m1", 200, 60), db("m2", 200, 180, { leader: true }), db("m3", 200, 190)]),
      "m1",
    ],
    [
      "the most fragmented follower first",
      facts([db("m1", 200, 90), db("m2", 200, 20), db("m3", 200, 190, { leader: true })]),
      "m2",
    ],
    [
      "a follower before a more fragmented leader",
      facts([db("m1", 200, 90), db("m2", 200, 10, { leader: true }), db("m3", 200, 190)]),
      "m1",
    ],
    [
      "the leader once no follower needs it",
      facts([db("m1", 200, 190), db("m2", 200, 10, { leader: true }), db("m3", 200, 190)]),
      "m2",
    ],
    [
      "the only member of a one-member cluster (it leads)",
      facts([db("m1", 200, 10, { leader: true })]),
      "m1",
    ],
    [
      "ties by name",
      facts([db("m3", 200, 50), db("m2", 200, 50), db("m1", 200, 190, { leader: true })]),
      "m2",
    ],
    [
      "exactly at the threshold is not under it",
      facts([db("m1", 200, 100), db("m2", 200, 190, { leader: true })]),
      "none: nothing-to-do",
    ],
    [
      "under the minimum size, however fragmented",
      facts([db("m1", 99, 1), db("m2", 99, 1, { leader: true })]),
      "none: nothing-to-do",
    ],
    [
      "at the minimum size exactly",
      facts([db("m1", 100, 1), db("m2", 100, 90, { leader: true })]),
      "m1",
    ],
    [
      "a learner is left alone",
      facts([db("m1", 200, 10, { learner: true }), db("m2", 200, 190, { leader: true })]),
      "none: nothing-to-do",
    ],
    [
      "an empty database counts as fully in use",
      facts([db("m1", 0, 0), db("m2", 0, 0, { leader: true })], {
        policy: { ...POLICY, minDbSizeBytes: 0 },
      }),
      "none: nothing-to-do",
    ],
    [
      "a higher threshold catches a milder fragmentation",
      facts([db("m1", 200, 150), db("m2", 200, 190, { leader: true })], {
        policy: { ...POLICY, fragmentationThreshold: 0.8 },
      }),
      "m1",
    ],
    [
      "off unless spec.maintenance.autoDefrag",
      facts([db("m1", 200, 10)], { policy: { ...POLICY, autoDefrag: false } }),
      "none: disabled",
    ],
    [
      "never during a rollout",
      facts([db("m1", 200, 10)], { unsettled: "a rollout of dev is running" }),
      "none: unsettled",
    ],
    [
      "never while the stack is mid-operation",
      facts([db("m1", 200, 10)], { unsettled: "stack quorate-dev is UPDATE_IN_PROGRESS" }),
      "none: unsettled",
    ],
    [
      "not within minInterval of the last one",
      facts([db("m1", 200, 10)], { lastDefragAt: NOW - HOUR + 1 }),
      "none: interval",
    ],
    ["once minInterval has passed", facts([db("m1", 200, 10)], { lastDefragAt: NOW - HOUR }), "m1"],
    ["no members reached", facts([]), "none: nothing-to-do"],
  ])("%s", (_title, given, expected) => {
    expect(verdict(given)).toBe(expected);
  });

  it("says why it picked the member, in sizes a person reads", () => {
    const d = decideAutoDefrag(facts([db("m1", 200, 50, { leader: true })]));
    expect(d.message).toBe("m1 (leader): 50.0 MiB of 200.0 MiB in use (25%, under 50%)");
  });

  it("does not mutate the members it is given", () => {
    const members = [db("m2", 200, 10), db("m1", 200, 20)];
    const copy = structuredClone(members);
    decideAutoDefrag(facts(members));
    expect(members).toEqual(copy);
  });
});
