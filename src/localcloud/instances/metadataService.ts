// One instance's metadata service (IMDS), the local stand-in for
// http://169.254.169.254 on EC2. Only IMDSv2 (session tokens), as launch
// templates with HttpTokens=required get:
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
// Tags come from the engine on every request, so tags added after launch show up,
// as with InstanceMetadataTags=enabled:
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/work-with-tags-in-IMDS.html
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const TOKEN_PATH = "/latest/api/token";
export const TOKEN_HEADER = "x-aws-ec2-metadata-token";
export const TOKEN_TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds";
/** IMDSv2 token lifetimes are 1 second to 6 hours. */
const MAX_TOKEN_TTL_SECONDS = 21_600;
const TAGS_PATH = "/latest/meta-data/tags/instance";

export interface MetadataSource {
  address: string;
  /** 0 picks a free port; the bound one is in MetadataService.port. */
  port: number;
  instanceId: string;
  imageId: string;
  userDataBase64: string;
  tags(): Record<string, string>;
  /** Clock for token expiry; Date.now by default. */
  now?: () => number;
}

export interface MetadataService {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

type Reply = { status: number; body: string; headers?: Record<string, string> };

const notFound: Reply = { status: 404, body: "Not Found" };

export async function startMetadataService(source: MetadataSource): Promise<MetadataService> {
  const now = source.now ?? Date.now;
  const tokens = new Map<string, number>(); // token -> expiry (ms)

  const issueToken = (req: IncomingMessage): Reply => {
    // IMDS refuses token requests that went through a proxy.
    if (req.headers["x-forwarded-for"] !== undefined) return { status: 403, body: "Forbidden" };
    const ttl = Number(req.headers[TOKEN_TTL_HEADER]);
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL_SECONDS) {
      return { status: 400, body: "Bad Request" };
    }
    for (const [token, expiry] of tokens) if (expiry <= now()) tokens.delete(token);
    const token = randomBytes(32).toString("base64url");
    tokens.set(token, now() + ttl * 1000);
    return { status: 200, body: token, headers: { [TOKEN_TTL_HEADER]: String(ttl) } };
  };

  const authorized = (req: IncomingMessage): boolean => {
    const token = req.headers[TOKEN_HEADER];
    const expiry = typeof token === "string" ? tokens.get(token) : undefined;
    return expiry !== undefined && expiry > now();
  };

  const read = (path: string): Reply => {
    switch (path) {
      case "/latest/meta-data":
      case "/latest/meta-data/":
        return ok(["ami-id", "instance-id", "local-ipv4", "tags/"].join("\n"));
      case "/latest/meta-data/instance-id":
        return ok(source.instanceId);
      case "/latest/meta-data/local-ipv4":
        return ok(source.address);
      case "/latest/meta-data/ami-id":
        return ok(source.imageId);
      case "/latest/user-data":
        if (source.userDataBase64 === "") return notFound;
        return ok(Buffer.from(source.userDataBase64, "base64").toString("utf8"));
      case TAGS_PATH:
      case `${TAGS_PATH}/`:
        return ok(Object.keys(source.tags()).join("\n"));
    }
    if (path.startsWith(`${TAGS_PATH}/`)) {
      const key = decodeURIComponent(path.slice(TAGS_PATH.length + 1));
      const value = source.tags()[key];
      return value === undefined ? notFound : ok(value);
    }
    return notFound;
  };

  const handle = (req: IncomingMessage): Reply => {
    const path = new URL(req.url ?? "/", "http://imds").pathname;
    if (path === TOKEN_PATH) {
      return req.method === "PUT" ? issueToken(req) : { status: 405, body: "Method Not Allowed" };
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return { status: 405, body: "Method Not Allowed" };
    }
    if (!authorized(req)) return { status: 401, body: "Unauthorized" };
    return read(path);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    let reply: Reply;
    try {
      reply = handle(req);
    } catch (error) {
      reply = { status: 500, body: `Internal Server Error: ${(error as Error).message}` };
    }
    res.writeHead(reply.status, { "content-type": "text/plain", ...reply.headers });
    res.end(req.method === "HEAD" ? undefined : reply.body);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(source.port, source.address, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    address: source.address,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function ok(body: string): Reply {
  return { status: 200, body };
}
