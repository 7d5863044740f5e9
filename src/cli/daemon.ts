// The long-running loop shared by `quorate run` and the demo: triggers (poll,
// webhook, file watch) -> reconcile pass -> metrics, logs and status.
import { resolve } from "node:path";
import {
  failedPassRecord,
  type PassRecord,
  passRecord,
  recordPass,
} from "../dashboard/passHistory.js";
import { createTimelines } from "../dashboard/timeline.js";
import { describeError, terminal } from "../errors.js";
import type { Notifier } from "../notify/notifier.js";
import { createMetrics, type QuorateMetrics } from "../reconcile/metrics.js";
import type { PassSummary, Reconciler, StatusSink } from "../reconcile/reconciler.js";
import type { EventSink, RolloutEvent } from "../reconcile/rollout/events.js";
import { type DaemonServer, startDaemonServer } from "../reconcile/server.js";
import { createTriggers, type TriggerReason } from "../source/triggers.js";
import { type DirectoryWatch, touchesGitRefs, watchDirectory } from "../source/watch.js";
import type { Logger } from "./log.js";
import { eventLogger, logPass } from "./passLog.js";

export interface DaemonOptions {
  /** Builds the reconciler around the event and status sinks the daemon provides. */
  reconciler(onEvent: EventSink, onStatus?: StatusSink): Reconciler;
  /** Rollout notifications (--notify-url), counted in the daemon's metrics. */
  notifier?: (metrics: QuorateMetrics) => Notifier | undefined;
  branch: string;
  log: Logger;
  pollIntervalMs: number;
  listen?: { host: string; port: number };
  webhookSecret?: string;
  /** A local working directory whose commits start a pass at once. */
  watchDir?: string;
  signal: AbortSignal;
  /** Also see every rollout event (the demo prints them as lines). */
  onEvent?: EventSink;
  /** Called after each pass (the demo prints hints). */
  afterPass?: (summary: PassSummary, reason: TriggerReason) => void;
  onListening?: (url: string) => void;
  /** Where to say what is in flight, for the line when a stop runs out of time. */
  trackInFlight?: (describe: () => string[]) => void;
}

const NOTIFY_FLUSH_ON_STOP_MS = 2_000;

export async function runDaemon(options: DaemonOptions): Promise<void> {
  const { log } = options;
  const metrics = createMetrics();
  const toLog = eventLogger(log);
  const notifier = options.notifier?.(metrics);
  // The dashboard's rollouts: the events and outcomes the daemon sees anyway.
  const timelines = createTimelines();
  let passes: PassRecord[] = [];
  const onEvent = (event: RolloutEvent) => {
    metrics.observeEvent(event);
    toLog(event);
    options.onEvent?.(event);
    notifier?.onEvent(event);
    timelines.onEvent(event);
  };
  const onStatus: StatusSink = (previous, next, outcome) => {
    timelines.onStatus(previous, next, outcome);
    notifier?.onStatus(previous, next, outcome);
  };
  const reconciler = options.reconciler(onEvent, onStatus);
  let passStarted: number | undefined;
  options.trackInFlight?.(() => [
    ...(passStarted === undefined
      ? []
      : [`reconcile pass (started ${Math.round((Date.now() - passStarted) / 1000)} s ago)`]),
    ...reconciler.inFlight(),
  ]);
  const triggers = createTriggers({ pollIntervalMs: options.pollIntervalMs });
  let lastPass: PassSummary | undefined;
  let server: DaemonServer | undefined;
  let watch: DirectoryWatch | undefined;
  try {
    if (options.listen) {
      server = await listenOrExplain(options.listen, () =>
        startDaemonServer({
          ...options.listen,
          statuses: reconciler.statuses,
          source: reconciler.source,
          busy: reconciler.busy,
          lastPass: () => lastPass,
          timelines: timelines.list,
          passes: () => passes,
          metrics,
          // Liveness allows a few missed polls before it reports the loop stuck.
          livenessMaxAgeMs: Math.max(5 * 60_000, 3 * options.pollIntervalMs),
          ...(options.webhookSecret
            ? {
                webhook: {
                  secret: options.webhookSecret,
                  onPush: (event) => {
                    if (event.ref !== `refs/heads/${options.branch}`) return;
                    log.info("push received", {
                      ref: event.ref,
                      after: event.after,
                      delivery: event.delivery,
                    });
                    triggers.notify("webhook");
                  },
                },
              }
            : {}),
        }),
      );
      log.info("serving the dashboard at /, /healthz, /status, /metrics", {
        url: server.url,
        webhook: Boolean(options.webhookSecret),
      });
      options.onListening?.(server.url);
    }
    if (options.watchDir) {
      const dir = resolve(options.watchDir);
      watch = await watchDirectory(dir, {
        onChange: (paths) => {
          // Only a commit changes what is applied; saving a file alone does not.
          if (touchesGitRefs(paths)) triggers.notify("watch");
        },
      });
      log.info("watching for commits", { dir });
    }
    for (;;) {
      const reason = await triggers.next(options.signal);
      let summary: PassSummary;
      passStarted = Date.now();
      try {
        summary = await reconciler.pass(options.signal);
      } catch (error) {
        if (options.signal.aborted) throw error;
        // A controller survives its own bugs: count it, say it, and try at the next trigger.
        metrics.observePassFailure();
        passes = recordPass(
          passes,
          failedPassRecord(passStarted ?? Date.now(), Date.now(), describeError(error)),
        );
        log.error("reconcile pass failed; the next trigger starts a new pass", {
          error: describeError(error),
          ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
        });
        continue;
      } finally {
        passStarted = undefined;
      }
      lastPass = summary;
      passes = recordPass(passes, passRecord(summary));
      metrics.observePass(summary);
      logPass(log, summary);
      options.afterPass?.(summary, reason);
    }
  } catch (error) {
    if (!options.signal.aborted) throw error;
    log.info("stopping: rollouts in flight go on in AWS and are picked up at the next start");
  } finally {
    await watch?.close();
    await server?.close();
    // What is queued gets a moment to go out; a dead receiver cannot hold the stop longer.
    await notifier?.flush(NOTIFY_FLUSH_ON_STOP_MS);
    notifier?.close();
  }
}

/** A port already taken is the operator's to fix: say which and how, not a raw EADDRINUSE. */
async function listenOrExplain<T>(
  listen: { host: string; port: number },
  start: () => Promise<T>,
): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = `${listen.host.includes(":") ? `[${listen.host}]` : listen.host}:${listen.port}`;
    if (code === "EADDRINUSE")
      throw terminal(
        `--listen ${where} is in use`,
        "stop what listens there (another quorate run?), or pass another --listen, or --listen off",
        error,
      );
    if (code === "EADDRNOTAVAIL" || code === "EACCES")
      throw terminal(
        `cannot listen on ${where} (${code})`,
        "use an address of this machine and a port above 1023, or --listen off",
        error,
      );
    throw error;
  }
}
