// The notifier through a real pass: the reconciler creates a one-member
// cluster on the local cloud (a real etcd member through its hooks), and a
// loopback receiver hears rollout-started, then rollout-finished, signed.
// A second receiver never answers: the pass does not wait for it, and its
// failures are counted once the rollout is long done. Then the CI path:
// `reconcile --once --notify-url` has sent both before it exits.
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNotifier, type DeliveryReport, queuedSink } from "../../src/notify/notifier.js";
import { webhookDeliver } from "../../src/notify/webhook.js";
import { createReconciler } from "../../src/reconcile/reconciler.js";
import { createAmiFeed } from "../../src/render/ami.js";
import { createGitSource } from "../../src/source/git.js";
import { cli } from "../cli/run.js";
import { createManifestRepo, type ManifestRepo } from "../helpers/manifestRepo.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";
import { waitFor } from "../helpers/waitFor.js";

const SECRET = "integration-secret";
let h: Harness;
let repo: ManifestRepo;
let scratch: string;
const servers: Server[] = [];
const bodies: { body: string; signature: string }[] = [];

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "quorate-notify-"));
  h = await startHarness();
  repo = await createManifestRepo({ prefix: "notify" });
});

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await h?.close();
  await repo?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe.sequential("notifications of a real rollout", () => {
  it("a create is heard as started, then finished; a dead receiver holds nothing up", async () => {
    const live = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        bodies.push({
          body: Buffer.concat(chunks).toString("utf8"),
          signature: String(req.headers["x-quorate-signature"]),
        });
        res.end("ok");
      });
    });
    const dead = await listen(() => {}); // accepts, never answers
    const failed: string[] = [];
    const report: DeliveryReport = {
      sent: () => {},
      failed: (target) => failed.push(target),
      dropped: () => {},
    };
    const tuning = { timeoutMs: 500, retries: 1, backoffMs: 100 };
    const notifier = createNotifier([
      queuedSink("webhook-0", webhookDeliver(live, SECRET), report, tuning),
      queuedSink("webhook-1", webhookDeliver(dead, SECRET), report, tuning),
    ]);
    const reconciler = createReconciler({
      source: createGitSource({ repo: repo.dir, branch: "main", cacheDir: join(scratch, "git") }),
      path: repo.path,
      aws: h.aws,
      amiFeed: createAmiFeed({
        source: `${h.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
      }),
      etcd: {},
      onEvent: notifier.onEvent,
      onStatus: notifier.onStatus,
      waitForRollouts: true,
      tickMs: 200,
    });
    repo.write("one", { name: "one", size: 1 });
    await repo.commit("one: a one-member cluster");

    const summary = await reconciler.pass();
    expect(summary.clusters).toEqual([{ cluster: "one", action: "apply", outcome: "applied" }]);
    // rollout-finished was queued as the pass recorded the outcome, and giving up on it
    // takes two attempts of 500 ms: the pass returned without waiting for the dead receiver.
    expect(failed.length).toBeLessThan(2);
    // Each receiver has its own queue: the live one hears both while the dead one's
    // first request still hangs or is being retried.
    await waitFor("both notifications at the live receiver", () => bodies.length === 2);
    const kinds = bodies.map((b) => JSON.parse(b.body) as { kind: string; revision: string });
    expect(kinds.map((k) => k.kind)).toEqual(["rollout-started", "rollout-finished"]);
    expect(kinds.every((k) => k.revision === summary.revision)).toBe(true);
    for (const { body, signature } of bodies)
      expect(signature).toBe(`sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`);

    await waitFor("the dead receiver given up on, twice", () => failed.length === 2, {
      timeoutMs: 10_000,
    });
    expect(failed).toEqual(["webhook-1", "webhook-1"]);
    notifier.close();
  });

  it("reconcile --once --notify-url: an update is heard before the command exits", async () => {
    bodies.length = 0;
    const live = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        bodies.push({
          body: Buffer.concat(chunks).toString("utf8"),
          signature: String(req.headers["x-quorate-signature"]),
        });
        res.end("ok");
      });
    });
    repo.update("one", (m) => {
      m.spec.network.clientCidrs = ["10.9.0.0/16"];
    });
    await repo.commit("one: another client CIDR");
    const run = await cli(
      [
        "reconcile",
        "--once",
        "--repo",
        repo.dir,
        "--branch",
        "main",
        "--path",
        repo.path,
        "--endpoint",
        h.endpoint,
        "--cache-dir",
        join(scratch, "cli-git"),
        "--tick",
        "200",
        "--notify-url",
        live,
      ],
      { env: { ...process.env, QUORATE_NOTIFY_SECRET: SECRET } },
    );
    expect(run.code).toBe(0);
    // No waiting here: the command flushed its queue before it returned.
    const sent = bodies.map((b) => JSON.parse(b.body) as { kind: string; stack: string });
    expect(sent.map((b) => b.kind)).toEqual(["rollout-started", "rollout-finished"]);
    expect(sent[0]?.stack).toBe("quorate-one");
    for (const { body, signature } of bodies)
      expect(signature).toBe(`sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`);
  });
});
