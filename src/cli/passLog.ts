// The daemon's lines about its own work: rollout events member by member, and
// one line per pass. Apart from log.ts, which every command loads (the stop
// lines of src/cli/shutdown.ts), because this needs the metrics and prom-client.
import { passResult } from "../reconcile/metrics.js";
import type { PassSummary } from "../reconcile/reconciler.js";
import type { RolloutEvent, RolloutEventType } from "../reconcile/rollout/events.js";
import type { Logger, LogLevel } from "./log.js";

const EVENT_LEVEL: Partial<Record<RolloutEventType, LogLevel>> = {
  error: "error",
  "hook-held": "warn",
  held: "warn",
  "update-cancelled": "warn",
  "backup-failed": "warn",
  "history-failed": "warn",
};

/** Rollout events as log lines, so the daemon's log follows a rollout member by member. */
export function eventLogger(logger: Logger): (event: RolloutEvent) => void {
  return (event) => {
    // A defragmentation that failed or gave way is retried on its own, but an operator should see it.
    const level =
      event.defragResult && event.defragResult !== "done"
        ? "warn"
        : (EVENT_LEVEL[event.type] ?? "info");
    logger[level](event.message, {
      cluster: event.cluster,
      event: event.type,
      ...(event.instanceId ? { instance: event.instanceId } : {}),
      ...(event.memberId ? { member: event.memberId } : {}),
      ...(event.defragResult ? { result: event.defragResult } : {}),
      ...(event.backup ?? {}),
    });
  };
}

/**
 * One line per pass (`pass done revision=... ready=3 stalled=1`), and a warning
 * when the source could not be synced, so that the log says why nothing moves,
 * or when it accepted a rewound branch, so that the log says why things moved back.
 */
export function logPass(logger: Logger, summary: PassSummary): void {
  const source = summary.source;
  if (summary.rewound) {
    logger.warn("git branch rewound; reconciling the rewound head", {
      repo: source.repo,
      reason: source.reason,
      from: summary.rewound.from.slice(0, 12),
      to: summary.rewound.to.slice(0, 12),
      message: summary.rewound.message,
    });
  }
  if (!source.ok) {
    logger.warn("git source not synced; reconciling the last good revision", {
      repo: source.repo,
      reason: source.reason,
      message: source.message,
      revision: source.revision?.slice(0, 12),
    });
  }
  const counts: Record<string, number> = {};
  for (const entry of summary.clusters) {
    const result = passResult(entry);
    counts[result] = (counts[result] ?? 0) + 1;
  }
  logger.info("reconcile pass done", {
    revision: summary.revision?.slice(0, 12),
    durationMs: summary.durationMs,
    clusters: summary.clusters.length,
    ...Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b))),
  });
}
