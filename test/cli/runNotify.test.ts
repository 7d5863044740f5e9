// `quorate run --notify-url` in-process against a real git repository whose one
// manifest is invalid: no AWS is reached, passes repeat every second, and the
// loopback receiver hears needs-person once, not once a pass, signed with the
// secret from --notify-secret-file, which the log never shows.
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { clusterManifest, createManifestRepo, type ManifestRepo } from "../helpers/manifestRepo.js";
import { waitFor } from "../helpers/waitFor.js";

const SECRET = "run-notify-secret";
let server: Server | undefined;
let repo: ManifestRepo | undefined;
let scratch: string | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await repo?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe("quorate run --notify-url", () => {
  it("says an invalid manifest needs a person once across passes, signed", async () => {
    const bodies: { body: string; signature: string }[] = [];
    server = createServer((req, res) => {
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
    const listening = server;
    await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}/hook`;
    scratch = mkdtempSync(join(tmpdir(), "quorate-run-notify-"));
    const secretFile = join(scratch, "secret");
    writeFileSync(secretFile, `${SECRET}\n`);
    repo = await createManifestRepo({ prefix: "run-notify" });
    const manifest = clusterManifest({ name: "bad" });
    manifest.spec.size = "three";
    repo.write("bad", manifest);
    await repo.commit("bad: a size that is not a number");

    const stderr = new Capture();
    const controller = new AbortController();
    const run = runCli(
      [
        "run",
        ...["--repo", repo.dir, "--branch", "main", "--path", repo.path],
        ...["--cache-dir", join(scratch, "git"), "--interval", "PT1S", "--listen", "off"],
        ...["--endpoint", "http://127.0.0.1:9", "--log-format", "json"],
        ...["--notify-url", url, "--notify-secret-file", secretFile],
      ],
      { stdout: new Capture(), stderr, signal: controller.signal, env: { ...process.env } },
    );
    try {
      await waitFor("three passes", () => stderr.text.split("reconcile pass done").length > 3, {
        timeoutMs: 20_000,
      });
    } finally {
      controller.abort();
    }
    expect(await run).toBe(0);
    const sent = bodies.map((b) => JSON.parse(b.body) as Record<string, string>);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      kind: "needs-person",
      cluster: "bad",
      reason: "InvalidManifest",
      revision: await repo.head(),
    });
    expect(bodies[0]?.signature).toBe(
      `sha256=${createHmac("sha256", SECRET)
        .update(bodies[0]?.body ?? "")
        .digest("hex")}`,
    );
    expect(stderr.text).toContain('"msg":"notifying"');
    expect(stderr.text).not.toContain(SECRET);
  });
});
