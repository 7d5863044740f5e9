// The dashboard's routes on the daemon's server: the page, its stylesheet
// and script, and /events, a server-sent event stream that sends the live
// fragment at once and then whenever it changes (read every liveIntervalMs).
// Read-only: nothing here changes what the reconciler does.
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendBody } from "../reconcile/httpReply.js";
import {
  DASHBOARD_CSS,
  DASHBOARD_CSS_PATH,
  DASHBOARD_HEADERS,
  DASHBOARD_JS,
  DASHBOARD_JS_PATH,
  EVENTS_PATH,
  FAVICON_PATH,
  FAVICON_SVG,
} from "./assets.js";
import { type DashboardView, renderDashboard, renderLive } from "./page.js";

export const DASHBOARD_PATHS = [
  "/",
  DASHBOARD_CSS_PATH,
  DASHBOARD_JS_PATH,
  FAVICON_PATH,
  EVENTS_PATH,
];

/** A few tabs and a wall screen; more would be a leak (each stream renders every second). */
export const MAX_EVENT_STREAMS = 32;
const KEEPALIVE_MS = 15_000;

/** One server-sent event; `data` is JSON, one line, so no field can end the event early. */
export function sseMessage(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export interface DashboardRoutes {
  /** Answers the request when the path is the dashboard's; false otherwise. */
  handle(path: string, request: IncomingMessage, response: ServerResponse): boolean;
}

export function createDashboardRoutes(
  view: () => DashboardView,
  options: { liveIntervalMs?: number } = {},
): DashboardRoutes {
  const intervalMs = options.liveIntervalMs ?? 1_000;
  let streams = 0;

  const stream = (request: IncomingMessage, response: ServerResponse) => {
    if (streams >= MAX_EVENT_STREAMS) {
      send(response, 503, "text/plain; charset=utf-8", "too many dashboards open\n", {
        "Retry-After": "30",
      });
      return;
    }
    response.writeHead(200, {
      ...DASHBOARD_HEADERS,
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      "X-Accel-Buffering": "no",
    });
    if (request.method === "HEAD") {
      response.end();
      return;
    }
    streams++;
    let last = "";
    let quietSince = Date.now();
    const push = () => {
      const html = renderLive(view());
      if (html !== last) {
        last = html;
        quietSince = Date.now();
        response.write(sseMessage("page", { html }));
      } else if (Date.now() - quietSince >= KEEPALIVE_MS) {
        // A comment line: keeps proxies and the browser from closing an idle stream.
        quietSince = Date.now();
        response.write(": keep-alive\n\n");
      }
    };
    response.write("retry: 3000\n\n");
    push();
    const timer = setInterval(push, intervalMs);
    response.on("close", () => {
      clearInterval(timer);
      streams--;
    });
  };

  return {
    handle(path, request, response) {
      switch (path) {
        case "/":
          send(response, 200, "text/html; charset=utf-8", renderDashboard(view()));
          return true;
        case DASHBOARD_CSS_PATH:
          send(response, 200, "text/css; charset=utf-8", DASHBOARD_CSS);
          return true;
        case DASHBOARD_JS_PATH:
          send(response, 200, "text/javascript; charset=utf-8", DASHBOARD_JS);
          return true;
        case FAVICON_PATH:
          send(response, 200, "image/svg+xml", FAVICON_SVG);
          return true;
        case EVENTS_PATH:
          stream(request, response);
          return true;
        default:
          return false;
      }
    },
  };
}

/** Every dashboard answer carries its security headers (CSP, no sniffing, no framing). */
function send(
  response: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  sendBody(response, status, contentType, body, { ...DASHBOARD_HEADERS, ...headers });
}
