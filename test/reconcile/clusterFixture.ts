// Builds RolloutObservations by hand for the pure decision tests: members,
// their instances and what a probe of them would say.
import type { ClusterProbe, EndpointProbe, Member } from "../../src/etcd/types.js";
import type { GatePolicy } from "../../src/manifest/types.js";
import type {
  ObservedInstance,
  RolloutFacts,
  RolloutObservation,
} from "../../src/reconcile/rollout/observation.js";

export interface FakeMember {
  id: bigint;
  /** The instance id, which is the member name once it has started. */
  instance: string;
  ip: string;
  lifecycle?: string;
  learner?: boolean;
  down?: boolean;
  unstarted?: boolean;
  applied?: bigint;
  /** No instance in the group runs this member. */
  orphan?: boolean;
  /** Its instance was launched from the group's current launch template (the new image). */
  current?: boolean;
  /** Its database's size and the part in use (default 20,000 bytes, all in use). */
  db?: { size: bigint; inUse: bigint };
  /** It raised this alarm (the probe lists it, and the member's status says so). */
  alarm?: "NOSPACE";
}

export const GATES: GatePolicy = {
  stableFor: "PT0S",
  maxAppliedIndexLag: 100,
  abortAfter: "PT60S",
  deadMemberGrace: "PT30S",
  probeTimeout: "PT1S",
};

export const FACTS: RolloutFacts = {
  cluster: "dev",
  stackName: "quorate-dev",
  scheme: "http",
  clientPort: 2379,
  peerPort: 2380,
  gates: GATES,
  deadMemberGraceMs: 30_000,
  quotaBytes: 2n * 1024n * 1024n * 1024n,
  abortAfterMs: 60_000,
  heartbeatEveryMs: 10_000,
};

export function member(n: number, extra: Partial<FakeMember> = {}): FakeMember {
  return {
    id: BigInt(n) * 1_000_000_000_000_000n + 7n,
    instance: `i-${n}`,
    ip: `10.0.0.${n}`,
    ...extra,
  };
}

export function probeOf(members: FakeMember[], leader: bigint | undefined): ClusterProbe {
  const list: Member[] = members.map((m) => ({
    id: m.id,
    name: m.unstarted ? "" : m.instance,
    peerURLs: [`http://${m.ip}:2380`],
    clientURLs: m.unstarted ? [] : [`http://${m.ip}:2379`],
    isLearner: Boolean(m.learner),
  }));
  const endpoints: EndpointProbe[] = members.map((m) =>
    m.down || m.unstarted
      ? {
          endpoint: `http://${m.ip}:2379`,
          reachable: false,
          error: "connect ECONNREFUSED",
          tookMs: 1,
        }
      : {
          endpoint: `http://${m.ip}:2379`,
          reachable: true,
          // etcd 3.4 answers /health false on every member while NOSPACE stands.
          health: members.some((x) => x.alarm)
            ? { healthy: false, reason: "alarm:NOSPACE" }
            : { healthy: true },
          status: {
            header: { clusterId: 1n, memberId: m.id, revision: 10n, raftTerm: 2n },
            version: "3.4.23",
            dbSize: m.db?.size ?? 20000n,
            dbSizeInUse: m.db?.inUse ?? 20000n,
            leader: leader ?? 0n,
            raftIndex: m.applied ?? 100n,
            raftTerm: 2n,
            raftAppliedIndex: m.applied ?? 100n,
            errors: members.some((x) => x.alarm) ? ["memberID:1 alarm:NOSPACE"] : [],
            isLearner: Boolean(m.learner),
          },
          memberIds: members.map((x) => x.id),
          tookMs: 1,
        },
  );
  const alarms = members.flatMap((m) => (m.alarm ? [{ memberId: m.id, alarm: m.alarm }] : []));
  return { at: 0, tookMs: 1, endpoints, members: list, memberListDisagreements: [], alarms };
}

export function observation(
  members: FakeMember[],
  options: {
    at?: number;
    leader?: bigint;
    stack?: string;
    extraInstances?: ObservedInstance[];
    noProbe?: boolean;
    desiredCapacity?: number;
  } = {},
): RolloutObservation {
  const instances: ObservedInstance[] = members
    .filter((m) => !m.orphan)
    .map((m) => ({
      instanceId: m.instance,
      lifecycleState: m.lifecycle ?? "InService",
      privateIp: m.ip,
      ...(m.current !== undefined ? { current: m.current } : {}),
    }));
  instances.push(...(options.extraInstances ?? []));
  const leader = options.leader ?? members.find((m) => !m.learner && !m.down && !m.unstarted)?.id;
  return {
    at: options.at ?? 1_000_000,
    stack: { stackId: "arn:stack/quorate-dev", status: options.stack ?? "UPDATE_IN_PROGRESS" },
    groupName: "quorate-dev-EtcdGroup-1",
    desiredCapacity: options.desiredCapacity ?? instances.length,
    instances,
    ...(options.noProbe ? {} : { probe: probeOf(members, leader) }),
  };
}
