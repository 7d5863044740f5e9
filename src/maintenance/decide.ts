// The decisions of etcd maintenance, as pure functions of plain data: in which
// order the steps run, up to which revision to compact, in which order members
// are defragmented, and whether NOSPACE may be disarmed. maintain.ts does the IO.
// etcd's own guidance: https://etcd.io/docs/v3.4/op-guide/maintenance/
import { buildRoster } from "../etcd/roster.js";
import type { Alarm, ClusterProbe } from "../etcd/types.js";
import { formatBytes as formatByteCount } from "../reconcile/backup/listing.js";

export type MaintenanceStep = "compact" | "defrag" | "disarm";

/**
 * Compaction first (it frees pages inside the database), defragmentation next
 * (it gives them back to the filesystem), and disarming last, once the
 * database is under its quota again: etcd's own order for NOSPACE.
 */
export const STEP_ORDER: readonly MaintenanceStep[] = ["compact", "defrag", "disarm"];

export function stepsInOrder(requested: Iterable<MaintenanceStep>): MaintenanceStep[] {
  const wanted = new Set(requested);
  return STEP_ORDER.filter((s) => wanted.has(s));
}

/**
 * Revisions kept by default below the current one: watchers and paginated
 * reads that are a little behind still find their revision (the Kubernetes
 * API server keeps a few minutes of history for the same reason).
 */
export const DEFAULT_KEEP_REVISIONS = 1000n;

export type CompactionDecision =
  | { compact: true; revision: bigint; message: string }
  | { compact: false; message: string };

export function compactionTarget(current: bigint, keep: bigint): CompactionDecision {
  const revision = current - keep;
  if (revision <= 1n) {
    return {
      compact: false,
      message: `revision ${current} with ${keep} kept: nothing old enough to compact`,
    };
  }
  return {
    compact: true,
    revision,
    message: `compact to revision ${revision} (current ${current}, the last ${keep} kept)`,
  };
}

/** One member's database as its status reports it. */
export interface MemberDb {
  id: bigint;
  name: string;
  endpoint: string;
  leader: boolean;
  learner: boolean;
  dbSize: bigint;
  dbSizeInUse: bigint;
}

/** The members the probe reached, with their database sizes. */
export function membersOf(probe: ClusterProbe): MemberDb[] {
  return buildRoster(probe).entries.flatMap((e) => {
    const status = e.probe?.status;
    if (!e.probe || !status) return [];
    return [
      {
        id: e.member.id,
        name: e.member.name || e.label,
        endpoint: e.probe.endpoint,
        leader: status.leader === e.member.id,
        learner: e.member.isLearner,
        dbSize: status.dbSize,
        dbSizeInUse: status.dbSizeInUse,
      },
    ];
  });
}

/**
 * Defragmentation blocks a member's reads and writes while it runs, and the
 * leader's stall is the costly one (every write waits on it). So followers go
 * first, one at a time, by name; the leader last, after leadership moves away.
 */
export function defragOrder(members: readonly MemberDb[]): MemberDb[] {
  const byName = (a: MemberDb, b: MemberDb) => a.name.localeCompare(b.name);
  return [
    ...members.filter((m) => !m.leader).sort(byName),
    ...members.filter((m) => m.leader).sort(byName),
  ];
}

/** In-use bytes over total bytes (1 for an empty database). */
export function inUseRatio(m: Pick<MemberDb, "dbSize" | "dbSizeInUse">): number {
  if (m.dbSize <= 0n) return 1;
  return Number(m.dbSizeInUse) / Number(m.dbSize);
}

export type DisarmDecision =
  | { disarm: true; alarms: Alarm[]; message: string }
  | { disarm: false; refused: boolean; message: string };

/** Above this share of the quota, disarming works but NOSPACE comes back soon. */
const HEADROOM_WARNING = 0.8;

/**
 * NOSPACE is disarmed only when every member's database is back under the
 * quota: disarmed above it, the next write raises it again.
 */
export function disarmDecision(
  alarms: readonly Alarm[],
  members: readonly MemberDb[],
  quotaBytes: bigint,
): DisarmDecision {
  const nospace = alarms.filter((a) => a.alarm === "NOSPACE");
  if (nospace.length === 0) return { disarm: false, refused: false, message: "no NOSPACE alarm" };
  const over = members.filter((m) => m.dbSize >= quotaBytes);
  if (over.length > 0) {
    const sizes = over.map((m) => `${m.name} ${formatBytes(m.dbSize)}`).join(", ");
    return {
      disarm: false,
      refused: true,
      message: `NOSPACE stays armed: ${sizes} still at or over the quota of ${formatBytes(quotaBytes)}; compact and defragment (quorate maintain --compact --defrag, with a smaller --keep-revisions), or raise spec.etcd.quotaBackendBytes and roll the cluster`,
    };
  }
  let largest = 0n;
  for (const m of members) if (m.dbSize > largest) largest = m.dbSize;
  const share = Number(largest) / Number(quotaBytes);
  const note =
    share >= HEADROOM_WARNING
      ? `; the largest is still ${Math.round(share * 100)}% of it, so NOSPACE will soon be back: raise spec.etcd.quotaBackendBytes`
      : "";
  return {
    disarm: true,
    alarms: nospace,
    message: `every database is under the quota of ${formatBytes(quotaBytes)} (largest ${formatBytes(largest)})${note}`,
  };
}

/** "1.5 MiB": the backups listing's format, for etcd's bigint sizes. */
export function formatBytes(bytes: bigint): string {
  return formatByteCount(Number(bytes));
}
