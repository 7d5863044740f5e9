// The plan as one pull-request comment: a hidden marker (so the sticky comment
// finds itself), a summary table listing every cluster, then one folded
// <details> per changed cluster. GitHub refuses comment bodies over 65,536
// characters (Atlantis #55), so a large plan drops whole details blocks, the
// largest first, and says so; it never cuts inside a table or a block.
import { type ClusterPlan, type Plan, summarize } from "../model.js";
import { replacementLabel } from "../replacement.js";
import {
  clusterHeadline,
  displayAfter,
  displayChange,
  displayDuration,
  displayPath,
  displayValue,
  expectedCell,
  expectedSentence,
  marker,
  memberInstance,
  memberOrderSentence,
  memberRole,
  membersCell,
  reasonsSentence,
  restoreSentence,
  rolloutSentence,
  snapshotSentence,
  summaryLine,
  warningLabel,
} from "./describe.js";
import { type GanttDetail, ganttBlock } from "./gantt.js";

/** Hidden marker on the first line; the sticky comment finds its earlier self by it. */
export const PLAN_COMMENT_MARKER = "<!-- quorate-plan -->";

/** GitHub's limit is 65,536; one less leaves room for a trailing newline some clients add. */
export const GITHUB_COMMENT_MAX = 65_535;

const VALUE_MAX = 200;

export interface MarkdownOptions {
  maxLength?: number;
}

export function formatMarkdown(plan: Plan, options: MarkdownOptions = {}): string {
  const maxLength = options.maxLength ?? GITHUB_COMMENT_MAX;
  const listed = plan.clusters.filter((c) => c.status !== "no-change");
  const unchanged = plan.clusters.filter((c) => c.status === "no-change").map((c) => c.cluster);
  const intro = [
    PLAN_COMMENT_MARKER,
    `### quorate plan: ${summaryLine(summarize(plan))}`,
    meta(plan),
  ];
  const details = listed
    .filter((c) => c.status !== "skipped")
    .map((c) => ({
      text: detailsBlock(c),
      dangerous: c.warnings.some((w) => w.severity === "danger"),
    }));

  // Ever smaller heads until one fits: the timeline per member, per cluster, then none.
  const attempts: [boolean, GanttDetail | undefined][] = [
    [false, "members"],
    [false, "clusters"],
    [true, "clusters"],
    [true, undefined],
  ];
  for (const [compact, gantt] of attempts) {
    const head = [
      ...intro,
      summaryTable(listed, compact),
      gantt ? (ganttBlock(listed, gantt) ?? "") : "",
      unchangedLine(unchanged),
    ];
    const body = fitDetails(head.filter(Boolean).join("\n\n"), details, maxLength);
    if (body !== undefined) return body;
  }
  // Even the compact table is too long: list as many rows as fit and say how many are not.
  return truncatedSummary(intro, listed, unchanged, maxLength);
}

function meta(plan: Plan): string {
  const parts: string[] = [];
  if (plan.revision) parts.push(`revision \`${plan.revision}\``);
  parts.push(
    plan.source === "offline"
      ? `offline diff against ${plan.baseRevision ? `\`${plan.baseRevision}\`` : "the base revision"} (no AWS access: drift is not seen)`
      : "from CloudFormation change sets",
  );
  return parts.join(" · ");
}

interface DetailsBlock {
  text: string;
  /** Clusters with a danger warning keep their details longest. */
  dangerous: boolean;
}

/**
 * head plus every details block that fits: the largest blocks of clusters without a danger
 * warning go first, then the others, later clusters before earlier ones on a tie.
 * Undefined when not even the head fits.
 */
function fitDetails(head: string, details: DetailsBlock[], maxLength: number): string | undefined {
  const join = (kept: DetailsBlock[], omitted: number) =>
    `${[head, ...kept.map((d) => d.text), ...(omitted > 0 ? [omittedNote(omitted)] : [])].join("\n\n")}\n`;
  const all = join(details, 0);
  if (all.length <= maxLength) return all;
  const keep = details.map(() => true);
  let length = join([], details.length).length + details.reduce((n, d) => n + d.text.length + 2, 0);
  const dropOrder = details
    .map((d, i) => ({ i, size: d.text.length, dangerous: d.dangerous }))
    .sort((a, b) => Number(a.dangerous) - Number(b.dangerous) || b.size - a.size || b.i - a.i);
  for (const { i, size } of dropOrder) {
    if (length <= maxLength) break;
    keep[i] = false;
    length -= size + 2;
  }
  const body = join(
    details.filter((_, i) => keep[i]),
    keep.filter((k) => !k).length,
  );
  return body.length <= maxLength ? body : undefined;
}

function omittedNote(count: number): string {
  return `> [!NOTE]\n> ${count} cluster${count === 1 ? "'s" : "s'"} details omitted to stay under GitHub's comment size limit: run \`quorate plan\` locally to see them.`;
}

const FULL_HEADER =
  "| Cluster | Stack | Status | Members to roll | Expected | Worst case | Warnings |\n| --- | --- | --- | --- | --- | --- | --- |";
const COMPACT_HEADER = "| Cluster | Status | Roll | Warnings |\n| --- | --- | --- | --- |";

function summaryTable(clusters: readonly ClusterPlan[], compact: boolean): string {
  if (clusters.length === 0) return "No cluster changes.";
  return [compact ? COMPACT_HEADER : FULL_HEADER, ...clusters.map((c) => row(c, compact))].join(
    "\n",
  );
}

function row(cluster: ClusterPlan, compact: boolean): string {
  const warnings =
    cluster.warnings.length === 0
      ? "—"
      : cluster.warnings
          .map((w) => `${w.severity === "danger" ? "⛔" : "⚠️"} ${warningLabel(w)}`)
          .join("<br>");
  const status = cluster.status === "error" ? "**error**" : cluster.status;
  const members =
    cluster.impact?.newGroup && cluster.status === "update"
      ? `**${membersCell(cluster)}**`
      : membersCell(cluster);
  if (compact) return `| ${cell(cluster.cluster)} | ${status} | ${members} | ${warnings} |`;
  const worst = cluster.impact?.instancesReplaced
    ? displayDuration(cluster.impact.worstCaseSeconds)
    : "—";
  return `| ${cell(cluster.cluster)} | \`${code(cluster.stackName)}\` | ${status} | ${members} | ${expectedCell(cluster)} | ${worst} | ${warnings} |`;
}

function unchangedLine(names: readonly string[], budget = Number.POSITIVE_INFINITY): string {
  if (names.length === 0) return "";
  let text = `**No changes (${names.length}):** `;
  for (let i = 0; i < names.length; i++) {
    const item = `${i > 0 ? ", " : ""}\`${code(names[i] ?? "")}\``;
    const rest = ` and ${names.length - i} more`;
    if (text.length + item.length + (i < names.length - 1 ? rest.length : 0) > budget) {
      return `${text}${rest}`;
    }
    text += item;
  }
  return text;
}

function truncatedSummary(
  intro: string[],
  clusters: readonly ClusterPlan[],
  unchanged: readonly string[],
  maxLength: number,
): string {
  const unchangedText = unchangedLine(unchanged, Math.floor(maxLength / 4));
  let length = [...intro, COMPACT_HEADER, unchangedText].join("\n\n").length + 400;
  const rows: string[] = [];
  for (const cluster of clusters) {
    const r = row(cluster, true);
    if (length + r.length + 1 > maxLength) break;
    rows.push(r);
    length += r.length + 1;
  }
  const missing = clusters.length - rows.length;
  const note = `> [!NOTE]\n> ${missing} more changed cluster${missing === 1 ? "" : "s"} not listed, and every cluster's details omitted, to stay under GitHub's comment size limit: run \`quorate plan\` locally to see them.`;
  const blocks = [...intro, [COMPACT_HEADER, ...rows].join("\n"), unchangedText, note];
  return `${blocks.filter(Boolean).join("\n\n")}\n`;
}

function detailsBlock(cluster: ClusterPlan): string {
  const parts = [
    `<details><summary><b>${html(cluster.cluster)}</b> (<code>${html(cluster.stackName)}</code>): ${html(clusterHeadline(cluster))}</summary>`,
  ];
  const restore = restoreSentence(cluster);
  if (restore) parts.push(`**Restore:** ${escapeText(restore)}`);
  const rollout = rolloutSentence(cluster);
  if (rollout) parts.push(`**Rollout:** ${escapeText(rollout)}`);
  const snapshot = snapshotSentence(cluster);
  if (snapshot) parts.push(`**Snapshot:** ${escapeText(snapshot)}`);
  const expected = expectedSentence(cluster);
  if (expected) parts.push(`**Expected:** ${escapeText(expected)}`);
  const order = memberOrderSentence(cluster);
  if (order) parts.push(`**Order:** ${escapeText(order)}`);
  const members = membersTable(cluster);
  if (members) parts.push(members);
  if (cluster.etcdVersion?.allowed)
    parts.push(`**etcd:** ${escapeText(cluster.etcdVersion.message)}`);
  const reasons = reasonsSentence(cluster);
  if (reasons) parts.push(`**Because of:** ${escapeText(reasons)}`);
  for (const w of cluster.warnings) {
    parts.push(
      `> [!${w.severity === "danger" ? "CAUTION" : "WARNING"}]\n> ${escapeText(w.message)}`,
    );
  }
  if (cluster.changes.length > 0) {
    const rows = cluster.changes.map((c) => {
      const replacement =
        c.action === "modify"
          ? replacementLabel(c.replacement)
          : c.action === "add"
            ? "create"
            : "delete";
      const strong = c.replacement === "always" ? `**${replacement}**` : replacement;
      return `| ${marker(c)} | \`${code(c.logicalId)}\` | \`${code(c.type)}\` | ${strong} |`;
    });
    parts.push(["| | Resource | Type | Action |", "| --- | --- | --- | --- |", ...rows].join("\n"));
    const diff = diffLines(cluster);
    if (diff.length > 0) parts.push(fenced("diff", diff.join("\n")));
  }
  parts.push("</details>");
  return parts.join("\n\n");
}

function membersTable(cluster: ClusterPlan): string | undefined {
  const live = cluster.currentMembers;
  if (!live) return undefined;
  if (live.error) return `**Members:** could not be read (${escapeText(live.error)})`;
  const rows = live.members.map((m) => {
    const role = memberRole(m);
    return `| \`${code(memberInstance(m))}\` | \`${code(m.name || "(not started)")}\` | \`${m.id}\` | ${m.leader ? `**${role}**` : role} | ${cell(m.version ?? "")} |`;
  });
  return [
    `**Members now (${live.members.length}):**`,
    "",
    "| Instance | Member | Id | Role | etcd |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

function diffLines(cluster: ClusterPlan): string[] {
  const lines: string[] = [];
  for (const change of cluster.changes) {
    if (change.properties.length === 0) continue;
    const replace =
      change.replacement !== "never" ? ` (${replacementLabel(change.replacement)})` : "";
    lines.push(`@@ ${change.logicalId} ${change.type}${replace} @@`);
    for (const p of change.properties) {
      const path = displayPath(p.path);
      const via = p.causedBy ? `  (via ${p.causedBy})` : "";
      if (p.action === "modify" && p.before === undefined && p.after === undefined) {
        lines.push(`! ${path}: ${displayChange(p)}`);
        continue;
      }
      if (p.action !== "add") lines.push(`- ${path}: ${displayValue(p.before, VALUE_MAX)}`);
      if (p.action !== "remove") lines.push(`+ ${path}: ${displayAfter(p, VALUE_MAX)}${via}`);
    }
  }
  return lines;
}

/** A fenced code block whose fence is longer than any run of backticks inside. */
function fenced(language: string, text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${language}\n${text}\n${fence}`;
}

/** Text inside a table cell: no pipes, no line breaks, no HTML. */
function cell(text: string): string {
  return html(text).replaceAll("|", "\\|").replaceAll(/\r?\n/g, " ");
}

/** Text inside a code span in a table: entities are not decoded there, so only pipes and backticks go. */
function code(text: string): string {
  return text.replaceAll("`", "'").replaceAll("|", "\\|").replaceAll(/\r?\n/g, " ");
}

function html(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Prose from values the user controls: keep it from opening HTML or breaking the quote. */
function escapeText(text: string): string {
  return html(text).replaceAll(/\r?\n/g, " ");
}
