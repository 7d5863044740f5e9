// etcd's rules for changing the version a cluster runs, as pure functions of
// versions. Used offline (the base manifest's version against the head's, in
// `plan --offline`) and live (the members' own /v3/maintenance/status version
// against the manifest's, before apply executes).
//
// The rules, from etcd's upgrade guides (https://etcd.io/docs/v3.5/upgrades/
// and https://etcd.io/docs/v3.6/upgrades/upgrade_3_6/):
// - one minor version at a time (3.4 -> 3.5 -> 3.6); the cluster version moves
//   only once every member runs the new minor version;
// - no downgrade before 3.6, and in 3.6 only through its downgrade API;
// - a patch change (3.5.17 -> 3.5.21, or back) is a rolling restart;
// - to 3.6 only from 3.5.26 or later: earlier 3.5 patches can bring removed
//   ("zombie") members back after the upgrade, and 3.5.1-3.5.19 can also turn
//   voters into learners (etcd maintainers, December 2025).

export interface EtcdVersion {
  major: number;
  minor: number;
  patch: number;
  /** As written, without a leading "v". */
  text: string;
}

/** "3.5.17" or "v3.5.17" (a pre-release or build suffix is kept in text, ignored in comparisons). */
export function parseEtcdVersion(text: string): EtcdVersion | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)([-+][0-9A-Za-z.-]+)?$/.exec(text.trim());
  if (!match) return undefined;
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3]),
    text: text.trim().replace(/^v/, ""),
  };
}

/** -1, 0 or 1, by major, minor, then patch. */
export function compareVersions(a: EtcdVersion, b: EtcdVersion): number {
  return Math.sign(a.major - b.major || a.minor - b.minor || a.patch - b.patch);
}

/** "3.5" */
export function minorOf(v: Pick<EtcdVersion, "major" | "minor">): string {
  return `${v.major}.${v.minor}`;
}

/** The first 3.5 patch from which etcd's maintainers allow the step to 3.6. */
export const MIN_35_FOR_36 = "3.5.26";
const MIN_35_FOR_36_PATCH = 26;
/** 3.5.1-3.5.19 can also turn voters into learners on the way to 3.6. */
const LEARNER_BUG_LAST_PATCH = 19;

/**
 * - same: nothing to change;
 * - patch-upgrade / patch-downgrade: a rolling restart within one minor version;
 * - minor-upgrade: one minor version up; the cluster version moves when the last member runs it.
 */
export type AllowedStep = "same" | "patch-upgrade" | "patch-downgrade" | "minor-upgrade";

/**
 * - minor-skip: more than one minor version up (or a major change);
 * - downgrade: a lower minor version;
 * - zombie-members: 3.5 -> 3.6 from a patch before 3.5.26;
 * - mixed-cluster: members run different versions and the manifest goes back from the newest;
 * - unknown-version: a version that cannot be read.
 */
export type RefusedStep =
  | "minor-skip"
  | "downgrade"
  | "zombie-members"
  | "mixed-cluster"
  | "unknown-version";

export type VersionVerdict =
  | { allowed: true; step: AllowedStep; from: string; to: string; message: string }
  | {
      allowed: false;
      rule: RefusedStep;
      from: string;
      to: string;
      /** What is wrong and why. */
      message: string;
      /** What to do instead. */
      hint: string;
    };

function refuse(
  rule: RefusedStep,
  from: string,
  to: string,
  message: string,
  hint: string,
): VersionVerdict {
  return { allowed: false, rule, from, to, message, hint };
}

/** The step from one version a member runs (or the base manifest names) to another. */
export function checkVersionStep(fromText: string, toText: string): VersionVerdict {
  const from = parseEtcdVersion(fromText);
  const to = parseEtcdVersion(toText);
  if (!from || !to) {
    const bad = from ? toText : fromText;
    return refuse(
      "unknown-version",
      fromText,
      toText,
      `etcd ${fromText} → ${toText}: ${JSON.stringify(bad)} is not an etcd version`,
      "write MAJOR.MINOR.PATCH, for example 3.5.26",
    );
  }
  const arrow = `etcd ${from.text} → ${to.text}`;
  const order = compareVersions(from, to);
  if (order === 0) {
    return {
      allowed: true,
      step: "same",
      from: from.text,
      to: to.text,
      message: `etcd ${to.text}`,
    };
  }
  if (from.major === to.major && from.minor === to.minor) {
    const up = order < 0;
    return {
      allowed: true,
      step: up ? "patch-upgrade" : "patch-downgrade",
      from: from.text,
      to: to.text,
      message: `${arrow}: a patch ${up ? "upgrade" : "downgrade"}, member by member; the cluster version stays ${minorOf(to)}`,
    };
  }
  if (order > 0) return downgrade(from, to, arrow);
  if (from.major !== to.major || to.minor - from.minor > 1) return minorSkip(from, to, arrow);
  if (from.major === 3 && from.minor === 5 && from.patch < MIN_35_FOR_36_PATCH) {
    const learners =
      from.patch >= 1 && from.patch <= LEARNER_BUG_LAST_PATCH
        ? `, and ${from.text} (like every patch from 3.5.1 to 3.5.19) can also turn voting members into learners`
        : "";
    return refuse(
      "zombie-members",
      from.text,
      to.text,
      `${arrow}: etcd's maintainers allow the step to 3.6 only from ${MIN_35_FOR_36} or later; from ${from.text}, members removed before the upgrade can come back as "zombie" members after it${learners}`,
      `step through ${MIN_35_FOR_36} first: set spec.etcd.version to ${MIN_35_FOR_36} (a patch upgrade), apply and let the rollout finish, then set it to ${to.text}`,
    );
  }
  return {
    allowed: true,
    step: "minor-upgrade",
    from: from.text,
    to: to.text,
    message: `${arrow}: the cluster version moves to ${minorOf(to)} when the last member is replaced; no way back after that`,
  };
}

function downgrade(from: EtcdVersion, to: EtcdVersion, arrow: string): VersionVerdict {
  const fromApi = from.major === 3 && from.minor >= 6;
  const why = fromApi
    ? `etcd ${minorOf(from)} goes back only through its downgrade API (etcdctl downgrade enable ${minorOf(to)}), which quorate does not drive, and members of ${minorOf(to)} cannot join a ${minorOf(from)} cluster before it`
    : `etcd before 3.6 cannot downgrade: the cluster version ${minorOf(from)} never goes back, so members of ${minorOf(to)} cannot join`;
  const hint = fromApi
    ? `keep spec.etcd.version at ${minorOf(from)}.x (a patch change is fine); to go back, run etcd's downgrade procedure by hand first`
    : `keep spec.etcd.version at ${minorOf(from)}.x (a patch change is fine); to go back, restore a snapshot taken before the upgrade into a new cluster`;
  return refuse("downgrade", from.text, to.text, `${arrow} is a downgrade: ${why}`, hint);
}

function minorSkip(from: EtcdVersion, to: EtcdVersion, arrow: string): VersionVerdict {
  if (from.major !== to.major) {
    return refuse(
      "minor-skip",
      from.text,
      to.text,
      `${arrow} changes the major version: etcd upgrades one minor version at a time`,
      `keep spec.etcd.version at ${from.major}.x`,
    );
  }
  const next = { major: from.major, minor: from.minor + 1 };
  // The step into 3.6 must come from 3.5.26 or later, so name that patch.
  const via =
    next.major === 3 && next.minor === 5 && to.minor >= 6 ? MIN_35_FOR_36 : `${minorOf(next)}.x`;
  return refuse(
    "minor-skip",
    from.text,
    to.text,
    `${arrow} skips ${minorOf(next)}: etcd upgrades one minor version at a time, and a ${minorOf(to)} member cannot join a cluster whose version is ${minorOf(from)}`,
    `step through ${minorOf(next)} first: set spec.etcd.version to ${via}, apply and let the rollout finish, then set it to ${to.text}`,
  );
}

/** One member's reported server version (undefined when it did not answer). */
export interface MemberVersion {
  name: string;
  version?: string;
}

/** Distinct versions with the members that run them, lowest version first. */
export function groupVersions(
  members: readonly MemberVersion[],
): { version: string; members: string[] }[] {
  const byVersion = new Map<string, string[]>();
  for (const m of members) {
    if (m.version === undefined || m.version === "") continue;
    const list = byVersion.get(m.version) ?? [];
    list.push(m.name);
    byVersion.set(m.version, list);
  }
  const parsed = (v: string) => parseEtcdVersion(v) ?? { major: 0, minor: 0, patch: 0, text: v };
  return [...byVersion.entries()]
    .map(([version, names]) => ({ version, members: names.sort() }))
    .sort((a, b) => compareVersions(parsed(a.version), parsed(b.version)));
}

/** "3.4.23 (i-1, i-2), 3.5.17 (i-3)" */
export function formatVersionGroups(groups: readonly { version: string; members: string[] }[]) {
  return groups.map((g) => `${g.version} (${g.members.join(", ")})`).join(", ");
}

/**
 * The live rule: what the members run now against the manifest's version.
 * A cluster running one version takes the step rules. A mixed cluster (left
 * by an interrupted rollout) may only continue towards the manifest's version:
 * never below the newest version a member runs, and every member's step to it
 * must be allowed. Members that did not answer are left out. Undefined when
 * no member reported a version.
 */
export function checkLiveVersions(
  members: readonly MemberVersion[],
  target: string,
): VersionVerdict | undefined {
  const groups = groupVersions(members);
  const lowest = groups[0];
  const newest = groups[groups.length - 1];
  if (!lowest || !newest) return undefined;
  if (groups.length === 1) return checkVersionStep(lowest.version, target);
  const mixed = `the members run different etcd versions, ${formatVersionGroups(groups)}, as an interrupted rollout leaves them`;
  const targetVersion = parseEtcdVersion(target);
  const newestVersion = parseEtcdVersion(newest.version);
  if (targetVersion && newestVersion && compareVersions(targetVersion, newestVersion) < 0) {
    return refuse(
      "mixed-cluster",
      newest.version,
      target,
      `${mixed}; only continuing towards the newest, ${newest.version}, is allowed, not ${target}`,
      `set spec.etcd.version to ${newest.version} (or a later allowed version) and apply, so that the rollout finishes`,
    );
  }
  for (const group of groups) {
    const step = checkVersionStep(group.version, target);
    if (!step.allowed) {
      return { ...step, message: `${mixed}; for ${group.members.join(", ")}: ${step.message}` };
    }
  }
  const first = checkVersionStep(lowest.version, target);
  return first.allowed ? { ...first, message: `${mixed}; continuing: ${first.message}` } : first;
}

/**
 * After a rollout: has the cluster version (GET /version etcdcluster) reached
 * the manifest's minor version? etcd moves it once every member runs that
 * minor version, a few seconds after the last one joins.
 */
export type ClusterVersionCheck =
  | { reached: true; clusterVersion: string; message: string }
  | { reached: false; clusterVersion?: string; message: string };

export function checkClusterVersion(
  clusterVersion: string | undefined,
  members: readonly MemberVersion[],
  target: string,
): ClusterVersionCheck {
  const want = parseEtcdVersion(target);
  const have = clusterVersion === undefined ? undefined : parseEtcdVersion(clusterVersion);
  const running = formatVersionGroups(groupVersions(members)) || "no member answered";
  if (!want) return { reached: false, message: `${JSON.stringify(target)} is not an etcd version` };
  if (!have) {
    return {
      reached: false,
      message: `the cluster version is not known yet (no member answered GET /version); members run ${running}`,
    };
  }
  if (have.major === want.major && have.minor === want.minor) {
    return {
      reached: true,
      clusterVersion: have.text,
      message: `cluster version ${minorOf(have)}, as the manifest's ${target} wants; members run ${running}`,
    };
  }
  return {
    reached: false,
    clusterVersion: have.text,
    message: `the cluster version is ${minorOf(have)}, not ${minorOf(want)} as the manifest's ${target} wants; members run ${running}; etcd moves it once every member runs ${minorOf(want)}: check the members still on another version`,
  };
}
