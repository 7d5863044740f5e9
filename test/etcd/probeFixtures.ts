// Probe results as the gate sees them, built by hand: member n is "m<n>" at
// 10.0.0.n, with an id above 2^63 so that any number-based id handling breaks.

import type { ClusterProbe, EndpointProbe, Member, MemberStatus } from "../../src/etcd/types.js";
import type { GatePolicy } from "../../src/manifest/types.js";

const BASE = 10_000_000_000_000_000_000n;

export const id = (n: number): bigint => BASE + BigInt(n);
export const url = (n: number): string => `http://10.0.0.${n}:2379`;
export const peer = (n: number): string => `http://10.0.0.${n}:2380`;
export const hex = (n: number): string => id(n).toString(16).padStart(16, "0");

export const policy: GatePolicy = {
  stableFor: "PT30S",
  maxAppliedIndexLag: 1000,
  abortAfter: "PT15M",
  deadMemberGrace: "PT3M",
  probeTimeout: "PT2S",
};

export function member(n: number, over: Partial<Member> = {}): Member {
  return {
    id: id(n),
    name: `m${n}`,
    peerURLs: [peer(n)],
    clientURLs: [url(n)],
    isLearner: false,
    ...over,
  };
}

export function unstartedMember(n: number): Member {
  return member(n, { name: "", clientURLs: [], isLearner: true });
}

export function status(n: number, over: Partial<MemberStatus> = {}): MemberStatus {
  return {
    header: { clusterId: 42n, memberId: id(n), revision: 7n, raftTerm: 2n },
    version: "3.4.23",
    dbSize: 20480n,
    dbSizeInUse: 16384n,
    leader: id(1),
    raftIndex: 100n,
    raftTerm: 2n,
    raftAppliedIndex: 100n,
    errors: [],
    isLearner: false,
    ...over,
  };
}

export function up(
  n: number,
  over: Partial<MemberStatus> = {},
  rest: Partial<EndpointProbe> = {},
): EndpointProbe {
  return {
    endpoint: url(n),
    reachable: true,
    health: { healthy: true },
    status: status(n, over),
    tookMs: 3,
    ...rest,
  };
}

export function down(n: number, error = "connection refused"): EndpointProbe {
  return { endpoint: url(n), reachable: false, error, tookMs: 1 };
}

/** Members 1..size, all answering and healthy, m1 leading, applied index 100 everywhere. */
export function healthyProbe(size = 3, over: Partial<ClusterProbe> = {}): ClusterProbe {
  const ns = Array.from({ length: size }, (_, i) => i + 1);
  return {
    at: 1_000_000,
    tookMs: 5,
    endpoints: ns.map((n) => up(n)),
    members: ns.map((n) => member(n)),
    membersFrom: url(1),
    memberListDisagreements: [],
    alarms: [],
    ...over,
  };
}

/** A copy of `probe` with endpoint n (1-based, by URL) replaced. */
export function withEndpoint(
  probe: ClusterProbe,
  n: number,
  endpoint: EndpointProbe,
): ClusterProbe {
  const endpoints = probe.endpoints.some((e) => e.endpoint === url(n))
    ? probe.endpoints.map((e) => (e.endpoint === url(n) ? endpoint : e))
    : [...probe.endpoints, endpoint];
  return { ...probe, endpoints };
}
