// The webhook receiver over real HTTP on loopback.
import { request } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { QuorateError } from "../../src/errors.js";
import {
  createWebhookHandler,
  type PushEvent,
  signWebhookBody,
  startWebhookServer,
  type WebhookServer,
} from "../../src/source/webhook.js";

const SECRET = "It's a Secret to Everybody";
const SHA = "0d1f2e3c4b5a69788796a5b4c3d2e1f00f1e2d3c";
const PUSH = JSON.stringify({
  ref: "refs/heads/main",
  before: "0".repeat(40),
  after: SHA,
  repository: { full_name: "acme/infra", clone_url: "https://github.com/acme/infra.git" },
});

let server: WebhookServer;
let small: WebhookServer;
let pushes: PushEvent[];

beforeAll(async () => {
  server = await startWebhookServer({ secret: SECRET, onPush: (event) => pushes.push(event) });
  small = await startWebhookServer({
    secret: SECRET,
    maxBodyBytes: 1024,
    onPush: (event) => pushes.push(event),
  });
});

afterAll(async () => {
  await server?.close();
  await small?.close();
});

beforeEach(() => {
  pushes = [];
});

function post(body: string, headers: Record<string, string>, url = server.url): Promise<Response> {
  return fetch(url, { method: "POST", body, headers });
}

function signed(event: string, body: string, extra: Record<string, string> = {}) {
  return {
    "Content-Type": "application/json",
    "X-GitHub-Event": event,
    "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    "X-Hub-Signature-256": signWebhookBody(SECRET, body),
    ...extra,
  };
}

describe("POST /hooks/github", () => {
  it("accepts a signed push with 202 and hands over ref, sha and repository", async () => {
    const response = await post(PUSH, signed("push", PUSH));
    expect(response.status).toBe(202);
    expect(await response.text()).toBe(`accepted push of refs/heads/main at ${SHA}\n`);
    expect(pushes).toEqual([
      {
        ref: "refs/heads/main",
        after: SHA,
        repository: "acme/infra",
        deleted: false,
        delivery: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      },
    ]);
  });

  it("matches GitHub's documented example signature", () => {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    expect(signWebhookBody(SECRET, "Hello, World!")).toBe(
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    );
  });

  it.each([
    ["a wrong secret", { "X-Hub-Signature-256": signWebhookBody("guess", PUSH) }, "does not match"],
    [
      "a signature of another body",
      { "X-Hub-Signature-256": signWebhookBody(SECRET, "{}") },
      "does not match",
    ],
    [
      "a truncated signature",
      { "X-Hub-Signature-256": signWebhookBody(SECRET, PUSH).slice(0, 20) },
      "does not match",
    ],
    [
      "an empty signature",
      { "X-Hub-Signature-256": "", "X-Hub-Signature": "sha1=abc" },
      "does not match",
    ],
  ])("refuses %s with 401 and does not call onPush", async (_name, headers, said) => {
    const response = await post(PUSH, signed("push", PUSH, headers));
    expect(response.status).toBe(401);
    expect(await response.text()).toContain(said);
    expect(pushes).toEqual([]);
  });

  it("refuses a request without a signature with 401", async () => {
    const response = await post(PUSH, {
      "Content-Type": "application/json",
      "X-GitHub-Event": "push",
    });
    expect(response.status).toBe(401);
    expect(await response.text()).toContain("missing X-Hub-Signature-256");
    expect(pushes).toEqual([]);
  });

  it("answers a ping with 200 and ignores other events with 204", async () => {
    const ping = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
    expect((await post(ping, signed("ping", ping))).status).toBe(200);
    const issue = JSON.stringify({ action: "opened" });
    expect((await post(issue, signed("issues", issue))).status).toBe(204);
    expect(pushes).toEqual([]);
  });

  it.each([
    ["not JSON", "{ref:", "not JSON"],
    [
      "a push without after",
      JSON.stringify({ ref: "refs/heads/main", repository: {} }),
      "lacks ref",
    ],
  ])("refuses a signed body that is %s with 400", async (_name, body, said) => {
    const response = await post(body, signed("push", body));
    expect(response.status).toBe(400);
    expect(await response.text()).toContain(said);
    expect(pushes).toEqual([]);
  });

  it("reads a form-encoded delivery", async () => {
    const body = new URLSearchParams({ payload: PUSH }).toString();
    const headers = signed("push", body, { "Content-Type": "application/x-www-form-urlencoded" });
    expect((await post(body, headers)).status).toBe(202);
    expect(pushes.map((p) => p.after)).toEqual([SHA]);
  });

  it("refuses a body over the limit with 413, whether declared or streamed", async () => {
    const big = JSON.stringify({ ...JSON.parse(PUSH), padding: "x".repeat(2048) });
    const declared = await post(big, signed("push", big), small.url);
    expect(declared.status).toBe(413);

    const streamed = await new Promise<number>((resolve, reject) => {
      const req = request(small.url, { method: "POST", headers: signed("push", big) }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      // No Content-Length: chunked, so only counting the bytes finds out.
      req.write(big.slice(0, 1000));
      req.end(big.slice(1000));
    });
    expect(streamed).toBe(413);
    expect(pushes).toEqual([]);
  });

  it("refuses a full MiB over the default limit", async () => {
    const huge = "x".repeat(1024 * 1024 + 1);
    expect((await post(huge, signed("push", huge))).status).toBe(413);
  });

  it("answers other methods with 405 and other paths with 404", async () => {
    expect((await fetch(server.url)).status).toBe(405);
    expect(
      (await fetch(server.url.replace("/hooks/github", "/hooks/gitlab"), { method: "POST" }))
        .status,
    ).toBe(404);
  });
});

it("refuses to run without a secret", () => {
  expect(() => createWebhookHandler({ secret: "", onPush: () => undefined })).toThrow(QuorateError);
});
