// snapshotBytes against a stand-in for the gateway: the real etcd cannot be
// made to cut its stream or damage its trailing hash on demand, so a loopback
// server sends the same message lines etcd 3.4.23 sends (measured in
// test/integration/snapshots.test.ts against the real one).
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SnapshotStreamStats, snapshotBytes } from "../../src/etcd/snapshotStream.js";

const DB = randomBytes(100_000);
const WHOLE = Buffer.concat([DB, createHash("sha256").update(DB).digest()]);
/** etcd's hash split across the last two messages: the last carries 10 of its 32 bytes. */
const SPLIT_DB = randomBytes(3 * 32 * 1024 - 22);
const SPLIT = Buffer.concat([SPLIT_DB, createHash("sha256").update(SPLIT_DB).digest()]);

/** Message lines as etcd sends them: 32 KiB blobs, remainingBytes on all but the last. */
function lines(data: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < data.length; at += 32 * 1024) {
    const blob = data.subarray(at, at + 32 * 1024);
    const remaining = data.length - at - blob.length;
    out.push(
      JSON.stringify({
        result: {
          blob: blob.toString("base64"),
          ...(remaining ? { remainingBytes: String(remaining) } : {}),
        },
      }),
    );
  }
  return out;
}

const ROUTES: Record<string, string[]> = {
  "/whole": lines(WHOLE),
  "/split": lines(SPLIT),
  "/cut": lines(WHOLE).slice(0, 2),
  "/damaged": lines(Buffer.concat([DB, Buffer.alloc(32)])),
  "/failing": [
    ...lines(WHOLE).slice(0, 1),
    JSON.stringify({
      error: {
        grpc_code: 14,
        http_code: 503,
        message: "etcdserver: server stopped",
        http_status: "Service Unavailable",
      },
    }),
  ],
};

let server: Server;
let base: string;
/** Which stream the server sends next. */
let current = "/whole";
let trickle = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    expect(req.url).toBe("/v3/maintenance/snapshot");
    res.writeHead(200, { "content-type": "application/json" });
    const body = Buffer.from(`${(ROUTES[current] ?? []).join("\n")}\n`);
    if (!trickle) return void res.end(body);
    // Small writes: lines arrive in many chunks, and chunks end mid-line.
    for (let at = 0; at < body.length; at += 1000) res.write(body.subarray(at, at + 1000));
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function read(
  route: string,
  inPieces = false,
): Promise<{ data: Buffer; stats: SnapshotStreamStats }> {
  current = route;
  trickle = inPieces;
  const stats: SnapshotStreamStats = { bytes: 0 };
  const chunks: Buffer[] = [];
  for await (const chunk of snapshotBytes(base, stats)) chunks.push(chunk);
  return { data: Buffer.concat(chunks), stats };
}

describe("snapshotBytes", () => {
  it("yields every byte, etcd's hash included, and the sha256 of the whole", async () => {
    const { data, stats } = await read("/whole");
    expect(data.equals(WHOLE)).toBe(true);
    expect(stats).toEqual({
      bytes: WHOLE.length,
      sha256: createHash("sha256").update(WHOLE).digest("hex"),
    });
  });

  it.each([
    ["in one write", "/whole", false, WHOLE],
    ["in 1000-byte writes", "/whole", true, WHOLE],
    ["with etcd's hash split across two messages", "/split", true, SPLIT],
  ])("reads a stream sent %s", async (_, route, inPieces, expected) => {
    const { data, stats } = await read(route, inPieces);
    expect(data.equals(expected)).toBe(true);
    expect(stats.sha256).toBe(createHash("sha256").update(expected).digest("hex"));
  });

  it.each([
    ["/cut", /the snapshot stream ended early: 65536 bytes received, 34496 still to come/],
    [
      "/damaged",
      /the snapshot's trailing sha256 does not match its 100000 bytes of data: the copy is damaged/,
    ],
    ["/failing", /the snapshot failed mid-stream: etcdserver: server stopped/],
  ])("%s fails, and never sets the sha256", async (route, message) => {
    current = route;
    trickle = false;
    const stats: SnapshotStreamStats = { bytes: 0 };
    const drain = async () => {
      for await (const _ of snapshotBytes(base, stats)) {
        // read on
      }
    };
    const error = await drain().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(message);
    expect(stats.sha256).toBeUndefined();
  });
});
