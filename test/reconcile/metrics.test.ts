// The daemon's Prometheus metrics, scraped as text from their own registry.
import { describe, expect, it } from "vitest";
import { REASON } from "../../src/reconcile/conditions.js";
import { createMetrics, passResult } from "../../src/reconcile/metrics.js";
import type { PassSummary, SourceStatus } from "../../src/reconcile/reconciler.js";
import type { RolloutEvent } from "../../src/reconcile/rollout/events.js";
import { type ClusterStatus, initialStatus, nextStatus } from "../../src/reconcile/status.js";

const NOW = new Date("2025-03-01T12:00:00Z");
const SOURCE: SourceStatus = { repo: "acme/infra", ok: true, revision: "a".repeat(40) };

function ready(cluster: string, revision: string): ClusterStatus {
  return nextStatus(
    initialStatus(cluster),
    { kind: "ready", message: "in sync" },
    {
      now: NOW,
      revision,
      stack: {
        stackName: `quorate-${cluster}`,
        status: "UPDATE_COMPLETE",
        lastAppliedRevision: revision,
      },
    },
  );
}

function stalled(cluster: string): ClusterStatus {
  return nextStatus(
    initialStatus(cluster),
    { kind: "stalled", reason: REASON.StackNeedsOperator, message: "UPDATE_ROLLBACK_FAILED" },
    { now: NOW },
  );
}

function pass(clusters: PassSummary["clusters"], durationMs = 1500): PassSummary {
  return { source: SOURCE, startedAt: NOW.toISOString(), durationMs, clusters };
}

/** `name{labels} value` lines of one metric family, in registry order. */
async function series(metrics: ReturnType<typeof createMetrics>, name: string): Promise<string[]> {
  const text = await metrics.registry.metrics();
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe("createMetrics", () => {
  it("GIVEN a pass WHEN scraped THEN the duration histogram, last pass time and results per cluster show", async () => {
    const metrics = createMetrics();
    metrics.observePass(
      pass([
        { cluster: "dev", action: "none", outcome: "ready" },
        { cluster: "prod", action: "apply" },
        { cluster: "stage", action: "backoff" },
      ]),
    );
    metrics.observePass(pass([{ cluster: "dev", action: "none", outcome: "ready" }], 200));
    expect(await series(metrics, "quorate_reconcile_duration_seconds_count")).toEqual([
      "quorate_reconcile_duration_seconds_count 2",
    ]);
    expect(await series(metrics, "quorate_reconcile_duration_seconds_sum")).toEqual([
      "quorate_reconcile_duration_seconds_sum 1.7",
    ]);
    expect(await series(metrics, "quorate_reconcile_duration_seconds_bucket")).toContain(
      'quorate_reconcile_duration_seconds_bucket{le="0.25"} 1',
    );
    expect(await series(metrics, "quorate_reconcile_results_total")).toEqual([
      'quorate_reconcile_results_total{cluster="dev",result="ready"} 2',
      'quorate_reconcile_results_total{cluster="prod",result="apply-started"} 1',
      'quorate_reconcile_results_total{cluster="stage",result="backoff"} 1',
    ]);
    expect(await series(metrics, "quorate_reconcile_last_pass_timestamp_seconds")).toEqual([
      `quorate_reconcile_last_pass_timestamp_seconds ${NOW.getTime() / 1000 + 0.2}`,
    ]);
  });

  it("GIVEN statuses WHEN scraped THEN the condition gauges, applied revision and source show", async () => {
    const metrics = createMetrics();
    metrics.observeStatuses([ready("dev", "b".repeat(40)), stalled("prod")], SOURCE);
    expect(await series(metrics, "quorate_cluster_ready")).toEqual([
      'quorate_cluster_ready{cluster="dev"} 1',
      'quorate_cluster_ready{cluster="prod"} 0',
    ]);
    expect(await series(metrics, "quorate_cluster_stalled")).toEqual([
      'quorate_cluster_stalled{cluster="dev"} 0',
      'quorate_cluster_stalled{cluster="prod"} 1',
    ]);
    expect(await series(metrics, "quorate_cluster_reconciling")).toEqual([
      'quorate_cluster_reconciling{cluster="dev"} 0',
      'quorate_cluster_reconciling{cluster="prod"} 0',
    ]);
    // Never probed: -1, not absent and not 0 (an alert on == 0 fires only on a failed gate).
    expect(await series(metrics, "quorate_cluster_health_gate_passed")).toEqual([
      'quorate_cluster_health_gate_passed{cluster="dev"} -1',
      'quorate_cluster_health_gate_passed{cluster="prod"} -1',
    ]);
    expect(await series(metrics, "quorate_cluster_applied_revision_info")).toEqual([
      `quorate_cluster_applied_revision_info{cluster="dev",revision="${"b".repeat(40)}"} 1`,
    ]);
    expect(await series(metrics, "quorate_source_up")).toEqual(["quorate_source_up 1"]);
    expect(await series(metrics, "quorate_source_revision_info")).toEqual([
      `quorate_source_revision_info{revision="${"a".repeat(40)}"} 1`,
    ]);
  });

  it("GIVEN a new applied and source revision THEN only the new revisions' info series remain", async () => {
    const metrics = createMetrics();
    metrics.observeStatuses([ready("dev", "b".repeat(40))], SOURCE);
    metrics.observeStatuses([ready("dev", "c".repeat(40))], {
      ...SOURCE,
      ok: false,
      revision: "d".repeat(40),
    });
    expect(await series(metrics, "quorate_cluster_applied_revision_info")).toEqual([
      `quorate_cluster_applied_revision_info{cluster="dev",revision="${"c".repeat(40)}"} 1`,
    ]);
    expect(await series(metrics, "quorate_source_revision_info")).toEqual([
      `quorate_source_revision_info{revision="${"d".repeat(40)}"} 1`,
    ]);
    expect(await series(metrics, "quorate_source_up")).toEqual(["quorate_source_up 0"]);
  });

  it("GIVEN a cluster that vanished from the statuses THEN every one of its series is gone", async () => {
    const metrics = createMetrics();
    metrics.observePass(
      pass([
        { cluster: "dev", action: "none", outcome: "ready" },
        { cluster: "old", action: "delete", outcome: "deleting" },
      ]),
    );
    metrics.observeEvent({
      at: NOW.toISOString(),
      cluster: "old",
      type: "member-removed",
      message: "x",
    });
    metrics.observeEvent({
      at: NOW.toISOString(),
      cluster: "dev",
      type: "learner-added",
      message: "y",
    });
    metrics.observeStatuses([ready("dev", "b".repeat(40)), ready("old", "e".repeat(40))], SOURCE);
    expect((await metrics.registry.metrics()).includes('cluster="old"')).toBe(true);

    metrics.observeStatuses([ready("dev", "b".repeat(40))], SOURCE);
    const text = await metrics.registry.metrics();
    expect(text).not.toContain('cluster="old"');
    expect(text).toContain('quorate_cluster_ready{cluster="dev"} 1');
    expect(text).toContain('quorate_rollout_events_total{cluster="dev",type="learner-added"} 1');
    expect(text).toContain('quorate_reconcile_results_total{cluster="dev",result="ready"} 1');
  });

  it("counts rollout events per cluster and type", async () => {
    const metrics = createMetrics();
    for (const type of ["hook-held", "hook-held", "member-promoted"] as const)
      metrics.observeEvent({ at: NOW.toISOString(), cluster: "dev", type, message: "" });
    expect(await series(metrics, "quorate_rollout_events_total")).toEqual([
      'quorate_rollout_events_total{cluster="dev",type="hook-held"} 2',
      'quorate_rollout_events_total{cluster="dev",type="member-promoted"} 1',
    ]);
  });

  it("GIVEN fault-tolerance events and a status THEN quorate_etcd_fault_tolerance follows the latest", async () => {
    const metrics = createMetrics();
    const event = (tolerates: number) =>
      metrics.observeEvent({
        at: NOW.toISOString(),
        cluster: "dev",
        type: "fault-tolerance",
        message: "",
        faultTolerance: { tolerates, resting: 1 },
      });
    event(0);
    expect(await series(metrics, "quorate_etcd_fault_tolerance")).toEqual([
      'quorate_etcd_fault_tolerance{cluster="dev"} 0',
    ]);
    event(1);
    expect(await series(metrics, "quorate_etcd_fault_tolerance")).toEqual([
      'quorate_etcd_fault_tolerance{cluster="dev"} 1',
    ]);
    const five = { ...ready("prod", "b".repeat(40)), faultTolerance: { tolerates: 1, resting: 2 } };
    metrics.observeStatuses([ready("dev", "b".repeat(40)), five], SOURCE);
    expect(await series(metrics, "quorate_etcd_fault_tolerance")).toEqual([
      'quorate_etcd_fault_tolerance{cluster="dev"} 1',
      'quorate_etcd_fault_tolerance{cluster="prod"} 1',
    ]);
  });

  it("GIVEN statuses after a minor upgrade THEN quorate_etcd_cluster_version_reached says whether it moved", async () => {
    const metrics = createMetrics();
    const version = (cluster: string, reached: boolean) => ({
      ...ready(cluster, "b".repeat(40)),
      etcdClusterVersion: { target: "3.5.26", reached, version: "3.4.0", message: "" },
    });
    metrics.observeStatuses([version("dev", false), ready("prod", "b".repeat(40))], SOURCE);
    expect(await series(metrics, "quorate_etcd_cluster_version_reached")).toEqual([
      'quorate_etcd_cluster_version_reached{cluster="dev"} 0',
    ]);
    metrics.observeStatuses([version("dev", true)], SOURCE);
    expect(await series(metrics, "quorate_etcd_cluster_version_reached")).toEqual([
      'quorate_etcd_cluster_version_reached{cluster="dev"} 1',
    ]);
    metrics.observeStatuses([], SOURCE);
    expect(await series(metrics, "quorate_etcd_cluster_version_reached")).toEqual([]);
  });

  it("GIVEN each member's database at the last probe THEN sizes and fragmentation show per member, and a member that left loses its series", async () => {
    const metrics = createMetrics();
    const probed = (cluster: string, members: [string, number, number][]): ClusterStatus => ({
      ...ready(cluster, "b".repeat(40)),
      databases: {
        at: NOW.toISOString(),
        members: members.map(([member, dbSize, dbSizeInUse]) => ({ member, dbSize, dbSizeInUse })),
      },
    });
    metrics.observeStatuses(
      [
        probed("dev", [
          ["i-1", 4000, 1000],
          ["i-2", 4000, 3000],
        ]),
        probed("prod", [["i-9", 0, 0]]),
      ],
      SOURCE,
    );
    expect(await series(metrics, "quorate_etcd_db_size_bytes")).toEqual([
      'quorate_etcd_db_size_bytes{cluster="dev",member="i-1"} 4000',
      'quorate_etcd_db_size_bytes{cluster="dev",member="i-2"} 4000',
      'quorate_etcd_db_size_bytes{cluster="prod",member="i-9"} 0',
    ]);
    expect(await series(metrics, "quorate_etcd_db_size_in_use_bytes")).toEqual([
      'quorate_etcd_db_size_in_use_bytes{cluster="dev",member="i-1"} 1000',
      'quorate_etcd_db_size_in_use_bytes{cluster="dev",member="i-2"} 3000',
      'quorate_etcd_db_size_in_use_bytes{cluster="prod",member="i-9"} 0',
    ]);
    // The free share: 1 - in use / total; an empty database is not fragmented.
    expect(await series(metrics, "quorate_etcd_db_fragmentation_ratio")).toEqual([
      'quorate_etcd_db_fragmentation_ratio{cluster="dev",member="i-1"} 0.75',
      'quorate_etcd_db_fragmentation_ratio{cluster="dev",member="i-2"} 0.25',
      'quorate_etcd_db_fragmentation_ratio{cluster="prod",member="i-9"} 0',
    ]);

    // i-1 was replaced by i-3 and defragmented; prod is gone.
    metrics.observeStatuses(
      [
        probed("dev", [
          ["i-2", 3100, 3000],
          ["i-3", 1000, 1000],
        ]),
      ],
      SOURCE,
    );
    expect(await series(metrics, "quorate_etcd_db_size_bytes")).toEqual([
      'quorate_etcd_db_size_bytes{cluster="dev",member="i-2"} 3100',
      'quorate_etcd_db_size_bytes{cluster="dev",member="i-3"} 1000',
    ]);
    expect(await series(metrics, "quorate_etcd_db_fragmentation_ratio")).toHaveLength(2);
    expect(await series(metrics, "quorate_etcd_db_size_in_use_bytes")).toHaveLength(2);
  });

  it("counts automatic defragmentations per cluster and result, and drops them with the cluster", async () => {
    const metrics = createMetrics();
    const defrag = (cluster: string, defragResult?: "done" | "failed") =>
      metrics.observeEvent({
        at: NOW.toISOString(),
        cluster,
        type: "defrag",
        message: "",
        ...(defragResult ? { defragResult } : {}),
      });
    defrag("dev"); // a step line, not a result
    defrag("dev", "done");
    defrag("dev", "done");
    defrag("old", "failed");
    expect(await series(metrics, "quorate_defrag_total")).toEqual([
      'quorate_defrag_total{cluster="dev",result="done"} 2',
      'quorate_defrag_total{cluster="old",result="failed"} 1',
    ]);
    metrics.observeStatuses([ready("dev", "b".repeat(40)), ready("old", "b".repeat(40))], SOURCE);
    metrics.observeStatuses([ready("dev", "b".repeat(40))], SOURCE);
    expect(await series(metrics, "quorate_defrag_total")).toEqual([
      'quorate_defrag_total{cluster="dev",result="done"} 2',
    ]);
  });

  it("has help texts, default process metrics, and registries that do not share series", async () => {
    const one = createMetrics();
    const two = createMetrics();
    one.observeStatuses([ready("dev", "b".repeat(40))], SOURCE);
    const text = await one.registry.metrics();
    expect(text).toContain("# HELP quorate_cluster_ready 1 when the cluster's Ready condition");
    expect(text).toContain("# TYPE quorate_reconcile_results_total counter");
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    expect(await two.registry.metrics()).not.toContain('cluster="dev"');
  });
});

describe("passResult", () => {
  it.each([
    [{ cluster: "a", action: "apply" }, "apply-started"],
    [{ cluster: "a", action: "apply", outcome: "applied" }, "applied"],
    [{ cluster: "a", action: "supervise" }, "supervise-started"],
    [{ cluster: "a", action: "busy" }, "busy"],
    [{ cluster: "a", action: "deferred" }, "deferred"],
    [{ cluster: "a", action: "stall", outcome: "stalled" }, "stalled"],
  ] as const)("%j -> %s", (entry, result) => {
    expect(passResult(entry)).toBe(result);
  });
});

describe("scheduled snapshot metrics", () => {
  const backup = (cluster: string, newest?: { size: number; completedAt: string }) => ({
    ...ready(cluster, "b".repeat(40)),
    backup: {
      bucket: "snaps",
      prefix: `${cluster}/`,
      every: "PT1H",
      failures: 0,
      ...(newest
        ? {
            newest: {
              key: `${cluster}/x.db`,
              revision: "7",
              takenAt: newest.completedAt,
              ...newest,
            },
          }
        : {}),
    },
  });
  const event = (
    metrics: ReturnType<typeof createMetrics>,
    type: "backup-taken" | "backup-failed",
    durationMs: number,
  ) =>
    metrics.observeEvent({
      at: NOW.toISOString(),
      cluster: "dev",
      type,
      message: "",
      backup: { durationMs },
    });

  it("GIVEN the newest good snapshot in the status, taken and failed events THEN timestamp, bytes, duration and failures show", async () => {
    const metrics = createMetrics();
    metrics.observeStatuses([backup("dev"), ready("plain", "b".repeat(40))], SOURCE);
    expect(await series(metrics, "quorate_backup_failures_total")).toEqual([
      'quorate_backup_failures_total{cluster="dev"} 0',
    ]);
    expect(await series(metrics, "quorate_backup_last_success_timestamp_seconds")).toEqual([]);

    event(metrics, "backup-taken", 1200);
    event(metrics, "backup-failed", 300);
    event(metrics, "backup-failed", 300);
    metrics.observeStatuses(
      [backup("dev", { size: 24576, completedAt: "2025-03-01T11:59:00.000Z" })],
      SOURCE,
    );
    expect(await series(metrics, "quorate_backup_last_success_timestamp_seconds")).toEqual([
      `quorate_backup_last_success_timestamp_seconds{cluster="dev"} ${Date.parse("2025-03-01T11:59:00Z") / 1000}`,
    ]);
    expect(await series(metrics, "quorate_backup_bytes")).toEqual([
      'quorate_backup_bytes{cluster="dev"} 24576',
    ]);
    expect(await series(metrics, "quorate_backup_duration_seconds_count")).toEqual([
      'quorate_backup_duration_seconds_count{cluster="dev"} 1',
    ]);
    expect(await series(metrics, "quorate_backup_duration_seconds_sum")).toEqual([
      'quorate_backup_duration_seconds_sum{cluster="dev"} 1.2',
    ]);
    expect(await series(metrics, "quorate_backup_failures_total")).toEqual([
      'quorate_backup_failures_total{cluster="dev"} 2',
    ]);
  });

  it("GIVEN spec.backup removed THEN the gauges go; GIVEN the cluster gone THEN every backup series goes", async () => {
    const metrics = createMetrics();
    event(metrics, "backup-taken", 1200);
    metrics.observeStatuses(
      [backup("dev", { size: 1, completedAt: "2025-03-01T11:59:00.000Z" })],
      SOURCE,
    );
    metrics.observeStatuses([ready("dev", "b".repeat(40))], SOURCE);
    expect(await series(metrics, "quorate_backup_bytes")).toEqual([]);
    expect(await series(metrics, "quorate_backup_last_success_timestamp_seconds")).toEqual([]);
    metrics.observeStatuses([], SOURCE);
    expect(await metrics.registry.metrics()).not.toMatch(/quorate_backup_\w+\{cluster="dev"/);
  });
});

describe("rollout history failures", () => {
  const event = (metrics: ReturnType<typeof createMetrics>, type: RolloutEvent["type"]) =>
    metrics.observeEvent({ at: NOW.toISOString(), cluster: "dev", type, message: "" });

  it("GIVEN history-failed events THEN each counts; a recorded history does not; GIVEN the cluster gone THEN the series goes", async () => {
    const metrics = createMetrics();
    metrics.observeStatuses([ready("dev", "b".repeat(40))], SOURCE);
    event(metrics, "history-recorded");
    event(metrics, "history-failed");
    event(metrics, "history-failed");
    expect(await series(metrics, "quorate_rollout_history_failures_total")).toEqual([
      'quorate_rollout_history_failures_total{cluster="dev"} 2',
    ]);
    metrics.observeStatuses([], SOURCE);
    expect(await series(metrics, "quorate_rollout_history_failures_total")).toEqual([]);
  });
});
