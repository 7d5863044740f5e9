// A small client for ONE etcd member over the v3 HTTP/JSON gateway (etcd 3.4
// serves /v3/*). node:http/https rather than global fetch, because fetch cannot
// present a client certificate. Every call has a time limit and a JSON body.
// Shapes: docs/references.md#etcd-json-gateway; api/etcdserverpb/rpc.proto.
import http from "node:http";
import https from "node:https";
import { normalizeEndpoint } from "./endpoint.js";
import { EtcdRequestError, parseEtcdErrorBody } from "./errors.js";
import type {
  Alarm,
  AlarmType,
  Health,
  Member,
  MemberStatus,
  RangeResult,
  ResponseHeader,
} from "./types.js";
import {
  encodeBase64,
  formatU64,
  parseAlarms,
  parseHeader,
  parseHealth,
  parseMember,
  parseMembers,
  parseRange,
  parseStatus,
  parseVersion,
  WireFormatError,
} from "./wire.js";

export const DEFAULT_TIMEOUT_MS = 2000;
// Member lists and statuses are a few KiB; a range answer is the only large one.
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** TLS material for https endpoints: PEM contents, not paths. */
export interface EtcdTls {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Name to check the server certificate against, when it differs from the URL's host. */
  servername?: string;
}

export interface EtcdClientOptions {
  /** Time limit of each call unless the call sets its own; default 2000 ms. */
  timeoutMs?: number;
  tls?: EtcdTls;
  /** Reuse connections between calls; call close() when done. Default false. */
  keepAlive?: boolean;
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface MemberListResult {
  header: ResponseHeader;
  members: Member[];
}

export interface MemberAddResult {
  member: Member;
  members: Member[];
}

export interface EtcdClient {
  /** The client URL, without a trailing slash. */
  readonly endpoint: string;
  health(call?: CallOptions): Promise<Health>;
  status(call?: CallOptions): Promise<MemberStatus>;
  memberList(call?: CallOptions): Promise<MemberListResult>;
  memberAdd(
    peerURLs: string[],
    options: { isLearner: boolean } & CallOptions,
  ): Promise<MemberAddResult>;
  memberRemove(id: bigint, call?: CallOptions): Promise<Member[]>;
  memberPromote(id: bigint, call?: CallOptions): Promise<Member[]>;
  /** Active alarms of the whole cluster. */
  alarms(call?: CallOptions): Promise<Alarm[]>;
  activateAlarm(memberId: bigint, alarm: AlarmType, call?: CallOptions): Promise<Alarm[]>;
  deactivateAlarm(memberId: bigint, alarm: AlarmType, call?: CallOptions): Promise<Alarm[]>;
  /** Must be sent to the leader; etcd answers "not leader" otherwise. */
  transferLeadership(targetId: bigint, call?: CallOptions): Promise<void>;
  put(key: string, value: string, call?: CallOptions): Promise<ResponseHeader>;
  /** Linearizable unless `serializable` (a serializable read is answered locally, even by a learner). */
  range(key: string, options?: { serializable?: boolean } & CallOptions): Promise<RangeResult>;
  /** GET /version: this member's server version and the cluster version it sees. */
  version(call?: CallOptions): Promise<VersionInfo>;
  /**
   * Defragments THIS member's backend (blocks its reads and writes meanwhile).
   * etcd 3.4's gateway answers {} with no header.
   */
  defragment(call?: CallOptions): Promise<void>;
  /** Compacts the keyspace up to `revision` (cluster-wide, through raft). */
  compact(revision: bigint, call?: CallOptions): Promise<ResponseHeader>;
  /** Frees pooled connections (keepAlive). */
  close(): void;
}

export interface VersionInfo {
  /** e.g. "3.4.23" */
  server: string;
  /** e.g. "3.4.0"; empty before the cluster has decided (a fresh member). */
  cluster: string;
}

export function createEtcdClient(endpoint: string, options: EtcdClientOptions = {}): EtcdClient {
  const base = normalizeEndpoint(endpoint);
  const secure = base.startsWith("https:");
  const defaultTimeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const keepAlive = options.keepAlive ?? false;
  const agent = secure
    ? new https.Agent({ keepAlive, ...tlsAgentOptions(options.tls) })
    : new http.Agent({ keepAlive });

  function send(
    method: "GET" | "POST",
    path: string,
    body: unknown,
    call: CallOptions | undefined,
    acceptStatus: readonly number[] = [200],
  ): Promise<unknown> {
    const timeoutMs = call?.timeoutMs ?? defaultTimeout;
    const fail = (
      init: Omit<ConstructorParameters<typeof EtcdRequestError>[0], "endpoint" | "path">,
    ) => new EtcdRequestError({ endpoint: base, path, ...init });
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(
        () => abort(fail({ failure: "timeout", detail: `no answer within ${timeoutMs} ms` })),
        timeoutMs,
      );
      const onCallerAbort = () => abort(fail({ failure: "aborted", detail: "cancelled" }));
      const settle = (done: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        call?.signal?.removeEventListener("abort", onCallerAbort);
        done();
      };
      const abort = (error: EtcdRequestError) => {
        settle(() => reject(error));
        req.destroy();
      };

      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = { accept: "application/json" };
      if (payload !== undefined) {
        headers["content-type"] = "application/json";
        headers["content-length"] = String(Buffer.byteLength(payload));
      }
      const request = secure ? https.request : http.request;
      const req = request(`${base}${path}`, { method, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            abort(
              fail({
                failure: "bad-response",
                detail: `answer larger than ${MAX_RESPONSE_BYTES} bytes`,
              }),
            );
            return;
          }
          chunks.push(chunk);
        });
        res.on("error", (err) => abort(fail(transportFailure(err, secure, options.tls))));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString("utf8");
          settle(() => {
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              reject(
                fail({
                  failure: "bad-response",
                  httpStatus: status,
                  detail: `HTTP ${status} with a body that is not JSON: ${text.slice(0, 200).trim()}`,
                }),
              );
              return;
            }
            if (acceptStatus.includes(status)) {
              resolve(parsed);
              return;
            }
            const etcd = parseEtcdErrorBody(parsed);
            reject(
              etcd
                ? fail({ failure: "etcd", httpStatus: status, etcd, detail: etcd.message })
                : fail({
                    failure: "bad-response",
                    httpStatus: status,
                    detail: `HTTP ${status}: ${text.slice(0, 200).trim()}`,
                  }),
            );
          });
        });
      });
      req.on("error", (err) => abort(fail(transportFailure(err, secure, options.tls))));
      if (call?.signal?.aborted) {
        onCallerAbort();
        return;
      }
      call?.signal?.addEventListener("abort", onCallerAbort, { once: true });
      req.end(payload);
    });
  }

  /** POST a JSON body (`{}` when the call takes no fields) and parse the answer. */
  async function post<T>(
    path: string,
    body: Record<string, unknown>,
    call: CallOptions | undefined,
    parse: (answer: unknown) => T,
  ): Promise<T> {
    return decode(path, await send("POST", path, body, call), parse);
  }

  function decode<T>(path: string, answer: unknown, parse: (answer: unknown) => T): T {
    try {
      return parse(answer);
    } catch (error) {
      if (!(error instanceof WireFormatError)) throw error;
      throw new EtcdRequestError({
        failure: "bad-response",
        endpoint: base,
        path,
        detail: `unexpected answer: ${error.message}`,
        cause: error,
      });
    }
  }

  const alarmCall = (
    action: string,
    memberId: bigint,
    alarm: AlarmType | "NONE",
    call?: CallOptions,
  ) =>
    post(
      "/v3/maintenance/alarm",
      { action, memberID: formatU64(memberId), alarm },
      call,
      parseAlarms,
    );

  return {
    endpoint: base,
    // etcd 3.4 answers 503 with {"health":"false"} when unhealthy: that is an answer, not a failure.
    health: async (call) =>
      decode("/health", await send("GET", "/health", undefined, call, [200, 503]), parseHealth),
    status: (call) => post("/v3/maintenance/status", {}, call, parseStatus),
    memberList: (call) =>
      post("/v3/cluster/member/list", {}, call, (b) => ({
        header: parseHeader((b as { header?: unknown }).header),
        members: parseMembers(b),
      })),
    memberAdd: (peerURLs, { isLearner, ...call }) =>
      post("/v3/cluster/member/add", { peerURLs, isLearner }, call, (b) => ({
        member: parseMember((b as { member?: unknown }).member),
        members: parseMembers(b),
      })),
    memberRemove: (id, call) =>
      post("/v3/cluster/member/remove", { ID: formatU64(id) }, call, parseMembers),
    memberPromote: (id, call) =>
      post("/v3/cluster/member/promote", { ID: formatU64(id) }, call, parseMembers),
    alarms: (call) => alarmCall("GET", 0n, "NONE", call),
    activateAlarm: (memberId, alarm, call) => alarmCall("ACTIVATE", memberId, alarm, call),
    deactivateAlarm: (memberId, alarm, call) => alarmCall("DEACTIVATE", memberId, alarm, call),
    transferLeadership: (targetId, call) =>
      post(
        "/v3/maintenance/transfer-leadership",
        { targetID: formatU64(targetId) },
        call,
        () => undefined,
      ),
    put: (key, value, call) =>
      post("/v3/kv/put", { key: encodeBase64(key), value: encodeBase64(value) }, call, (b) =>
        parseHeader((b as { header?: unknown }).header),
      ),
    range: (key, { serializable = false, ...call } = {}) =>
      post("/v3/kv/range", { key: encodeBase64(key), serializable }, call, parseRange),
    version: async (call) =>
      decode("/version", await send("GET", "/version", undefined, call), parseVersion),
    defragment: (call) => post("/v3/maintenance/defragment", {}, call, () => undefined),
    // physical: answered once the compaction has been applied to the backend, so a
    // defragmentation right after it reclaims the space.
    compact: (revision, call) =>
      post("/v3/kv/compaction", { revision: revision.toString(10), physical: true }, call, (b) =>
        parseHeader((b as { header?: unknown }).header),
      ),
    close: () => agent.destroy(),
  };
}

export function tlsAgentOptions(tls: EtcdTls | undefined): https.AgentOptions {
  if (!tls) return {};
  const out: https.AgentOptions = {};
  if (tls.ca !== undefined) out.ca = tls.ca;
  if (tls.cert !== undefined) out.cert = tls.cert;
  if (tls.key !== undefined) out.key = tls.key;
  if (tls.servername !== undefined) out.servername = tls.servername;
  return out;
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|EPROTO$|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/;

/** A transport error in operator words: refused, reset, unknown host, or TLS. */
function transportFailure(
  err: Error & { code?: string },
  secure: boolean,
  tls: EtcdTls | undefined,
): { failure: "unreachable" | "tls"; detail: string; cause: unknown } {
  const code = err.code ?? "";
  if (TLS_CODE.test(code)) {
    // OpenSSL's text carries its internals; the alert name is what an operator needs.
    const alert = /alert ([a-z ]+?)(?::|$)/i.exec(err.message)?.[1];
    if (alert && /certificate/i.test(alert)) {
      const ours = tls?.cert
        ? "did not accept our client certificate"
        : "wants a client certificate and we sent none";
      return { failure: "tls", detail: `TLS refused (${alert}): the member ${ours}`, cause: err };
    }
    return {
      failure: "tls",
      detail: `TLS failed: ${alert ? `alert ${alert}` : err.message}`,
      cause: err,
    };
  }
  if (code === "ECONNREFUSED")
    return { failure: "unreachable", detail: "connection refused", cause: err };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return { failure: "unreachable", detail: `host not found (${code})`, cause: err };
  }
  if (code === "ECONNRESET" && secure && !tls?.cert) {
    // A server with --client-cert-auth may also just drop a handshake without a client certificate.
    return {
      failure: "tls",
      detail:
        "connection reset during TLS; the member may want a client certificate and we sent none",
      cause: err,
    };
  }
  const what = code === "ECONNRESET" ? "connection reset" : err.message || code || "request failed";
  return { failure: "unreachable", detail: what, cause: err };
}
