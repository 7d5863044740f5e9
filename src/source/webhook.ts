// GitHub push webhooks: a signed POST tells the daemon to sync now instead
// of at the next poll. The signature is checked over the raw body before
// anything in it is read.
// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
// https://docs.github.com/en/webhooks/webhook-events-and-payloads#push
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { usage } from "../errors.js";

export interface PushEvent {
  /** The pushed ref, e.g. refs/heads/main. */
  readonly ref: string;
  /** The sha the ref points at after the push (all zeros when it was deleted). */
  readonly after: string;
  /** owner/name of the repository. */
  readonly repository: string;
  readonly deleted: boolean;
  /** GitHub's X-GitHub-Delivery id, for logs. */
  readonly delivery: string | undefined;
}

export interface WebhookOptions {
  /** The secret set on the webhook in GitHub. */
  readonly secret: string;
  /** Called for each authentic push, before the 202 is sent; should only enqueue work. */
  readonly onPush: (event: PushEvent) => void;
  /** Larger bodies get 413. GitHub caps payloads at 25 MB; pushes are far smaller. Default 1 MiB. */
  readonly maxBodyBytes?: number;
}

export type WebhookHandler = (request: IncomingMessage, response: ServerResponse) => void;

export const DEFAULT_WEBHOOK_PATH = "/hooks/github";
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** The signature GitHub sends for `body`: `sha256=<hex HMAC-SHA256>`. */
export function signWebhookBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Constant-time check of an X-Hub-Signature-256 header value against the raw body. Pure. */
export function isValidSignature(secret: string, body: Buffer, header: string): boolean {
  const expected = Buffer.from(signWebhookBody(secret, body));
  const given = Buffer.from(header.trim());
  // Lengths are public (the header's shape is); only equal lengths are compared, in constant time.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A node:http handler for POST <path>; the caller routes the path to it. */
export function createWebhookHandler(options: WebhookOptions): WebhookHandler {
  if (options.secret === "") {
    throw usage(
      "the webhook secret is empty",
      "set the same secret here and on the GitHub webhook",
    );
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return (request, response) => {
    if (request.method !== "POST") {
      reply(response, 405, "only POST is accepted here", { Allow: "POST" });
      return;
    }
    const declared = Number(request.headers["content-length"] ?? 0);
    if (declared > maxBodyBytes) {
      tooLarge(request, response, maxBodyBytes);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    request.on("data", (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBodyBytes) {
        refused = true;
        tooLarge(request, response, maxBodyBytes);
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => {
      if (!refused) handle(request, response, Buffer.concat(chunks), options);
    });
    request.on("error", () => response.destroy());
  };
}

function handle(
  request: IncomingMessage,
  response: ServerResponse,
  body: Buffer,
  options: WebhookOptions,
): void {
  const signature = header(request, "x-hub-signature-256");
  if (signature === undefined) {
    reply(
      response,
      401,
      "missing X-Hub-Signature-256: set a secret on the GitHub webhook (the same as quorate's)",
    );
    return;
  }
  if (!isValidSignature(options.secret, body, signature)) {
    reply(
      response,
      401,
      "X-Hub-Signature-256 does not match the body: the webhook's secret in GitHub differs from quorate's",
    );
    return;
  }
  const event = header(request, "x-github-event");
  if (event === "ping") {
    reply(response, 200, "pong");
    return;
  }
  if (event !== "push") {
    reply(response, 204);
    return;
  }
  const push = parsePush(
    body,
    header(request, "content-type"),
    header(request, "x-github-delivery"),
  );
  if (typeof push === "string") {
    reply(response, 400, push);
    return;
  }
  try {
    options.onPush(push);
  } catch {
    reply(response, 500, "the push could not be queued; it will be picked up by the next poll");
    return;
  }
  reply(response, 202, `accepted push of ${push.ref} at ${push.after}`);
}

/** The push fields quorate uses, or what is wrong with the payload. Pure. */
export function parsePush(
  body: Buffer,
  contentType: string | undefined,
  delivery: string | undefined,
): PushEvent | string {
  let text = body.toString("utf8");
  // GitHub can deliver as a form with the JSON in the `payload` field.
  if (contentType?.startsWith("application/x-www-form-urlencoded")) {
    text = new URLSearchParams(text).get("payload") ?? "";
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    return "the body is not JSON (set the webhook's content type to application/json)";
  }
  const { ref, after, repository, deleted } = (payload ?? {}) as Record<string, unknown>;
  const name = (repository as { full_name?: unknown } | undefined)?.full_name;
  if (typeof ref !== "string" || typeof after !== "string" || typeof name !== "string") {
    return "the push payload lacks ref, after or repository.full_name";
  }
  return { ref, after, repository: name, deleted: deleted === true, delivery };
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function tooLarge(request: IncomingMessage, response: ServerResponse, limit: number): void {
  // Answer, then close the connection instead of reading the rest.
  reply(response, 413, `the body is larger than ${limit} bytes`, { Connection: "close" });
  request.unpipe();
  request.resume();
}

function reply(
  response: ServerResponse,
  status: number,
  text?: string,
  headers: Record<string, string> = {},
): void {
  if (response.headersSent) return;
  if (text === undefined) {
    response.writeHead(status, headers).end();
    return;
  }
  response
    .writeHead(status, { "Content-Type": "text/plain; charset=utf-8", ...headers })
    .end(`${text}\n`);
}

export interface WebhookServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A server with only the webhook route, for tests and benchmarks (the daemon mounts the handler on its own). */
export async function startWebhookServer(
  options: WebhookOptions & { host?: string; port?: number; path?: string },
): Promise<WebhookServer> {
  const path = options.path ?? DEFAULT_WEBHOOK_PATH;
  const handler = createWebhookHandler(options);
  const server = createServer((request, response) => {
    if ((request.url ?? "").split("?")[0] === path) handler(request, response);
    else reply(response, 404, `not found; the webhook is at ${path}`);
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((listening, failed) => {
    server.once("error", failed);
    server.listen(options.port ?? 0, host, () => listening());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}${path}`,
    port,
    close: () =>
      new Promise<void>((closed) => {
        server.closeAllConnections();
        server.close(() => closed());
      }),
  };
}
