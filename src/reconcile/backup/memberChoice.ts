// Which member a snapshot is streamed from, pure: a healthy voting member,
// a follower when there is one (a snapshot costs the member disk reads and a
// long stream, which the leader should not carry), the most caught-up first.
import { buildRoster } from "../../etcd/roster.js";
import type { ClusterProbe } from "../../etcd/types.js";
import { hexId } from "../../etcd/wire.js";

export interface SnapshotSource {
  endpoint: string;
  memberId: bigint;
  name: string;
  isLeader: boolean;
  /** The member's revision when probed. */
  revision: bigint;
  etcdVersion: string;
}

export type MemberChoice = { source: SnapshotSource } | { problem: string };

export function chooseSnapshotMember(probe: ClusterProbe): MemberChoice {
  const roster = buildRoster(probe);
  const passedOver: string[] = [];
  const candidates: SnapshotSource[] = [];
  for (const entry of roster.entries) {
    const p = entry.probe;
    const status = p?.status;
    if (!p || !status) {
      passedOver.push(`${entry.label}: ${p?.error ?? "did not answer"}`);
      continue;
    }
    if (status.isLearner || entry.member.isLearner) {
      passedOver.push(`${entry.label}: a learner, still catching up`);
      continue;
    }
    if (p.health && !p.health.healthy) {
      passedOver.push(`${entry.label}: unhealthy${p.health.reason ? ` (${p.health.reason})` : ""}`);
      continue;
    }
    if (status.leader === 0n) {
      passedOver.push(`${entry.label}: knows no leader`);
      continue;
    }
    candidates.push({
      endpoint: p.endpoint,
      memberId: entry.member.id,
      name: entry.member.name || hexId(entry.member.id),
      isLeader: status.leader === entry.member.id,
      revision: status.header.revision,
      etcdVersion: status.version,
    });
  }
  candidates.sort(
    (a, b) =>
      Number(a.isLeader) - Number(b.isLeader) ||
      (b.revision > a.revision ? 1 : b.revision < a.revision ? -1 : 0) ||
      a.name.localeCompare(b.name),
  );
  const source = candidates[0];
  if (source) return { source };
  return {
    problem:
      passedOver.length > 0
        ? `no healthy member to take a snapshot from: ${passedOver.join("; ")}`
        : "no member to take a snapshot from: the cluster has no members that answer",
  };
}
