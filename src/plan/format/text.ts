// The plan for a terminal, in the manner of rain: + added, ~ modified, ± replaced,
// - removed; colour only when asked (the CLI asks when stdout is a TTY).
import { type ClusterPlan, type Plan, summarize } from "../model.js";
import { replacementLabel } from "../replacement.js";
import {
  clusterHeadline,
  displayChange,
  displayPath,
  expectedSentence,
  marker,
  memberInstance,
  memberOrderSentence,
  memberRole,
  propertyMarker,
  reasonsSentence,
  restoreSentence,
  rolloutSentence,
  snapshotSentence,
  summaryLine,
} from "./describe.js";

export interface TextOptions {
  color: boolean;
}

const ANSI = {
  red: "\u001b[31m",
  green: "\u001b[32m",
  yellow: "\u001b[33m",
  dim: "\u001b[2m",
  bold: "\u001b[1m",
  reset: "\u001b[0m",
} as const;

type Paint = (style: keyof typeof ANSI, text: string) => string;

export function formatText(plan: Plan, options: TextOptions): string {
  const paint: Paint = options.color
    ? (style, text) => `${ANSI[style]}${text}${ANSI.reset}`
    : (_style, text) => text;
  const lines: string[] = [header(plan)];
  for (const cluster of plan.clusters) lines.push("", ...clusterLines(cluster, paint));
  lines.push("", paint("bold", `Plan: ${summaryLine(summarize(plan))}.`));
  return `${lines.join("\n")}\n`;
}

function header(plan: Plan): string {
  const source =
    plan.source === "offline"
      ? `offline, against ${plan.baseRevision ? `base ${plan.baseRevision}` : "the base revision"}`
      : "from change sets";
  return `quorate plan${plan.revision ? ` at ${plan.revision}` : ""} (${source})`;
}

const MARKER_STYLE = { "+": "green", "~": "yellow", "±": "red", "-": "red" } as const;

function clusterLines(cluster: ClusterPlan, paint: Paint): string[] {
  const sign =
    cluster.status === "create"
      ? "+"
      : cluster.status === "delete"
        ? "-"
        : cluster.status === "update"
          ? cluster.impact?.newGroup
            ? "±"
            : "~"
          : " ";
  const title = `${cluster.cluster}  (stack ${cluster.stackName})  ${clusterHeadline(cluster)}`;
  if (sign === " ") {
    const style = cluster.status === "error" ? "red" : "dim";
    return [paint(style, `  ${title}`), ...warningLines(cluster, paint)];
  }
  const lines = [paint(MARKER_STYLE[sign], `${sign} ${paint("bold", title)}`)];
  for (const change of cluster.changes) {
    const m = marker(change);
    const replace =
      change.action === "modify" && change.replacement !== "never"
        ? `  ${replacementLabel(change.replacement)}${change.causes.length ? ` (${change.causes.map(displayPath).join(", ")})` : ""}`
        : "";
    lines.push(paint(MARKER_STYLE[m], `    ${m} ${change.logicalId}  ${change.type}${replace}`));
    for (const diff of change.properties) {
      const pm = propertyMarker(diff);
      const values = displayChange(diff);
      const via = diff.causedBy ? `  (via ${diff.causedBy})` : "";
      lines.push(
        `        ${paint(MARKER_STYLE[pm], pm)} ${displayPath(diff.path)}: ${values}${via}`,
      );
    }
  }
  const restore = restoreSentence(cluster);
  if (restore) lines.push(`    restore: ${restore}`);
  const rollout = rolloutSentence(cluster);
  if (rollout) lines.push(`    rollout: ${rollout}`);
  const snapshot = snapshotSentence(cluster);
  if (snapshot) lines.push(`    snapshot: ${snapshot}`);
  const expected = expectedSentence(cluster);
  if (expected) lines.push(`    expected: ${expected}`);
  const order = memberOrderSentence(cluster);
  if (order) lines.push(`    order: ${order}`);
  lines.push(...memberLines(cluster));
  if (cluster.etcdVersion?.allowed) lines.push(`    etcd: ${cluster.etcdVersion.message}`);
  const reasons = reasonsSentence(cluster);
  if (reasons) lines.push(`    because: ${reasons}`);
  lines.push(...warningLines(cluster, paint));
  return lines;
}

/** The current members, one per line in aligned columns: instance, member name, id, role. */
function memberLines(cluster: ClusterPlan): string[] {
  const live = cluster.currentMembers;
  if (!live) return [];
  if (live.error) return [`    members: could not be read (${live.error})`];
  const rows = live.members.map((m) => [
    memberInstance(m),
    m.name || "(not started)",
    m.id,
    memberRole(m),
    m.version ?? "",
  ]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return [
    `    members (${live.members.length} now):`,
    ...rows.map(
      (r) =>
        `      ${r
          .map((v, i) => (i < 4 ? v.padEnd(widths[i] ?? 0) : v))
          .join("  ")
          .trimEnd()}`,
    ),
  ];
}

function warningLines(cluster: ClusterPlan, paint: Paint): string[] {
  return cluster.warnings.map((warning) =>
    paint(
      warning.severity === "danger" ? "red" : "yellow",
      `    ! ${warning.severity}: ${warning.message}`,
    ),
  );
}
