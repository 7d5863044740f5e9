// The etcd domain as quorate sees it through the v3 HTTP/JSON gateway.
// Field meanings: etcd api/etcdserverpb/rpc.proto and
// docs/references.md#etcd-json-gateway. Member ids are uint64 and exceed 2^53, so every id,
// index and revision is a bigint.

export interface ResponseHeader {
  clusterId: bigint;
  memberId: bigint;
  revision: bigint;
  raftTerm: bigint;
}

export interface Member {
  id: bigint;
  /** Empty until the member has started and published its name. */
  name: string;
  peerURLs: string[];
  /** Empty until the member has started (an "unstarted" member). */
  clientURLs: string[];
  isLearner: boolean;
}

/** POST /v3/maintenance/status of one member. */
export interface MemberStatus {
  header: ResponseHeader;
  version: string;
  dbSize: bigint;
  dbSizeInUse: bigint;
  /** The member this one follows; 0n when it knows no leader. */
  leader: bigint;
  raftIndex: bigint;
  raftTerm: bigint;
  raftAppliedIndex: bigint;
  /** e.g. "etcdserver: no leader", or an active alarm ("memberID:... alarm:NOSPACE "). */
  errors: string[];
  isLearner: boolean;
}

/** GET /health. etcd 3.4 says false with no leader and while any alarm is active; 3.5 adds a reason. */
export interface Health {
  healthy: boolean;
  reason?: string;
}

/** etcd 3.4 knows NOSPACE and CORRUPT (NONE is the proto default and never listed). */
export type AlarmType = "NOSPACE" | "CORRUPT";

export interface Alarm {
  memberId: bigint;
  alarm: AlarmType;
}

export interface KeyValue {
  key: string;
  value: string;
  createRevision: bigint;
  modRevision: bigint;
  version: bigint;
}

export interface RangeResult {
  header: ResponseHeader;
  kvs: KeyValue[];
  count: bigint;
}

/** What one endpoint said during a probe. Never an exception: a silent member is a result. */
export interface EndpointProbe {
  /** The client URL probed, as given. */
  endpoint: string;
  /** True when the member answered at least one call. */
  reachable: boolean;
  /** Why it is unreachable, or the first call that failed; in words for an operator. */
  error?: string;
  health?: Health;
  status?: MemberStatus;
  /** Member ids this endpoint lists (absent on learners, which do not serve the member list). */
  memberIds?: bigint[];
  /** Set when the probe asked for a linearizable read (needs a quorum behind the member). */
  linearizableRead?: { ok: boolean; error?: string };
  tookMs: number;
}

/** Endpoints whose member list differs from the one the probe chose. */
export interface MemberListDisagreement {
  endpoint: string;
  memberIds: bigint[];
}

export interface ClusterProbe {
  /** Wall-clock ms when the probe started. */
  at: number;
  tookMs: number;
  endpoints: EndpointProbe[];
  /** The member list, from the leader when it answered, else from the first endpoint that did. */
  members?: Member[];
  membersFrom?: string;
  memberListError?: string;
  memberListDisagreements: MemberListDisagreement[];
  /** Active alarms (cluster-wide); undefined when no member could list them. */
  alarms?: Alarm[];
  alarmsError?: string;
}
