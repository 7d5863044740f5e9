// Preparing a restore (spec.restore) before its change set: for a new restore
// id, choose the snapshot (`latest` or a key), read it back whole and compare
// its sha256 with its manifest, and pin it in the stack's tags. A missing or
// corrupt snapshot is refused with its key and the reason, and nothing is
// created. An applied restore keeps its pin.
import type { AwsClients } from "../../aws/clients.js";
import { createSnapshotBucket, type SnapshotBucket } from "../../aws/snapshotBucket.js";
import type { BackupSpec, ClusterSpec } from "../../manifest/types.js";
import type { RestorePlan } from "../../plan/model.js";
import { type Snapshot, selectRestoreSnapshot } from "./catalog.js";
import {
  pinOf,
  pinProblem,
  restorePinFromTags,
  restorePinTags,
  restorePlan,
  restoreStep,
} from "./restorePin.js";
import { readCatalog, verifySnapshot } from "./snapshots.js";

export type PreparedRestore =
  | { ok: true; plan?: RestorePlan; tags: Record<string, string> }
  | { ok: false; message: string };

export async function prepareRestore(
  aws: AwsClients,
  spec: ClusterSpec,
  liveTags: Readonly<Record<string, string>>,
  now: Date = new Date(),
): Promise<PreparedRestore> {
  const step = restoreStep(spec.restore, restorePinFromTags(liveTags));
  if (step.kind === "none" || !spec.backup) return { ok: true, tags: {} };
  if (step.kind === "kept") {
    const plan = restorePlan(spec, step, now);
    return { ok: true, tags: restorePinTags(step.pin), ...(plan ? { plan } : {}) };
  }
  const backup = spec.backup;
  const refuse = (why: string): PreparedRestore => ({
    ok: false,
    message: `restore ${step.restore.id} refused before any change set: ${why}. Nothing was changed. ${restoreRefusalHint(spec.name, backup)}`,
  });
  const checked = await checkRestoreSnapshot(
    createSnapshotBucket(aws.s3, backup),
    backup,
    step.restore.snapshot,
  );
  if ("problem" in checked) return refuse(checked.problem);
  const { snapshot } = checked;
  const pin = pinOf(step.restore, snapshot);
  const problem = pin ? pinProblem(pin) : "it has no manifest";
  if (problem || !pin)
    return refuse(`snapshot s3://${backup.bucket}/${snapshot.objectKey} is refused: ${problem}`);
  const plan = restorePlan(spec, step, now, snapshot);
  return { ok: true, tags: restorePinTags(pin), ...(plan ? { plan } : {}) };
}

export function restoreRefusalHint(cluster: string, backup: BackupSpec): string {
  return `Run \`quorate backups ${cluster}\` to see the good snapshots under s3://${backup.bucket}/${backup.prefix}, and name one in spec.restore.snapshot (or take one with \`quorate backup ${cluster}\` while the cluster has quorum)`;
}

/**
 * The snapshot a restore would use (`latest` or a key), read back whole: its
 * size and sha256 must equal its manifest's. The problem names the key and why.
 */
export async function checkRestoreSnapshot(
  bucket: SnapshotBucket,
  backup: BackupSpec,
  wanted: string,
): Promise<{ snapshot: Snapshot } | { problem: string }> {
  const where = `s3://${backup.bucket}/${backup.prefix}`;
  let chosen: ReturnType<typeof selectRestoreSnapshot>;
  try {
    chosen = selectRestoreSnapshot(await readCatalog(bucket), wanted);
  } catch (error) {
    return {
      problem: `the snapshots under ${where} could not be listed (${(error as Error).message})`,
    };
  }
  if ("problem" in chosen) return { problem: `${chosen.problem} (${where})` };
  const snapshot = chosen.snapshot;
  let problem: string | undefined;
  try {
    problem = await verifySnapshot(bucket, snapshot);
  } catch (error) {
    problem = `it could not be read back (${(error as Error).message})`;
  }
  if (problem)
    return {
      problem: `snapshot s3://${backup.bucket}/${snapshot.objectKey} is refused: ${problem}`,
    };
  return { snapshot };
}
