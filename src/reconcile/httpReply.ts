// One way to answer an HTTP request with a whole body, for the daemon's
// endpoints and the dashboard's: its length, no caching, and nothing once
// headers went out (a stream that already answered).
import type { ServerResponse } from "node:http";

export function sendBody(
  response: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  if (response.headersSent) return;
  response
    .writeHead(status, {
      "Content-Type": contentType,
      "Content-Length": Buffer.byteLength(body),
      "Cache-Control": "no-store",
      ...headers,
    })
    .end(body);
}
