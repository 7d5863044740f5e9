// The trigger queue with an injected clock: no real waiting, no timing assertions.
import { describe, expect, it } from "vitest";
import {
  createTriggers,
  pollDelay,
  type TriggerReason,
  type TriggerTimers,
} from "../../src/source/triggers.js";

/** Timers that fire only when the test says so. */
function manualTimers() {
  const scheduled = new Map<number, { run: () => void; ms: number }>();
  let nextId = 0;
  const timers: TriggerTimers = {
    setTimeout(run, ms) {
      nextId += 1;
      scheduled.set(nextId, { run, ms });
      return nextId;
    },
    clearTimeout(handle) {
      scheduled.delete(handle as number);
    },
  };
  return {
    timers,
    scheduled,
    fireAll() {
      const due = [...scheduled.values()];
      scheduled.clear();
      for (const timer of due) timer.run();
    },
  };
}

/** Settles with "pending" if `promise` has not resolved once queued callbacks have run. */
async function state(promise: Promise<TriggerReason>): Promise<TriggerReason | "pending"> {
  return Promise.race([promise, new Promise<"pending">((r) => setImmediate(() => r("pending")))]);
}

describe("createTriggers", () => {
  it("starts with one pass, then waits for a request", async () => {
    const triggers = createTriggers();
    expect(await triggers.next()).toEqual({ sources: ["startup"], requests: 1 });
    const waiting = triggers.next();
    expect(await state(waiting)).toBe("pending");
    triggers.notify("webhook");
    expect(await waiting).toEqual({ sources: ["webhook"], requests: 1 });
  });

  it("coalesces a burst that arrives during a pass into exactly one more pass", async () => {
    const triggers = createTriggers({ startImmediately: false });
    const first = triggers.next();
    triggers.notify("watch");
    expect(await first).toEqual({ sources: ["watch"], requests: 1 });

    // The pass runs; meanwhile:
    triggers.notify("watch");
    triggers.notify("webhook");
    triggers.notify("watch");
    triggers.notify("poll");
    expect(triggers.pending).toBe(true);

    expect(await triggers.next()).toEqual({ sources: ["watch", "webhook", "poll"], requests: 4 });
    expect(triggers.pending).toBe(false);
    expect(await state(triggers.next())).toBe("pending");
  });

  it("polls an interval after the daemon starts waiting, and a push resets the poll", async () => {
    const clock = manualTimers();
    const triggers = createTriggers({
      startImmediately: false,
      pollIntervalMs: 60_000,
      jitter: 0.1,
      random: () => 0.5,
      timers: clock.timers,
    });
    expect(clock.scheduled.size).toBe(0);

    const pushed = triggers.next();
    expect([...clock.scheduled.values()].map((t) => t.ms)).toEqual([60_000]);
    triggers.notify("webhook");
    expect(await pushed).toEqual({ sources: ["webhook"], requests: 1 });
    expect(clock.scheduled.size).toBe(0);

    const polled = triggers.next();
    expect(clock.scheduled.size).toBe(1);
    clock.fireAll();
    expect(await polled).toEqual({ sources: ["poll"], requests: 1 });
  });

  it("never polls without an interval", async () => {
    const clock = manualTimers();
    const triggers = createTriggers({ startImmediately: false, timers: clock.timers });
    const waiting = triggers.next();
    expect(clock.scheduled.size).toBe(0);
    triggers.notify("manual");
    await waiting;
  });

  it("rejects on abort and disarms the poll", async () => {
    const clock = manualTimers();
    const triggers = createTriggers({
      startImmediately: false,
      pollIntervalMs: 1000,
      timers: clock.timers,
    });
    const controller = new AbortController();
    const waiting = triggers.next(controller.signal);
    controller.abort(new Error("stopping"));
    await expect(waiting).rejects.toThrow("stopping");
    expect(clock.scheduled.size).toBe(0);
    // A request that arrives after the abort is kept for the next waiter.
    triggers.notify("webhook");
    expect(await triggers.next()).toEqual({ sources: ["webhook"], requests: 1 });
  });

  it("allows one waiter at a time", async () => {
    const triggers = createTriggers({ startImmediately: false });
    const first = triggers.next();
    await expect(triggers.next()).rejects.toThrow("already waiting");
    triggers.notify("manual");
    await first;
  });
});

describe("pollDelay", () => {
  it.each([
    [0, 54_000],
    [0.5, 60_000],
    [0.999999, 66_000],
  ])("with random %d is within the jitter", (random, expected) => {
    expect(pollDelay(60_000, 0.1, () => random)).toBe(expected);
  });

  it("clamps the jitter to the interval", () => {
    expect(pollDelay(1000, 5, () => 0)).toBe(0);
    expect(pollDelay(1000, -1, () => 0.7)).toBe(1000);
  });
});
