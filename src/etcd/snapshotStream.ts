// A member's snapshot through the v3 gateway: POST /v3/maintenance/snapshot
// answers a stream of JSON messages, one per line, each {"result": {"blob":
// base64, "remainingBytes": "N"}} (the last omits remainingBytes, proto3's
// zero), or {"error": {...}} when the server fails mid-stream. The bytes are
// the bbolt database followed by etcd's own sha256 of it (32 bytes), which is
// what `etcdctl snapshot save` writes and `etcdctl snapshot restore` checks.
// Measured on etcd 3.4.23: 32 KiB of data per message.
// https://github.com/etcd-io/etcd/blob/v3.4.23/etcdserver/api/v3rpc/maintenance.go
import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { type EtcdTls, tlsAgentOptions } from "./client.js";
import { normalizeEndpoint } from "./endpoint.js";
import { EtcdRequestError, parseEtcdErrorBody } from "./errors.js";

const PATH = "/v3/maintenance/snapshot";
const HASH_BYTES = 32;
/** A message line holds 32 KiB of base64 and a little JSON; anything far larger is not the gateway. */
const MAX_LINE_BYTES = 1024 * 1024;

export interface SnapshotStreamOptions {
  tls?: EtcdTls;
  /** How long the member may stay silent (before the first byte, or between messages). Default 60 s (it also bounds how long a stalled upload may hold the stream back). */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

/** What the stream carried, filled in as it goes and complete once it ended without error. */
export interface SnapshotStreamStats {
  bytes: number;
  /** sha256 of every byte streamed (the object as stored), hex; set at the end. */
  sha256?: string;
}

/**
 * The snapshot's bytes, as they arrive. It throws when the member answers an
 * error, when the stream ends before etcd said it was done, or when etcd's own
 * trailing sha256 does not match the data: a consumer that stores the bytes
 * sees the error before it could call the copy complete.
 */
export async function* snapshotBytes(
  endpoint: string,
  stats: SnapshotStreamStats,
  options: SnapshotStreamOptions = {},
): AsyncGenerator<Buffer> {
  const base = normalizeEndpoint(endpoint);
  const fail = (failure: "unreachable" | "timeout" | "bad-response" | "etcd", detail: string) =>
    new EtcdRequestError({ failure, endpoint: base, path: PATH, detail });
  const res = await post(base, options, fail);
  // One pass of sha256 over everything but the newest 32 bytes; the hash of the
  // whole is a copy of it fed the tail at the end (a second pass over every
  // byte cost 0.6 s of CPU per 500 MiB, bench/snapshot.bench.mjs).
  const data = createHash("sha256");
  let tail: Buffer = Buffer.alloc(0);
  let remaining: bigint | undefined;
  let pending: Buffer = Buffer.alloc(0);
  // Chunks of a line not yet ended, joined once its newline arrives: joining on
  // every chunk copied a line's bytes again per chunk.
  const partial: Buffer[] = [];
  let partialBytes = 0;

  const take = (line: Buffer): Buffer | undefined => {
    if (line.length === 0) return undefined;
    let message: { result?: { blob?: string; remainingBytes?: string }; error?: unknown };
    try {
      message = JSON.parse(line.toString("utf8"));
    } catch {
      throw fail("bad-response", `a snapshot message is not JSON: ${line.subarray(0, 120)}`);
    }
    if (message.error !== undefined) {
      // grpc-gateway v1 streams {"error": {"grpc_code", "http_code", "message", "http_status"}}.
      const said = (message.error as { message?: unknown })?.message;
      const text = typeof said === "string" ? said : JSON.stringify(message.error);
      throw fail("etcd", `the snapshot failed mid-stream: ${text}`);
    }
    const blob = Buffer.from(message.result?.blob ?? "", "base64");
    remaining = BigInt(message.result?.remainingBytes ?? "0");
    return blob;
  };

  const emit = (blob: Buffer): Buffer => {
    stats.bytes += blob.length;
    // Hold the newest 32 bytes back from the data hash: they may be etcd's checksum.
    if (blob.length >= HASH_BYTES) {
      data.update(tail);
      data.update(blob.subarray(0, blob.length - HASH_BYTES));
      tail = Buffer.from(blob.subarray(blob.length - HASH_BYTES));
    } else {
      const joined = Buffer.concat([tail, blob]);
      const cut = Math.max(0, joined.length - HASH_BYTES);
      data.update(joined.subarray(0, cut));
      tail = joined.subarray(cut);
    }
    return blob;
  };

  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      if (chunk.indexOf(0x0a) < 0) {
        partial.push(chunk);
        partialBytes += chunk.length;
        if (pending.length + partialBytes > MAX_LINE_BYTES) {
          throw fail("bad-response", "a snapshot message line is larger than the gateway sends");
        }
        continue;
      }
      pending = Buffer.concat([pending, ...partial.splice(0), chunk]);
      partialBytes = 0;
      for (let end = pending.indexOf(0x0a); end >= 0; end = pending.indexOf(0x0a)) {
        const blob = take(pending.subarray(0, end));
        pending = pending.subarray(end + 1);
        if (blob?.length) yield emit(blob);
      }
      if (pending.length > MAX_LINE_BYTES) {
        throw fail("bad-response", "a snapshot message line is larger than the gateway sends");
      }
    }
    const last = take(Buffer.concat([pending, ...partial]));
    if (last?.length) yield emit(last);
  } catch (error) {
    if (error instanceof EtcdRequestError) throw error;
    throw fail("unreachable", `the snapshot stream broke: ${(error as Error).message}`);
  } finally {
    res.destroy();
  }
  if (remaining === undefined) throw fail("bad-response", "the member sent no snapshot data");
  if (remaining !== 0n) {
    throw fail(
      "unreachable",
      `the snapshot stream ended early: ${stats.bytes} bytes received, ${remaining} still to come`,
    );
  }
  const whole = data.copy().update(tail);
  if (tail.length !== HASH_BYTES || !data.digest().equals(tail)) {
    throw fail(
      "bad-response",
      `the snapshot's trailing sha256 does not match its ${stats.bytes - HASH_BYTES} bytes of data: the copy is damaged`,
    );
  }
  stats.sha256 = whole.digest("hex");
}

function post(
  base: string,
  options: SnapshotStreamOptions,
  fail: (failure: "unreachable" | "timeout" | "etcd" | "bad-response", detail: string) => Error,
): Promise<http.IncomingMessage> {
  const secure = base.startsWith("https:");
  const idle = options.idleTimeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const request = secure ? https.request : http.request;
    const req = request(
      `${base}${PATH}`,
      {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        ...(secure ? tlsAgentOptions(options.tls) : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (res) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.length < 16 && chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let etcd: ReturnType<typeof parseEtcdErrorBody>;
            try {
              etcd = parseEtcdErrorBody(JSON.parse(text));
            } catch {
              etcd = undefined;
            }
            reject(fail("etcd", `HTTP ${res.statusCode}: ${etcd?.message ?? text.slice(0, 200)}`));
          });
          return;
        }
        resolve(res);
      },
    );
    req.setTimeout(idle, () =>
      req.destroy(fail("timeout", `the member sent nothing for ${idle} ms`)),
    );
    req.on("error", (error) =>
      reject(
        error instanceof EtcdRequestError
          ? error
          : fail("unreachable", error.message || "request failed"),
      ),
    );
    req.end("{}");
  });
}
