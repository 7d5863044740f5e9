// Commit statuses against the loopback stand-in for the GitHub API that the
// sticky-comment test uses: pending when a rollout starts, success or failure
// when it ends, one context per cluster, linked to --external-url; refused or
// unanswered calls are counted and cost the rollout nothing.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { COMMIT_STATUS_TARGET, commitStatusSink } from "../../src/notify/commitStatuses.js";
import type { Notification } from "../../src/notify/notifications.js";
import type { DeliveryReport } from "../../src/notify/notifier.js";
import { commitStatusFor } from "../../src/notify/payload.js";
import { FAKE_GITHUB_TOKEN, FakeGitHub } from "../helpers/fakeGitHub.js";
import { waitFor } from "../helpers/waitFor.js";

const SHA = "c".repeat(40);

const note = (
  kind: Notification["kind"],
  commitState?: Notification["commitState"],
  extra: Partial<Notification> = {},
): Notification => ({
  kind,
  cluster: "prod",
  revision: SHA,
  message: `${kind} message`,
  at: "2026-12-07T02:00:00.000Z",
  ...(commitState ? { commitState } : {}),
  ...extra,
});

function counting() {
  const counts = { sent: 0, failed: 0, dropped: 0 };
  const errors: string[] = [];
  const report: DeliveryReport = {
    sent: (target) => {
      expect(target).toBe(COMMIT_STATUS_TARGET);
      counts.sent++;
    },
    failed: (_t, _n, error, attempts) => {
      counts.failed++;
      errors.push(`${attempts}: ${String(error)}`);
    },
    dropped: () => {
      counts.dropped++;
    },
  };
  return { counts, errors, report };
}

describe("commitStatusFor", () => {
  it.each([
    ["started", note("rollout-started", "pending"), "pending"],
    ["finished", note("rollout-finished", "success"), "success"],
    ["rolled back", note("rollout-rolled-back", "failure"), "failure"],
    ["a hold sets none", note("rollout-held"), undefined],
    [
      "a short revision sets none",
      note("rollout-started", "pending", { revision: "abc" }),
      undefined,
    ],
  ])("%s", (_name, n, state) => {
    expect(commitStatusFor(n, "https://quorate.example.com/")?.state).toBe(state);
  });

  it("names the cluster's context, links its status, and keeps within 140 characters", () => {
    const long = note("rollout-rolled-back", "failure", { message: "x".repeat(300) });
    const status = commitStatusFor(long, "https://quorate.example.com/");
    expect(status).toMatchObject({
      sha: SHA,
      context: "quorate/prod",
      targetUrl: "https://quorate.example.com/status?cluster=prod",
    });
    expect(status?.description).toHaveLength(140);
    expect(commitStatusFor(long)?.targetUrl).toBeUndefined();
  });
});

describe("commit statuses against a loopback GitHub", () => {
  const github = new FakeGitHub();
  const closers: (() => void)[] = [];
  beforeEach(() => github.start());
  afterEach(async () => {
    for (const close of closers.splice(0)) close();
    await github.stop();
    github.statuses = [];
    github.requests = [];
    github.statusAnswer = 201;
  });
  const sink = (report: DeliveryReport, token = FAKE_GITHUB_TOKEN) => {
    const s = commitStatusSink(
      { apiUrl: github.url, token, repo: "owner/repo" },
      "https://quorate.example.com",
      report,
      { timeoutMs: 300, retries: 1, backoffMs: 20 },
    );
    closers.push(s.close);
    return s;
  };

  it("sets pending, then success, on the revision, in order; a hold sets nothing", async () => {
    const { counts, report } = counting();
    const s = sink(report);
    s.enqueue(note("rollout-started", "pending"));
    s.enqueue(note("rollout-held"));
    s.enqueue(note("rollout-resumed"));
    s.enqueue(note("rollout-finished", "success"));
    await s.flush(5_000);
    expect(github.statuses).toEqual([
      {
        sha: SHA,
        state: "pending",
        context: "quorate/prod",
        description: "rollout started: rollout-started message",
        target_url: "https://quorate.example.com/status?cluster=prod",
      },
      {
        sha: SHA,
        state: "success",
        context: "quorate/prod",
        description: "rollout finished: rollout-finished message",
        target_url: "https://quorate.example.com/status?cluster=prod",
      },
    ]);
    expect(counts).toEqual({ sent: 2, failed: 0, dropped: 0 });
  });

  it("a rollback is a failure", async () => {
    const { report } = counting();
    const s = sink(report);
    s.enqueue(note("rollout-rolled-back", "failure"));
    await s.flush(5_000);
    expect(github.statuses.map((x) => x.state)).toEqual(["failure"]);
  });

  it("a token GitHub refuses fails at once, counted, not retried", async () => {
    const { counts, errors, report } = counting();
    const s = sink(report, "wrong-token");
    s.enqueue(note("rollout-started", "pending"));
    await s.flush(5_000);
    expect(counts).toEqual({ sent: 0, failed: 1, dropped: 0 });
    expect(errors[0]).toMatch(/^1: .*HTTP 401/);
    expect(github.requests).toEqual([`POST /repos/owner/repo/statuses/${SHA}`]);
  });

  it("a GitHub that never answers: enqueue returns at once, the call times out and is counted", async () => {
    github.statusAnswer = "hang";
    const { counts, errors, report } = counting();
    const s = sink(report);
    const started = performance.now();
    s.enqueue(note("rollout-started", "pending"));
    s.enqueue(note("rollout-finished", "success"));
    expect(performance.now() - started).toBeLessThan(20);
    await waitFor("both given up on", () => counts.failed === 2, { timeoutMs: 10_000 });
    expect(errors.every((e) => e.startsWith("2: "))).toBe(true); // one attempt and one retry
    expect(github.statuses).toEqual([]);
  });

  it("a server error is retried", async () => {
    github.statusAnswer = 502;
    const { counts, report } = counting();
    const s = sink(report);
    s.enqueue(note("rollout-started", "pending"));
    await s.flush(5_000);
    expect(github.requests).toHaveLength(2);
    expect(counts.failed).toBe(1);
  });
});
