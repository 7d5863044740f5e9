// What `quorate status` shows: the daemon's own statuses when one answers,
// else statuses rebuilt from the live stacks and the manifests, in the same
// ClusterStatus shape and with the same conditions the reconciler would set
// (the stack tags are the record of what was applied:
// docs/architecture.md#where-state-lives).
// rebuildStatuses and the formatters are pure; readLiveStatuses is the IO edge.
import type { AwsClientPool } from "../aws/clients.js";
import type { LiveStack } from "../aws/stacks.js";
import { describeError } from "../errors.js";
import type { LoadedManifests } from "../manifest/load.js";
import type { ManifestError } from "../manifest/manifestError.js";
import type { AmiFeed } from "../render/ami.js";
import { STACK_TAG } from "../render/contract.js";
import { renderStack } from "../render/template.js";
import { conditionOf, REASON, setCondition } from "./conditions.js";
import { type DesiredCluster, desiredClusters, unreadManifest } from "./decide.js";
import { describeLocation, listingLocations, locationKey } from "./locations.js";
import { DEFAULT_OWNER } from "./ownership.js";
import { mapBounded } from "./planRepo.js";
import { planWork, type RegionStack, unhandled, type WorkItem } from "./planWork.js";
import type { PassSummary, SourceStatus } from "./reconciler.js";
import type { DaemonStatusBody } from "./server.js";
import { listLocations } from "./stackListing.js";
import {
  type ClusterStatus,
  initialStatus,
  nextStatus,
  type ReconcileOutcome,
  stackFacts,
} from "./status.js";

export type StatusOrigin =
  | { kind: "daemon"; url: string }
  /** `daemon`: the URL that did not answer, when one was asked. */
  | { kind: "live"; path: string; regions: string[]; daemon?: string };

export interface StatusReport {
  from: StatusOrigin;
  /** The git revision the statuses were rebuilt against (live only). */
  revision?: string;
  /** Daemon only. */
  source?: SourceStatus;
  lastPass?: PassSummary | null;
  busy?: string[];
  clusters: ClusterStatus[];
  /** Regions whose stacks could not be listed, with why (live only). */
  unreachable?: Record<string, string>;
}

export type { RegionStack } from "./planWork.js";

export interface RebuildInput {
  /** The git revision of the manifests, when known. */
  revision?: string;
  desired: readonly DesiredCluster[];
  /** Every stack listed, in every region read. */
  stacks: readonly RegionStack[];
  /** locationKey (the region, for the ambient account) -> why its stacks could not be listed. */
  unreachable: Readonly<Record<string, string>>;
  /** locationKey -> why its role could not be assumed: its clusters are reported Stalled. */
  refused?: Readonly<Record<string, string>>;
  now: Date;
  /** The owner whose stacks these statuses are (default "default"); others' stacks are left out. */
  owner?: string;
  /** A manifest error naming no cluster: while it stands, no stack is reported orphaned. */
  unread?: ManifestError;
}

/**
 * Statuses as the reconciler would write them, from manifests and live stacks
 * alone: the same planWork as the reconciler's pass, each action reported
 * instead of acted on. Pure.
 */
export function rebuildStatuses(input: RebuildInput): ClusterStatus[] {
  const work = planWork({
    desired: input.desired,
    stacks: input.stacks,
    unreachable: new Map(Object.entries(input.unreachable)),
    ...(input.refused ? { refused: new Map(Object.entries(input.refused)) } : {}),
    owner: input.owner ?? DEFAULT_OWNER,
    ...(input.unread ? { unread: input.unread } : {}),
  });
  return work.map((item) => {
    const status = finish(
      nextStatus(initialStatus(item.cluster), reported(item), context(input, item.stack)),
      input.now,
    );
    if (item.region) status.region = item.region;
    if (item.spec) {
      status.stackName = item.spec.stackName;
      status.source = `${item.spec.source.file}:${item.spec.source.line}`;
    }
    return status;
  });
}

/** What the reconciler would do, said as a status; nothing is done. Pure. */
function reported(item: WorkItem): ReconcileOutcome {
  const { action, stack, spec } = item;
  const short = (sha: string | undefined) => (sha ? sha.slice(0, 12) : "none");
  switch (action.kind) {
    case "unreachable":
      return { kind: "transient", message: action.message };
    case "not-ours":
      return { kind: "stalled", reason: REASON.StackNeedsOperator, message: action.message };
    case "being-deleted":
      return { kind: "deleting", message: action.message };
    case "unsupervisable":
      return { kind: "progressing", reason: REASON.RolloutInProgress, message: action.message };
    case "none":
      return {
        kind: "ready",
        message: stack
          ? `in sync: stack ${stack.status}, template hash ${short(item.templateSha256)} matches`
          : action.reason,
      };
    case "suspended":
      return { kind: "suspended" };
    case "stall":
      return { kind: "stalled", reason: action.reason, message: action.message };
    case "orphan":
      return { kind: "orphaned", message: action.message };
    case "delete":
      return {
        kind: "deleting",
        message: `the manifest was deleted with prune: true; the next reconcile deletes stack ${stack?.stackName}`,
      };
    case "supervise":
      return {
        kind: "progressing",
        reason: REASON.RolloutInProgress,
        message: `${action.reason}: a rollout is under way`,
      };
    case "apply":
      return {
        kind: "progressing",
        reason: REASON.OutOfSync,
        message: stack
          ? `out of sync: stack ${stack.stackName} has template hash ${short(stack.tags[STACK_TAG.templateSha256])}, the manifest renders ${short(item.templateSha256)}; the next reconcile (quorate run) or quorate apply updates it`
          : `no stack ${spec?.stackName ?? ""} in ${spec?.region ?? "its region"} yet; the next reconcile (quorate run) or quorate apply creates it`,
      };
    default:
      return unhandled(action);
  }
}

function context(input: RebuildInput, stack: LiveStack | undefined) {
  return {
    now: input.now,
    ...(input.revision ? { revision: input.revision } : {}),
    ...(stack ? { stack: stackFacts(stack) } : {}),
  };
}

/** A rebuilt status has no retry memory, was never reconciled, and probed no member. */
function finish(status: ClusterStatus, now: Date): ClusterStatus {
  const out: ClusterStatus = { ...status, failures: 0 };
  delete out.nextAttemptAt;
  delete out.lastReconciledAt;
  out.conditions = setCondition(
    out.conditions,
    {
      type: "HealthGatePassed",
      status: "Unknown",
      reason: REASON.GateUnknown,
      message: "not probed: rebuilt from the live stacks; a running quorate probes the members",
    },
    now,
  );
  const reconciling = conditionOf(out.conditions, "Reconciling");
  if (reconciling?.reason === REASON.TransientError) {
    out.conditions = setCondition(
      out.conditions,
      {
        type: "Reconciling",
        status: "Unknown",
        reason: REASON.TransientError,
        message: "unknown: the stack could not be read",
      },
      now,
    );
  }
  return out;
}

export interface LiveReadOptions {
  aws: AwsClientPool;
  amiFeed: AmiFeed;
  revision?: string;
  /** Regions to look for orphaned stacks in, besides those the manifests name. */
  regions?: readonly string[];
  now?: () => Date;
  /** Whose stacks to report (default "default"). */
  owner?: string;
}

/** Renders every manifest, lists the stacks of every region, and rebuilds the statuses. */
export async function readLiveStatuses(
  loaded: Pick<LoadedManifests, "clusters" | "invalid" | "errors">,
  options: LiveReadOptions,
): Promise<{ clusters: ClusterStatus[]; regions: string[]; unreachable: Record<string, string> }> {
  const rendered = new Map<string, { sha: string } | { error: string }>();
  await mapBounded(loaded.clusters, 8, async (spec) => {
    try {
      const imageId = await options.amiFeed.resolve(spec);
      rendered.set(spec.name, { sha: renderStack(spec, { imageId }).templateSha256 });
    } catch (error) {
      rendered.set(spec.name, { error: describeError(error) });
    }
  });
  const locations = listingLocations({
    clusters: loaded.clusters,
    ...(options.regions ? { regions: options.regions } : {}),
  });
  const regions = [...new Set(locations.map((l) => l.region))].sort();
  const listing = await listLocations(options.aws, locations);
  // Said for people: "eu-west-1", or "eu-west-1 in account 111111111111 (role ...)".
  const said = new Map(locations.map((l) => [locationKey(l), describeLocation(l)]));
  const unreachable = Object.fromEntries(
    [...listing.unreachable, ...listing.refused].map(([key, why]) => [said.get(key) ?? key, why]),
  );
  const unread = unreadManifest(loaded.errors);
  const clusters = rebuildStatuses({
    ...(options.revision ? { revision: options.revision } : {}),
    desired: desiredClusters(loaded, rendered),
    stacks: listing.stacks,
    unreachable: Object.fromEntries(listing.unreachable),
    refused: Object.fromEntries(listing.refused),
    now: options.now?.() ?? new Date(),
    ...(options.owner ? { owner: options.owner } : {}),
    ...(unread ? { unread } : {}),
  });
  return { clusters, regions, unreachable };
}

/** Checks that a daemon's /status body has the shape quorate serves; throws what is wrong. */
export function parseDaemonStatus(value: unknown): DaemonStatusBody {
  const body = value as Partial<DaemonStatusBody> | null;
  if (
    !body ||
    typeof body !== "object" ||
    !Array.isArray(body.clusters) ||
    !Array.isArray(body.busy) ||
    typeof body.source !== "object" ||
    body.source === null
  ) {
    throw new Error("the answer is not a quorate /status body (source, lastPass, clusters, busy)");
  }
  for (const cluster of body.clusters) {
    if (typeof cluster?.cluster !== "string" || !Array.isArray(cluster.conditions))
      throw new Error("a cluster in the /status body has no name or conditions");
  }
  return body as DaemonStatusBody;
}

/** ready: every cluster is Ready; unreadable: some of the status could not be read. Pure. */
export function statusVerdict(report: StatusReport): "ready" | "not-ready" | "unreadable" {
  if (Object.keys(report.unreachable ?? {}).length > 0) return "unreadable";
  const notReady = report.clusters.some(
    (c) => conditionOf(c.conditions, "Ready")?.status !== "True",
  );
  return notReady ? "not-ready" : "ready";
}

const HEADER = ["CLUSTER", "READY", "REASON", "STACK STATUS", "APPLIED REVISION", "GATE"];

/** The status for a terminal: where it came from, a table, and why each unready cluster is not Ready. Pure. */
export function formatStatusText(report: StatusReport): string {
  const lines = [originLine(report)];
  for (const [region, why] of Object.entries(report.unreachable ?? {}))
    lines.push(`cannot list stacks in ${region}: ${why}`);
  if (report.busy && report.busy.length > 0)
    lines.push(`rollouts running: ${report.busy.join(", ")}`);
  if (report.clusters.length === 0) {
    lines.push("no clusters");
    return `${lines.join("\n")}\n`;
  }
  const rows = report.clusters.map((c) => {
    const ready = conditionOf(c.conditions, "Ready");
    return {
      cells: [
        c.cluster,
        ready?.status ?? "-",
        ready?.reason ?? "-",
        c.stackStatus ?? "-",
        c.lastAppliedRevision?.slice(0, 12) ?? "-",
        gateWord(c),
      ],
      note: ready?.status === "True" ? undefined : ready?.message || "no Ready condition yet",
    };
  });
  const widths = HEADER.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r.cells[i]?.length ?? 0)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ");
  lines.push("", line(HEADER));
  for (const row of rows) {
    lines.push(line(row.cells));
    if (row.note) lines.push(`  ${row.note}`);
  }
  const ready = rows.filter((r) => !r.note).length;
  lines.push("", `${rows.length} cluster(s): ${ready} ready, ${rows.length - ready} not ready`);
  return `${lines.join("\n")}\n`;
}

function originLine(report: StatusReport): string {
  const from = report.from;
  if (from.kind === "live") {
    const asked = from.daemon ? ` (no daemon answered at ${from.daemon})` : "";
    const revision = report.revision ? ` at ${report.revision.slice(0, 12)}` : "";
    const regions = from.regions.length > 0 ? from.regions.join(", ") : "none";
    return `rebuilt from live stacks${asked}: manifests in ${from.path}${revision}, regions ${regions}; health gates not probed`;
  }
  const parts = [`from daemon at ${from.url}`];
  const source = report.source;
  if (source) {
    const at = `${source.revision ? ` at ${source.revision.slice(0, 12)}` : ""}${source.owner ? ` (owner ${source.owner})` : ""}`;
    parts.push(
      source.ok
        ? `source ${source.repo}${at}${source.reason ? ` (${source.reason}: ${source.message ?? ""})` : ""}`
        : `source ${source.repo} FAILED (${source.reason ?? "unknown"}: ${source.message ?? ""})${source.revision ? `; reconciling the last good revision ${source.revision.slice(0, 12)}` : ""}`,
    );
  }
  const last = report.lastPass;
  parts.push(
    last
      ? `last pass ${last.startedAt.slice(11, 19)}Z (${(last.durationMs / 1000).toFixed(1)}s)`
      : "first pass in progress",
  );
  return parts.join("; ");
}

function gateWord(status: ClusterStatus): string {
  const gate = conditionOf(status.conditions, "HealthGatePassed");
  if (gate?.status === "True") return "passed";
  if (gate?.status === "False") return "failed";
  return gate ? "unknown" : "-";
}
