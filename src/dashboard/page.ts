// The dashboard at GET /: every cluster's conditions, revisions and members,
// its current or last rollout, and the last passes. Server-rendered and
// whole without JavaScript; the script only swaps in the live fragment
// (renderLive) that /events sends. Pure: data in, a string out.
import { conditionOf } from "../reconcile/conditions.js";
import type { MemberView } from "../reconcile/memberView.js";
import type { SourceStatus } from "../reconcile/reconciler.js";
import type { ClusterStatus } from "../reconcile/status.js";
import { DASHBOARD_CSS_PATH, DASHBOARD_JS_PATH, EVENTS_PATH, FAVICON_PATH } from "./assets.js";
import { attr, bytes, revision, text, time } from "./html.js";
import type { PassRecord } from "./passHistory.js";
import type { RolloutTimeline } from "./timeline.js";
import { renderTimeline } from "./timelineHtml.js";

export interface DashboardView {
  source: SourceStatus;
  clusters: ClusterStatus[];
  busy: string[];
  timelines: RolloutTimeline[];
  passes: PassRecord[];
}

export function renderDashboard(view: DashboardView): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>quorate</title>
<link rel="stylesheet"${attr("href", DASHBOARD_CSS_PATH)}>
<link rel="icon" type="image/svg+xml"${attr("href", FAVICON_PATH)}>
<script defer${attr("src", DASHBOARD_JS_PATH)}></script>
</head>
<body>
<header><h1>quorate</h1><span id="connection" class="stale">static page</span></header>
<noscript><p class="note">JavaScript is off: this page shows the state when it was loaded; reload it for newer state.</p></noscript>
<main id="live"${attr("data-events", EVENTS_PATH)}>
${renderLive(view)}
</main>
</body>
</html>
`;
}

/** Everything that changes: what /events sends when it differs from what it sent last. */
export function renderLive(view: DashboardView): string {
  const clusters =
    view.clusters.length > 0
      ? view.clusters.map((c) => cluster(c, view)).join("\n")
      : `<p class="none">no clusters yet: the first pass has not finished, or the manifests name none</p>`;
  return `${source(view)}
${clusters}
${passes(view.passes)}`;
}

function source(view: DashboardView): string {
  const s = view.source;
  const state = s.ok
    ? `<span class="badge ok">synced</span>`
    : `<span class="badge bad">not synced</span>`;
  const why =
    s.reason || s.message ? `<p class="why">${text(s.reason)}: ${text(s.message)}</p>` : "";
  const warnings = (s.warnings ?? []).map((w) => `<p class="why warn">${text(w)}</p>`).join("");
  const busy =
    view.busy.length > 0 ? `<p>running now: ${view.busy.map((b) => text(b)).join(", ")}</p>` : "";
  return `<section class="source"><h2>Source ${state}</h2>
<p><code>${text(s.repo)}</code> at ${revision(s.revision)}${s.subject ? ` <q>${text(s.subject)}</q>` : ""}${s.owner ? `, owner <code>${text(s.owner)}</code>` : ""}</p>
${why}${warnings}${busy}</section>`;
}

function cluster(status: ClusterStatus, view: DashboardView): string {
  const ready = conditionOf(status.conditions, "Ready");
  const badge =
    ready?.status === "True"
      ? `<span class="badge ok">Ready</span>`
      : `<span class="badge ${ready ? "bad" : "unknown"}">${text(ready?.reason ?? "not reconciled yet")}</span>`;
  const timeline = view.timelines.find((t) => t.cluster === status.cluster);
  const where = [status.stackName, status.region, status.source].filter(Boolean).join(" · ");
  return `<section class="cluster"${attr("data-cluster", status.cluster)}>
<h2>${text(status.cluster)} ${badge} <small>${text(where)}</small></h2>
${facts(status)}
${conditions(status)}
${members(status)}
${timeline ? renderTimeline(timeline, view.busy.includes(status.cluster)) : `<p class="none">no rollout since quorate started</p>`}
</section>`;
}

function facts(s: ClusterStatus): string {
  const rows: [string, string][] = [
    ["observed revision", revision(s.observedRevision)],
    ["last applied", revision(s.lastAppliedRevision)],
    ["last attempted", revision(s.lastAttemptedRevision)],
    ["stack", text(s.stackStatus ?? "-")],
    ["template", revision(s.templateSha256)],
    ["gate", text(s.gate ?? "-")],
  ];
  if (s.faultTolerance)
    rows.push([
      "fault tolerance",
      text(`tolerates ${s.faultTolerance.tolerates} (at rest ${s.faultTolerance.resting})`),
    ]);
  if (s.etcdClusterVersion) rows.push(["cluster version", text(s.etcdClusterVersion.message)]);
  if (s.failures > 0)
    rows.push([
      "failures",
      `${text(s.failures)}${s.nextAttemptAt ? `, next attempt ${time(s.nextAttemptAt)}` : ""}`,
    ]);
  if (s.lastReconciledAt) rows.push(["reconciled", time(s.lastReconciledAt)]);
  return `<dl class="facts">${rows.map(([k, v]) => `<dt>${text(k)}</dt><dd>${v}</dd>`).join("")}</dl>`;
}

function conditions(s: ClusterStatus): string {
  if (s.conditions.length === 0) return "";
  const rows = s.conditions.map(
    (c) =>
      `<tr><th scope="row">${text(c.type)}</th><td><span${attr("class", `badge ${conditionClass(c.type, c.status)}`)}>${text(c.status)}</span></td><td>${text(c.reason)}</td><td class="msg">${text(c.message)}</td><td>${time(c.lastTransitionTime)}</td></tr>`,
  );
  return `<div class="scroll"><table class="conditions"><thead><tr><th>condition</th><th>status</th><th>reason</th><th>message</th><th>since</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table></div>`;
}

/** True is good for most conditions, bad for the ones that name a problem. */
function conditionClass(type: string, status: string): string {
  if (status === "Unknown") return "unknown";
  const good = type === "Stalled" || type === "FaultToleranceReduced" ? "False" : "True";
  if (type === "Reconciling") return status === "True" ? "progress" : "ok";
  return status === good ? "ok" : "bad";
}

function members(s: ClusterStatus): string {
  if (!s.members) return `<p class="none">members not probed yet</p>`;
  const rows = s.members.members.map(member);
  return `<div class="scroll"><table class="members"><caption>members at ${time(s.members.at)}</caption>
<thead><tr><th>member</th><th>id</th><th>health</th><th>role</th><th>version</th><th>db size</th><th>in use</th><th>applied index</th><th>endpoint</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table></div>`;
}

function member(m: MemberView): string {
  const role = m.leader ? "leader" : m.learner ? "learner" : "follower";
  const health = `<span${attr("class", `badge ${m.health === "healthy" ? "ok" : "bad"}`)}${attr("title", m.why)}>${text(m.health)}</span>`;
  return `<tr><th scope="row"><code>${text(m.name || "(unstarted)")}</code></th><td><code>${text(m.id)}</code></td><td>${health}</td><td${attr("class", `role ${role}`)}>${text(role)}</td><td>${text(m.version ?? "-")}</td><td>${bytes(m.dbSize)}</td><td>${bytes(m.dbSizeInUse)}</td><td>${text(m.appliedIndex ?? "-")}</td><td><code>${text(m.endpoint ?? "-")}</code></td></tr>`;
}

function passes(list: readonly PassRecord[]): string {
  if (list.length === 0)
    return `<section class="passes"><h2>Passes</h2><p class="none">no pass has finished yet</p></section>`;
  const rows = list.map((p) => {
    const took = `${(p.durationMs / 1000).toFixed(1)} s`;
    if (!p.ok)
      return `<tr class="failed"><td>${time(p.startedAt)}</td><td>${took}</td><td>-</td><td><span class="badge bad">failed</span> ${text(p.error)}</td></tr>`;
    const results =
      p.results.length > 0
        ? p.results.map((r) => `${text(r.cluster)} <b>${text(r.result)}</b>`).join(", ")
        : "no clusters";
    const source = p.sourceOk ? "" : ` <span class="badge bad">source not synced</span>`;
    return `<tr><td>${time(p.startedAt)}</td><td>${took}</td><td>${revision(p.revision)}</td><td>${results}${source}</td></tr>`;
  });
  return `<section class="passes"><h2>Last passes</h2><div class="scroll"><table>
<thead><tr><th>started</th><th>took</th><th>revision</th><th>outcome</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table></div></section>`;
}
