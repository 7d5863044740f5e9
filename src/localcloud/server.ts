// The local cloud's HTTP server on loopback: the AWS query APIs and S3's REST
// API (the service told apart by the SigV4 credential scope, as AWS endpoints
// are), the admin API under /_quorate/, and the Flatcar release feed under /_flatcar/.
// The access key in the scope picks the account (accounts.ts): each account is
// its own world with its own services; S3 is one store for all of them, as its
// bucket names are global.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type AdminContext, handleAdmin } from "./admin.js";
import { FEED_PATH, feedDocument } from "./flatcarFeed.js";
import { authorizeQueryCall, authorizeS3Request } from "./iam/enforcement.js";
import { uuid } from "./ids.js";
import { AwsError } from "./protocol/awsError.js";
import { actionOf, errorResponse, type ServiceDefinition, serve } from "./protocol/dispatch.js";
import { type CredentialScope, credentialScope } from "./protocol/sigv4.js";
import { handleS3, type S3Context } from "./s3/api.js";
import type { World } from "./world.js";

const MAX_BODY = 16 * 1024 * 1024;

/** One account as the server sees it: its world and the query services that serve it. */
export interface AccountEndpoint {
  world: World;
  services: readonly ServiceDefinition[];
  /** The caller's ARN, whose permissions an enforced policy evaluates. */
  principal: string;
}

export interface ServerOptions {
  host: string;
  port: number;
  /** The account an access key stands for; throws an AwsError for a key it refuses (expired). */
  accountFor(accessKeyId: string): AccountEndpoint;
  /** The world of an account by id, for the admin API's ?account=; undefined when there is none. */
  accountById(accountId: string): World | undefined;
  /** S3 streams its bodies, so it is served apart from the query services. */
  s3: S3Context;
  /** The default account's world: the admin API's when no account is named, and the server's log. */
  world: World;
  admin: Omit<AdminContext, "world" | "objects">;
}

export interface RunningServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(
          new AwsError(
            "RequestEntityTooLarge",
            "The request body is larger than the local cloud accepts",
            413,
          ),
        );
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(body),
    "x-amzn-requestid": uuid(),
  });
  res.end(body);
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const defaultWorld = options.world;
  const adminContext: AdminContext = {
    world: defaultWorld,
    objects: options.s3.store,
    ...options.admin,
  };
  const count = (key: string) =>
    options.admin.counters.set(key, (options.admin.counters.get(key) ?? 0) + 1);
  /** A denial is counted as denied:<service>:<Action> and logged with what was refused. */
  const refused = (service: string, action: string, error: AwsError) => {
    count(`denied:${service}:${action}`);
    defaultWorld.log({ event: "access-denied", service, action, message: error.message });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://local");
    const method = req.method ?? "GET";
    if (url.pathname.startsWith("/_quorate/")) {
      const body = method === "GET" || method === "HEAD" ? "" : await readBody(req);
      const accountId = url.searchParams.get("account");
      const accountWorld = accountId ? options.accountById(accountId) : defaultWorld;
      if (!accountWorld) {
        send(
          res,
          404,
          "application/json",
          `${JSON.stringify({ error: `no account ${accountId} in the local cloud (GET /_quorate/accounts lists them)` })}\n`,
        );
        return;
      }
      const out = await handleAdmin(
        { ...adminContext, world: accountWorld },
        method,
        url.pathname,
        body,
      );
      accountWorld.store.flush();
      send(res, out.status, "application/json", `${JSON.stringify(out.body)}\n`);
      return;
    }
    const feed = method === "GET" ? FEED_PATH.exec(url.pathname) : null;
    if (feed) {
      send(
        res,
        200,
        "application/json",
        JSON.stringify(feedDocument(feed[2]!, feed[3]!, feed[1] ?? "amd64-usr")),
      );
      return;
    }
    const requestId = uuid();
    let service: ServiceDefinition | undefined;
    let region = "us-east-1";
    let scope: CredentialScope;
    // The world of the account the request's key stands for: every handler below works in it.
    let world: World;
    let principal: string;
    try {
      scope = credentialScope(
        req.headers.authorization,
        url.searchParams.get("X-Amz-Credential") ?? undefined,
      );
      region = scope.region;
      if (scope.service === "s3") {
        await handleS3(options.s3, req, res, {
          region,
          requestId,
          count: (action) => count(`s3:${action}`),
          authorize: async (request) => {
            if (!defaultWorld.iam) return undefined;
            const denied = await authorizeS3Request(
              defaultWorld.iam,
              options.accountFor(scope.accessKeyId).principal,
              region,
              request,
            );
            if (denied) refused("s3", request.operation, denied);
            return denied;
          },
        });
        return;
      }
      const account = options.accountFor(scope.accessKeyId);
      world = account.world;
      principal = account.principal;
      const name = scope.service;
      service = account.services.find((s) => s.service === name);
      if (!service) {
        throw new AwsError(
          "UnknownService",
          `The quorate local cloud serves cloudformation, autoscaling, ec2, sts and s3, not ${scope.service}`,
        );
      }
    } catch (error) {
      const out = errorResponse({ ec2: false, xmlNamespace: "" }, error, requestId);
      send(res, out.status, "text/xml", out.body);
      return;
    }
    const formBody = method === "GET" ? url.search.slice(1) : await readBody(req);
    const action = actionOf(formBody) ?? "";
    count(`${service.service}:${action}`);
    if (world.iam) {
      const call = {
        world,
        service: service.service,
        action,
        params: formBody,
        region,
        principal,
      };
      const denied = await authorizeQueryCall(world.iam, call);
      if (denied) {
        refused(service.service, action, denied);
        const out = errorResponse(service.envelope, denied, requestId);
        send(res, out.status, "text/xml", out.body);
        return;
      }
    }
    if (world.faults.takeThrottle(service.service, action)) {
      // EC2 throttles with RequestLimitExceeded, the query services with Throttling; the SDK retries both.
      const throttle = service.envelope.ec2
        ? new AwsError("RequestLimitExceeded", "Request limit exceeded.", 503, "Receiver")
        : new AwsError("Throttling", "Rate exceeded", 400);
      const out = errorResponse(service.envelope, throttle, requestId);
      send(res, out.status, "text/xml", out.body);
      return;
    }
    // Handlers are synchronous: a stack operation they start reads its principal from here.
    if (world.iam) world.caller = principal;
    let out: ReturnType<typeof serve>;
    try {
      out = serve(service, formBody, { region, requestId, accessKeyId: scope.accessKeyId });
    } finally {
      delete world.caller;
    }
    // The response is sent only once the change is on disk.
    world.store.flush();
    send(res, out.status, "text/xml", out.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      defaultWorld.log({
        event: "server-error",
        error: (error as Error)?.stack ?? String(error),
      });
      if (!res.headersSent) {
        const out = errorResponse({ ec2: false, xmlNamespace: "" }, error, uuid());
        send(res, out.status, "text/xml", out.body);
      }
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
