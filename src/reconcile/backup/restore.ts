// Preparing a restore (spec.restore) before its change set: for a new restore
// id, choose the snapshot (`latest` or a key), read it back whole and compare
// its sha256 with its manifest, and pin it in the stack's tags. A missing or
// corrupt snapshot is refused with its key and the reason, and nothing is
// created. An applied restore keeps its pin.
import type { AwsClients } from "../../aws/clients.js";
import { createSnapshotBucket } from "../../aws/snapshotBucket.js";
import type { ClusterSpec } from "../../manifest/types.js";
import type { RestorePlan } from "../../plan/model.js";
import { selectRestoreSnapshot } from "./catalog.js";
import {
  pinOf,
  pinProblem,
  type RestorePin,
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
  const where = `s3://${spec.backup.bucket}/${spec.backup.prefix}`;
  const refuse = (why: string): PreparedRestore => ({
    ok: false,
    message: `restore ${step.restore.id} refused before any change set: ${why}. Nothing was changed. Run \`quorate backups ${spec.name}\` to see the good snapshots under ${where}, and name one in spec.restore.snapshot (or take one with \`quorate backup ${spec.name}\` while the cluster has quorum)`,
  });
  const bucket = createSnapshotBucket(aws.s3, spec.backup);
  let chosen: ReturnType<typeof selectRestoreSnapshot>;
  try {
    chosen = selectRestoreSnapshot(await readCatalog(bucket), step.restore.snapshot);
  } catch (error) {
    return refuse(`the snapshots under ${where} could not be listed (${(error as Error).message})`);
  }
  if ("problem" in chosen) return refuse(`${chosen.problem} (${where})`);
  const snapshot = chosen.snapshot;
  let problem: string | undefined;
  try {
    problem = await verifySnapshot(bucket, snapshot);
  } catch (error) {
    problem = `it could not be read back (${(error as Error).message})`;
  }
  const pin: RestorePin | undefined = pinOf(step.restore, snapshot);
  if (!problem && pin) problem = pinProblem(pin);
  if (problem || !pin)
    return refuse(
      `snapshot s3://${spec.backup.bucket}/${snapshot.objectKey} is refused: ${problem ?? "it has no manifest"}`,
    );
  const plan = restorePlan(spec, step, now, snapshot);
  return { ok: true, tags: restorePinTags(pin), ...(plan ? { plan } : {}) };
}
