// A restore (spec.restore) against the live stack, pure. The snapshot a
// restore uses is chosen once, when the restore is first applied, and pinned
// in the stack's tags (contract.ts STACK_TAG.restore*): later snapshots, or a
// `latest` that now means another one, never change what the restored group's
// members start from. Whether a restore is new is a question of its id.
import type { ClusterSpec, RestoreSpec } from "../../manifest/types.js";
import type { RestorePlan } from "../../plan/model.js";
import { STACK_TAG } from "../../render/contract.js";
import type { Snapshot } from "./catalog.js";

export interface RestorePin {
  id: string;
  /** S3 key of the snapshot's data object. */
  snapshot: string;
  sha256: string;
  revision: string;
}

export function restorePinFromTags(tags: Readonly<Record<string, string>>): RestorePin | undefined {
  const id = tags[STACK_TAG.restoreId];
  const snapshot = tags[STACK_TAG.restoreSnapshot];
  const sha256 = tags[STACK_TAG.restoreSha256];
  const revision = tags[STACK_TAG.restoreRevision];
  if (!id || !snapshot || !sha256 || revision === undefined) return undefined;
  return { id, snapshot, sha256, revision };
}

export function restorePinTags(pin: RestorePin): Record<string, string> {
  return {
    [STACK_TAG.restoreId]: pin.id,
    [STACK_TAG.restoreSnapshot]: pin.snapshot,
    [STACK_TAG.restoreSha256]: pin.sha256,
    [STACK_TAG.restoreRevision]: pin.revision,
  };
}

/** What spec.restore asks of a stack, given the pin its tags hold. */
export type RestoreStep =
  | { kind: "none" }
  /** The stack already has this restore: keep its pin, restore nothing. */
  | { kind: "kept"; pin: RestorePin }
  /** A new restore id: choose and check the snapshot, then restore. */
  | { kind: "new"; restore: RestoreSpec };

export function restoreStep(
  restore: RestoreSpec | undefined,
  live: RestorePin | undefined,
): RestoreStep {
  if (!restore) return { kind: "none" };
  if (live && live.id === restore.id) return { kind: "kept", pin: live };
  return { kind: "new", restore };
}

/**
 * Stack tag values may hold letters, digits, spaces and _ . : / = + - @ only:
 * CloudFormation copies stack tags onto the instance role, and IAM refuses
 * the rest. quorate's own snapshot keys fit; a hand-named one may not.
 */
const TAG_SAFE = /^[A-Za-z0-9 _.:/=+\-@]{1,256}$/;

export function pinProblem(pin: RestorePin): string | undefined {
  if (!TAG_SAFE.test(pin.snapshot))
    return `its key ${pin.snapshot} has characters a stack tag cannot hold (only letters, digits and _ . : / = + - @); copy the snapshot to a key without them and name that`;
  return undefined;
}

export function pinOf(restore: RestoreSpec, snapshot: Snapshot): RestorePin | undefined {
  const m = snapshot.manifest;
  if (!m) return undefined;
  return { id: restore.id, snapshot: snapshot.objectKey, sha256: m.sha256, revision: m.revision };
}

/** The plan's restore section: from the snapshot chosen for a new restore, or from the pin kept. */
export function restorePlan(
  spec: ClusterSpec,
  step: RestoreStep,
  now: Date,
  chosen?: Snapshot,
): RestorePlan | undefined {
  if (step.kind === "none" || !spec.backup) return undefined;
  if (step.kind === "kept") {
    return {
      id: step.pin.id,
      applies: false,
      bucket: spec.backup.bucket,
      snapshot: step.pin.snapshot,
      revision: step.pin.revision,
      sha256: step.pin.sha256,
    };
  }
  const m = chosen?.manifest;
  if (!chosen || !m) {
    // Offline: the bucket is not read, so only the manifest's word is known.
    return {
      id: step.restore.id,
      applies: true,
      bucket: spec.backup.bucket,
      snapshot: step.restore.snapshot,
    };
  }
  return {
    id: step.restore.id,
    applies: true,
    bucket: spec.backup.bucket,
    snapshot: chosen.objectKey,
    revision: m.revision,
    takenAt: m.takenAt,
    ageSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(m.takenAt)) / 1000)),
    member: m.member.name,
    sha256: m.sha256,
    size: m.size,
  };
}
