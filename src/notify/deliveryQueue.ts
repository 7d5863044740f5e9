// A small bounded queue per receiver: items go out one at a time, in the order
// they were queued, each attempt bounded by a timeout and retried a couple of
// times with backoff. enqueue never waits and never throws, so a dead or slow
// receiver cannot hold up a rollout or a pass; when the queue is full the
// oldest waiting item is dropped (news of a rollout is worth less as it ages).

export interface DeliveryOptions<T> {
  /** Sends one item; rejects to fail the attempt. Must honour the signal. */
  deliver(item: T, signal: AbortSignal): Promise<void>;
  /** Items waiting, besides the one in flight (default 100). */
  capacity?: number;
  /** Bound on one attempt (default 5 s). */
  timeoutMs?: number;
  /** Attempts after the first (default 2). */
  retries?: number;
  /** Wait before the first retry, doubled before each next one (default 1 s). */
  backoffMs?: number;
  onSent?(item: T, attempts: number): void;
  onFailed?(item: T, error: unknown, attempts: number): void;
  onDropped?(item: T): void;
}

export interface DeliveryQueue<T> {
  enqueue(item: T): void;
  /** Resolves when nothing waits or is in flight, or after `ms`, whichever is first. */
  flush(ms: number): Promise<void>;
  /** Aborts what is in flight and forgets what waits. */
  close(): void;
}

/** A failure that another attempt will not fix (HTTP 400, 401, 404...). */
export class PermanentDeliveryError extends Error {}

export function createDeliveryQueue<T>(options: DeliveryOptions<T>): DeliveryQueue<T> {
  const capacity = options.capacity ?? 100;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const retries = options.retries ?? 2;
  const backoffMs = options.backoffMs ?? 1_000;
  const waiting: T[] = [];
  const closed = new AbortController();
  let busy = false;
  let idle: (() => void)[] = [];

  const attempt = (item: T): Promise<void> => {
    const signal = AbortSignal.any([closed.signal, AbortSignal.timeout(timeoutMs)]);
    // Raced with the signal, so that a deliver that ignores it cannot wedge the queue.
    return new Promise<void>((resolve, reject) => {
      const abort = () => reject(signal.reason);
      if (signal.aborted) return abort();
      signal.addEventListener("abort", abort, { once: true });
      options.deliver(item, signal).then(resolve, reject);
    });
  };

  const send = async (item: T): Promise<void> => {
    for (let attempts = 1; ; attempts++) {
      try {
        await attempt(item);
        options.onSent?.(item, attempts);
        return;
      } catch (error) {
        const last = attempts > retries || error instanceof PermanentDeliveryError;
        if (last || closed.signal.aborted) {
          options.onFailed?.(item, error, attempts);
          return;
        }
        await pause(backoffMs * 2 ** (attempts - 1), closed.signal);
      }
    }
  };

  const drain = async (): Promise<void> => {
    busy = true;
    try {
      for (let item = waiting.shift(); item !== undefined; item = waiting.shift()) {
        if (closed.signal.aborted) break;
        await send(item);
      }
    } finally {
      busy = false;
      for (const resolve of idle) resolve();
      idle = [];
    }
  };

  return {
    enqueue(item) {
      if (closed.signal.aborted) return;
      if (waiting.length >= capacity) {
        const oldest = waiting.shift();
        if (oldest !== undefined) options.onDropped?.(oldest);
      }
      waiting.push(item);
      if (!busy) void drain();
    },
    flush(ms) {
      if (!busy && waiting.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        timer.unref();
        idle.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    close() {
      waiting.length = 0;
      closed.abort(new Error("notifications stopped"));
    },
  };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
