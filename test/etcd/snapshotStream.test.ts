// snapshotBytes against a stand-in for etcd's Maintenance service: the real
// etcd cannot be made to cut its stream, fail mid-way or damage its trailing
// hash on demand, so a loopback gRPC server (grpc-js's own) sends the same
// SnapshotResponse messages etcd 3.4.23 sends, 32 KiB blobs each (the real one
// is read in test/integration/snapshots.test.ts, over TLS too).
import { createHash, randomBytes } from "node:crypto";
import {
  Server,
  ServerCredentials,
  type ServerWritableStream,
  type sendUnaryData,
  status,
} from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  SNAPSHOT_METHOD,
  type SnapshotStreamStats,
  snapshotBytes,
} from "../../src/etcd/snapshotStream.js";
import { snapshotResponse } from "./protobufEncoding.js";

const DB = randomBytes(100_000);
const WHOLE = Buffer.concat([DB, createHash("sha256").update(DB).digest()]);
/** etcd's hash split across the last two messages: the last carries 10 of its 32 bytes. */
const SPLIT_DB = randomBytes(3 * 32 * 1024 - 22);
const SPLIT = Buffer.concat([SPLIT_DB, createHash("sha256").update(SPLIT_DB).digest()]);

/** Messages as etcd sends them: 32 KiB blobs, remaining_bytes on all but the last. */
function messages(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += 32 * 1024) {
    const blob = data.subarray(at, at + 32 * 1024);
    out.push(snapshotResponse(data.length - at - blob.length, blob));
  }
  return out;
}

type Script = (call: ServerWritableStream<Buffer, Buffer>) => void;
const sendAll =
  (list: Buffer[]): Script =>
  (call) => {
    for (const m of list) call.write(m);
    call.end();
  };
const FIRST = messages(WHOLE).slice(0, 1);
const SCRIPTS: Record<string, Script> = {
  whole: sendAll(messages(WHOLE)),
  split: sendAll(messages(SPLIT)),
  cut: sendAll(messages(WHOLE).slice(0, 2)),
  damaged: sendAll(messages(Buffer.concat([DB, Buffer.alloc(32)]))),
  garbage: sendAll([Buffer.from([0x1a, 0x7f, 0x01])]),
  failing: (call) => {
    for (const m of FIRST) call.write(m);
    call.emit("error", { code: status.UNAVAILABLE, details: "etcdserver: server stopped" });
  },
  stalling: (call) => {
    for (const m of FIRST) call.write(m);
  },
};

let server: Server;
let base: string;
/** Which script the server plays next. */
let current = "whole";

beforeAll(async () => {
  server = new Server();
  const same = (b: Buffer) => b;
  server.addService(
    {
      Snapshot: {
        path: SNAPSHOT_METHOD,
        requestStream: false,
        responseStream: true,
        requestSerialize: same,
        requestDeserialize: same,
        responseSerialize: same,
        responseDeserialize: same,
      },
    },
    {
      Snapshot: (call: ServerWritableStream<Buffer, Buffer> | sendUnaryData<Buffer>) =>
        SCRIPTS[current]?.(call as ServerWritableStream<Buffer, Buffer>),
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  base = `http://127.0.0.1:${port}`;
});

afterAll(() => {
  server.forceShutdown();
});

async function read(script: string): Promise<{ data: Buffer; stats: SnapshotStreamStats }> {
  current = script;
  const stats: SnapshotStreamStats = { bytes: 0 };
  const chunks: Buffer[] = [];
  for await (const chunk of snapshotBytes(base, stats)) chunks.push(chunk);
  return { data: Buffer.concat(chunks), stats };
}

describe("snapshotBytes", () => {
  it("yields every byte, etcd's hash included, and the sha256 of the whole", async () => {
    const { data, stats } = await read("whole");
    expect(data.equals(WHOLE)).toBe(true);
    expect(stats).toEqual({
      bytes: WHOLE.length,
      sha256: createHash("sha256").update(WHOLE).digest("hex"),
    });
  });

  it("reads a stream with etcd's hash split across two messages", async () => {
    const { data, stats } = await read("split");
    expect(data.equals(SPLIT)).toBe(true);
    expect(stats.sha256).toBe(createHash("sha256").update(SPLIT).digest("hex"));
  });

  it.each([
    [
      "cut",
      { failure: "unreachable" },
      /the snapshot stream ended early: 65536 bytes received, 34496 still to come/,
    ],
    [
      "damaged",
      { failure: "bad-response" },
      /the snapshot's trailing sha256 does not match its 100000 bytes of data: the copy is damaged/,
    ],
    [
      "garbage",
      { failure: "bad-response" },
      /not a SnapshotResponse: field 3 runs past the message/,
    ],
    [
      "failing",
      { failure: "etcd", etcd: { known: "stopped" } },
      /the snapshot failed after 32768 bytes: etcdserver: server stopped/,
    ],
  ])("a %s stream fails, and never sets the sha256", async (script, kind, message) => {
    current = script;
    const stats: SnapshotStreamStats = { bytes: 0 };
    const error = await drain(snapshotBytes(base, stats));
    expect(error).toMatchObject(kind);
    expect(error?.message).toMatch(message);
    expect(stats.sha256).toBeUndefined();
  });

  it("gives up on a member that stops sending, and when cancelled", async () => {
    current = "stalling";
    const stalled = await drain(snapshotBytes(base, { bytes: 0 }, { idleTimeoutMs: 200 }));
    expect(stalled).toMatchObject({ failure: "timeout" });
    expect(stalled?.message).toMatch(/the member sent nothing for 200 ms/);

    const controller = new AbortController();
    const stats: SnapshotStreamStats = { bytes: 0 };
    const stopped = drain(snapshotBytes(base, stats, { signal: controller.signal }), () =>
      controller.abort(),
    );
    expect(await stopped).toMatchObject({ failure: "aborted" });
    expect(stats.sha256).toBeUndefined();
  });

  it("names a member that is not there", async () => {
    const error = await drain(snapshotBytes("http://127.0.0.1:1", { bytes: 0 }));
    expect(error).toMatchObject({ failure: "unreachable" });
    expect(error?.message).toMatch(/127\.0\.0\.1:1/);
  });
});

/** Reads a stream to its end; the error it ended with. `onFirst` runs after the first chunk. */
async function drain(
  stream: AsyncGenerator<Buffer>,
  onFirst?: () => void,
): Promise<(Error & { failure?: string }) | undefined> {
  try {
    for await (const _ of stream) onFirst?.();
    return undefined;
  } catch (error) {
    return error as Error;
  }
}
