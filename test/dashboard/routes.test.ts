// The dashboard's routes on the daemon's server, over real HTTP on loopback:
// the page and its assets under a CSP, and /events, which sends the live
// fragment at once and again when what it shows changes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTENT_SECURITY_POLICY } from "../../src/dashboard/assets.js";
import { type DashboardView, renderLive } from "../../src/dashboard/page.js";
import { sseMessage } from "../../src/dashboard/routes.js";
import { createMetrics } from "../../src/reconcile/metrics.js";
import { type DaemonServer, startDaemonServer } from "../../src/reconcile/server.js";
import { viewOf } from "./fixtures.js";

let view: DashboardView = viewOf({ cluster: "dev", message: "applying", subject: "bump" });
let server: DaemonServer;

beforeAll(async () => {
  server = await startDaemonServer({
    host: "127.0.0.1",
    port: 0,
    statuses: () => view.clusters,
    source: () => view.source,
    busy: () => view.busy,
    lastPass: () => undefined,
    timelines: () => view.timelines,
    passes: () => view.passes,
    metrics: createMetrics(),
    livenessMaxAgeMs: 60_000,
    liveIntervalMs: 20,
  });
});

afterAll(async () => {
  await server?.close();
});

describe("sseMessage", () => {
  it("is one event with its data on one line, whatever newlines the HTML holds", () => {
    const message = sseMessage("page", { html: "<p>a\nb\r\nc</p>" });
    expect(message).toBe('event: page\ndata: {"html":"<p>a\\nb\\r\\nc</p>"}\n\n');
    expect(message.slice(0, -2).split("\n")).toHaveLength(2);
  });
});

describe("GET /", () => {
  it("is the whole page, with a CSP, no caching and no sniffing", async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain("unsafe-inline");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const body = await response.text();
    expect(body).toContain(renderLive(view));
  });

  it("serves its script and stylesheet with their types", async () => {
    const js = await fetch(`${server.url}/dashboard.js`);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await js.text()).toContain("new EventSource(live.dataset.events)");
    const css = await fetch(`${server.url}/dashboard.css`);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
  });

  it("is read-only: POST gets 405", async () => {
    const response = await fetch(`${server.url}/`, { method: "POST" });
    expect(response.status).toBe(405);
  });
});

describe("GET /events", () => {
  it("sends the fragment at once, then the changed one when the state changes", async () => {
    const abort = new AbortController();
    const response = await fetch(`${server.url}/events`, { signal: abort.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const reader = response.body?.getReader();
    if (!reader) throw new Error("no body");
    const decoder = new TextDecoder();
    let buffered = "";
    /** The next whole event (blank-line terminated), in order. */
    const next = async (): Promise<string> => {
      for (;;) {
        const end = buffered.indexOf("\n\n");
        if (end >= 0) {
          const message = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          return message;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("the stream ended");
        buffered += decoder.decode(value, { stream: true });
      }
    };
    try {
      expect(await next()).toBe("retry: 3000");
      const first = await next();
      expect(`${first}\n\n`).toBe(sseMessage("page", { html: renderLive(view) }));

      // The stream reads the state every 20 ms and sends it when it differs.
      view = viewOf({ cluster: "dev", message: "applying", subject: "another commit" });
      const second = await next();
      expect(second).toContain("another commit");
      expect(`${second}\n\n`).toBe(sseMessage("page", { html: renderLive(view) }));
    } finally {
      abort.abort();
      await reader.cancel().catch(() => {});
    }
  });
});
