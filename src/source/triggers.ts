// What makes the daemon start a pass: a poll timer, webhook pushes and file
// watch events feed one "sync now" request. Requests coalesce: however many
// arrive while a pass runs, exactly one more pass follows. The reconcile loop
// is level-triggered, so a pass never needs to know how many events it covers.
//
//   for (;;) { const reason = await triggers.next(signal); await pass(reason); }

export type TriggerSource = "startup" | "poll" | "webhook" | "watch" | "manual";

export interface TriggerReason {
  /** Every source that asked for this pass, in order of first request. */
  readonly sources: readonly TriggerSource[];
  /** How many requests this pass answers. */
  readonly requests: number;
}

/** The clock, injectable for tests. */
export interface TriggerTimers {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface TriggerOptions {
  /** Poll this often when nothing else asks, counted from when the daemon waits again. 0: never. */
  readonly pollIntervalMs?: number;
  /** Spread each poll by up to ± this fraction of the interval, so replicas do not poll in step. Default 0.1. */
  readonly jitter?: number;
  /** Whether the first `next()` returns at once with "startup". Default true. */
  readonly startImmediately?: boolean;
  readonly random?: () => number;
  readonly timers?: TriggerTimers;
}

export interface Triggers {
  /** Ask for a pass. Cheap and synchronous: safe from a webhook or watch callback. */
  notify(source: TriggerSource): void;
  /** Wait for the next pass to be due. One waiter at a time. Rejects with the signal's reason on abort. */
  next(signal?: AbortSignal): Promise<TriggerReason>;
  /** Whether a pass is already asked for (next() would return at once). */
  readonly pending: boolean;
}

const defaultTimers: TriggerTimers = {
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The poll delay: interval ± jitter, never below zero. Pure given `random` in [0, 1). */
export function pollDelay(intervalMs: number, jitter: number, random: () => number): number {
  const spread = Math.min(Math.max(jitter, 0), 1) * intervalMs;
  return Math.max(0, Math.round(intervalMs - spread + 2 * spread * random()));
}

export function createTriggers(options: TriggerOptions = {}): Triggers {
  const timers = options.timers ?? defaultTimers;
  const random = options.random ?? Math.random;
  const interval = options.pollIntervalMs ?? 0;
  let sources: TriggerSource[] = [];
  let requests = 0;
  let waiter: ((reason: TriggerReason) => void) | undefined;
  let pollTimer: unknown;

  if (options.startImmediately ?? true) {
    sources = ["startup"];
    requests = 1;
  }

  function take(): TriggerReason {
    const reason = { sources, requests };
    sources = [];
    requests = 0;
    return reason;
  }

  function disarmPoll(): void {
    if (pollTimer !== undefined) timers.clearTimeout(pollTimer);
    pollTimer = undefined;
  }

  function notify(source: TriggerSource): void {
    if (!sources.includes(source)) sources.push(source);
    requests += 1;
    if (waiter) {
      const wake = waiter;
      waiter = undefined;
      disarmPoll();
      wake(take());
    }
  }

  return {
    notify,

    next(signal) {
      if (waiter) return Promise.reject(new Error("triggers.next() is already waiting"));
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (requests > 0) return Promise.resolve(take());
      return new Promise<TriggerReason>((resolve, reject) => {
        const onAbort = () => {
          waiter = undefined;
          disarmPoll();
          reject(signal?.reason);
        };
        waiter = (reason) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        // The poll is counted from now, the end of the previous pass, as a
        // requeue-after-interval: a pass a webhook just caused resets it.
        if (interval > 0) {
          pollTimer = timers.setTimeout(
            () => notify("poll"),
            pollDelay(interval, options.jitter ?? 0.1, random),
          );
        }
      });
    },

    get pending() {
      return requests > 0;
    },
  };
}
