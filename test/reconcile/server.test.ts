// The daemon's HTTP server over real HTTP on loopback: liveness, status,
// metrics and the webhook mount, with the reconciler's getters as plain data.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics } from "../../src/reconcile/metrics.js";
import type { PassSummary, SourceStatus } from "../../src/reconcile/reconciler.js";
import {
  type DaemonServer,
  liveness,
  parseListenAddress,
  startDaemonServer,
} from "../../src/reconcile/server.js";
import { type ClusterStatus, initialStatus, nextStatus } from "../../src/reconcile/status.js";
import { type PushEvent, signWebhookBody } from "../../src/source/webhook.js";

const SECRET = "webhook secret for the test";
const MAX_AGE_MS = 60_000;
const SOURCE: SourceStatus = {
  repo: "acme/infra",
  ok: true,
  revision: "a".repeat(40),
  subject: "bump",
};
const DEV: ClusterStatus = nextStatus(
  initialStatus("dev"),
  { kind: "ready", message: "in sync" },
  { now: new Date(), stack: { stackName: "quorate-dev", status: "UPDATE_COMPLETE" } },
);

/** What the reconciler would expose; the tests change it between requests. */
const state: { lastPass: PassSummary | undefined; busy: string[] } = {
  lastPass: undefined,
  busy: [],
};
const pushes: PushEvent[] = [];
let withHook: DaemonServer;
let plain: DaemonServer;

function passFinishedAgo(ms: number): PassSummary {
  return {
    source: SOURCE,
    startedAt: new Date(Date.now() - ms - 500).toISOString(),
    durationMs: 500,
    clusters: [{ cluster: "dev", action: "none", outcome: "ready" }],
  };
}

beforeAll(async () => {
  const common = {
    host: "127.0.0.1",
    port: 0,
    statuses: () => [DEV],
    source: () => SOURCE,
    busy: () => state.busy,
    lastPass: () => state.lastPass,
    livenessMaxAgeMs: MAX_AGE_MS,
  };
  withHook = await startDaemonServer({
    ...common,
    metrics: createMetrics(),
    webhook: { secret: SECRET, onPush: (event) => pushes.push(event) },
  });
  plain = await startDaemonServer({ ...common, metrics: createMetrics() });
});

afterAll(async () => {
  await withHook?.close();
  await plain?.close();
});

describe("GET /healthz", () => {
  it("is 200 during the first pass, 200 after a recent pass, 503 with the reason when the last pass is too old", async () => {
    state.lastPass = undefined;
    let response = await fetch(`${withHook.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("ok: first pass in progress\n");

    state.lastPass = passFinishedAgo(1_000);
    response = await fetch(`${withHook.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("ok\n");

    state.lastPass = passFinishedAgo(10 * 60_000);
    response = await fetch(`${withHook.url}/healthz`);
    expect(response.status).toBe(503);
    expect(await response.text()).toMatch(/finished 60\ds ago .*more than the 60s allowed/);
  });
});

describe("GET /status", () => {
  it("answers JSON with source, lastPass, clusters and busy, in that order", async () => {
    state.lastPass = passFinishedAgo(1_000);
    state.busy = ["prod"];
    const response = await fetch(`${withHook.url}/status`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(["source", "lastPass", "clusters", "busy"]);
    expect(body).toEqual({
      source: SOURCE,
      lastPass: JSON.parse(JSON.stringify(state.lastPass)),
      clusters: [JSON.parse(JSON.stringify(DEV))],
      busy: ["prod"],
    });
  });

  it("?cluster=NAME (where a commit status links) answers that cluster only", async () => {
    state.busy = ["prod"];
    const dev = (await (await fetch(`${plain.url}/status?cluster=dev`)).json()) as {
      clusters: ClusterStatus[];
      busy: string[];
    };
    expect(dev.clusters.map((c) => c.cluster)).toEqual(["dev"]);
    expect(dev.busy).toEqual([]);
    const prod = (await (await fetch(`${plain.url}/status?cluster=prod`)).json()) as {
      clusters: ClusterStatus[];
      busy: string[];
    };
    expect(prod).toMatchObject({ clusters: [], busy: ["prod"] });
  });

  it("has lastPass null before the first pass finished", async () => {
    state.lastPass = undefined;
    const body = (await (await fetch(`${plain.url}/status`)).json()) as { lastPass: unknown };
    expect(body.lastPass).toBeNull();
  });
});

describe("GET /metrics", () => {
  it("serves Prometheus text, with the statuses observed at scrape time", async () => {
    const response = await fetch(`${withHook.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await response.text();
    expect(text).toContain('quorate_cluster_ready{cluster="dev"} 1');
    expect(text).toContain("quorate_source_up 1");
    expect(text).toContain("# TYPE quorate_reconcile_duration_seconds histogram");
  });
});

describe("POST /hooks/github", () => {
  const push = JSON.stringify({
    ref: "refs/heads/main",
    after: "f".repeat(40),
    repository: { full_name: "acme/infra" },
  });
  const headers = (signature: string) => ({
    "Content-Type": "application/json",
    "X-GitHub-Event": "push",
    "X-Hub-Signature-256": signature,
  });

  it("refuses a bad signature with 401 and calls nobody", async () => {
    pushes.length = 0;
    const response = await fetch(`${withHook.url}/hooks/github`, {
      method: "POST",
      body: push,
      headers: headers(signWebhookBody("another secret", push)),
    });
    expect(response.status).toBe(401);
    expect(pushes).toEqual([]);
  });

  it("hands a signed push to onPush and answers 202", async () => {
    pushes.length = 0;
    const response = await fetch(`${withHook.url}/hooks/github`, {
      method: "POST",
      body: push,
      headers: headers(signWebhookBody(SECRET, push)),
    });
    expect(response.status).toBe(202);
    expect(pushes).toMatchObject([{ ref: "refs/heads/main", after: "f".repeat(40) }]);
  });

  it("is 404 when no webhook is configured", async () => {
    const response = await fetch(`${plain.url}/hooks/github`, {
      method: "POST",
      body: push,
      headers: headers(signWebhookBody(SECRET, push)),
    });
    expect(response.status).toBe(404);
    expect(await response.text()).toBe(
      "not found; quorate serves /healthz, /status, /metrics, /, /dashboard.css, /dashboard.js, /favicon.svg, /events\n",
    );
  });
});

describe("other routes", () => {
  it("answers 404 for unknown paths and 405 with Allow for other methods", async () => {
    const missing = await fetch(`${withHook.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("/hooks/github");

    const post = await fetch(`${withHook.url}/status`, { method: "POST", body: "{}" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect(await post.text()).toBe("/status accepts GET only\n");

    const get = await fetch(`${withHook.url}/hooks/github`);
    expect(get.status).toBe(405);
  });

  it("answers HEAD without a body and ignores query strings", async () => {
    const head = await fetch(`${withHook.url}/healthz?verbose=1`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("binds the loopback address by default and reports its URL", async () => {
    const server = await startDaemonServer({
      port: 0,
      statuses: () => [],
      source: () => SOURCE,
      busy: () => [],
      lastPass: () => undefined,
      metrics: createMetrics(),
      livenessMaxAgeMs: MAX_AGE_MS,
    });
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe("liveness", () => {
  const finishedAt = Date.parse("2025-03-01T12:00:00Z");
  const last: PassSummary = {
    source: SOURCE,
    startedAt: new Date(finishedAt - 2_000).toISOString(),
    durationMs: 2_000,
    clusters: [],
  };
  it.each([
    [0, true],
    [MAX_AGE_MS, true],
    [MAX_AGE_MS + 1, false],
  ])("%i ms after the pass finished: live %s", (age, live) => {
    expect(liveness(last, MAX_AGE_MS, finishedAt + age).live).toBe(live);
  });
});

describe("parseListenAddress", () => {
  it.each([
    ["127.0.0.1:9464", { host: "127.0.0.1", port: 9464 }],
    ["0.0.0.0:80", { host: "0.0.0.0", port: 80 }],
    ["localhost:0", { host: "localhost", port: 0 }],
    ["[::1]:9464", { host: "::1", port: 9464 }],
    ["9464", { host: "127.0.0.1", port: 9464 }],
  ])("%s -> %j", (value, address) => {
    expect(parseListenAddress(value)).toEqual(address);
  });

  it.each([
    "",
    ":9464",
    "::1:9464",
    "[nope]:1",
    "host:",
    "host:65536",
    "host:port",
    "nosuchhost.invalid:9464",
    "300.1.1.1:80",
  ])("refuses %j with a usage error that shows an example", (value) => {
    expect(() => parseListenAddress(value)).toThrow(/--listen must be HOST:PORT/);
  });
});
