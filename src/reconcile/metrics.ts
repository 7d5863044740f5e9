// Prometheus metrics of the reconcile loop, on a registry of their own (not
// prom-client's global one) so that tests and several reconcilers in one
// process never clash. Per-cluster series follow the cluster's conditions;
// a cluster that disappears from the statuses loses every series it had.
// Naming: https://prometheus.io/docs/practices/naming/
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { type ConditionType, conditionOf } from "./conditions.js";
import type { PassSummary, SourceStatus } from "./reconciler.js";
import type { RolloutEvent } from "./rollout/events.js";
import type { ClusterStatus, MemberDatabase } from "./status.js";

export interface QuorateMetrics {
  readonly registry: Registry;
  /** After each pass: its duration, and one result per cluster it looked at. */
  observePass(summary: PassSummary): void;
  /** The per-cluster and source gauges; the server also calls it on each scrape. */
  observeStatuses(statuses: readonly ClusterStatus[], source: SourceStatus): void;
  /** From the reconciler's onEvent sink: counts rollout events per cluster and type. */
  observeEvent(event: RolloutEvent): void;
  /** A pass that ended in an unexpected exception (the loop logs it and goes on). */
  observePassFailure(): void;
  /** A notification delivered, given up on after its retries, or dropped from a full queue. */
  observeNotification(target: string, result: "sent" | "failed" | "dropped"): void;
}

/**
 * The `result` label of quorate_reconcile_results_total: the outcome when the
 * pass waited for one, else what the pass did about the cluster.
 */
export type PassResult =
  | NonNullable<PassSummary["clusters"][number]["outcome"]>
  | "apply-started"
  | "supervise-started"
  | "busy"
  | "backoff"
  | "deferred";

export function passResult(entry: PassSummary["clusters"][number]): PassResult {
  if (entry.outcome) return entry.outcome;
  // Only rollouts finish after the pass; every other action records its outcome in it.
  switch (entry.action) {
    case "apply":
      return "apply-started";
    case "supervise":
      return "supervise-started";
    case "busy":
    case "backoff":
    case "deferred":
      return entry.action;
    case "none":
      return "ready";
    case "suspended":
      return "suspended";
    case "stall":
      return "stalled";
    case "orphan":
      return "orphaned";
    case "delete":
      return "deleting";
  }
}

/** 1 when the condition is True, 0 when False, -1 when Unknown or not set yet. */
export function conditionValue(status: ClusterStatus, type: ConditionType): number {
  const condition = conditionOf(status.conditions, type);
  if (condition?.status === "True") return 1;
  if (condition?.status === "False") return 0;
  return -1;
}

export function createMetrics(): QuorateMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  const duration = new Histogram({
    name: "quorate_reconcile_duration_seconds",
    help: "Time one reconcile pass took: source sync, manifests, stack listing, decisions and the actions it waited for (in `quorate run`, rollouts go on in the background and are not included).",
    // From a no-op pass over a few clusters up to a once-mode pass that waits for rollouts.
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600],
    registers,
  });
  const lastPass = new Gauge({
    name: "quorate_reconcile_last_pass_timestamp_seconds",
    help: "Unix time at which the last reconcile pass finished; alert when it stops moving (the loop is stuck).",
    registers,
  });
  const results = new Counter({
    name: "quorate_reconcile_results_total",
    help: "Reconcile results per cluster: the outcome (ready, applied, gate-blocked, snapshot-missing, rolled-back, stalled, suspended, orphaned, deleting, transient, progressing), or what the pass did without waiting for one (apply-started, supervise-started, busy, backoff, deferred).",
    labelNames: ["cluster", "result"] as const,
    registers,
  });
  const ready = clusterGauge(
    "quorate_cluster_ready",
    "1 when the cluster's Ready condition is True (stack in sync with git), 0 otherwise; see /status or `quorate status` for the reason.",
    registers,
  );
  const stalled = clusterGauge(
    "quorate_cluster_stalled",
    "1 when the cluster is Stalled: it needs a person (invalid manifest, UPDATE_ROLLBACK_FAILED, a rolled-back update); retrying will not help.",
    registers,
  );
  const reconciling = clusterGauge(
    "quorate_cluster_reconciling",
    "1 while the cluster is Reconciling: a change set or rollout is under way, or a transient failure is being retried.",
    registers,
  );
  const gate = clusterGauge(
    "quorate_cluster_health_gate_passed",
    "1 when the last etcd health gate of the cluster passed, 0 when it failed, -1 when unknown (not probed yet, no members).",
    registers,
  );
  const tolerance = clusterGauge(
    "quorate_etcd_fault_tolerance",
    "Member failures the cluster survives now: healthy voters beyond the quorum (negative: quorum lost). Below the resting value (1 for 3 members, 2 for 5) while a member is down or replaced terminate-first; the FaultToleranceReduced condition says so too.",
    registers,
  );
  const clusterVersion = clusterGauge(
    "quorate_etcd_cluster_version_reached",
    "After an etcd minor upgrade: 1 when the cluster version (GET /version etcdcluster) reached the manifest's minor version, 0 when a member still holds it back (the status's etcdClusterVersion says which). Absent until a minor upgrade has rolled.",
    registers,
  );
  const applied = new Gauge({
    name: "quorate_cluster_applied_revision_info",
    help: "Always 1; the revision label is the git revision recorded on the cluster's stack by the last change that went through.",
    labelNames: ["cluster", "revision"] as const,
    registers,
  });
  const sourceUp = new Gauge({
    name: "quorate_source_up",
    help: "1 when the last sync of the git source succeeded, 0 when it failed (quorate then keeps reconciling the last good revision).",
    registers,
  });
  const sourceRevision = new Gauge({
    name: "quorate_source_revision_info",
    help: "Always 1; the revision label is the git revision quorate reconciles towards.",
    labelNames: ["revision"] as const,
    registers,
  });
  const events = new Counter({
    name: "quorate_rollout_events_total",
    help: "Rollout events per cluster and type (learner-added, member-removed, hook-held, gate, error, ...): member-by-member progress of rollouts.",
    labelNames: ["cluster", "type"] as const,
    registers,
  });

  const rewinds = new Counter({
    name: "quorate_source_rewinds_total",
    help: "Branch heads accepted though they do not descend from the last good revision: a force-push rewound the branch (dropped or replaced commits). A rewind refused under --verify-signatures is not counted here; it shows as quorate_source_up 0.",
    registers,
  });

  const dbSize = memberGauge(
    "quorate_etcd_db_size_bytes",
    "Size of the member's database file (dbSize of /v3/maintenance/status) at the daemon's last probe of an in-sync cluster. Counts against spec.etcd.quotaBackendBytes.",
    registers,
  );
  const dbInUse = memberGauge(
    "quorate_etcd_db_size_in_use_bytes",
    "Bytes of the member's database file in use (dbSizeInUse), at the same probe; the rest are free pages that defragmentation gives back.",
    registers,
  );
  const fragmentation = memberGauge(
    "quorate_etcd_db_fragmentation_ratio",
    "Share of the member's database file that is free pages: 1 - dbSizeInUse/dbSize (0 for an empty database). spec.maintenance.autoDefrag defragments a member once it is above 1 - fragmentationThreshold.",
    registers,
  );
  const defrags = new Counter({
    name: "quorate_defrag_total",
    help: "Automatic defragmentations of one member by `quorate run` (spec.maintenance.autoDefrag), by result: done, gate-blocked (the gate held it past gates.abortAfter), failed (an error; retried after minInterval).",
    labelNames: ["cluster", "result"] as const,
    registers,
  });

  // Scheduled snapshots (spec.backup.every). The timestamp and size follow the
  // newest good snapshot the status knows (the bucket's, read at start); the
  // duration and failures count what this process attempted.
  const backupLastSuccess = clusterGauge(
    "quorate_backup_last_success_timestamp_seconds",
    "Unix time at which the newest good snapshot of the cluster was completed (read from the bucket at start, then each scheduled one). Alert on time() minus it; absent until one is known.",
    registers,
  );
  const backupBytes = clusterGauge(
    "quorate_backup_bytes",
    "Size in bytes of the newest good snapshot of the cluster.",
    registers,
  );
  const backupDuration = new Histogram({
    name: "quorate_backup_duration_seconds",
    help: "Time a scheduled snapshot took, from the first byte streamed to its manifest written (successful ones only).",
    labelNames: ["cluster"] as const,
    // From a small cluster on a fast disk to a GiB streamed over a slow link.
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers,
  });
  const historyFailures = new Counter({
    name: "quorate_rollout_history_failures_total",
    help: "Completed rollouts whose member durations could not be written to the group's rollout-history tag (the group gone, CreateOrUpdateTags refused or throttled); the rollout itself is not affected, but later plans estimate from older history.",
    labelNames: ["cluster"] as const,
    registers,
  });
  const backupFailures = new Counter({
    name: "quorate_backup_failures_total",
    help: "Scheduled snapshots that failed (a bucket that could not be listed or written, no healthy member, a cut stream); each is retried after a backoff and BackupReady says why.",
    labelNames: ["cluster"] as const,
    registers,
  });

  const passFailures = new Counter({
    name: "quorate_reconcile_pass_failures_total",
    help: "Passes that ended in an unexpected error; the loop logged it and went on. Alert when it grows.",
    registers,
  });

  // Labelled by target (webhook-0 for the first --notify-url, github-statuses),
  // never by URL: a webhook URL often carries its token in the path.
  const notifications = {
    sent: notificationCounter(
      "quorate_notifications_sent_total",
      "Notifications (rollout started, held, resumed, finished, rolled back, needs a person) delivered, per target: webhook-N for the Nth --notify-url from 0, github-statuses for commit statuses.",
      registers,
    ),
    failed: notificationCounter(
      "quorate_notifications_failed_total",
      "Notifications given up on after their retries (timeout, connection refused, non-2xx answer), per target; the log says why. Rollouts never wait on them.",
      registers,
    ),
    dropped: notificationCounter(
      "quorate_notifications_dropped_total",
      "Notifications dropped unsent because their target's queue was full (a receiver slower than the rollouts): the oldest waiting one goes.",
      registers,
    ),
  };

  const resultLabels = new LabelSets();
  const eventLabels = new LabelSets();
  const defragLabels = new LabelSets();
  const databaseMembers = new Map<string, Set<string>>();
  const appliedRevisions = new Map<string, string>();
  let sourceRevisionShown: string | undefined;
  let known = new Set<string>();

  const forget = (cluster: string) => {
    for (const gauge of [
      ready,
      stalled,
      reconciling,
      gate,
      tolerance,
      clusterVersion,
      backupLastSuccess,
      backupBytes,
    ])
      gauge.remove({ cluster });
    backupDuration.remove({ cluster });
    backupFailures.remove({ cluster });
    historyFailures.remove({ cluster });
    const revision = appliedRevisions.get(cluster);
    if (revision !== undefined) applied.remove({ cluster, revision });
    appliedRevisions.delete(cluster);
    for (const result of resultLabels.take(cluster)) results.remove({ cluster, result });
    for (const type of eventLabels.take(cluster)) events.remove({ cluster, type });
    for (const result of defragLabels.take(cluster)) defrags.remove({ cluster, result });
    observeDatabases(cluster, []);
  };

  /** Sets each member's database gauges; members gone since the last probe lose theirs. */
  const observeDatabases = (cluster: string, members: readonly MemberDatabase[]) => {
    const now = new Set<string>();
    for (const m of members) {
      now.add(m.member);
      const labels = { cluster, member: m.member };
      dbSize.set(labels, m.dbSize);
      dbInUse.set(labels, m.dbSizeInUse);
      fragmentation.set(labels, m.dbSize > 0 ? 1 - m.dbSizeInUse / m.dbSize : 0);
    }
    for (const member of databaseMembers.get(cluster) ?? [])
      if (!now.has(member))
        for (const gauge of [dbSize, dbInUse, fragmentation]) gauge.remove({ cluster, member });
    if (now.size > 0) databaseMembers.set(cluster, now);
    else databaseMembers.delete(cluster);
  };

  const observeBackup = (status: ClusterStatus) => {
    const cluster = status.cluster;
    const newest = status.backup?.newest;
    if (newest) {
      backupLastSuccess.set({ cluster }, Date.parse(newest.completedAt) / 1000);
      backupBytes.set({ cluster }, newest.size);
    } else {
      backupLastSuccess.remove({ cluster });
      backupBytes.remove({ cluster });
    }
    // Zero from the start, so that increase() sees the first failure.
    if (status.backup) backupFailures.inc({ cluster }, 0);
  };

  return {
    registry,
    observePass(summary) {
      duration.observe(summary.durationMs / 1000);
      lastPass.set((Date.parse(summary.startedAt) + summary.durationMs) / 1000);
      if (summary.rewound) rewinds.inc();
      for (const entry of summary.clusters) {
        const result = passResult(entry);
        results.inc({ cluster: entry.cluster, result });
        resultLabels.add(entry.cluster, result);
      }
    },
    observeStatuses(statuses, source) {
      const now = new Set<string>();
      for (const status of statuses) {
        const cluster = status.cluster;
        now.add(cluster);
        ready.set({ cluster }, Math.max(0, conditionValue(status, "Ready")));
        stalled.set({ cluster }, Math.max(0, conditionValue(status, "Stalled")));
        reconciling.set({ cluster }, Math.max(0, conditionValue(status, "Reconciling")));
        gate.set({ cluster }, conditionValue(status, "HealthGatePassed"));
        if (status.faultTolerance) tolerance.set({ cluster }, status.faultTolerance.tolerates);
        if (status.databases) observeDatabases(cluster, status.databases.members);
        if (status.etcdClusterVersion)
          clusterVersion.set({ cluster }, status.etcdClusterVersion.reached ? 1 : 0);
        observeBackup(status);
        const before = appliedRevisions.get(cluster);
        const revision = status.lastAppliedRevision;
        if (before !== undefined && before !== revision)
          applied.remove({ cluster, revision: before });
        if (revision === undefined) appliedRevisions.delete(cluster);
        else {
          applied.set({ cluster, revision }, 1);
          appliedRevisions.set(cluster, revision);
        }
      }
      // Results and events may name clusters that never had a status yet; keep those.
      for (const cluster of known) if (!now.has(cluster)) forget(cluster);
      known = now;

      sourceUp.set(source.ok ? 1 : 0);
      if (sourceRevisionShown !== undefined && sourceRevisionShown !== source.revision)
        sourceRevision.remove({ revision: sourceRevisionShown });
      sourceRevisionShown = source.revision;
      if (source.revision !== undefined) sourceRevision.set({ revision: source.revision }, 1);
    },
    observeEvent(event) {
      if (event.faultTolerance)
        tolerance.set({ cluster: event.cluster }, event.faultTolerance.tolerates);
      if (event.defragResult) {
        defrags.inc({ cluster: event.cluster, result: event.defragResult });
        defragLabels.add(event.cluster, event.defragResult);
      }
      events.inc({ cluster: event.cluster, type: event.type });
      if (event.type === "backup-failed") backupFailures.inc({ cluster: event.cluster });
      if (event.type === "history-failed") historyFailures.inc({ cluster: event.cluster });
      if (event.type === "backup-taken" && event.backup)
        backupDuration.observe({ cluster: event.cluster }, event.backup.durationMs / 1000);
      eventLabels.add(event.cluster, event.type);
    },
    observePassFailure() {
      passFailures.inc();
    },
    observeNotification(target, result) {
      notifications[result].inc({ target });
    },
  };
}

function notificationCounter(name: string, help: string, registers: Registry[]) {
  return new Counter({ name, help, labelNames: ["target"] as const, registers });
}

function clusterGauge(name: string, help: string, registers: Registry[]): Gauge<"cluster"> {
  return new Gauge({ name, help, labelNames: ["cluster"] as const, registers });
}

function memberGauge(
  name: string,
  help: string,
  registers: Registry[],
): Gauge<"cluster" | "member"> {
  return new Gauge({ name, help, labelNames: ["cluster", "member"] as const, registers });
}

/** The second label values seen per cluster, so that a vanished cluster's series can be removed. */
class LabelSets {
  private readonly byCluster = new Map<string, Set<string>>();
  add(cluster: string, value: string): void {
    const set = this.byCluster.get(cluster) ?? new Set<string>();
    set.add(value);
    this.byCluster.set(cluster, set);
  }
  take(cluster: string): string[] {
    const values = [...(this.byCluster.get(cluster) ?? [])];
    this.byCluster.delete(cluster);
    return values;
  }
}
