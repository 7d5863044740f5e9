// Quorum loss, seen and explained. A cluster whose healthy voters are fewer
// than a quorum accepts no write, and no rollout, gate or membership call can
// fix that: only the members coming back, or a restore. Past a bound (so that
// a leader election or a member's restart is not called a loss) the status
// says QuorumLost, names who answers and who does not, the newest good
// snapshot, and the two ways out. quorate never restores on its own: only an
// operator knows whether the silent members and their disks will come back.
// Pure but for newestSnapshot, the one S3 read, made once per loss by the
// tracker the reconciler keeps.
import { describeError } from "../errors.js";
import type { GateResult } from "../etcd/gate.js";
import { quorumOf } from "../etcd/quorum.js";
import { durationMs } from "../manifest/duration.js";
import type { ClusterSpec } from "../manifest/types.js";
import { newestGood } from "./backup/catalog.js";
import { formatAge } from "./backup/listing.js";
import { bucketFor, readCatalog, type SnapshotDeps } from "./backup/snapshots.js";
import { REASON } from "./conditions.js";
import type { ReconcileOutcome } from "./status.js";

/** True when fewer voters than a quorum are healthy (tolerates < 0). */
export function quorumIsLost(gate: GateResult): boolean {
  const t = gate.summary.faultTolerance;
  return t !== undefined && t.tolerates < 0;
}

/**
 * Since when quorum has been lost, carried from one probe to the next:
 * undefined as soon as a probe sees a quorum again.
 */
export function quorumLostSince(
  previous: number | undefined,
  gate: GateResult,
  now: number,
): number | undefined {
  return quorumIsLost(gate) ? (previous ?? now) : undefined;
}

/** What the bucket says about the newest good snapshot, for the way out. */
export type NewestSnapshot =
  | { kind: "none-configured" }
  | { kind: "found"; key: string; ageMs: number; revision?: string }
  | { kind: "empty"; where: string }
  | { kind: "unreadable"; where: string; error: string };

export interface QuorumLoss {
  cluster: string;
  gate: GateResult;
  lostForMs: number;
  newest: NewestSnapshot;
}

export function quorumLostMessage(loss: QuorumLoss): string {
  const { summary } = loss.gate;
  const t = summary.faultTolerance;
  const voters = t
    ? `${t.healthyVoters} of ${t.voters} voters healthy, ${quorumOf(t.voters)} needed`
    : "no voter answered";
  const answering = list(summary.answering);
  const silent = list(summary.silent);
  const parts = [
    `quorum lost for ${formatAge(loss.lostForMs)}: ${voters}; answering: ${answering}; not answering: ${silent}`,
    `etcd accepts no write and quorate changes nothing until a quorum is back`,
    `${snapshotWords(loss.newest)}`,
    `way out: if the silent members may come back (instances stopped, a network partition), bring them back and wait; if they and their data are gone for good, restore that snapshot into a new cluster: \`quorate restore ${loss.cluster}\` checks it and prints the spec.restore block to commit. quorate never restores on its own`,
  ];
  return parts.join("; ");
}

function list(items: readonly string[] | undefined): string {
  return items && items.length > 0 ? items.join(", ") : "none";
}

function snapshotWords(newest: NewestSnapshot): string {
  switch (newest.kind) {
    case "found":
      return `newest good snapshot: ${newest.key} (${formatAge(newest.ageMs)} old, revision ${newest.revision ?? "unknown"}); writes after that revision are lost by a restore`;
    case "empty":
      return `no good snapshot in ${newest.where}: a restore has nothing to start from`;
    case "unreadable":
      return `the snapshots in ${newest.where} could not be listed (${newest.error})`;
    case "none-configured":
      return "no spec.backup: there is no snapshot to restore from";
  }
}

/** The newest good snapshot of the cluster, for the message; never throws. */
export async function newestSnapshot(
  deps: Pick<SnapshotDeps, "aws" | "now">,
  spec: ClusterSpec,
): Promise<NewestSnapshot> {
  if (!spec.backup) return { kind: "none-configured" };
  const bucket = bucketFor(deps, spec);
  const where = `s3://${bucket.bucket}/${bucket.prefix}`;
  try {
    const good = newestGood(await readCatalog(bucket));
    if (!good) return { kind: "empty", where };
    const now = (deps.now ?? (() => new Date()))();
    return {
      kind: "found",
      key: good.objectKey,
      ageMs: Math.max(0, now.getTime() - good.at.getTime()),
      ...(good.manifest?.revision !== undefined
        ? { revision: String(good.manifest.revision) }
        : {}),
    };
  } catch (error) {
    return { kind: "unreadable", where, error: describeError(error) };
  }
}

/**
 * QuorumLost once fewer than a quorum of voters have been healthy for
 * gates.deadMemberGrace (shorter losses are elections and restarts), as a
 * stalled outcome with the gate; the newest snapshot is looked up once per
 * loss, not on every pass.
 */
export function createQuorumLossTracker(deps: { aws: SnapshotDeps["aws"]; now: () => number }) {
  /** Clusters seen without a quorum: since when, and their newest snapshot once looked up. */
  const losses = new Map<string, { since: number; newest?: NewestSnapshot }>();
  return {
    async outcome(spec: ClusterSpec, gate: GateResult): Promise<ReconcileOutcome | undefined> {
      const since = quorumLostSince(losses.get(spec.name)?.since, gate, deps.now());
      if (since === undefined) {
        losses.delete(spec.name);
        return undefined;
      }
      const loss = losses.get(spec.name) ?? { since };
      losses.set(spec.name, loss);
      const lostForMs = deps.now() - since;
      if (lostForMs < durationMs(spec.gates.deadMemberGrace)) return undefined;
      loss.newest ??= await newestSnapshot(
        { aws: deps.aws, now: () => new Date(deps.now()) },
        spec,
      );
      return {
        kind: "stalled",
        reason: REASON.QuorumLost,
        message: quorumLostMessage({ cluster: spec.name, gate, lostForMs, newest: loss.newest }),
        gate,
      };
    },
  };
}
