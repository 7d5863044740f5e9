// The daemon's HTTP face: liveness for probes, status for people and scripts
// (JSON, and the dashboard at /), Prometheus metrics, and the GitHub webhook.
// It only reads what the reconciler exposes through the getters it is given;
// it never drives a pass.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type AddressInfo, isIP } from "node:net";
import type { PassRecord } from "../dashboard/passHistory.js";
import { createDashboardRoutes, DASHBOARD_PATHS } from "../dashboard/routes.js";
import type { RolloutTimeline } from "../dashboard/timeline.js";
import { usage } from "../errors.js";
import { createWebhookHandler, DEFAULT_WEBHOOK_PATH, type PushEvent } from "../source/webhook.js";
import { sendBody } from "./httpReply.js";
import type { QuorateMetrics } from "./metrics.js";
import type { PassSummary, SourceStatus } from "./reconciler.js";
import type { ClusterStatus } from "./status.js";

export const DEFAULT_LISTEN_HOST = "127.0.0.1";
export const DEFAULT_LISTEN_PORT = 9464;

export interface DaemonServerOptions {
  /** Default 127.0.0.1: the status and metrics are for this box unless an operator opens them up. */
  host?: string;
  /** Default 9464; 0 picks a free port. */
  port?: number;
  statuses: () => ClusterStatus[];
  source: () => SourceStatus;
  busy: () => string[];
  lastPass: () => PassSummary | undefined;
  /** The dashboard's rollouts and passes (none when absent). */
  timelines?: () => RolloutTimeline[];
  passes?: () => PassRecord[];
  /** How often an open dashboard's stream looks for a change (default 1 s). */
  liveIntervalMs?: number;
  metrics: QuorateMetrics;
  webhook?: { secret: string; onPush(event: PushEvent): void };
  /** /healthz fails once the last completed pass finished longer ago than this. */
  livenessMaxAgeMs: number;
  now?: () => number;
}

export interface DaemonServer {
  /** http://host:port, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The body of GET /status, fields in this order. */
export interface DaemonStatusBody {
  source: SourceStatus;
  lastPass: PassSummary | null;
  clusters: ClusterStatus[];
  busy: string[];
}

export type Liveness = { live: true; message: string } | { live: false; message: string };

/** Liveness as a pure function of the last pass: the loop is alive while passes keep finishing. */
export function liveness(
  lastPass: PassSummary | undefined,
  maxAgeMs: number,
  now: number,
): Liveness {
  if (!lastPass) return { live: true, message: "ok: first pass in progress" };
  const finished = Date.parse(lastPass.startedAt) + lastPass.durationMs;
  const age = now - finished;
  if (age <= maxAgeMs) return { live: true, message: "ok" };
  return {
    live: false,
    message: `the last reconcile pass finished ${Math.round(age / 1000)}s ago (at ${new Date(finished).toISOString()}), more than the ${Math.round(maxAgeMs / 1000)}s allowed: the loop looks stuck; restart quorate and read its log`,
  };
}

/** With `cluster` (GET /status?cluster=NAME, where a commit status links), that cluster only. */
export function statusBody(
  options: Pick<DaemonServerOptions, "statuses" | "source" | "busy" | "lastPass">,
  cluster?: string,
): DaemonStatusBody {
  const mine = (name: string) => cluster === undefined || name === cluster;
  return {
    source: options.source(),
    lastPass: options.lastPass() ?? null,
    clusters: options.statuses().filter((s) => mine(s.cluster)),
    busy: options.busy().filter(mine),
  };
}

/** `--listen HOST:PORT` (`[::1]:9464` for IPv6); a bare port keeps the loopback default. */
export function parseListenAddress(value: string): { host: string; port: number } {
  const match = /^(?:(?:\[([^\]]+)\]|([^:[\]]+)):)?(\d+)$/.exec(value);
  const host = match?.[1] ?? match?.[2] ?? DEFAULT_LISTEN_HOST;
  const port = Number(match?.[3]);
  // An address, not a name: a name is resolved only when the server starts,
  // after the first pass, and one that does not resolve must be a usage error.
  const hostOk = match?.[1] ? isIP(host) === 6 : isIP(host) === 4 || host === "localhost";
  if (!match || !hostOk || !Number.isInteger(port) || port > 65535) {
    throw usage(
      `--listen must be HOST:PORT, HOST an IPv4 address, [IPv6] or localhost, PORT 0 to 65535 (got ${JSON.stringify(value)})`,
      `for example ${DEFAULT_LISTEN_HOST}:${DEFAULT_LISTEN_PORT}; 0.0.0.0:${DEFAULT_LISTEN_PORT} opens /status and /metrics to the network`,
    );
  }
  return { host, port };
}

export async function startDaemonServer(options: DaemonServerOptions): Promise<DaemonServer> {
  const now = options.now ?? Date.now;
  const webhook = options.webhook ? createWebhookHandler(options.webhook) : undefined;
  const dashboard = createDashboardRoutes(
    () => ({
      source: options.source(),
      clusters: options.statuses(),
      busy: options.busy(),
      timelines: options.timelines?.() ?? [],
      passes: options.passes?.() ?? [],
    }),
    options.liveIntervalMs ? { liveIntervalMs: options.liveIntervalMs } : {},
  );
  const routes = [
    "/healthz",
    "/status",
    "/metrics",
    ...DASHBOARD_PATHS,
    ...(webhook ? [DEFAULT_WEBHOOK_PATH] : []),
  ];

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? "/", "http://quorate");
    const path = url.pathname;
    if (path === DEFAULT_WEBHOOK_PATH && webhook) {
      webhook(request, response);
      return;
    }
    if (!routes.includes(path)) {
      text(response, 404, `not found; quorate serves ${routes.join(", ")}`);
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      text(response, 405, `${path} accepts GET only`, { Allow: "GET, HEAD" });
      return;
    }
    if (dashboard.handle(path, request, response)) return;
    switch (path) {
      case "/healthz": {
        const state = liveness(options.lastPass(), options.livenessMaxAgeMs, now());
        text(response, state.live ? 200 : 503, state.message);
        return;
      }
      case "/status":
        sendBody(
          response,
          200,
          "application/json; charset=utf-8",
          `${JSON.stringify(statusBody(options, url.searchParams.get("cluster") ?? undefined), null, 2)}\n`,
        );
        return;
      case "/metrics": {
        // Fresh gauges on every scrape: background rollouts change statuses between passes.
        options.metrics.observeStatuses(options.statuses(), options.source());
        const body = await options.metrics.registry.metrics();
        sendBody(response, 200, options.metrics.registry.contentType, body);
        return;
      }
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      text(response, 500, `quorate: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  const host = options.host ?? DEFAULT_LISTEN_HOST;
  await new Promise<void>((listening, failed) => {
    server.once("error", failed);
    server.listen(options.port ?? DEFAULT_LISTEN_PORT, host, () => {
      server.off("error", failed);
      listening();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((closed) => {
        server.closeAllConnections();
        server.close(() => closed());
      }),
  };
}

function text(
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  sendBody(response, status, "text/plain; charset=utf-8", `${body}\n`, headers);
}
