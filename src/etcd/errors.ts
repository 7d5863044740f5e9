// Typed errors of the etcd gateway client. etcd answers a failed call with
// {"error": "...", "message": "...", "code": <gRPC code>}; the messages are the
// rpctypes errors of etcd api/v3rpc/rpctypes/error.go (measured on 3.4.23).
import { type ErrorKind, QuorateError } from "../errors.js";

/** etcd's own error messages that quorate reacts to, by a name of ours. */
export const ETCD_ERRORS = {
  memberNotFound: "etcdserver: member not found",
  memberExists: "etcdserver: member ID already exist",
  peerURLExists: "etcdserver: Peer URLs already exists",
  notEnoughStartedMembers: "etcdserver: re-configuration failed due to not enough started members",
  memberBadURLs: "etcdserver: given member URLs are invalid",
  memberNotLearner: "etcdserver: can only promote a learner member",
  learnerNotReady: "etcdserver: can only promote a learner member which is in sync with leader",
  tooManyLearners: "etcdserver: too many learner members in cluster",
  notSupportedForLearner: "etcdserver: rpc not supported for learner",
  noLeader: "etcdserver: no leader",
  notLeader: "etcdserver: not leader",
  leaderChanged: "etcdserver: leader changed",
  badLeaderTransferee: "etcdserver: bad leader transferee",
  unhealthyCluster: "etcdserver: unhealthy cluster",
  stopped: "etcdserver: server stopped",
  requestTimeout: "etcdserver: request timed out",
  timeoutLeaderFail: "etcdserver: request timed out, possibly due to previous leader failure",
  timeoutConnectionLost: "etcdserver: request timed out, possibly due to connection lost",
  tooManyRequests: "etcdserver: too many requests",
  noSpace: "etcdserver: mvcc: database space exceeded",
  corrupt: "etcdserver: corrupt cluster",
  compacted: "etcdserver: mvcc: required revision has been compacted",
} as const;

export type KnownEtcdError = keyof typeof ETCD_ERRORS;

const KNOWN_BY_MESSAGE = new Map<string, KnownEtcdError>(
  Object.entries(ETCD_ERRORS).map(([name, message]) => [message, name as KnownEtcdError]),
);

/** How a call failed: the member's own error ("etcd") or something before it could answer. */
export type EtcdFailure = "unreachable" | "timeout" | "aborted" | "tls" | "bad-response" | "etcd";

export interface EtcdErrorBody {
  /** gRPC status code (5 NotFound, 9 FailedPrecondition, 14 Unavailable...). */
  code: number;
  message: string;
  known: KnownEtcdError | undefined;
}

const TRANSIENT: ReadonlySet<KnownEtcdError> = new Set([
  "noLeader",
  "leaderChanged",
  "unhealthyCluster",
  "stopped",
  "requestTimeout",
  "timeoutLeaderFail",
  "timeoutConnectionLost",
  "tooManyRequests",
  "notEnoughStartedMembers",
]);
const NOT_READY: ReadonlySet<KnownEtcdError> = new Set(["learnerNotReady", "tooManyLearners"]);
// gRPC codes that say "try again": DeadlineExceeded, Aborted, Unavailable.
const TRANSIENT_GRPC_CODES = new Set([4, 10, 14]);

const HINTS: Partial<Record<KnownEtcdError, string>> = {
  memberNotFound: "the member is not in the cluster (it may have been removed already)",
  peerURLExists:
    "a member with this peer URL is already in the cluster; reuse it or remove it first",
  notEnoughStartedMembers:
    "this membership change would leave too few started members for a quorum; bring stopped members back or remove dead ones first",
  memberNotLearner: "the member already votes; nothing to promote",
  learnerNotReady: "wait for the learner to catch up with the leader, then promote it again",
  tooManyLearners: "promote or remove the learner already in the cluster first",
  notSupportedForLearner: "ask a voting member instead",
  noLeader: "wait for an election; check that a quorum of members is up",
  notLeader: "send the request to the current leader",
  leaderChanged: "retry; leadership moved while the request was in flight",
  badLeaderTransferee: "choose a started, voting member as the new leader",
  unhealthyCluster:
    "etcd refuses membership changes until every member has been connected for a few seconds; retry shortly",
  noSpace:
    "the database exceeded its space quota: run `quorate maintain CLUSTER --compact --defrag --disarm` to compact, defragment and disarm the NOSPACE alarm",
  corrupt: "etcd found inconsistent data; replace the corrupt member from a healthy one",
};

function kindOf(failure: EtcdFailure, body: EtcdErrorBody | undefined): ErrorKind {
  if (failure === "tls" || failure === "bad-response") return "terminal";
  if (failure !== "etcd" || body === undefined) return "transient";
  if (body.known && NOT_READY.has(body.known)) return "notReady";
  if (body.known && TRANSIENT.has(body.known)) return "transient";
  return TRANSIENT_GRPC_CODES.has(body.code) ? "transient" : "terminal";
}

function defaultHint(failure: EtcdFailure, endpoint: string): string | undefined {
  switch (failure) {
    case "unreachable":
    case "timeout":
      return `check that etcd runs at ${endpoint} and that the client port is reachable`;
    case "tls":
      return "check the CA, the client certificate and key, and that the endpoint's scheme (http/https) is right";
    case "bad-response":
      return `check that ${endpoint} is an etcd 3.4+ client URL`;
    default:
      return undefined;
  }
}

/** A failed call to one member, with what etcd said when it said anything. */
export class EtcdRequestError extends QuorateError {
  readonly failure: EtcdFailure;
  readonly endpoint: string;
  readonly path: string;
  /** Short reason without the endpoint, for probe results ("no answer within 2000 ms"). */
  readonly detail: string;
  readonly etcd: EtcdErrorBody | undefined;
  readonly httpStatus: number | undefined;

  constructor(init: {
    failure: EtcdFailure;
    endpoint: string;
    path: string;
    detail: string;
    etcd?: EtcdErrorBody;
    httpStatus?: number;
    cause?: unknown;
  }) {
    const hint =
      (init.etcd?.known && HINTS[init.etcd.known]) ?? defaultHint(init.failure, init.endpoint);
    super(
      kindOf(init.failure, init.etcd),
      `etcd ${init.endpoint} ${init.path}: ${init.detail}`,
      hint,
      { cause: init.cause },
    );
    this.name = "EtcdRequestError";
    this.failure = init.failure;
    this.endpoint = init.endpoint;
    this.path = init.path;
    this.detail = init.detail;
    this.etcd = init.etcd;
    this.httpStatus = init.httpStatus;
  }
}

/** True when `error` is etcd answering with the named error. */
export function isEtcdError(error: unknown, known: KnownEtcdError): error is EtcdRequestError {
  return error instanceof EtcdRequestError && error.etcd?.known === known;
}

/** True when the member could not be asked at all (down, paused, refused, slow). */
export function isUnreachable(error: unknown): error is EtcdRequestError {
  return (
    error instanceof EtcdRequestError &&
    (error.failure === "unreachable" || error.failure === "timeout")
  );
}

/**
 * The etcd error in a gateway answer body, or undefined when the body is not
 * one. grpc-gateway v1 (etcd 3.4) sends `error`, `message` and `code`; v2
 * (3.5+) sends `message` and `code`.
 */
export function parseEtcdErrorBody(body: unknown): EtcdErrorBody | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { error, message, code } = body as { error?: unknown; message?: unknown; code?: unknown };
  const text = typeof message === "string" && message !== "" ? message : error;
  if (typeof text !== "string" || text === "") return undefined;
  if (typeof code !== "number" && error === undefined) return undefined;
  return {
    code: typeof code === "number" ? code : 2, // 2 = gRPC Unknown
    message: text,
    known: KNOWN_BY_MESSAGE.get(text),
  };
}
