// Each member as the daemon's last probe saw it, for /status and the
// dashboard: plain JSON (numbers, hex ids), no bigints. Pure.
import { buildRoster, type RosterEntry } from "../etcd/roster.js";
import type { ClusterProbe } from "../etcd/types.js";
import { hexId } from "../etcd/wire.js";

/**
 * healthy: answers and GET /health says so; unhealthy: answers but is not
 * healthy; unreachable: listed but silent; unstarted: added, never started.
 */
export type MemberHealth = "healthy" | "unhealthy" | "unreachable" | "unstarted";

export interface MemberView {
  /** The etcd member name (the instance id); empty before the member starts. */
  name: string;
  /** 16 hex digits, as etcdctl prints it. */
  id: string;
  endpoint?: string;
  health: MemberHealth;
  /** Why it is not healthy, in the probe's words. */
  why?: string;
  leader: boolean;
  learner: boolean;
  version?: string;
  /** Exact below 8 PiB, like MemberDatabase. */
  dbSize?: number;
  dbSizeInUse?: number;
  appliedIndex?: number;
}

export interface MemberViews {
  /** ISO 8601: when the probe started. */
  at: string;
  members: MemberView[];
}

export function memberViews(probe: ClusterProbe): MemberViews {
  const roster = buildRoster(probe);
  return {
    at: new Date(probe.at).toISOString(),
    members: roster.entries
      .map((entry) => view(entry, roster.leader.id))
      .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id)),
  };
}

function view(entry: RosterEntry, leader: bigint | undefined): MemberView {
  const { member, probe } = entry;
  const status = probe?.status;
  const health = healthOf(entry);
  const why =
    health === "healthy"
      ? undefined
      : health === "unstarted"
        ? "added, not started yet"
        : (probe?.error ??
          probe?.health?.reason ??
          (probe ? "GET /health is false" : "not probed"));
  return {
    name: member.name,
    id: hexId(member.id),
    ...(probe ? { endpoint: probe.endpoint } : {}),
    health,
    ...(why ? { why } : {}),
    leader: leader !== undefined && leader === member.id,
    learner: member.isLearner,
    ...(status
      ? {
          version: status.version,
          dbSize: Number(status.dbSize),
          dbSizeInUse: Number(status.dbSizeInUse),
          appliedIndex: Number(status.raftAppliedIndex),
        }
      : {}),
  };
}

function healthOf(entry: RosterEntry): MemberHealth {
  if (!entry.probe) return entry.unstarted ? "unstarted" : "unreachable";
  if (!entry.probe.reachable) return "unreachable";
  return entry.probe.health?.healthy ? "healthy" : "unhealthy";
}
