// The webhook sender against a real HTTP receiver on 127.0.0.1: what arrives,
// in what order, signed how; and that a receiver that never answers, fails, or
// falls behind costs the caller nothing (enqueue returns at once).
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Notification } from "../../src/notify/notifications.js";
import {
  createNotifier,
  type DeliveryReport,
  type QueueTuning,
  queuedSink,
} from "../../src/notify/notifier.js";
import { webhookDeliver } from "../../src/notify/webhook.js";
import { REASON } from "../../src/reconcile/conditions.js";
import { initialStatus, nextStatus } from "../../src/reconcile/status.js";
import { waitFor } from "../helpers/waitFor.js";

const SECRET = "s3cret-for-tests";

interface Received {
  body: string;
  signature: string | undefined;
  event: string | undefined;
}

/** A receiver whose answer the test decides; `received` keeps every request in arrival order. */
class Receiver {
  received: Received[] = [];
  answer: (req: IncomingMessage, res: ServerResponse, n: number) => void = (_q, res) =>
    res.end("ok");
  private server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        this.received.push({
          body: Buffer.concat(chunks).toString("utf8"),
          signature: req.headers["x-quorate-signature"] as string | undefined,
          event: req.headers["x-quorate-event"] as string | undefined,
        });
        this.answer(req, res, this.received.length);
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  kinds(): string[] {
    return this.received.map((r) => (JSON.parse(r.body) as { kind: string }).kind);
  }
  messages(): string[] {
    return this.received.map((r) => (JSON.parse(r.body) as { message: string }).message);
  }
}

function counting() {
  const counts = { sent: 0, failed: 0, dropped: 0 };
  const failures: { attempts: number; error: unknown }[] = [];
  const report: DeliveryReport = {
    sent: () => {
      counts.sent++;
    },
    failed: (_t, _n, error, attempts) => {
      counts.failed++;
      failures.push({ attempts, error });
    },
    dropped: () => {
      counts.dropped++;
    },
  };
  return { counts, failures, report };
}

const note = (message: string, kind: Notification["kind"] = "rollout-held"): Notification => ({
  kind,
  cluster: "dev",
  revision: "b".repeat(40),
  stack: "quorate-dev",
  message,
  at: "2026-12-07T02:00:00.000Z",
});

describe("webhook sender against a loopback receiver", () => {
  const receiver = new Receiver();
  const closers: (() => void)[] = [];
  const sink = (report: DeliveryReport, tuning: QueueTuning = {}) => {
    const s = queuedSink("webhook-0", webhookDeliver(receiver.url, SECRET), report, tuning);
    closers.push(s.close);
    return s;
  };
  afterEach(async () => {
    for (const close of closers.splice(0)) close();
    await receiver.stop();
    receiver.received = [];
    receiver.answer = (_q, res) => res.end("ok");
  });

  it("delivers in order, each body signed with HMAC-SHA256 of its raw bytes", async () => {
    await receiver.start();
    const { counts, report } = counting();
    const s = sink(report);
    const messages = ["one", "two", "three", "four", "five"];
    for (const m of messages) s.enqueue(note(m));
    await s.flush(5_000);
    expect(receiver.messages()).toEqual(messages);
    for (const r of receiver.received) {
      const expected = createHmac("sha256", SECRET).update(r.body).digest("hex");
      expect(r.signature).toBe(`sha256=${expected}`);
      expect(r.event).toBe("rollout-held");
      expect(JSON.parse(r.body)).toMatchObject({ cluster: "dev", text: expect.any(String) });
    }
    expect(counts).toEqual({ sent: 5, failed: 0, dropped: 0 });
  });

  it("a receiver that never answers costs the rollout nothing, and fails after its retries", async () => {
    await receiver.start();
    receiver.answer = () => {}; // holds every request open
    const { counts, failures, report } = counting();
    const s = sink(report, { timeoutMs: 200, retries: 1, backoffMs: 50 });
    // Through the notifier, the way the reconciler calls it: a status write and events.
    const notifier = createNotifier([s]);
    const progressing = nextStatus(
      initialStatus("dev"),
      { kind: "progressing", reason: REASON.Progressing, message: "apply" },
      { now: new Date(), revision: "b".repeat(40), attempted: true },
    );
    const started = performance.now();
    notifier.onStatus(undefined, progressing, {
      kind: "progressing",
      reason: REASON.Progressing,
      message: "apply",
    });
    notifier.onEvent({
      at: new Date().toISOString(),
      cluster: "dev",
      type: "stack-status",
      stackStatus: "UPDATE_IN_PROGRESS",
      message: "executed change set",
    });
    for (let i = 0; i < 50; i++) s.enqueue(note(`n${i}`));
    const elapsed = performance.now() - started;
    // Synchronous: the calls returned before the receiver had even seen a request.
    expect(receiver.received).toHaveLength(0);
    expect(elapsed).toBeLessThan(50);
    await waitFor("the first failure", () => failures.length >= 1, { timeoutMs: 5_000 });
    expect(failures[0]?.attempts).toBe(2); // the first attempt and one retry
    expect(receiver.kinds().slice(0, 2)).toEqual(["rollout-started", "rollout-started"]);
    expect(counts.sent).toBe(0);
  });

  it("retries a 500, then gives up and counts one failure; order holds for the next", async () => {
    await receiver.start();
    receiver.answer = (_req, res) => {
      const body = receiver.received.at(-1)?.body ?? "";
      res.statusCode = body.includes('"message":"bad"') ? 500 : 200;
      res.end();
    };
    const { counts, failures, report } = counting();
    const s = sink(report, { retries: 2, backoffMs: 20 });
    s.enqueue(note("bad"));
    s.enqueue(note("good"));
    await s.flush(5_000);
    expect(receiver.messages()).toEqual(["bad", "bad", "bad", "good"]);
    expect(failures[0]?.attempts).toBe(3);
    expect(String(failures[0]?.error)).toContain("HTTP 500");
    expect(counts).toEqual({ sent: 1, failed: 1, dropped: 0 });
  });

  it("does not retry what another attempt will not fix (HTTP 404)", async () => {
    await receiver.start();
    receiver.answer = (_q, res) => {
      res.statusCode = 404;
      res.end();
    };
    const { counts, report } = counting();
    const s = sink(report, { retries: 2, backoffMs: 20 });
    s.enqueue(note("lost"));
    await s.flush(5_000);
    expect(receiver.received).toHaveLength(1);
    expect(counts.failed).toBe(1);
  });

  it("when the queue is full, drops the oldest waiting and counts it", async () => {
    await receiver.start();
    let release: (() => void) | undefined;
    receiver.answer = (_q, res, n) => {
      if (n === 1) release = () => res.end("ok");
      else res.end("ok");
    };
    const { counts, report } = counting();
    const s = sink(report, { capacity: 2 });
    for (const m of ["first", "second", "third", "fourth", "fifth"]) s.enqueue(note(m));
    // "first" is in flight; the queue holds two: second and third went to make room.
    expect(counts.dropped).toBe(2);
    await waitFor("the first request", () => release !== undefined, { timeoutMs: 5_000 });
    release?.();
    await s.flush(5_000);
    expect(receiver.messages()).toEqual(["first", "fourth", "fifth"]);
    expect(counts).toEqual({ sent: 3, failed: 0, dropped: 2 });
  });

  it("a refused connection is a failure like any other", async () => {
    await receiver.start();
    await receiver.stop(); // nothing listens on the port any more
    const { counts, report } = counting();
    const s = sink(report, { retries: 1, backoffMs: 10 });
    s.enqueue(note("nobody"));
    await s.flush(5_000);
    expect(counts).toEqual({ sent: 0, failed: 1, dropped: 0 });
  });
});
