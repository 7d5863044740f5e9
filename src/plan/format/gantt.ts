// The expected member replacements as a Mermaid gantt chart, which GitHub draws
// in a pull-request comment (https://mermaid.js.org/syntax/gantt.html). Each
// cluster whose members roll and whose history is measured is a section of bars
// starting at 00:00, one bar per member (or, compact, one per cluster). Clusters
// roll side by side, so every section starts at zero.
import type { ClusterPlan } from "../model.js";

export type GanttDetail = "members" | "clusters";

/** Past this many clusters a bar per member is too many to read: one bar per cluster. */
export const MEMBER_BARS_MAX_CLUSTERS = 20;

/**
 * Mermaid refuses to draw a diagram longer than its maxTextSize (50,000
 * characters by default); the chart is left out rather than shown broken.
 */
export const MERMAID_TEXT_MAX = 50_000;

/** The chart as a fenced ```mermaid block, or undefined when no cluster has a measured estimate. */
export function ganttBlock(
  clusters: readonly ClusterPlan[],
  wanted: GanttDetail,
): string | undefined {
  const measured = clusters.flatMap((c) =>
    c.impact?.expected?.kind === "measured"
      ? [
          {
            cluster: c.cluster,
            members: c.impact.members,
            each: c.impact.expected.perMemberSeconds,
          },
        ]
      : [],
  );
  if (measured.length === 0) return undefined;
  const detail = measured.length > MEMBER_BARS_MAX_CLUSTERS ? "clusters" : wanted;
  const lines = [
    "gantt",
    // The axis reads as time since the rollout started: a local midnight, formatted locally.
    "  dateFormat HH:mm:ss",
    "  axisFormat %H:%M",
    `  title Expected member replacements${detail === "clusters" ? " (one bar per cluster)" : ""}, order chosen by CloudFormation`,
  ];
  if (detail === "clusters") lines.push("  section clusters");
  measured.forEach(({ cluster, members, each }, i) => {
    const name = label(cluster);
    const seconds = Math.max(1, each);
    if (detail === "clusters") {
      lines.push(`  ${name} (${members}) :c${i}, 00:00:00, ${seconds * members}s`);
      return;
    }
    lines.push(`  section ${name}`);
    for (let k = 0; k < members; k++) {
      const start = k === 0 ? "00:00:00" : `after c${i}m${k - 1}`;
      lines.push(`  member ${k + 1} of ${members} :c${i}m${k}, ${start}, ${seconds}s`);
    }
  });
  const text = lines.join("\n");
  if (text.length > MERMAID_TEXT_MAX) return undefined;
  return `\`\`\`mermaid\n${text}\n\`\`\``;
}

/**
 * A name Mermaid reads as plain text: a colon ends a task's name, `#` and `;`
 * start entities, `%%` a comment; cluster names (DNS labels) never hold these,
 * but the chart must not break if one does.
 */
function label(name: string): string {
  return name.replaceAll(/[:#;%\r\n]/g, " ").trim() || "cluster";
}
