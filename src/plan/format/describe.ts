// Words and short forms shared by the text and markdown formatters, so both say the same thing.
import type {
  ClusterPlan,
  LiveMember,
  PlanSummary,
  PropertyDiff,
  ResourceChange,
  RestorePlan,
  Warning,
} from "../model.js";

/** /Properties/LaunchTemplateData/ImageId -> LaunchTemplateData.ImageId; other attributes keep their name. */
export function displayPath(path: string): string {
  const segments = path
    .split("/")
    .slice(1)
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
  if (segments[0] === "Properties" && segments.length > 1) segments.shift();
  return segments.join(".");
}

/** A value on one line, cut to max characters with the full length noted. */
export function displayValue(value: unknown, max = 120): string {
  if (value === undefined) return "(none)";
  const text = JSON.stringify(value) ?? String(value);
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length} chars)`;
}

/** before -> after, or what is known of it. */
export function displayChange(diff: PropertyDiff, max?: number): string {
  if (diff.action === "add") return displayAfter(diff, max);
  if (diff.action === "remove") return displayValue(diff.before, max);
  if (diff.before === undefined && diff.after === undefined && diff.afterKnown) {
    return "changed (CloudFormation shows no values)";
  }
  return `${displayValue(diff.before, max)} -> ${displayAfter(diff, max)}`;
}

export function displayAfter(diff: PropertyDiff, max?: number): string {
  return diff.afterKnown ? displayValue(diff.after, max) : "(known after apply)";
}

/** 3660 -> "1h1m"; 600 -> "10m"; 45 -> "45s". */
export function displayDuration(seconds: number): string {
  if (seconds <= 0) return "0s";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.round(seconds % 60);
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s ? `${s}s` : ""}`;
}

/** rain-like markers: + added, ~ modified in place, ± replaced (or may be), - removed. */
export function marker(change: ResourceChange): "+" | "~" | "±" | "-" {
  if (change.action === "add") return "+";
  if (change.action === "remove") return "-";
  return change.replacement === "never" ? "~" : "±";
}

export function propertyMarker(diff: PropertyDiff): "+" | "~" | "-" {
  return diff.action === "add" ? "+" : diff.action === "remove" ? "-" : "~";
}

/** What happens to the members, in a few words for the summary table. */
export function membersCell(cluster: ClusterPlan): string {
  const impact = cluster.impact;
  if (cluster.status === "delete") {
    return impact?.sizeBefore !== undefined ? `all ${impact.sizeBefore} deleted` : "all deleted";
  }
  if (!impact) return "—";
  if (cluster.status === "create") return `${impact.sizeAfter ?? "?"} new`;
  if (impact.newGroup) return `all ${impact.members} (new group)`;
  if (impact.instancesReplaced) return `${impact.members} of ${impact.members}`;
  const { sizeBefore, sizeAfter } = impact;
  if (sizeBefore !== undefined && sizeAfter !== undefined && sizeBefore !== sizeAfter) {
    return `none (${sizeAfter > sizeBefore ? "+" : "−"}${Math.abs(sizeAfter - sizeBefore)} members)`;
  }
  return "—";
}

/** One line saying what happens to a cluster. */
export function clusterHeadline(cluster: ClusterPlan): string {
  const impact = cluster.impact;
  switch (cluster.status) {
    case "create":
      return `create: ${impact?.sizeAfter ?? "?"} new members (a new etcd cluster)`;
    case "delete":
      return "delete: the stack and every member are deleted";
    case "orphaned":
      return "orphaned: manifest removed, stack left running (prune is off)";
    case "skipped":
      return `skipped: ${cluster.error ?? "suspended"}`;
    case "error":
      return `error: ${cluster.error ?? "unknown error"}`;
    case "no-change":
      return "no changes";
    case "update":
      break;
  }
  const parts = [`update: ${countResources(cluster.changes)}`];
  if (impact?.newGroup)
    parts.push(`REPLACES the group (${impact.members} members, new etcd cluster)`);
  else if (impact?.instancesReplaced)
    parts.push(`${impact.members} of ${impact.members} members roll`);
  else parts.push("no member is replaced");
  const { sizeBefore, sizeAfter } = impact ?? {};
  if (sizeBefore !== undefined && sizeAfter !== undefined && sizeBefore !== sizeAfter) {
    const delta = Math.abs(sizeAfter - sizeBefore);
    const verb = sizeAfter > sizeBefore ? "join" : "leave";
    parts.push(
      `size ${sizeBefore} -> ${sizeAfter} (${delta} member${delta === 1 ? "" : "s"} ${verb})`,
    );
  }
  return parts.join(", ");
}

function countResources(changes: readonly ResourceChange[]): string {
  const n = changes.length;
  return `${n} resource${n === 1 ? "" : "s"} changed`;
}

/** How the members roll, or undefined when none does. */
export function rolloutSentence(cluster: ClusterPlan): string | undefined {
  const i = cluster.impact;
  if (!i || cluster.status !== "update" || !i.instancesReplaced) return undefined;
  if (i.newGroup) {
    return `a new group of ${i.sizeAfter ?? "?"} instances is created, then the old group of ${i.members} is deleted; worst case ${displayDuration(i.worstCaseSeconds)} (creation signal timeout)`;
  }
  const order =
    i.order === "terminate-then-launch" ? "terminate then launch" : "launch then terminate";
  const batches = `${i.batches} batch${i.batches === 1 ? "" : "es"} of ${i.batchSize}`;
  const hook =
    i.hookTimeoutSeconds > 0 ? ` + ${displayDuration(i.hookTimeoutSeconds)} terminating hook` : "";
  const tolerance = i.faultTolerance ? `, ${toleranceWords(i.faultTolerance)}` : "";
  return `${i.members} members replaced in ${batches}, ${order}, at least ${i.minInService} in service${tolerance}; worst case ${displayDuration(i.worstCaseSeconds)} (${i.batches} x (${displayDuration(i.signalTimeoutSeconds)} signal timeout${hook}))`;
}

/** What spec.backup.beforeChange does before the members roll, or undefined when it does nothing. */
export function snapshotSentence(cluster: ClusterPlan): string | undefined {
  const r = cluster.snapshotBeforeChange;
  if (!r) return undefined;
  return `before any member is replaced, the newest good snapshot under s3://${r.bucket}/${r.prefix} is reused if it is at most ${displayDuration(r.maxAgeSeconds)} old, else one is taken; without one nothing is executed (spec.backup.beforeChange)`;
}

/** What a restore (spec.restore) does, in words: which snapshot, and what is lost. */
export function restoreSentence(cluster: ClusterPlan): string | undefined {
  return cluster.restore ? describeRestore(cluster.restore) : undefined;
}

export function describeRestore(r: RestorePlan): string {
  const where = `s3://${r.bucket}/${r.snapshot}`;
  if (!r.applies)
    return `restore ${r.id} is done: the cluster was restored from ${where} (revision ${r.revision ?? "?"}); nothing is restored again while spec.restore.id stays ${r.id}`;
  const taken =
    r.ageSeconds !== undefined
      ? ` (taken ${displayDuration(r.ageSeconds)} ago${r.member ? ` from member ${r.member}` : ""}, at revision ${r.revision})`
      : " (chosen when the restore is applied: the bucket is not read offline)";
  const lost =
    r.revision !== undefined
      ? `every write after revision ${r.revision} is lost`
      : "every write after the snapshot's revision is lost";
  return `THIS IS A RESTORE (${r.id}): a new group's members start a new etcd cluster from snapshot ${where}${taken}, and the old group and its data are deleted; ${lost}; the health gate and spec.backup.beforeChange do not apply`;
}

export function reasonsSentence(cluster: ClusterPlan): string | undefined {
  const reasons = cluster.impact?.reasons ?? [];
  if (reasons.length === 0) return undefined;
  return reasons.map((r) => `${r.logicalId} ${displayPath(r.path)}`).join(", ");
}

/** A few words per warning kind, for the summary table. */
export function warningLabel(warning: Warning): string {
  switch (warning.kind) {
    case "group-replacement":
      return "new etcd cluster";
    case "security-group-replacement":
      return "security group replaced";
    case "fault-tolerance-lowered":
      return "fault tolerance lowered";
    case "even-size":
      return "even size";
    case "stack-deletion":
      return "stack deleted";
    case "orphaned-stack":
      return "stack orphaned";
    case "tls-off":
      return "TLS off";
    case "terminate-first":
      return "terminate first";
    case "egress-blocked":
      return "egress blocked";
  }
}

export function summaryLine(summary: PlanSummary): string {
  const parts = [
    `${summary.toRoll} to roll`,
    `${summary.changed} changed`,
    `${summary.unchanged} unchanged`,
  ];
  if (summary.orphaned) parts.push(`${summary.orphaned} orphaned`);
  if (summary.skipped) parts.push(`${summary.skipped} skipped`);
  if (summary.errors) parts.push(`${summary.errors} failed`);
  return parts.join(", ");
}

/** The expected duration in a few words for the summary table; "—" when nothing rolls. */
export function expectedCell(cluster: ClusterPlan): string {
  const expected = cluster.impact?.expected;
  if (!expected) return "—";
  return expected.kind === "measured" ? `~${displayDuration(expected.expectedSeconds)}` : "unknown";
}

/** What the expected duration is and where it comes from, or undefined when members do not roll. */
export function expectedSentence(cluster: ClusterPlan): string | undefined {
  const expected = cluster.impact?.expected;
  if (!expected) return undefined;
  if (expected.kind === "unknown") {
    return expected.reason === "offline"
      ? "unknown offline (the measured history is on the cluster's group: plan without --offline to read it)"
      : "unknown, no history (no rollout of this cluster has been recorded yet)";
  }
  const rollouts = `${expected.rollouts} recorded rollout${expected.rollouts === 1 ? "" : "s"}`;
  const samples = `${expected.samples} member replacement${expected.samples === 1 ? "" : "s"}`;
  return `${displayDuration(expected.expectedSeconds)} (${displayDuration(expected.perMemberSeconds)} per member: the median of ${samples} over the last ${rollouts})`;
}

/** Who picks the order of a rolling update: said next to the members it applies to. */
export function memberOrderSentence(cluster: ClusterPlan): string | undefined {
  if (!cluster.impact?.expected) return undefined;
  return "CloudFormation picks which instance is replaced next; when the leader's turn comes, quorate first moves leadership to a healthy voter";
}

/** A member's role in a word or two: leader, learner, voter; and unhealthy when it did not answer so. */
export function memberRole(member: LiveMember): string {
  const role = member.leader ? "leader" : member.learner ? "learner" : "voter";
  return member.healthy === false ? `${role}, unhealthy` : role;
}

/** The instance, or a note that none runs the member. */
export function memberInstance(member: LiveMember): string {
  return member.instanceId ?? "(no instance)";
}

/** "tolerates 1 failure at every step", or what terminating first lowers it to. */
function toleranceWords(t: { resting: number; duringRollout: number }): string {
  const n = (k: number) => `${k} failure${k === 1 ? "" : "s"}`;
  return t.duringRollout >= t.resting
    ? `tolerates ${n(t.resting)} at every step`
    : `tolerates ${n(t.duringRollout)} while each member is replaced (${t.resting} at rest)`;
}
