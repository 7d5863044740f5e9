// The notifier between the reconciler and the receivers: it keeps what was
// already said per cluster, turns each status and event into notifications
// (notifications.ts, pure), and hands them to every sink's queue. Nothing here
// waits on a receiver, and nothing here throws into the reconciler.
import type { StatusSink } from "../reconcile/reconciler.js";
import type { EventSink } from "../reconcile/rollout/events.js";
import type { ClusterStatus } from "../reconcile/status.js";
import { createDeliveryQueue } from "./deliveryQueue.js";
import { type Notification, type NotifyMemory, notificationsFor } from "./notifications.js";

export interface NotificationSink {
  /** For logs and the metrics' target label: webhook-0, github-statuses. */
  readonly target: string;
  /** Queues the notification; returns at once. */
  enqueue(n: Notification): void;
  flush(ms: number): Promise<void>;
  close(): void;
}

export interface Notifier {
  onEvent: EventSink;
  onStatus: StatusSink;
  /** Waits for every sink to send what it holds, at most `ms`. */
  flush(ms: number): Promise<void>;
  close(): void;
}

export function createNotifier(
  sinks: readonly NotificationSink[],
  onBug: (error: unknown) => void = () => {},
): Notifier {
  const memories = new Map<string, NotifyMemory>();
  const statuses = new Map<string, ClusterStatus>();
  const take = (cluster: string, input: Parameters<typeof notificationsFor>[1]) => {
    try {
      const { notifications, memory } = notificationsFor(memories.get(cluster) ?? {}, input);
      memories.set(cluster, memory);
      for (const n of notifications) for (const sink of sinks) sink.enqueue(n);
    } catch (error) {
      // A notifier bug must never fail a pass or a rollout.
      onBug(error);
    }
  };
  return {
    onEvent(event) {
      const status = statuses.get(event.cluster);
      take(event.cluster, { kind: "event", event, ...(status ? { status } : {}) });
    },
    onStatus(previous, next, outcome) {
      statuses.set(next.cluster, next);
      take(next.cluster, { kind: "status", ...(previous ? { previous } : {}), next, outcome });
    },
    async flush(ms) {
      await Promise.all(sinks.map((s) => s.flush(ms)));
    },
    close() {
      for (const sink of sinks) sink.close();
    },
  };
}

/** What becomes of each notification, for the metrics and the log. */
export interface DeliveryReport {
  sent(target: string, n: Notification): void;
  failed(target: string, n: Notification, error: unknown, attempts: number): void;
  dropped(target: string, n: Notification): void;
}

export interface QueueTuning {
  capacity?: number;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
}

/** A sink that sends through its own bounded, ordered queue (deliveryQueue.ts). */
export function queuedSink(
  target: string,
  deliver: (n: Notification, signal: AbortSignal) => Promise<void>,
  report: DeliveryReport,
  tuning: QueueTuning = {},
): NotificationSink {
  const queue = createDeliveryQueue<Notification>({
    ...tuning,
    deliver,
    onSent: (n) => report.sent(target, n),
    onFailed: (n, error, attempts) => report.failed(target, n, error, attempts),
    onDropped: (n) => report.dropped(target, n),
  });
  return { target, enqueue: queue.enqueue, flush: queue.flush, close: queue.close };
}
