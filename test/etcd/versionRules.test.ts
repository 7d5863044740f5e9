// GIVEN a version a cluster runs (or the base manifest names) and the one the
// manifest wants, WHEN the rules judge the step, THEN this verdict and message.
import { describe, expect, it } from "vitest";
import {
  checkClusterVersion,
  checkLiveVersions,
  checkVersionStep,
  parseEtcdVersion,
} from "../../src/etcd/versionRules.js";

describe("checkVersionStep", () => {
  const allowed: [string, string, string, string][] = [
    ["same version", "3.5.17", "3.5.17", "same"],
    ["patch upgrade", "3.5.17", "3.5.21", "patch-upgrade"],
    ["patch downgrade", "3.5.21", "3.5.17", "patch-downgrade"],
    ["one minor up", "3.4.23", "3.5.17", "minor-upgrade"],
    ["3.5.26 to 3.6", "3.5.26", "3.6.5", "minor-upgrade"],
    ["a later 3.5 to 3.6", "3.5.30", "3.6.0", "minor-upgrade"],
    ["a leading v is read", "v3.5.17", "3.5.17", "same"],
  ];
  it.each(allowed)("%s: %s → %s is allowed (%s)", (_name, from, to, step) => {
    const verdict = checkVersionStep(from, to);
    expect(verdict).toMatchObject({ allowed: true, step });
  });

  it("same version: the message only names it", () => {
    expect(checkVersionStep("3.5.17", "3.5.17").message).toBe("etcd 3.5.17");
  });

  it("patch: a rolling restart, the cluster version stays", () => {
    expect(checkVersionStep("3.5.17", "3.5.21").message).toBe(
      "etcd 3.5.17 → 3.5.21: a patch upgrade, member by member; the cluster version stays 3.5",
    );
    expect(checkVersionStep("3.5.21", "3.5.17").message).toBe(
      "etcd 3.5.21 → 3.5.17: a patch downgrade, member by member; the cluster version stays 3.5",
    );
  });

  it("minor upgrade: says when the cluster version moves, and that there is no way back", () => {
    expect(checkVersionStep("3.5.26", "3.6.5").message).toBe(
      "etcd 3.5.26 → 3.6.5: the cluster version moves to 3.6 when the last member is replaced; no way back after that",
    );
  });

  const refused: [string, string, string, string, string, string][] = [
    [
      "minor skip 3.4 → 3.6",
      "3.4.23",
      "3.6.5",
      "minor-skip",
      "etcd 3.4.23 → 3.6.5 skips 3.5: etcd upgrades one minor version at a time, and a 3.6 member cannot join a cluster whose version is 3.4",
      "step through 3.5 first: set spec.etcd.version to 3.5.26, apply and let the rollout finish, then set it to 3.6.5",
    ],
    [
      "major change",
      "3.5.17",
      "4.0.0",
      "minor-skip",
      "etcd 3.5.17 → 4.0.0 changes the major version: etcd upgrades one minor version at a time",
      "keep spec.etcd.version at 3.x",
    ],
    [
      "downgrade 3.5 → 3.4",
      "3.5.17",
      "3.4.23",
      "downgrade",
      "etcd 3.5.17 → 3.4.23 is a downgrade: etcd before 3.6 cannot downgrade: the cluster version 3.5 never goes back, so members of 3.4 cannot join",
      "keep spec.etcd.version at 3.5.x (a patch change is fine); to go back, restore a snapshot taken before the upgrade into a new cluster",
    ],
    [
      "downgrade 3.6 → 3.5",
      "3.6.5",
      "3.5.26",
      "downgrade",
      "etcd 3.6.5 → 3.5.26 is a downgrade: etcd 3.6 goes back only through its downgrade API (etcdctl downgrade enable 3.5), which quorate does not drive, and members of 3.5 cannot join a 3.6 cluster before it",
      "keep spec.etcd.version at 3.6.x (a patch change is fine); to go back, run etcd's downgrade procedure by hand first",
    ],
    [
      "not a version",
      "3.5.17",
      "latest",
      "unknown-version",
      'etcd 3.5.17 → latest: "latest" is not an etcd version',
      "write MAJOR.MINOR.PATCH, for example 3.5.26",
    ],
  ];
  it.each(refused)("%s: %s → %s is refused (%s)", (_name, from, to, rule, message, hint) => {
    expect(checkVersionStep(from, to)).toEqual({ allowed: false, rule, from, to, message, hint });
  });
});

describe("the 3.5 → 3.6 rule: only from 3.5.26 or later", () => {
  const zombies =
    'etcd\'s maintainers allow the step to 3.6 only from 3.5.26 or later; from 3.5.X, members removed before the upgrade can come back as "zombie" members after it';
  const learners =
    ", and 3.5.X (like every patch from 3.5.1 to 3.5.19) can also turn voting members into learners";
  const cases: [string, boolean][] = [
    ["3.5.0", false],
    ["3.5.1", true],
    ["3.5.17", true],
    ["3.5.19", true],
    ["3.5.20", false],
    ["3.5.25", false],
  ];
  it.each(cases)("from %s: refused, naming 3.5.26 (learner note: %s)", (from, learnerNote) => {
    const verdict = checkVersionStep(from, "3.6.5");
    expect(verdict).toEqual({
      allowed: false,
      rule: "zombie-members",
      from,
      to: "3.6.5",
      message: `etcd ${from} → 3.6.5: ${zombies.replace("3.5.X", from)}${learnerNote ? learners.replace("3.5.X", from) : ""}`,
      hint: "step through 3.5.26 first: set spec.etcd.version to 3.5.26 (a patch upgrade), apply and let the rollout finish, then set it to 3.6.5",
    });
  });

  it("3.5.26 itself and later patches step to 3.6", () => {
    expect(checkVersionStep("3.5.26", "3.6.0").allowed).toBe(true);
    expect(checkVersionStep("3.5.27", "3.6.5").allowed).toBe(true);
  });

  it("the patch step to 3.5.26 that it asks for is itself allowed", () => {
    expect(checkVersionStep("3.5.17", "3.5.26")).toMatchObject({
      allowed: true,
      step: "patch-upgrade",
    });
  });
});

describe("checkLiveVersions", () => {
  const m = (name: string, version?: string) => (version ? { name, version } : { name });

  it("same version on every member: the step rules apply", () => {
    expect(
      checkLiveVersions([m("a", "3.5.17"), m("b", "3.5.17"), m("c", "3.5.17")], "3.5.17"),
    ).toMatchObject({ allowed: true, step: "same", message: "etcd 3.5.17" });
    expect(
      checkLiveVersions([m("a", "3.4.23"), m("b", "3.4.23"), m("c", "3.4.23")], "3.6.5"),
    ).toMatchObject({ allowed: false, rule: "minor-skip" });
  });

  it("a mixed cluster may continue towards the manifest's version", () => {
    const verdict = checkLiveVersions([m("a", "3.4.23"), m("b", "3.5.17"), m("c")], "3.5.17");
    expect(verdict).toEqual({
      allowed: true,
      step: "minor-upgrade",
      from: "3.4.23",
      to: "3.5.17",
      message:
        "the members run different etcd versions, 3.4.23 (a), 3.5.17 (b), as an interrupted rollout leaves them; continuing: etcd 3.4.23 → 3.5.17: the cluster version moves to 3.5 when the last member is replaced; no way back after that",
    });
  });

  it("a mixed cluster may not go back from its newest version", () => {
    expect(
      checkLiveVersions([m("a", "3.4.23"), m("b", "3.5.17"), m("c", "3.5.17")], "3.4.23"),
    ).toEqual({
      allowed: false,
      rule: "mixed-cluster",
      from: "3.5.17",
      to: "3.4.23",
      message:
        "the members run different etcd versions, 3.4.23 (a), 3.5.17 (b, c), as an interrupted rollout leaves them; only continuing towards the newest, 3.5.17, is allowed, not 3.4.23",
      hint: "set spec.etcd.version to 3.5.17 (or a later allowed version) and apply, so that the rollout finishes",
    });
  });

  it("a mixed cluster whose older members would skip a minor version is refused for them", () => {
    const verdict = checkLiveVersions([m("a", "3.4.23"), m("b", "3.5.26")], "3.6.5");
    expect(verdict).toMatchObject({ allowed: false, rule: "minor-skip" });
    expect(verdict?.message).toContain("; for a: etcd 3.4.23 → 3.6.5 skips 3.5");
  });

  it("no member answered: nothing to judge", () => {
    expect(checkLiveVersions([m("a"), m("b")], "3.5.17")).toBeUndefined();
  });
});

describe("checkClusterVersion", () => {
  const members = [
    { name: "a", version: "3.5.17" },
    { name: "b", version: "3.5.17" },
  ];
  it("reached once the cluster version is the manifest's minor version", () => {
    expect(checkClusterVersion("3.5.0", members, "3.5.17")).toEqual({
      reached: true,
      clusterVersion: "3.5.0",
      message: "cluster version 3.5, as the manifest's 3.5.17 wants; members run 3.5.17 (a, b)",
    });
  });
  it("not reached: names the versions the members run", () => {
    const check = checkClusterVersion(
      "3.4.0",
      [...members, { name: "c", version: "3.4.23" }],
      "3.5.17",
    );
    expect(check.reached).toBe(false);
    expect(check.message).toBe(
      "the cluster version is 3.4, not 3.5 as the manifest's 3.5.17 wants; members run 3.4.23 (c), 3.5.17 (a, b); etcd moves it once every member runs 3.5: check the members still on another version",
    );
  });
  it("unknown when no member answered /version", () => {
    expect(checkClusterVersion(undefined, [], "3.5.17").reached).toBe(false);
  });
});

describe("parseEtcdVersion", () => {
  it("reads MAJOR.MINOR.PATCH with an optional v and suffix", () => {
    expect(parseEtcdVersion("v3.6.0-rc.1")).toMatchObject({ major: 3, minor: 6, patch: 0 });
    expect(parseEtcdVersion("3.5")).toBeUndefined();
  });
});
