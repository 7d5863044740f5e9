// A member's snapshot over etcd's gRPC API: Maintenance.Snapshot, one
// server-streaming call on the member's client URL (etcd serves gRPC and the
// JSON gateway on the same port, with the same TLS). Not the gateway's
// /v3/maintenance/snapshot: its base64-in-JSON lines alone ran at 0.63-1.03x
// of `etcdctl snapshot save` on a 1.26 GiB cluster (bench/RESULTS.md), below
// the 0.8x that issue #9 asks of the whole backup. The bytes are the bbolt
// database followed by etcd's own sha256 of it (32 bytes), which is what
// `etcdctl snapshot save` writes and `etcdctl snapshot restore` checks.
// https://github.com/etcd-io/etcd/blob/v3.4.23/etcdserver/api/v3rpc/maintenance.go
import { createHash } from "node:crypto";
import type { ServiceError } from "@grpc/grpc-js";
import type { EtcdTls } from "./client.js";
import { normalizeEndpoint } from "./endpoint.js";
import {
  type EtcdErrorBody,
  type EtcdFailure,
  EtcdRequestError,
  parseEtcdErrorBody,
} from "./errors.js";
import { decodeSnapshotResponse, SnapshotMessageError } from "./snapshotMessage.js";

export const SNAPSHOT_METHOD = "/etcdserverpb.Maintenance/Snapshot";
const HASH_BYTES = 32;
// Our HTTP/2 receive window. Node's default of 64 KiB holds two of etcd's 32
// KiB messages: a 378 MiB snapshot took 3.3-4.7 s with it, 2.5-3.0 s with 1 MiB
// (bench/RESULTS.md).
const FLOW_CONTROL_WINDOW = 1024 * 1024;

export interface SnapshotStreamOptions {
  tls?: EtcdTls;
  /** How long the member may stay silent (before the first message, or between two). Default 60 s (it also bounds how long a stalled upload may hold the stream back). */
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
  const fail = (failure: EtcdFailure, detail: string, cause?: unknown) =>
    new EtcdRequestError({ failure, endpoint: base, path: SNAPSHOT_METHOD, detail, cause });
  // Loaded here, not at the top: only a snapshot needs gRPC.
  const grpc = await import("@grpc/grpc-js");
  const secure = base.startsWith("https:");
  const tls = options.tls;
  const client = new grpc.Client(
    new URL(base).host,
    secure
      ? grpc.credentials.createSsl(
          pem(tls?.ca) ?? null,
          pem(tls?.key) ?? null,
          pem(tls?.cert) ?? null,
        )
      : grpc.credentials.createInsecure(),
    {
      "grpc-node.flow_control_window": FLOW_CONTROL_WINDOW,
      ...(tls?.servername ? { "grpc.ssl_target_name_override": tls.servername } : {}),
    },
  );
  const call = client.makeServerStreamRequest(
    SNAPSHOT_METHOD,
    () => Buffer.alloc(0), // SnapshotRequest has no fields
    (message: Buffer) => message, // decoded below, where a bad message can say so
    {},
  );
  // Why we cancelled the call, when we did: the error the call then ends with.
  let cancelled: EtcdRequestError | undefined;
  const cancel = (why: EtcdRequestError) => {
    cancelled ??= why;
    call.cancel();
  };
  const idle = options.idleTimeoutMs ?? 60_000;
  const timer = setTimeout(
    () => cancel(fail("timeout", `the member sent nothing for ${idle} ms`)),
    idle,
  );
  const onAbort = () => cancel(fail("aborted", "cancelled"));
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  // One pass of sha256 over everything but the newest 32 bytes; the hash of the
  // whole is a copy of it fed the tail at the end (a second pass over every
  // byte cost 0.6 s of CPU per 500 MiB, bench/snapshot.bench.mjs).
  const data = createHash("sha256");
  let tail: Buffer = Buffer.alloc(0);
  let remaining: number | undefined;
  try {
    for await (const message of call as AsyncIterable<Buffer>) {
      timer.refresh();
      let blob: Buffer;
      try {
        ({ remainingBytes: remaining, blob } = decodeSnapshotResponse(message));
      } catch (error) {
        if (!(error instanceof SnapshotMessageError)) throw error;
        throw fail(
          "bad-response",
          `a snapshot message is not a SnapshotResponse: ${error.message}`,
        );
      }
      if (blob.length === 0) continue;
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
      yield blob;
    }
  } catch (error) {
    if (cancelled) throw cancelled;
    if (error instanceof EtcdRequestError) throw error;
    throw statusFailure(error as ServiceError, base, stats.bytes);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    // Also when the consumer stopped reading early: the member stops sending.
    call.cancel();
    client.close();
  }
  if (remaining === undefined) throw fail("bad-response", "the member sent no snapshot data");
  if (remaining !== 0) {
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

function pem(value: string | Buffer | undefined): Buffer | undefined {
  return value === undefined ? undefined : Buffer.from(value);
}

// grpc-js's words for a connection it could not make or lost, as opposed to a
// status the member sent; the TLS ones name a certificate or the handshake.
const TRANSPORT =
  /No connection established|Connection dropped|connect E|read E|write E|ECONNRESET/;
const TLS_WORDS = /certificate|SSL|TLS|handshake|alert/i;

/** The gRPC status a call ended with, in EtcdRequestError's terms. */
function statusFailure(error: ServiceError, endpoint: string, received: number): EtcdRequestError {
  const fail = (failure: EtcdFailure, detail: string, etcd?: EtcdErrorBody) =>
    new EtcdRequestError({
      failure,
      endpoint,
      path: SNAPSHOT_METHOD,
      detail,
      ...(etcd ? { etcd } : {}),
      cause: error,
    });
  const details = error.details || error.message || "the call failed";
  const during = received > 0 ? ` after ${received} bytes` : "";
  // 14 Unavailable, 4 DeadlineExceeded, 12 Unimplemented (not an etcd member).
  if (error.code === 14 && TRANSPORT.test(details)) {
    const failure = TLS_WORDS.test(details) ? "tls" : "unreachable";
    return fail(failure, `the snapshot stream broke${during}: ${details}`);
  }
  if (error.code === 4) return fail("timeout", `the snapshot timed out${during}`);
  if (error.code === 12) return fail("bad-response", `no Snapshot RPC here: ${details}`);
  const etcd = parseEtcdErrorBody({ code: error.code, message: details });
  return fail("etcd", `the snapshot failed${during}: ${details}`, etcd);
}
