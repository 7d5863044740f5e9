// A rollout as HTML: one row per member with its steps in order (learner
// added, promoted, healthy; removed; replaced), and the cluster's own steps
// (plan, gate, stack status, holds) under it. Pure.
import type { RolloutEventType } from "../reconcile/rollout/events.js";
import { attr, text, time } from "./html.js";
import type { RolloutTimeline, TimelineStep } from "./timeline.js";

const LABEL: Partial<Record<RolloutEventType, string>> = {
  "learner-added": "learner added",
  "member-promoted": "promoted",
  "member-healthy": "healthy voter",
  "member-removed": "removed",
  "dead-member-removed": "dead member removed",
  "instance-replaced": "replaced",
  "hook-released": "hook released",
  "hook-held": "hook held",
  "peers-published": "peers published",
  "leadership-moved": "leadership moved",
  "stack-status": "stack",
  "fault-tolerance": "fault tolerance",
  "update-cancelled": "update cancelled",
  "etcd-version": "etcd version",
  "member-defragmented": "defragmented",
  "alarm-disarmed": "NOSPACE disarmed",
  "history-recorded": "history recorded",
  "history-failed": "history not recorded",
};

/** Steps that mean trouble, for the eye: shown in the warning colour. */
const WARN = new Set<RolloutEventType>(["held", "error", "update-cancelled", "history-failed"]);

export function renderTimeline(timeline: RolloutTimeline, running: boolean): string {
  const ended = timeline.ended;
  const state = running
    ? `<span class="badge progress">running</span>`
    : ended
      ? `<span class="badge ${ended.outcome === "applied" || ended.outcome === "ready" ? "ok" : "bad"}">${text(ended.outcome)}</span>`
      : `<span class="badge unknown">not running</span>`;
  const head = `<h3>Rollout ${state} <small>started ${time(timeline.startedAt)}${ended ? `, ended ${time(ended.at)}` : ""}</small></h3>
<p class="why">${text(timeline.reason)}</p>${ended ? `\n<p class="why">${text(ended.message)}</p>` : ""}`;
  const rows = timeline.members.map(
    (m) =>
      `<tr><th scope="row"><code>${text(m.key)}</code>${m.memberId && m.memberId !== m.key ? `<br><small>${text(m.memberId)}</small>` : ""}</th><td>${steps(m.steps)}</td></tr>`,
  );
  const members =
    rows.length > 0
      ? `<div class="scroll"><table class="timeline"><thead><tr><th>member</th><th>steps</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table></div>`
      : `<p class="none">no member has changed yet</p>`;
  const cluster =
    timeline.steps.length > 0
      ? `<details class="cluster-steps"${attr("open", running ? "" : undefined)}><summary>cluster steps (${timeline.steps.length})</summary>
<ol class="log">
${timeline.steps.map((s) => `<li${attr("class", stepClass(s))}>${time(s.at, true)} ${text(label(s.type))}: ${text(s.message)}${repeated(s)}</li>`).join("\n")}
</ol></details>`
      : "";
  return `<div class="rollout"${attr("data-running", running ? "true" : "false")}>
${head}
${members}
${cluster}
</div>`;
}

function steps(list: readonly TimelineStep[]): string {
  return `<ol class="steps">${list
    .map(
      (s) =>
        `<li${attr("class", stepClass(s))}${attr("title", s.message)}>${time(s.at, true)} ${text(label(s.type))}${repeated(s)}<span class="msg">${text(s.message)}</span></li>`,
    )
    .join("")}</ol>`;
}

function stepClass(step: TimelineStep): string {
  return `step${WARN.has(step.type) ? " warn" : ""}`;
}

function label(type: RolloutEventType): string {
  return LABEL[type] ?? type.replace(/-/g, " ");
}

function repeated(step: TimelineStep): string {
  return step.repeats ? ` <small>×${step.repeats}, last ${time(step.lastAt, true)}</small>` : "";
}
